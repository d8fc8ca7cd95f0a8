"""``/api/v3/spec.json``: a valid OpenAPI 3.1 document, public, describing exactly the routes the v3 dialect serves
(every route a path with its methods, every path a route), and answers from the real views that validate against
the schemas it documents for their status and content type, successes and errors alike."""

from __future__ import annotations

import re

import jsonschema
import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from keelplan.api.v3.base import NotFoundView
from keelplan.planning.models import Category
from keelplan.planning.services import task_create
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add

from conftest import make_user

from .conftest import v3_client

pytestmark = pytest.mark.django_db

SPEC = "/api/v3/spec.json"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document() -> dict:
    from keelplan.api.v3.spec import document

    return document()


def resolve_pointer(document: dict, pointer: str):
    node = document
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


# ---------------------------------------------------------------- the document itself

def test_spec_is_served_publicly_as_json(document):
    answer = APIClient().get(SPEC)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json() == document


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    validate_schema(document)   # the OAS 3.1 meta-schema drf-spectacular ships
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    for reference in set(refs(document)):
        assert reference.startswith("#/components/"), reference
        resolve_pointer(document, reference)   # raises KeyError when it points nowhere


def test_every_operation_answers_hal_errors_and_names_its_path_parameters(document):
    for template, item in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", template))
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            declared = [resolve_pointer(document, p["$ref"]) if "$ref" in p else p
                        for p in [*item.get("parameters", []), *operation.get("parameters", [])]]
            assert {p["name"] for p in declared if p["in"] == "path"} == names, (method, template)
            statuses = set(operation["responses"])
            if template != SPEC:
                assert "401" in statuses, (method, template)
            if method != "get":
                assert {"406", "413", "429"} <= statuses, (method, template)
            if "{" in template:
                assert "404" in statuses, (method, template)


def _template(pattern) -> str:
    """A Django route or regex as an OpenAPI path with anonymous parameters: ``statuses/{}``."""
    text = str(pattern.pattern)
    if hasattr(pattern.pattern, "regex") and text.startswith("^"):
        text = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", text.strip("^$"))
    else:
        text = re.sub(r"<(?:\w+:)?\w+>", "{}", text)
    return text


def routed_v3() -> dict[str, set[str]]:
    """Every route under ``/api/v3`` in the URL map (the catch-all aside), with the methods its view answers."""
    routes: dict[str, set[str]] = {}

    def walk(patterns, prefix: str):
        for entry in patterns:
            here = prefix + _template(entry)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, here)
            elif isinstance(entry, URLPattern) and here.startswith("api/v3"):
                view = entry.callback.view_class
                if view is NotFoundView:   # the catch-all: every other path is 404
                    continue
                methods = {m for m in METHODS if hasattr(view, m)}
                routes.setdefault("/" + here, set()).update(methods)

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_route_has_a_path_and_every_path_a_route(document):
    documented = {re.sub(r"{\w+}", "{}", template): {m for m in METHODS if m in item}
                  for template, item in document["paths"].items()}
    routed = routed_v3()
    assert set(routed) == set(documented), (sorted(set(routed) - set(documented)),
                                            sorted(set(documented) - set(routed)))
    for template, methods in routed.items():
        assert documented[template] == methods, template


# ---------------------------------------------------------------- answers conform

def conforms(document: dict, answer, method: str, template: str):
    """The answer's status is documented for the operation, with its content type, and the body validates."""
    operation = document["paths"][template][method.lower()]
    assert str(answer.status_code) in operation["responses"], (method, template, answer.status_code,
                                                               answer.content[:300])
    documented = operation["responses"][str(answer.status_code)]
    if "$ref" in documented:
        documented = resolve_pointer(document, documented["$ref"])
    content = documented.get("content")
    if not content:
        assert not answer.content, (method, template)
        return None
    media_type = answer["Content-Type"].split(";")[0].strip()
    assert media_type in content, (method, template, media_type)
    if media_type == "text/plain":
        return answer.content.decode()
    schema = {**content[media_type]["schema"], "components": document["components"]}
    body = answer.json()
    errors = sorted(jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).iter_errors(body), key=str)
    assert not errors, (method, template, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]])
    return body


@pytest.fixture
def world(owner, project):
    """A project with a work package pair, a relation, a version, a category, a member and a group, all made
    through the v3 API where it can (their ids and the client that made them)."""
    v3 = v3_client(owner)
    colleague = make_user("colleague")
    membership_add(actor=owner, project=project, user=colleague, role=Role.MEMBER)
    first = task_create(actor=owner, project=project, name="Order", duration=3)
    second = task_create(actor=owner, project=project, name="Install", duration=2)
    category = Category.objects.create(project=project, name="Hardware", default_assignee=colleague)
    made = {"v3": v3, "project": project, "first": first.pk, "second": second.pk, "category": category.pk,
            "colleague": colleague.pk, "type": first.type_id}
    relation = v3.post("/api/v3/relations", {"type": "precedes", "lag": 1, "_links": {
        "from": {"href": f"/api/v3/work_packages/{first.pk}"}, "to": {"href": f"/api/v3/work_packages/{second.pk}"}}},
        format="json")
    assert relation.status_code == 201, relation.content
    made["relation"] = relation.json()["id"]
    version = v3.post("/api/v3/versions", {"name": "1.0", "_links": {
        "definingProject": {"href": f"/api/v3/projects/{project.pk}"}}}, format="json")
    assert version.status_code == 201, version.content
    made["version"] = version.json()["id"]
    group = v3.post("/api/v3/groups", {"name": "Fitters", "_links": {
        "members": [{"href": f"/api/v3/users/{colleague.pk}"}]}}, format="json")
    assert group.status_code == 201, group.content
    made["group"] = group.json()["id"]
    made["membership"] = next(m["id"] for m in v3.get("/api/v3/memberships").json()["_embedded"]["elements"]
                              if m["_links"]["principal"]["href"] == f"/api/v3/users/{colleague.pk}")
    return made


def test_every_read_of_real_rows_conforms(document, world):
    v3, project = world["v3"], world["project"]
    reads = [
        ("/api/v3", "/api/v3"),
        ("/api/v3/statuses", "/api/v3/statuses"), ("/api/v3/types", "/api/v3/types"),
        ("/api/v3/priorities", "/api/v3/priorities"), ("/api/v3/roles", "/api/v3/roles"),
        ("/api/v3/roles/400", "/api/v3/roles/{id}"),
        ("/api/v3/versions", "/api/v3/versions"), (f"/api/v3/versions/{world['version']}", "/api/v3/versions/{id}"),
        (f"/api/v3/versions/{world['version']}/projects", "/api/v3/versions/{id}/projects"),
        (f"/api/v3/categories/{world['category']}", "/api/v3/categories/{id}"),
        ("/api/v3/days/week", "/api/v3/days/week"), ("/api/v3/days/week/6", "/api/v3/days/week/{day}"),
        ("/api/v3/days/non_working", "/api/v3/days/non_working"),
        ("/api/v3/projects", "/api/v3/projects"), ("/api/v3/projects/schema", "/api/v3/projects/schema"),
        ("/api/v3/projects/available_parent_projects", "/api/v3/projects/available_parent_projects"),
        (f"/api/v3/projects/{project.identifier}", "/api/v3/projects/{project}"),
        (f"/api/v3/projects/{project.pk}/types", "/api/v3/projects/{project}/types"),
        (f"/api/v3/projects/{project.pk}/versions", "/api/v3/projects/{project}/versions"),
        (f"/api/v3/projects/{project.pk}/categories", "/api/v3/projects/{project}/categories"),
        (f"/api/v3/projects/{project.pk}/available_assignees", "/api/v3/projects/{project}/available_assignees"),
        (f"/api/v3/projects/{project.pk}/work_packages?filters=[]", "/api/v3/projects/{project}/work_packages"),
        ("/api/v3/project_statuses", "/api/v3/project_statuses"),
        ("/api/v3/work_packages?pageSize=1&offset=2", "/api/v3/work_packages"),
        (f"/api/v3/work_packages/{world['second']}", "/api/v3/work_packages/{id}"),
        (f"/api/v3/work_packages/{world['first']}/relations", "/api/v3/work_packages/{id}/relations"),
        (f"/api/v3/work_packages/{world['first']}/available_assignees",
         "/api/v3/work_packages/{id}/available_assignees"),
        (f"/api/v3/work_packages/schemas/{project.pk}-{world['type']}",
         "/api/v3/work_packages/schemas/{projectId}-{typeId}"),
        ("/api/v3/project_statuses/on_track", "/api/v3/project_statuses/{id}"),
        ("/api/v3/relations", "/api/v3/relations"),
        (f"/api/v3/relations/{world['relation']}", "/api/v3/relations/{id}"),
        ("/api/v3/users", "/api/v3/users"), ("/api/v3/users/me", "/api/v3/users/{id}"),
        (f"/api/v3/users/{world['colleague']}", "/api/v3/users/{id}"),
        ("/api/v3/groups", "/api/v3/groups"), (f"/api/v3/groups/{world['group']}", "/api/v3/groups/{id}"),
        ("/api/v3/principals", "/api/v3/principals"),
        ("/api/v3/memberships", "/api/v3/memberships"), ("/api/v3/memberships/schema", "/api/v3/memberships/schema"),
        ("/api/v3/memberships/available_projects", "/api/v3/memberships/available_projects"),
        (f"/api/v3/memberships/{world['membership']}", "/api/v3/memberships/{id}"),
    ]
    for url, template in reads:
        answer = v3.get(url)
        assert answer.status_code == 200, (url, answer.content[:300])
        conforms(document, answer, "GET", template)
    # The embedded group principal (no members embedded) and a work package with children conform too.
    page = v3.get("/api/v3/principals?pageSize=100").json()
    assert {e["_type"] for e in page["_embedded"]["elements"]} == {"User", "Group"}


def test_every_write_answer_conforms(document, world):
    v3, project = world["v3"], world["project"]
    wp_href = f"/api/v3/work_packages/{world['first']}"

    def send(method, url, template, body=None, status=None):
        if body is None:
            answer = getattr(v3, method.lower())(url, content_type="application/json")
        else:
            answer = getattr(v3, method.lower())(url, body, format="json")
        if status is not None:
            assert answer.status_code == status, (method, url, answer.status_code, answer.content[:300])
        return conforms(document, answer, method, template)

    created = send("POST", "/api/v3/work_packages", "/api/v3/work_packages", {
        "subject": "Wire", "startDate": "2026-02-02", "duration": "P2D",
        "_links": {"project": {"href": f"/api/v3/projects/{project.pk}"}, "parent": {"href": wp_href}}}, 201)
    send("POST", f"/api/v3/projects/{project.identifier}/work_packages", "/api/v3/projects/{project}/work_packages",
         {"subject": "Test"}, 201)
    send("PATCH", f"/api/v3/work_packages/{created['id']}", "/api/v3/work_packages/{id}",
         {"lockVersion": created["lockVersion"], "subject": "Rewire"}, 200)
    send("PATCH", f"/api/v3/work_packages/{created['id']}", "/api/v3/work_packages/{id}",
         {"lockVersion": created["lockVersion"], "subject": "Stale"}, 409)
    parent = send("GET", wp_href, "/api/v3/work_packages/{id}", status=200)
    assert parent["_links"]["children"] and parent["derivedStartDate"]
    send("POST", "/api/v3/work_packages/form", "/api/v3/work_packages/form",
         {"subject": "Draft", "_links": {"project": {"href": f"/api/v3/projects/{project.pk}"}}}, 200)
    send("POST", f"/api/v3/projects/{project.pk}/work_packages/form", "/api/v3/projects/{project}/work_packages/form",
         {"subject": ""}, 200)
    send("POST", f"{wp_href}/form", "/api/v3/work_packages/{id}/form", {"subject": "No lock version"}, 200)
    send("POST", f"{wp_href}/relations", "/api/v3/work_packages/{id}/relations",
         {"type": "relates", "_links": {"to": {"href": f"/api/v3/work_packages/{world['second']}"}}}, 201)
    send("PATCH", f"/api/v3/relations/{world['relation']}", "/api/v3/relations/{id}", {"lag": 3}, 200)
    gemini = send("POST", "/api/v3/projects", "/api/v3/projects", {"name": "Gemini", "identifier": "gemini"}, 201)
    send("PATCH", "/api/v3/projects/gemini", "/api/v3/projects/{project}",
         {"description": {"raw": "Two seats."}}, 200)
    send("POST", "/api/v3/projects/form", "/api/v3/projects/form", {"name": "Mercury"}, 200)
    form = send("POST", "/api/v3/projects/gemini/form", "/api/v3/projects/{project}/form", {"name": ""}, 200)
    assert form["_embedded"]["validationErrors"]
    send("PATCH", f"/api/v3/versions/{world['version']}", "/api/v3/versions/{id}", {"status": "locked"}, 200)
    send("POST", "/api/v3/users", "/api/v3/users", {"login": "newcomer", "password": "a-long-password-1",
                                                   "firstName": "New", "lastName": "Comer"}, 201)
    send("PATCH", f"/api/v3/users/{world['colleague']}", "/api/v3/users/{id}", {"admin": False}, 200)
    send("PATCH", f"/api/v3/groups/{world['group']}", "/api/v3/groups/{id}", {"name": "Riggers"}, 200)
    membership = send("POST", "/api/v3/memberships", "/api/v3/memberships", {"_links": {
        "project": {"href": f"/api/v3/projects/{gemini['id']}"},
        "principal": {"href": f"/api/v3/groups/{world['group']}"}, "roles": [{"href": "/api/v3/roles/100"}]}}, 201)
    assert membership["_embedded"]["principal"]["_type"] == "Group"
    send("POST", "/api/v3/memberships/form", "/api/v3/memberships/form", {"_links": {}}, 200)
    send("POST", f"/api/v3/memberships/{world['membership']}/form", "/api/v3/memberships/{id}/form",
         {"_links": {"roles": [{"href": "/api/v3/roles/300"}]}}, 200)
    send("PATCH", f"/api/v3/memberships/{world['membership']}", "/api/v3/memberships/{id}",
         {"_links": {"roles": [{"href": "/api/v3/roles/300"}]}}, 200)
    for url, template, status in [
        (f"/api/v3/relations/{world['relation']}", "/api/v3/relations/{id}", 204),
        (f"/api/v3/work_packages/{created['id']}", "/api/v3/work_packages/{id}", 204),
        (f"/api/v3/versions/{world['version']}", "/api/v3/versions/{id}", 204),
        (f"/api/v3/groups/{world['group']}", "/api/v3/groups/{id}", 202),
        (f"/api/v3/users/{world['colleague']}", "/api/v3/users/{id}", 403),
        ("/api/v3/projects/gemini", "/api/v3/projects/{project}", 204),
    ]:
        send("DELETE", url, template, status=status)


def test_error_answers_conform(document, world, outsider):
    v3, project = world["v3"], world["project"]
    stranger = v3_client(outsider)
    cases = [
        (APIClient(), "GET", "/api/v3/work_packages", "/api/v3/work_packages", None, 401),
        (stranger, "GET", f"/api/v3/projects/{project.pk}", "/api/v3/projects/{project}", None, 404),
        (stranger, "PATCH", f"/api/v3/versions/{world['version']}", "/api/v3/versions/{id}", {"name": "x"}, 404),
        (v3, "GET", "/api/v3/statuses/999999", "/api/v3/statuses/{id}", None, 404),
        (v3, "GET", "/api/v3/days/non_working/2026-01-06", "/api/v3/days/non_working/{date}", None, 404),
        (v3, "GET", "/api/v3/custom_options/7", "/api/v3/custom_options/{id}", None, 404),
        (v3, "POST", "/api/v3/work_packages/form", "/api/v3/work_packages/form", {"subject": "x"}, 422),
        (v3, "GET", "/api/v3/projects?filters=nonsense", "/api/v3/projects", None, 400),
        (v3, "GET", "/api/v3/work_packages?offset=x", "/api/v3/work_packages", None, 400),
        (v3, "POST", "/api/v3/work_packages", "/api/v3/work_packages", {}, 422),
        (v3, "POST", "/api/v3/relations", "/api/v3/relations", ["not", "an", "object"], 400),
        (v3, "PATCH", f"/api/v3/work_packages/{world['first']}", "/api/v3/work_packages/{id}", {"subject": "x"},
         422),
    ]
    for client, method, url, template, body, status in cases:
        answer = getattr(client, method.lower())(url, body, format="json") if body is not None else \
            getattr(client, method.lower())(url)
        assert answer.status_code == status, (method, url, answer.status_code, answer.content[:300])
        conforms(document, answer, method, template)
    bare = v3.delete(f"/api/v3/relations/{world['relation']}")   # no Content-Type: OpenProject's plain 406
    assert bare.status_code == 406
    assert conforms(document, bare, "DELETE", "/api/v3/relations/{id}") == "Missing content-type header"
    wrong_type = v3.post("/api/v3/projects", "name=x", content_type="text/plain")
    assert wrong_type.status_code == 415
    conforms(document, wrong_type, "POST", "/api/v3/projects")


def test_a_schema_catches_a_wrong_shape(document):
    """The conformance check above is not vacuous: a body missing what a resource always has fails it."""
    schema = {"$ref": "#/components/schemas/WorkPackage", "components": document["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid({"_type": "WorkPackage", "id": 1, "_links": {"self": {"href": None}}})
    assert not validator.is_valid({"_type": "Project"})
    error = {"$ref": "#/components/schemas/Error", "components": document["components"]}
    assert jsonschema.Draft202012Validator(error).is_valid(
        {"_type": "Error", "errorIdentifier": "urn:openproject-org:api:v3:errors:NotFound", "message": "Gone."})
