"""Acceptance: the real ``beebole`` client (PyPI 1.0.0, its only release) drives a live Keelplan's Beebole service
API at ``POST /api/v2``, on SQLite and on PostgreSQL.

The client is installed from PyPI at the versions pinned in ``bb_client/requirements-beebole.txt``, into a virtual
environment of its own (``clients.install_client``), and run by ``bb_client/drive_beebole.py``, which works around
the package's three import-time defects at run time without editing its installed files, points the client at the
server (``client.endpoint``) and runs one scenario through the client's public services. The client sends a
workspace administrator's API token as HTTP Basic ``<token>:x``. Each scenario asserts on what the client handed
its caller (typed replies as the dataclass they became) and, where the row is shared, checks through the v1 and
v3 dialects that it is the same row.

Expected shapes are Beebole's (``reference/beebole.md`` §4-5 and the project services document); Keelplan may add
fields, so replies are compared on the fields Beebole documents.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from .clients import install_client, mint_api_token, run_driver, venv_root
from .conftest import LiveServer, postgres_database, run_server

pytestmark = pytest.mark.live

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "bb_client" / "drive_beebole.py"
REQUIREMENTS = HERE / "bb_client" / "requirements-beebole.txt"
UNKNOWN_ID = 987_654_321


# ---------------------------------------------------------------- the client, the servers, the administrator

@pytest.fixture(scope="session")
def beebole_python() -> Path:
    """The Python of the client's environment, installed from PyPI on first use."""
    root = venv_root()
    root.mkdir(parents=True, exist_ok=True)
    venv, seconds = install_client(root, "beebole", REQUIREMENTS)
    if seconds:
        print(f"\ninstalled the beebole client under {root} in {seconds:.1f} s")
    return venv / "bin" / "python"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory) -> Iterator[LiveServer]:
    """A single-process server on a fresh database of each kind."""
    with contextlib.ExitStack() as stack:
        database_url = None
        if request.param == "postgresql":
            database_url = stack.enter_context(postgres_database("keelplan_beebole"))
        data_dir = tmp_path_factory.mktemp(f"keelplan-beebole-{request.param}")
        yield stack.enter_context(run_server(data_dir, database_url=database_url))


@dataclass
class Admin:
    """A workspace administrator: their API token (what the client sends), and sessions on the v1 dialect (JWT)
    and the v3 dialect (Basic ``apikey:<token>``) for looking at the same rows."""

    server: LiveServer
    username: str
    token: str
    v1: requests.Session
    v3: requests.Session

    def v1_get(self, path: str) -> dict:
        response = self.v1.get(self.server.url(path), timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def v3_get(self, path: str, *, status: int = 200) -> dict:
        response = self.v3.get(self.server.url(path), timeout=30)
        assert response.status_code == status, (path, response.status_code, response.text)
        return response.json()


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Admin:
    username = server.create_user(admin=True)
    token = mint_api_token(server, username, "beebole client")
    v3 = requests.Session()
    v3.headers["Authorization"] = "Basic " + base64.b64encode(f"apikey:{token}".encode()).decode()
    return Admin(server, username, token, server.session(server.token(username)), v3)


@pytest.fixture
def tag() -> str:
    """Unique per test, in every name a scenario gives, so that scenarios never see each other's rows."""
    return uuid.uuid4().hex[:8]


def drive(python: Path, admin: Admin, scenario: str, tag: str, **inputs) -> dict:
    plan = {"base_url": admin.server.base_url, "token": admin.token, "scenario": scenario, "tag": tag, **inputs}
    return run_driver(python, DRIVER, plan, admin.server, f"beebole ({scenario})")


DEFINE_FIELD = """
import sys

import django

django.setup()
from keelplan.accounts.models import User
from keelplan.customfields.services import custom_field_create

actor = User.objects.get(username=sys.argv[1])
print(custom_field_create(actor=actor, name=sys.argv[2], applies_to="project", format="string").pk)
"""


def define_project_field(admin: Admin, name: str) -> int:
    """A text custom field for projects. No API defines one (Beebole's definitions are made in its settings
    pages, OpenProject's v3 only reads them), so the administrator makes it through the domain service, on the
    server's database."""
    result = subprocess.run([sys.executable, "-c", DEFINE_FIELD, admin.username, name], env=admin.server.env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- what every reply looks like

def assert_created(reply: dict) -> int:
    """A create's typed reply: ``IdResponse`` with an integer id (an ``xid``-only reply would not convert)."""
    assert reply["type"] == "IdResponse" and reply["status"] == "ok", reply
    assert isinstance(reply["id"], int) and not isinstance(reply["id"], bool), reply
    return reply["id"]


def assert_ok(reply: dict) -> None:
    assert reply == {"type": "SimpleResponse", "status": "ok"}, reply


def assert_fields(item: dict, expected: dict) -> None:
    """``item`` has each of ``expected``'s fields with that value (Keelplan may add others)."""
    assert {key: item.get(key, "<missing>") for key in expected} == expected, item


def by_id(rows: list[dict]) -> dict[int, dict]:
    return {row["id"]: row for row in rows}


def group_ids(reply: dict) -> set[int]:
    """The groups of a typed ``GroupListResponse``; each carries its child count."""
    assert reply["type"] == "GroupListResponse" and reply["status"] == "ok", reply
    for row in reply["groups"]:
        assert isinstance(row["groups"]["count"], int), row
    return {row["id"] for row in reply["groups"]}


def assert_refused(outcome: dict, *, status: int = 200) -> str:
    """The client raised ``BeeboleAPIException`` carrying the server's error body; its message is returned."""
    assert outcome["raised"] == "BeeboleAPIException", outcome
    body = outcome["body"]
    assert outcome["status"] == status and body["status"] == "error", outcome
    assert outcome["message"] == body["message"] and body["message"].strip(), outcome
    return outcome["message"]


# ---------------------------------------------------------------- the package as published

def test_the_published_package_needs_three_fixes_and_keeps_its_files(beebole_python, admin, tag):
    out = drive(beebole_python, admin, "defects", tag)

    assert out["files_checked"] > 20 and out["files_changed"] == [], "the installed package is as pip installed it"
    assert out["as_published"]["raised"] == "ImportError" and "circular import" in out["as_published"]["message"]
    assert out["circular_fixed"]["raised"] == "TypeError" and "cannot extend" in out["circular_fixed"]["message"]
    assert out["enum_fixed"]["raised"] == "TypeError" and "isinstance" in out["enum_fixed"]["message"]
    assert out["enum_fixed_requests"] == 0, "the Sentinel check fails before anything is sent"
    all_fixed = out["all_fixed"]
    assert all_fixed["raised"] is None and all_fixed["value"]["status"] == "ok", all_fixed
    assert isinstance(all_fixed["value"]["companies"], list)
    assert out["all_fixed_requests"] == 1
    assert out["endpoint"] == admin.server.url("/api/v2")
    assert out["headers"] == {"Content-Type": "application/json", "User-Agent": "beebole.py/1.0.0"}
    assert out["authorization_scheme"] == "Basic"


# ---------------------------------------------------------------- entities

def test_company(beebole_python, admin, tag):
    """``company.create`` sends ``name`` and ``corporate`` unwrapped; get, list, deactivate and activate."""
    out = drive(beebole_python, admin, "company", tag)

    own, customer = assert_created(out["own_created"]), assert_created(out["customer_created"])
    assert own != customer
    assert out["own"]["status"] == "ok" and out["customer"]["status"] == "ok"
    assert_fields(out["own"]["company"], {"id": own, "name": f"Own {tag}", "projects": {"count": 0}, "active": True})
    assert_fields(out["customer"]["company"], {"id": customer, "name": f"Customer {tag}", "projects": {"count": 0},
                                               "active": True})
    # Beebole's get shows no ``corporate``; Keelplan's does, which shows the unwrapped flag was read.
    assert (out["own"]["company"]["corporate"], out["customer"]["company"]["corporate"]) == (True, False)

    listed = by_id(out["listed"]["companies"])
    assert out["listed"]["status"] == "ok"
    assert listed[own] == out["own"]["company"] and listed[customer] == out["customer"]["company"]

    assert_ok(out["deactivated"])
    assert out["inactive"]["company"]["active"] is False
    assert by_id(out["listed_inactive"]["companies"])[customer]["active"] is False, "a list shows inactive ones too"
    assert_ok(out["activated"])
    assert out["active_again"]["company"]["active"] is True
    assert out["own_with_project"]["company"]["projects"] == {"count": 1}


def test_person(beebole_python, admin, tag):
    """``person.create`` takes the client's ``Person`` with a ``company`` attribute added; get, list by company,
    update, deactivate/activate and group membership; the same person and groups through v3."""
    out = drive(beebole_python, admin, "person", tag)

    pid, staff = assert_created(out["created"]), out["company"]
    assert "id" not in out["instance_after_create"], "the client deletes id from the instance it sends"
    assert out["got"]["status"] == "ok"
    assert_fields(out["got"]["person"], {
        "id": pid, "name": f"Pat {tag}", "company": {"id": staff}, "active": True, "email": f"pat-{tag}@example.com",
        "userGroup": "pm", "leaders": {"count": 0}})

    assert out["listed"]["status"] == "ok"
    assert set(by_id(out["listed"]["people"])) == {pid, out["leaver"]}
    assert_fields(by_id(out["listed"]["people"])[pid], {"name": f"Pat {tag}", "company": {"id": staff}})
    assert set(by_id(out["listed_other"]["people"])) == {out["other"]}

    assert_ok(out["updated"])
    assert_fields(out["got_updated"]["person"], {
        "id": pid, "name": f"Pat {tag} (renamed)", "email": f"pat.renamed-{tag}@example.com", "userGroup": "leader",
        "company": {"id": staff}, "active": True})

    assert_ok(out["deactivated"])
    assert out["inactive"]["person"]["active"] is False
    assert_ok(out["activated"])
    assert out["active_again"]["person"]["active"] is True

    kept, left = out["kept_group"], out["left_group"]
    assert_ok(out["added"])
    assert group_ids(out["groups"]) == {kept, left}
    assert_ok(out["removed"])
    assert group_ids(out["groups_after"]) == {kept}

    user = admin.v3_get(f"/api/v3/users/{pid}")
    assert (user["name"], user["email"], user["status"]) == (
        f"Pat {tag} (renamed)", f"pat.renamed-{tag}@example.com", "active")
    assert admin.v3_get(f"/api/v3/users/{out['leaver']}")["status"] == "locked"
    members = {link["href"] for link in admin.v3_get(f"/api/v3/groups/{kept}")["_links"]["members"]}
    assert f"/api/v3/users/{pid}" in members
    assert admin.v3_get(f"/api/v3/groups/{left}")["_links"]["members"] == []


def test_group(beebole_python, admin, tag):
    """Root and child groups (the client sends ``name`` and ``parent`` unwrapped), get, tree, update, the
    ``group.list`` the client sends with a bare id, assignments, and delete: refused while assigned, unless
    forced."""
    out = drive(beebole_python, admin, "group", tag)

    root, child = assert_created(out["root_created"]), assert_created(out["child_created"])
    assert out["root"]["type"] == out["child"]["type"] == "GroupResponse"
    assert_fields(out["child"]["group"], {"id": child, "name": f"City {tag}", "parent": {"id": root}})
    root_group = out["root"]["group"]
    assert (root_group["id"], root_group["name"]) == (root, f"Region {tag}")
    # A root group still answers a parent object (the client's dataclass requires one), naming no group.
    assert isinstance(root_group["parent"]["id"], int) and root_group["parent"]["id"] not in (root, child)

    assert out["tree"]["status"] == "ok"
    tree = by_id(out["tree"]["groups"])
    assert child not in tree, "the tree lists root groups, their children inside them"
    assert [(row["id"], row["name"]) for row in tree[root]["groups"]] == [(child, f"City {tag}")]

    assert_ok(out["updated"])
    assert out["child_updated"]["group"]["name"] == f"Town {tag}"

    for key in ("company_added", "project_added", "task_added", "person_added"):
        assert_ok(out[key])
    for key in ("list_company", "list_project", "company_groups", "project_groups", "task_groups"):
        assert group_ids(out[key]) == {root}, key
    assert out["list_company"]["groups"] == [{"id": root, "name": f"Region {tag}", "groups": {"count": 1}}]

    assignments = out["assignments"]
    assert assignments["status"] == "ok"
    assert [row["id"] for row in assignments["companies"]] == [out["company"]]
    assert [row["id"] for row in assignments["projects"]] == [out["project"]]
    assert [row["id"] for row in assignments["tasks"]] == [out["task"]]
    assert [row["id"] for row in assignments["people"]] == [out["person"]]
    assert_fields(assignments["companies"][0], {"name": f"Census {tag}", "active": True})
    assert_fields(assignments["people"][0], {"name": f"Kim {tag}", "active": True, "email": f"kim-{tag}@example.com"})
    for key in ("companies", "projects", "subprojects", "tasks", "people", "absences"):
        assert out["child_assignments"].get(key, []) == [], key

    doomed = out["doomed"]
    assert_refused(out["delete_refused"])
    assert out["doomed_still"]["group"]["name"] == f"Doomed {tag}", "a refused delete deletes nothing"
    assert group_ids(out["company_groups_still"]) == {root, doomed}
    assert_ok(out["delete_forced"])
    assert_refused(out["doomed_gone"])
    assert group_ids(out["company_groups_after"]) == {root}
    assert_ok(out["idle_deleted"])

    town = admin.v3_get(f"/api/v3/groups/{child}")
    assert town["name"] == f"Town {tag}" and town["_links"]["parent"]["href"] == f"/api/v3/groups/{root}"
    admin.v3_get(f"/api/v3/groups/{doomed}", status=404)
    admin.v3_get(f"/api/v3/groups/{out['idle']}", status=404)


def test_task(beebole_python, admin, tag):
    """Tasks are a company's activities: create, get, list by company, update, deactivate/activate; the same
    activity through v3."""
    out = drive(beebole_python, admin, "task", tag)

    tid, company = assert_created(out["created"]), out["company"]
    assert out["got"]["status"] == "ok"
    assert_fields(out["got"]["task"], {"id": tid, "name": f"Design {tag}", "company": {"id": company},
                                       "active": True})
    assert by_id(out["listed"]["tasks"])[tid] == out["got"]["task"]
    assert out["other"] not in by_id(out["listed"]["tasks"])
    assert tid not in by_id(out["listed_other"]["tasks"])

    assert_ok(out["updated"])
    assert out["got_updated"]["task"]["name"] == f"Drafting {tag}"
    assert_ok(out["deactivated"])
    assert out["inactive"]["task"]["active"] is False
    assert by_id(out["listed_inactive"]["tasks"])[tid]["active"] is False
    assert_ok(out["activated"])
    assert out["active_again"]["task"]["active"] is True

    assert admin.v3_get(f"/api/v3/time_entries/activities/{tid}")["name"] == f"Drafting {tag}"

    # Beebole's tasks are defined per company, and a listed task is shaped like ``task.get``'s, ``company:{id}``
    # included: a company's list holds its own tasks, each naming it.
    assert [(row["id"], row["company"]) for row in out["listed"]["tasks"]] == [(tid, {"id": company})]
    assert [(row["id"], row["company"]) for row in out["listed_other"]["tasks"]] == [
        (out["other"], {"id": out["other_company"]})]


def test_project(beebole_python, admin, tag):
    """Create (the client always sends ``startDate``, the 1st of the month, and ``description: ""``), get, list,
    update, activation, exclusive members (a person and a group), managers, specific tasks (the client's plural
    service names), groups and custom field values; then the same project, members and roles through v1 and v3."""
    field_name = f"Location {tag}"
    field = define_project_field(admin, field_name)
    out = drive(beebole_python, admin, "project", tag, custom_field_id=field)

    pid, company = assert_created(out["created"]), out["company"]
    assert out["got"]["status"] == "ok"
    assert_fields(out["got"]["project"], {
        "id": pid, "name": f"Website {tag}", "startDate": out["default_start"], "description": "",
        "company": {"id": company}, "subprojects": {"count": 0}, "active": True})
    assert_fields(out["got_dated"]["project"], {"startDate": "2026-03-02", "description": "Printed matter"})
    listed = by_id(out["listed"]["projects"])
    assert set(listed) == {pid, out["dated"]} and listed[pid] == out["got"]["project"]

    assert_ok(out["updated"])
    assert_fields(out["got_updated"]["project"], {
        "name": f"Website {tag} (relaunch)", "startDate": "2026-04-06", "description": "The relaunch",
        "company": {"id": company}})
    assert_ok(out["deactivated"])
    assert out["inactive"]["project"]["active"] is False
    assert_ok(out["activated"])
    assert out["active_again"]["project"]["active"] is True

    kept, left, team = out["member_kept"], out["member_left"], out["team"]
    assert_ok(out["attached_person"])
    assert_ok(out["attached_group"])
    members = out["members"]
    assert members["status"] == "ok"
    assert {kept, left} <= set(by_id(members["members"]))
    assert by_id(members["members"])[kept]["name"] == f"Ann {tag}"
    assert by_id(members["groups"]) == {team: {"id": team, "name": f"Web team {tag}"}}
    assert_ok(out["detached"])
    after = by_id(out["members_after"]["members"])
    assert kept in after and left not in after
    assert set(by_id(out["members_after"]["groups"])) == {team}

    manager, former = out["manager"], out["former_manager"]
    assert_ok(out["attached_manager"])
    managers = by_id(out["managers"]["members"])
    assert out["managers"]["status"] == "ok" and {manager, former} <= set(managers)
    assert_fields(managers[manager], {"name": f"Max {tag}", "email": f"max-{tag}@example.com", "active": True})
    assert_ok(out["detached_manager"])
    managers_after = by_id(out["managers_after"]["members"])
    assert manager in managers_after and former not in managers_after

    specific, passing = out["specific_task"], out["passing_task"]
    assert_ok(out["attached_task"])
    assert out["specific_tasks"]["status"] == "ok" and out["specific_tasks"]["disabled"] is False
    assert by_id(out["specific_tasks"]["specificTasks"]) == {
        specific: {"id": specific, "name": f"Copywriting {tag}", "active": True},
        passing: {"id": passing, "name": f"Proofreading {tag}", "active": True}}
    assert_ok(out["disabled"])
    assert out["specific_tasks_disabled"]["disabled"] is True
    assert_ok(out["enabled"])
    assert out["specific_tasks_enabled"]["disabled"] is False
    assert_ok(out["detached_task"])
    assert [row["id"] for row in out["specific_tasks_after"]["specificTasks"]] == [specific]

    category, passing_category = out["category"], out["passing_category"]
    assert_ok(out["added_group"])
    assert group_ids(out["groups"]) == {category, passing_category}
    assert_ok(out["removed_group"])
    assert group_ids(out["groups_after"]) == {category}

    definitions = out["custom_field_list"]
    assert definitions["type"] == "CustomFieldListResponse"
    definition = by_id(definitions["customFields"])[field]
    assert definition["name"] == field_name and definition["availableFor"].strip()
    assert_ok(out["set_value"])
    assert out["custom_fields"]["type"] == "CustomFieldListResponse"
    assert by_id(out["custom_fields"]["customFields"])[field]["name"] == field_name
    wire = out["custom_fields_wire"]
    assert wire["status"] == 200 and wire["body"]["status"] == "ok"
    assert_fields(by_id(wire["body"]["customFields"])[field], {"name": field_name, "value": "Salt Lake City, UT, USA"})
    assert_ok(out["cleared_value"])
    assert field in by_id(out["custom_fields_cleared"]["customFields"]), "a cleared field is still listed"
    assert "value" not in by_id(out["custom_fields_cleared_wire"]["body"]["customFields"])[field]

    # The same row through the other dialects.
    v1 = admin.v1_get(f"/api/v1/projects/{pid}/")
    assert (v1["id"], v1["name"], v1["description"], v1["start_date"], v1["is_active"], v1["parent"]) == (
        pid, f"Website {tag} (relaunch)", "The relaunch", "2026-04-06", True, None)
    roles = {row["user"]: row["role"] for row in admin.v1_get(f"/api/v1/projects/{pid}/members/")["results"]}
    assert kept in roles and left not in roles
    assert roles[manager] == 300, "a Beebole project manager is an Admin of the project"
    assert roles[kept] < 300 and roles.get(former, 0) < 300
    v3 = admin.v3_get(f"/api/v3/projects/{pid}")
    assert (v3["id"], v3["name"], v3["description"]["raw"], v3["startDate"], v3["active"]) == (
        pid, f"Website {tag} (relaunch)", "The relaunch", "2026-04-06", True)
    assert v3[f"customField{field}"] == "Lyon"
    memberships = admin.v3_get("/api/v3/memberships?pageSize=100&filters=" + json.dumps(
        [{"project": {"operator": "=", "values": [str(pid)]}}]))
    principals = {row["_links"]["principal"]["href"] for row in memberships["_embedded"]["elements"]}
    assert {f"/api/v3/groups/{team}", f"/api/v3/users/{kept}", f"/api/v3/users/{manager}"} <= principals
    assert f"/api/v3/users/{left}" not in principals


def test_subproject(beebole_python, admin, tag):
    """A subproject (the client sends ``name`` and ``project`` unwrapped) is a child project: get, list by
    project, and the parent's ``subprojects.count`` grows; v1 and v3 show the parent."""
    out = drive(beebole_python, admin, "subproject", tag)

    pid = out["project"]
    assert out["count_before"]["project"]["subprojects"] == {"count": 0}
    sid = assert_created(out["created"])
    assert out["got"]["status"] == "ok"
    assert out["got"]["subproject"] == {"id": sid, "name": f"Analyse {tag}", "project": {"id": pid}, "active": True}
    assert out["count_one"]["project"]["subprojects"] == {"count": 1}
    listed = by_id(out["listed"]["subprojects"])
    assert set(listed) == {sid, out["second"]} and listed[sid] == out["got"]["subproject"]
    assert out["count_two"]["project"]["subprojects"] == {"count": 2}
    assert set(by_id(out["projects"]["projects"])) == {pid}, "subprojects are not listed among projects"

    assert admin.v1_get(f"/api/v1/projects/{sid}/")["parent"] == pid
    v3 = admin.v3_get(f"/api/v3/projects/{sid}")
    assert v3["name"] == f"Analyse {tag}" and v3["_links"]["parent"]["href"] == f"/api/v3/projects/{pid}"


def test_errors(beebole_python, admin, tag):
    """An unknown id: the client raises ``BeeboleAPIException`` with the server's message (HTTP 200, ``status:
    error``), typed calls included; a wrong token: the 401 body is JSON with a ``status``, so the client raises
    the same exception rather than failing to read it."""
    out = drive(beebole_python, admin, "errors", tag, unknown_id=UNKNOWN_ID)

    assert out["project_get"]["body"] == out["project_get_wire"]["body"], "the message is the server's own"
    for key in ("project_get", "company_get", "person_get", "task_get", "subproject_get", "group_get",
                "project_update", "project_create"):
        message = assert_refused(out[key])
        assert "unknown service" not in message.lower(), (key, message)
    assert assert_refused(out["wrong_token"], status=401) == out["wrong_token_wire"]["body"]["message"]


FINGERPRINT = """
import hashlib

import django

django.setup()
from django.apps import apps

digest = hashlib.sha256()
for label in ("accounts", "portfolio", "timesheets", "customfields", "changelog"):
    for model in sorted(apps.get_app_config(label).get_models(include_auto_created=True), key=lambda m: m.__name__):
        # When a token or a password was last used is bookkeeping of the sign-in, not data a request writes.
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("last_used_at", "last_login")]
        for row in model._base_manager.order_by("pk").values_list(*fields):
            digest.update(repr((model.__name__, row)).encode())
print(digest.hexdigest())
"""


def fingerprint(server: LiveServer) -> str:
    """A hash of every row (soft-deleted ones too) of the tables the Beebole services write, and of the change
    log, read from the server's own database (apart from when a credential was last used)."""
    result = subprocess.run([sys.executable, "-c", FINGERPRINT], env=server.env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_bad_input_through_the_client_is_refused_and_changes_nothing(beebole_python, admin, tag):
    """Unknown ids, another company's task, a group still in use, and a person without the right: each call
    raises the client's ``BeeboleAPIException`` with the server's message, and the database is byte for byte
    what it was."""
    rows = drive(beebole_python, admin, "bad_input_setup", tag)
    plain = admin.server.create_user()
    plain_token = mint_api_token(admin.server, plain, "no rights")
    before = fingerprint(admin.server)
    out = drive(beebole_python, admin, "bad_input", tag, rows=rows, unknown_id=UNKNOWN_ID, plain_token=plain_token)
    assert fingerprint(admin.server) == before
    expected = {
        "project in an unknown company": f"Unknown company: no company with id {UNKNOWN_ID}",
        "unknown person as member": f"Unknown person: no person with id {UNKNOWN_ID}",
        "unknown group as member": f"Unknown group: no group with id {UNKNOWN_ID}",
        "another company's task on a project": "task:",
        "another company's task on a company": "task:",
        "subproject under an unknown project": f"Unknown project: no project with id {UNKNOWN_ID}",
        "an assigned group deleted without force": "group: The group is still assigned",
        "unknown task renamed": f"Unknown task: no task with id {UNKNOWN_ID}",
        "a company made by a person without the right": "Not allowed:",
        "a project changed by a non-member": f"Unknown project: no project with id {rows['project']}",
        "a manager named by a non-member": "Unknown project:",
        "a task made by a person without the right": "Not allowed:",
    }
    assert set(out) == set(expected)
    for name, start in expected.items():
        assert assert_refused(out[name]).startswith(start), (name, out[name])
