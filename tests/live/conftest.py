"""Live-server helpers: run ``keelplan serve`` as a real process on a free port and talk to it over HTTP only.

These tests never touch pytest-django's test database. Each server gets its own fresh data folder (SQLite) or
the ``DATABASE_URL`` it is given, and is always stopped with its whole process group, gunicorn workers included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
import requests

START_DEADLINE_SECONDS = 60
STOP_GRACE_SECONDS = 10
PASSWORD = "live-test-password-1"
# What the development server and gunicorn print when another process took the port first.
PORT_TAKEN_SIGNS = ("Address already in use", "Connection in use")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    return text[-limit:] or "(no output)"


@dataclass
class LiveServer:
    """A running ``keelplan serve`` process and what a test needs to reach it."""

    base_url: str
    process: subprocess.Popen
    env: dict[str, str]
    data_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def output(self) -> str:
        return _tail(self.log_path)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``keelplan <args>`` against the same database as the server."""
        result = subprocess.run(
            [sys.executable, "-m", "keelplan.cli", *args], env=self.env, capture_output=True, text=True, timeout=120,
        )
        if check and result.returncode != 0:
            pytest.fail(f"keelplan {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def create_user(self, username: str | None = None, password: str = PASSWORD, *, admin: bool = False) -> str:
        """A new user; ``admin`` makes them a workspace administrator (``createuser --admin``)."""
        username = username or f"live_{uuid.uuid4().hex[:10]}"
        self.cli("createuser", username, "--password", password, *(["--admin"] if admin else []))
        return username

    def token(self, username: str, password: str = PASSWORD) -> str:
        """A JWT access token from ``POST /api/token/``."""
        response = requests.post(self.url("/api/token/"), json={"username": username, "password": password},
                                 timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["access"]

    def session(self, token: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        return session

    def user_session(self, username: str | None = None, *, admin: bool = False) -> tuple[str, requests.Session]:
        """A new user and a session authenticated as them."""
        username = self.create_user(username, admin=admin)
        return username, self.session(self.token(username))

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (a worker that ignored SIGTERM) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE_SECONDS)


@contextlib.contextmanager
def run_server(
    data_dir: Path, *, workers: int = 1, database_url: str | None = None, extra_env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """Start ``keelplan serve`` on a free port, wait until it answers HTTP, yield it, and always stop it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KEELPLAN_DEBUG")}
    env.update({
        "KEELPLAN_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "keelplan.config.settings",
        "PYTHONUNBUFFERED": "1",
        # Long enough that no token expires during a test run.
        "KEELPLAN_ACCESS_MINUTES": "120",
    })
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra_env or {})
    log_path = data_dir / "server.log"
    for attempt in range(3):
        port = free_port()
        command = [sys.executable, "-m", "keelplan.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(workers)]
        with open(log_path, "wb") as log:
            # A session of its own makes the server the leader of a process group holding all its workers.
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        server = LiveServer(base_url=f"http://127.0.0.1:{port}", process=process, env=env, data_dir=data_dir,
                            log_path=log_path)
        try:
            if _wait_until_up(server, retry_if_port_taken=attempt < 2):
                break
        except BaseException:
            server.stop()
            raise
    try:
        yield server
    finally:
        server.stop()


def _wait_until_up(server: LiveServer, *, retry_if_port_taken: bool) -> bool:
    """True once the server answers; False if it lost the race for its port and may be started again."""
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while True:
        if server.process.poll() is not None:
            if retry_if_port_taken and any(sign in server.output() for sign in PORT_TAKEN_SIGNS):
                return False
            pytest.fail(f"keelplan serve exited with {server.process.returncode} before answering:\n{server.output()}")
        try:
            response = requests.get(server.url("/api/v1/projects/"), timeout=2)
        except requests.RequestException:
            response = None
        if response is not None and response.status_code == 401:
            return True
        if time.monotonic() > deadline:
            status = response.status_code if response is not None else "no answer"
            pytest.fail(f"keelplan serve did not answer within {START_DEADLINE_SECONDS} s ({status}):\n"
                        f"{server.output()}")
        time.sleep(0.25)


# The PostgreSQL server the suite uses (scripts/test sets KEELPLAN_TEST_DATABASE_URL); live tests create
# their own databases on it, next to whatever database that URL names.
POSTGRES_SERVER_URL = os.environ.get("KEELPLAN_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A brand-new PostgreSQL database for one test server; yields its URL and drops it afterwards."""
    import psycopg
    from psycopg import sql

    server = urlsplit(POSTGRES_SERVER_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = {"host": server.hostname or "127.0.0.1", "port": server.port or 5432,
             "user": unquote(server.username or "postgres"), "password": unquote(server.password or "") or None,
             "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**admin) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit((server.scheme, server.netloc, f"/{name}", "", ""))
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One single-process server on a fresh SQLite data folder, shared by a test module."""
    with run_server(tmp_path_factory.mktemp("keelplan-live")) as server:
        yield server


# ---------------------------------------------------------------- talking to a server from many threads

@dataclass
class Outcome:
    """What one request got back: status, the body when it is JSON, and which worker answered."""

    status: int
    body: object
    worker: str | None


def call(session: requests.Session, method: str, url: str, **kwargs) -> Outcome:
    response = session.request(method, url, timeout=120, **kwargs)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Outcome(response.status_code, body, response.headers.get("X-Keelplan-Worker"))


def list_all(session: requests.Session, url: str) -> tuple[list[dict], list[Outcome]]:
    """Every row of a v1 collection, following the cursor ``next`` links; also every page's outcome."""
    rows, pages = [], []
    while url:
        page = call(session, "GET", url)
        pages.append(page)
        assert page.status == 200, page.body
        rows.extend(page.body["results"])
        url = page.body["next"]
    return rows, pages


def create_tasks_concurrently(server: LiveServer, token: str, project_id: int, *, total: int,
                              threads: int) -> list[Outcome]:
    """``total`` task creations in ``project_id`` from ``threads`` threads, each with its own session."""
    from concurrent.futures import ThreadPoolExecutor

    def worker(thread_no: int) -> list[Outcome]:
        session = server.session(token)
        outcomes = []
        for n in range(thread_no, total, threads):
            outcomes.append(call(session, "POST", server.url("/api/v1/tasks/"),
                                 json={"project": project_id, "name": f"concurrent task {n}", "duration": 1 + n % 5}))
        return outcomes

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [outcome for chunk in pool.map(worker, range(threads)) for outcome in chunk]


def assert_no_server_errors(outcomes: list[Outcome]) -> None:
    failures = [(o.status, o.body) for o in outcomes if o.status >= 500]
    assert not failures, f"{len(failures)} server errors, e.g. {failures[:3]}"


@dataclass(frozen=True)
class FuzzProfile:
    """How hard one database is fuzzed by Schemathesis. Its coverage phase (every boundary and every invalid
    variant of every field) does not depend on the database, so it runs once, on SQLite; PostgreSQL, which
    refuses text that SQLite stores (NUL characters), gets more random examples instead."""

    database: str
    max_examples: int
    coverage_phase: bool


@contextlib.contextmanager
def fuzz_server(profile: FuzzProfile, data_dir: Path, name: str) -> Iterator[LiveServer]:
    """A single-process server on a fresh database of the profile's kind (a PostgreSQL one named ``name_*``)."""
    with contextlib.ExitStack() as stack:
        database_url = None
        if profile.database == "postgresql":
            database_url = stack.enter_context(postgres_database(name))
        yield stack.enter_context(run_server(data_dir, database_url=database_url))
