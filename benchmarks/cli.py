"""Benchmark ``keelplan schedule --json`` against ``trueppm-scheduler schedule --json`` on the same file.

    python benchmarks/cli.py                      # 10,000 tasks, 5 runs of each
    python benchmarks/cli.py --tasks 1000 --runs 9

It writes one project file in trueppm-scheduler's format (``Project.to_json()``'s shape, every key it writes
included): the restricted variant of ``benchmarks/engine.py``'s seeded network of the given size (about two
links per task of all four types, elapsed-day leads and lags, SNET dates, milestones, three calendars as a
per-task registry). Then it runs the two commands as whole processes, alternating them, and prints each one's
median wall time (Python's start, imports, reading and checking the file, scheduling and writing JSON to a
file) and the ratio. Both must exit 0.

``--trueppm CMD`` names a ``trueppm-scheduler`` command to compare with (give it twice to compare with two);
without it, one is looked for beside this Python (its venv's ``bin``), then on ``PATH``; with none, only
Keelplan's time is printed. Each one's package version is read from the interpreter its script runs with. The
test extra of pyproject.toml installs the PyPI release (0.4.0rc2); TruePPM's current engine, which Keelplan's
dates follow, installs from TruePPM's source (``pip install <trueppm>/packages/scheduler``) into a venv of its own:

    python -m venv /tmp/tp && /tmp/tp/bin/pip install <path to trueppm-scheduler's source>
    python benchmarks/cli.py --trueppm /tmp/tp/bin/trueppm-scheduler --trueppm .venv/bin/trueppm-scheduler
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from engine import network, restricted  # noqa: E402  (benchmarks/engine.py)

DAY = 86400
# Every key trueppm-scheduler's Task.to_json() writes, with its value for a task not yet scheduled.
TASK_KEYS = ("planned_finish", "early_start", "early_finish", "late_start", "late_finish", "actual_start",
             "actual_finish", "optimistic_duration", "most_likely_duration", "pessimistic_duration",
             "delivery_mode", "story_points", "scheduled_start")


def trueppm_document(project) -> dict:
    def calendar(c):
        return {"working_days": c.working_days, "exceptions": [{"start": e.start.isoformat(),
                                                                 "end": e.end.isoformat()} for e in c.exceptions],
                "hours_per_day": 8.0, "timezone": "UTC"}

    tasks = []
    for t in project.tasks:
        row = {"id": t.id, "name": t.name, "duration": float(t.duration * DAY),
               "planned_start": t.constraint_date.isoformat() if t.constraint_date else None}
        row.update(dict.fromkeys(TASK_KEYS[:5]))
        row.update({"total_float": 0.0, "free_float": 0.0, "is_critical": False, "percent_complete": 0.0})
        row.update(dict.fromkeys(TASK_KEYS[5:]))
        row["calendar_id"] = t.calendar
        tasks.append(row)
    deps = [{"predecessor_id": lk.predecessor, "successor_id": lk.successor, "dep_type": lk.type.value,
             "lag": float(lk.lag * DAY)} for lk in project.links]
    by_id = {c.id: c for c in project.calendars}
    return {"id": "bench", "name": "bench", "start_date": project.start.isoformat(), "tasks": tasks,
            "dependencies": deps, "calendar": calendar(by_id[project.calendar]), "velocity_samples": None,
            "sprint_length_days": None, "status_date": None,
            "calendars": {c.id: calendar(c) for c in project.calendars}}


def find_trueppm() -> list[str]:
    beside = os.path.join(os.path.dirname(sys.executable), "trueppm-scheduler")
    found = beside if os.access(beside, os.X_OK) else shutil.which("trueppm-scheduler")
    return [found] if found else []


def version_of(command: str) -> str:
    """trueppm-scheduler's version, asked of the Python its script starts with (its first line)."""
    try:
        with open(command) as fh:
            first = fh.readline()
        python = first[2:].strip() if first.startswith("#!") else sys.executable
        out = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('trueppm-scheduler'))"],
                             capture_output=True, text=True, timeout=60)
        return out.stdout.strip() or "unknown version"
    except (OSError, subprocess.SubprocessError):
        return "unknown version"


def run(command: list[str], out_path: str) -> float:
    with open(out_path, "wb") as out:
        t0 = time.perf_counter()
        done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trueppm", action="append", metavar="CMD", help="a trueppm-scheduler command")
    args = parser.parse_args(argv)
    project = restricted(network(args.tasks))
    keelplan = [sys.executable, "-m", "keelplan.cli", "schedule"]
    others = args.trueppm or find_trueppm()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "project.json")
        with open(path, "w") as fh:
            json.dump(trueppm_document(project), fh)
        size = os.path.getsize(path)
        ours, theirs = [], {cmd: [] for cmd in others}
        for _ in range(args.runs):  # alternating, so that a busy moment of the machine falls on both
            ours.append(run(keelplan + [path, "--json"], os.path.join(tmp, "keelplan.json")))
            for cmd in others:
                theirs[cmd].append(run([cmd, "schedule", path, "--json"], os.path.join(tmp, "trueppm.json")))
        with open(os.path.join(tmp, "keelplan.json")) as fh:
            finish = json.load(fh)["project_finish"]
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{dt.date.today().isoformat()}; median of {args.runs} runs each, alternating")
    print(f"file: {len(project.tasks):,} tasks, {len(project.links):,} dependencies, {size / 2**20:.1f} MiB "
          f"(trueppm-scheduler's format); Keelplan's project finish {finish}")
    mine = statistics.median(ours)
    print(f"  {'keelplan schedule --json':<52} {mine:7.3f}s   runs {' '.join(f'{t:.3f}' for t in ours)}")
    for cmd, times in theirs.items():
        label = f"trueppm-scheduler {version_of(cmd)} schedule --json"
        print(f"  {label:<52} {statistics.median(times):7.3f}s   runs {' '.join(f'{t:.3f}' for t in times)}"
              f"   -> Keelplan {statistics.median(times) / mine:.1f}x faster")
    if not others:
        print("  trueppm-scheduler is not installed here: no comparison")
    return 0


if __name__ == "__main__":
    sys.exit(main())
