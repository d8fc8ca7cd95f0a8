"""``keelplan serve`` on a fresh data folder: it creates and migrates the SQLite file, loads the demo, and
serves the API, its schema, Swagger UI with local assets, and the admin - all from the one process."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests

from .conftest import LiveServer, assert_no_server_errors, create_tasks_concurrently, list_all, run_server

pytestmark = pytest.mark.live


class _AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.assets.append(value)


def test_first_start_creates_the_sqlite_file_and_loads_the_demo(sqlite_server: LiveServer):
    assert (sqlite_server.data_dir / "keelplan.sqlite3").is_file()
    me, session = sqlite_server.user_session()

    people = session.get(sqlite_server.url("/api/v1/users/?page_size=500"), timeout=30)
    projects = session.get(sqlite_server.url("/api/v1/projects/"), timeout=30)

    assert people.status_code == 200
    # The demo was loaded into the empty database before this test's user existed.
    assert {row["username"] for row in people.json()["results"]} - {me}
    assert projects.status_code == 200
    assert set(projects.json()) >= {"count", "next", "previous", "results"}


def test_a_restart_on_the_same_folder_keeps_the_data_and_does_not_reload_the_demo(tmp_path):
    with run_server(tmp_path) as first:
        username, session = first.user_session()
        people_before = session.get(first.url("/api/v1/users/?page_size=500"), timeout=30).json()["count"]

    with run_server(tmp_path) as second:
        session = second.session(second.token(username))
        people_after = session.get(second.url("/api/v1/users/?page_size=500"), timeout=30).json()["count"]

    assert people_after == people_before


def test_unauthenticated_requests_get_a_json_401(sqlite_server: LiveServer):
    response = requests.get(sqlite_server.url("/api/v1/projects/"), timeout=30)

    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_bad_credentials_at_the_token_endpoint_are_a_401(sqlite_server: LiveServer):
    response = requests.post(sqlite_server.url("/api/token/"), json={"username": "nobody", "password": "wrong"},
                             timeout=30)

    assert response.status_code == 401
    assert response.json()["detail"]


def test_the_worker_pid_header_is_off_by_default(sqlite_server: LiveServer):
    response = requests.get(sqlite_server.url("/api/v1/projects/"), timeout=30)

    assert "X-Keelplan-Worker" not in response.headers


def test_the_schema_is_openapi_3_1(sqlite_server: LiveServer):
    response = requests.get(sqlite_server.url("/api/schema/?format=json"), timeout=60)

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/tasks/{id}/" in schema["paths"]


def test_swagger_ui_is_served_with_local_assets_only(sqlite_server: LiveServer):
    response = requests.get(sqlite_server.url("/api/schema/swagger-ui/"), timeout=30)
    assert response.status_code == 200
    html = response.text
    assert re.search(r"https?://", html) is None, "Swagger UI must not load anything from the internet"

    collector = _AssetCollector()
    collector.feed(html)
    scripts = [asset for asset in collector.assets if asset.endswith(".js")]
    assert scripts, "the page should load the Swagger UI bundle"
    for asset in collector.assets:
        assert asset.startswith("/static/"), asset
        served = requests.get(sqlite_server.url(asset), timeout=30)
        assert served.status_code == 200, asset
        assert served.content, asset
    bundle = requests.get(sqlite_server.url(next(s for s in scripts if "bundle" in s)), timeout=30)
    assert "javascript" in bundle.headers["Content-Type"]


def test_the_admin_login_page_is_served(sqlite_server: LiveServer):
    response = requests.get(sqlite_server.url("/admin/login/"), timeout=30)

    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]


def test_concurrent_creates_on_one_sqlite_process_are_all_kept(sqlite_server: LiveServer):
    _, session = sqlite_server.user_session()
    token = session.headers["Authorization"].removeprefix("Bearer ")
    project = session.post(sqlite_server.url("/api/v1/projects/"),
                           json={"name": "Concurrency on SQLite", "start_date": "2026-02-02"}, timeout=30).json()

    outcomes = create_tasks_concurrently(sqlite_server, token, project["id"], total=120, threads=8)

    assert_no_server_errors(outcomes)
    assert [o.status for o in outcomes] == [201] * 120, {o.status for o in outcomes}
    created = {o.body["id"] for o in outcomes}
    rows, pages = list_all(session, sqlite_server.url(f"/api/v1/tasks/?project={project['id']}&page_size=25"))
    assert len(pages) >= 5
    assert pages[0].body["count"] == 120
    assert {row["id"] for row in rows} == created
    assert len(rows) == 120
