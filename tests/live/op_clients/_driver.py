"""The protocol every client driver speaks with its test (``tests/live/test_openproject_clients.py``, and
``tests/live/test_beebole_client.py``, whose driver imports this module from ``bb_client/``).

A driver runs inside one client's own virtual environment (never Keelplan's), reads a plan as JSON on stdin
(``base_url``, ``token``, ``scenario`` and the scenario's inputs), runs the scenario through the client's public
API and prints one JSON line: ``{"ok": true, "steps": [...], "result": {...}}``, or on the first failure
``{"ok": false, "step": <the step that failed>, "steps": <those done>, "error": <the exception chain>}``. The
token travels on stdin so that it never shows in a process list.

The drivers only report what the client returned; the test decides what is right.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback


class Steps:
    """Names the step in progress, so that a failure says which client call broke."""

    def __init__(self) -> None:
        self.current = "start"
        self.done: list[str] = []

    @contextlib.contextmanager
    def __call__(self, name: str):
        self.current = name
        yield
        self.done.append(name)


def _chain(exc: BaseException) -> str:
    """The exception and every cause under it: clients wrap the HTTP error (and the server's body) in their own."""
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    return "\n  caused by ".join(parts)


def run(scenarios: dict) -> int:
    plan = json.load(sys.stdin)
    steps = Steps()
    try:
        result = scenarios[plan["scenario"]](plan, steps)
    except Exception as exc:  # noqa: BLE001 - every failure is reported to the test, which fails on it
        report = {"ok": False, "step": steps.current, "steps": steps.done, "error": _chain(exc),
                  "traceback": traceback.format_exc(limit=-6)}
        print(json.dumps(report, default=str))
        return 1
    print(json.dumps({"ok": True, "steps": steps.done, "result": result}, default=str))
    return 0


def pick_type(types: list[dict]) -> dict:
    """The type work packages are made with: the first that is not a milestone (milestones have one date)."""
    for row in types:
        if not row.get("isMilestone"):
            return row
    raise AssertionError(f"no non-milestone type among {[row.get('name') for row in types]}")
