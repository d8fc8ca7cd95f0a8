"""Authentication of the v1 dialect: the JWT pair from ``/api/token/``, refresh, ``kp_`` API tokens as Bearer, and a
JSON 401 for every missing, malformed, expired or revoked credential on every endpoint."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from keelplan.accounts.services import api_token_create, api_token_revoke
from keelplan.calendars.services import calendar_create
from keelplan.planning.services import dependency_create, task_create
from keelplan.portfolio.models import Membership
from keelplan.resources.services import assignment_create, resource_create

from conftest import make_user

from .contract import (
    assert_error, assert_nothing_written, db_state, json_body, send_raw,
)

TOKEN_URL = "/api/token/"
REFRESH_URL = "/api/token/refresh/"
ME_URL = "/api/v1/users/me/"
PASSWORD = "correct-horse-9"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def every_endpoint(owner, project):
    """``(method, url)`` for every v1 route, with real ids so only the missing credential can explain a 401."""
    a = task_create(actor=owner, project=project, name="A")
    b = task_create(actor=owner, project=project, name="B")
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    calendar = calendar_create(actor=owner, name="Cal")
    resource = resource_create(actor=owner, name="Res")
    assignment = assignment_create(actor=owner, work_item=a, resource=resource)
    membership = Membership.objects.get(project=project, user=owner)
    collections = {
        "/api/v1/calendars/": calendar.pk, "/api/v1/projects/": project.pk,
        f"/api/v1/projects/{project.pk}/members/": membership.pk, "/api/v1/tasks/": a.pk,
        "/api/v1/dependencies/": link.pk, "/api/v1/resources/": resource.pk, "/api/v1/task-resources/": assignment.pk,
    }
    routes = []
    for url, pk in collections.items():
        routes += [("get", url), ("post", url)]
        routes += [(method, f"{url}{pk}/") for method in ("get", "put", "patch", "delete")]
    routes += [("get", "/api/v1/users/"), ("get", ME_URL)]
    return routes


# ---------------------------------------------------------------- the JWT pair

def test_token_pair_for_a_correct_password(owner):
    response = APIClient().post(TOKEN_URL, {"username": "owner", "password": PASSWORD}, format="json")
    body = json_body(response)
    assert response.status_code == 200, body
    assert set(body) == {"access", "refresh"}
    assert json_body(bearer(body["access"]).get(ME_URL))["id"] == owner.pk


@pytest.mark.parametrize("credentials", [
    {"username": "owner", "password": "wrong-password"},
    {"username": "nobody", "password": PASSWORD},
    {"username": "OWNER ", "password": PASSWORD},
])
def test_wrong_credentials_are_401(owner, credentials):
    body = assert_error(APIClient().post(TOKEN_URL, credentials, format="json"), 401)
    assert "access" not in body and "detail" in body


def test_inactive_user_gets_no_token(db):
    user = make_user("sleeper")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_error(APIClient().post(TOKEN_URL, {"username": "sleeper", "password": PASSWORD}, format="json"), 401)


@pytest.mark.parametrize("payload, missing", [
    ({}, ("username", "password")),
    ({"username": "owner"}, ("password",)),
    ({"password": PASSWORD}, ("username",)),
    ({"username": "", "password": ""}, ("username", "password")),
    ({"username": ["owner"], "password": PASSWORD}, ("username",)),
    ({"username": "owner", "password": {"x": 1}}, ("password",)),
])
def test_missing_or_wrong_typed_fields_are_400_naming_them(owner, payload, missing):
    body = assert_error(APIClient().post(TOKEN_URL, payload, format="json"), 400)
    for field in missing:
        assert field in body, body


def test_malformed_token_request_is_400(owner):
    assert_error(send_raw(APIClient(), "POST", TOKEN_URL, b'{"username": "owner", '), 400)
    assert_error(send_raw(APIClient(), "POST", TOKEN_URL, b'["owner", "pw"]'), 400)


def test_refresh_gives_a_new_access_token_that_works(owner):
    pair = json_body(APIClient().post(TOKEN_URL, {"username": "owner", "password": PASSWORD}, format="json"))
    response = APIClient().post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    body = json_body(response)
    assert response.status_code == 200, body
    assert "access" in body
    assert json_body(bearer(body["access"]).get(ME_URL))["id"] == owner.pk


@pytest.mark.parametrize("refresh", ["garbage", "a.b.c", "", "kp_not_a_refresh_token"])
def test_bad_refresh_token_is_rejected(owner, refresh):
    response = APIClient().post(REFRESH_URL, {"refresh": refresh}, format="json")
    expected = 400 if refresh == "" else 401
    assert_error(response, expected, field="refresh" if expected == 400 else None)


def test_access_token_is_not_a_refresh_token(owner):
    access = str(RefreshToken.for_user(owner).access_token)
    assert_error(APIClient().post(REFRESH_URL, {"refresh": access}, format="json"), 401)


def test_refresh_needs_the_refresh_field(owner):
    assert_error(APIClient().post(REFRESH_URL, {}, format="json"), 400, field="refresh")


def test_refresh_token_is_not_an_access_token(owner):
    assert_error(bearer(str(RefreshToken.for_user(owner))).get(ME_URL), 401)


def test_expired_access_token_is_401(owner):
    token = AccessToken.for_user(owner)
    token.set_exp(lifetime=-dt.timedelta(seconds=1))
    assert_error(bearer(str(token)).get(ME_URL), 401)


def test_token_of_a_deactivated_user_is_401(owner):
    access = str(RefreshToken.for_user(owner).access_token)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert_error(bearer(access).get(ME_URL), 401)


# ---------------------------------------------------------------- missing and malformed credentials

def test_every_v1_endpoint_needs_credentials(every_endpoint):
    anonymous = APIClient()
    before = db_state()
    for method, url in every_endpoint:
        response = getattr(anonymous, method)(url, {}, format="json") if method != "get" else anonymous.get(url)
        body = assert_error(response, 401)
        assert "detail" in body, (method, url, body)
    assert_nothing_written(before, "anonymous requests")


@pytest.mark.parametrize("header", [
    "Bearer",
    "Bearer ",
    "Bearer not-a-jwt",
    "Bearer a.b.c",
    "Bearer two tokens",
    "Bearer kp_this-token-was-never-issued",
    "Bearer kp_",
    "Token abc",
    "Basic b3duZXI6Y29ycmVjdC1ob3JzZS05",
    "JWT abc",
])
def test_malformed_bearer_is_401_everywhere(owner, every_endpoint, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    before = db_state()
    for method, url in every_endpoint:
        response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
        assert_error(response, 401)
    assert_nothing_written(before, f"header {header!r}")


def test_non_ascii_bearer_is_401(owner):
    client = APIClient()
    response = client.get(ME_URL, HTTP_AUTHORIZATION="Bearer kp_\u00e9\u00e9")
    assert_error(response, 401)


# ---------------------------------------------------------------- kp_ API tokens

def test_api_token_works_as_bearer(owner, project):
    _, raw = api_token_create(user=owner, name="ci")
    client = bearer(raw)
    assert json_body(client.get(ME_URL))["id"] == owner.pk
    assert [row["id"] for row in json_body(client.get("/api/v1/projects/"))["results"]] == [project.pk]
    response = client.post("/api/v1/tasks/", {"project": project.pk, "name": "Scripted"}, format="json")
    assert response.status_code == 201, response.content


def test_revoked_api_token_is_401(owner):
    token, raw = api_token_create(user=owner)
    assert bearer(raw).get(ME_URL).status_code == 200
    api_token_revoke(token=token)
    assert_error(bearer(raw).get(ME_URL), 401)


def test_expired_api_token_is_401(owner):
    _, raw = api_token_create(user=owner, expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert_error(bearer(raw).get(ME_URL), 401)


def test_api_token_of_a_deactivated_user_is_401(owner):
    _, raw = api_token_create(user=owner)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert_error(bearer(raw).get(ME_URL), 401)
