"""The global ``REST_FRAMEWORK`` is neutral and each dialect sets its own plumbing on its classes: every view
under ``/api/v1/``, ``/api/token/`` and the schema pages is v1's by its own attributes, and on every v1 path a
request without credentials, or with a bad one, answers as v1 always has."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.views import APIView, exception_handler as drf_exception_handler

from keelplan.api.common.bodies import JSONBodyParser
from keelplan.api.common.throttling import HeavyRequestThrottle
from keelplan.api.v1.authentication import AUTHENTICATION_CLASSES
from keelplan.api.v1.errors import exception_handler as v1_exception_handler, not_found_view
from keelplan.api.v1.pagination import CursorPage
from keelplan.api.common.renderers import FastJSONRenderer
from keelplan.api.v1.schema import KeelplanAutoSchema

V1_PREFIXES = ("api/v1/", "api/token/", "api/schema/")
TOKEN_ROUTES = ("api/token/", "api/token/refresh/")
SCHEMA_ROUTES = ("api/schema/", "api/schema/swagger-ui/")
DIALECT_PACKAGES = ("keelplan.api.v1", "keelplan.api.openproject", "keelplan.api.beebole")
PLUMBING = ("authentication_classes", "permission_classes", "renderer_classes", "parser_classes",
            "pagination_class", "filter_backends", "throttle_classes")
SCHEMA_PAGE_PLUMBING = ("authentication_classes", "parser_classes", "throttle_classes")


def _dotted_names(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _dotted_names(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _dotted_names(item)


def _routes(resolver=None, prefix=""):
    """``(route, callback)`` of every URL pattern, the route the text of its patterns joined."""
    for entry in (resolver or get_resolver()).url_patterns:
        text = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            yield from _routes(entry, text)
        elif isinstance(entry, URLPattern):
            yield text, entry.callback


def v1_routes():
    return [(route, callback) for route, callback in _routes() if route.startswith(V1_PREFIXES)]


def _defined_by(cls, name):
    return next(klass for klass in cls.__mro__ if name in vars(klass))


# ---------------------------------------------------------------- the global settings

def test_global_rest_framework_names_no_dialect_module():
    names = list(_dotted_names(settings.REST_FRAMEWORK))
    assert names, "REST_FRAMEWORK is expected to hold dotted names"
    assert not [n for n in names if n.startswith(DIALECT_PACKAGES)], names
    assert not [n for n in names if n.startswith("keelplan.") and not n.startswith("keelplan.api.common.")], names


def test_a_view_that_sets_nothing_gets_only_safe_defaults():
    view = APIView()
    assert api_settings.DEFAULT_AUTHENTICATION_CLASSES == []
    assert view.get_authenticators() == []
    assert [type(p).__name__ for p in view.get_permissions()] == ["IsAuthenticated"]
    assert api_settings.DEFAULT_PAGINATION_CLASS is None
    assert [r.__module__ for r in api_settings.DEFAULT_RENDERER_CLASSES] == ["rest_framework.renderers"]
    assert view.get_exception_handler() is drf_exception_handler


# ---------------------------------------------------------------- every v1 view, by its own class

def test_the_walk_finds_every_kind_of_v1_route():
    routes = [route for route, _ in v1_routes()]
    for expected in ("api/token/", "api/token/refresh/", "api/v1/tasks/", "api/v1/projects/(?P<pk>[0-9]{1,18})/sync/",
                     "api/v1/projects/(?P<id>[0-9]{1,18})/tasks/bulk/", "api/schema/"):
        assert expected in routes, (expected, routes)


@pytest.mark.parametrize("route, callback", v1_routes(), ids=[route for route, _ in v1_routes()])
def test_every_v1_view_sets_v1_plumbing_on_its_class(route, callback):
    cls = getattr(callback, "cls", None)
    if cls is None:
        assert callback is not_found_view, route   # the JSON 404 for any unmatched v1 path
        return
    # The schema pages keep drf-spectacular's permissions (open), renderers (OpenAPI, HTML) and no pages.
    names = SCHEMA_PAGE_PLUMBING if route in SCHEMA_ROUTES else PLUMBING
    for name in names + ("get_exception_handler",):
        owner = _defined_by(cls, name)
        assert owner.__module__.startswith("keelplan."), f"{route}: {name} comes from {owner.__module__}"
    assert cls().get_exception_handler() is v1_exception_handler
    assert all(issubclass(parser, JSONBodyParser) for parser in cls.parser_classes), route
    assert list(cls.throttle_classes) == [HeavyRequestThrottle], route
    if route in TOKEN_ROUTES:      # credentials are what these endpoints take, in their body
        assert list(cls.authentication_classes) == []
    else:
        assert list(cls.authentication_classes) == list(AUTHENTICATION_CLASSES), route
    if route in SCHEMA_ROUTES:
        return
    assert list(cls.renderer_classes) == [FastJSONRenderer], route
    assert cls.pagination_class is CursorPage, route
    assert isinstance(cls.schema, KeelplanAutoSchema), route


# ---------------------------------------------------------------- answers without credentials, or a bad one

def _concrete(route: str) -> str:
    return "/" + re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)


def credentialed_v1_paths():
    return sorted({_concrete(route) for route, callback in v1_routes()
                   if getattr(callback, "cls", None) is not None and route not in TOKEN_ROUTES + SCHEMA_ROUTES
                   and "format" not in route})


@pytest.mark.django_db
@pytest.mark.parametrize("url", credentialed_v1_paths())
@pytest.mark.parametrize("header, detail", [
    (None, "Authentication credentials were not provided."),
    ("Basic b3duZXI6Y29ycmVjdC1ob3JzZS05", "Authentication credentials were not provided."),
    ("Bearer kp_never-issued", "Invalid or revoked API token."),
    ("Bearer two values", {"detail": "Authorization header must contain two space-delimited values",
                           "code": "bad_authorization_header"}),   # simplejwt's answer
    ("Bearer kp_\u00e9", "Invalid token."),
])
def test_every_v1_path_refuses_a_missing_or_bad_credential_as_v1_does(url, header, detail):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    for method in ("get", "post", "put", "patch", "delete"):
        response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
        assert response.status_code == 401, (method, url, response.content)
        assert response["Content-Type"] == "application/json", (method, url)
        assert response.json() == (detail if isinstance(detail, dict) else {"detail": detail}), (method, url)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"', (method, url)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/", "/api/schema/swagger-ui/"])
def test_the_schema_pages_are_open_but_refuse_a_bad_credential(url):
    assert APIClient().get(url).status_code == 200
    response = APIClient().get(url, HTTP_AUTHORIZATION="Bearer kp_never-issued")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, 'Bearer realm="api"')
