"""Beebole's project services as its documentation shows them (``shared/seeds/beebole-project-services.md``):
each service's request body and documented reply, as data, and the rows its example ids stand for.

The document's example ids (321, 233, 78, 43, 345, 105, 978, 4787, 4879) are :class:`Id` placeholders naming
the row they stand for; :func:`make_world` makes those rows and :func:`fill` puts their ids in. Everything else
is the document's text: names, dates, descriptions, custom field values. A reply's lists show one item, as the
document does (it writes ``...`` after it for "more like this").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from keelplan.accounts import services as accounts
from keelplan.customfields.models import AppliesTo, FieldFormat
from keelplan.customfields.services import custom_field_create
from keelplan.portfolio import people, reference
from keelplan.portfolio import services as portfolio
from keelplan.timesheets import services as time_services


@dataclass(frozen=True)
class Id:
    """Where the document has an example id: the id of the row ``role`` names."""

    role: str


# The document uses 321 for the project it creates and 78 for the one it assigns things to; the tests use one
# project (the one the create body makes) for both.
PROJECT = Id("project")              # 321, 78
COMPANY = Id("company")              # 233
TASK = Id("task")                    # 43 in the specific-task requests, 345 in their list
PERSON = Id("person")                # 43 in the member and manager requests, 345 in their lists
GROUP = Id("group")                  # 105 in add_group / remove_group; 978 and 4787 in the lists
CUSTOM_FIELD = Id("custom_field")    # 4879
CREATED = Id("created")              # the id a create answers with, not known before it runs

# The names and values the document's examples show, which the test rows are given so replies can be compared
# whole.
PROJECT_NAME = "Development"
PROJECT_START = "2017-10-13"
PROJECT_DESCRIPTION = "some description ..."
SUBPROJECT_COUNT = 2
TASK_NAME = "Administration"
PERSON_NAME = "John Le Carré"
PERSON_EMAIL = "jlcarr@example.com"
GROUP_NAME = "US"
SUBGROUP_COUNT = 4
CUSTOM_FIELD_NAME = "location"
CUSTOM_FIELD_VALUE = "Salt Lake City, UT, USA"
NEW_NAME = "newName"
OK = {"status": "ok"}


@dataclass(frozen=True)
class Example:
    """One documented call: the service, its request body, its reply. ``variant`` tells apart two examples of one
    service (``attach_member`` with a person, with a group)."""

    service: str
    request: dict
    reply: dict
    variant: str = ""

    @property
    def label(self) -> str:
        return f"{self.service} ({self.variant})" if self.variant else self.service


PROJECT_ITEM = {
    "id": PROJECT,
    "name": PROJECT_NAME,
    "startDate": PROJECT_START,
    "description": PROJECT_DESCRIPTION,
    "company": {"id": COMPANY},
    "subprojects": {"count": SUBPROJECT_COUNT},
    "active": True,
}


def _member_examples(verb: str) -> list[Example]:
    """``attach_member`` / ``detach_member``: the document's body takes ``"person"`` or ``"group"``."""
    return [
        Example(f"project.{verb}", {"service": f"project.{verb}", "id": PROJECT, "person": {"id": PERSON}}, OK,
                variant="person"),
        Example(f"project.{verb}", {"service": f"project.{verb}", "id": PROJECT, "group": {"id": GROUP}}, OK,
                variant="group"),
    ]


SEED: list[Example] = [
    Example("project.create", {
        "service": "project.create",
        "project": {
            "name": PROJECT_NAME,
            "startDate": PROJECT_START,
            "description": PROJECT_DESCRIPTION,
            "company": {"id": COMPANY},
        },
    }, {"status": "ok", "id": CREATED}),
    Example("project.get", {"service": "project.get", "id": PROJECT}, {"status": "ok", "project": PROJECT_ITEM}),
    Example("project.update", {
        "service": "project.update",
        "project": {"id": PROJECT, "name": NEW_NAME, "startDate": PROJECT_START, "description": PROJECT_DESCRIPTION},
    }, OK),
    Example("project.list", {"service": "project.list", "company": {"id": COMPANY}},
            {"status": "ok", "projects": [PROJECT_ITEM]}),
    Example("project.activate", {"service": "project.activate", "id": PROJECT}, OK),
    Example("project.deactivate", {"service": "project.deactivate", "id": PROJECT}, OK),
    Example("project.attach_specific_task",
            {"service": "project.attach_specific_task", "id": PROJECT, "task": {"id": TASK}}, OK),
    Example("project.detach_specific_task",
            {"service": "project.detach_specific_task", "id": PROJECT, "task": {"id": TASK}}, OK),
    Example("project.specific_tasks", {"service": "project.specific_tasks", "id": PROJECT}, {
        "status": "ok",
        "disabled": False,
        "specificTasks": [{"name": TASK_NAME, "id": TASK, "active": True}],
    }),
    Example("project.enable_specific_tasks", {"service": "project.enable_specific_tasks", "id": PROJECT}, OK),
    Example("project.disable_specific_tasks", {"service": "project.disable_specific_tasks", "id": PROJECT}, OK),
    *_member_examples("attach_member"),
    *_member_examples("detach_member"),
    Example("project.members", {"service": "project.members", "id": PROJECT}, {
        "status": "ok",
        "members": [{"name": PERSON_NAME, "id": PERSON}],
        "groups": [{"name": GROUP_NAME, "id": GROUP}],
    }),
    Example("project.attach_manager",
            {"service": "project.attach_manager", "id": PROJECT, "person": {"id": PERSON}}, OK),
    Example("project.detach_manager",
            {"service": "project.detach_manager", "id": PROJECT, "person": {"id": PERSON}}, OK),
    Example("project.managers", {"service": "project.managers", "id": PROJECT}, {
        "status": "ok",
        "members": [{"name": PERSON_NAME, "id": PERSON, "email": PERSON_EMAIL, "active": True}],
    }),
    Example("project.add_group", {"service": "project.add_group", "id": PROJECT, "group": {"id": GROUP}}, OK),
    Example("project.remove_group", {"service": "project.remove_group", "id": PROJECT, "group": {"id": GROUP}}, OK),
    Example("project.groups", {"service": "project.groups", "id": PROJECT}, {
        "status": "ok",
        "groups": [{"id": GROUP, "name": GROUP_NAME, "groups": {"count": SUBGROUP_COUNT}}],
    }),
    Example("project.set_custom_field_value", {
        "service": "project.set_custom_field_value",
        "id": PROJECT,
        "customField": {"id": CUSTOM_FIELD, "value": CUSTOM_FIELD_VALUE},
    }, OK),
    Example("project.clear_custom_field_value", {
        "service": "project.clear_custom_field_value",
        "id": PROJECT,
        "customField": {"id": CUSTOM_FIELD},
    }, OK),
    Example("project.custom_fields", {"service": "project.custom_fields", "id": PROJECT}, {
        "status": "ok",
        # ``availableFor`` is not in the document's example of this reply; Keelplan adds it (custom_field.list
        # has it) because the ``beebole`` package reads it on every custom field.
        "customFields": [{"id": CUSTOM_FIELD, "name": CUSTOM_FIELD_NAME, "value": CUSTOM_FIELD_VALUE,
                          "availableFor": "Project"}],
    }),
]

BY_LABEL = {example.label: example for example in SEED}


def fill(value, ids: dict[str, int]):
    """``value`` with every :class:`Id` replaced by ``ids[role]`` (a copy; ``value`` is left as it is)."""
    if isinstance(value, Id):
        return ids[value.role]
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    return value


def _kind(value) -> str:
    """A JSON value's type, as the document's example shows it (an :class:`Id` is an integer)."""
    if isinstance(value, Id):
        return "integer"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "list" if isinstance(value, list) else "object"


def shape_errors(reply, documented, where: str = "") -> list[str]:
    """How ``reply`` differs in shape from the documented reply: keys (exactly the documented ones), each value's
    type, and every item of a list against the one item the document shows. Empty when they agree."""
    here = where or "reply"
    if _kind(reply) != _kind(documented):
        return [f"{here}: {_kind(reply)}, documented {_kind(documented)}"]
    if isinstance(documented, dict):
        problems = []
        if set(reply) != set(documented):
            problems.append(f"{here}: keys {sorted(reply)}, documented {sorted(documented)}")
        for key in documented.keys() & reply.keys():
            problems += shape_errors(reply[key], documented[key], f"{where}.{key}" if where else key)
        return problems
    if isinstance(documented, list):
        problems = []
        for index, item in enumerate(reply):
            problems += shape_errors(item, documented[0], f"{here}[{index}]")
        return problems
    return []


# ---------------------------------------------------------------- the rows behind the example ids

@dataclass
class World:
    """The rows the document's example ids stand for, made through the services by the workspace administrator
    ``owner``: the project (with two subprojects), its company, a person of that company, a task of it, a group
    with four subgroups, a custom field for projects; and another company with a project and a task of its own.
    ``ids`` maps each :class:`Id` role to its row's id."""

    owner: object
    company: object
    project: object
    person: object
    task: object
    group: object
    custom_field: object
    other_company: object
    other_project: object
    other_task: object
    ids: dict = field(default_factory=dict)


def make_world(owner) -> World:
    company = reference.company_create(actor=owner, name="Acme")
    project = portfolio.project_create(actor=owner, name=PROJECT_NAME, start_date=dt.date.fromisoformat(PROJECT_START),
                                       description=PROJECT_DESCRIPTION, company=company)
    for n in range(SUBPROJECT_COUNT):
        portfolio.project_create(actor=owner, name=f"Phase {n + 1}", start_date=project.start_date, parent=project,
                                 company=company)
    other_company = reference.company_create(actor=owner, name="Elsewhere")
    other_project = portfolio.project_create(actor=owner, name="Elsewhere's", start_date=project.start_date,
                                             company=other_company)
    other_task = time_services.activity_create(actor=owner, name="Elsewhere's task", company=other_company)
    person = accounts.person_create(actor=owner, full_name=PERSON_NAME, email=PERSON_EMAIL)
    people.person_company_set(actor=owner, user=person, company=company)
    task = time_services.activity_create(actor=owner, name=TASK_NAME, company=company)
    group = accounts.group_create(actor=owner, name=GROUP_NAME)
    for name in ("Boston", "Chicago", "Denver", "Seattle")[:SUBGROUP_COUNT]:
        accounts.group_create(actor=owner, name=name, parent=group)
    custom_field = custom_field_create(actor=owner, name=CUSTOM_FIELD_NAME, applies_to=AppliesTo.PROJECT,
                                       format=FieldFormat.STRING)
    return World(owner=owner, company=company, project=project, person=person, task=task, group=group,
                 custom_field=custom_field, other_company=other_company, other_project=other_project,
                 other_task=other_task,
                 ids={"project": project.pk, "company": company.pk, "person": person.pk, "task": task.pk,
                      "group": group.pk, "custom_field": custom_field.pk})
