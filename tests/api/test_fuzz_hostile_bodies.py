"""Hypothesis over hostile bodies and cursors: every write endpoint of the URL conf, with bodies of any nesting
depth and size (chunked or not, signed in or not), and every list endpoint with any cursor -- never a 5xx, and
always a JSON answer in the dialect's own media type (or none, for a 204)."""

from __future__ import annotations

import base64
import io
import json
import re
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st
from rest_framework.test import APIClient

from keelplan.api.v1.urls import router
from keelplan.calendars.services import calendar_create
from keelplan.planning.services import dependency_create, task_create
from keelplan.portfolio.models import Membership
from keelplan.resources.services import assignment_create, resource_create
from keelplan.timesheets.services import time_entry_create

from conftest import client_for

WRITE_METHODS = ("post", "put", "patch", "delete")
# Small limits so the fuzzer crosses them with cheap bodies; the code paths are those of the real limits.
SMALL_LIMIT, BULK_LIMIT = 4096, 16384
FUZZ = hypothesis_settings(max_examples=12, derandomize=True, database=None, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                  HealthCheck.data_too_large])
# A path parameter: a regex group, or a ``path()`` converter (``<id:pk>``, ``<str:ref>``).
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


def _routes(patterns, prefix="/"):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern).removeprefix("^"))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern).removeprefix("^").removesuffix("$"), pattern


def api_routes():
    """``(template, name, methods, basename)`` of every DRF route under /api/ (format-suffix twins left out)."""
    basenames = sorted((basename for _, _, basename in router.registry), key=len, reverse=True)
    found = []
    for template, pattern in _routes(get_resolver().url_patterns):
        view = getattr(pattern.callback, "cls", None)
        if not template.startswith("/api/") or view is None or "(?P<format>" in template:
            continue
        actions = getattr(pattern.callback, "actions", None)
        methods = tuple(actions) if actions else tuple(m for m in view.http_method_names if hasattr(view, m))
        basename = next((b for b in basenames if (pattern.name or "").startswith(f"{b}-")), None)
        found.append((template, pattern.name, methods, basename))
    return found


WRITE_ENDPOINTS = [(method.upper(), template, basename) for template, _, methods, basename in api_routes()
                   for method in methods if method in WRITE_METHODS]
LIST_ENDPOINTS = [template for template, name, methods, _ in api_routes() if name and name.endswith("-list")]


def test_the_route_listing_finds_the_endpoints_the_issue_names():
    writes = {(method, template) for method, template, _ in WRITE_ENDPOINTS}
    assert {("POST", "/api/token/"), ("POST", "/api/token/refresh/"), ("POST", "/api/v1/tasks/"),
            ("PATCH", "/api/v1/tasks/(?P<pk>[0-9]{1,18})/"),
            ("POST", "/api/v1/projects/(?P<id>[0-9]{1,18})/tasks/bulk/"),
            ("POST", "/api/v1/projects/(?P<pk>[0-9]{1,18})/sync/")} <= writes
    assert "/api/v1/tasks/" in LIST_ENDPOINTS and "/api/v1/calendars/" in LIST_ENDPOINTS


@pytest.fixture
def world(owner, project, settings):
    """One row of every kind, so each route's path names something that exists; the body limits made small."""
    settings.KEELPLAN_MAX_BODY_BYTES, settings.KEELPLAN_MAX_BULK_BODY_BYTES = SMALL_LIMIT, BULK_LIMIT
    # Django's own limit as small: on an API path it must never be the one that answers (in HTML).
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = SMALL_LIMIT
    a = task_create(actor=owner, project=project, name="A")
    b = task_create(actor=owner, project=project, name="B")
    resource = resource_create(actor=owner, name="Crane")
    ids = {
        "calendar": calendar_create(actor=owner, name="Plant").pk, "project": project.pk,
        "member": Membership.objects.get(project=project, user=owner).pk, "task": a.pk,
        "dependency": dependency_create(actor=owner, predecessor=a, successor=b).pk, "resource": resource.pk,
        "task-resource": assignment_create(actor=owner, work_item=a, resource=resource).pk, "user": owner.pk,
        "time_entry": time_entry_create(actor=owner, project=project, spent_on=project.start_date, minutes=60,
                                        work_item=a).pk,
    }
    return {"ids": ids, "project": project.pk, "signed_in": client_for(owner), "anonymous": APIClient()}


# A v3 route's row id, by the collection its path names (any other id stays 1: a 404 is an answer too).
V3_ROWS = {"work_packages": "task", "relations": "dependency", "projects": "project", "users": "user",
           "memberships": "member", "time_entries": "time_entry"}
V3_GROUPS = {"ref": "project", "code": "on_track", "day": "1", "date": "2026-01-01"}


def url_for(template: str, basename: str | None, ids: dict) -> str:
    if template.startswith("/api/v3"):
        def v3_value(match):
            group = match.group(1) or match.group(2)
            if group in V3_GROUPS:
                known = V3_GROUPS[group]
                return str(ids[known]) if known in ids else known
            collection = template[:match.start()].rstrip("/").rsplit("/", 1)[-1]
            return str(ids.get(V3_ROWS.get(collection), 1))
        return _GROUP.sub(v3_value, template)

    def value(match):
        group = match.group(1) or match.group(2)
        return str(ids["project"] if group in ("project_pk", "id") else ids[basename])
    return _GROUP.sub(value, template)


def nested(depth: int, leaf: str, kinds: str) -> str:
    opening = "".join("[" if kinds[i % len(kinds)] == "l" else '{"k": ' for i in range(depth))
    closing = "".join("]" if kinds[i % len(kinds)] == "l" else "}" for i in reversed(range(depth)))
    return opening + leaf + closing


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def bodies(draw) -> bytes:
    """A body that is too deep, too large, both, malformed, or plausible."""
    shape = draw(st.sampled_from(["deep", "large", "deep-and-large", "json", "bytes"]))
    depth = draw(st.integers(0, 40) | st.sampled_from([33, 1000, 1024, 1025, 5000]))
    kinds = draw(st.sampled_from(["l", "d", "ld", "dll"]))
    size = draw(st.integers(0, 2 * BULK_LIMIT) | st.sampled_from([SMALL_LIMIT, SMALL_LIMIT + 1, BULK_LIMIT,
                                                                   BULK_LIMIT + 1]))
    if shape == "bytes":
        return draw(st.binary(max_size=300))
    if shape == "json":
        return json.dumps(draw(json_values)).encode()
    leaf = json.dumps("x" * size) if shape != "deep" else "1"
    inner = nested(depth, leaf, kinds) if shape != "large" else leaf
    # Where a client's body would hold it: a field, a bulk row, a pushed row, or the whole body.
    wrapped = draw(st.sampled_from(['{"name": @, "description": "d"}', '{"tasks": [{"name": @}]}',
                                    '{"changes": {"tasks": {"created": [@]}}}', "@"]))
    return wrapped.replace("@", inner).encode()


def assert_no_fault(response, what, *, url: str = "") -> None:
    assert response.status_code < 500, (what, response.status_code, response.content[:300])
    if response.status_code == 204:
        assert response.content == b"", what
        return
    content_type = response.get("Content-Type", "")
    # The OpenProject v3 dialect answers HAL JSON (and a write without Content-Type, 406 in plain text).
    expected = "application/hal+json" if url.startswith("/api/v3") else "application/json"
    if url.startswith("/api/v3") and response.status_code == 406:
        assert content_type.startswith("text/plain"), (what, content_type)
        return
    assert content_type.startswith(expected), (what, response.status_code, content_type, response.content[:300])
    json.loads(response.content)


@pytest.mark.parametrize(("method", "template", "basename"), WRITE_ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in WRITE_ENDPOINTS])
@FUZZ
# The issue's attacks on every endpoint, whatever the fuzzer draws besides.
@example(body=b"[" * 1000 + b"]" * 1000, signed_in=False, chunked=False, content_type="application/json")
@example(body=b'{"name": "' + b"[" * 1000 + b'"}', signed_in=True, chunked=False, content_type="application/json")
@example(body=b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b"}", signed_in=True, chunked=False,
         content_type="application/json")
@example(body=b'{"description": "' + b"x" * (BULK_LIMIT + 1) + b'"}', signed_in=True, chunked=False,
         content_type="application/json")
@example(body=b'{"description": "' + b"x" * (SMALL_LIMIT + 1) + b'"}', signed_in=False, chunked=True,
         content_type="application/json")
@given(body=bodies(), signed_in=st.booleans(), chunked=st.booleans(),
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain"]))
def test_no_body_makes_a_write_endpoint_fail(world, method, template, basename, body, signed_in, chunked,
                                             content_type):
    client = world["signed_in" if signed_in else "anonymous"]
    url = url_for(template, basename, world["ids"])
    extra = {}
    if chunked:
        extra = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body),
                 "wsgi.input_terminated": True}
    response = client.generic(method, url, b"" if chunked else body, content_type=content_type, **extra)
    assert_no_fault(response, (method, url, body[:80], signed_in, chunked, content_type), url=url)


def drf_cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


cursors = (
    st.text(max_size=60)
    | st.binary(max_size=60).map(lambda raw: base64.urlsafe_b64encode(raw).decode())
    | st.builds(lambda o, r, p: drf_cursor(f"o={o}&r={r}&p={p}"), st.integers(-10**12, 10**12),
                st.sampled_from(["0", "1", "2", "x"]), st.integers(-2**70, 2**70) | st.text(max_size=10))
    | st.builds(lambda cut, junk: f"{cut}.{junk}", st.text("AbcdefXYZ0123456789-_", max_size=20),
                st.text("AbcdefXYZ0123456789-_", max_size=50))
)


@pytest.mark.parametrize("template", LIST_ENDPOINTS)
@FUZZ
@given(cursor=cursors, page_size=st.none() | st.integers(-5, 2000).map(str) | st.text(max_size=5),
       mutate=st.integers(0, 200))
def test_no_cursor_makes_a_list_endpoint_fail(world, template, cursor, page_size, mutate):
    client = world["signed_in"]
    url = url_for(template, None, world["ids"])
    params = f"?cursor={quote(cursor)}" + (f"&page_size={quote(page_size)}" if page_size is not None else "")
    assert_no_fault(client.get(url + params), (url, params))
    # A cursor the server handed out, with one character changed.
    handed_out = client.get(url + "?page_size=1").json().get("next")
    if handed_out:
        token = handed_out.split("cursor=")[1].split("&")[0]
        i = mutate % len(token)
        changed = token[:i] + ("B" if token[i] != "B" else "C") + token[i + 1:]
        response = client.get(f"{url}?page_size=1&cursor={changed}")
        assert_no_fault(response, (url, changed))
        assert response.status_code == 400
