"""The v1 permission matrix, end to end: every role (and a non-member) against every action, over HTTP.

Read the table ``MATRIX`` row by row: it is the contract. A 2xx cell must have its effect in the database;
any other cell on a write must leave every tracked table exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction

from keelplan.calendars.models import Calendar, CalendarException
from keelplan.calendars.services import calendar_create
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import dependency_create, task_create
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.portfolio.services import membership_add, membership_remove, project_delete
from keelplan.resources.models import Assignment, Resource
from keelplan.resources.services import assignment_create, resource_create
from keelplan.changelog.models import ChangeEvent, ChangeStream

from conftest import client_for, make_project, make_user

ROLES = ("viewer", "member", "scheduler", "admin", "owner", "outsider")
NA = None  # the action means nothing for this actor (an outsider has no membership to leave)

# Status per actor. Outsiders get 404 for rows of a project they do not belong to (existence does not
# leak); on create, the invisible project or task is a 400 naming the field; lists answer 200 with only
# what the reader may see. Shared calendars and resources are workspace rows every signed-in person can see
# and only workspace administrators write (no project role, not even Owner, implies that): 403. A project's
# own calendar is written by its Admins. The Owner leaving is 400: they are the last Owner.
MATRIX = [
    # action                          viewer member scheduler admin owner outsider
    ("project.list",                  200,   200,   200,      200,  200,  200),
    ("project.retrieve",              200,   200,   200,      200,  200,  404),
    ("project.update",                403,   403,   403,      200,  200,  404),
    ("project.delete",                403,   403,   403,      403,  204,  404),
    ("members.list",                  200,   200,   200,      200,  200,  404),
    ("members.add",                   403,   403,   403,      403,  201,  404),
    ("members.change_role",           403,   403,   403,      403,  200,  404),
    ("members.remove_other",          403,   403,   403,      403,  204,  404),
    ("members.remove_self",           204,   204,   204,      204,  400,  NA),
    ("task.list",                     200,   200,   200,      200,  200,  200),
    ("task.retrieve",                 200,   200,   200,      200,  200,  404),
    ("task.create",                   403,   403,   403,      201,  201,  400),
    ("task.update_own_assigned",      403,   200,   403,      200,  200,  404),
    ("task.update_own_via_resource",  403,   200,   403,      200,  200,  404),
    ("task.reassign_own",             403,   403,   403,      200,  200,  404),
    ("task.update_other",             403,   403,   403,      200,  200,  404),
    ("task.delete",                   403,   403,   403,      204,  204,  404),
    ("dependency.create",             403,   403,   201,      201,  201,  400),
    ("dependency.update",             403,   403,   200,      200,  200,  404),
    ("dependency.delete",             403,   403,   204,      204,  204,  404),
    ("task_resource.create",          403,   403,   201,      201,  201,  400),
    ("task_resource.update",          403,   403,   200,      200,  200,  404),
    ("task_resource.delete",          403,   403,   204,      204,  204,  404),
    ("calendar.list",                 200,   200,   200,      200,  200,  200),
    ("calendar.create",               403,   403,   403,      403,  403,  403),
    ("calendar.update",               403,   403,   403,      403,  403,  403),
    ("project_calendar.create",       403,   403,   403,      201,  201,  400),
    ("project_calendar.retrieve",     200,   200,   200,      200,  200,  404),
    ("project_calendar.update",       403,   403,   403,      200,  200,  404),
    ("project_calendar.delete",       403,   403,   403,      204,  204,  404),
    ("resource.list",                 200,   200,   200,      200,  200,  200),
    ("resource.create",               403,   403,   403,      403,  403,  403),
    ("resource.update",               403,   403,   403,      403,  403,  403),
    ("resource.link_user",            403,   403,   403,      403,  403,  403),
]

# The field a 400 must name, where the cell is a 400.
FIELD_400 = {
    "task.create": "project",
    "dependency.create": "successor",
    "task_resource.create": "task",
    "members.remove_self": "user",
    "project_calendar.create": "project",
}

TRACKED = (Project, Membership, WorkItem, Dependency, Assignment, Resource, Calendar, CalendarException,
           ChangeStream, ChangeEvent)


def db_state() -> dict:
    """Every row of every table a v1 write can touch, soft-deleted rows included."""
    return {model.__name__: list(model._base_manager.order_by("pk").values()) for model in TRACKED}


@dataclass
class World:
    project: Project
    people: dict
    bystander: Membership
    survey: WorkItem
    foundations: WorkItem
    walls: WorkItem
    link: Dependency
    crane: Resource
    digger: Resource
    booking: Assignment
    calendar: Calendar
    own_calendar: Calendar
    keeper: object

    @property
    def owner(self):
        return self.people["owner"]


def build_world() -> World:
    owner = make_user("owner", full_name="Olive Owner")
    keeper = make_user("keeper", workspace_admin=True)  # keeps shared calendars and resources; in no project
    project = make_project(owner)
    people = {"owner": owner, "outsider": make_user("outsider")}
    for role in (Role.VIEWER, Role.MEMBER, Role.SCHEDULER, Role.ADMIN):
        people[role.label.lower()] = make_user(role.label.lower())
        membership_add(actor=owner, project=project, user=people[role.label.lower()], role=role)
    bystander = membership_add(actor=owner, project=project, user=make_user("bystander"), role=Role.VIEWER)
    survey = task_create(actor=owner, project=project, name="Survey")
    foundations = task_create(actor=owner, project=project, name="Foundations")
    walls = task_create(actor=owner, project=project, name="Walls")
    link = dependency_create(actor=owner, predecessor=survey, successor=foundations)
    crane = resource_create(actor=keeper, name="Crane")
    digger = resource_create(actor=keeper, name="Digger")
    booking = assignment_create(actor=owner, work_item=survey, resource=crane)
    calendar = calendar_create(actor=keeper, name="Site week")
    own_calendar = calendar_create(actor=owner, name="Apollo night shifts", project=project)
    return World(project=project, people=people, bystander=bystander, survey=survey, foundations=foundations,
                 walls=walls, link=link, crane=crane, digger=digger, booking=booking, calendar=calendar,
                 own_calendar=own_calendar, keeper=keeper)


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """One world for the whole matrix, built inside a transaction that is rolled back after the module.

    Each test still runs in its own savepoint (the ``db`` fixture), so what one cell writes is gone before
    the next; building the world once instead of 170 times keeps the matrix fast on PostgreSQL.
    """
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)


@pytest.fixture
def world(shared_world, db) -> World:
    return shared_world


@dataclass(frozen=True)
class Action:
    """``prepare`` builds what this actor needs before the snapshot; ``call`` makes the request;
    ``effect`` tells whether an allowed call did what it should (read or write)."""

    call: Callable
    effect: Callable
    prepare: Callable | None = None


def _task_assigned_to(w: World, actor) -> WorkItem:
    """A task whose assignee is the actor. An outsider gets one as a former member: assigned while they
    belonged, then removed from the project (the assignment stays, their access does not)."""
    if actor.username != "outsider":
        return task_create(actor=w.owner, project=w.project, name="Mine", assignee=actor)
    membership = membership_add(actor=w.owner, project=w.project, user=actor, role=Role.MEMBER)
    task = task_create(actor=w.owner, project=w.project, name="Mine", assignee=actor)
    membership_remove(actor=w.owner, membership=membership)
    return task


def _task_booked_for(w: World, actor) -> WorkItem:
    """A task the actor works on through a resource that is them, not through ``assignee``."""
    task = task_create(actor=w.owner, project=w.project, name="Mine via resource")
    me = resource_create(actor=w.keeper, name=f"{actor.username} (person)", user=actor)
    assignment_create(actor=w.owner, work_item=task, resource=me)
    return task


def _renamed(model, pk, name) -> bool:
    return model._base_manager.get(pk=pk).name == name


def _gone(model, pk) -> bool:
    return model._base_manager.get(pk=pk).deleted_at is not None


def _sees_tasks(w, actor, response) -> bool:
    ids = {row["id"] for row in response.json()["results"]}
    expected = set(WorkItem.objects.filter(project=w.project).values_list("id", flat=True))
    return ids == (set() if actor.username == "outsider" else expected) and len(expected) >= 3


def _sees_project(w, actor, response) -> bool:
    ids = [row["id"] for row in response.json()["results"]]
    return ids == ([] if actor.username == "outsider" else [w.project.pk])


ACTIONS: dict[str, Action] = {
    "project.list": Action(
        call=lambda c, w, p: c.get("/api/v1/projects/"),
        effect=_sees_project,
    ),
    "project.retrieve": Action(
        call=lambda c, w, p: c.get(f"/api/v1/projects/{w.project.pk}/"),
        effect=lambda w, a, r: r.json()["id"] == w.project.pk,
    ),
    "project.update": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/projects/{w.project.pk}/", {"name": "Renamed"}, format="json"),
        effect=lambda w, a, r: _renamed(Project, w.project.pk, "Renamed"),
    ),
    "project.delete": Action(
        call=lambda c, w, p: c.delete(f"/api/v1/projects/{w.project.pk}/"),
        effect=lambda w, a, r: _gone(Project, w.project.pk),
    ),
    "members.list": Action(
        call=lambda c, w, p: c.get(f"/api/v1/projects/{w.project.pk}/members/"),
        effect=lambda w, a, r: r.json()["count"] == 6,
    ),
    "members.add": Action(
        prepare=lambda w, actor: make_user("newcomer"),
        call=lambda c, w, newcomer: c.post(f"/api/v1/projects/{w.project.pk}/members/", {"user": newcomer.pk},
                                           format="json"),
        effect=lambda w, a, r: Membership.objects.filter(project=w.project, user__username="newcomer",
                                                         role=w.project.default_member_role).exists(),
    ),
    "members.change_role": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/projects/{w.project.pk}/members/{w.bystander.pk}/",
                                     {"role": Role.MEMBER}, format="json"),
        effect=lambda w, a, r: Membership.objects.get(pk=w.bystander.pk).role == Role.MEMBER,
    ),
    "members.remove_other": Action(
        call=lambda c, w, p: c.delete(f"/api/v1/projects/{w.project.pk}/members/{w.bystander.pk}/"),
        effect=lambda w, a, r: _gone(Membership, w.bystander.pk),
    ),
    "members.remove_self": Action(
        prepare=lambda w, actor: Membership.objects.get(project=w.project, user=actor),
        call=lambda c, w, mine: c.delete(f"/api/v1/projects/{w.project.pk}/members/{mine.pk}/"),
        effect=lambda w, a, r: not Membership.objects.filter(project=w.project, user=a).exists(),
    ),
    "task.list": Action(
        call=lambda c, w, p: c.get(f"/api/v1/tasks/?project={w.project.pk}"),
        effect=_sees_tasks,
    ),
    "task.retrieve": Action(
        call=lambda c, w, p: c.get(f"/api/v1/tasks/{w.survey.pk}/"),
        effect=lambda w, a, r: r.json()["name"] == "Survey",
    ),
    "task.create": Action(
        call=lambda c, w, p: c.post("/api/v1/tasks/", {"project": w.project.pk, "name": "Roof"}, format="json"),
        effect=lambda w, a, r: WorkItem.objects.filter(project=w.project, name="Roof").exists(),
    ),
    "task.update_own_assigned": Action(
        prepare=_task_assigned_to,
        call=lambda c, w, task: c.patch(f"/api/v1/tasks/{task.pk}/", {"name": "Done by me"}, format="json"),
        effect=lambda w, a, r: _renamed(WorkItem, r.json()["id"], "Done by me"),
    ),
    "task.update_own_via_resource": Action(
        prepare=_task_booked_for,
        call=lambda c, w, task: c.patch(f"/api/v1/tasks/{task.pk}/", {"name": "Done by me"}, format="json"),
        effect=lambda w, a, r: _renamed(WorkItem, r.json()["id"], "Done by me"),
    ),
    "task.reassign_own": Action(
        prepare=_task_assigned_to,
        call=lambda c, w, task: c.patch(f"/api/v1/tasks/{task.pk}/", {"assignee": w.owner.pk}, format="json"),
        effect=lambda w, a, r: WorkItem.objects.get(pk=r.json()["id"]).assignee_id == w.owner.pk,
    ),
    "task.update_other": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/tasks/{w.walls.pk}/", {"name": "Brick walls"}, format="json"),
        effect=lambda w, a, r: _renamed(WorkItem, w.walls.pk, "Brick walls"),
    ),
    "task.delete": Action(
        call=lambda c, w, p: c.delete(f"/api/v1/tasks/{w.walls.pk}/"),
        effect=lambda w, a, r: _gone(WorkItem, w.walls.pk),
    ),
    "dependency.create": Action(
        call=lambda c, w, p: c.post("/api/v1/dependencies/",
                                    {"predecessor": w.foundations.pk, "successor": w.walls.pk}, format="json"),
        effect=lambda w, a, r: Dependency.objects.filter(predecessor=w.foundations, successor=w.walls).exists(),
    ),
    "dependency.update": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/dependencies/{w.link.pk}/", {"lag": 3}, format="json"),
        effect=lambda w, a, r: Dependency.objects.get(pk=w.link.pk).lag == 3,
    ),
    "dependency.delete": Action(
        call=lambda c, w, p: c.delete(f"/api/v1/dependencies/{w.link.pk}/"),
        effect=lambda w, a, r: _gone(Dependency, w.link.pk),
    ),
    "task_resource.create": Action(
        call=lambda c, w, p: c.post("/api/v1/task-resources/",
                                    {"task": w.survey.pk, "resource": w.digger.pk, "units": "0.50"}, format="json"),
        effect=lambda w, a, r: Assignment.objects.filter(work_item=w.survey, resource=w.digger).exists(),
    ),
    "task_resource.update": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/task-resources/{w.booking.pk}/", {"units": "0.25"}, format="json"),
        effect=lambda w, a, r: Assignment.objects.get(pk=w.booking.pk).units == Decimal("0.25"),
    ),
    "task_resource.delete": Action(
        call=lambda c, w, p: c.delete(f"/api/v1/task-resources/{w.booking.pk}/"),
        effect=lambda w, a, r: _gone(Assignment, w.booking.pk),
    ),
    "calendar.list": Action(
        call=lambda c, w, p: c.get("/api/v1/calendars/"),
        effect=lambda w, a, r: [row["id"] for row in r.json()["results"]] == (
            [w.calendar.pk] if a.username == "outsider" else [w.calendar.pk, w.own_calendar.pk]),
    ),
    "calendar.create": Action(
        call=lambda c, w, p: c.post("/api/v1/calendars/", {"name": "Night shift"}, format="json"),
        effect=lambda w, a, r: Calendar.objects.filter(name="Night shift").exists(),
    ),
    "calendar.update": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/calendars/{w.calendar.pk}/", {"name": "Six-day week"},
                                     format="json"),
        effect=lambda w, a, r: _renamed(Calendar, w.calendar.pk, "Six-day week"),
    ),
    "project_calendar.create": Action(
        call=lambda c, w, p: c.post("/api/v1/calendars/", {"name": "Weekend works", "project": w.project.pk},
                                    format="json"),
        effect=lambda w, a, r: Calendar.objects.filter(name="Weekend works", project=w.project).exists(),
    ),
    "project_calendar.retrieve": Action(
        call=lambda c, w, p: c.get(f"/api/v1/calendars/{w.own_calendar.pk}/"),
        effect=lambda w, a, r: r.json()["project"] == w.project.pk,
    ),
    "project_calendar.update": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/calendars/{w.own_calendar.pk}/", {"working_days": 127},
                                     format="json"),
        effect=lambda w, a, r: Calendar.objects.get(pk=w.own_calendar.pk).working_days == 127,
    ),
    "project_calendar.delete": Action(
        call=lambda c, w, p: c.delete(f"/api/v1/calendars/{w.own_calendar.pk}/"),
        effect=lambda w, a, r: _gone(Calendar, w.own_calendar.pk),
    ),
    "resource.list": Action(
        call=lambda c, w, p: c.get("/api/v1/resources/"),
        effect=lambda w, a, r: [row["id"] for row in r.json()["results"]] == [w.crane.pk, w.digger.pk],
    ),
    "resource.create": Action(
        call=lambda c, w, p: c.post("/api/v1/resources/", {"name": "Forklift"}, format="json"),
        effect=lambda w, a, r: Resource.objects.filter(name="Forklift").exists(),
    ),
    "resource.update": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/resources/{w.crane.pk}/", {"name": "Tower crane"}, format="json"),
        effect=lambda w, a, r: _renamed(Resource, w.crane.pk, "Tower crane"),
    ),
    "resource.link_user": Action(
        call=lambda c, w, p: c.patch(f"/api/v1/resources/{w.crane.pk}/", {"user": w.people["member"].pk},
                                     format="json"),
        effect=lambda w, a, r: Resource.objects.get(pk=w.crane.pk).user_id == w.people["member"].pk,
    ),
}

CASES = [
    pytest.param(action, role, expected, id=f"{action}-{role}")
    for action, *cells in MATRIX
    for role, expected in zip(ROLES, cells)
    if expected is not NA
]


def test_matrix_covers_every_action_once():
    names = [row[0] for row in MATRIX]
    assert len(names) == len(set(names))
    assert set(names) == set(ACTIONS)
    assert all(len(row) == 1 + len(ROLES) for row in MATRIX)


@pytest.mark.parametrize(("action", "role", "expected"), CASES)
def test_rbac_matrix(world, action, role, expected):
    spec = ACTIONS[action]
    actor = world.people[role]
    prepared = spec.prepare(world, actor) if spec.prepare else None
    before = db_state()

    response = spec.call(client_for(actor), world, prepared)

    assert response.status_code == expected, (response.status_code, getattr(response, "data", None))
    if 200 <= expected < 300:
        assert spec.effect(world, actor, response), "the allowed request did not have its effect"
        return
    assert db_state() == before, "a refused request changed the database"
    body = response.json()
    if expected == 400:
        assert FIELD_400[action] in body, body
    if expected == 403:
        assert body.get("code") == "permission_denied", body
    if expected == 404:
        assert body.get("code") == "not_found", body


def test_last_owner_refusal_names_the_rule(world):
    mine = Membership.objects.get(project=world.project, user=world.owner)
    response = client_for(world.owner).delete(f"/api/v1/projects/{world.project.pk}/members/{mine.pk}/")
    assert response.status_code == 400
    assert response.json()["code"] == "last_owner"


def test_owner_cannot_demote_themselves_as_last_owner(world):
    mine = Membership.objects.get(project=world.project, user=world.owner)
    before = db_state()
    response = client_for(world.owner).patch(f"/api/v1/projects/{world.project.pk}/members/{mine.pk}/",
                                             {"role": Role.ADMIN}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "last_owner"
    assert db_state() == before


@pytest.mark.parametrize("role", [Role.OWNER, 500])
def test_owner_cannot_grant_owner_or_above(world, role):
    newcomer = make_user("newcomer")
    before = db_state()
    response = client_for(world.owner).post(f"/api/v1/projects/{world.project.pk}/members/",
                                            {"user": newcomer.pk, "role": role}, format="json")
    assert response.status_code in (400, 403)
    assert "role" in response.json()
    assert db_state() == before


def test_duplicate_membership_is_409(world):
    before = db_state()
    response = client_for(world.owner).post(f"/api/v1/projects/{world.project.pk}/members/",
                                            {"user": world.people["viewer"].pk}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_membership"
    assert db_state() == before


def test_removed_member_loses_access(world):
    viewer = world.people["viewer"]
    mine = Membership.objects.get(project=world.project, user=viewer)
    client = client_for(viewer)
    assert client.delete(f"/api/v1/projects/{world.project.pk}/members/{mine.pk}/").status_code == 204
    assert client.get(f"/api/v1/projects/{world.project.pk}/").status_code == 404
    assert client.get(f"/api/v1/tasks/{world.survey.pk}/").status_code == 404


def test_member_cannot_move_own_task_under_another(world):
    member = world.people["member"]
    task = _task_assigned_to(world, member)
    before = db_state()
    response = client_for(member).patch(f"/api/v1/tasks/{task.pk}/", {"parent": world.walls.pk}, format="json")
    assert response.status_code == 403
    assert db_state() == before


def test_deleted_project_is_404_for_its_former_owner(world):
    client = client_for(world.owner)
    assert client.delete(f"/api/v1/projects/{world.project.pk}/").status_code == 204
    assert client.get(f"/api/v1/projects/{world.project.pk}/").status_code == 404
    assert client.get(f"/api/v1/tasks/{world.survey.pk}/").status_code == 404
    assert client.get(f"/api/v1/projects/{world.project.pk}/members/").status_code == 404


# ---------------------------------------------------------------- workspace rows: the workspace roles

WORKSPACE_ACTORS = ("anonymous", "user", "project_owner", "workspace_admin")

# Shared calendars and resources: read by everyone signed in, written only by workspace administrators. A
# project Owner is an ordinary user here: anyone may sign up and own a project. A refused delete of a shared
# calendar says nothing of who uses it (no reference_count).
WORKSPACE_MATRIX = [
    # action                          anonymous user project_owner workspace_admin
    ("shared_calendar.list",          401,      200,  200,          200),
    ("shared_calendar.retrieve",      401,      200,  200,          200),
    ("shared_calendar.create",        401,      403,  403,          201),
    ("shared_calendar.update",        401,      403,  403,          200),
    ("shared_calendar.exceptions",    401,      403,  403,          200),
    ("shared_calendar.delete",        401,      403,  403,          204),
    ("resource.list",                 401,      200,  200,          200),
    ("resource.retrieve",             401,      200,  200,          200),
    ("resource.create",               401,      403,  403,          201),
    ("resource.update",               401,      403,  403,          200),
    ("resource.link_user",            401,      403,  403,          200),
    ("resource.delete",               401,      403,  403,          204),
    ("workspace_role.grant",          401,      403,  403,          200),
]


def _workspace_actor(w: World, name: str):
    return {"anonymous": None, "user": w.people["outsider"], "project_owner": w.owner,
            "workspace_admin": w.keeper}[name]


def _client(actor):
    from rest_framework.test import APIClient

    return APIClient() if actor is None else client_for(actor)


WORKSPACE_ACTIONS: dict[str, Callable] = {
    "shared_calendar.list": (lambda c, w: c.get("/api/v1/calendars/"),
                             lambda w, r: w.calendar.pk in [row["id"] for row in r.json()["results"]]),
    "shared_calendar.retrieve": (lambda c, w: c.get(f"/api/v1/calendars/{w.calendar.pk}/"),
                                 lambda w, r: r.json()["name"] == "Site week"),
    "shared_calendar.create": (lambda c, w: c.post("/api/v1/calendars/", {"name": "Night shift"}, format="json"),
                               lambda w, r: Calendar.objects.filter(name="Night shift", project=None).exists()),
    "shared_calendar.update": (lambda c, w: c.patch(f"/api/v1/calendars/{w.calendar.pk}/", {"working_days": 1},
                                                    format="json"),
                               lambda w, r: Calendar.objects.get(pk=w.calendar.pk).working_days == 1),
    "shared_calendar.exceptions": (
        lambda c, w: c.patch(f"/api/v1/calendars/{w.calendar.pk}/",
                             {"exceptions": [{"exc_start": "2026-01-05", "exc_end": "2026-12-31"}]}, format="json"),
        lambda w, r: CalendarException.objects.filter(calendar=w.calendar).count() == 1),
    "shared_calendar.delete": (lambda c, w: c.delete(f"/api/v1/calendars/{w.calendar.pk}/"),
                               lambda w, r: _gone(Calendar, w.calendar.pk)),
    "resource.list": (lambda c, w: c.get("/api/v1/resources/"),
                      lambda w, r: [row["id"] for row in r.json()["results"]] == [w.crane.pk, w.digger.pk]),
    "resource.retrieve": (lambda c, w: c.get(f"/api/v1/resources/{w.crane.pk}/"),
                          lambda w, r: r.json()["name"] == "Crane"),
    "resource.create": (lambda c, w: c.post("/api/v1/resources/", {"name": "Forklift"}, format="json"),
                        lambda w, r: Resource.objects.filter(name="Forklift").exists()),
    "resource.update": (lambda c, w: c.patch(f"/api/v1/resources/{w.crane.pk}/", {"max_units": "2.00"},
                                             format="json"),
                        lambda w, r: Resource.objects.get(pk=w.crane.pk).max_units == Decimal("2.00")),
    "resource.link_user": (lambda c, w: c.patch(f"/api/v1/resources/{w.crane.pk}/",
                                                {"user": w.people["member"].pk}, format="json"),
                           lambda w, r: Resource.objects.get(pk=w.crane.pk).user_id == w.people["member"].pk),
    "resource.delete": (lambda c, w: c.delete(f"/api/v1/resources/{w.crane.pk}/"),
                        lambda w, r: _gone(Resource, w.crane.pk) and _gone(Assignment, w.booking.pk)),
    "workspace_role.grant": (lambda c, w: c.put(f"/api/v1/users/{w.people['viewer'].pk}/workspace-role/",
                                                {"workspace_role": 300}, format="json"),
                             lambda w, r: type(w.owner).objects.get(pk=w.people["viewer"].pk).is_workspace_admin),
}

WORKSPACE_CASES = [
    pytest.param(action, actor, expected, id=f"{action}-{actor}")
    for action, *cells in WORKSPACE_MATRIX
    for actor, expected in zip(WORKSPACE_ACTORS, cells)
]


def test_workspace_matrix_covers_every_action_once():
    names = [row[0] for row in WORKSPACE_MATRIX]
    assert len(names) == len(set(names)) and set(names) == set(WORKSPACE_ACTIONS)


@pytest.mark.parametrize(("action", "actor_name", "expected"), WORKSPACE_CASES)
def test_workspace_matrix(world, action, actor_name, expected):
    call, effect = WORKSPACE_ACTIONS[action]
    before = db_state()

    response = call(_client(_workspace_actor(world, actor_name)), world)

    assert response.status_code == expected, (response.status_code, response.content[:300])
    if 200 <= expected < 300:
        assert effect(world, response), "the allowed request did not have its effect"
        return
    assert db_state() == before, "a refused request changed the database"
    if expected == 403:
        body = response.json()
        assert body.get("code") == "permission_denied", body
        assert "reference_count" not in body
