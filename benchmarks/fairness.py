"""Benchmark fairness under heavy requests: three parallel 20,000-task bulk requests (by one user, then by three
users) against a real server, and the latency meanwhile of a small ``GET .../schedule/`` read and a small
``PATCH`` write of another user's project, with the heavy-request gate off and on, in one run.

    .venv/bin/python benchmarks/fairness.py                            # PostgreSQL (--workers 3) and SQLite
    .venv/bin/python benchmarks/fairness.py --backends sqlite --tasks 5000

It uses ``server_scale.py``'s server process, client and network, imported from it (run it as a script,
``python benchmarks/fairness.py``, which puts this folder on the import path). Per backend and per gate setting
(off: ``KEELPLAN_HEAVY_PER_USER=0 KEELPLAN_HEAVY_SERVER=0``; on: the defaults, one heavy request per user and
workers - 1 in all), a fresh server:

1. PostgreSQL: ``run_against_server`` drops and creates ``--database-url``, creates the admin ``bench`` and starts
   ``keelplan serve --workers N``. SQLite: ``keelplan serve`` (one process, a thread per request, the default
   deployment) on a fresh data folder.
2. Users ``mallory``, ``trudy``, ``eve`` (the attackers) are created with ``keelplan createuser``; ``bench``
   (the victim) builds a 200-task project through the bulk endpoint.
3. Idle figures: 20 schedule reads and 20 one-task writes of the victim's project, one after another.
4. Attack, twice: (a) ``mallory`` sends three ``--tasks``-task bulk requests (two links a task, the body
   encoded beforehand) at once, each into a project of her own; (b) ``mallory``, ``trudy`` and ``eve`` send
   one each. Attackers do not retry a 429. Meanwhile one thread reads the victim's schedule and another writes
   one of its tasks (duration up and down), in a loop until every bulk request has answered; every read and
   write must answer 200.

It prints, per backend, gate and scenario: the victim's read and write latency (p50, p95, max, count), how many
what the bulk requests answered (200, 429, or 500 where SQLite gave up waiting for its lock), and how long
the attack lasted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

try:
    from server_scale import (
        PASSWORD, USERNAME, BenchmarkError, Client, Server, bulk_payloads, loadavg, network, percentile,
        run_against_server, server_env,
    )
except ImportError as exc:  # pragma: no cover - a hint for running it the wrong way
    sys.exit(f"fairness.py needs server_scale.py next to it and requests/psycopg ({exc}); run it as a script "
             "with the project's .venv/bin/python")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/keelplan_bench_fairness"
ATTACKERS = ("mallory", "trudy", "eve")
VICTIM_TASKS = 200
IDLE_PROBES = 20
GATE_OFF = {"KEELPLAN_HEAVY_PER_USER": "0", "KEELPLAN_HEAVY_SERVER": "0"}


@dataclass
class Figures:
    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    bulk_status: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # victim requests answered other than 200
    seconds: float = 0.0


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"p50 {percentile(values, 50) * 1000:7.0f} ms  p95 {percentile(values, 95) * 1000:7.0f} ms  "
            f"max {max(values) * 1000:7.0f} ms  (n={len(values)})")


def logged_in(server: Server, username: str, password: str) -> Client:
    client = Client(server)
    client.login(username, password)
    return client


def victim_setup(client: Client) -> tuple[int, int]:
    """The victim's project and one of its tasks."""
    body, _ = client.call("POST", "/api/v1/projects/", {201}, json={"name": "Victim", "start_date": "2026-01-05"})
    project_id = body["id"]
    net = network(VICTIM_TASKS, seed=7)
    answer, _ = client.call("POST", f"/api/v1/projects/{project_id}/tasks/bulk/", {200},
                            json=bulk_payloads(net, [None] * VICTIM_TASKS, 0, VICTIM_TASKS))
    return project_id, answer["tasks"][VICTIM_TASKS // 2]["id"]


def probe(client: Client, project_id: int, task_id: int, figures: Figures, stop: threading.Event,
          kind: str, errors: list) -> None:
    """Reads or writes until ``stop``; an answer other than 200 is counted as failed (with its time) and the
    loop goes on: a refused victim is the figure, not an error of the benchmark."""
    duration = 2
    base = client.server.base_url
    try:
        while not stop.is_set():
            started = time.perf_counter()
            if kind == "read":
                response = client.session.get(f"{base}/api/v1/projects/{project_id}/schedule/", timeout=(10, 900))
            else:
                duration = 3 if duration == 2 else 2
                response = client.session.patch(f"{base}/api/v1/tasks/{task_id}/", json={"duration": duration},
                                                timeout=(10, 900))
            seconds = time.perf_counter() - started
            (figures.reads if kind == "read" else figures.writes).append(seconds)
            if response.status_code != 200:
                figures.failed.append(f"{kind} {response.status_code} after {seconds:.1f} s")
    except Exception as exc:  # reported by the caller
        errors.append(exc)


def attack(server: Server, attackers: list[tuple[Client, int, bytes]], project_id: int, task_id: int) -> Figures:
    figures = Figures()
    stop = threading.Event()
    errors: list = []
    readers = [threading.Thread(target=probe, args=(logged_in(server, USERNAME, PASSWORD), project_id, task_id,
                                                    figures, stop, kind, errors)) for kind in ("read", "write")]
    for thread in readers:
        thread.start()

    def send(client: Client, target: int, body: bytes) -> None:
        try:
            response = client.session.post(f"{server.base_url}/api/v1/projects/{target}/tasks/bulk/", data=body,
                                           headers={"Content-Type": "application/json"}, timeout=(10, 900))
            # Anything else (SQLite's "database is locked" 500 past its 30 s wait) is a figure too.
            figures.bulk_status.append(response.status_code)
        except Exception as exc:  # reported below
            errors.append(exc)

    started = time.perf_counter()
    senders = [threading.Thread(target=send, args=triple) for triple in attackers]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    figures.seconds = time.perf_counter() - started
    stop.set()
    for thread in readers:
        thread.join()
    if errors:
        raise BenchmarkError(f"{errors[0]}\n--- server log (tail) ---\n{server.output(3000)}")
    return figures


def scenarios(server: Server, client: Client, tasks: int) -> dict[str, tuple[Figures, Figures]]:
    """Idle and attack figures of one server: ``{"idle": ..., "one user": ..., "three users": ...}``."""
    for name in ATTACKERS:
        server.cli("createuser", name, "--password", PASSWORD)
    project_id, task_id = victim_setup(client)
    idle = Figures()
    for n in range(IDLE_PROBES):
        idle.reads.append(client.call("GET", f"/api/v1/projects/{project_id}/schedule/", {200})[1])
        idle.writes.append(client.call("PATCH", f"/api/v1/tasks/{task_id}/", {200}, json={"duration": 2 + n % 2})[1])
    net = network(tasks, seed=11)
    out = {"idle": idle}
    for label, users in (("one user x3", [ATTACKERS[0]] * 3), ("three users x1", list(ATTACKERS))):
        attackers = []
        for username in users:
            attacker = logged_in(server, username, PASSWORD)
            body, _ = attacker.call("POST", "/api/v1/projects/", {201}, json={"name": f"{label} {len(attackers)}",
                                                                              "start_date": "2026-01-05"})
            attackers.append((attacker, body["id"]))
        # Each request its own uids (the same network), encoded before the clock starts.
        bodies = [json.dumps(bulk_payloads(replace(net, uids=[str(uuid.uuid4()) for _ in range(tasks)]),
                                           [None] * tasks, 0, tasks)).encode() for _ in attackers]
        print(f"  {label}: {len(users)} bulk requests of {tasks} tasks, {len(bodies[0]) / 2**20:.1f} MB each",
              flush=True)
        out[label] = attack(server, [(c, p, b) for (c, p), b in zip(attackers, bodies)], project_id, task_id)
    return out


def run_postgres(args, gate: str) -> dict | int:
    results: dict = {}
    env_extra = GATE_OFF if gate == "off" else {}
    saved = {k: os.environ.get(k) for k in env_extra}
    os.environ.update(env_extra)  # server_env copies the environment
    try:
        run = run_against_server(args, "fairness.py", Client,
                                 lambda client: results.update(scenarios(client.server, client, args.tasks)))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return run if isinstance(run, int) else results


def run_sqlite(args, gate: str) -> dict | int:
    data_dir = Path(tempfile.mkdtemp(prefix="keelplan-fair-"))
    env = server_env("", data_dir)
    env.pop("DATABASE_URL", None)
    if gate == "off":
        env.update(GATE_OFF)
    server = Server(env=env, log_path=data_dir / "server.log")
    try:
        server.cli("createuser", USERNAME, "--password", PASSWORD, "--admin")
        server.start(1)
        print(f"keelplan serve (SQLite, one process) at {server.base_url}", flush=True)
        return scenarios(server, logged_in(server, USERNAME, PASSWORD), args.tasks)
    except BenchmarkError as exc:
        print(f"\nfairness.py: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", choices=["postgres", "sqlite"], default=["postgres", "sqlite"])
    parser.add_argument("--tasks", type=int, default=20_000, help="tasks per bulk request (at most 20,000)")
    parser.add_argument("--workers", type=int, default=3, help="keelplan serve --workers on PostgreSQL")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help="the PostgreSQL database to drop, create and use (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    args = parser.parse_args(argv)
    load_before = loadavg()
    table: list[str] = []
    for backend in args.backends:
        for gate in ("off", "on"):
            print(f"{backend}, gate {gate}", flush=True)
            result = (run_postgres if backend == "postgres" else run_sqlite)(args, gate)
            if isinstance(result, int):
                return result
            setup = f"PostgreSQL, --workers {args.workers}" if backend == "postgres" else "SQLite, one process"
            rows = []
            for label, figures in result.items():
                bulk = ""
                if figures.bulk_status:
                    counts = ", ".join(f"{figures.bulk_status.count(code)} x {code}"
                                       for code in sorted(set(figures.bulk_status)))
                    bulk = f"  bulk: {counts} in {figures.seconds:.1f} s"
                rows.append(f"{setup:<26} gate {gate:<3} {label:<15} read  {summary(figures.reads)}")
                rows.append(f"{'':<26} {'':<8} {'':<15} write {summary(figures.writes)}{bulk}")
                if figures.failed:
                    rows.append(f"{'':<26} {'':<8} {'':<15} victim requests failed: {len(figures.failed)} "
                                f"({'; '.join(figures.failed[:3])})")
            print("\n".join(rows), flush=True)
            table += rows
    print()
    print(f"Python {platform.python_version()}, {args.tasks} tasks and {2 * args.tasks} links per bulk request, "
          f"{os.cpu_count()} CPUs, load average {load_before} before / {loadavg()} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
