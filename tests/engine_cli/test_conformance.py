"""TruePPM's 32 valid conformance vectors give TruePPM's schedule exactly.

Each project in ``data/trueppm-conformance`` (TruePPM's own vectors, Apache-2.0) is read with the trueppm-format
reader, scheduled by Keelplan's engine and compared with ``expected/``: the project finish, the critical path
(every critical task, in TruePPM's order), the driving links and, for every task, the early and late start and
finish, total and free float (``expected/`` holds them in seconds) and ``is_critical``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keelplan.engine import schedule
from keelplan.engine.formats import load_project

VECTORS = Path(__file__).parent / "data" / "trueppm-conformance"
VALID = sorted(p.name for p in VECTORS.glob("*.json"))
DAY = 86400


def test_all_32_vectors_are_here():
    assert len(VALID) == 32
    assert {p.name for p in (VECTORS / "expected").glob("*.json")} == set(VALID)


def differences(name: str) -> list:
    expected = json.loads((VECTORS / "expected" / name).read_text())
    project = load_project((VECTORS / name).read_text())
    result = schedule(project)
    out = []
    if result.project_finish.isoformat() != expected["project_finish"]:
        out.append(("project_finish", expected["project_finish"], result.project_finish.isoformat()))
    if list(result.critical_path) != expected["critical_path"]:
        out.append(("critical_path", expected["critical_path"], list(result.critical_path)))
    driving = sorted((lk.predecessor, lk.successor) for lk, on in zip(project.links, result.link_driving) if on)
    theirs = sorted((e["predecessor_id"], e["successor_id"]) for e in expected["driving_edges"])
    if driving != theirs:
        out.append(("driving_edges", theirs, driving))
    for task in expected["tasks"]:
        ours = result[task["id"]]
        for field in ("early_start", "early_finish", "late_start", "late_finish"):
            if getattr(ours, field).isoformat() != task[field]:
                out.append((task["id"], field, task[field], getattr(ours, field).isoformat()))
        for field in ("total_float", "free_float"):
            if getattr(ours, field) * DAY != task[field]:
                out.append((task["id"], field, task[field] / DAY, getattr(ours, field)))
        if ours.is_critical != task["is_critical"]:
            out.append((task["id"], "is_critical", task["is_critical"], ours.is_critical))
    return out


@pytest.mark.parametrize("name", VALID)
def test_vector(name):
    assert differences(name) == []


def test_a_changed_expectation_is_noticed():
    """The comparison reads what it says: a milestone moved by one day in the expected output is a difference."""
    expected = json.loads((VECTORS / "expected" / "milestone_tasks.json").read_text())
    m = next(t for t in expected["tasks"] if t["id"] == "M")
    assert m["early_start"] == "2026-04-08"  # the milestone sits on the day after A ends, not on A's last day
    result = schedule(load_project((VECTORS / "milestone_tasks.json").read_text()))
    assert result["M"].early_start.isoformat() == "2026-04-08"
    assert result["B"].early_start.isoformat() == "2026-04-09"
