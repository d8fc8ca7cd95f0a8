"""The v3 dialect's plumbing: credentials, the HAL content type whatever the client accepts, OpenProject's
Error bodies for every failure before a resource is reached, and paths with trailing or doubled slashes."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from keelplan.accounts.services import api_token_create

from conftest import make_user

from .conftest import HAL, URN, assert_v3_error, v3_client

pytestmark = pytest.mark.django_db


def test_the_root_links_the_collections_and_the_caller(owner, v3):
    answer = v3.get("/api/v3")
    assert answer.status_code == 200 and answer["Content-Type"] == HAL
    body = answer.json()
    assert body["_type"] == "Root" and body["instanceName"] == "Keelplan"
    assert body["_links"]["self"]["href"] == "/api/v3"
    assert body["_links"]["user"] == {"href": f"/api/v3/users/{owner.pk}", "title": "Olive Owner"}
    assert body["_links"]["workPackages"]["href"] == "/api/v3/work_packages"


@pytest.mark.parametrize("path", ["/api/v3/", "/api/v3//", "/api/v3///"])
def test_trailing_and_doubled_slashes_route_like_the_clean_path(v3, path):
    assert v3.get(path).json()["_type"] == "Root"


def test_without_credentials_every_path_is_401_with_openproject_challenge():
    for path in ("/api/v3", "/api/v3/projects", "/api/v3/nothing/here"):
        answer = APIClient().get(path)
        body = assert_v3_error(answer, 401, "Unauthenticated")
        assert body["message"] == "You need to be authenticated to access this resource."
        assert answer["WWW-Authenticate"] == 'Basic realm="OpenProject API"'


@pytest.mark.parametrize("header", [
    "Basic " + base64.b64encode(b"apikey:kp_wrong").decode(),
    "Basic " + base64.b64encode(b"someone:password").decode(),
    "Bearer kp_wrong",
    "Bearer not-a-jwt",
    "Basic !!!",
    "Digest abc",
])
def test_wrong_credentials_are_401_in_openprojects_words(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    body = assert_v3_error(client.get("/api/v3"), 401, "Unauthenticated")
    assert body["message"] == "You did not provide the correct credentials."


def test_a_bearer_api_token_is_accepted(owner):
    _, raw = api_token_create(user=owner, name="bearer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v3").status_code == 200


def test_a_revoked_token_or_inactive_user_is_refused(db):
    person = make_user("leaver")
    client = v3_client(person)
    assert client.get("/api/v3").status_code == 200
    person.is_active = False
    person.save()
    assert_v3_error(client.get("/api/v3"), 401, "Unauthenticated")


@pytest.mark.parametrize("accept", ["application/json", "*/*", "application/json;charset=UTF-8", "text/html",
                                    "application/hal+json"])
def test_every_answer_is_hal_whatever_the_client_accepts(v3, accept):
    answer = v3.get("/api/v3", HTTP_ACCEPT=accept)
    assert answer.status_code == 200 and answer["Content-Type"] == HAL


def test_a_get_carrying_a_content_type_is_accepted(v3):
    assert v3.get("/api/v3", content_type="application/json").status_code == 200


def test_an_unknown_path_is_openprojects_404(v3):
    for path in ("/api/v3/nothing", "/api/v3/work_packages/abc/xyz", "/api/v3/projects/1/unheard_of"):
        body = assert_v3_error(v3.get(path), 404, "NotFound")
        assert body["message"] == "The requested resource could not be found."


def test_a_body_too_large_is_refused_as_an_error_body(v3, settings):
    settings.KEELPLAN_MAX_BODY_BYTES = 100
    answer = v3.post("/api/v3/projects", data=b"{" + b" " * 200 + b"}", content_type="application/json")
    assert_v3_error(answer, 413, "InvalidRequestBody")


def test_errors_use_the_urn_prefix():
    assert URN == "urn:openproject-org:api:v3:errors:"


def test_every_v3_route_is_a_v3_view_with_the_dialects_own_plumbing():
    """Each route under /api/v3 takes its authentication, renderer, parsers, negotiation and exception handler
    from ``V3View``, not from ``REST_FRAMEWORK`` and not from a view that overrides them."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from keelplan.api.v3.base import V3View

    def routes(resolver=None, prefix=""):
        for entry in (resolver or get_resolver()).url_patterns:
            text = prefix + str(entry.pattern).lstrip("^").rstrip("$")
            if isinstance(entry, URLResolver):
                yield from routes(entry, text)
            elif isinstance(entry, URLPattern):
                yield text, entry.callback

    from keelplan.api.v3.spec import SpecView

    # The description is public and plain JSON, as OpenProject serves its own: the one view that says otherwise.
    public = {SpecView: {"authentication_classes", "permission_classes", "renderer_classes"}}
    found = [(route, callback) for route, callback in routes() if route.startswith("api/v3")]
    assert len(found) > 10
    for route, callback in found:
        view = getattr(callback, "cls", None)
        assert view is not None and issubclass(view, V3View), route
        for name in ("authentication_classes", "renderer_classes", "parser_classes", "content_negotiation_class",
                     "permission_classes", "get_exception_handler"):
            owner = next(klass for klass in view.__mro__ if name in vars(klass))
            assert owner is V3View or name in public.get(owner, ()), (route, name, owner)


def test_too_many_heavy_requests_is_openprojects_429(v3, settings, monkeypatch):
    """A refused heavy request answers 429 ``TooManyRequests`` with ``Retry-After`` in this dialect's words."""
    from keelplan.api.common import throttling
    from keelplan.api.v3.errors import exception_handler

    response = exception_handler(throttling.TooManyHeavyRequests("Too many heavy requests are running.", wait=7),
                                 {})
    assert response.status_code == 429 and response["Retry-After"] == "7"
    assert response.data["errorIdentifier"] == URN + "TooManyRequests"
    assert response.data["message"] == "Too many heavy requests are running."
