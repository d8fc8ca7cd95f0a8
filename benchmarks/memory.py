"""Benchmark the memory a server process holds after touching many large projects, with the scheduling caches'
default byte bound (``KEELPLAN_SCHEDULE_CACHE_MB``) and with it off, in one run.

    .venv/bin/python benchmarks/memory.py                     # ten 20,000-task projects
    .venv/bin/python benchmarks/memory.py --projects 6 --tasks 5000

It uses ``server_scale.py``'s server process, client and network (run it as a script). In order:

1. ``keelplan createuser bench --admin`` on a fresh SQLite data folder, then ``keelplan serve`` (one process,
   the default deployment) builds ``--projects`` projects of ``--tasks`` tasks and two links a task through the
   bulk endpoint, and stops.
2. Twice, each time in a new server process on the same data: with ``KEELPLAN_SCHEDULE_CACHE_MB=0`` (no byte
   bound; the count bounds, 16 and 64 projects, stay) and with the default bound. The process's RSS is read
   from ``/proc/<pid>/status`` after start-up and after touching each project -- one ``PATCH`` of a task's
   duration to a value it did not have (which loads the project's inputs in full, schedules it and caches both) and one
   ``GET .../schedule/``.

It prints the RSS after each project for both settings, and the peak (``VmHWM``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

try:
    from server_scale import PASSWORD, USERNAME, BenchmarkError, Client, Server, bulk_payloads, network, server_env
except ImportError as exc:  # pragma: no cover - a hint for running it the wrong way
    sys.exit(f"memory.py needs server_scale.py next to it and requests ({exc}); run it as a script with the "
             "project's .venv/bin/python")


def status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def started(env: dict, data_dir: Path, label: str) -> tuple[Server, Client]:
    server = Server(env=env, log_path=data_dir / f"server-{label}.log")
    server.start(1)
    client = Client(server)
    client.login(USERNAME, PASSWORD)
    return server, client


def build(env: dict, data_dir: Path, projects: int, tasks: int) -> list[tuple[int, int]]:
    """``(project id, a task id)`` of each project built."""
    server, client = started(env, data_dir, "build")
    out = []
    try:
        for n in range(projects):
            body, _ = client.call("POST", "/api/v1/projects/", {201},
                                  json={"name": f"Large {n}", "start_date": "2026-01-05"})
            answer, seconds = client.call("POST", f"/api/v1/projects/{body['id']}/tasks/bulk/", {200},
                                          json=bulk_payloads(network(tasks, seed=n), [None] * tasks, 0, tasks))
            out.append((body["id"], answer["tasks"][tasks // 2]["id"]))
            print(f"  built project {n + 1}/{projects} ({tasks} tasks) in {seconds:.1f} s", flush=True)
    finally:
        server.stop()
    return out


def touch_all(env: dict, data_dir: Path, label: str, built: list[tuple[int, int]], duration: int
              ) -> tuple[list[float], float]:
    server, client = started(env, data_dir, label)
    try:
        pid = server.process.pid
        client.call("GET", "/api/v1/projects/", {200})
        rss = [status_mb(pid, "VmRSS")]
        for project_id, task_id in built:
            client.call("PATCH", f"/api/v1/tasks/{task_id}/", {200}, json={"duration": duration})
            client.call("GET", f"/api/v1/projects/{project_id}/schedule/", {200})
            rss.append(status_mb(pid, "VmRSS"))
        return rss, status_mb(pid, "VmHWM")
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=20_000, help="tasks per project (at most 20,000: one request)")
    args = parser.parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="keelplan-mem-"))
    env = server_env("", data_dir)
    env.pop("DATABASE_URL", None)
    env.pop("KEELPLAN_SCHEDULE_CACHE_MB", None)
    try:
        Server(env=env, log_path=data_dir / "cli.log").cli("createuser", USERNAME, "--password", PASSWORD, "--admin")
        built = build(env, data_dir, args.projects, args.tasks)
        runs = {}
        settings = (("bound off", {"KEELPLAN_SCHEDULE_CACHE_MB": "0"}), ("default bound", {}))
        for k, (label, extra) in enumerate(settings):
            print(f"touching every project, {label}", flush=True)
            # A new duration each run, so every PATCH moves a date and reschedules.
            runs[label] = touch_all({**env, **extra}, data_dir, label.replace(" ", "-"), built, 20 + k)
    except BenchmarkError as exc:
        print(f"\nmemory.py: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print()
    labels = list(runs)
    print(f"{'projects touched':>16}  " + "  ".join(f"{label + ' RSS MB':>20}" for label in labels))
    for n in range(args.projects + 1):
        print(f"{n:>16}  " + "  ".join(f"{runs[label][0][n]:>20.0f}" for label in labels))
    print(f"{'peak (VmHWM)':>16}  " + "  ".join(f"{runs[label][1]:>20.0f}" for label in labels))
    print()
    print(f"Python {platform.python_version()}, SQLite, keelplan serve (one process), {args.projects} projects of "
          f"{args.tasks} tasks and {2 * args.tasks} links, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
