"""Benchmark Keelplan's scheduling engine, and compare it with trueppm-scheduler where that is installed.

    python benchmarks/engine.py                    # 1,000 / 10,000 / 100,000 tasks
    python benchmarks/engine.py --sizes 1000 10000 --runs 3

For each size it builds one seeded random network: about two links per task (FS/SS/FF/SF, leads and lags in
working and elapsed days), three calendars (Mon-Fri, Mon-Sat and 7-day, each with about ten holidays a year),
tasks on each calendar, some SNET and FNLT constraints, milestones and a few summaries. It prints the number of
links, the median time of a full ``schedule()`` (network building, both passes, floats and the critical path)
over N runs after one warm-up, and the peak memory of one more call, traced with ``tracemalloc`` (Python
allocations made during the call, NumPy's included; that run is not timed).

trueppm-scheduler supports only part of this, so it gets a *restricted variant* of the same network, and
Keelplan is timed on that variant too, for a like-for-like ratio: every lag becomes elapsed days (its only
unit), FNLT constraints are dropped (it has SNET only, as ``planned_start``), summaries become plain tasks and
their links are dropped, and a second link between the same two tasks is dropped (it allows one per pair).
Its three calendars are kept, as a per-task calendar registry. trueppm-scheduler refuses more than 100,000
dependencies, so the comparison is left out for sizes whose variant has more.

Then, per size, it times small edits made with ``ProjectInput.evolve`` (what the server does to the project it
keeps in memory): one task's duration changed, one link's lag changed, a task added with a link, and a task
removed with its links, each the median of 11 runs; and one edit followed by a full ``schedule()`` of the
result, end to end.

trueppm-scheduler is used if it can be imported. To compare, install both in the benchmark's own environment:

    python -m venv /tmp/bench && /tmp/bench/bin/pip install -e . trueppm-scheduler==0.4.0rc2
    /tmp/bench/bin/python benchmarks/engine.py
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from keelplan.engine import (  # noqa: E402
    Calendar, CalendarException, ConstraintType, LagUnit, Link, LinkType, ProjectInput, Task, schedule,
)

try:
    import trueppm_scheduler as tp
except ImportError:  # the comparison column is skipped
    tp = None

START = dt.date(2026, 1, 5)
YEARS = 8
TRUEPPM_MAX_DEPENDENCIES = 100_000


def calendars(rng: random.Random) -> list[Calendar]:
    out = []
    for cid, mask in (("mon-fri", 0b0011111), ("mon-sat", 0b0111111), ("seven-day", 0b1111111)):
        holidays = sorted({START + dt.timedelta(days=rng.randrange(0, 365 * YEARS)) for _ in range(10 * YEARS)})
        out.append(Calendar(cid, mask, tuple(CalendarException(h, h) for h in holidays)))
    return out


def network(n: int, seed: int = 1) -> ProjectInput:
    rng = random.Random(seed)
    cals = calendars(rng)
    cal_ids = [c.id for c in cals]
    summaries = max(3, n // 2000)
    tasks: list[Task] = []
    for s in range(summaries):
        tasks.append(Task(f"S{s}", 0, name=f"Summary {s}"))
    for i in range(n - summaries):
        r = rng.random()
        kw = {}
        if r < 0.02:
            kw = dict(constraint=ConstraintType.SNET,
                      constraint_date=START + dt.timedelta(days=rng.randrange(0, 60 + i // 20)))
        elif r < 0.03:
            kw = dict(constraint=ConstraintType.FNLT,
                      constraint_date=START + dt.timedelta(days=rng.randrange(30, 120 + i // 10)))
        parent = f"S{i % summaries}" if i < summaries * 10 else None
        tasks.append(Task(f"T{i}", 0 if rng.random() < 0.05 else rng.randint(1, 15), name=f"Task {i}",
                          calendar=rng.choices(cal_ids, weights=(6, 3, 1))[0], parent=parent, **kw))
    leaves = [t.id for t in tasks if t.id.startswith("T")]
    links: list[Link] = []
    seen = set()
    kinds = (LinkType.FS, LinkType.SS, LinkType.FF, LinkType.SF)
    for j in range(1, len(leaves)):
        for _ in range(rng.choice((1, 2, 2, 3))):
            i = rng.randrange(max(0, j - 200), j)
            kind = rng.choices(kinds, weights=(60, 15, 15, 10))[0]
            if (i, j, kind) in seen:
                continue
            seen.add((i, j, kind))
            lag = 0 if rng.random() < 0.5 else rng.randint(-3, 5)
            unit = LagUnit.WORKING_DAYS if rng.random() < 0.5 else LagUnit.ELAPSED_DAYS
            links.append(Link(leaves[i], leaves[j], kind, lag, unit))
    # A few links into and out of summaries.
    for s in range(summaries):
        links.append(Link(leaves[rng.randrange(summaries * 10, len(leaves))] if s % 2 else f"S{s}",
                          f"S{s}" if s % 2 else leaves[rng.randrange(summaries * 10, len(leaves))]))
    # Summaries must not sit in a cycle with their own children: keep only links that go forward in id order
    # (a summary counts as its first child's position).
    position = {tid: k for k, tid in enumerate(leaves)}
    for s in range(summaries):
        position[f"S{s}"] = s  # its first child is T{s}
    links = [lk for lk in links if position[lk.predecessor] < position[lk.successor]
             or not (lk.predecessor.startswith("S") or lk.successor.startswith("S"))]
    return ProjectInput(start=START, tasks=tasks, links=links, calendars=cals, calendar="mon-fri")


def restricted(project: ProjectInput) -> ProjectInput:
    """The part of ``project`` trueppm-scheduler can express (see the module docstring)."""
    tasks = []
    for t in project.tasks:
        if t.id.startswith("S"):
            continue
        keep_snet = t.constraint is ConstraintType.SNET
        tasks.append(Task(t.id, t.duration, calendar=t.calendar, name=t.name,
                          constraint=ConstraintType.SNET if keep_snet else ConstraintType.ASAP,
                          constraint_date=t.constraint_date if keep_snet else None))
    pairs = set()
    links = []
    for lk in project.links:
        if lk.predecessor.startswith("S") or lk.successor.startswith("S"):
            continue
        if (lk.predecessor, lk.successor) in pairs:
            continue
        pairs.add((lk.predecessor, lk.successor))
        links.append(Link(lk.predecessor, lk.successor, lk.type, lk.lag, LagUnit.ELAPSED_DAYS))
    return ProjectInput(start=project.start, tasks=tasks, links=links, calendars=project.calendars,
                        calendar=project.calendar)


def to_trueppm(project: ProjectInput):
    def cal(c: Calendar):
        return tp.Calendar(working_days=c.working_days,
                           exceptions=[tp.DateRange(e.start, e.end) for e in c.exceptions])

    registry = {c.id: cal(c) for c in project.calendars}
    tasks = [tp.Task(id=t.id, name=t.name, duration=dt.timedelta(days=t.duration), calendar_id=t.calendar,
                     planned_start=t.constraint_date if t.constraint is ConstraintType.SNET else None)
             for t in project.tasks]
    deps = [tp.Dependency(lk.predecessor, lk.successor, tp.DependencyType(lk.type.value),
                          dt.timedelta(days=lk.lag)) for lk in project.links]
    return lambda: tp.Project(id="bench", name="bench", start_date=project.start, tasks=tasks, dependencies=deps,
                              calendar=registry[project.calendar], calendars=registry)


def median_time(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def edit_times(project: ProjectInput, runs: int) -> dict[str, float]:
    """Median times of ProjectInput.evolve for one-task and one-link edits, and of an edit plus schedule()."""
    task = project.tasks[len(project.tasks) // 2]  # a plain task (summaries come first)
    link = project.links[len(project.links) // 2]
    longer = dataclasses.replace(task, duration=task.duration + 1)
    its_links = [(lk.predecessor, lk.successor, lk.type) for lk in project.links
                 if task.id in (lk.predecessor, lk.successor)]
    edits = {
        "task": lambda: project.evolve(tasks=[longer]),
        "link": lambda: project.evolve(links=[dataclasses.replace(link, lag=link.lag + 1)]),
        "add": lambda: project.evolve(tasks=[Task("new", 2)], links=[Link(task.id, "new")]),
        "remove": lambda: project.evolve(remove_tasks=[task.id], remove_links=its_links),
    }
    times = {name: median_time(edit, 11) for name, edit in edits.items()}
    times["task+schedule"] = median_time(lambda: schedule(project.evolve(tasks=[longer])), runs)
    return times


def peak_mib(fn) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per size (3 at 100,000 tasks and up)")
    parser.add_argument("--no-trueppm", action="store_true", help="skip the trueppm-scheduler column")
    args = parser.parse_args(argv)
    use_tp = tp is not None and not args.no_trueppm
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"trueppm-scheduler {tp.__version__ if tp else 'not installed'}")
    if tp is None:
        print("trueppm-scheduler is not installed: comparison skipped (see the module docstring to install it).")
    header = (f"{'tasks':>8} {'links':>8} {'keelplan':>10} {'peak MiB':>9} | {'variant links':>13} "
              f"{'keelplan':>10} {'trueppm':>10} {'peak MiB':>9} {'ratio kp/tp':>11}")
    print(header)
    print("-" * len(header))
    notes = []
    edits = {}
    for n in args.sizes:
        runs = args.runs if n < 100_000 else min(args.runs, 3)
        project = network(n)
        full = median_time(lambda: schedule(project), runs)
        full_peak = peak_mib(lambda: schedule(project))
        line = f"{n:>8,} {len(project.links):>8,} {full:>9.3f}s {full_peak:>9.1f} | "
        variant = restricted(project)
        line += f"{len(variant.links):>13,} "
        ours = median_time(lambda: schedule(variant), runs)
        line += f"{ours:>9.3f}s "
        if not use_tp:
            line += f"{'-':>10} {'-':>9} {'-':>11}"
        elif len(variant.links) > TRUEPPM_MAX_DEPENDENCIES:
            line += f"{'refused':>10} {'-':>9} {'-':>11}"
            notes.append(f"{n:,} tasks: trueppm-scheduler refuses more than {TRUEPPM_MAX_DEPENDENCIES:,} "
                         f"dependencies (the variant has {len(variant.links):,}).")
        else:
            build = to_trueppm(variant)
            theirs = median_time(lambda: tp.schedule(build()), runs)
            their_peak = peak_mib(lambda: tp.schedule(build()))
            line += f"{theirs:>9.3f}s {their_peak:>9.1f} {ours / theirs:>11.3f}"
        print(line, flush=True)
        edits[n] = edit_times(project, runs)
    print()
    header = (f"{'tasks':>8} | {'evolve: task':>12} {'link':>8} {'add task':>9} {'remove task':>11} | "
              f"{'task + schedule':>15}")
    print(header)
    print("-" * len(header))
    for n, t in edits.items():
        print(f"{n:>8,} | {t['task'] * 1000:>10.1f}ms {t['link'] * 1000:>6.1f}ms {t['add'] * 1000:>7.1f}ms "
              f"{t['remove'] * 1000:>9.1f}ms | {t['task+schedule']:>14.3f}s")
    print()
    print("keelplan: full network (summaries, FNLT, working-day lags, several links per pair), median of the runs.")
    print("variant: the restricted network trueppm-scheduler can express (elapsed-day lags, SNET only, no")
    print("summaries, one link per pair, same three calendars); both engines are timed on it; ratio < 1 means")
    print("Keelplan is faster. Peak MiB: tracemalloc peak of one extra, untimed call.")
    print("evolve: a one-task or one-link edit of the full network (median of 11); task + schedule: that task edit")
    print("and a schedule() of the result, end to end (median of the runs).")
    for note in notes:
        print("note:", note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
