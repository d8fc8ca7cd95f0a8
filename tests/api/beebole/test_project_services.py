"""Beebole's project services, each sent as raw JSON with the request body its documentation shows
(``tests/api/beebole/seed.py``): the reply has the documented keys and types, and the domain rows changed as the
service says (the membership and its role, the chosen activities, the category, the custom value)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest
from django.utils import timezone

from keelplan.accounts import services as accounts
from keelplan.api.beebole.registry import SERVICES
from keelplan.api.beebole.services.shared import ALIASES
from keelplan.changelog.models import ChangeEvent
from keelplan.customfields.models import AppliesTo
from keelplan.customfields.services import custom_values_read
from keelplan.portfolio import categories
from keelplan.portfolio import services as portfolio
from keelplan.portfolio.models import GroupAssignment, Membership, Project, Role
from keelplan.timesheets import selectors as time_selectors
from keelplan.timesheets import services as time_services
from tests.api.beebole import seed
from tests.api.beebole.conftest import Beebole
from tests.conftest import make_user


@pytest.fixture
def world(owner) -> seed.World:
    return seed.make_world(owner)


def fresh(project: Project) -> Project:
    return Project.objects.get(pk=project.pk)


def live_membership(world: seed.World, **principal) -> Membership | None:
    return Membership.objects.filter(project=world.project, **principal).first()


# ---------------------------------------------------------------- states a documented call starts from

def deactivated(w: seed.World) -> None:
    portfolio.project_update(actor=w.owner, project=w.project, is_active=False)


def task_attached(w: seed.World) -> None:
    time_services.specific_activity_attach(actor=w.owner, owner=w.project, activity=w.task)


def tasks_disabled(w: seed.World) -> None:
    time_services.specific_activities_set_enabled(actor=w.owner, owner=w.project, enabled=False)


def person_member(w: seed.World) -> None:
    portfolio.membership_add(actor=w.owner, project=w.project, user=w.person)


def group_member(w: seed.World) -> None:
    portfolio.membership_add(actor=w.owner, project=w.project, group=w.group)


def manager(w: seed.World) -> None:
    portfolio.membership_add(actor=w.owner, project=w.project, user=w.person, role=Role.ADMIN)


def group_assigned(w: seed.World) -> None:
    categories.group_assign(actor=w.owner, group=w.group, target=w.project)


def value_set(w: seed.World) -> None:
    portfolio.project_update(actor=w.owner, project=w.project,
                             custom_fields={w.custom_field.pk: seed.CUSTOM_FIELD_VALUE})


# ---------------------------------------------------------------- what each documented call does to the domain

def created(w: seed.World, reply: dict) -> None:
    project = Project.objects.get(pk=reply["id"])
    assert project.pk != w.project.pk
    assert (project.name, project.start_date.isoformat(), project.description) == (
        seed.PROJECT_NAME, seed.PROJECT_START, seed.PROJECT_DESCRIPTION)
    assert project.company_id == w.company.pk and project.parent_id is None and project.is_active
    # The caller becomes its Owner, as in every dialect.
    assert Membership.objects.get(project=project, user=w.owner).role == Role.OWNER


def updated(w: seed.World, reply: dict) -> None:
    project = fresh(w.project)
    assert (project.name, project.start_date.isoformat(), project.description) == (
        seed.NEW_NAME, seed.PROJECT_START, seed.PROJECT_DESCRIPTION)
    assert project.company_id == w.company.pk      # not in the body: unchanged


def active_is(value: bool):
    def check(w: seed.World, reply: dict) -> None:
        assert fresh(w.project).is_active is value
    return check


def specific_tasks_are(enabled: bool, *, held: bool):
    def check(w: seed.World, reply: dict) -> None:
        assert time_selectors.specific_activities(w.project) == (enabled, [w.task] if held else [])
    return check


def member_added(kind: str):
    def check(w: seed.World, reply: dict) -> None:
        principal = {"user": w.person} if kind == "person" else {"group": w.group}
        rows = Membership.objects.filter(project=w.project, **principal)
        assert rows.count() == 1
        # An exclusive member holds the project's default role.
        assert rows.get().role == w.project.default_member_role == Role.MEMBER
    return check


def member_removed(kind: str):
    def check(w: seed.World, reply: dict) -> None:
        principal = {"user": w.person} if kind == "person" else {"group": w.group}
        assert live_membership(w, **principal) is None
        assert Membership.all_objects.filter(project=w.project, deleted_at__isnull=False, **principal).count() == 1
    return check


def members_listed(w: seed.World, reply: dict) -> None:
    # The creator is an exclusive member too (the project's Owner), listed first.
    assert reply["members"] == [{"name": w.owner.display_name, "id": w.owner.pk},
                                {"name": seed.PERSON_NAME, "id": w.person.pk}]
    assert reply["groups"] == [{"name": seed.GROUP_NAME, "id": w.group.pk}]


def made_manager(w: seed.World, reply: dict) -> None:
    rows = Membership.objects.filter(project=w.project, user=w.person)
    assert rows.count() == 1 and rows.get().role == Role.ADMIN


def no_longer_manager(w: seed.World, reply: dict) -> None:
    # A manager let go stays an exclusive member, at the project's default role.
    assert live_membership(w, user=w.person).role == Role.MEMBER


def managers_listed(w: seed.World, reply: dict) -> None:
    # The Owner manages too; the workspace administrator asking sees every e-mail address.
    assert reply["members"] == [
        {"name": w.owner.display_name, "id": w.owner.pk, "email": w.owner.email, "active": True},
        {"name": seed.PERSON_NAME, "id": w.person.pk, "email": seed.PERSON_EMAIL, "active": True},
    ]


def assigned(value: bool):
    def check(w: seed.World, reply: dict) -> None:
        assert GroupAssignment.objects.filter(group=w.group, project=w.project).exists() is value
    return check


def value_is(value):
    def check(w: seed.World, reply: dict) -> None:
        stored = custom_values_read(AppliesTo.PROJECT, [w.project.pk]).get(w.project.pk, {})
        assert stored == ({w.custom_field.pk: value} if value is not None else {})
    return check


def nothing(w: seed.World, reply: dict) -> None:
    """A read: the reply is checked whole, and no change is logged."""


@dataclass(frozen=True)
class Case:
    """How a documented call is tried: the state it starts from (``given``), what it must do (``effect``),
    whether it writes, and whether its reply equals the document's example exactly (lists that also hold rows the
    example leaves out, the creator among the members, are checked item by item in ``effect``)."""

    effect: Callable[[seed.World, dict], None]
    given: tuple[Callable[[seed.World], None], ...] = ()
    writes: bool = True
    whole: bool = True


CASES: dict[str, Case] = {
    "project.create": Case(created, whole=False),
    "project.get": Case(nothing, writes=False),
    "project.update": Case(updated),
    "project.list": Case(nothing, writes=False),
    "project.activate": Case(active_is(True), given=(deactivated,)),
    "project.deactivate": Case(active_is(False)),
    "project.attach_specific_task": Case(specific_tasks_are(True, held=True)),
    "project.detach_specific_task": Case(specific_tasks_are(True, held=False), given=(task_attached,)),
    "project.specific_tasks": Case(nothing, given=(task_attached,), writes=False),
    "project.enable_specific_tasks": Case(specific_tasks_are(True, held=True), given=(task_attached, tasks_disabled)),
    "project.disable_specific_tasks": Case(specific_tasks_are(False, held=True), given=(task_attached,)),
    "project.attach_member (person)": Case(member_added("person")),
    "project.attach_member (group)": Case(member_added("group")),
    "project.detach_member (person)": Case(member_removed("person"), given=(person_member,)),
    "project.detach_member (group)": Case(member_removed("group"), given=(group_member,)),
    "project.members": Case(members_listed, given=(person_member, group_member), writes=False, whole=False),
    "project.attach_manager": Case(made_manager),
    "project.detach_manager": Case(no_longer_manager, given=(manager,)),
    "project.managers": Case(managers_listed, given=(manager,), writes=False, whole=False),
    "project.add_group": Case(assigned(True)),
    "project.remove_group": Case(assigned(False), given=(group_assigned,)),
    "project.groups": Case(nothing, given=(group_assigned,), writes=False),
    "project.set_custom_field_value": Case(value_is(seed.CUSTOM_FIELD_VALUE)),
    "project.clear_custom_field_value": Case(value_is(None), given=(value_set,)),
    "project.custom_fields": Case(nothing, given=(value_set,), writes=False),
}


def test_the_seed_names_every_project_service_and_each_is_tried():
    served = {name for name in SERVICES if name.startswith("project.")}
    aliases = {f"project.{alias}" for alias in ALIASES}
    assert {example.service for example in seed.SEED} == served - aliases
    assert len(served - aliases) == 23
    assert set(CASES) == set(seed.BY_LABEL)


def test_the_shape_check_refuses_extra_and_missing_keys_and_wrong_types():
    documented = seed.BY_LABEL["project.managers"].reply
    item = {"name": "a", "id": 1, "email": "", "active": True}
    assert seed.shape_errors({"status": "ok", "members": [item, item]}, documented) == []
    assert seed.shape_errors({"status": "ok", "members": []}, documented) == []
    wrong = [
        {"status": "ok", "members": [item], "managers": []},
        {"status": "ok"},
        {"status": "ok", "members": [item, {**item, "id": "1"}]},
        {"status": "ok", "members": [{**item, "active": 1}]},
        {"status": "ok", "members": [{**item, "id": True}]},
        {"status": "ok", "members": [{k: v for k, v in item.items() if k != "email"}]},
        {"status": "ok", "members": item},
        {"status": "ok", "members": [None]},
    ]
    assert all(seed.shape_errors(reply, documented) for reply in wrong)


def _items_in(reply, documented) -> list[str]:
    """The documented list items (ids filled) that ``reply``'s lists lack."""
    missing = []
    for key, value in documented.items():
        if isinstance(value, list):
            missing += [f"{key}: {item}" for item in value if item not in reply[key]]
    return missing


@pytest.mark.parametrize("label", list(CASES))
def test_documented_request_answers_the_documented_reply(label, bb, world):
    example, case = seed.BY_LABEL[label], CASES[label]
    for given in case.given:
        given(world)
    events = ChangeEvent.objects.count()

    response = bb.raw(seed.fill(example.request, world.ids))

    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    reply = response.json()
    assert reply["status"] == "ok", reply
    assert seed.shape_errors(reply, example.reply) == []
    if case.whole:
        assert reply == seed.fill(example.reply, world.ids)
    else:
        assert _items_in(reply, seed.fill(example.reply, {**world.ids, "created": reply.get("id")})) == []
    case.effect(world, reply)
    assert (ChangeEvent.objects.count() > events) is case.writes


def test_the_documented_calls_in_the_documents_order(bb, world):
    """Every documented call one after another on the project the create body makes, in the document's order
    except where a list must follow the call that fills it: each reply has the documented shape."""
    ids = dict(world.ids)
    order = ["project.create", "project.get", "project.update", "project.list", "project.deactivate",
             "project.activate", "project.attach_specific_task", "project.specific_tasks",
             "project.disable_specific_tasks", "project.enable_specific_tasks", "project.detach_specific_task",
             "project.attach_member (person)", "project.attach_member (group)", "project.members",
             "project.detach_member (person)", "project.attach_manager", "project.managers",
             "project.detach_manager", "project.add_group", "project.groups", "project.remove_group",
             "project.set_custom_field_value", "project.custom_fields", "project.clear_custom_field_value",
             "project.detach_member (group)"]
    assert sorted(order) == sorted(seed.BY_LABEL)
    for label in order:
        example = seed.BY_LABEL[label]
        reply = bb.call(**_as_call(seed.fill(example.request, ids)))
        assert seed.shape_errors(reply, example.reply) == [], label
        if label == "project.create":
            ids["project"] = reply["id"]
    project = Project.objects.get(pk=ids["project"])
    assert project.name == seed.NEW_NAME and project.is_active
    assert Membership.objects.get(project=project, user=world.person).role == Role.MEMBER
    assert not Membership.objects.filter(project=project, group=world.group).exists()


def _as_call(body: dict) -> dict:
    return {"service": body["service"], **{k: v for k, v in body.items() if k != "service"}}


# ---------------------------------------------------------------- documented defaults and counters

def test_create_without_start_date_starts_on_the_first_of_the_current_month(bb, world):
    body = seed.fill(seed.BY_LABEL["project.create"].request, world.ids)
    del body["project"]["startDate"], body["project"]["description"]

    reply = bb.call(**_as_call(body))

    project = Project.objects.get(pk=reply["id"])
    assert project.start_date == timezone.localdate().replace(day=1)
    assert project.description == ""
    shown = bb.call("project.get", id=project.pk)["project"]
    assert shown["startDate"] == timezone.localdate().replace(day=1).isoformat()
    assert shown["description"] == ""


def test_subprojects_count_is_the_subprojects_the_caller_sees(bb, world, owner):
    assert bb.call("project.get", id=world.project.pk)["project"]["subprojects"] == {"count": 2}
    portfolio.project_create(actor=owner, name="Phase 3", start_date=world.project.start_date,
                             parent=world.project)
    assert bb.call("project.get", id=world.project.pk)["project"]["subprojects"] == {"count": 3}
    # A member of the parent alone does not see its subprojects, and the count says so.
    viewer = make_user("parent-viewer")
    portfolio.membership_add(actor=owner, project=world.project, user=viewer, role=Role.VIEWER)
    assert Beebole(viewer).call("project.get", id=world.project.pk)["project"]["subprojects"] == {"count": 0}


def test_list_shows_top_level_projects_of_the_named_company_only(bb, world):
    listed = bb.call("project.list", company={"id": world.company.pk})["projects"]
    assert [p["id"] for p in listed] == [world.project.pk]
    everything = bb.call("project.list")["projects"]
    assert {p["name"] for p in everything} == {seed.PROJECT_NAME, "Elsewhere's"}
    assert all(p["id"] != world.project.pk or p["subprojects"] == {"count": 2} for p in everything)


def test_list_shows_a_plain_user_only_the_projects_they_are_in(world, owner):
    user = make_user("lister")
    assert Beebole(user).call("project.list", company={"id": world.company.pk})["projects"] == []
    portfolio.membership_add(actor=owner, project=world.project, user=user, role=Role.VIEWER)
    listed = Beebole(user).call("project.list", company={"id": world.company.pk})["projects"]
    assert [p["id"] for p in listed] == [world.project.pk]


def test_a_deactivated_project_reads_inactive_and_comes_back(bb, world):
    bb.call("project.deactivate", id=world.project.pk)
    assert bb.call("project.get", id=world.project.pk)["project"]["active"] is False
    bb.call("project.activate", id=world.project.pk)
    assert bb.call("project.get", id=world.project.pk)["project"]["active"] is True


# ---------------------------------------------------------------- managers and members are one membership

def test_making_a_member_a_manager_raises_their_role_in_the_same_row(bb, world):
    person_member(world)
    row = live_membership(world, user=world.person)

    bb.call("project.attach_manager", id=world.project.pk, person={"id": world.person.pk})

    assert Membership.objects.filter(project=world.project, user=world.person).count() == 1
    assert live_membership(world, user=world.person).pk == row.pk
    assert live_membership(world, user=world.person).role == Role.ADMIN
    members = bb.call("project.members", id=world.project.pk)["members"]
    assert {"name": seed.PERSON_NAME, "id": world.person.pk} in members


def test_attaching_a_manager_twice_changes_nothing_the_second_time(bb, world):
    bb.call("project.attach_manager", id=world.project.pk, person={"id": world.person.pk})
    events = ChangeEvent.objects.count()
    bb.call("project.attach_manager", id=world.project.pk, person={"id": world.person.pk})
    assert ChangeEvent.objects.count() == events
    assert live_membership(world, user=world.person).role == Role.ADMIN


def test_a_manager_gives_a_member_right_they_use_through_the_dialect(bb, world):
    """The role is a real one: once attached as manager, the person may change the project's settings."""
    person = Beebole(world.person)
    assert person.error("project.update", project={"id": world.project.pk, "name": "x"}).startswith("Unknown project")
    bb.call("project.attach_manager", id=world.project.pk, person={"id": world.person.pk})
    person.call("project.update", project={"id": world.project.pk, "name": "Renamed"})
    assert fresh(world.project).name == "Renamed"
    bb.call("project.detach_manager", id=world.project.pk, person={"id": world.person.pk})
    assert person.error("project.update", project={"id": world.project.pk, "name": "x"}).startswith("Not allowed")


def test_a_group_member_gives_its_people_the_default_role(bb, world):
    accounts.group_member_add(actor=world.owner, group=world.group, user=world.person)
    person = Beebole(world.person)
    assert person.error("project.get", id=world.project.pk).startswith("Unknown project")
    bb.call("project.attach_member", id=world.project.pk, group={"id": world.group.pk})
    assert person.call("project.get", id=world.project.pk)["project"]["id"] == world.project.pk
    bb.call("project.detach_member", id=world.project.pk, group={"id": world.group.pk})
    assert person.error("project.get", id=world.project.pk).startswith("Unknown project")


def test_custom_fields_lists_an_unset_field_without_value(bb, world):
    reply = bb.call("project.custom_fields", id=world.project.pk)
    assert reply["customFields"] == [{"id": world.custom_field.pk, "name": seed.CUSTOM_FIELD_NAME,
                                      "availableFor": "Project"}]
    bb.call("project.set_custom_field_value", id=world.project.pk,
            customField={"id": world.custom_field.pk, "value": "Provo"})
    bb.call("project.set_custom_field_value", id=world.project.pk,
            customField={"id": world.custom_field.pk, "value": seed.CUSTOM_FIELD_VALUE})
    assert value_is(seed.CUSTOM_FIELD_VALUE)(world, {}) is None
