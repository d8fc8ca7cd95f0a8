"""Acceptance: the four OpenProject API v3 clients published on PyPI work against a live Keelplan at ``/api/v3``.

Each client is installed from PyPI, at the versions pinned in ``op_clients/requirements-<client>.txt``, into a
virtual environment of its own (their dependencies conflict), and drives a real ``keelplan serve`` with a
workspace administrator's API token, which the clients send as HTTP Basic ``apikey:<token>``. The Python clients
run a small driver script inside their environment (``op_clients/drive_*.py``) that prints what the client
returned as JSON; ``openproject-cli`` is run as the command it is. Every client lists and creates projects,
creates, updates (with ``lockVersion``), reads and deletes work packages, and relates two of them with
``precedes`` through the relation endpoint it uses; ``openproject-api-client``, the one with time calls, also
logs, lists, updates and deletes time. The assertions are on what the client hands its caller.

The environments are kept under ``.venv-clients/`` at the repository root (or ``KEELPLAN_CLIENT_VENVS``) and
rebuilt only when their pins change. A failed install fails every test here: it is never skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .clients import (
    DRIVER_TIMEOUT_SECONDS, client_env, install_client, mint_api_token, run_driver, server_tail, venv_root,
)
from .conftest import LiveServer

pytestmark = pytest.mark.live

HERE = Path(__file__).resolve().parent
DRIVERS = HERE / "op_clients"
CLIENTS = ("openproject", "openproject-api-client", "openproject-cli", "pyopenproject")
LAG = 2


# ---------------------------------------------------------------- the clients' environments

@pytest.fixture(scope="session")
def client_venvs() -> dict[str, Path]:
    """Each client's virtual environment, installed from PyPI on first use (the four in parallel)."""
    root = venv_root()
    root.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=len(CLIENTS)) as pool:
        built = dict(zip(CLIENTS, pool.map(
            lambda client: install_client(root, client, DRIVERS / f"requirements-{client}.txt"), CLIENTS)))
    spent = {client: round(seconds, 1) for client, (_, seconds) in built.items() if seconds}
    if spent:
        print(f"\ninstalled OpenProject clients under {root} (seconds): {spent}")
    return {client: venv for client, (venv, _) in built.items()}


# ---------------------------------------------------------------- the server and what every scenario needs

@pytest.fixture(scope="module")
def api_token(sqlite_server: LiveServer) -> str:
    """A workspace administrator's API token, minted with ``keelplan token``."""
    return mint_api_token(sqlite_server, sqlite_server.create_user(admin=True), "openproject clients")


def _dates() -> dict[str, str]:
    """Working days well after today (a project starts today): a Monday-to-Friday week for the first work package,
    its later due date (the next Tuesday), and a Monday-to-Wednesday two weeks on for the second."""
    today = dt.date.today()
    monday = today + dt.timedelta(days=14 + (7 - today.weekday()) % 7)
    days = {"a_start": 0, "a_due": 4, "a_due_2": 8, "b_start": 14, "b_due": 16}
    return {name: (monday + dt.timedelta(days=offset)).isoformat() for name, offset in days.items()}


@dataclass
class Plan:
    """The names and dates one scenario uses; unique per test so that scenarios never see each other's rows."""

    server: LiveServer
    token: str
    tag: str
    dates: dict[str, str]

    @property
    def project_name(self) -> str:
        return f"Client run {self.tag}"

    @property
    def project_identifier(self) -> str:
        return f"client-run-{self.tag}"

    @property
    def subject(self) -> str:
        return f"Work {self.tag}"

    def for_driver(self, scenario: str) -> dict:
        return {"base_url": self.server.base_url, "token": self.token, "scenario": scenario, "lag": LAG,
                "project_name": self.project_name, "project_identifier": self.project_identifier,
                "subject": self.subject, "dates": self.dates}


@pytest.fixture
def plan(sqlite_server: LiveServer, api_token: str) -> Plan:
    return Plan(sqlite_server, api_token, uuid.uuid4().hex[:8], _dates())


def drive(venvs: dict[str, Path], client: str, script: str, plan: Plan, scenario: str) -> dict:
    """Run one scenario of a driver inside the client's environment (``clients.run_driver``)."""
    return run_driver(venvs[client] / "bin" / "python", DRIVERS / script, plan.for_driver(scenario), plan.server,
                      f"{client} ({scenario})")


def id_of(href: str | None) -> int | None:
    return int(href.rstrip("/").rsplit("/", 1)[-1]) if href else None


def assert_precedes(kind: str, source: int, target: int, first: int, second: int) -> None:
    """``first`` precedes ``second``, told either way round: OpenProject itself stores ``precedes`` as the
    reverse ``follows``, so a server may answer with either."""
    assert (kind, source, target) in {("precedes", first, second), ("follows", second, first)}, (kind, source, target)


def _ids(rows: list[dict]) -> set:
    return {row["id"] for row in rows}


# ---------------------------------------------------------------- openproject 0.6.0 (the SDK)

def test_openproject_sdk_projects(client_venvs, plan):
    out = drive(client_venvs, "openproject", "drive_openproject.py", plan, "projects")

    assert out["list"]["_type"] == "Collection"
    created = out["created"]
    assert isinstance(created["id"], int) and created["name"] == plan.project_name
    assert created["identifier"], "the SDK sends no identifier: the server must derive one from the name"
    assert created["description"]["raw"] == "Made by the openproject SDK."
    assert out["viewed"]["id"] == created["id"] and out["viewed"]["identifier"] == created["identifier"]
    assert out["updated"]["name"] == plan.project_name + " (renamed)"
    if out["list_complete"]:
        assert created["id"] in out["listed_ids"]
    assert out["project_types"] and set(out["project_types"]) <= set(out["types"])
    assert out["type_viewed"] == out["types"][0]
    assert out["status_viewed"] == out["statuses"][0]
    assert out["deleted"] is None, "DELETE answers 204 with no body"
    assert out["view_deleted"]["raised"] == "APIError" and out["view_deleted"]["status"] == 404
    wrong = out["wrong_token"]
    assert wrong["raised"] == "AuthenticationError" and wrong["status"] == 401
    assert wrong["message"] and wrong["message"] != "Authentication error", "the SDK reads the 401 body's message"


def test_openproject_sdk_work_packages(client_venvs, plan):
    out = drive(client_venvs, "openproject", "drive_openproject.py", plan, "work_packages")

    project, wp_type, created = out["project"], out["type"], out["created"]
    assert created["_type"] == "WorkPackage" and created["subject"] == plan.subject
    assert (created["startDate"], created["dueDate"]) == (plan.dates["a_start"], plan.dates["a_due"])
    assert created["scheduleManually"] is True
    assert created["description"]["raw"] == "Made by the openproject SDK."
    assert id_of(created["_links"]["project"]["href"]) == project["id"]
    assert created["_links"]["project"]["title"] == project["name"]
    assert created["_links"]["type"]["title"] == wp_type["name"]
    assert created["_links"]["status"]["title"]
    assert isinstance(created["lockVersion"], int)

    for seen in (out["updated"], out["viewed"]):
        assert seen["id"] == created["id"] and seen["subject"] == plan.subject + " (edited)"
        assert (seen["startDate"], seen["dueDate"]) == (plan.dates["a_start"], plan.dates["a_due_2"])
        assert seen["percentageDone"] == 40
        assert seen["lockVersion"] > created["lockVersion"]
    assert out["stale_update"]["raised"] == "APIError" and out["stale_update"]["status"] == 409
    if out["list_complete"]:
        assert created["id"] in out["listed_ids"]
    assert out["deleted"] is None
    assert out["view_deleted"]["raised"] == "APIError" and out["view_deleted"]["status"] == 404


def test_openproject_sdk_relations(client_venvs, plan):
    """The SDK has no relation calls: its transport posts OpenProject's own form, ``_links.to`` with a lag, to
    ``/work_packages/{id}/relations``."""
    out = drive(client_venvs, "openproject", "drive_openproject.py", plan, "relations")

    first, second, created = out["first"]["id"], out["second"]["id"], out["created"]
    assert created["_type"] == "Relation"
    assert_precedes(created["type"], id_of(created["_links"]["from"]["href"]),
                    id_of(created["_links"]["to"]["href"]), first, second)
    assert created["lag"] == LAG and created["description"] == "first things first"
    assert out["listed"]["_type"] == "Collection"
    assert created["id"] in _ids(out["listed"]["_embedded"]["elements"])
    assert out["viewed"]["id"] == created["id"] and out["viewed"]["lag"] == LAG
    # Becoming a successor made it automatic (OpenProject ≥ 15.4): pulled from its own start to follow the first.
    second_after = out["second_after"]
    assert second_after["scheduleManually"] is False
    assert out["first"]["dueDate"] < second_after["startDate"] < out["second"]["startDate"]
    assert out["deleted"] is None
    assert out["view_deleted"]["raised"] == "APIError" and out["view_deleted"]["status"] == 404


# ---------------------------------------------------------------- openproject-api-client 0.4.0

def test_api_client_projects(client_venvs, plan):
    out = drive(client_venvs, "openproject-api-client", "drive_api_client.py", plan, "projects")

    assert {row["class"] for row in out["before"]} <= {"Project"}
    created = out["created"]
    assert created["class"] == "Project", f"the body did not decode as a Project: {created}"
    assert (created["identifier"], created["name"]) == (plan.project_identifier, plan.project_name)
    assert out["by_identifier"] == {"class": "Project", "id": created["id"], "identifier": plan.project_identifier}
    assert created["id"] in out["listed_ids"]
    assert out["types"] and {row["class"] for row in out["types"]} == {"Type"}
    assert out["project_types"] and set(out["project_types"]) <= {row["name"] for row in out["types"]}
    assert out["statuses"] and {row["class"] for row in out["statuses"]} == {"Status"}
    assert out["status"] == {"class": "Status", "id": out["statuses"][0]["id"], "name": out["statuses"][0]["name"]}
    assert out["priorities"] and {row["class"] for row in out["priorities"]} == {"Priority"}
    assert out["missing"] is None, "a GET that answers 404 gives None"


def test_api_client_work_packages(client_venvs, plan):
    """The typed ``WorkPackage`` fills ``status``, ``project_id`` and the rest from link titles and hrefs; a
    missing title would silently turn it into a plain namespace."""
    out = drive(client_venvs, "openproject-api-client", "drive_api_client.py", plan, "work_packages")

    created = out["created"]
    assert created["class"] == "WorkPackage", f"the body did not decode as a WorkPackage: {created}"
    assert created["subject"] == plan.subject
    assert (created["startdate"], created["duedate"]) == (plan.dates["a_start"], plan.dates["a_due"])
    assert created["project_id"] == out["project_id"] and created["project"] == plan.project_name
    assert created["type_id"] == out["type_id"] and created["type"]
    for field in ("status", "status_id", "priority", "priority_id", "author", "author_id"):
        assert created[field], field
    assert created["author_type"] == "users"
    assert isinstance(created["lockversion"], int)

    for seen in (out["updated"], out["viewed"]):
        assert seen["class"] == "WorkPackage"
        assert seen["subject"] == plan.subject + " (edited)" and seen["duedate"] == plan.dates["a_due_2"]
        assert seen["percentagedone"] == 40 and seen["lockversion"] > created["lockversion"]
        assert seen["status"] == created["status"] and seen["project_id"] == out["project_id"]
    assert out["stale_update"] and "(409)" in out["stale_update"]
    assert [(row["class"], row["id"]) for row in out["in_project"]] == [("WorkPackage", created["id"])]
    assert created["id"] in out["open_ids"]
    assert out["deleted"] is True
    assert out["view_deleted"] is None


def test_api_client_relations(client_venvs, plan):
    """``create_relation`` posts ``_links.from`` and ``_links.to`` to ``/api/v3/relations`` (not in OpenProject's
    spec), with a lag; the typed ``Relation`` reads both link titles."""
    out = drive(client_venvs, "openproject-api-client", "drive_api_client.py", plan, "relations")

    first, second = out["first"], out["second"]
    subjects = {first["id"]: first["subject"], second["id"]: second["subject"]}
    for relation in (out["created"], out["viewed"]):
        assert relation["class"] == "Relation", f"the body did not decode as a Relation: {relation}"
        assert relation["id"] == out["created"]["id"]
        assert_precedes(relation["type"], relation["from_id"], relation["to_id"], first["id"], second["id"])
        assert relation["lag"] == LAG and relation["description"] == "first things first"
        assert (relation["from_title"], relation["to_title"]) == (subjects[relation["from_id"]],
                                                                 subjects[relation["to_id"]])
    assert out["created"]["id"] in _ids(out["listed"])
    assert out["second_after"]["class"] == "WorkPackage"
    assert out["second_after"]["schedulemanually"] is False
    assert first["duedate"] < out["second_after"]["startdate"] < second["startdate"]
    assert out["deleted"] is True
    assert out["view_deleted"] is None


def test_api_client_time_entries(client_venvs, plan):
    """The client logs time in OpenProject's body (``hours`` as an ISO duration, ``_links.workPackage``), lists it
    with string filter values, updates it with its ``lockVersion`` and deletes it; the typed ``TimeEntry`` reads
    the link titles."""
    out = drive(client_venvs, "openproject-api-client", "drive_api_client.py", plan, "time_entries")

    work_package, created = out["work_package"], out["created"]
    assert created["class"] == "TimeEntry", f"the body did not decode as a TimeEntry: {created}"
    assert (created["hours"], created["spenton"], created["workpackage_id"], created["project_id"]) == (
        "PT1H30M", plan.dates["a_start"], work_package["id"], work_package["project_id"])
    assert created["workpackage"] == work_package["subject"] and created["activity"]
    assert [row["id"] for row in out["listed"]] == [created["id"]] and created["id"] in out["by_project"]
    assert out["updated"]["hours"] == "PT2H" and out["updated"]["lockversion"] == created["lockversion"] + 1
    assert out["stale"]["raised"] == "RequestError" and "409" in out["stale"]["text"]
    assert out["spent"] == "PT2H"
    assert out["deleted"] is True and out["view_deleted"] is None


# ---------------------------------------------------------------- openproject-cli 0.4.0

@pytest.fixture
def op_cli(client_venvs, plan, tmp_path):
    """Runs ``openproject-cli`` with the server and token in ``OPENPROJECT_URL``/``OPENPROJECT_TOKEN``, a home of
    its own (no config file, no keyring) and no retries; returns its JSON output, or the failed process when
    called with ``expect_failure=True``."""
    executable = str(client_venvs["openproject-cli"] / "bin" / "openproject-cli")
    env = client_env(OPENPROJECT_URL=plan.server.base_url, OPENPROJECT_TOKEN=plan.token, OPENPROJECT_RETRIES="0",
                      HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
                      XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"),
                      PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.pop("OPENPROJECT_DEBUG", None)

    def run(*args: str, body: dict | None = None, expect_failure: bool = False):
        if body is not None:
            args = (*args, "--input", "-")
        proc = subprocess.run([executable, *args], input=json.dumps(body) if body is not None else None,
                              capture_output=True, text=True, timeout=DRIVER_TIMEOUT_SECONDS, env=env)
        if expect_failure:
            assert proc.returncode != 0, f"openproject-cli {' '.join(args)} succeeded: {proc.stdout}"
            return proc
        if proc.returncode != 0:
            pytest.fail(f"openproject-cli {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}"
                        f"{server_tail(plan.server)}")
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    return run


def _cli_project(op_cli, plan: Plan) -> dict:
    """The CLI has no project commands; its raw ``api`` passthrough makes one."""
    project = op_cli("api", "POST", "/api/v3/projects",
                     body={"name": plan.project_name, "identifier": plan.project_identifier})
    assert project["_type"] == "Project" and project["identifier"] == plan.project_identifier, project
    return project


def _cli_type_name(op_cli, project: dict) -> str:
    types = op_cli("api", "GET", f"projects/{project['id']}/types")["_embedded"]["elements"]
    return next(row["name"] for row in types if not row["isMilestone"])


def test_openproject_cli_projects(op_cli, plan):
    status = op_cli("auth", "status")
    assert status["loggedIn"] is True and isinstance(status["userId"], int), status
    assert status["tokenSource"] == "env"

    page = op_cli("api", "GET", "/api/v3/projects", "-f", "pageSize=200")
    assert page["_type"] == "Collection"
    project = _cli_project(op_cli, plan)
    assert op_cli("api", "GET", f"projects/{plan.project_identifier}")["id"] == project["id"]
    listed = op_cli("api", "GET", "projects", "-f", "pageSize=200")
    if listed["total"] <= listed["pageSize"]:
        assert project["id"] in _ids(listed["_embedded"]["elements"])
    assert op_cli("api", "GET", "types")["_embedded"]["elements"]
    assert op_cli("api", "GET", "statuses")["_embedded"]["elements"]
    missing = op_cli("api", "GET", "projects/client-run-nowhere", expect_failure=True)
    assert missing.returncode == 4, missing.stderr   # the CLI's NotFoundError


def test_openproject_cli_work_packages(op_cli, plan):
    """``wp create`` resolves ``--project`` by identifier and ``--type`` by name; ``wp update`` reads the
    ``lockVersion`` first; the normalized output reads every link title."""
    project = _cli_project(op_cli, plan)
    type_name = _cli_type_name(op_cli, project)
    dates = plan.dates

    created = op_cli("wp", "create", "--project", plan.project_identifier, "--type", type_name,
                     "--subject", plan.subject, "--description", "Made by openproject-cli.",
                     "--start-date", dates["a_start"], "--due-date", dates["a_due"])
    assert created["subject"] == plan.subject and created["type"] == type_name
    assert created["project"] == plan.project_name and created["projectId"] == project["id"]
    assert created["status"] and created["priority"] and created["author"]
    assert (created["startDate"], created["dueDate"]) == (dates["a_start"], dates["a_due"])
    assert created["description"] == "Made by openproject-cli."

    updated = op_cli("wp", "update", str(created["id"]), "--subject", plan.subject + " (edited)",
                     "--due-date", dates["a_due_2"], "--done-ratio", "40")
    got = op_cli("wp", "get", str(created["id"]))
    for seen in (updated, got):
        assert seen["id"] == created["id"] and seen["subject"] == plan.subject + " (edited)"
        assert (seen["startDate"], seen["dueDate"]) == (dates["a_start"], dates["a_due_2"])
        assert seen["percentageDone"] == 40 and seen["lockVersion"] > created["lockVersion"]
    assert got["customFields"] == []

    listed = op_cli("wp", "list", "--project", plan.project_identifier)
    assert [row["id"] for row in listed] == [created["id"]]
    assert op_cli("wp", "delete", str(created["id"])) == {"deleted": created["id"]}
    gone = op_cli("wp", "get", str(created["id"]), expect_failure=True)
    assert gone.returncode == 4, gone.stderr


def test_openproject_cli_relations(op_cli, plan):
    """``relation create`` posts ``_links.to`` to ``/work_packages/{id}/relations``; ``relation list`` GETs that
    path and does not follow redirects, so it must answer 200 with a collection."""
    project = _cli_project(op_cli, plan)
    type_name = _cli_type_name(op_cli, project)
    dates = plan.dates
    first, second = (
        op_cli("wp", "create", "--project", str(project["id"]), "--type", type_name, "--subject", f"{plan.subject} {n}",
               "--start-date", dates[start], "--due-date", dates[due])
        for n, start, due in (("first", "a_start", "a_due"), ("second", "b_start", "b_due")))

    created = op_cli("relation", "create", "--work-package", str(first["id"]), "--to", str(second["id"]),
                     "--type", "precedes", "--description", "first things first")
    assert_precedes(created["type"], created["from"], created["to"], first["id"], second["id"])
    assert created["description"] == "first things first"
    listed = op_cli("relation", "list", "--work-package", str(first["id"]))
    assert [row["id"] for row in listed] == [created["id"]]
    assert op_cli("relation", "get", str(created["id"]))["id"] == created["id"]
    moved = op_cli("wp", "get", str(second["id"]))
    # Becoming a successor made it automatic: pulled from its own start to follow the first.
    assert first["dueDate"] < moved["startDate"] < second["startDate"]
    assert op_cli("relation", "delete", str(created["id"])) == {"deleted": created["id"]}
    assert op_cli("relation", "list", "--work-package", str(first["id"])) == []
    gone = op_cli("relation", "get", str(created["id"]), expect_failure=True)
    assert gone.returncode == 4, gone.stderr


# ---------------------------------------------------------------- pyopenproject 0.7.4

def test_pyopenproject_projects(client_venvs, plan):
    out = drive(client_venvs, "pyopenproject", "drive_pyopenproject.py", plan, "projects")

    created = out["created"]
    assert created["_type"] == "Project"
    assert (created["name"], created["identifier"]) == (plan.project_name, plan.project_identifier)
    assert out["found"]["id"] == created["id"]
    assert out["updated"]["name"] == plan.project_name + " (renamed)", "a PATCH of the whole object is accepted"
    assert created["id"] in out["listed_ids"]
    assert out["types"] and out["statuses"] and out["priorities"]
    assert out["deleted"] is None
    assert out["find_deleted"]["raised"] == "BusinessError"
    assert "errors:NotFound" in out["find_deleted"]["cause"]


def test_pyopenproject_work_packages(client_venvs, plan):
    out = drive(client_venvs, "pyopenproject", "drive_pyopenproject.py", plan, "work_packages")

    created = out["created"]
    assert created["_type"] == "WorkPackage" and created["subject"] == plan.subject
    assert created["_links"]["self"]["href"] == f"/api/v3/work_packages/{created['id']}"
    assert id_of(created["_links"]["project"]["href"]) == out["project"]["id"]
    assert created["_links"]["type"]["href"] == out["type_href"]
    assert (created["startDate"], created["dueDate"]) == (plan.dates["a_start"], plan.dates["a_due"])
    assert out["found"]["id"] == created["id"], "GET /api/v3/work_packages//{id} reads the work package"
    updated = out["updated"]
    assert updated["subject"] == plan.subject + " (edited)" and updated["dueDate"] == plan.dates["a_due_2"]
    assert updated["lockVersion"] > created["lockVersion"]
    stale = out["stale_update"]
    assert stale["raised"] == "BusinessError" and "errors:UpdateConflict" in stale["cause"]
    assert [row["id"] for row in out["in_project"]] == [created["id"]]
    assert created["id"] in out["all_ids"]
    assert out["deleted"] is None
    assert out["find_deleted"]["raised"] == "BusinessError"
    assert "errors:NotFound" in out["find_deleted"]["cause"]


def test_pyopenproject_relations(client_venvs, plan):
    """``create_relation`` posts top-level ``from``/``to`` (each work package's ``_links.self.href``) and the
    description ``"first things first"`` to ``/work_packages/{id}/relations``; it sends no lag."""
    out = drive(client_venvs, "pyopenproject", "drive_pyopenproject.py", plan, "relations")

    first, second, created = out["first"], out["second"], out["created"]
    assert created["_type"] == "Relation"
    assert_precedes(created["type"], id_of(created["_links"]["from"]["href"]),
                    id_of(created["_links"]["to"]["href"]), first["id"], second["id"])
    assert created["description"] == "first things first"
    assert [row["id"] for row in out["listed"]] == [created["id"]]
    assert out["found"]["id"] == created["id"]
    assert out["second_after"]["scheduleManually"] is False
    assert first["dueDate"] < out["second_after"]["startDate"] < second["startDate"]
    assert out["deleted"] is None
    assert out["listed_after_delete"] == []
