"""Keelplan's engine against trueppm-scheduler's PyPI release (0.4.0rc2, used as a black box) on random networks.

Both engines get the very same project: it is built with trueppm-scheduler's own Python API, and Keelplan reads
that project's ``to_json()`` through :mod:`keelplan.engine.formats`, so the format reader is under test too.
The networks use only what both engines support: the four link types, elapsed-day lags and leads, one
Monday-to-Friday calendar with holidays, milestones, and start-no-earlier-than dates (trueppm's
``planned_start``).

Keelplan follows TruePPM's *current* engine, which agrees exactly with Keelplan on such networks (the 80 networks
of ``test_trueppm_reference.py``, computed by that engine, and the 32 conformance vectors). The PyPI release is
older, and differs from its successor in two ways this test names; every task's early and late dates, total and
free float and critical flag are compared, and any other difference fails the test:

``PYPI_MILESTONE_INSTANT``
    0.4.0rc2 places a milestone at an instant (the start or the end of a day, ``milestone_at_day_end``), so its
    FS successor can start the same day. TruePPM's current engine dropped that model for the one Keelplan
    follows: a task occupies at least its start day, a milestone sits on a day and its FS successor starts the
    next working day. The difference reaches the milestone, early dates downstream of links touching it, late
    dates upstream of them (all late dates when the project finish moves), and the floats of those tasks.

``PYPI_SF_BEFORE_START``
    0.4.0rc2 takes a task with an incoming SF link off the project-start floor, so it can start before the
    project, and reads an SF lag from that position. The current engine and Keelplan never start a task before
    the project start. The difference reaches as a milestone's does, from each SF link.

Core networks (FS, SS and FF links, lags and leads, holidays, SNET dates) must match exactly, and each category
must actually occur in its family, so the test notices if either engine changes behaviour.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from datetime import timedelta

import trueppm_scheduler as tp  # the real PyPI package, a test dependency (pyproject's "test" extra)

from keelplan.engine import schedule
from keelplan.engine.formats import load_project

PYPI_MILESTONE_INSTANT = "0.4.0rc2 places a milestone at an instant"
PYPI_SF_BEFORE_START = "0.4.0rc2 lets an SF successor start before the project"
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
    duration = {t.id: t.duration.days for t in project.tasks}
    succs: dict = {}
    preds: dict = {}
    for d in project.dependencies:
        succs.setdefault(d.predecessor_id, []).append(d.successor_id)
        preds.setdefault(d.successor_id, []).append(d.predecessor_id)
    milestones = {tid for tid, d in duration.items() if d == 0}
    causes = {
        PYPI_MILESTONE_INSTANT: [d for d in project.dependencies
                                 if d.predecessor_id in milestones or d.successor_id in milestones],
        PYPI_SF_BEFORE_START: [d for d in project.dependencies if d.dep_type is tp.DependencyType.SF],
    }
    finish_moved = theirs.project_finish != ours.project_finish
    early_moved = {tid for tid, field, *_ in diffs if field in ("early_start", "early_finish")}
    reach = {}
    for category, links in causes.items():
        seeds = {d.successor_id for d in links} | ({*milestones} if category == PYPI_MILESTONE_INSTANT else set())
        reach[category] = (_closure(succs, seeds),                                  # early dates it can move
                           _closure(preds, {d.predecessor_id for d in links} | seeds))  # late dates it can move
    out = []
    for tid, field, *_ in diffs:
        found = None
        for category, (downstream, upstream) in reach.items():
            if not causes[category]:
                continue
            if field in ("early_start", "early_finish"):
                hit = tid in downstream
            elif field in ("late_start", "late_finish"):
                hit = tid in upstream or finish_moved
            else:
                hit = (tid in downstream or tid in upstream or finish_moved
                       or any(s in early_moved for s in succs.get(tid, ())))
            if hit:
                found = category
                break
        out.append(found)
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


def test_networks_with_milestones_differ_only_where_the_release_places_a_milestone_at_an_instant():
    found, unexplained = _run(range(500, 520), milestones=True)
    assert unexplained == []
    assert found[PYPI_MILESTONE_INSTANT] > 0 and PYPI_SF_BEFORE_START not in found


def test_networks_with_sf_links_differ_only_where_the_release_reads_sf_links_its_own_way():
    found, unexplained = _run(range(1000, 1020), sf=True)
    assert unexplained == []
    assert found[PYPI_SF_BEFORE_START] > 0 and PYPI_MILESTONE_INSTANT not in found


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
    assert set(classify(project, theirs, ours, diffs)) == {PYPI_SF_BEFORE_START}
