"""ProjectInput.evolve: a changed copy equal to one built from scratch, checked per argument, per error, and
on random sequences of edits against a plain model of the task and link lists."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keelplan.engine import (
    Calendar,
    CalendarException,
    CyclicDependencyError,
    InvalidInput,
    Link,
    LinkType,
    ProjectInput,
    Task,
    UnknownTaskError,
    schedule,
)

from .helpers import MON, SEVEN, SIX, STD, D


def base() -> ProjectInput:
    return ProjectInput(
        start=MON, calendars=(STD, SIX, SEVEN),
        tasks=[Task("S"), Task("A", 3, parent="S"), Task("B", 2, parent="S"), Task("C", 4, calendar="six"),
               Task("D", 0)],
        links=[Link("A", "B"), Link("B", "C", "SS", lag=1), Link("A", "C"), Link("C", "D")],
    )


def from_scratch(p: ProjectInput) -> ProjectInput:
    return ProjectInput(start=p.start, tasks=list(p.tasks), links=list(p.links), calendars=p.calendars,
                        calendar=p.calendar, status_date=p.status_date)


def assert_same(evolved: ProjectInput, expected: ProjectInput | None = None):
    """``evolved`` equals ``expected`` (by default, itself rebuilt from scratch), down to the gathered columns
    and the schedule."""
    expected = expected if expected is not None else from_scratch(evolved)
    assert evolved == expected
    assert evolved._index == expected._index
    for got, want in zip(evolved._task_columns + evolved._link_columns, expected._task_columns + expected._link_columns):
        assert got.dtype == want.dtype and np.array_equal(got, want)
        assert not got.flags.writeable
    # the id ranks (shared with the input it was evolved from while the ids stay the same) are right
    assert np.array_equal(evolved.id_ranks(), expected.id_ranks())
    assert_same_schedule(evolved, expected)


def outcome(p: ProjectInput):
    try:
        return schedule(p)
    except CyclicDependencyError as err:
        return err


def assert_same_schedule(a: ProjectInput, b: ProjectInput):
    ra, rb = outcome(a), outcome(b)
    if isinstance(rb, Exception):
        assert type(ra) is type(rb) and str(ra) == str(rb)
        return
    assert ra.project_finish == rb.project_finish and ra.critical_path == rb.critical_path
    assert ra.columns.keys() == rb.columns.keys()
    for key in rb.columns:
        assert np.array_equal(ra.columns[key], rb.columns[key]), key


def ids(p: ProjectInput) -> list:
    return [t.id for t in p.tasks]


def keys(p: ProjectInput) -> list:
    return [(lk.predecessor, lk.successor, lk.type.value) for lk in p.links]


# ------------------------------------------------------------------ each argument


def test_id_ranks_are_shared_while_the_ids_stay_and_made_again_when_they_change():
    p = base()
    ranks = p.id_ranks()
    assert sorted(ranks.tolist()) == list(range(len(p.tasks)))
    assert [p.tasks[i].id for i in np.argsort(ranks)] == sorted(t.id for t in p.tasks)
    edited = p.evolve(tasks=[dataclasses.replace(p.tasks[0], duration=p.tasks[0].duration + 1)])
    assert edited.id_ranks() is ranks
    grown = p.evolve(tasks=[Task("0-first", 1)])
    assert grown.id_ranks() is not ranks and grown.id_ranks()[-1] == 0
    assert int(grown.id_ranks()[0]) == int(ranks[0]) + 1


def test_no_change_gives_an_equal_input():
    p = base()
    assert_same(p.evolve(), p)


def test_a_changed_task_keeps_its_place():
    p = base()
    q = p.evolve(tasks=[Task("B", 7, parent="S")])
    assert ids(q) == ids(p) and q.tasks[2].duration == 7
    assert_same(q)
    assert p.tasks[2].duration == 2  # the original is untouched
    assert schedule(q)["B"].early_finish > schedule(p)["B"].early_finish


def test_a_new_task_is_appended():
    q = base().evolve(tasks=[Task("E", 2, calendar="seven"), Task("F", 1, parent="E")], links=[Link("D", "E")])
    assert ids(q) == ["S", "A", "B", "C", "D", "E", "F"]
    assert_same(q)


def test_a_task_may_change_parent_and_calendar():
    q = base().evolve(tasks=[Task("C", 4, parent="S", calendar="seven"), Task("A", 3)])
    assert q.tasks[3].parent == "S" and q.tasks[1].parent is None
    assert_same(q)


def test_a_task_may_become_a_summary_and_a_plain_task_again():
    q = base().evolve(tasks=[Task("X", 2, parent="D")])
    assert schedule(q)["D"].is_summary
    assert_same(q)
    r = q.evolve(remove_tasks=["X"])
    assert not schedule(r)["D"].is_summary
    assert_same(r, base())


def test_progress_and_constraints_on_a_changed_task():
    p = base().evolve(status_date=D(2026, 1, 12))
    q = p.evolve(tasks=[Task("A", 3, parent="S", actual_start=MON, percent_complete=50),
                        Task("D", 0, constraint="FNLT", constraint_date=D(2026, 1, 14)),
                        Task("B", 2, parent="S", constraint="ALAP")])
    assert_same(q)
    r = q.evolve(tasks=[Task("A", 3, parent="S"), Task("D", 0), Task("B", 2, parent="S")], status_date=None)
    assert_same(r, base())


def test_removed_tasks_close_up():
    p = base()
    q = p.evolve(remove_tasks=["C"], remove_links=[("B", "C", "SS"), ("A", "C", "FS"), ("C", "D", "FS")])
    assert ids(q) == ["S", "A", "B", "D"] and keys(q) == [("A", "B", "FS")]
    assert_same(q)


def test_removing_a_summary_with_its_children():
    q = base().evolve(remove_tasks=["S", "A", "B"], remove_links=[("A", "B", "FS"), ("B", "C", "SS"), ("A", "C", "FS")])
    assert ids(q) == ["C", "D"] and keys(q) == [("C", "D", "FS")]
    assert_same(q)


def test_a_removed_id_given_again_moves_to_the_end():
    q = base().evolve(remove_tasks=["A"], tasks=[Task("A", 5)])
    assert ids(q) == ["S", "B", "C", "D", "A"]
    assert keys(q) == keys(base())  # its links now point at the task at the end
    assert_same(q)


def test_a_new_link_is_appended_and_a_link_with_the_same_key_replaced_in_place():
    p = base()
    q = p.evolve(links=[Link("B", "C", "SS", lag=3, lag_unit="ed"), Link("B", "D", "FF")])
    assert keys(q) == keys(p) + [("B", "D", "FF")]
    assert q.links[1].lag == 3 and q.links[1].lag_unit.value == "ed"
    assert_same(q)


def test_links_to_new_tasks_in_the_same_call():
    q = base().evolve(tasks=[Task("E", 1)], links=[Link("E", "A"), Link("D", "E", "SS")])
    assert_same(q)


def test_removing_links_by_key_with_the_type_as_enum_or_string():
    p = base()
    q = p.evolve(remove_links=[("A", "B", LinkType.FS), ["A", "C", "FS"]])
    assert keys(q) == [("B", "C", "SS"), ("C", "D", "FS")]
    assert_same(q)


def test_a_link_removed_and_given_again_moves_to_the_end():
    q = base().evolve(remove_links=[("A", "B", "FS")], links=[Link("A", "B", lag=2)])
    assert keys(q)[-1] == ("A", "B", "FS") and q.links[-1].lag == 2
    assert_same(q)


def test_links_through_summaries():
    q = base().evolve(links=[Link("S", "C", "FF"), Link("D", "S", "SS")], remove_links=[("C", "D", "FS")])
    assert_same(q)


def test_new_calendars_and_default():
    hol = CalendarException(D(2026, 1, 7), D(2026, 1, 7))
    p = base()
    q = p.evolve(calendars=[Calendar("std", exceptions=(hol,)), Calendar("six", working_days=0b0111111)])
    assert q.calendar == "std" and [c.id for c in q.calendars] == ["std", "six"]
    assert_same(q)
    assert schedule(q)["A"].early_finish == D(2026, 1, 8)
    r = q.evolve(calendar="six")
    assert r.calendar == "six"
    assert_same(r)
    assert r.evolve(calendar=None).calendar == "std"  # None means the first calendar, as in the constructor


def test_calendars_in_a_new_order():
    q = base().evolve(calendars=[SEVEN, SIX, STD])
    assert q.calendar == "std"
    assert_same(q)


def test_start_and_status_date():
    p = base()
    q = p.evolve(start=D(2026, 2, 2), status_date=D(2026, 2, 4))
    assert (q.start, q.status_date) == (D(2026, 2, 2), D(2026, 2, 4))
    assert_same(q)
    assert p.evolve(status_date=None).status_date is None


def test_columns_of_the_original_are_shared_not_copied_when_unchanged():
    p = base()
    q = p.evolve(start=D(2026, 2, 2))
    assert q.tasks is p.tasks and q.links is p.links and q._task_columns is p._task_columns
    q = p.evolve(tasks=[Task("B", 9, parent="S")])
    assert q.links is p.links and q._link_columns is p._link_columns


def test_a_scratch_built_input_and_an_evolved_one_evolve_alike():
    p = base()
    q = p.evolve(tasks=[Task("E", 2)], links=[Link("D", "E")]).evolve(remove_tasks=["A"], remove_links=[
        ("A", "B", "FS"), ("A", "C", "FS")])
    assert_same(q)
    assert_same(q.evolve(tasks=[Task("B", 4, parent="S")]), from_scratch(q).evolve(tasks=[Task("B", 4, parent="S")]))


def test_the_id_index_stays_right_over_many_edits():
    # Enough removals and additions that the index is rebuilt along the way, and removed ids come back.
    p = ProjectInput(start=MON, tasks=[Task(i, 1) for i in range(40)], links=[Link(i, i + 1) for i in range(39)])
    for step in range(150):
        victim = p.tasks[(7 * step) % len(p.tasks)].id
        gone = [(lk.predecessor, lk.successor, lk.type) for lk in p.links if victim in (lk.predecessor, lk.successor)]
        p = p.evolve(remove_tasks=[victim], remove_links=gone)
        newcomer = victim if step % 3 else 1000 + step
        p = p.evolve(tasks=[Task(newcomer, step % 4)], links=[Link(p.tasks[0].id, newcomer)])
        assert dict(p._index) == {t.id: k for k, t in enumerate(p.tasks)}
        assert victim in p._index if step % 3 else victim not in p._index
    assert_same(p)


# ------------------------------------------------------------------ each error


def _raises(exc, call):
    with pytest.raises(exc) as err:
        call()
    assert type(err.value) is exc
    return err.value


@pytest.mark.parametrize("call,exc,task,field", [
    (lambda p: p.evolve(tasks=["A"]), InvalidInput, None, "tasks"),
    (lambda p: p.evolve(tasks=[Task("E"), Task("E")]), InvalidInput, "E", "id"),
    (lambda p: p.evolve(tasks=[Task("A"), Task("A", 2)]), InvalidInput, "A", "id"),
    (lambda p: p.evolve(tasks=[Task("E", parent="Z")]), UnknownTaskError, "E", "parent"),
    (lambda p: p.evolve(tasks=[Task("A", calendar="nope")]), UnknownTaskError, "A", "calendar"),
    (lambda p: p.evolve(remove_tasks=["Z"]), UnknownTaskError, "Z", "id"),
    (lambda p: p.evolve(remove_tasks=["D", "D"], remove_links=[("C", "D", "FS")]), UnknownTaskError, "D", "id"),
    (lambda p: p.evolve(remove_tasks=["D"]), UnknownTaskError, "C", "successor"),
    (lambda p: p.evolve(remove_tasks=["A"], remove_links=[("A", "B", "FS")]), UnknownTaskError, "C", "predecessor"),
    (lambda p: p.evolve(remove_tasks=["S"]), UnknownTaskError, "A", "parent"),
    (lambda p: p.evolve(links=[Link("A", "Z")]), UnknownTaskError, "A", "successor"),
    (lambda p: p.evolve(links=[Link("Z", "A")]), UnknownTaskError, "A", "predecessor"),
    (lambda p: p.evolve(links=[Link("D", "A", "SS"), Link("D", "A", "SS", lag=1)]), InvalidInput, "A", "predecessor"),
    (lambda p: p.evolve(links=[("D", "A")]), InvalidInput, None, "links"),
    (lambda p: p.evolve(remove_links=[("A", "B", "SS")]), InvalidInput, "B", "predecessor"),
    (lambda p: p.evolve(remove_links=[("A", "Z", "FS")]), InvalidInput, "Z", "predecessor"),
    (lambda p: p.evolve(remove_links=[("A", "B", "FS"), ("A", "B", "FS")]), InvalidInput, "B", "predecessor"),
    (lambda p: p.evolve(remove_links=[("A", "B", "XX")]), InvalidInput, "B", "type"),
    (lambda p: p.evolve(remove_links=[("A", "B")]), InvalidInput, None, "links"),
    (lambda p: p.evolve(remove_links=[Link("A", "B")]), InvalidInput, None, "links"),
    (lambda p: p.evolve(calendars=[STD, STD]), InvalidInput, None, "calendars"),
    (lambda p: p.evolve(calendars=["std"]), InvalidInput, None, "calendars"),
    (lambda p: p.evolve(calendars=[STD, SEVEN]), UnknownTaskError, "C", "calendar"),
    (lambda p: p.evolve(calendars=[SIX]), UnknownTaskError, None, "calendar"),
    (lambda p: p.evolve(calendar="nope"), UnknownTaskError, None, "calendar"),
    (lambda p: p.evolve(start=None), InvalidInput, None, "start"),
    (lambda p: p.evolve(start=dt.datetime(2026, 1, 5)), InvalidInput, None, "start"),
    (lambda p: p.evolve(status_date="2026-01-05"), InvalidInput, None, "status_date"),
])
def test_errors_name_the_task_and_field(call, exc, task, field):
    err = _raises(exc, lambda: call(base()))
    assert (err.task, err.field) == (task, field)


def test_errors_match_the_constructor():
    p = base()
    for change, scratch in [
        (lambda: p.evolve(remove_tasks=["D"]),
         lambda: ProjectInput(start=MON, calendars=p.calendars, tasks=p.tasks[:4], links=p.links)),
        (lambda: p.evolve(tasks=[Task("E", parent="Z")]),
         lambda: ProjectInput(start=MON, calendars=p.calendars, tasks=p.tasks + (Task("E", parent="Z"),))),
        (lambda: p.evolve(links=[Link("Z", "A")]),
         lambda: ProjectInput(start=MON, calendars=p.calendars, tasks=p.tasks, links=[Link("Z", "A")])),
    ]:
        with pytest.raises(InvalidInput) as got:
            change()
        with pytest.raises(InvalidInput) as want:
            scratch()
        assert type(got.value) is type(want.value) and str(got.value) == str(want.value)


def test_an_unknown_field_is_a_type_error():
    with pytest.raises(TypeError, match="tasks_to_add"):
        base().evolve(tasks_to_add=[Task("E")])


def test_a_failed_evolve_leaves_the_input_as_it_was():
    p = base()
    before = from_scratch(p)
    with pytest.raises(UnknownTaskError):
        p.evolve(tasks=[Task("E", 1)], links=[Link("E", "Z")])
    assert_same(p, before)


def test_a_task_changed_into_a_cycle_is_found_when_scheduling():
    q = base().evolve(links=[Link("D", "A")])
    with pytest.raises(CyclicDependencyError):
        schedule(q)
    q = base().evolve(tasks=[Task("S", parent="A")])
    with pytest.raises(CyclicDependencyError):
        schedule(q)


# ------------------------------------------------------------------ random sequences of edits

CALENDAR_SETS = [(STD,), (STD, SIX), (SIX, STD, SEVEN), (SEVEN, STD)]
TYPES = ["FS", "SS", "FF", "SF"]


def rarely(draw, values: list, odd_one):
    """One of ``values``, or now and then ``odd_one`` (a name that may not exist)."""
    return odd_one if not values or draw(st.integers(0, 12)) == 0 else draw(st.sampled_from(values))


@st.composite
def new_task(draw, task_id, known: list, cal_ids: list):
    """A task named ``task_id``: usually plain, sometimes with a constraint, progress or a parent."""
    kw = {"duration": draw(st.integers(0, 6))}
    if known and draw(st.integers(0, 4)) == 0:
        kw["parent"] = rarely(draw, known, "ghost")
    if draw(st.integers(0, 3)) == 0:
        kw["calendar"] = rarely(draw, cal_ids, "seven")
    extra = draw(st.integers(0, 7))
    if extra == 0:
        kw.update(constraint=draw(st.sampled_from(["SNET", "FNLT", "MSO"])),
                  constraint_date=MON + dt.timedelta(days=draw(st.integers(-3, 20))))
    elif extra == 1:
        kw.update(constraint="ALAP")
    elif extra == 2:
        kw.update(actual_start=MON, percent_complete=draw(st.sampled_from([0, 30, 100])))
    elif extra == 3:
        kw.update(deadline=MON + dt.timedelta(days=draw(st.integers(0, 20))))
    return Task(task_id, **kw)


@st.composite
def new_link(draw, known: list):
    pred = rarely(draw, known, "ghost")
    succ = rarely(draw, known, "ghost")
    if pred == succ:
        succ = "ghost" if pred != "ghost" else known[0]
    unit = draw(st.sampled_from(["wd", "ed", "pct"]))
    lag = draw(st.integers(-50, 50)) if unit == "pct" else draw(st.integers(-3, 4))
    return Link(pred, succ, draw(st.sampled_from(TYPES)), lag, unit)


@st.composite
def edit(draw, tasks: list, links: list, counter: list):
    """Arguments for one evolve() call, drawn against the current task and link lists."""
    known = [t.id for t in tasks]
    kwargs: dict = {}
    cal_ids = [c.id for c in draw(st.sampled_from(CALENDAR_SETS))] if draw(st.integers(0, 5)) == 0 else None
    if cal_ids is not None:
        kwargs["calendars"] = next(s for s in CALENDAR_SETS if [c.id for c in s] == cal_ids)
        if draw(st.booleans()):
            kwargs["calendar"] = draw(st.sampled_from(cal_ids + [None]))
    cal_ids = cal_ids or ["std", "six", "seven"]
    if known and draw(st.integers(0, 2)) == 0:
        gone = draw(st.lists(st.sampled_from(known), max_size=2, unique=True))
        if draw(st.integers(0, 9)) == 0:
            gone.append(draw(st.sampled_from(known + ["ghost"])))  # perhaps twice, perhaps unknown
        kwargs["remove_tasks"] = gone
        if draw(st.integers(0, 4)):  # usually remove their links (and children) with them
            kwargs["remove_links"] = [(lk.predecessor, lk.successor, lk.type.value) for lk in links
                                      if lk.predecessor in gone or lk.successor in gone]
    if links and draw(st.integers(0, 2)) == 0:
        extra = draw(st.lists(st.sampled_from(links), max_size=2, unique=True))
        keys = [(lk.predecessor, lk.successor, draw(st.sampled_from([lk.type, lk.type.value]))) for lk in extra]
        if draw(st.integers(0, 9)) == 0:
            keys.append((known[0], "ghost", "FS"))
        kwargs["remove_links"] = kwargs.get("remove_links", []) + keys
    changed = []
    for _ in range(draw(st.integers(0, 3))):
        if known and draw(st.booleans()):
            task_id = draw(st.sampled_from(known))
        else:
            counter[0] += 1
            task_id = f"n{counter[0]}"
        changed.append(draw(new_task(task_id, known + [t.id for t in changed], cal_ids)))
    if changed:
        kwargs["tasks"] = changed
    everyone = known + [t.id for t in changed]
    if everyone and draw(st.integers(0, 2)):
        kwargs["links"] = draw(st.lists(new_link(everyone), max_size=3))
    if draw(st.integers(0, 6)) == 0:
        kwargs["start"] = MON + dt.timedelta(days=draw(st.integers(-5, 5)))
    if draw(st.integers(0, 6)) == 0:
        kwargs["status_date"] = draw(st.sampled_from([None, MON, MON + dt.timedelta(days=4)]))
    return kwargs


def apply_model(p: ProjectInput, kwargs: dict) -> ProjectInput:
    """The documented semantics on plain lists, then the constructor: what evolve() must be equal to."""
    tasks, links = list(p.tasks), list(p.links)
    for task_id in kwargs.get("remove_tasks", ()):
        left = [t for t in tasks if t.id != task_id]
        if len(left) == len(tasks):
            raise InvalidInput("no such task")
        tasks = left
    for pred, succ, kind in kwargs.get("remove_links", ()):
        left = [lk for lk in links if (lk.predecessor, lk.successor, lk.type) != (pred, succ, LinkType(kind))]
        if len(left) == len(links):
            raise InvalidInput("no such link")
        links = left
    given = kwargs.get("tasks", ())
    if len({t.id for t in given}) < len(given):
        raise InvalidInput("given twice")
    for task in given:
        at = next((k for k, t in enumerate(tasks) if t.id == task.id), None)
        if at is None:
            tasks.append(task)
        else:
            tasks[at] = task
    given = kwargs.get("links", ())
    if len({(lk.predecessor, lk.successor, lk.type) for lk in given}) < len(given):
        raise InvalidInput("given twice")
    for link in given:
        key = (link.predecessor, link.successor, link.type)
        at = next((k for k, lk in enumerate(links) if (lk.predecessor, lk.successor, lk.type) == key), None)
        if at is None:
            links.append(link)
        else:
            links[at] = link
    return ProjectInput(start=kwargs.get("start", p.start), status_date=kwargs.get("status_date", p.status_date),
                        calendars=kwargs.get("calendars", p.calendars), calendar=kwargs.get("calendar", p.calendar),
                        tasks=tasks, links=links)


@st.composite
def sequences(draw):
    counter = [0]
    tasks = []
    for i in range(draw(st.integers(0, 8))):
        tasks.append(draw(new_task(f"t{i}", [t.id for t in tasks][:i], ["std", "six"])))
    tasks = [t if t.parent != "ghost" and t.calendar != "seven" else dataclasses.replace(t, parent=None, calendar=None)
             for t in tasks]
    links, seen = [], set()
    for _ in range(draw(st.integers(0, 2 * len(tasks)))) if len(tasks) > 1 else ():
        link = draw(new_link([t.id for t in tasks]))
        key = (link.predecessor, link.successor, link.type)
        if "ghost" not in key and key not in seen:
            seen.add(key)
            links.append(link)
    p = ProjectInput(start=MON, tasks=tasks, links=links, calendars=(STD, SIX))
    steps = []
    current = p
    for _ in range(draw(st.integers(1, 6))):
        kwargs = draw(edit(list(current.tasks), list(current.links), counter))
        steps.append(kwargs)
        try:
            current = apply_model(current, kwargs)
        except InvalidInput:
            pass
    return p, steps


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences())
def test_random_edits_match_a_project_built_from_scratch(case):
    current, steps = case
    for kwargs in steps:
        try:
            expected = apply_model(current, kwargs)
        except InvalidInput:
            expected = None
        if expected is None:
            with pytest.raises(InvalidInput):
                current.evolve(**kwargs)
            continue
        evolved = current.evolve(**kwargs)
        assert_same(evolved, expected)
        current = evolved
