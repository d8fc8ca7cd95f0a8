"""``sync_pull`` and the sync points under it: which ids a pull lists, a page at a time, from which part of the
change log, and which timestamps it refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.db import transaction
from django.utils import timezone

from keelplan.calendars.models import CalendarException
from keelplan.calendars.services import calendar_create, calendar_delete, calendar_update
from keelplan.core.errors import InvalidInput, NotFound
from keelplan.planning.services import (
    dependency_create, dependency_delete, dependency_update, task_create, task_delete, task_restore, task_update,
)
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add, membership_remove, project_update
from keelplan.resources.services import (
    assignment_create, assignment_delete, assignment_update, resource_create, resource_delete, resource_update,
)
from keelplan.changelog.models import ChangeAction, ChangeEvent, ChangeStream
from keelplan.sync.selectors import COLLECTION_NAMES, PAGE_SIZE_MAX, Cursor, _first_in_runs, sync_pull
from keelplan.changelog.services import Change, change_record, WORKSPACE_STREAM
from keelplan.sync.services import SyncPoint, sync_point_resolve, sync_point_take

from conftest import make_project, make_user

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- helpers

def pages_of(actor, project, *, since=0, page_size=1000) -> list:
    """Every page of one pull."""
    pages = [sync_pull(actor=actor, project=project, since=since, page_size=page_size)]
    while pages[-1].next_cursor:
        pages.append(sync_pull(actor=actor, project=project, cursor=pages[-1].next_cursor, page_size=page_size))
    return pages


def listed(pages, key="rows") -> list[tuple[str, int]]:
    """(collection, id) of the live rows (``rows``) or deleted ids (``deleted``) the pages list, in order."""
    out = []
    for page in pages:
        for name in COLLECTION_NAMES:
            part = page.collections[name]
            pks = list(part.rows.values_list("pk", flat=True)) if key == "rows" else part.deleted
            out.extend((name, pk) for pk in pks)
    return out


def delta(actor, project, since) -> dict[str, tuple[list[int], list[int]]]:
    """A one-page delta: collection -> (live ids, deleted ids), only the collections that list something."""
    [page] = pages_of(actor, project, since=since)
    out = {}
    for name in COLLECTION_NAMES:
        part = page.collections[name]
        rows = list(part.rows.values_list("pk", flat=True))
        if rows or part.deleted:
            out[name] = (rows, part.deleted)
    return out


def now_at(actor, project) -> int:
    """A fresh pull's timestamp."""
    return sync_pull(actor=actor, project=project).timestamp


def stream_seq(project) -> int:
    return ChangeStream.objects.get(project=project).last_seq


def workspace_seq() -> int:
    return ChangeStream.objects.get(key=WORKSPACE_STREAM).last_seq


def age(days, **filters) -> int:
    return ChangeEvent.objects.filter(**filters).update(created_at=timezone.now() - dt.timedelta(days=days))


# ---------------------------------------------------------------- what a delta lists

def _writes(owner, project):
    """For each collection, a write made after the first pull and the (live ids, deleted ids) it must list."""
    a = task_create(actor=owner, project=project, name="A", duration=1)
    b = task_create(actor=owner, project=project, name="B", duration=1)
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    crane = resource_create(actor=owner, name="Crane")
    booking = assignment_create(actor=owner, work_item=a, resource=crane)
    site = calendar_create(actor=owner, name="Site")
    helper = make_user()
    return {
        "projects": (lambda: project_update(actor=owner, project=project, name="Renamed"), ([project.pk], [])),
        "tasks": (lambda: task_update(actor=owner, task=b, name="B2"), ([b.pk], [])),
        "dependencies": (lambda: dependency_update(actor=owner, dependency=link, description="Why"),
                         ([link.pk], [])),
        "calendars": (lambda: calendar_update(actor=owner, calendar=site, name="Site 2"), ([site.pk], [])),
        "memberships": (lambda: membership_add(actor=owner, project=project, user=helper, role=Role.VIEWER),
                        None),
        "resources": (lambda: resource_update(actor=owner, resource=crane, job_role="Lifting"), ([crane.pk], [])),
        "task_resources": (lambda: assignment_update(actor=owner, assignment=booking, units="0.50"),
                           ([booking.pk], [])),
    }


@pytest.mark.parametrize("collection", COLLECTION_NAMES)
def test_a_write_to_one_collection_is_listed_in_that_collection_alone(owner, project, collection):
    write, expected = _writes(owner, project)[collection]
    since = now_at(owner, project)
    result = write()
    if expected is None:  # the new membership's id is known only now
        expected = ([result.pk], [])
    listed = {collection: expected}
    if collection == "memberships":  # the project row carries the puller's role, so it is listed with them
        listed["projects"] = ([project.pk], [])
    assert delta(owner, project, since) == listed


@pytest.mark.parametrize("collection", ["dependencies", "memberships", "task_resources", "calendars", "resources"])
def test_a_deleted_row_is_listed_by_id_in_its_collection(owner, project, collection):
    a = task_create(actor=owner, project=project, name="A", duration=1)
    b = task_create(actor=owner, project=project, name="B", duration=1)
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    member = membership_add(actor=owner, project=project, user=make_user(), role=Role.VIEWER)
    crane = resource_create(actor=owner, name="Crane")
    booking = assignment_create(actor=owner, work_item=a, resource=crane)
    site = calendar_create(actor=owner, name="Site")
    deletes = {
        "dependencies": (lambda: dependency_delete(actor=owner, dependency=link), link.pk),
        "memberships": (lambda: membership_remove(actor=owner, membership=member), member.pk),
        "task_resources": (lambda: assignment_delete(actor=owner, assignment=booking), booking.pk),
        "calendars": (lambda: calendar_delete(actor=owner, calendar=site), site.pk),
        "resources": (lambda: resource_delete(actor=owner, resource=crane), crane.pk),
    }
    since = now_at(owner, project)
    write, pk = deletes[collection]
    write()
    changed = delta(owner, project, since)
    assert changed[collection] == ([], [pk])
    if collection == "resources":  # its assignments go with it, logged in the project's stream
        assert changed["task_resources"] == ([], [booking.pk])


def test_a_delta_lists_nothing_of_another_projects_changes(owner, project):
    since = now_at(owner, project)
    other = make_project(owner, name="Other")
    task_create(actor=owner, project=other, name="Elsewhere")
    assert delta(owner, project, since) == {}


def test_a_task_deleted_and_restored_since_the_last_pull_is_listed_live(owner, project):
    a = task_create(actor=owner, project=project, name="A", duration=1)
    since = now_at(owner, project)
    task_delete(actor=owner, task=a)
    assert delta(owner, project, since)["tasks"] == ([], [a.pk])
    task_restore(actor=owner, task_id=a.pk)
    assert delta(owner, project, since)["tasks"] == ([a.pk], [])


def test_an_exception_logged_without_its_calendar_still_lists_the_calendar(owner, project):
    site = calendar_create(actor=owner, name="Site", exceptions=[{"start": dt.date(2026, 5, 1)}])
    other = calendar_create(actor=owner, name="Other")
    since = now_at(owner, project)
    [exception] = CalendarException.objects.filter(calendar=site)
    with transaction.atomic():
        change_record(project=None, actor=owner, changes=[
            Change("calendar_exception", exception.pk, ChangeAction.UPDATED, {"description": ["", "May Day"]})])

    assert delta(owner, project, since) == {"calendars": ([site.pk], [])}
    assert other.pk not in delta(owner, project, since)["calendars"][0]


# ---------------------------------------------------------------- paging

def test_each_page_holds_page_size_ids_counting_deletions_and_continues_where_the_last_stopped(owner, project):
    tasks = [task_create(actor=owner, project=project, name=f"T{n}", duration=1) for n in range(7)]
    since = now_at(owner, project)
    for task in tasks[::2]:
        task_update(actor=owner, task=task, name=f"{task.name}!")
    for task in tasks[1::2]:
        task_delete(actor=owner, task=task)

    pages = pages_of(owner, project, since=since, page_size=3)

    sizes = [len(listed([p])) + len(listed([p], "deleted")) for p in pages]
    assert sizes == [3, 3, 2]
    # The deletions rescheduled the project, so its row (scheduled_at) comes first.
    assert listed(pages) == [("projects", project.pk)] + [("tasks", t.pk) for t in tasks[::2]]
    assert listed(pages, "deleted") == [("tasks", t.pk) for t in tasks[1::2]]
    assert len({p.timestamp for p in pages}) == 1
    assert [p.next_cursor is None for p in pages] == [False, False, True]


def test_a_cursor_pins_the_range_so_a_later_write_is_not_in_this_pull(owner, project):
    tasks = [task_create(actor=owner, project=project, name=f"T{n}", duration=1) for n in range(3)]
    since = now_at(owner, project)
    for task in tasks[:2]:
        task_update(actor=owner, task=task, name=f"{task.name}!")
    first = sync_pull(actor=owner, project=project, since=since, page_size=1)
    task_update(actor=owner, task=tasks[2], name="Written after the pull started")

    second = sync_pull(actor=owner, project=project, cursor=first.next_cursor, page_size=1)

    assert listed([first, second]) == [("tasks", tasks[0].pk), ("tasks", tasks[1].pk)]
    assert second.next_cursor is None and second.timestamp == first.timestamp
    assert delta(owner, project, first.timestamp)["tasks"] == ([tasks[2].pk], [])


def test_a_page_size_outside_1_to_the_maximum_is_refused(owner, project):
    for size in (0, PAGE_SIZE_MAX + 1):
        with pytest.raises(InvalidInput) as caught:
            sync_pull(actor=owner, project=project, page_size=size)
        assert caught.value.field == "page_size"
    assert sync_pull(actor=owner, project=project, page_size=PAGE_SIZE_MAX).next_cursor is None


def test_a_non_member_cannot_pull(project, outsider):
    with pytest.raises(NotFound):
        sync_pull(actor=outsider, project=project)


# ---------------------------------------------------------------- cursors

def test_a_cursor_names_the_pull_and_the_next_row(owner, project):
    cursor = Cursor(project.pk, SyncPoint(4, 1), SyncPoint(9, 2), index=1, after=17)
    assert Cursor.decode(cursor.encode(), project) == cursor


@pytest.mark.parametrize("values", [
    "not a list", [1, 2, 3], ["a", 0, 0, 0, 0, 0, 0], None,
])
def test_a_signed_cursor_of_the_wrong_shape_is_refused(project, values):
    text = signing.dumps(values, salt="keelplan.sync.cursor", compress=True)
    with pytest.raises(InvalidInput) as caught:
        Cursor.decode(text, project)
    assert (caught.value.field, caught.value.code) == ("cursor", "invalid_cursor")


@pytest.mark.parametrize("index", [-1, len(COLLECTION_NAMES)])
def test_a_signed_cursor_naming_no_collection_is_refused(project, index):
    text = signing.dumps([project.pk, 0, 0, 5, 0, index, 0], salt="keelplan.sync.cursor", compress=True)
    with pytest.raises(InvalidInput) as caught:
        Cursor.decode(text, project)
    assert (caught.value.field, caught.value.code) == ("cursor", "invalid_cursor")


def test_a_cursor_signed_for_something_else_is_refused(owner, project):
    text = signing.dumps([project.pk, 0, 0, 5, 0, 1, 0], salt="some.other.salt", compress=True)
    with pytest.raises(InvalidInput) as caught:
        sync_pull(actor=owner, project=project, cursor=text)
    assert caught.value.code == "invalid_cursor"


def test_another_projects_cursor_is_refused(owner, project):
    other = make_project(owner, name="Other")
    text = Cursor(other.pk, SyncPoint(0, 0), SyncPoint(3, 0), index=1, after=0).encode()
    with pytest.raises(InvalidInput) as caught:
        sync_pull(actor=owner, project=project, cursor=text)
    assert (caught.value.field, caught.value.code) == ("cursor", "invalid_cursor")


# ---------------------------------------------------------------- schedule runs

@pytest.mark.parametrize(("runs", "after", "limit", "expected"), [
    ([[1, 3], [5, 6]], 0, 10, [1, 2, 3, 5, 6]),
    ([[1, 3], [5, 6]], 2, 10, [3, 5, 6]),
    ([[1, 3], [5, 6]], 3, 10, [5, 6]),
    ([[1, 3], [5, 6]], 0, 4, [1, 2, 3, 5]),
    ([[5, 6], [1, 3]], 0, 2, [1, 2]),               # runs of several events, in any order
    ([[1, 10], [3, 5], [8, 12]], 0, 100, list(range(1, 13))),  # overlapping runs: each id once
    ([[1, 10], [3, 5], [8, 12]], 9, 2, [10, 11]),
    ([[4, 4], [4, 4]], 0, 5, [4]),
    ([[1, 3]], 3, 5, []),
    ([], 0, 5, []),
])
def test_ids_are_taken_from_runs_in_order_once_each_after_the_cursor(runs, after, limit, expected):
    assert _first_in_runs(runs, after, limit) == expected


def test_tasks_moved_by_the_scheduler_are_listed_once_each_a_page_at_a_time(owner, project):
    task_create(actor=owner, project=project, name="Anchor", duration=60)  # sets the finish; never moves
    first_run = [task_create(actor=owner, project=project, name=f"S{n}", duration=1) for n in range(3)]
    p = task_create(actor=owner, project=project, name="P", duration=2)  # in the middle of a run of its own
    second_run = [task_create(actor=owner, project=project, name=f"S{n}", duration=1) for n in range(3, 5)]
    task_create(actor=owner, project=project, name="Unmoved", duration=1)
    third_run = [task_create(actor=owner, project=project, name=f"S{n}", duration=1) for n in range(5, 7)]
    moved = first_run + second_run + third_run
    for successor in moved:
        dependency_create(actor=owner, predecessor=p, successor=successor, lag=0, lag_unit="wd")
    since = now_at(owner, project)
    task_update(actor=owner, task=p, duration=4)
    [schedule] = ChangeEvent.objects.filter(stream__project=project, seq__gt=since, entity="schedule")
    assert len(schedule.changes["work_items"]) == 2  # [S0 .. S4] with P in it, then [S5, S6]

    for page_size in (1, 2, 3):
        pages = pages_of(owner, project, since=since, page_size=page_size)
        assert listed(pages) == [("projects", project.pk)] + [("tasks", pk) for pk in
                                                              sorted([p.pk] + [t.pk for t in moved])]
        assert all(len(listed([page])) == page_size for page in pages[:-1])


# ---------------------------------------------------------------- sync points

def test_a_pull_writes_nothing_while_the_workspace_stands_still(owner, project):
    task_create(actor=owner, project=project, name="A")
    events = ChangeEvent.objects.count()
    stamps = {sync_pull(actor=owner, project=project).timestamp for _ in range(3)}
    assert stamps == {stream_seq(project)}
    assert ChangeEvent.objects.count() == events


def test_a_pull_after_a_workspace_write_appends_one_mark_pinning_the_workspace_position(owner, project):
    resource_create(actor=owner, name="Crane")
    before = stream_seq(project)

    point = sync_point_take(project)

    assert point == SyncPoint(before + 1, workspace_seq())
    mark = ChangeEvent.objects.get(stream__project=project, seq=before + 1)
    assert (mark.entity, mark.changes, mark.actor_id) == ("sync_mark", {"workspace_seq": workspace_seq()}, None)
    assert sync_point_take(project) == point  # nothing moved since: no second mark


def test_a_timestamp_maps_back_to_the_workspace_position_pinned_when_it_was_given(owner, project):
    resource_create(actor=owner, name="Crane")
    first = sync_point_take(project)
    task_create(actor=owner, project=project, name="A")  # the project moves on; the workspace does not
    between = stream_seq(project)
    calendar_create(actor=owner, name="Site")
    second = sync_point_take(project)

    assert first.workspace_seq < second.workspace_seq == workspace_seq()
    assert sync_point_resolve(project, first.seq) == first
    assert sync_point_resolve(project, between) == SyncPoint(between, first.workspace_seq)
    assert sync_point_resolve(project, second.seq) == second
    assert sync_point_resolve(project, 0) == SyncPoint(0, 0)


def test_a_delta_from_a_timestamp_lists_the_workspace_rows_written_after_it(owner, project):
    crane = resource_create(actor=owner, name="Crane")
    since = now_at(owner, project)
    site = calendar_create(actor=owner, name="Site")
    task = task_create(actor=owner, project=project, name="A")
    digger = resource_create(actor=owner, name="Digger")

    assert delta(owner, project, since) == {
        "projects": ([project.pk], []),  # the first task gave the project a finish
        "tasks": ([task.pk], []), "calendars": ([site.pk], []), "resources": ([digger.pk], []),
    }
    assert crane.pk not in delta(owner, project, since)["resources"][0]


def test_each_project_pins_the_workspace_with_its_own_marks(owner, project):
    other = make_project(owner, name="Other")
    since_here, since_there = now_at(owner, project), now_at(owner, other)
    crane = resource_create(actor=owner, name="Crane")
    assert delta(owner, project, since_here) == {"resources": ([crane.pk], [])}
    assert delta(owner, other, since_there) == {"resources": ([crane.pk], [])}
    assert ChangeEvent.objects.filter(entity="sync_mark").count() == 2


@pytest.mark.parametrize("offset", [1, 1000])
def test_a_timestamp_beyond_the_log_is_unknown(project, offset):
    last = stream_seq(project)
    with pytest.raises(InvalidInput) as caught:
        sync_point_resolve(project, last + offset)
    assert (caught.value.field, caught.value.code) == ("last_pulled_at", "unknown_sync_point")
    assert str(last) in caught.value.message


# ---------------------------------------------------------------- retention

def test_a_timestamp_whose_next_project_change_is_past_the_retention_is_expired(owner, project):
    a = task_create(actor=owner, project=project, name="A")
    since = now_at(owner, project)
    task_delete(actor=owner, task=a)
    age(91, stream__project=project, seq__gt=since)

    with pytest.raises(InvalidInput) as caught:
        sync_point_resolve(project, since)
    assert (caught.value.field, caught.value.code) == ("last_pulled_at", "sync_point_expired")
    assert "last_pulled_at=0" in caught.value.message
    with pytest.raises(InvalidInput):
        sync_pull(actor=owner, project=project, since=since)


def test_only_the_first_change_after_the_timestamp_counts(owner, project):
    a = task_create(actor=owner, project=project, name="A")
    old = now_at(owner, project)
    task_update(actor=owner, task=a, name="A2")
    recent = stream_seq(project)
    task_update(actor=owner, task=a, name="A3")
    age(91, stream__project=project, seq__lte=recent)  # everything up to A2 is old; A3 is fresh

    with pytest.raises(InvalidInput):
        sync_point_resolve(project, old)
    assert sync_point_resolve(project, recent).seq == recent


def test_an_old_workspace_change_after_the_pinned_position_expires_the_timestamp(owner, project):
    crane = resource_create(actor=owner, name="Crane")
    since = now_at(owner, project)
    resource_delete(actor=owner, resource=crane)
    age(91, stream__key=WORKSPACE_STREAM, seq__gt=sync_point_resolve(project, since).workspace_seq)

    with pytest.raises(InvalidInput) as caught:
        sync_point_resolve(project, since)
    assert caught.value.code == "sync_point_expired"


def test_an_old_workspace_change_before_the_pinned_position_does_not(owner, project):
    resource_create(actor=owner, name="Crane")
    since = now_at(owner, project)
    age(400, stream__key=WORKSPACE_STREAM)
    age(400, stream__project=project)
    assert sync_point_resolve(project, since) == SyncPoint(since, workspace_seq())


def test_the_retention_setting_moves_the_cutoff(owner, project, settings):
    a = task_create(actor=owner, project=project, name="A")
    since = now_at(owner, project)
    task_update(actor=owner, task=a, name="A2")
    age(10, stream__project=project, seq__gt=since)

    settings.KEELPLAN_TOMBSTONE_RETENTION_DAYS = 11
    assert sync_point_resolve(project, since).seq == since
    settings.KEELPLAN_TOMBSTONE_RETENTION_DAYS = 9
    with pytest.raises(InvalidInput) as caught:
        sync_point_resolve(project, since)
    assert caught.value.code == "sync_point_expired" and "9-day" in caught.value.message
