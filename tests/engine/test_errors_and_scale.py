"""Input validation, cycles, very long projects and dates out of range."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from keelplan.engine import (
    Calendar,
    CalendarException,
    ConstraintType,
    CyclicDependencyError,
    DateRangeError,
    InvalidInput,
    LagUnit,
    Link,
    LinkType,
    ProjectInput,
    Task,
    UnknownTaskError,
    schedule,
)

from .helpers import MON, D, run


def _raises(exc, build):
    with pytest.raises(exc) as err:
        build()
    return err.value


@pytest.mark.parametrize("build,task,field", [
    (lambda: Task("A", -1), "A", "duration"),
    (lambda: Task("A", 1, constraint="MSO"), "A", "constraint_date"),
    (lambda: Task("A", 1, constraint="FNLT"), "A", "constraint_date"),
    (lambda: Task("A", 1, constraint="SOON"), "A", "constraint"),
    (lambda: Task("A", 1, manual_start=D(2026, 1, 9), manual_finish=D(2026, 1, 8)), "A", "manual_finish"),
    (lambda: Task("A", 1, percent_complete=101), "A", "percent_complete"),
    (lambda: Task("A", 1, percent_complete=-1), "A", "percent_complete"),
    (lambda: Task("A", 1, actual_start=D(2026, 1, 9), actual_finish=D(2026, 1, 8)), "A", "actual_finish"),
    (lambda: Link("A", "B", "XX"), "B", "type"),
    (lambda: Link("A", "B", lag=36526), "B", "lag"),
    (lambda: Link("A", "B", lag=-36526, lag_unit="ed"), "B", "lag"),
    (lambda: Link("A", "B", lag=10001, lag_unit="pct"), "B", "lag"),
    (lambda: Link("A", "B", lag_unit="weeks"), "B", "lag_unit"),
    (lambda: Link("A", "A"), "A", "predecessor"),
    (lambda: ProjectInput(start=MON, tasks=[Task("A"), Task("A")]), "A", "id"),
])
def test_invalid_input_names_task_and_field(build, task, field):
    err = _raises(InvalidInput, build)
    assert (err.task, err.field) == (task, field)
    assert repr(task) in str(err) and field in str(err)


@pytest.mark.parametrize("build,field", [
    (lambda: Task("A", True), "duration"),
    (lambda: Task("A", 2.0), "duration"),
    (lambda: Task("A", 36526), "duration"),
    (lambda: Task("A", 1, constraint=["ASAP"]), "constraint"),
    (lambda: Task("A", 1, constraint="asap"), "constraint"),
    (lambda: Task("A", 1, percent_complete=True), "percent_complete"),
    (lambda: Task("A", 1, percent_complete=float("nan")), "percent_complete"),
    (lambda: Task("A", 1, percent_complete="50"), "percent_complete"),
    (lambda: Task("A", 1, deadline=dt.datetime(2026, 1, 5)), "deadline"),
    (lambda: Link("A", "B", ["FS"]), "type"),
    (lambda: Link("A", "B", lag=True), "lag"),
    (lambda: Link("A", "B", lag=1.0), "lag"),
    (lambda: Link("A", "B", lag_unit={"wd"}), "lag_unit"),
])
def test_values_close_to_valid_are_still_refused(build, field):
    assert _raises(InvalidInput, build).field == field


def test_an_actual_finish_without_an_actual_start_is_accepted():
    """As TruePPM accepts it: the task is complete, when it started was not recorded. Only a finish before a
    recorded start is refused."""
    done = Task("A", 3, percent_complete=100, actual_finish=D(2026, 1, 7))
    assert (done.actual_start, done.actual_finish, done.is_complete, done.is_started) == (None, D(2026, 1, 7),
                                                                                         True, False)
    p = ProjectInput(start=MON, tasks=[done, Task("B", 2)], links=[Link("A", "B")])
    assert not p._task_columns.plain[0]  # the engine looks at its progress
    q = ProjectInput(start=MON, tasks=[Task("A", 3), Task("B", 2)], links=[Link("A", "B")]).evolve(tasks=[done])
    assert q.tasks[0] == done and not q._task_columns.plain[0]
    schedule(p)
    err = _raises(InvalidInput, lambda: Task("A", 3, actual_start=D(2026, 1, 8), actual_finish=D(2026, 1, 7)))
    assert (err.task, err.field) == ("A", "actual_finish")


def test_the_inputs_use_the_limits_module():
    from keelplan.engine import inputs, limits

    assert inputs.MAX_DURATION == limits.MAX_DURATION_DAYS == 36525
    assert inputs.MAX_LAG_DAYS == limits.MAX_LAG_DAYS == 36525
    assert Task("A", limits.MAX_DURATION_DAYS).duration == 36525
    assert Link("A", "B", lag=-limits.MAX_LAG_DAYS).lag == -36525


def test_the_limits_module_examples_run():
    import doctest

    from keelplan.engine import limits

    failed, attempted = doctest.testmod(limits, verbose=False, report=False)
    assert (failed, attempted > 0) == (0, True)


def test_enum_members_values_and_int_subclasses_are_accepted():
    import enum

    class Days(enum.IntEnum):
        THREE = 3

    t = Task("A", Days.THREE, constraint="SNET", constraint_date=D(2026, 1, 5), percent_complete=Days.THREE)
    assert t.constraint is ConstraintType.SNET and t.duration == 3
    lk = Link("A", "B", "SF", lag=Days.THREE, lag_unit="pct")
    assert (lk.type, lk.lag_unit) == (LinkType.SF, LagUnit.PERCENT)


def test_lag_at_the_limits_is_accepted():
    Link("A", "B", lag=36525)
    Link("A", "B", lag=-10000, lag_unit="pct")


def test_unknown_predecessor_and_successor():
    err = _raises(UnknownTaskError, lambda: ProjectInput(start=MON, tasks=[Task("B")], links=[Link("Z", "B")]))
    assert (err.task, err.field) == ("B", "predecessor") and "'Z'" in str(err)
    err = _raises(UnknownTaskError, lambda: ProjectInput(start=MON, tasks=[Task("A")], links=[Link("A", "Z")]))
    assert (err.task, err.field) == ("A", "successor")


def test_unknown_parent_and_calendar():
    err = _raises(UnknownTaskError, lambda: ProjectInput(start=MON, tasks=[Task("A", parent="P")]))
    assert (err.task, err.field) == ("A", "parent")
    err = _raises(UnknownTaskError, lambda: ProjectInput(start=MON, tasks=[Task("A", calendar="x")]))
    assert (err.task, err.field) == ("A", "calendar")


def test_errors_are_value_errors():
    assert issubclass(InvalidInput, ValueError) and issubclass(CyclicDependencyError, ValueError)


# ------------------------------------------------------------------ cycles


def _assert_cycle(cycle, links):
    assert cycle[0] == cycle[-1]
    pairs = {(lk.predecessor, lk.successor) for lk in links}
    for a, b in itertools.pairwise(cycle):
        assert (a, b) in pairs, (a, b, cycle)


def test_cycle_lists_the_tasks_in_order():
    links = [Link("D", "A"), Link("A", "B"), Link("B", "C"), Link("C", "A"), Link("C", "E")]
    err = _raises(CyclicDependencyError, lambda: run([(t, 1) for t in "ABCDE"], links))
    assert set(err.cycle) == {"A", "B", "C"} and len(err.cycle) == 4
    _assert_cycle(err.cycle, links)
    assert "A -> B -> C -> A" in str(err) or "B -> C -> A -> B" in str(err) or "C -> A -> B -> C" in str(err)


def test_two_task_cycle_through_different_link_types():
    links = [Link("A", "B", "SS"), Link("B", "A", "FF")]
    err = _raises(CyclicDependencyError, lambda: run([("A", 1), ("B", 1)], links))
    _assert_cycle(err.cycle, links)
    assert set(err.cycle) == {"A", "B"}


def test_cycle_through_a_summary():
    # X -> S (summary of C) and C -> X: C waits for X which waits for C.
    tasks = [Task("S"), Task("C", 1, parent="S"), Task("X", 1)]
    err = _raises(CyclicDependencyError, lambda: run(tasks, [("X", "S"), ("C", "X")]))
    assert "X" in err.cycle and err.cycle[0] == err.cycle[-1]


def test_cycle_with_a_task_downstream_of_it():
    # 1 waits for the cycle 0 -> 2 -> 0 but is on no cycle itself; the reported cycle must not run into it.
    links = [Link(0, 1), Link(0, 2), Link(2, 0)]
    err = _raises(CyclicDependencyError, lambda: run([(0, 1), (1, 1), (2, 1)], links))
    assert set(err.cycle) == {0, 2}
    _assert_cycle(err.cycle, links)


def test_parent_cycle():
    tasks = [Task("A", parent="B"), Task("B", parent="A")]
    err = _raises(CyclicDependencyError, lambda: run(tasks))
    assert set(err.cycle) == {"A", "B"} and err.cycle[0] == err.cycle[-1]


# ------------------------------------------------------------------ scale and range


def test_long_chain_grows_the_table():
    # 2,000 tasks of 20 days in a chain: 40,000 working days = 8,000 whole weeks from Monday 5 January 2026,
    # so the last day is the Friday of week 8,000.
    n = 2000
    tasks = [Task(i, 20) for i in range(n)]
    links = [Link(i, i + 1) for i in range(n - 1)]
    r = schedule(ProjectInput(start=MON, tasks=tasks, links=links))
    expected = MON + dt.timedelta(days=8000 * 7 - 3)
    assert expected.weekday() == 4
    assert r.project_finish == expected == r[n - 1].early_finish
    assert r[1000].early_start == MON + dt.timedelta(weeks=4000)
    assert r.critical_path == tuple(range(n))
    assert r[0].total_float == 0 and r[0].late_start == MON


def test_long_chain_on_a_one_day_week_with_holidays():
    # Only Mondays work and Mondays 12, 19 and 26 January are holidays: 300 tasks x 10 days = 3,000 Mondays.
    hol = tuple(CalendarException(MON + dt.timedelta(weeks=k), MON + dt.timedelta(weeks=k)) for k in (1, 2, 3))
    cal = Calendar("mon", working_days=0b0000001, exceptions=hol)
    tasks = [Task(i, 10) for i in range(300)]
    r = schedule(ProjectInput(start=MON, tasks=tasks, links=[Link(i, i + 1) for i in range(299)], calendars=[cal]))
    # Mondays 5 Jan (1st working), then 26 Jan onwards: the 3,000th working Monday is week 3,002.
    assert r.project_finish == MON + dt.timedelta(weeks=3002)


def test_date_range_error_past_year_9999():
    with pytest.raises(DateRangeError):
        schedule(ProjectInput(start=D(9999, 12, 1), tasks=[Task("A", 100)]))


def test_date_range_error_before_year_1():
    with pytest.raises(DateRangeError):
        run([Task("A", 5, constraint="MFO", constraint_date=D(1, 1, 3))], start=D(1, 1, 3))


def test_near_the_end_of_the_range_still_schedules():
    r = schedule(ProjectInput(start=D(9999, 12, 1), tasks=[Task("A", 5)]))
    assert r.project_finish == D(9999, 12, 7)  # 1 Dec 9999 is a Wednesday: Wed, Thu, Fri, Mon 6, Tue 7
