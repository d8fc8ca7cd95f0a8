"""Property-based tests on random acyclic networks, checked against an independent model of the conventions.

The checker below uses plain ``datetime.date`` arithmetic and a day-by-day working-day test; it shares no code
with the engine's NumPy tables. For a link it computes the earliest day the successor may start (FS, SS) or
finish (FF, SF) given the predecessor's dates, from the rules in cpm.py's docstring:

* FS +L wd: start on the (L+1)-th of the successor's working days after the predecessor's finish day;
  FS -L wd: on the L-th working day counting back from the finish day (inclusive). SS the same from the start
  day (the start day counts forward, not back). FF +L: finish on the L-th working day after the finish day
  (FF 0: the first working day on or after it), FF -L: the (L+1)-th counting back from it (inclusive).
  SF +L / 0: the (L+1)-th working day on or after the start day; SF -L: the L-th before it.
* Elapsed lags move the reference day by L calendar days (FS from the day after the finish), then take the
  successor's first working day on or after it. Percent lags become working days, rounded half up.

A task occupies at least its start day (TruePPM's convention): a milestone (duration 0) sits on one day and
takes part in links exactly as a one-day task does, so the checker reads every milestone as a one-day task.

A link is *driving* (TruePPM's reading) when its predecessor cannot slip one working day of its own calendar
without the link moving the successor's early date.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keelplan.engine import (
    Calendar,
    CalendarException,
    Link,
    ProjectInput,
    Task,
    schedule,
)

ONE = dt.timedelta(days=1)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Cal:
    """A calendar read day by day, independently of the engine."""

    def __init__(self, cal: Calendar):
        self.mask = cal.working_days
        self.exceptions = cal.exceptions

    def works(self, day):
        value = bool(self.mask >> day.weekday() & 1)
        for exc in self.exceptions:  # later exceptions override earlier ones
            if exc.start <= day <= exc.end:
                value = exc.working
        return value

    def on_or_after(self, day, n=1):
        """The n-th working day on or after ``day``."""
        while True:
            if self.works(day):
                n -= 1
                if n == 0:
                    return day
            day += ONE

    def on_or_before(self, day, n=1):
        while True:
            if self.works(day):
                n -= 1
                if n == 0:
                    return day
            day -= ONE

    def count(self, a, b):
        """Working days in [a, b) (negative if b < a)."""
        if b < a:
            return -self.count(b, a)
        n, day = 0, a
        while day < b:
            n += self.works(day)
            day += ONE
        return n


def requirement(link: Link, lag: int, p_start, p_finish, cal: Cal):
    """(True if it bounds the successor's finish, earliest allowed day)."""
    kind, unit = link.type.value, link.lag_unit.value
    ref = p_finish if kind in ("FS", "FF") else p_start
    target_finish = kind in ("FF", "SF")
    if unit == "ed":
        day = ref + dt.timedelta(days=lag + (1 if kind == "FS" else 0))
        return target_finish, cal.on_or_after(day)
    if kind == "FS":
        day = cal.on_or_after(ref + ONE, lag + 1) if lag >= 0 else cal.on_or_before(ref, -lag)
    elif kind == "SS":
        day = cal.on_or_after(ref, lag + 1) if lag >= 0 else cal.on_or_before(ref - ONE, -lag)
    elif kind == "FF":
        if lag == 0:
            day = cal.on_or_after(ref)
        elif lag > 0:
            day = cal.on_or_after(ref + ONE, lag)
        else:
            day = cal.on_or_before(ref, -lag + 1)
    else:  # SF
        day = cal.on_or_after(ref, lag + 1) if lag >= 0 else cal.on_or_before(ref - ONE, -lag)
    return target_finish, day


def lag_days(link: Link, tasks_by_id):
    if link.lag_unit.value != "pct":
        return link.lag
    amount = math.floor(tasks_by_id[link.predecessor].duration * abs(link.lag) / 100 + 0.5)
    return amount if link.lag >= 0 else -amount


def link_holds(link, project, cals, s_p, f_p, s_s, f_s):
    """Does the link hold between predecessor dates (s_p, f_p) and successor dates (s_s, f_s)?"""
    by_id = {t.id: t for t in project.tasks}
    pred, succ = by_id[link.predecessor], by_id[link.successor]
    cal = cals[succ.calendar or project.calendar]
    lag = lag_days(link, by_id)
    finish, day = requirement(link, lag, s_p, f_p, cal)
    return f_s >= day if finish else s_s >= day


# ------------------------------------------------------------------ random networks

START_DAYS = [dt.date(2026, 1, 5), dt.date(2026, 1, 3), dt.date(2026, 2, 11)]
BASE = dt.date(2026, 1, 1)


@st.composite
def calendars(draw):
    holidays = draw(st.lists(st.integers(0, 150), max_size=6))
    saturdays = draw(st.lists(st.integers(0, 20), max_size=2))  # working Saturdays on the standard calendar
    std = Calendar("std", exceptions=tuple(
        [CalendarException(BASE + dt.timedelta(days=h), BASE + dt.timedelta(days=h)) for h in holidays]
        + [CalendarException(d, d, working=True) for d in
           (dt.date(2026, 1, 3) + dt.timedelta(weeks=k) for k in saturdays)]))
    six = Calendar("six", working_days=0b0111111, exceptions=tuple(
        CalendarException(BASE + dt.timedelta(days=h), BASE + dt.timedelta(days=h + 1)) for h in holidays[:2]))
    seven = Calendar("seven", working_days=0b1111111)
    count = draw(st.integers(1, 3))
    return (std, six, seven)[:count]


@st.composite
def networks(draw, min_duration=0, breaking=False, max_tasks=12):
    cals = draw(calendars())
    n = draw(st.integers(1, max_tasks))
    start = draw(st.sampled_from(START_DAYS))
    kinds = ["ASAP", "SNET", "FNET"] + (["MSO", "MFO", "SNLT", "FNLT"] if breaking else [])
    tasks = []
    for i in range(n):
        kind = draw(st.sampled_from(kinds)) if draw(st.integers(0, 3)) == 0 else "ASAP"
        date = start + dt.timedelta(days=draw(st.integers(-3, 40))) if kind != "ASAP" else None
        tasks.append(Task(
            i, draw(st.integers(min_duration, 15)), calendar=draw(st.sampled_from([None] + [c.id for c in cals])),
            constraint=kind, constraint_date=date))
    links, seen = [], set()
    if n > 1:
        for _ in range(draw(st.integers(0, 2 * n))):
            a = draw(st.integers(0, n - 2))
            b = draw(st.integers(a + 1, n - 1))
            kind = draw(st.sampled_from(["FS", "FS", "SS", "FF", "SF"]))
            if (a, b, kind) in seen:
                continue
            seen.add((a, b, kind))
            unit = draw(st.sampled_from(["wd", "wd", "ed", "pct"]))
            lag = draw(st.integers(-100, 100)) if unit == "pct" else draw(st.integers(-5, 5))
            links.append(Link(a, b, kind, lag, unit))
    return ProjectInput(start=start, tasks=tasks, links=links, calendars=cals)


def model(project):
    return {c.id: Cal(c) for c in project.calendars}


def task_cal(project, cals, task):
    return cals[task.calendar or project.calendar]


# ------------------------------------------------------------------ properties


@SETTINGS
@given(networks())
def test_every_link_holds_on_early_and_late_dates(project):
    r = schedule(project)
    cals = model(project)
    for lk in project.links:
        p, s = r[lk.predecessor], r[lk.successor]
        assert link_holds(lk, project, cals, p.early_start, p.early_finish, s.early_start, s.early_finish), lk
        assert link_holds(lk, project, cals, p.late_start, p.late_finish, s.late_start, s.late_finish), lk


@SETTINGS
@given(networks())
def test_early_dates_equal_an_independent_forward_pass(project):
    # The early start is exactly the latest of: the project start, SNET, and every link's requirement; then late
    # enough that FNET and finish-bound links are met. A milestone is placed as a one-day task.
    r = schedule(project)
    cals = model(project)
    by_id = {t.id: t for t in project.tasks}
    got = {}
    for t in project.tasks:  # ids are 0..n-1 and links go from lower to higher ids
        cal = task_cal(project, cals, t)
        start = cal.on_or_after(project.start)
        finishes = []
        if t.constraint.value == "SNET":
            start = max(start, cal.on_or_after(t.constraint_date))
        if t.constraint.value == "FNET":
            finishes.append(t.constraint_date)
        for lk in project.links:
            if lk.successor == t.id:
                ps, pf = got[lk.predecessor]
                finish, day = requirement(lk, lag_days(lk, by_id), ps, pf, cal)
                if finish:
                    finishes.append(day)
                else:
                    start = max(start, cal.on_or_after(day))
        days = max(t.duration, 1)
        if finishes:
            start = max(start, cal.on_or_before(cal.on_or_after(max(finishes)), days))
        got[t.id] = (start, cal.on_or_after(start, days))
        assert (r[t.id].early_start, r[t.id].early_finish) == got[t.id], t
    assert r.project_finish == max(f for _, f in got.values())


@SETTINGS
@given(networks())
def test_durations_floats_and_project_start(project):
    r = schedule(project)
    cals = model(project)
    for t in project.tasks:
        x = r[t.id]
        cal = task_cal(project, cals, t)
        assert x.early_start >= project.start
        # early finish - early start spans exactly `duration` working days of the task calendar (a milestone:
        # its one day)
        assert cal.works(x.early_start) and cal.works(x.early_finish)
        assert cal.count(x.early_start, x.early_finish + ONE) == max(t.duration, 1)
        assert cal.count(x.late_start, x.late_finish + ONE) == max(t.duration, 1)
        # total float = LS - ES = LF - EF in working days of the task calendar
        assert x.total_float == cal.count(x.early_start, x.late_start) == cal.count(x.early_finish, x.late_finish)
        assert x.total_float >= 0  # nothing here can break logic
        assert 0 <= x.free_float <= x.total_float
        assert x.is_critical == (x.total_float <= 0)
        assert x.early_finish <= r.project_finish and x.late_finish <= r.project_finish


@SETTINGS
@given(networks())
def test_driving_predecessors_are_the_links_with_no_slack(project):
    # A link drives when slipping its predecessor to the next working day of the predecessor's own calendar
    # would make the link ask for a later date than its successor has.
    r = schedule(project)
    cals = model(project)
    by_id = {t.id: t for t in project.tasks}
    for t in project.tasks:
        cal = task_cal(project, cals, t)
        tight = set()
        for lk in project.links:
            if lk.successor == t.id:
                p = r[lk.predecessor]
                pcal = task_cal(project, cals, by_id[lk.predecessor])
                slipped = pcal.on_or_after(p.early_start + ONE), pcal.on_or_after(p.early_finish + ONE)
                finish, day = requirement(lk, lag_days(lk, by_id), *slipped, cal)
                mine = r[t.id].early_finish if finish else r[t.id].early_start
                if cal.on_or_after(day) > mine:
                    tight.add(lk.predecessor)
        assert set(r[t.id].driving_predecessors) == tight, t.id


def _is_topological(path, project):
    at = {tid: k for k, tid in enumerate(path)}
    return all(at[lk.predecessor] < at[lk.successor] for lk in project.links
               if lk.predecessor in at and lk.successor in at)


@SETTINGS
@given(networks())
def test_critical_path_is_every_critical_task_in_topological_order(project):
    r = schedule(project)
    path = r.critical_path
    assert path, "a project without breaking constraints always has a critical task at its finish"
    assert set(path) == {t.id for t in project.tasks if r[t.id].is_critical}
    assert len(set(path)) == len(path)
    assert _is_topological(path, project)
    # ... ending at a task that finishes with the project: on the last of its own working days by the project
    # finish (a task on a five-day calendar ends with a project that finishes on a Saturday on the Friday)
    last = next(t for t in project.tasks if t.id == path[-1])
    assert r[path[-1]].early_finish == task_cal(project, model(project), last).on_or_before(r.project_finish)
    # ... in the order of a walk over the whole network that, of the tasks whose predecessors have all been
    # walked, always takes the one with the earliest (early start, id) next (TruePPM's order)
    left, walk = {t.id for t in project.tasks}, []
    while left:
        free = [c for c in left if not any(lk.successor == c and lk.predecessor in left for lk in project.links)]
        walk.append(min(free, key=lambda c: (r[c].early_start, c)))
        left.remove(walk[-1])
    assert list(path) == [tid for tid in walk if r[tid].is_critical]


@SETTINGS
@given(networks(breaking=True))
def test_breaking_constraints_keep_the_basic_invariants(project):
    # With MSO/MFO/SNLT/FNLT links may break and floats go negative, but free float never exceeds total float,
    # critical means total float <= 0, and durations still span their working days.
    r = schedule(project)
    cals = model(project)
    for t in project.tasks:
        x = r[t.id]
        cal = task_cal(project, cals, t)
        assert 0 <= x.free_float <= max(x.total_float, 0)
        assert x.is_critical == (x.total_float <= 0)
        assert cal.count(x.early_start, x.early_finish + ONE) == max(t.duration, 1)
        assert cal.count(x.late_start, x.late_finish + ONE) == max(t.duration, 1)
        assert x.total_float == cal.count(x.early_finish, x.late_finish)
        if t.constraint.value == "MSO":
            assert x.early_start == x.late_start == cal.on_or_after(t.constraint_date)
        if t.constraint.value == "MFO":
            assert x.early_finish == x.late_finish == cal.on_or_before(t.constraint_date)
        if t.constraint.value == "FNLT":
            assert x.early_finish <= t.constraint_date and x.late_finish <= t.constraint_date
        if t.constraint.value == "SNLT":
            assert x.early_start <= t.constraint_date and x.late_start <= t.constraint_date
    for tid in r.critical_path:
        assert r[tid].is_critical


def _snapshot(r):
    return {tid: (x.early_start, x.early_finish, x.late_start, x.late_finish, x.total_float, x.free_float,
                  x.is_critical, frozenset(x.driving_predecessors)) for tid, x in r.tasks.items()}


@SETTINGS
@given(networks(breaking=True), st.randoms(use_true_random=False))
def test_deterministic_and_independent_of_input_order(project, rnd: random.Random):
    first, again = schedule(project), schedule(project)
    assert _snapshot(first) == _snapshot(again)
    assert first.critical_path == again.critical_path and first.project_finish == again.project_finish
    tasks, links = list(project.tasks), list(project.links)
    rnd.shuffle(tasks)
    rnd.shuffle(links)
    shuffled = schedule(ProjectInput(start=project.start, tasks=tasks, links=links, calendars=project.calendars,
                                     calendar=project.calendar))
    assert _snapshot(shuffled) == _snapshot(first)
    assert shuffled.project_finish == first.project_finish
    # The critical path too: ties are broken by task id, never by input order.
    assert shuffled.critical_path == first.critical_path
    assert [bool(d) for d in shuffled.link_driving] == [
        bool(first.link_driving[project.links.index(lk)]) for lk in links]
