"""Keelplan's engine against trueppm-scheduler (the PyPI release, used as a black box) on random networks.

Both engines get the very same project: it is built with trueppm-scheduler's own Python API, and Keelplan reads
that project's ``to_json()`` through :mod:`keelplan.engine.formats`, so the format reader is under test too.
The networks use only what both engines support: the four link types, elapsed-day lags and leads, one
Monday-to-Friday calendar with holidays, milestones, and start-no-earlier-than dates (trueppm's
``planned_start``).

Every task's early and late dates, total and free float and critical flag are compared, in three families of
networks. **Core** networks (FS, SS and FF links, lags and leads, holidays, SNET dates) must match exactly.
Networks with **milestones** and networks with **SF links** may differ, but only in these categories, each a
deliberate semantic choice of Keelplan's (see :mod:`keelplan.engine.cpm`); any other difference fails the test:

``MILESTONE_INSTANT``
    A milestone sits at an instant, and the end of one working day is the same point in working time as the
    start of the next. trueppm-scheduler and Keelplan sometimes show a milestone on the two sides of such a
    boundary (Friday where the other shows Monday), and trueppm counts a milestone's floats between the days
    *shown* where Keelplan counts working days between the instants (a milestone held at the start of the first
    day, late at the end of the last, has one day more float in Keelplan). So on a milestone a date may differ
    by exactly one working day (skipping any weekend or holiday) and a float by exactly one.

``DAY_BOUNDARY``
    Keelplan's instants run in elapsed time: the end of Friday comes before the start of Saturday, which comes
    before the start of Monday, and an elapsed lag counts from the instant a task has. trueppm-scheduler
    0.4.0rc2 compares instants in *working* time, where those three are one point. They part where a link
    bounds a finish by the start of a day (every SF link: Keelplan finishes an SF lag-0 successor on the day the
    predecessor starts, trueppm by the end of the working day before; and an FF link from a milestone held at
    the start of a day), and where an elapsed lag is measured from or to a milestone across non-working days.
    Such a difference spreads along the links: early dates downstream of such a link, late dates upstream of
    it (all late dates when the project finish moves), and the floats of those tasks and their predecessors.

``SF_BEFORE_START``
    trueppm-scheduler 0.4.0rc2 takes a task with an incoming SF link off the project-start floor, so it can
    start before the project (the difference trueppm.md §6 notes between the PyPI release and TruePPM's newer
    golden vectors). Keelplan never starts a task before the project start.

Every category must actually occur in its family, so the test notices if either engine changes behaviour.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from datetime import timedelta

import trueppm_scheduler as tp  # the real PyPI package, a test dependency (pyproject's "test" extra)

from keelplan.engine import schedule
from keelplan.engine.formats import load_project

MILESTONE_INSTANT = "milestone instant"
DAY_BOUNDARY = "day-boundary reading of an instant"
SF_BEFORE_START = "SF successor before the project start"
FIELDS = ("early_start", "early_finish", "late_start", "late_finish", "total_float", "free_float", "is_critical")


def random_project(seed: int, *, milestones: bool = False, sf: bool = False) -> tp.Project:
    rng = random.Random(seed)
    n = rng.randint(10, 60)
    start = dt.date(2026, 1, 5) + timedelta(days=rng.randrange(0, 300))
    while start.weekday() >= 5:
        start += timedelta(days=1)
    holidays = sorted({start + timedelta(days=rng.randrange(-10, 250)) for _ in range(rng.randint(0, 14))})
    calendar = tp.Calendar(working_days=0b0011111, exceptions=[tp.DateRange(h, h) for h in holidays])
    tasks = []
    for i in range(n):
        duration = 0 if milestones and rng.random() < 0.12 else rng.randint(1, 10)
        snet = start + timedelta(days=rng.randrange(-5, 60)) if rng.random() < 0.12 else None
        tasks.append(tp.Task(id=f"T{i}", name=f"Task {i}", duration=timedelta(days=duration), planned_start=snet))
    types = [tp.DependencyType.FS] * 5 + [tp.DependencyType.SS] * 2 + [tp.DependencyType.FF] * 2
    deps, pairs = [], set()
    for j in range(1, n):
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            i = rng.randrange(max(0, j - 12), j)
            if (i, j) in pairs:  # trueppm-scheduler allows one link per pair of tasks
                continue
            pairs.add((i, j))
            kind = tp.DependencyType.SF if sf and rng.random() < 0.12 else rng.choice(types)
            lag = rng.choice((0, 0, 0, 0, -5, -3, -2, -1, 1, 2, 3, 4, 7))
            deps.append(tp.Dependency(f"T{i}", f"T{j}", kind, timedelta(days=lag)))
    return tp.Project(id=f"net{seed}", name=f"network {seed}", start_date=start, tasks=tasks, dependencies=deps,
                      calendar=calendar)


def differences(project: tp.Project):
    """Both schedules, and ``(task, field, trueppm value, keelplan value)`` wherever they differ."""
    theirs = tp.schedule(project)
    ours = schedule(load_project(project.to_json()))
    out = []
    for t in theirs.tasks:
        k = ours[t.id]
        values = {"total_float": t.total_float.days, "free_float": t.free_float.days}
        for field in FIELDS:
            a = values.get(field, getattr(t, field))
            b = getattr(k, field)
            if a != b:
                out.append((t.id, field, a, b))
    return theirs, ours, out


def _closure(edges: dict, seeds) -> set:
    seen, stack = set(seeds), list(seeds)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def classify(project: tp.Project, theirs, ours, diffs) -> list:
    """The category of each difference, or ``None`` where no category explains it."""
    cal = project.calendar
    duration = {t.id: t.duration.days for t in project.tasks}
    at_day_start = {t.id for t in theirs.tasks if duration[t.id] == 0 and not t.milestone_at_day_end}
    succs: dict = {}
    preds: dict = {}
    for d in project.dependencies:
        succs.setdefault(d.predecessor_id, []).append(d.successor_id)
        preds.setdefault(d.successor_id, []).append(d.predecessor_id)
    # Links whose constraint depends on which side of a day boundary an instant is read: every SF link (it
    # bounds a finish by a start), an FF link from a milestone held at the start of a day, and a lag measured
    # from or to a milestone (an instant that is both the end of one working day and the start of the next).
    ms = {tid for tid, d in duration.items() if d == 0}
    boundary = [d for d in project.dependencies if d.dep_type is tp.DependencyType.SF
                or (d.dep_type is tp.DependencyType.FF and d.predecessor_id in at_day_start)
                or (d.lag and (d.predecessor_id in ms or d.successor_id in ms))]
    downstream = _closure(succs, [d.successor_id for d in boundary])      # early dates such a link can move
    upstream = _closure(preds, [d.predecessor_id for d in boundary])       # late dates it can move
    finish_moved = theirs.project_finish != ours.project_finish
    early_moved = {tid for tid, field, *_ in diffs if field in ("early_start", "early_finish")}
    sf_early_start = {t.id for t in theirs.tasks if t.early_start < project.start_date}

    def next_working(day):
        day += timedelta(days=1)
        while not cal.is_working_day(day):
            day += timedelta(days=1)
        return day

    def same_instant(a, b):  # the end of working day a and the start of the next working day b, or reversed
        return next_working(min(a, b)) == max(a, b)

    out = []
    for tid, field, a, b in diffs:
        reached = False
        if boundary:
            if field in ("early_start", "early_finish"):
                reached = tid in downstream
            elif field in ("late_start", "late_finish"):
                reached = tid in upstream or finish_moved
            else:
                reached = (tid in downstream or tid in upstream or finish_moved
                           or any(s in early_moved for s in succs.get(tid, ())))
        if reached:
            category = SF_BEFORE_START if tid in sf_early_start else DAY_BOUNDARY
        elif duration[tid] == 0 and field in ("early_start", "early_finish", "late_start", "late_finish"):
            category = MILESTONE_INSTANT if same_instant(a, b) else None
        elif duration[tid] == 0 and field in ("total_float", "free_float"):
            category = MILESTONE_INSTANT if abs(a - b) == 1 else None
        else:
            category = None
        out.append(category)
    return out


def _run(seeds, **kind):
    found = Counter()
    unexplained = []
    for seed in seeds:
        project = random_project(seed, **kind)
        theirs, ours, diffs = differences(project)
        for diff, category in zip(diffs, classify(project, theirs, ours, diffs)):
            if category is None:
                unexplained.append((seed, *diff))
            else:
                found[category] += 1
    return found, unexplained


def test_core_networks_match_trueppm_exactly():
    """FS/SS/FF links with elapsed lags and leads, holidays, SNET dates: every value equal in every network."""
    found, unexplained = _run(range(60))
    assert unexplained == []
    assert found == Counter()


def test_networks_with_milestones_differ_only_at_day_boundaries():
    found, unexplained = _run(range(500, 520), milestones=True)
    assert unexplained == []
    assert found[MILESTONE_INSTANT] > 0 and found[DAY_BOUNDARY] > 0 and SF_BEFORE_START not in found


def test_networks_with_sf_links_differ_only_where_the_sf_convention_reaches():
    found, unexplained = _run(range(1000, 1020), sf=True)
    assert unexplained == []
    assert found[DAY_BOUNDARY] > 0 and found[SF_BEFORE_START] > 0


def test_an_unexplained_difference_is_caught():
    """The classifier is not a catch-all: a date moved on a core network is left unexplained."""
    project = random_project(3)
    theirs, ours, diffs = differences(project)
    assert diffs == []
    task = project.tasks[-1]
    fake = [(task.id, "early_start", task.early_start, dt.date(2001, 1, 1)),
            (task.id, "total_float", 1, 3)]
    assert classify(project, theirs, ours, fake) == [None, None]


def test_a_plain_network_matches_trueppm_exactly():
    """The golden-vector network of trueppm.md §6 without its SF pair: every value the same in both."""
    tasks = [tp.Task(id=i, name=i, duration=timedelta(days=d)) for i, d in
             (("A", 5), ("B", 3), ("C", 5), ("D", 3), ("E", 5), ("F", 3))]
    deps = [tp.Dependency("A", "B", tp.DependencyType.FS), tp.Dependency("C", "D", tp.DependencyType.SS),
            tp.Dependency("E", "F", tp.DependencyType.FF)]
    project = tp.Project(id="p", name="p", start_date=dt.date(2026, 4, 1), tasks=tasks, dependencies=deps)
    theirs, ours, diffs = differences(project)
    assert diffs == []
    assert ours.project_finish == theirs.project_finish == dt.date(2026, 4, 10)
    assert ours["F"].early_start == dt.date(2026, 4, 3) and ours["C"].total_float == 3


def test_the_pypi_release_lets_an_sf_successor_start_before_the_project():
    """The documented difference, pinned: trueppm-scheduler 0.4.0rc2 starts H before the project start."""
    tasks = [tp.Task(id="G", name="G", duration=timedelta(days=5)), tp.Task(id="H", name="H",
                                                                            duration=timedelta(days=3))]
    project = tp.Project(id="p", name="p", start_date=dt.date(2026, 4, 1), tasks=tasks,
                         dependencies=[tp.Dependency("G", "H", tp.DependencyType.SF)])
    theirs, ours, diffs = differences(project)
    h = {t.id: t for t in theirs.tasks}["H"]
    assert h.early_start < project.start_date
    assert ours["H"].early_start == project.start_date
    assert set(classify(project, theirs, ours, diffs)) == {SF_BEFORE_START}
