"""Benchmark offline sync over HTTP on PostgreSQL: full and delta pulls of a 10,000-task project, page by page,
and a 500-task push against the same edits sent to the bulk endpoint.

    .venv/bin/python benchmarks/sync.py                          # 10,000 tasks, 5 runs of everything
    .venv/bin/python benchmarks/sync.py --tasks 10000 --runs 7 --edits 500 --page-sizes 1000 5000

It uses ``server_scale.py``'s database handling, server process, client and network, imported from it (so it
runs as a script, ``python benchmarks/sync.py``, which puts this folder on the import path). In order:

1. Drops and creates its own database (``--database-url``, default
   ``postgres://postgres@127.0.0.1:5432/keelplan_bench_sync``), ``keelplan createuser bench --admin``, then
   ``keelplan serve --workers N`` on a free port in a process group of its own, stopped at the end (also after
   an error or Ctrl-C), after which the database is dropped.
2. Builds ``server_scale.network(--tasks)`` (two links per task) in a new project through
   ``POST /api/v1/projects/{id}/tasks/bulk/``, then runs ``ANALYZE`` (not timed; ``--no-analyze`` skips it).
3. **full pull**: ``GET /api/v1/projects/{id}/sync/?last_pulled_at=0&page_size=P`` and then ``?cursor=...``
   until ``next_cursor`` is null, for each ``--page-sizes`` P; one warm-up pull, then ``--runs`` timed pulls.
   Timed: from the first request sent until the last page is read and JSON-decoded. Each pull must list every
   task and every link exactly once, give the same ``timestamp`` on every page and no ``created`` rows.
4. **push** (``--runs`` rounds after one warm-up round), each round two requests on the same ``--edits``
   tasks (spread evenly through the project, milestones left out):

   - ``POST /api/v1/projects/{id}/sync/`` with a new ``client_batch_id`` and ``changes.tasks.updated`` of
     ``{id, duration, base_version}`` rows, which reschedules the project once; the answer must apply every
     row with no conflict. Before it, as a client does, a delta pull from the last timestamp (all pages at
     page_size 1000; timed and reported as *pull after 500 edits*) gives ``last_pulled_at`` and each task's
     ``lock_version`` for ``base_version``;
   - the same edits through the bulk endpoint (``{"tasks": [{id, duration, lock_version}]}``), the baseline.

   Each request sets the durations to ``d+1`` or back to ``d`` (they alternate), and the order alternates
   between rounds (push then bulk, bulk then push), so both endpoints make the same edits, half of them
   lengthening the tasks and half shortening them back, and every request moves the schedule.
   A second series pushes ``--edits`` *name* changes (no reschedule: names are not a schedule input), to
   separate the cost of the write from the cost of rescheduling.
5. **delta pull**: one bulk request renames every task and lengthens every tenth one by a day (so change events
   name every task and the schedule event names the tasks whose dates moved); then, per page size, one warm-up
   and ``--runs`` timed pulls from the timestamp before that edit, all pages. Each must list every task once,
   no link and nothing deleted.

It prints one table (median, min and max of each figure; pages, rows and bytes of a pull), the Python and
PostgreSQL versions, the worker count, CPU count and load average, and checks the figures against ``TARGETS``.
Bytes are the decoded JSON bodies (``Content-Encoding`` is reported if the server compressed them). Where
``/proc`` exists, the *server CPU* column is the CPU time (user + system) the ``keelplan serve`` process group
(gunicorn's master and workers; not PostgreSQL) used during the measurement, median over the runs: on a busy
machine the wall times grow with the other load, the CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

try:
    from server_scale import (
        BenchmarkError, Client, Server, SizeResult, analyze, build, create_project, loadavg, network,
        run_against_server,
    )
except ImportError as exc:  # pragma: no cover - a hint for running it the wrong way
    sys.exit(f"sync.py needs psycopg and server_scale.py next to it ({exc}); run it as a script with the project's "
             "interpreter: .venv/bin/python benchmarks/sync.py")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/keelplan_bench_sync"
DEFAULT_PAGE_SIZE = 1000  # sync.selectors.PAGE_SIZE_DEFAULT
COLLECTIONS = ("projects", "tasks", "dependencies", "calendars", "memberships", "resources", "task_resources")

# (label, Figures key, limit in seconds) from the issue: "pulling 10,000 changed tasks from scratch (all pages)
# under 1 s on PostgreSQL; pushing 500 task edits under 1 s". Checked when the run used 10,000 tasks / 500 edits.
TARGETS = (
    ("full pull of 10,000 tasks, all pages, page_size 1000", "full pull, tasks only, page_size 1000", 1.0),
    ("full pull of 10,000 tasks, all pages, page_size 5000", "full pull, tasks only, page_size 5000", 1.0),
    ("full pull of 10,000 tasks and 20,000 links, page_size 1000", "full pull, page_size 1000", 1.0),
    ("full pull of 10,000 tasks and 20,000 links, page_size 5000", "full pull, page_size 5000", 1.0),
    ("push of 500 task edits (with the reschedule)", "push 500 duration edits", 1.0),
)


# ---------------------------------------------------------------- talking to the server

def server_cpu_seconds(server: Server) -> float | None:
    """User + system CPU seconds used so far by the server's process group (its leader and gunicorn's workers),
    from ``/proc``; None where there is no ``/proc``."""
    group = server.process.pid
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                # Fields after the parenthesised command name: state ppid pgrp ... utime (14th) stime (15th).
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


class SizedClient(Client):
    """``server_scale.Client`` that also remembers the last response, for its size and headers."""

    def __init__(self, server: Server):
        super().__init__(server)
        self.last_response = None
        self.cpu_before: float | None = None
        self.session.hooks["response"].append(self._remember)

    def _remember(self, response, *args, **kwargs):
        self.last_response = response

    def cpu_start(self) -> None:
        self.cpu_before = server_cpu_seconds(self.server)

    def cpu_used(self) -> float | None:
        after = server_cpu_seconds(self.server)
        return None if after is None or self.cpu_before is None else after - self.cpu_before


@dataclass
class Pull:
    seconds: float
    server_cpu: float | None
    pages: int
    rows: int                      # updated + deleted rows over all collections
    bytes: int
    timestamp: int
    page_seconds: list[float]
    updated: dict[str, list[dict]]
    deleted: dict[str, list[int]]
    encoding: str | None


def pull(client: SizedClient, project_id: int, since: int, page_size: int) -> Pull:
    """Every page of one pull from ``since``, timed from the first request to the last page decoded."""
    base = f"/api/v1/projects/{project_id}/sync/?page_size={page_size}"
    url = f"{base}&last_pulled_at={since}"
    updated: dict[str, list[dict]] = {name: [] for name in COLLECTIONS}
    deleted: dict[str, list[int]] = {name: [] for name in COLLECTIONS}
    page_seconds: list[float] = []
    timestamps: set[int] = set()
    nbytes = rows = 0
    encoding = None
    client.cpu_start()
    started = time.perf_counter()
    while True:
        body, seconds = client.call("GET", url, {200})
        page_seconds.append(seconds)
        nbytes += len(client.last_response.content)
        encoding = encoding or client.last_response.headers.get("Content-Encoding")
        timestamps.add(body["timestamp"])
        for name in COLLECTIONS:
            part = body["changes"][name]
            if part["created"]:
                raise BenchmarkError(f"a pull listed {len(part['created'])} created {name} (always empty)")
            updated[name].extend(part["updated"])
            deleted[name].extend(part["deleted"])
            rows += len(part["updated"]) + len(part["deleted"])
        cursor = body["next_cursor"]
        if body["has_more"] != (cursor is not None):
            raise BenchmarkError(f"has_more {body['has_more']} with next_cursor {cursor!r}")
        if cursor is None:
            break
        if len(page_seconds) > 10_000:
            raise BenchmarkError("a pull went on for more than 10,000 pages")
        url = f"{base}&cursor={quote(cursor, safe='')}"
    elapsed = time.perf_counter() - started
    server_cpu = client.cpu_used()
    if len(timestamps) != 1:
        raise BenchmarkError(f"the pages of one pull gave different timestamps: {sorted(timestamps)}")
    return Pull(elapsed, server_cpu, len(page_seconds), rows, nbytes, timestamps.pop(), page_seconds, updated, deleted, encoding)


def expect_rows(what: str, got: list[dict], wanted: set[int]) -> None:
    ids = [row["id"] for row in got]
    if len(ids) != len(wanted) or set(ids) != wanted:
        raise BenchmarkError(f"{what}: {len(ids)} rows ({len(set(ids))} distinct ids) for the {len(wanted)} expected; "
                             f"{len(wanted - set(ids))} missing, {len(set(ids) - wanted)} unexpected")


# ---------------------------------------------------------------- the figures

@dataclass
class Figure:
    """Repeated timings of one thing, and what one run of it moved."""

    seconds: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    pages: int | None = None
    rows: int | None = None
    bytes: int | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    def add(self, seconds: float, server_cpu: float | None) -> None:
        self.seconds.append(seconds)
        if server_cpu is not None:
            self.server_cpu.append(server_cpu)

    def add_pull(self, p: Pull) -> None:
        self.add(p.seconds, p.server_cpu)
        self.pages, self.rows, self.bytes = p.pages, p.rows, p.bytes


@dataclass
class Figures:
    tasks: int = 0
    links: int = 0
    create_seconds: float = 0.0
    by_name: dict[str, Figure] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Figure:
        return self.by_name.setdefault(name, Figure())


# ---------------------------------------------------------------- the measurements

def measure_full_pulls(client: SizedClient, project_id: int, ids: list[int], link_ids: set[int], page_sizes, runs: int,
                       figures: Figures) -> dict[int, int]:
    """Full pulls at each page size; returns each task's lock_version from the last one."""
    versions: dict[int, int] = {}
    for page_size in page_sizes:
        name = f"full pull, page_size {page_size}"
        for run in range(runs + 1):
            p = pull(client, project_id, 0, page_size)
            expect_rows(f"full pull at page_size {page_size}: tasks", p.updated["tasks"], set(ids))
            expect_rows(f"full pull at page_size {page_size}: dependencies", p.updated["dependencies"], link_ids)
            if run == 0:
                figures.notes.append(
                    f"{name}: per-collection rows " + ", ".join(f"{c} {len(p.updated[c])}" for c in COLLECTIONS)
                    + f"; warm-up {p.seconds:.2f} s")
                continue
            figures[name].add_pull(p)
            figures[f"  one page of it, page_size {page_size}"].seconds.extend(p.page_seconds)
            versions = {row["id"]: row["lock_version"] for row in p.updated["tasks"]}
        print(f"    {name}: median {figures[name].median:.2f} s, {figures[name].pages} pages, "
              f"{figures[name].rows:,} rows, {figures[name].bytes / 1e6:.1f} MB", flush=True)
        if p.encoding:
            figures.notes.append(f"pull bodies came with Content-Encoding {p.encoding}")
    return versions


def edited_tasks(ids: list[int], durations: list[int], edits: int) -> list[tuple[int, int]]:
    """``edits`` (position, id) pairs spread evenly through the project, milestones left out."""
    candidates = [(i, tid) for i, tid in enumerate(ids) if durations[i] > 0]
    if len(candidates) < edits:
        raise BenchmarkError(f"only {len(candidates)} tasks that are not milestones for {edits} edits")
    return [candidates[k * len(candidates) // edits] for k in range(edits)]


def push(client: SizedClient, project_id: int, since: int, rows: list[dict]) -> tuple[dict, float]:
    client.cpu_start()
    body, seconds = client.call("POST", f"/api/v1/projects/{project_id}/sync/", {200}, json={
        "client_batch_id": str(uuid.uuid4()), "last_pulled_at": since, "changes": {"tasks": {"updated": rows}},
    })
    conflicts = body["conflicts"]["tasks"] + body["conflicts"]["dependencies"]
    applied = body["applied"]["tasks"]["updated"]
    if conflicts or len(applied) != len(rows):
        raise BenchmarkError(f"a push of {len(rows)} edits applied {len(applied)} with {len(conflicts)} conflicts: "
                             f"{str(conflicts)[:3000]}")
    return body, seconds


def measure_pushes(client: SizedClient, project_id: int, ids: list[int], durations: list[int], since: int,
                   versions: dict[int, int], edits: int, runs: int, page_size: int, figures: Figures) -> int:
    """Rounds of (delta pull, push, bulk) on ``edits`` tasks; returns the last timestamp pulled."""
    chosen = edited_tasks(ids, durations, edits)
    tid_set = {tid for _, tid in chosen}
    pull_name, push_name, bulk_name = (f"pull after {edits} edits, page_size {page_size}",
                                       f"push {edits} duration edits", f"bulk {edits} duration edits (baseline)")
    ratios = []
    step = 0   # how many duration edits so far: even -> tasks at d, odd -> at d+1

    def fresh_pull() -> Pull:
        nonlocal since
        p = pull(client, project_id, since, page_size)
        for row in p.updated["tasks"]:
            versions[row["id"]] = row["lock_version"]
        since = p.timestamp
        return p

    def duration_rows(key: str) -> list[dict]:
        return [{"id": tid, "duration": durations[i] + (1 if step % 2 == 0 else 0), key: versions[tid]}
                for i, tid in chosen]

    for run in range(runs + 1):
        timed = run > 0
        times = {}
        for endpoint in (("sync", "bulk") if run % 2 == 0 else ("bulk", "sync")):
            if endpoint == "sync":
                # A client pulls before it pushes: the edits before this one (and their reschedules) are seen.
                p = fresh_pull()
                if step and not tid_set <= {row["id"] for row in p.updated["tasks"]}:
                    raise BenchmarkError("a pull after the edits did not list every edited task")
                if timed:
                    figures[pull_name].add_pull(p)
                body, seconds = push(client, project_id, since, duration_rows("base_version"))
                versions.update((row["id"], row["lock_version"]) for row in body["applied"]["tasks"]["updated"])
            else:
                client.cpu_start()
                body, seconds = client.call("POST", f"/api/v1/projects/{project_id}/tasks/bulk/", {200},
                                            json={"tasks": duration_rows("lock_version")})
                versions.update((row["id"], row["lock_version"]) for row in body["tasks"])
            times[endpoint] = seconds, client.cpu_used()
            step += 1
        if timed:
            figures[push_name].add(*times["sync"])
            figures[bulk_name].add(*times["bulk"])
            ratios.append(times["sync"][0] / times["bulk"][0])
        print(f"    round {run}{'' if timed else ' (warm-up)'}: push {times['sync'][0]:.3f} s, "
              f"bulk {times['bulk'][0]:.3f} s", flush=True)
    figures.notes.append(f"push / bulk for the same {edits} duration edits: median ratio "
                         f"{statistics.median(ratios):.2f} (per round: {', '.join(f'{r:.2f}' for r in ratios)})")
    if step % 2:   # leave the durations as generated
        client.call("POST", f"/api/v1/projects/{project_id}/tasks/bulk/", {200},
                    json={"tasks": [{"id": tid, "duration": durations[i]} for i, tid in chosen]})

    # Names only: the same write path, no reschedule.
    name = f"push {edits} name edits (no reschedule)"
    for run in range(runs + 1):
        fresh_pull()
        rows = [{"id": tid, "name": f"Task {i} (sync {run})", "base_version": versions[tid]} for i, tid in chosen]
        _, seconds = push(client, project_id, since, rows)
        if run:
            figures[name].add(seconds, client.cpu_used())
    return fresh_pull().timestamp


def measure_delta_pulls(client: SizedClient, project_id: int, ids: list[int], durations: list[int], since: int,
                        page_sizes, runs: int, figures: Figures) -> None:
    rows = [{"id": tid, "name": f"Task {i} (renamed)", **({"duration": durations[i] + 1} if i % 10 == 0 else {})}
            for i, tid in enumerate(ids)]
    _, seconds = client.call("POST", f"/api/v1/projects/{project_id}/tasks/bulk/", {200}, json={"tasks": rows})
    figures.notes.append(f"the edit of all {len(ids):,} tasks (one bulk request, every tenth one a day longer): "
                         f"{seconds:.2f} s")
    for page_size in page_sizes:
        name = f"delta pull of {len(ids):,} changed tasks, page_size {page_size}"
        for run in range(runs + 1):
            p = pull(client, project_id, since, page_size)
            expect_rows(f"delta pull at page_size {page_size}: tasks", p.updated["tasks"], set(ids))
            # (links whose is_driving flipped with the edits are listed too, rightly; deleted rows never are)
            if any(p.deleted.values()):
                raise BenchmarkError(f"a delta pull after task edits listed {sum(map(len, p.deleted.values()))} "
                                     f"deleted rows")
            if run:
                figures[name].add_pull(p)
        print(f"    {name}: median {figures[name].median:.2f} s, {figures[name].pages} pages", flush=True)


def measure_tasks_only(client: SizedClient, args, figures: Figures) -> None:
    """Full pulls of a second project holding only the tasks: what the issue's target names, without the links
    that make up two-thirds of the other project's rows."""
    net = network(args.tasks)
    project_id = create_project(client, f"Sync benchmark, {net.size:,} tasks, no links")
    for start in range(0, net.size, 10_000):
        stop = min(net.size, start + 10_000)
        client.call("POST", f"/api/v1/projects/{project_id}/tasks/bulk/", {200}, json={"tasks": [
            {"uid": str(uuid.uuid4()), "name": f"Task {i}", "duration": net.durations[i]} for i in range(start, stop)]})
    if not args.no_analyze:
        analyze(args.database_url)
    for page_size in args.page_sizes:
        name = f"full pull, tasks only, page_size {page_size}"
        for run in range(args.runs + 1):
            p = pull(client, project_id, 0, page_size)
            if len(p.updated["tasks"]) != net.size or p.updated["dependencies"]:
                raise BenchmarkError(f"a pull of the task-only project listed {len(p.updated['tasks'])} tasks and "
                                     f"{len(p.updated['dependencies'])} links")
            if run:
                figures[name].add_pull(p)
        print(f"    {name}: median {figures[name].median:.2f} s, {figures[name].pages} pages, "
              f"{figures[name].bytes / 1e6:.1f} MB", flush=True)


def run(client: SizedClient, args, figures: Figures) -> None:
    net = network(args.tasks)
    figures.tasks, figures.links = net.size, len(net.links)
    print(f"{net.size:,} tasks, {len(net.links):,} links", flush=True)
    project_id = create_project(client, f"Sync benchmark, {net.size:,} tasks")
    built = SizeResult(tasks=net.size, links=len(net.links))
    ids = build(client, project_id, net, built)
    figures.create_seconds = built.create_seconds
    if not args.no_analyze:
        analyze(args.database_url)
    first = pull(client, project_id, 0, 5000)
    link_ids = {row["id"] for row in first.updated["dependencies"]}
    if len(link_ids) != len(net.links):
        raise BenchmarkError(f"the first pull listed {len(link_ids)} links for the {len(net.links)} created")
    print("    full pulls", flush=True)
    versions = measure_full_pulls(client, project_id, ids, link_ids, args.page_sizes, args.runs, figures)
    print(f"    pushes of {args.edits} edits", flush=True)
    since = measure_pushes(client, project_id, ids, net.durations, first.timestamp, versions, args.edits, args.runs,
                           DEFAULT_PAGE_SIZE, figures)
    print("    delta pulls", flush=True)
    measure_delta_pulls(client, project_id, ids, net.durations, since, args.page_sizes, args.runs, figures)
    print("    full pulls of a project with the tasks only", flush=True)
    measure_tasks_only(client, args, figures)


# ---------------------------------------------------------------- report

def table(figures: Figures) -> str:
    header = (f"{'what':<52} {'median s':>9} {'min s':>7} {'max s':>7} {'runs':>5} {'server CPU s':>13} "
              f"{'pages':>6} {'rows':>7} {'MB':>6}")
    lines = [header, "-" * len(header)]
    for name, f in figures.by_name.items():
        if not f.seconds:
            continue
        pages = "" if f.pages is None else f"{f.pages}"
        rows = "" if f.rows is None else f"{f.rows:,}"
        mb = "" if f.bytes is None else f"{f.bytes / 1e6:.1f}"
        cpu = f"{statistics.median(f.server_cpu):.2f}" if f.server_cpu else ""
        lines.append(f"{name:<52} {f.median:>9.3f} {min(f.seconds):>7.3f} {max(f.seconds):>7.3f} "
                     f"{len(f.seconds):>5} {cpu:>13} {pages:>6} {rows:>7} {mb:>6}")
    return "\n".join(lines)


def check_targets(figures: Figures, args) -> list[str]:
    out = []
    if figures.tasks != 10_000 or args.edits != 500:
        return out
    for what, name, limit in TARGETS:
        f = figures.by_name.get(name)
        if f is None or not f.seconds:
            continue
        cpu = f", server CPU {statistics.median(f.server_cpu):.2f} s" if f.server_cpu else ""
        out.append(f"  {'ok  ' if f.median < limit else 'MISS'} {what}: median {f.median:.2f} s{cpu} "
                   f"(target < {limit:g} s)")
    return out


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks in the project (default %(default)s)")
    parser.add_argument("--edits", type=int, default=500, help="task edits per push (default %(default)s)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each figure, after one warm-up")
    parser.add_argument("--page-sizes", type=int, nargs="+", default=[1000, 5000], help="pull page sizes")
    parser.add_argument("--workers", type=int, default=2, help="keelplan serve --workers")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help="the database to drop, create and use (default: %(default)s)")
    parser.add_argument("--no-analyze", action="store_true", help="measure before the tables have statistics")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database and the server's data folder (its log) afterwards")
    args = parser.parse_args(argv)
    if args.tasks < 20 or not 1 <= args.edits <= min(5000, args.tasks // 2) or args.runs < 1 or args.workers < 1:
        parser.error("--tasks at least 20; --edits 1..5000 and at most half the tasks; --runs and --workers >= 1")
    if not all(1 <= p <= 5000 for p in args.page_sizes):
        parser.error("page sizes are 1..5000")

    figures = Figures()
    run_ = run_against_server(args, "sync.py", SizedClient, lambda client: run(client, args, figures))
    if isinstance(run_, int):
        return run_
    pg_version, autovacuum, load_before = run_.pg_version, run_.autovacuum, run_.load_before
    print()
    print(f"{figures.tasks:,} tasks, {figures.links:,} links (built through the bulk endpoint in "
          f"{figures.create_seconds:.2f} s); {args.edits} edits per push; median of {args.runs} runs after a warm-up")
    print(table(figures))
    print()
    print(f"Python {platform.python_version()}, PostgreSQL {pg_version} (autovacuum {autovacuum}; "
          f"{'no ANALYZE' if args.no_analyze else 'ANALYZE after the build'}), keelplan serve --workers "
          f"{args.workers}, {os.cpu_count()} CPUs, load average {load_before} before / {loadavg()} after")
    for line in figures.notes:
        print(line)
    checks = check_targets(figures, args)
    if checks:
        print("Targets:")
        print("\n".join(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
