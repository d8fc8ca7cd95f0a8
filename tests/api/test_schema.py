"""The published OpenAPI description: generated without a single drf-spectacular warning, OpenAPI 3.1,
covering the whole v1 contract with its error answers, and browsable offline through Swagger UI."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

from keelplan.api.v1.schema import ERROR_DESCRIPTIONS

# The seed's routes (``shared/seeds/trueppm-api-v1.md``) with our path-parameter names: a member is
# ``/projects/{project_pk}/members/{id}/`` where the seed writes ``{id}`` and ``{mid}``.
SEED_OPERATIONS = {
    "/api/token/": {"post"},
    "/api/token/refresh/": {"post"},
    **{f"/api/v1/{name}/": {"get", "post"}
       for name in ("calendars", "projects", "tasks", "dependencies", "resources", "task-resources")},
    **{f"/api/v1/{name}/{{id}}/": {"get", "put", "patch", "delete"}
       for name in ("calendars", "projects", "tasks", "dependencies", "resources", "task-resources")},
    "/api/v1/projects/{project_pk}/members/": {"get", "post"},
    "/api/v1/projects/{project_pk}/members/{id}/": {"get", "patch", "delete"},
}
SEED_SYNC_PATH = "/api/v1/projects/{id}/sync/"
HTTP_METHODS = {"get", "put", "patch", "post", "delete"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    """The schema as ``manage.py spectacular --validate --fail-on-warn`` writes it; any warning fails here."""
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(path))
    return json.loads(path.read_text())


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_the_schema_is_openapi_3_1(schema):
    assert schema["openapi"].startswith("3.1.")


def test_every_route_of_the_seed_is_described(schema):
    missing = {(path, method) for path, methods in SEED_OPERATIONS.items() for method in methods
               if method not in schema["paths"].get(path, {})}
    assert not missing, sorted(missing)


def test_the_sync_feed_of_the_seed_is_described(schema):
    assert "get" in schema["paths"].get(SEED_SYNC_PATH, {}), f"GET {SEED_SYNC_PATH} is part of the v1 contract"


def test_both_bearer_schemes_are_declared_and_every_v1_operation_requires_one(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtAuth"]["scheme"] == "bearer"
    assert schemes["apiToken"] == {**schemes["apiToken"], "type": "http", "scheme": "bearer"}
    for path, method, operation in _operations(schema):
        if path.startswith("/api/v1/"):
            assert {name for requirement in operation["security"] for name in requirement} == {"jwtAuth", "apiToken"}, (
                path, method)


def test_v1_operations_document_their_error_answers(schema):
    for path, method, operation in _operations(schema):
        if not path.startswith("/api/v1/"):
            continue
        responses = operation["responses"]
        assert "401" in responses, (path, method)
        if method != "get":
            assert {"400", "403", "409"} <= set(responses), (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
        for code in set(responses) & set(ERROR_DESCRIPTIONS):
            assert responses[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert schema["paths"]["/api/token/"]["post"]["responses"].keys() >= {"200", "400", "401"}


def test_row_ids_in_paths_and_filters_are_integers(schema):
    def parameter(path, name):
        return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]

    assert parameter("/api/v1/tasks/{id}/", "id")["type"] == "integer"
    assert parameter("/api/v1/tasks/{id}/", "id")["minimum"] == 1
    assert parameter("/api/v1/tasks/", "project") == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def test_operations_are_not_described_by_an_inherited_implementation_docstring(schema):
    descriptions = [operation.get("description", "") for _, _, operation in _operations(schema)]
    assert not [d for d in descriptions if "service_kwargs" in d or "Subclasses" in d]


def test_swagger_ui_loads_only_local_assets():
    response = Client().get("/api/schema/swagger-ui/")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r"https?://", html) is None, "no CDN: the page must work without internet access"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(a.startswith("/static/drf_spectacular_sidecar/") for a in assets), assets
