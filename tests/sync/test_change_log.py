"""The change log: every service write appends ChangeEvents in its own transaction, numbered without gaps per
stream (one per project, one for the workspace), each carrying ``[old, new]`` per changed field."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.calendars.models import Calendar
from keelplan.calendars.services import calendar_create, calendar_update
from keelplan.core.errors import Conflict, CyclicDependency, InvalidInput, PermissionDenied
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import dependency_create, dependency_update, task_create, task_delete, task_update
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.portfolio.services import (
    membership_add, membership_change_role, membership_remove, project_delete, project_update,
)
from keelplan.resources.models import Assignment, Resource
from keelplan.resources.services import assignment_create, assignment_update, resource_create, resource_delete
from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.changelog.services import WORKSPACE_STREAM

from conftest import make_project, make_user

pytestmark = pytest.mark.django_db

TABLES = (Project, Membership, WorkItem, Dependency, Assignment, Resource, Calendar, ChangeStream, ChangeEvent)




def stream_of(project) -> list[ChangeEvent]:
    return list(ChangeEvent.objects.filter(stream__project=project).order_by("seq"))


def row_events(project) -> list[ChangeEvent]:
    """The project's events less the scheduler's (one ``schedule`` event per computation that changed dates)."""
    return [e for e in stream_of(project) if e.entity != "schedule"]


def workspace_events() -> list[ChangeEvent]:
    return list(ChangeEvent.objects.filter(stream__key=WORKSPACE_STREAM).order_by("seq"))


def row_counts() -> dict:
    return {model.__name__: model._base_manager.count() for model in TABLES}


def test_each_write_appends_its_events_in_a_gap_free_sequence(owner):
    project = make_project(owner)
    viewer = make_user()
    steps = [
        (lambda: membership_add(actor=owner, project=project, user=viewer, role=Role.VIEWER), ["membership"]),
        # A new task gets dates: the scheduler logs one event after the task's own.
        (lambda: task_create(actor=owner, project=project, name="A"), ["work_item", "schedule"]),
        (lambda: task_create(actor=owner, project=project, name="B"), ["work_item", "schedule"]),
        # A new name moves no date: no computation is logged.
        (lambda: project_update(actor=owner, project=project, name="Apollo 2"), ["project"]),
    ]
    # project_create: the project and its Owner's membership (an empty project has no dates to log)
    expected = ["project", "membership"]
    assert [e.entity for e in stream_of(project)] == expected
    for write, entities in steps:
        write()
        expected += entities
        assert [e.entity for e in stream_of(project)] == expected
    a, b = WorkItem.objects.order_by("id")
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    crane = resource_create(actor=owner, name="Crane")
    booking = assignment_create(actor=owner, work_item=a, resource=crane)
    task_update(actor=owner, task=b, duration=3)
    dependency_update(actor=owner, dependency=link, lag=2)
    assignment_update(actor=owner, assignment=booking, units="0.5")
    membership_change_role(actor=owner, membership=Membership.objects.get(user=viewer), role=Role.MEMBER)
    membership_remove(actor=owner, membership=Membership.objects.get(user=viewer))
    task_delete(actor=owner, task=a)  # its link, its assignment, then the task itself
    expected += ["dependency", "schedule", "assignment", "work_item", "schedule", "dependency", "schedule",
                 "assignment", "membership", "membership", "dependency", "assignment", "work_item", "schedule"]

    events = stream_of(project)
    assert [e.entity for e in events] == expected
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert ChangeStream.objects.get(project=project).last_seq == len(events)
    assert all(e.actor_id == owner.pk for e in events)


def test_each_project_has_its_own_sequence(owner):
    apollo, gemini = make_project(owner, name="Apollo"), make_project(owner, name="Gemini")
    for n in range(3):
        task_create(actor=owner, project=apollo, name=f"A{n}")
    task_create(actor=owner, project=gemini, name="G")
    # project, membership, then each task with the computation it caused
    assert [e.seq for e in stream_of(apollo)] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [e.seq for e in stream_of(gemini)] == [1, 2, 3, 4]


def test_calendars_and_resources_use_the_workspace_stream(project, owner):
    before = len(stream_of(project))
    calendar = calendar_create(actor=owner, name="Week", exceptions=[
        {"start": dt.date(2026, 12, 25), "end": dt.date(2026, 12, 26), "description": "Christmas"},
    ])
    calendar_update(actor=owner, calendar=calendar, working_days=63)
    crane = resource_create(actor=owner, name="Crane")

    assert len(stream_of(project)) == before
    events = workspace_events()
    assert [(e.entity, e.action) for e in events] == [
        ("calendar", "created"), ("calendar_exception", "created"), ("calendar", "updated"),
        ("resource", "created"),
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[-1].entity_id == crane.pk
    assert ChangeStream.objects.get(key=WORKSPACE_STREAM).project_id is None


def test_deleting_a_resource_logs_to_both_streams(project, owner):
    crane = resource_create(actor=owner, name="Crane")
    work = task_create(actor=owner, project=project, name="Lift")
    booking = assignment_create(actor=owner, work_item=work, resource=crane)
    resource_delete(actor=owner, resource=crane)
    assert (workspace_events()[-1].entity, workspace_events()[-1].action) == ("resource", "deleted")
    last = stream_of(project)[-1]
    assert (last.entity, last.entity_id, last.action) == ("assignment", booking.pk, "deleted")


def test_changes_carry_old_and_new_values(project, owner, members):
    work = task_create(actor=owner, project=project, name="Dig", duration=2)
    created = row_events(project)[-1]
    assert created.action == "created"
    assert created.changes["name"] == [None, "Dig"]
    assert created.changes["duration"] == [None, 2]
    assert created.changes["status"][0] is None and isinstance(created.changes["status"][1], int)

    task_update(actor=owner, task=work, name="Dig deeper", assignee=members["member"],
                deadline=dt.date(2026, 3, 1), percent_complete=12.5, duration=2)
    updated = row_events(project)[-1]
    assert updated.action == "updated"
    assert updated.changes == {
        "name": ["Dig", "Dig deeper"],
        "assignee": [None, members["member"].pk],
        "deadline": [None, "2026-03-01"],
        "percent_complete": ["0.00", "12.50"],
    }


def test_a_role_change_logs_the_role_pair(members, project, owner):
    membership = Membership.objects.get(project=project, user=members["viewer"])
    membership_change_role(actor=owner, membership=membership, role=Role.SCHEDULER)
    event = stream_of(project)[-1]
    assert (event.entity, event.entity_id, event.action) == ("membership", membership.pk, "updated")
    assert event.changes == {"role": [Role.VIEWER, Role.SCHEDULER]}


def test_a_delete_is_a_tombstone_event(project, owner):
    work = task_create(actor=owner, project=project, name="Dig")
    task_delete(actor=owner, task=work)
    event = row_events(project)[-1]
    assert (event.entity, event.entity_id, event.action, event.changes) == ("work_item", work.pk, "deleted", {})


def test_deleting_the_project_is_its_last_event(project, owner):
    project_delete(actor=owner, project=project)
    event = stream_of(project)[-1]
    assert (event.entity, event.entity_id, event.action) == ("project", project.pk, "deleted")


# ---------------------------------------------------------------- refused writes leave nothing behind

def _refusals(owner, project, members):
    a = task_create(actor=owner, project=project, name="A")
    b = task_create(actor=owner, project=project, name="B")
    dependency_create(actor=owner, predecessor=a, successor=b)
    return {
        "invalid task": (InvalidInput, lambda: task_create(actor=owner, project=project, name="C", duration=-3)),
        "task by a viewer": (PermissionDenied, lambda: task_create(actor=members["viewer"], project=project,
                                                                     name="C")),
        "cyclic link": (CyclicDependency, lambda: dependency_create(actor=owner, predecessor=b, successor=a)),
        "duplicate link": (Conflict, lambda: dependency_create(actor=owner, predecessor=a, successor=b)),
        "duplicate member": (Conflict, lambda: membership_add(actor=owner, project=project,
                                                              user=members["viewer"])),
        "last owner leaving": (InvalidInput, lambda: membership_remove(
            actor=owner, membership=Membership.objects.get(project=project, user=owner))),
        "duplicate identifier": (Conflict, lambda: make_project(owner, name="Other",
                                                                identifier=project.identifier)),
        "bad calendar": (InvalidInput, lambda: calendar_create(actor=owner, name="Bad", exceptions=[
            {"start": dt.date(2026, 1, 2), "end": dt.date(2026, 1, 1)}])),
        "resource e-mail": (InvalidInput, lambda: resource_create(actor=owner, name="Crane", email="no-at-sign")),
        "resource by a member": (PermissionDenied, lambda: resource_create(actor=members["member"], name="Crane")),
    }


@pytest.mark.parametrize("case", [
    "invalid task", "task by a viewer", "cyclic link", "duplicate link", "duplicate member", "last owner leaving",
    "duplicate identifier", "bad calendar", "resource e-mail", "resource by a member",
])
def test_a_refused_write_leaves_no_events_and_no_rows(project, owner, members, case):
    error, write = _refusals(owner, project, members)[case]
    before = row_counts()
    seqs = dict(ChangeStream.objects.values_list("key", "last_seq"))
    with pytest.raises(error):
        write()
    assert row_counts() == before
    assert dict(ChangeStream.objects.values_list("key", "last_seq")) == seqs


def test_the_row_and_its_event_commit_together(project, owner, monkeypatch):
    """If logging fails after the row was saved, the row goes too: both live in one transaction."""
    def broken(**kwargs):
        raise RuntimeError("log unavailable")

    monkeypatch.setattr("keelplan.planning.services.change_record", broken)
    before = row_counts()
    with pytest.raises(RuntimeError):
        task_create(actor=owner, project=project, name="Ghost")
    assert row_counts() == before
    assert not WorkItem.all_objects.filter(name="Ghost").exists()
