"""Write random networks and TruePPM's schedule of each, for tests/engine_cli/test_trueppm_reference.py.

The schedules come from TruePPM's current engine (trueppm-scheduler built from its source; the PyPI release is
older and places milestones differently). This script is run by hand, in an environment where that engine is
installed, whenever the networks should change; the test itself needs only the file it writes:

    python -m venv /tmp/oracle
    /tmp/oracle/bin/pip install <path to trueppm-scheduler's source> -e .
    /tmp/oracle/bin/python scripts/trueppm_reference.py

The networks mix everything both engines express: milestones, the four link types, leads and lags in elapsed
days, holidays, five weekly patterns, planned starts (start-no-earlier-than), per-task calendars, a status date,
and progress (finished, under way, complete by percent alone, an actual finish without an actual start, actual
dates on days off).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from datetime import timedelta
from importlib import metadata
from pathlib import Path

import trueppm_scheduler as tp

OUT = Path(__file__).resolve().parent.parent / "tests" / "engine_cli" / "data" / "trueppm-reference.json"
MASKS = (0b0011111, 0b0011111, 0b0111111, 0b1111111, 0b0101011)


def calendar(rng: random.Random, start: dt.date) -> tp.Calendar:
    holidays = sorted({start + timedelta(days=rng.randrange(-10, 250)) for _ in range(rng.randint(0, 14))})
    return tp.Calendar(working_days=rng.choice(MASKS), exceptions=[tp.DateRange(h, h) for h in holidays])


def progress(rng: random.Random, start: dt.date) -> dict:
    day = start + timedelta(days=rng.randrange(0, 20))
    pct = float(rng.choice([10, 25, 50, 75, 90]))
    return rng.choice([
        {"percent_complete": 100.0, "actual_start": day, "actual_finish": day + timedelta(days=rng.randrange(0, 10))},
        {"percent_complete": pct, "actual_start": day},
        {"percent_complete": pct},
        {"percent_complete": 100.0},
        {"percent_complete": 100.0, "actual_finish": day + timedelta(days=5)},
        {"percent_complete": 100.0, "actual_start": day},
    ])


def network(seed: int) -> tp.Project:
    rng = random.Random(seed)
    n = rng.randint(5, 60)
    start = dt.date(2026, 1, 5) + timedelta(days=rng.randrange(0, 300))
    with_progress = seed % 2 == 1
    registry = {f"cal{k}": calendar(rng, start) for k in range(rng.choice((0, 0, 2)))}
    tasks = []
    for i in range(n):
        extra = progress(rng, start) if with_progress and rng.random() < 0.2 else {}
        if registry and rng.random() < 0.3:
            extra["calendar_id"] = rng.choice(sorted(registry))
        snet = start + timedelta(days=rng.randrange(-5, 60)) if rng.random() < 0.12 else None
        duration = 0 if rng.random() < 0.15 else rng.randint(1, 10)
        tasks.append(tp.Task(id=f"T{i}", name=f"Task {i}", duration=timedelta(days=duration), planned_start=snet,
                             **extra))
    deps, pairs = [], set()
    for j in range(1, n):
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            i = rng.randrange(max(0, j - 12), j)
            if (i, j) in pairs:  # one link per pair of tasks in trueppm-scheduler's format
                continue
            pairs.add((i, j))
            lag = rng.choice((0, 0, 0, 0, -5, -3, -2, -1, 1, 2, 3, 4, 7))
            deps.append(tp.Dependency(f"T{i}", f"T{j}", rng.choice(list(tp.DependencyType)), timedelta(days=lag)))
    status = start + timedelta(days=rng.randrange(0, 30)) if with_progress and rng.random() < 0.5 else None
    return tp.Project(id=f"net{seed}", name=f"network {seed}", start_date=start, tasks=tasks, dependencies=deps,
                      calendar=calendar(rng, start), status_date=status, calendars=registry or None)


def expected(result: tp.ScheduleResult) -> dict:
    days = 86400
    return {
        "project_finish": result.project_finish.isoformat(),
        "critical_path": list(result.critical_path),
        "driving_edges": sorted([e.predecessor_id, e.successor_id] for e in result.driving_edges),
        # per task: early start, early finish, late start, late finish, total float, free float, critical
        "tasks": {t.id: [t.early_start.isoformat(), t.early_finish.isoformat(), t.late_start.isoformat(),
                         t.late_finish.isoformat(), t.total_float.total_seconds() // days,
                         t.free_float.total_seconds() // days, t.is_critical] for t in result.tasks},
    }


def compact(doc: dict) -> dict:
    """The project as trueppm-scheduler writes it, less the empty and computed task fields (both readers take
    a missing field as its default)."""
    keep = {"id", "duration", "planned_start", "percent_complete", "actual_start", "actual_finish",
            "calendar_id"}
    doc["tasks"] = [{k: v for k, v in t.items() if k in keep and v is not None and v != 0.0 or k == "duration"}
                    for t in doc["tasks"]]
    return {k: v for k, v in doc.items() if v is not None}


def main(count: int = 80) -> None:
    cases = []
    for seed in range(count):
        project = network(seed)
        cases.append({"seed": seed, "project": compact(json.loads(project.to_json())),
                      "expected": expected(tp.schedule(project))})
    doc = {"engine": f"trueppm-scheduler {metadata.version('trueppm-scheduler')} (from its source)",
           "licence": "Apache-2.0 (trueppm-scheduler); the networks are Keelplan's own", "cases": cases}
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} networks to {OUT}")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
