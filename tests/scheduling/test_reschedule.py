"""Every write that can move dates reschedules its project before it commits; what is stored always equals a
fresh computation. The project starts on Monday 5 January 2026 (``conftest.make_project``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keelplan.calendars.services import calendar_create, calendar_update
from keelplan.core.errors import CyclicDependency, InvalidInput
from keelplan.core.transactions import write_transaction
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import (
    dependency_create, dependency_delete, dependency_update, task_create, task_delete, task_restore, task_update,
)
from keelplan.portfolio.models import Project
from keelplan.portfolio.services import project_update
from keelplan.scheduling.inputs import input_cache
from keelplan.scheduling.models import ProjectSchedule
from keelplan.scheduling.selectors import computed_fields
from keelplan.scheduling.store import computed_cache
from keelplan.changelog.models import ChangeEvent

D = dt.date


def dates(task) -> tuple:
    values = computed_fields(task.project_id, [task.pk])[task.pk]
    return values["early_start"], values["early_finish"]


def schedule_of(project) -> ProjectSchedule:
    return ProjectSchedule.objects.get(project=project)


def schedule_events(project) -> list[ChangeEvent]:
    return list(ChangeEvent.objects.filter(stream__project=project, entity="schedule").order_by("seq"))


@pytest.fixture
def chain(owner, project):
    """A (3 days) -FS-> B (2 days)."""
    a = task_create(actor=owner, project=project, name="A", duration=3)
    b = task_create(actor=owner, project=project, name="B", duration=2)
    link = dependency_create(actor=owner, predecessor=a, successor=b, dep_type="FS", lag=0, lag_unit="wd")
    return a, b, link


def test_a_new_task_gets_its_dates_in_the_same_transaction(owner, project):
    task = task_create(actor=owner, project=project, name="Survey", duration=3)
    assert computed_fields(project.pk, [task.pk])[task.pk] == {
        "early_start": D(2026, 1, 5), "early_finish": D(2026, 1, 7), "late_start": D(2026, 1, 5),
        "late_finish": D(2026, 1, 7), "total_float": 0, "free_float": 0, "is_critical": True,
    }
    assert WorkItem.objects.get(pk=task.pk).is_critical is True
    assert Project.objects.get(pk=project.pk).finish_date == D(2026, 1, 7)
    row = schedule_of(project)
    assert (row.project_finish, row.critical_path, row.task_count, row.critical_count) == (D(2026, 1, 7),
                                                                                           [task.pk], 1, 1)


def test_lengthening_a_predecessor_moves_its_successor(owner, chain):
    a, b, _ = chain
    assert dates(b) == (D(2026, 1, 8), D(2026, 1, 9))
    task_update(actor=owner, task=a, duration=5)
    assert dates(a) == (D(2026, 1, 5), D(2026, 1, 9))
    assert dates(b) == (D(2026, 1, 12), D(2026, 1, 13))  # over the weekend


def test_the_schedule_event_names_the_tasks_that_moved(owner, project, chain):
    a, b, _ = chain
    other = task_create(actor=owner, project=project, name="Elsewhere", duration=20)
    before = schedule_events(project)[-1].seq
    task_update(actor=owner, task=a, duration=4)
    (event,) = [e for e in schedule_events(project) if e.seq > before]
    moved = {t for first, last in event.changes["work_items"] for t in range(first, last + 1)}
    # A and B moved; the long task's dates did not, but its floats did not either (it sets the finish).
    assert moved == {a.pk, b.pk}
    assert other.pk not in moved
    assert "early_finish" in event.changes["fields"]


def test_deleting_a_link_frees_the_successor(owner, chain):
    _, b, link = chain
    dependency_delete(actor=owner, dependency=link)
    assert dates(b) == (D(2026, 1, 5), D(2026, 1, 6))


def test_changing_a_link_reschedules(owner, chain):
    _, b, link = chain
    dependency_update(actor=owner, dependency=link, lag=2, lag_unit="wd")
    assert dates(b) == (D(2026, 1, 12), D(2026, 1, 13))
    dependency_update(actor=owner, dependency=link, dep_type="SS", lag=0)
    assert dates(b) == (D(2026, 1, 5), D(2026, 1, 6))


def test_deleting_and_restoring_a_task_moves_its_successor_back_and_forth(owner, chain):
    a, b, _ = chain
    task_delete(actor=owner, task=a)
    assert dates(b) == (D(2026, 1, 5), D(2026, 1, 6))
    assert a.pk not in computed_fields(a.project_id, [a.pk])
    task_restore(actor=owner, task_id=a.pk)
    assert dates(b) == (D(2026, 1, 8), D(2026, 1, 9))


def test_a_summary_rolls_up_and_a_link_to_it_drives_its_children(owner, project):
    phase = task_create(actor=owner, project=project, name="Phase")
    first = task_create(actor=owner, project=project, name="First", duration=2, parent=phase)
    second = task_create(actor=owner, project=project, name="Second", duration=4, parent=phase)
    before = task_create(actor=owner, project=project, name="Before", duration=1)
    dependency_create(actor=owner, predecessor=before, successor=phase, lag=0, lag_unit="wd")
    assert dates(first) == (D(2026, 1, 6), D(2026, 1, 7))
    assert dates(second) == (D(2026, 1, 6), D(2026, 1, 9))
    assert dates(phase) == (D(2026, 1, 6), D(2026, 1, 9))
    task_update(actor=owner, task=second, parent=None)
    assert dates(phase) == (D(2026, 1, 6), D(2026, 1, 7))
    assert dates(second) == (D(2026, 1, 5), D(2026, 1, 8))


def test_a_new_project_start_moves_everything(owner, project, chain):
    a, b, _ = chain
    project_update(actor=owner, project=project, start_date=D(2026, 2, 2))
    assert dates(a) == (D(2026, 2, 2), D(2026, 2, 4))
    assert dates(b) == (D(2026, 2, 5), D(2026, 2, 6))


def test_a_holiday_added_to_the_project_calendar_moves_its_tasks(owner, project, chain):
    a, b, _ = chain
    calendar = calendar_create(actor=owner, name="Site")
    project_update(actor=owner, project=project, calendar=calendar)
    assert dates(a) == (D(2026, 1, 5), D(2026, 1, 7))
    calendar_update(actor=owner, calendar=calendar,
                    exceptions=[{"start": D(2026, 1, 6), "end": D(2026, 1, 6), "description": "Strike"}])
    assert dates(a) == (D(2026, 1, 5), D(2026, 1, 8))
    assert dates(b) == (D(2026, 1, 9), D(2026, 1, 12))


def test_a_task_calendar_change_reaches_only_projects_using_it(owner, project):
    calendar = calendar_create(actor=owner, name="Seven days", working_days=0b1111111)
    task = task_create(actor=owner, project=project, name="Pour", duration=7, calendar=calendar)
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 11))
    calendar_update(actor=owner, calendar=calendar, working_days=0b0111111)  # Sundays off
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 12))


def test_a_request_that_writes_many_rows_reschedules_once(owner, project):
    version = schedule_of(project).version
    events = len(schedule_events(project))
    with write_transaction():
        tasks = [task_create(actor=owner, project=project, name=f"T{i}", duration=1 + i % 3) for i in range(20)]
        for left, right in zip(tasks, tasks[1:], strict=False):
            dependency_create(actor=owner, predecessor=left, successor=right, lag=0, lag_unit="wd")
    assert len(schedule_events(project)) == events + 1
    assert schedule_of(project).version == version + 1
    # 39 working days chained from Monday 5 January: 7 weeks and 4 days, the last on Thursday 26 February
    assert dates(tasks[-1])[1] == D(2026, 2, 26)


def test_an_edit_that_moves_no_date_logs_no_computation(owner, project, chain):
    a, _, _ = chain
    version, events = schedule_of(project).version, len(schedule_events(project))
    task_update(actor=owner, task=a, name="Renamed", description="No date moves")
    assert (schedule_of(project).version, len(schedule_events(project))) == (version, events)


def test_a_cycle_is_refused_and_nothing_changes(owner, project, chain):
    a, b, _ = chain
    row, last = schedule_of(project), ChangeEvent.objects.count()
    with pytest.raises(CyclicDependency):
        dependency_create(actor=owner, predecessor=b, successor=a)
    assert ChangeEvent.objects.count() == last
    assert schedule_of(project).version == row.version
    assert dates(b) == (D(2026, 1, 8), D(2026, 1, 9))


def test_a_write_the_engine_cannot_schedule_is_refused_and_rolled_back(owner, project, chain):
    a, b, _ = chain
    row, last = schedule_of(project), ChangeEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        # Three working days from Thursday 30 December 9999 would end in the year 10000.
        task_update(actor=owner, task=a, constraint_type="MSO", constraint_date=D(9999, 12, 30))
    assert caught.value.code == "date_out_of_range"
    assert WorkItem.objects.get(pk=a.pk).constraint_type == "ASAP"
    assert ChangeEvent.objects.count() == last
    assert schedule_of(project).version == row.version


def test_negative_float_is_counted_as_late(owner, project, chain):
    a, b, _ = chain
    # B must finish by Tuesday the 6th; the constraint holds, so A (finishing the 7th) is three days late.
    task_update(actor=owner, task=b, constraint_type="FNLT", constraint_date=D(2026, 1, 6))
    assert schedule_of(project).late_count == 1
    assert computed_fields(project.pk, [a.pk])[a.pk]["total_float"] == -3


# ---------------------------------------------------------------- driving links


@pytest.fixture
def fork(owner, project):
    """A (2 d) -> B (2 d) -> D (1 d) and A -> C (4 d) -> D, all FS: C -> D drives D, B -> D does not."""
    t = {name: task_create(actor=owner, project=project, name=name, duration=days)
         for name, days in (("A", 2), ("B", 2), ("C", 4), ("D", 1))}
    links = {(p, s): dependency_create(actor=owner, predecessor=t[p], successor=t[s], lag=0, lag_unit="wd")
             for p, s in (("A", "B"), ("A", "C"), ("B", "D"), ("C", "D"))}
    return t, links


def driving(project) -> dict[int, bool]:
    return dict(Dependency.objects.filter(project=project).values_list("id", "is_driving"))


def flag_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "is_driving" in q["sql"]]


def test_each_link_is_driving_when_it_sets_its_successors_early_start(owner, project, fork):
    _, links = fork
    assert driving(project) == {links["A", "B"].pk: True, links["A", "C"].pk: True, links["B", "D"].pk: False,
                                links["C", "D"].pk: True}


def test_flags_are_written_only_where_they_flip_and_the_schedule_event_names_those_links(owner, project, fork):
    t, links = fork
    before = schedule_events(project)[-1].seq
    with CaptureQueriesContext(connection) as queries:
        task_update(actor=owner, task=t["C"], duration=5)   # C still the later branch: no flag moves
    assert flag_updates(queries.captured_queries) == []
    (event,) = [e for e in schedule_events(project) if e.seq > before]
    assert event.changes["dependencies"] == [] and "is_driving" not in event.changes["fields"]

    with CaptureQueriesContext(connection) as queries:
        task_update(actor=owner, task=t["B"], duration=8)   # B now ends after C
    # One UPDATE per value, each naming only the flipped link.
    updates = flag_updates(queries.captured_queries)
    assert len(updates) == 2
    assert driving(project)[links["B", "D"].pk] is True and driving(project)[links["C", "D"].pk] is False
    event = schedule_events(project)[-1]
    named = {i for first, last in event.changes["dependencies"] for i in range(first, last + 1)}
    assert named == {links["B", "D"].pk, links["C", "D"].pk}
    assert "is_driving" in event.changes["fields"]


def test_a_flag_that_flips_alone_is_a_new_schedule_version_and_event(owner, project):
    a = task_create(actor=owner, project=project, name="A", duration=3)
    d = task_create(actor=owner, project=project, name="D", duration=1)
    fs = dependency_create(actor=owner, predecessor=a, successor=d, dep_type="FS", lag=0, lag_unit="wd")
    # Three working days after A's start is the day after its finish: both links set D's start.
    ss = dependency_create(actor=owner, predecessor=a, successor=d, dep_type="SS", lag=3, lag_unit="wd")
    assert driving(project) == {fs.pk: True, ss.pk: True}
    version, seq = schedule_of(project).version, schedule_events(project)[-1].seq
    dependency_update(actor=owner, dependency=ss, lag=2)   # no date or float moves; only SS stops driving
    assert driving(project) == {fs.pk: True, ss.pk: False}
    (event,) = [e for e in schedule_events(project) if e.seq > seq]
    assert (event.changes["work_items"], event.changes["dependencies"]) == ([], [[ss.pk, ss.pk]])
    assert event.changes["fields"] == ["is_driving"]
    assert schedule_of(project).version == version + 1


def test_a_process_that_missed_a_flip_catches_up_from_the_schedule_event(owner, project, fork,
                                                                         django_capture_on_commit_callbacks):
    t, links = fork
    with django_capture_on_commit_callbacks(execute=True):
        task_update(actor=owner, task=t["D"], name="D")   # fills this process's caches
        task_update(actor=owner, task=t["A"], duration=3)
    stale = input_cache.get(project.pk)
    with django_capture_on_commit_callbacks(execute=True):
        task_update(actor=owner, task=t["B"], duration=8)   # "another process" flips B -> D and C -> D
    input_cache.put(project.pk, stale)
    computed_cache.drop(project.pk)
    with django_capture_on_commit_callbacks(execute=True):
        task_update(actor=owner, task=t["B"], duration=2)   # and this one must flip them back
    assert driving(project) == {links["A", "B"].pk: True, links["A", "C"].pk: True, links["B", "D"].pk: False,
                                links["C", "D"].pk: True}
    assert input_cache.get(project.pk).driving.tolist() == [True, True, False, True]


def test_a_restored_task_brings_its_links_back_with_the_flags_the_engine_gives(owner, project, fork):
    t, links = fork
    task_delete(actor=owner, task=t["C"])   # C -> D goes with it; B -> D now drives
    assert driving(project) == {links["A", "B"].pk: True, links["B", "D"].pk: True}
    task_update(actor=owner, task=t["B"], duration=1)
    task_restore(actor=owner, task_id=t["C"].pk)
    assert driving(project) == {links["A", "B"].pk: True, links["A", "C"].pk: True, links["B", "D"].pk: False,
                                links["C", "D"].pk: True}


def test_the_stored_critical_path_is_rewritten_only_when_it_changes(owner, project, chain):
    a, b, _ = chain
    c = task_create(actor=owner, project=project, name="C", duration=1)   # beside the chain, with float

    def path_writes(queries):
        return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "critical_path" in q["sql"]]

    with CaptureQueriesContext(connection) as queries:
        task_update(actor=owner, task=c, duration=2)   # C's dates move; the critical tasks stay A, B
    assert path_writes(queries.captured_queries) == []
    assert schedule_of(project).critical_path == [a.pk, b.pk]
    with CaptureQueriesContext(connection) as queries:
        task_update(actor=owner, task=c, duration=5)   # C now ties with the chain: it joins the path
    assert len(path_writes(queries.captured_queries)) == 1
    assert schedule_of(project).critical_path == [a.pk, c.pk, b.pk]
