"""Exact agreement with TruePPM's current engine on 80 random networks.

``data/trueppm-reference.json`` holds random networks in trueppm-scheduler's format and the schedule TruePPM's
current engine (built from its source; see ``scripts/trueppm_reference.py``, which wrote the file) gives each:
milestones, all four link types, leads and lags, holidays, five weekly patterns, planned starts, per-task
calendars, status dates and progress of every kind. Keelplan must give the same project finish, critical path,
driving links and, for every task, early/late start and finish, total and free float and ``is_critical``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from keelplan.engine import schedule
from keelplan.engine.formats import load_project

DATA = json.loads((Path(__file__).parent / "data" / "trueppm-reference.json").read_text())
CASES = DATA["cases"]


def schedule_of(case) -> dict:
    project = load_project(json.dumps(case["project"]))
    result = schedule(project)
    return {
        "project_finish": result.project_finish.isoformat(),
        "critical_path": list(result.critical_path),
        "driving_edges": sorted([lk.predecessor, lk.successor]
                                for lk, on in zip(project.links, result.link_driving) if on),
        "tasks": {tid: [x.early_start.isoformat(), x.early_finish.isoformat(), x.late_start.isoformat(),
                        x.late_finish.isoformat(), x.total_float, x.free_float, x.is_critical]
                  for tid, x in result.tasks.items()},
    }


def test_the_networks_cover_what_they_claim():
    kinds = Counter()
    for case in CASES:
        p = case["project"]
        kinds["milestone"] += any(t["duration"] == 0 for t in p["tasks"])
        kinds["planned_start"] += any("planned_start" in t for t in p["tasks"])
        kinds["actual_finish_only"] += any("actual_finish" in t and "actual_start" not in t for t in p["tasks"])
        kinds["percent_only"] += any(t.get("percent_complete") and "actual_start" not in t for t in p["tasks"])
        kinds["task_calendar"] += any("calendar_id" in t for t in p["tasks"])
        kinds["status_date"] += "status_date" in p
        kinds["holidays"] += bool(p["calendar"]["exceptions"])
        kinds["lead"] += any(d["lag"] < 0 for d in p["dependencies"])
        for d in p["dependencies"]:
            kinds[d["dep_type"]] += 1
    assert len(CASES) == 80
    assert all(kinds[k] >= 5 for k in ("milestone", "planned_start", "actual_finish_only", "percent_only",
                                       "task_calendar", "status_date", "holidays", "lead", "FS", "SS", "FF", "SF"))


@pytest.mark.parametrize("case", CASES, ids=[f"seed{c['seed']}" for c in CASES])
def test_same_schedule_as_trueppm(case):
    ours, theirs = schedule_of(case), case["expected"]
    assert ours["project_finish"] == theirs["project_finish"]
    assert ours["critical_path"] == theirs["critical_path"]
    assert ours["driving_edges"] == theirs["driving_edges"]
    wrong = {tid: (theirs["tasks"][tid], mine) for tid, mine in ours["tasks"].items() if mine != theirs["tasks"][tid]}
    assert wrong == {}
