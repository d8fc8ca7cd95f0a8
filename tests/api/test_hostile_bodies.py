"""Hostile request bodies on real endpoints: nested too deep, larger than the limit, sent chunked -- each answered
with the dialect's JSON error before any view runs, and nothing written."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from keelplan.api.common.bodies import nested_deeper_than
from keelplan.calendars.services import calendar_create
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_create

from conftest import client_for
from .v1.contract import assert_error, assert_nothing_written, db_state, json_body

MB = 2**20
SMALL_LIMIT = int(2.5 * MB)    # KEELPLAN_MAX_BODY_MB's default, Django's own upload limit
DEEP = 1000


def nested(levels: int, leaf: str = "1") -> str:
    """JSON text of ``levels`` nested lists around ``leaf``."""
    return "[" * levels + leaf + "]" * levels


def raw(client, method: str, url: str, text: str | bytes, **extra):
    return client.generic(method, url, text, content_type="application/json", **extra)


@pytest.fixture
def task(owner, project):
    return task_create(actor=owner, project=project, name="Survey", description="Before")


def assert_task_unchanged(task):
    row = WorkItem.all_objects.get(pk=task.pk)
    assert (row.name, row.description, row.lock_version) == (task.name, task.description, task.lock_version)


# ---------------------------------------------------------------- too deep

def deep_attacks(owner, project, task):
    """``(client, method, url, body)`` for every write endpoint the issue names, each body 1,000 levels deep."""
    api = client_for(owner)
    deep = nested(DEEP)
    refresh = str(RefreshToken.for_user(owner))
    return {
        "token": (APIClient(), "POST", "/api/token/", f'{{"username": {deep}, "password": "x"}}'),
        "token-refresh": (APIClient(), "POST", "/api/token/refresh/", f'{{"refresh": "{refresh}", "x": {deep}}}'),
        "task-create": (api, "POST", "/api/v1/tasks/", f'{{"project": {project.pk}, "name": {deep}}}'),
        "task-patch": (api, "PATCH", f"/api/v1/tasks/{task.pk}/", f'{{"name": "Moved", "description": {deep}}}'),
        "bulk": (api, "POST", f"/api/v1/projects/{project.pk}/tasks/bulk/",
                 f'{{"tasks": [{{"uid": "{uuid.uuid4()}", "name": "N", "description": {deep}}}]}}'),
        "sync-push": (api, "POST", f"/api/v1/projects/{project.pk}/sync/",
                      f'{{"client_batch_id": "{uuid.uuid4()}", "last_pulled_at": 0, "changes": {{"tasks": '
                      f'{{"created": [{{"uid": "{uuid.uuid4()}", "name": {deep}}}]}}}}}}'),
        "bare-array": (api, "POST", "/api/v1/tasks/", deep),
    }


@pytest.mark.parametrize("attack", ["token", "token-refresh", "task-create", "task-patch", "bulk", "sync-push",
                                    "bare-array"])
def test_a_body_nested_1000_levels_deep_is_400_body_too_deep(owner, project, task, attack):
    client, method, url, body = deep_attacks(owner, project, task)[attack]
    before = db_state()
    refused = assert_error(raw(client, method, url, body), 400, code="body_too_deep")
    assert refused["limit"] == 32
    assert "32" in refused["detail"]
    assert_nothing_written(before, attack)
    assert_task_unchanged(task)


def test_too_deep_is_refused_before_authentication_and_routing(db):
    for url in ("/api/v1/tasks/", "/api/v1/no-such-thing/", "/api/token/"):
        assert_error(raw(APIClient(), "POST", url, nested(DEEP)), 400, code="body_too_deep")


def test_orjsons_own_limit_is_reported_as_too_deep(api):
    # orjson stops at 1,024 levels by itself; that is still this error, not malformed JSON.
    assert_error(raw(api, "POST", "/api/v1/tasks/", nested(100_000)), 400, code="body_too_deep")


def test_the_depth_limit_is_a_setting_and_counts_containers(api, project, settings):
    settings.KEELPLAN_MAX_JSON_DEPTH = 3
    # {"name": "T", "project": id, "x": [[1]]} is three levels: accepted (the unknown field is ignored).
    response = raw(api, "POST", "/api/v1/tasks/", f'{{"project": {project.pk}, "name": "T", "x": {nested(2)}}}')
    assert response.status_code == 201, json_body(response)
    before = db_state()
    body = assert_error(raw(api, "POST", "/api/v1/tasks/",
                            f'{{"project": {project.pk}, "name": "T", "x": {nested(3)}}}'), 400, code="body_too_deep")
    assert body["limit"] == 3
    assert_nothing_written(before)


def test_real_bodies_fit_the_default_depth(api, project, task):
    # A sync push with a WatermelonDB row is the deepest body a client sends: five levels.
    body = {"client_batch_id": str(uuid.uuid4()), "last_pulled_at": 0,
            "changes": {"tasks": {"updated": [{"id": task.pk, "duration": 4, "_changed": "duration"}]}}}
    response = api.post(f"/api/v1/projects/{project.pk}/sync/", body, format="json")
    assert response.status_code == 200, json_body(response)


def test_malformed_json_is_still_the_views_400_after_authentication(api):
    assert_error(raw(api, "POST", "/api/v1/tasks/", '{"name": '), 400, code="malformed_json")
    assert_error(raw(APIClient(), "POST", "/api/v1/tasks/", '{"name": '), 401)


@pytest.mark.parametrize(("value", "limit", "deeper"), [
    (1, 0, False), ([], 0, True), ([], 1, False), ({"a": [1, {"b": []}]}, 3, True), ({"a": [1, {"b": []}]}, 4, False),
    ([[], [[[]]], []], 3, True), ([[], [[[]]], []], 4, False), ({"a": "[[[[[["}, 1, False),
])
def test_nested_deeper_than(value, limit, deeper):
    assert nested_deeper_than(value, limit) is deeper


# ---------------------------------------------------------------- too large

def assert_too_large(response, limit: int = SMALL_LIMIT) -> dict:
    body = assert_error(response, 413, code="body_too_large")
    assert body["limit_bytes"] == limit
    assert f"{limit / MB:g} MB" in body["detail"]
    return body


def test_a_3_mb_description_is_413_naming_the_limit(api, project, task):
    before = db_state()
    big = "x" * (3 * MB)
    assert_too_large(api.post("/api/v1/tasks/", {"project": project.pk, "name": "Big", "description": big},
                              format="json"))
    assert_too_large(api.patch(f"/api/v1/tasks/{task.pk}/", {"description": big}, format="json"))
    assert_nothing_written(before)
    assert_task_unchanged(task)


def test_a_50_mb_patch_or_token_request_is_413(owner, api, task):
    before = db_state()
    huge = json.dumps({"username": "owner", "password": "x" * (50 * MB)})
    assert_too_large(raw(APIClient(), "POST", "/api/token/", huge))
    assert_too_large(raw(APIClient(), "POST", "/api/token/refresh/", huge))
    assert_too_large(raw(api, "PATCH", f"/api/v1/tasks/{task.pk}/", huge))
    assert_nothing_written(before)
    assert_task_unchanged(task)


def test_100000_calendar_exceptions_are_413(owner, api):
    calendar = calendar_create(actor=owner, name="Plant")
    exceptions = [{"exc_start": "2026-05-01", "exc_end": "2026-05-01", "description": "Holiday"}] * 100_000
    before = db_state()
    assert_too_large(api.post("/api/v1/calendars/", {"name": "Flood", "exceptions": exceptions}, format="json"))
    assert_too_large(api.patch(f"/api/v1/calendars/{calendar.pk}/", {"exceptions": exceptions}, format="json"))
    assert_nothing_written(before)


def test_the_limit_is_a_setting(api, project, settings):
    settings.KEELPLAN_MAX_BODY_BYTES = 1000
    before = db_state()
    assert_too_large(api.post("/api/v1/tasks/", {"project": project.pk, "name": "x" * 1000}, format="json"), 1000)
    assert_nothing_written(before)
    response = api.post("/api/v1/tasks/", {"project": project.pk, "name": "Small"}, format="json")
    assert response.status_code == 201, json_body(response)


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(api):
    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("the body was read")

    response = raw(api, "POST", "/api/v1/tasks/", b"", CONTENT_LENGTH=str(SMALL_LIMIT + 1),
                   **{"wsgi.input": Unreadable()})
    assert_too_large(response)


def chunked(client, url: str, body: bytes):
    """A body sent with ``Transfer-Encoding: chunked`` as a de-chunking WSGI server (gunicorn) hands it over: no
    Content-Length, the stream ending where the body does."""
    return client.generic("POST", url, b"", content_type="application/json", CONTENT_LENGTH="",
                          HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(body),
                                                               "wsgi.input_terminated": True})


def test_a_chunked_body_is_read_up_to_the_limit(api, project):
    before = db_state()
    big = json.dumps({"project": project.pk, "name": "Big", "description": "x" * (3 * MB)}).encode()
    assert_too_large(chunked(api, "/api/v1/tasks/", big))
    assert_nothing_written(before)
    small = json.dumps({"project": project.pk, "name": "Chunked"}).encode()
    response = chunked(api, "/api/v1/tasks/", small)
    assert response.status_code == 201, json_body(response)
    assert json_body(response)["name"] == "Chunked"


def test_djangos_upload_limit_never_answers_html_on_api_paths(api, project, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.post("/api/v1/tasks/", {"project": project.pk, "name": "Over Django's limit",
                                           "description": "x" * 500}, format="json")
    assert response.status_code == 201, json_body(response)


# ---------------------------------------------------------------- the larger limit of bulk and sync push

def bulk_body(count: int, description_size: int) -> dict:
    return {"tasks": [{"uid": str(uuid.uuid4()), "name": f"Task {n}", "description": "x" * description_size}
                      for n in range(count)]}


def test_bulk_accepts_bodies_over_the_small_limit(api, project):
    body = bulk_body(40, 80_000)
    assert len(json.dumps(body)) > SMALL_LIMIT
    response = api.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", body, format="json")
    assert response.status_code == 200, json_body(response)
    assert WorkItem.objects.filter(project=project).count() == 40


def test_sync_push_accepts_bodies_over_the_small_limit(api, project):
    rows = [{"uid": str(uuid.uuid4()), "name": f"Offline {n}", "description": "x" * 80_000} for n in range(40)]
    body = {"client_batch_id": str(uuid.uuid4()), "last_pulled_at": 0, "changes": {"tasks": {"created": rows}}}
    assert len(json.dumps(body)) > SMALL_LIMIT
    response = api.post(f"/api/v1/projects/{project.pk}/sync/", body, format="json")
    assert response.status_code == 200, json_body(response)
    assert WorkItem.objects.filter(project=project).count() == 40


def test_bulk_refuses_bodies_over_its_own_limit(api, project, settings):
    settings.KEELPLAN_MAX_BULK_BODY_BYTES = 3 * MB
    before = db_state()
    assert_too_large(api.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", bulk_body(50, 80_000), format="json"),
                     3 * MB)
    body = {"client_batch_id": str(uuid.uuid4()), "last_pulled_at": 0,
            "changes": {"tasks": {"created": bulk_body(50, 80_000)["tasks"]}}}
    assert_too_large(api.post(f"/api/v1/projects/{project.pk}/sync/", body, format="json"), 3 * MB)
    assert_nothing_written(before)


@pytest.mark.parametrize("credential", [None, "Bearer not-a-token", "Bearer kp_unknown"])
def test_the_larger_limit_needs_a_caller_who_authenticates(project, credential):
    client = APIClient()
    if credential:
        client.credentials(HTTP_AUTHORIZATION=credential)
    before = db_state()
    body = bulk_body(40, 80_000)
    assert_too_large(client.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", body, format="json"))
    assert_nothing_written(before)
    # Under the small limit the view answers as before: 401.
    assert_error(client.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", bulk_body(1, 10), format="json"), 401)


def test_the_larger_limit_is_only_for_bulk_and_sync(api, project):
    body = bulk_body(40, 80_000)
    assert_too_large(api.post("/api/v1/tasks/", body, format="json"))
    assert_too_large(api.post(f"/api/v1/projects/{project.pk}/schedule/", body, format="json"))


# ---------------------------------------------------------------- outside the API

def test_a_huge_admin_post_keeps_djangos_answer_and_is_no_500(db):
    response = Client().post("/admin/login/", {"username": "x", "password": "y" * (3 * MB)})
    assert response.status_code == 400
