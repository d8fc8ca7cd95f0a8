"""Benchmark the Keelplan server over HTTP on PostgreSQL: large projects built through the bulk endpoint, then
single-task edits, new links and reading every task, timed from a client.

    .venv/bin/python benchmarks/server_scale.py                  # 1,000 / 10,000 / 100,000 tasks
    .venv/bin/python benchmarks/server_scale.py --sizes 1000 10000 --edits 20 --workers 2

What it does, in order:

1. Drops and creates the benchmark database (``--database-url``, default
   ``postgres://postgres@127.0.0.1:5432/keelplan_bench``) through psycopg, connected to the server's
   ``postgres`` database.
2. ``keelplan createuser bench --admin`` against it (this also migrates; having a user before the first
   ``serve`` keeps the demo workspace out of the measured database), then ``keelplan serve --workers N`` on a
   free port as a child process in a session of its own, with its own ``KEELPLAN_DATA_DIR`` in a temporary
   folder. The whole process group (gunicorn's workers included) is stopped at the end, also after an error or
   Ctrl-C. A JWT from ``POST /api/token/`` is sent as a Bearer header on one ``requests.Session``.
3. Per size: a new project, then a seeded random network created through
   ``POST /api/v1/projects/{id}/tasks/bulk/`` in requests of at most 10,000 tasks (a later request names the
   tasks of earlier ones by their server ids). Each task has one *backbone* link from one of the 10 tasks
   before it (80 % FS, 10 % SS, 10 % FF; lags in working days), which keeps the critical path long (about
   200 tasks at 1,000, 1,000 at 10,000 and 100,000); further links reach up to 200 tasks back (60 % FS, 15 % SS,
   15 % FF, 10 % SF; 30 % of their lags in elapsed days), for exactly two links per task, at most one per pair
   of tasks. Half of all links have a lead or lag of -3..5 days. 5 % of tasks are milestones, the others last
   1-15 working days. Links only run from an earlier task to a later one, so the network is acyclic. No
   summaries.
4. Runs ``ANALYZE`` on the database (not timed; ``--no-analyze`` skips it). Rows just imported have no planner
   statistics until autovacuum gets to them (within about a minute on a default cluster, never where autovacuum
   is off), and without them every page of the task list reads and sorts the whole project.
5. Measures, per size:

   - **create**: the sum of the bulk requests' times (request sent until the whole body is read);
   - **edit**: ``PATCH /api/v1/tasks/{id}/ {"duration": d+1}`` then ``{"duration": d}`` again, on tasks spread
     evenly along the critical path that ``GET /api/v1/projects/{id}/schedule/`` reports (preferring tasks whose
     driving links enter at their start and leave from their finish, so their duration is on the path; an
     edit near the start of the path moves every task after it); p50 and p95 over ``--edits`` requests after
     two warm-up edits. After each edit the schedule is read again (not timed) to check that
     ``project_finish`` moved; edits where it did not are counted;
   - **add link**: ``POST /api/v1/dependencies/`` FS between two tasks not yet linked, the predecessor earlier
     in generation order (so no cycle can form), ``--adds`` times, p50;
   - **load all**: ``GET /api/v1/tasks/?project={id}&page_size=1000`` (1000 is the largest page the API
     serves), following ``next`` until it is null, JSON decoding included; the number of tasks read must equal
     the number created.

It prints one table row per size, the Python and PostgreSQL versions, the worker count and the machine's load,
and checks the figures against the targets in ``TARGETS``. Any unexpected HTTP status stops the run with the
response body and the tail of the server's log (exit status 1).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

try:
    import psycopg
    import requests
    from psycopg import sql
except ImportError as exc:  # pragma: no cover - a hint for running it with the wrong interpreter
    sys.exit(f"server_scale.py needs requests and psycopg ({exc}); run it with the project's .venv/bin/python")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/keelplan_bench"
USERNAME = "bench"
PASSWORD = "bench-password-1"
START_DATE = dt.date(2026, 1, 5)
SEED = 1

BULK_CHUNK_TASKS = 10_000  # the endpoint takes at most 20,000 tasks and 50,000 links per request
BULK_MAX_LINKS = 50_000
PAGE_SIZE = 1000  # api/v1/pagination.py MAX_PAGE_SIZE
BACKBONE_REACH = 10
LINK_WINDOW = 200
LINK_TYPES = ("FS", "SS", "FF", "SF")
LINK_WEIGHTS = (60, 15, 15, 10)
BACKBONE_WEIGHTS = (80, 10, 10, 0)
ELAPSED_SHARE = 0.3
WARMUP_EDITS = 2

START_DEADLINE_SECONDS = 120
STOP_GRACE_SECONDS = 10
PORT_TAKEN_SIGNS = ("Address already in use", "Connection in use")
REQUEST_TIMEOUT = (10, 900)  # connect, read: a bulk request at 100,000 tasks may take minutes

# (what, size, SizeResult attribute, limit in seconds) from the acceptance text; checked for the sizes run.
TARGETS = (
    ("single-task edit p50", 10_000, "edit_p50", 0.150),
    ("single-task edit p50", 100_000, "edit_p50", 1.0),
    ("load all tasks page by page", 10_000, "load_seconds", 2.0),
    ("bulk create (10,000 tasks, 20,000 links)", 10_000, "create_seconds", 10.0),
)


class BenchmarkError(Exception):
    """The run cannot go on: an unexpected status, a wrong answer, or a server that does not start."""


# ---------------------------------------------------------------- the network

@dataclass
class Network:
    """Tasks by generation position (0..n-1) and links ``(i, j) -> (type, lag, unit)`` with ``i < j``."""

    uids: list[str]
    durations: list[int]
    links: dict[tuple[int, int], tuple[str, int, str]]

    @property
    def size(self) -> int:
        return len(self.uids)


def network(n: int, seed: int = SEED) -> Network:
    rng = random.Random(seed)
    # uids are unique across the whole database, so they cannot come from the seed (sizes share a prefix).
    uids = [str(uuid.uuid4()) for _ in range(n)]
    durations = [0 if rng.random() < 0.05 else rng.randint(1, 15) for _ in range(n)]
    links: dict[tuple[int, int], tuple[str, int, str]] = {}

    def add(i: int, j: int, backbone: bool) -> None:
        if (i, j) in links:
            return
        kind = rng.choices(LINK_TYPES, weights=BACKBONE_WEIGHTS if backbone else LINK_WEIGHTS)[0]
        lag = 0 if rng.random() < 0.5 else rng.randint(-3, 5)
        # An elapsed-day lag that ends on a weekend leaves its predecessor a day or two of float, which cuts
        # the critical path short; the backbone keeps working days so the path stays long.
        unit = "ed" if not backbone and rng.random() < ELAPSED_SHARE else "wd"
        links[(i, j)] = (kind, lag, unit)

    for j in range(1, n):
        add(j - rng.randint(1, min(BACKBONE_REACH, j)), j, True)
    possible = sum(min(j, LINK_WINDOW) for j in range(n))
    target = min(2 * n, possible)
    while len(links) < target:
        j = rng.randrange(1, n)
        add(rng.randrange(max(0, j - LINK_WINDOW), j), j, False)
    return Network(uids, durations, links)


def bulk_payloads(net: Network, ids: list[int | None], start: int, stop: int) -> dict:
    """The bulk request for tasks ``start..stop-1`` and the links into them; earlier tasks go by server id."""
    tasks = [{"uid": net.uids[i], "name": f"Task {i}", "duration": net.durations[i]} for i in range(start, stop)]

    def ref(i: int):
        return net.uids[i] if i >= start else ids[i]

    deps = [
        {"predecessor": ref(i), "successor": net.uids[j], "dep_type": kind, "lag": lag, "lag_unit": unit}
        for (i, j), (kind, lag, unit) in net.links.items() if start <= j < stop
    ]
    if len(deps) > BULK_MAX_LINKS:
        raise BenchmarkError(f"{len(deps)} links in one bulk request is over the endpoint's {BULK_MAX_LINKS}")
    return {"tasks": tasks, "dependencies": deps}


# ---------------------------------------------------------------- the database and the server

def _connect(database_url: str, dbname: str = "postgres"):
    """An autocommit connection to the URL's server, to ``dbname`` (the ``postgres`` database by default)."""
    parts = urlsplit(database_url)
    return psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                           user=unquote(parts.username or "postgres"),
                           password=unquote(parts.password or "") or None, dbname=dbname, autocommit=True)


def database_name(database_url: str) -> str:
    name = unquote(urlsplit(database_url).path.lstrip("/"))
    if not name or name == "postgres":
        raise BenchmarkError(f"--database-url must name a database of its own to drop and create, not {name!r}")
    return name


def recreate_database(database_url: str) -> str:
    """Drop and create the benchmark database; returns the PostgreSQL server's version."""
    name = database_name(database_url)
    with _connect(database_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return conn.execute("SHOW server_version").fetchone()[0]


def drop_database(database_url: str) -> None:
    with _connect(database_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(database_url))))


def analyze(database_url: str) -> None:
    """Refresh the planner's statistics, as autovacuum would within a minute or so of a large import."""
    with _connect(database_url, database_name(database_url)) as conn:
        conn.execute("ANALYZE")


def autovacuum_setting(database_url: str) -> str:
    with _connect(database_url) as conn:
        return conn.execute("SHOW autovacuum").fetchone()[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """``keelplan serve`` as a child process leading its own process group, and the environment it runs in."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    base_url: str = ""

    def output(self, limit: int = 6000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no output)"
        return text[-limit:] or "(no output)"

    def cli(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "keelplan.cli", *args], env=self.env, capture_output=True,
                                text=True, timeout=300)
        if result.returncode != 0:
            raise BenchmarkError(f"keelplan {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, workers: int) -> None:
        for attempt in range(3):
            port = free_port()
            command = [sys.executable, "-m", "keelplan.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                       "--workers", str(workers)]
            with open(self.log_path, "wb") as log:
                # A session of its own makes the server the leader of a group that holds all its workers.
                self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)
            self.base_url = f"http://127.0.0.1:{port}"
            if self._wait_until_up(retry_if_port_taken=attempt < 2):
                return
            self.stop()

    def _wait_until_up(self, *, retry_if_port_taken: bool) -> bool:
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while True:
            if self.process.poll() is not None:
                if retry_if_port_taken and any(sign in self.output() for sign in PORT_TAKEN_SIGNS):
                    return False
                raise BenchmarkError(f"keelplan serve exited with {self.process.returncode} before answering:\n"
                                     f"{self.output()}")
            try:
                status = requests.get(self.base_url + "/api/v1/projects/", timeout=2).status_code
            except requests.RequestException:
                status = None
            if status == 401:
                return True
            if time.monotonic() > deadline:
                raise BenchmarkError(f"keelplan serve did not answer within {START_DEADLINE_SECONDS} s "
                                     f"({status or 'no answer'}):\n{self.output()}")
            time.sleep(0.25)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_GRACE_SECONDS)
        # Whatever is left of the group (a worker that ignored SIGTERM) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE_SECONDS)


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KEELPLAN_DEBUG")}
    env.update({
        "DATABASE_URL": database_url,
        "KEELPLAN_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "keelplan.config.settings",
        "PYTHONUNBUFFERED": "1",
        # A run at 100,000 tasks takes far longer than the default 15 minutes of one access token.
        "KEELPLAN_ACCESS_MINUTES": "1440",
    })
    return env


# ---------------------------------------------------------------- talking to the server

class Client:
    """One keep-alive session; every call checks the status and returns the decoded body and its time."""

    def __init__(self, server: Server):
        self.server = server
        self.session = requests.Session()

    def login(self, username: str, password: str) -> None:
        body, _ = self.call("POST", "/api/token/", {200}, json={"username": username, "password": password})
        self.session.headers["Authorization"] = f"Bearer {body['access']}"

    def call(self, method: str, path: str, expect: set[int], **kwargs) -> tuple[object, float]:
        """``(body, seconds)``; seconds run from sending the request until the whole body is read."""
        url = path if path.startswith("http") else self.server.base_url + path
        started = time.perf_counter()
        try:
            response = self.session.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise BenchmarkError(f"{method} {url} failed after {time.perf_counter() - started:.1f} s: {exc}\n"
                                 f"--- server log (tail) ---\n{self.server.output()}") from None
        seconds = time.perf_counter() - started
        if response.status_code not in expect:
            raise BenchmarkError(f"{method} {url} answered {response.status_code} (expected "
                                 f"{' or '.join(map(str, sorted(expect)))}) after {seconds:.2f} s:\n"
                                 f"{response.text[:5000]}\n--- server log (tail) ---\n{self.server.output(3000)}")
        try:
            body = response.json() if response.content else None
        except ValueError:
            raise BenchmarkError(f"{method} {url} answered {response.status_code} with a body that is not JSON:\n"
                                 f"{response.text[:5000]}") from None
        return body, seconds


# ---------------------------------------------------------------- the measurements

@dataclass
class SizeResult:
    tasks: int
    links: int
    create_seconds: float = 0.0
    create_requests: list[float] = field(default_factory=list)
    edits: list[float] = field(default_factory=list)
    edits_moved: int = 0
    edits_not_recomputed: int = 0
    schedule_reads: list[float] = field(default_factory=list)
    compute_ms: list[float] = field(default_factory=list)  # the server's own engine time per edit, if it says
    adds: list[float] = field(default_factory=list)
    load_seconds: float = 0.0
    load_pages: int = 0

    @property
    def edit_p50(self) -> float:
        return percentile(self.edits, 50)


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default), so p95 of 20 values is not the max."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def create_project(client: Client, name: str) -> int:
    body, _ = client.call("POST", "/api/v1/projects/", {201}, json={
        "name": name, "identifier": f"bench-{uuid.uuid4().hex[:12]}", "start_date": START_DATE.isoformat(),
    })
    return body["id"]


def build(client: Client, project_id: int, net: Network, result: SizeResult) -> list[int]:
    """Create the network through the bulk endpoint; returns the server id of each task by position."""
    ids: list[int | None] = [None] * net.size
    for start in range(0, net.size, BULK_CHUNK_TASKS):
        stop = min(start + BULK_CHUNK_TASKS, net.size)
        payload = bulk_payloads(net, ids, start, stop)
        body, seconds = client.call("POST", f"/api/v1/projects/{project_id}/tasks/bulk/", {200, 201, 207},
                                    json=payload)
        result.create_requests.append(seconds)
        returned = body.get("tasks") if isinstance(body, dict) else None
        if not isinstance(returned, list) or len(returned) != len(payload["tasks"]):
            raise BenchmarkError(f"bulk request for tasks {start}..{stop - 1} returned "
                                 f"{len(returned) if isinstance(returned, list) else 'no'} tasks for "
                                 f"{len(payload['tasks'])} sent:\n{str(body)[:3000]}")
        by_uid = {row["uid"]: row["id"] for row in returned}
        for i in range(start, stop):
            if net.uids[i] not in by_uid:
                raise BenchmarkError(f"bulk response lacks task uid {net.uids[i]} (position {i})")
            ids[i] = by_uid[net.uids[i]]
        links_back = body.get("dependencies")
        if not isinstance(links_back, list) or len(links_back) != len(payload["dependencies"]):
            raise BenchmarkError(f"bulk request for tasks {start}..{stop - 1} returned "
                                 f"{len(links_back) if isinstance(links_back, list) else 'no'} dependencies for "
                                 f"{len(payload['dependencies'])} sent")
        print(f"    bulk tasks {start:,}..{stop - 1:,}: {len(payload['dependencies']):,} links, {seconds:.2f} s",
              flush=True)
    result.create_seconds = sum(result.create_requests)
    return ids


def read_schedule(client: Client, project_id: int, result: SizeResult) -> dict:
    body, seconds = client.call("GET", f"/api/v1/projects/{project_id}/schedule/", {200})
    result.schedule_reads.append(seconds)
    if not isinstance(body, dict) or "project_finish" not in body or "critical_path" not in body:
        raise BenchmarkError(f"the schedule lacks project_finish or critical_path:\n{str(body)[:3000]}")
    return body


def duration_on_path(path: list[int], position: dict[int, int], net: Network) -> list[int]:
    """Critical tasks whose duration lies on the critical path: their driving link in enters at their start
    (FS/SS, or none: the project start drives them) and the one out leaves from their finish (FS/FF, or none:
    they end the project). Lengthening such a task moves the project finish; for the others it may not."""
    found = []
    for k, tid in enumerate(path):
        here = position.get(tid)
        if here is None or net.durations[here] == 0:
            continue
        before = net.links.get((position.get(path[k - 1]), here)) if k > 0 else None
        after = net.links.get((here, position.get(path[k + 1]))) if k + 1 < len(path) else None
        enters_start = k == 0 or (before is not None and before[0] in ("FS", "SS"))
        leaves_finish = k + 1 == len(path) or (after is not None and after[0] in ("FS", "FF"))
        if enters_start and leaves_finish:
            found.append(tid)
    return found or [tid for tid in path if tid in position]


def measure_edits(client: Client, project_id: int, net: Network, ids: list[int], edits: int,
                  result: SizeResult) -> None:
    schedule = read_schedule(client, project_id, result)
    position = {tid: i for i, tid in enumerate(ids)}
    candidates = duration_on_path(schedule["critical_path"], position, net)
    if not candidates:
        raise BenchmarkError(f"the schedule names no critical task of this project: {str(schedule)[:2000]}")
    # Tasks spread evenly along the path: how many tasks an edit moves depends on where it sits.
    pairs = (WARMUP_EDITS + edits + 1) // 2
    chosen = [candidates[min(len(candidates) - 1, int((k + 0.5) * len(candidates) / pairs))] for k in range(pairs)]
    finish, computed_at = schedule["project_finish"], schedule.get("computed_at")
    durations = {}
    for n in range(WARMUP_EDITS + edits):
        # +1 then back to the original on the same task, so the project ends where it started.
        tid = chosen[n // 2]
        original = net.durations[position[tid]]
        new = original + 1 if n % 2 == 0 else original
        body, seconds = client.call("PATCH", f"/api/v1/tasks/{tid}/", {200}, json={"duration": new})
        if body.get("duration") != new:
            raise BenchmarkError(f"PATCH task {tid} duration {new} answered duration {body.get('duration')!r}")
        durations[tid] = new
        after = read_schedule(client, project_id, result)
        if n >= WARMUP_EDITS:
            result.edits.append(seconds)
            result.edits_moved += after["project_finish"] != finish
            result.edits_not_recomputed += computed_at is not None and after.get("computed_at") == computed_at
            if isinstance(after.get("compute_ms"), (int, float)):
                result.compute_ms.append(after["compute_ms"])
        finish, computed_at = after["project_finish"], after.get("computed_at")
    # An odd --edits leaves one task a day longer; the network must say so for what follows.
    for tid, value in durations.items():
        net.durations[position[tid]] = value


def measure_adds(client: Client, net: Network, ids: list[int], adds: int, result: SizeResult,
                 rng: random.Random) -> None:
    for _ in range(adds):
        while True:
            i = rng.randrange(0, net.size - 1)
            j = min(net.size - 1, i + rng.randint(2, LINK_WINDOW))
            if j > i and (i, j) not in net.links:
                break
        _, seconds = client.call("POST", "/api/v1/dependencies/", {201}, json={
            "predecessor": ids[i], "successor": ids[j], "dep_type": "FS", "lag": 0,
        })
        net.links[(i, j)] = ("FS", 0, "ed")
        result.adds.append(seconds)


def measure_load(client: Client, project_id: int, ids: list[int], result: SizeResult) -> None:
    url = f"/api/v1/tasks/?project={project_id}&page_size={PAGE_SIZE}"
    seen: set[int] = set()
    rows = pages = 0
    started = time.perf_counter()
    while url:
        body, _ = client.call("GET", url, {200})
        pages += 1
        rows += len(body["results"])
        seen.update(row["id"] for row in body["results"])
        url = body["next"]
    result.load_seconds = time.perf_counter() - started
    result.load_pages = pages
    if rows != len(ids) or seen != set(ids):
        raise BenchmarkError(f"reading the project page by page gave {rows} rows ({len(seen)} distinct ids) "
                             f"for {len(ids)} tasks created")


def run_size(client: Client, n: int, args) -> SizeResult:
    rng = random.Random(SEED + n)
    net = network(n)
    result = SizeResult(tasks=n, links=len(net.links))
    print(f"{n:,} tasks, {len(net.links):,} links", flush=True)
    project_id = create_project(client, f"Scale benchmark, {n:,} tasks")
    ids = build(client, project_id, net, result)
    print(f"    created in {result.create_seconds:.2f} s", flush=True)
    if not args.no_analyze:
        # Fresh rows have no statistics until something analyzes them; without them PostgreSQL plans a page of
        # 500 tasks as if the project had one, and every page reads and sorts the whole project.
        started = time.perf_counter()
        analyze(args.database_url)
        print(f"    ANALYZE (not timed) {time.perf_counter() - started:.1f} s", flush=True)
    print("    editing", flush=True)
    measure_edits(client, project_id, net, ids, args.edits, result)
    print(f"    edit p50 {result.edit_p50 * 1000:.0f} ms; adding links", flush=True)
    measure_adds(client, net, ids, args.adds, result, rng)
    print("    loading every task", flush=True)
    measure_load(client, project_id, ids, result)
    return result


# ---------------------------------------------------------------- report

def table(results: list[SizeResult]) -> str:
    header = (f"{'tasks':>8} {'links':>8} {'create s':>9} {'edit p50 ms':>12} {'edit p95 ms':>12} "
              f"{'add-link p50 ms':>16} {'load-all s (pages)':>19} {'finish moved':>13}")
    lines = [header, "-" * len(header)]
    for r in results:
        load = f"{r.load_seconds:.2f} ({r.load_pages})"
        lines.append(f"{r.tasks:>8,} {r.links:>8,} {r.create_seconds:>9.2f} {percentile(r.edits, 50) * 1000:>12.0f} "
                     f"{percentile(r.edits, 95) * 1000:>12.0f} {percentile(r.adds, 50) * 1000:>16.0f} "
                     f"{load:>19} {f'{r.edits_moved}/{len(r.edits)}':>13}")
    return "\n".join(lines)


def notes(results: list[SizeResult]) -> list[str]:
    out = []
    for r in results:
        bulk = r.create_requests
        how = (f"one request of {r.tasks:,} tasks and {r.links:,} links: {bulk[0]:.2f} s" if len(bulk) == 1 else
               f"{len(bulk)} requests of up to {BULK_CHUNK_TASKS:,} tasks: {min(bulk):.2f} / "
               f"{statistics.median(bulk):.2f} / {max(bulk):.2f} s (min / median / max), first {bulk[0]:.2f} s, "
               f"last {bulk[-1]:.2f} s")
        out.append(f"{r.tasks:,} tasks: bulk create in {how}; edit min/max {min(r.edits) * 1000:.0f}/"
                   f"{max(r.edits) * 1000:.0f} ms; add-link p95 {percentile(r.adds, 95) * 1000:.0f} ms; "
                   f"schedule read p50 {percentile(r.schedule_reads, 50) * 1000:.0f} ms"
                   + (f"; server compute_ms p50 {percentile(r.compute_ms, 50):.0f}" if r.compute_ms else ""))
        if r.edits_moved < len(r.edits):
            out.append(f"  {len(r.edits) - r.edits_moved} of {len(r.edits)} edits left project_finish where it was")
        if r.edits_not_recomputed:
            out.append(f"  {r.edits_not_recomputed} edits left the schedule's computed_at unchanged")
    return out


def check_targets(results: list[SizeResult]) -> list[str]:
    by_size = {r.tasks: r for r in results}
    out = []
    for what, size, column, limit in TARGETS:
        r = by_size.get(size)
        if r is None:
            continue
        value = getattr(r, column)
        shown = f"{value * 1000:.0f} ms" if limit < 1 else f"{value:.2f} s"
        wanted = f"{limit * 1000:.0f} ms" if limit < 1 else f"{limit:g} s"
        out.append(f"  {'ok  ' if value < limit else 'MISS'} {what} at {size:,} tasks: {shown} (target < {wanted})")
    return out


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# ---------------------------------------------------------------- main

@dataclass
class ServerRun:
    pg_version: str
    autovacuum: str
    load_before: str


def run_against_server(args, script: str, client_class, measure) -> ServerRun | int:
    """Drop and create ``args.database_url``, start ``keelplan serve --workers args.workers`` on it, log in with a
    ``client_class`` and run ``measure(client)``. The server's process group is always stopped and the database
    dropped (unless ``args.keep``). Returns the run's facts, or the exit status of a failed run (its reason
    printed on stderr)."""
    # SIGTERM ends the run the way Ctrl-C does, through the finally block that stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data_dir = Path(tempfile.mkdtemp(prefix="keelplan-bench-"))
    server = Server(env=server_env(args.database_url, data_dir), log_path=data_dir / "server.log")
    load_before = loadavg()
    try:
        pg_version = recreate_database(args.database_url)
        autovacuum = autovacuum_setting(args.database_url)
        server.cli("createuser", USERNAME, "--password", PASSWORD, "--admin")
        server.start(args.workers)
        print(f"keelplan serve --workers {args.workers} at {server.base_url} on {args.database_url}", flush=True)
        client = client_class(server)
        client.login(USERNAME, PASSWORD)
        measure(client)
    except BenchmarkError as exc:
        print(f"\n{script}: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"\n{script}: PostgreSQL at {args.database_url}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{script}: interrupted", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short and leave the server running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.stop()
        if args.keep:
            print(f"kept: database {args.database_url}, server data folder {data_dir}", file=sys.stderr)
        else:
            with contextlib.suppress(Exception):
                drop_database(args.database_url)
            shutil.rmtree(data_dir, ignore_errors=True)
    return ServerRun(pg_version, autovacuum, load_before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000], help="tasks per project")
    parser.add_argument("--edits", type=int, default=20, help="timed duration edits per size (after 2 warm-ups)")
    parser.add_argument("--adds", type=int, default=10, help="timed new links per size")
    parser.add_argument("--workers", type=int, default=2, help="keelplan serve --workers")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help="the database to drop, create and use (default: %(default)s)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="measure right after the bulk import, before the tables have statistics")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database and the server's data folder (its log) afterwards")
    args = parser.parse_args(argv)
    if min(args.sizes) < 20 or args.edits < 1 or args.adds < 1 or args.workers < 1:
        parser.error("sizes must be at least 20 tasks; --edits, --adds and --workers at least 1")

    results: list[SizeResult] = []

    def measure(client: Client) -> None:
        for n in args.sizes:
            results.append(run_size(client, n, args))

    run = run_against_server(args, "server_scale.py", Client, measure)
    if results:
        print()
        print(table(results))
    if isinstance(run, int):
        return run
    pg_version, autovacuum, load_before = run.pg_version, run.autovacuum, run.load_before
    print()
    print(f"Python {platform.python_version()}, PostgreSQL {pg_version} (autovacuum {autovacuum}; "
          f"{'no ANALYZE' if args.no_analyze else 'ANALYZE after each build'}), keelplan serve --workers "
          f"{args.workers}, {os.cpu_count()} CPUs, load average {load_before} before / {loadavg()} after")
    for line in notes(results):
        print(line)
    checks = check_targets(results)
    if checks:
        print("Targets:")
        print("\n".join(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
