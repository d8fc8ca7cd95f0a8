"""The services companies, projects and subprojects share (Beebole's twenty per entity, projects' managers
aside), registered once per entity: exclusive members, groups, specific tasks, custom field values, and
``activate`` / ``deactivate`` (in the entity's own module).

What each means in the domain:
- **exclusive members** of a project are its memberships (a person or a group, at the project's default role);
  of a company, its company members (``portfolio.people``);
- **managers** (projects and subprojects only) are memberships at the Admin role or above;
- **groups** on a company, project or task are report categories (``portfolio.categories``);
- **specific tasks** are the activities chosen for a project or company (``timesheets``), offered when time is
  logged there.
"""

from __future__ import annotations

from keelplan.accounts.models import Group, User
from keelplan.api.beebole.errors import BeeboleError
from keelplan.api.beebole.registry import Call, service
from keelplan.api.beebole.services.common import (
    company_named, email_shown, group_named, person_named, project_named, refusals, subproject_named, task_named,
)
from keelplan.api.beebole.services.custom_fields import custom_fields_json, set_custom_value
from keelplan.api.beebole.services.groups import groups_json
from keelplan.portfolio import categories, people
from keelplan.portfolio import services as portfolio
from keelplan.portfolio.models import Company, Membership, Role
from keelplan.timesheets import selectors as time_selectors
from keelplan.timesheets import services as time_services

FINDERS = {"company": company_named, "project": project_named, "subproject": subproject_named}


def _principal(call: Call) -> tuple[str, User | Group]:
    """The person or group a member service names (``person`` or ``group``, exactly one)."""
    has_person, has_group = call.body.has("person"), call.body.has("group")
    if has_person == has_group:
        raise BeeboleError("Missing field: give person or group (one of them), as {\"person\": {\"id\": 1}}."
                           if not has_person else "Invalid request: give person or group, not both.")
    if has_person:
        return "person", person_named(call, call.body.ref("person"), "person")
    return "group", group_named(call, call.body.ref("group"), "group")


# ---------------------------------------------------------------- exclusive members

def _membership(project, kind: str, principal) -> Membership | None:
    return Membership.objects.filter(project=project, **{"user" if kind == "person" else "group": principal}).first()


def attach_member(call: Call, row) -> dict:
    kind, principal = _principal(call)
    principal_kwargs = {"user" if kind == "person" else "group": principal}
    with refusals():
        if isinstance(row, Company):
            people.company_member_add(actor=call.actor, company=row, **principal_kwargs)
        else:
            portfolio.membership_add(actor=call.actor, project=row, **principal_kwargs)
    return {}


def detach_member(call: Call, row) -> dict:
    kind, principal = _principal(call)
    principal_kwargs = {"user" if kind == "person" else "group": principal}
    with refusals():
        if isinstance(row, Company):
            people.company_member_remove(actor=call.actor, company=row, **principal_kwargs)
            return {}
        membership = _membership(row, kind, principal)
        if membership is None:
            raise BeeboleError(f"Unknown member: {kind} {principal.pk} is not an exclusive member here.")
        portfolio.membership_remove(actor=call.actor, membership=membership)
    return {}


def members(call: Call, row) -> dict:
    if isinstance(row, Company):
        found = people.company_members(row)
        persons, groups = found["people"], found["groups"]
    else:
        rows = Membership.objects.filter(project=row).select_related("user", "group").order_by("id")
        persons = [m.user for m in rows if m.user_id]
        groups = [m.group for m in rows if m.group_id]
    return {"members": [{"name": u.display_name, "id": u.pk} for u in persons],
            "groups": [{"name": g.name, "id": g.pk} for g in groups]}


# ---------------------------------------------------------------- managers (projects)

def attach_manager(call: Call, project) -> dict:
    person = person_named(call, call.body.ref("person"), "person")
    membership = _membership(project, "person", person)
    with refusals():
        if membership is None:
            portfolio.membership_add(actor=call.actor, project=project, user=person, role=Role.ADMIN)
        elif membership.role < Role.ADMIN:
            portfolio.membership_change_role(actor=call.actor, membership=membership, role=Role.ADMIN)
    return {}


def detach_manager(call: Call, project) -> dict:
    """A manager stays a member, at the project's default role (Member when that is Admin itself)."""
    person = person_named(call, call.body.ref("person"), "person")
    membership = _membership(project, "person", person)
    if membership is None or membership.role < Role.ADMIN:
        raise BeeboleError(f"Unknown manager: person {person.pk} is not a manager of this project.")
    role = project.default_member_role if project.default_member_role < Role.ADMIN else Role.MEMBER
    with refusals():
        portfolio.membership_change_role(actor=call.actor, membership=membership, role=role)
    return {}


def managers(call: Call, project) -> dict:
    rows = (Membership.objects.filter(project=project, user__isnull=False, role__gte=Role.ADMIN)
            .select_related("user").order_by("id"))
    return {"members": [{"name": m.user.display_name, "id": m.user.pk, "email": email_shown(m.user, call.actor),
                         "active": m.user.is_active} for m in rows]}


# ---------------------------------------------------------------- groups as categories

def add_group(call: Call, row) -> dict:
    group = group_named(call, call.body.ref("group"), "group")
    with refusals():
        categories.group_assign(actor=call.actor, group=group, target=row)
    return {}


def remove_group(call: Call, row) -> dict:
    group = group_named(call, call.body.ref("group"), "group")
    with refusals():
        categories.group_unassign(actor=call.actor, group=group, target=row)
    return {}


def groups(call: Call, row) -> dict:
    return {"groups": groups_json(categories.groups_assigned(row))}


# ---------------------------------------------------------------- specific tasks

def _task(call: Call):
    """The task a specific-task service names: ``task`` (or ``tasks``, which the ``beebole`` package sends)."""
    key = "tasks" if call.body.has("tasks") and not call.body.has("task") else "task"
    return task_named(call, call.body.ref(key), key)


def attach_specific_task(call: Call, row) -> dict:
    with refusals():
        time_services.specific_activity_attach(actor=call.actor, owner=row, activity=_task(call))
    return {}


def detach_specific_task(call: Call, row) -> dict:
    with refusals():
        time_services.specific_activity_detach(actor=call.actor, owner=row, activity=_task(call))
    return {}


def specific_tasks(call: Call, row) -> dict:
    enabled, activities = time_selectors.specific_activities(row)
    return {"disabled": not enabled,
            "specificTasks": [{"name": a.name, "id": a.pk, "active": a.is_active} for a in activities]}


def _enabled(value: bool):
    def handler(call: Call, row) -> dict:
        with refusals():
            time_services.specific_activities_set_enabled(actor=call.actor, owner=row, enabled=value)
        return {}
    return handler


# ---------------------------------------------------------------- custom fields

def set_custom_field_value(call: Call, row) -> dict:
    field = call.body.object("customField")
    if not field.has("value"):
        raise field.missing("value")
    set_custom_value(call, row, field.id("id"), field.data["value"], where=field.where("value"))
    return {}


def clear_custom_field_value(call: Call, row) -> dict:
    field = call.body.object("customField")
    set_custom_value(call, row, field.id("id"), None, where=field.where("id"))
    return {}


def custom_fields(call: Call, row) -> dict:
    return {"customFields": custom_fields_json(row, call.actor)}


# ---------------------------------------------------------------- registration

HANDLERS = {
    "attach_member": attach_member, "detach_member": detach_member, "members": members,
    "add_group": add_group, "remove_group": remove_group, "groups": groups,
    "attach_specific_task": attach_specific_task, "detach_specific_task": detach_specific_task,
    "specific_tasks": specific_tasks, "enable_specific_tasks": _enabled(True),
    "disable_specific_tasks": _enabled(False),
    "set_custom_field_value": set_custom_field_value, "clear_custom_field_value": clear_custom_field_value,
    "custom_fields": custom_fields,
}
PROJECT_ONLY = {"attach_manager": attach_manager, "detach_manager": detach_manager, "managers": managers}
# The plural spellings the ``beebole`` package sends for projects and subprojects.
ALIASES = {"attach_specific_tasks": "attach_specific_task", "detach_specific_tasks": "detach_specific_task"}


def _bind(entity: str, handler):
    finder = FINDERS[entity]

    def serve(call: Call) -> dict:
        return handler(call, finder(call, call.body.id("id")))
    serve.__name__ = f"{entity}_{handler.__name__}"
    return serve


for _entity in FINDERS:
    for _verb, _handler in HANDLERS.items():
        names = [f"{_entity}.{_verb}"] + [f"{_entity}.{alias}" for alias, verb in ALIASES.items() if verb == _verb]
        service(*names)(_bind(_entity, _handler))
    if _entity == "project":
        for _verb, _handler in PROJECT_ONLY.items():
            service(f"{_entity}.{_verb}")(_bind(_entity, _handler))
