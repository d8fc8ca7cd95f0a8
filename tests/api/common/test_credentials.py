"""Credentials of every dialect (``keelplan.api.common.credentials``): each scheme accepted when right, refused
with a 401 when wrong, malformed or of an inactive user, and passed on when absent; composed lists behave as the
dialects to come will use them; v1 accepts its two Bearer schemes and nothing else."""

from __future__ import annotations

import base64

import pytest
from django.urls import path
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from keelplan.accounts.models import ApiToken
from keelplan.accounts.services import api_token_create, api_token_revoke
from keelplan.api.common import credentials as c
from keelplan.api.v1.authentication import AUTHENTICATION_CLASSES as V1_AUTHENTICATION

from conftest import make_user

PASSWORD = "correct-horse-9"
ME_URL = "/api/v1/users/me/"
factory = APIRequestFactory()


def basic(pair: str | bytes) -> str:
    raw = pair if isinstance(pair, bytes) else pair.encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def drf_request(url: str = "/", **headers) -> Request:
    return Request(factory.get(url, **headers))


@pytest.fixture
def alice(db):
    return make_user("alice", password=PASSWORD)


@pytest.fixture
def alice_token(alice) -> str:
    return api_token_create(user=alice, name="script")[1]


def deactivate(user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


# ---------------------------------------------------------------- reading: the pure functions

def test_no_authorization_header_reads_as_nothing():
    request = drf_request()
    assert c.authorization_parts(request) == []
    assert c.bearer_values(request) is None
    assert c.basic_credentials(request) is None
    assert c.query_key(request) is None
    assert c.header_key(request) is None


def test_an_authorization_header_that_is_not_latin_1_is_refused_not_a_crash():
    with pytest.raises(AuthenticationFailed):
        c.authorization_parts(drf_request(HTTP_AUTHORIZATION="Bearer kp_\u20ac"))


@pytest.mark.parametrize("header, values", [
    ("Bearer abc", [b"abc"]), ("bearer abc", [b"abc"]), ("BEARER  abc ", [b"abc"]), ("Bearer", []),
    ("Bearer a b", [b"a", b"b"]), ("Basic abc", None), ("Token abc", None),
])
def test_bearer_values_are_read_for_the_bearer_scheme_only(header, values):
    assert c.bearer_values(drf_request(HTTP_AUTHORIZATION=header)) == values


@pytest.mark.parametrize("values", [[], [b"a", b"b"], ["kp_\u00e9".encode("latin-1")]])
def test_a_bearer_token_is_one_ascii_value(values):
    with pytest.raises(AuthenticationFailed):
        c.bearer_token(values)


@pytest.mark.parametrize("pair, expected", [
    ("alice:pw", ("alice", "pw")),
    ("alice:pa:ss:word", ("alice", "pa:ss:word")),   # only the user name may not hold a colon
    ("apikey:", ("apikey", "")),
    (":pw", ("", "pw")),
    ("j\u00fcrgen:p\u00e4ss", ("j\u00fcrgen", "p\u00e4ss")),                    # UTF-8
    ("j\u00fcrgen:p\u00e4ss".encode("latin-1"), ("j\u00fcrgen", "p\u00e4ss")),  # Latin-1, as older clients send
])
def test_basic_credentials_are_the_user_and_password(pair, expected):
    assert c.basic_credentials(drf_request(HTTP_AUTHORIZATION=basic(pair))) == expected


@pytest.mark.parametrize("header", [
    "Basic",                                        # no value
    "Basic YWxpY2U6cHc= extra",                     # two values
    "Basic !!!not-base64!!!",
    "Basic YWxpY2U6cHc",                            # base64 missing its padding
    basic("no colon at all"),
    basic("alice:p\x00w"),                          # PostgreSQL cannot compare text holding NUL
    basic("ali\x00ce:pw"),
])
def test_malformed_basic_credentials_are_refused(header):
    with pytest.raises(AuthenticationFailed):
        c.basic_credentials(drf_request(HTTP_AUTHORIZATION=header))


def test_query_key_is_read_once():
    assert c.query_key(drf_request("/?key=kp_abc")) == "kp_abc"
    assert c.query_key(drf_request("/?other=1")) is None
    with pytest.raises(AuthenticationFailed):
        c.query_key(drf_request("/?key=kp_a&key=kp_b"))


def test_header_key_is_read_from_the_openproject_header():
    assert c.header_key(drf_request(HTTP_X_OPENPROJECT_API_KEY="kp_abc")) == "kp_abc"
    assert c.header_key(drf_request(HTTP_X_API_KEY="kp_abc")) is None


# ---------------------------------------------------------------- checking: each authenticator

def _jwt(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


# scheme -> (authenticator, the request carrying a credential made by ``credential(token, user)``)
SCHEMES = {
    "bearer token": (c.BearerApiTokenAuthentication, lambda token, user: {"HTTP_AUTHORIZATION": f"Bearer {token}"}),
    "bearer jwt": (c.BearerJWTAuthentication, lambda token, user: {"HTTP_AUTHORIZATION": f"Bearer {_jwt(user)}"}),
    "basic apikey": (c.BasicApiKeyAuthentication, lambda token, user: {"HTTP_AUTHORIZATION": basic(f"apikey:{token}")}),
    "basic password": (c.BasicPasswordAuthentication,
                       lambda token, user: {"HTTP_AUTHORIZATION": basic(f"{user.username}:{PASSWORD}")}),
    "basic token as user": (c.BasicTokenAsUserAuthentication,
                            lambda token, user: {"HTTP_AUTHORIZATION": basic(f"{token}:x")}),
    "query key": (c.QueryKeyAuthentication, lambda token, user: {"QUERY": f"key={token}"}),
    "header key": (c.HeaderKeyAuthentication, lambda token, user: {"HTTP_X_OPENPROJECT_API_KEY": token}),
}
# A wrong credential of each scheme: well formed, but no such token, password or signature.
BAD = {
    "bearer token": {"HTTP_AUTHORIZATION": "Bearer kp_never-issued"},
    "bearer jwt": {"HTTP_AUTHORIZATION": "Bearer a.b.c"},
    "basic apikey": {"HTTP_AUTHORIZATION": basic("apikey:kp_never-issued")},
    "basic password": {"HTTP_AUTHORIZATION": basic(f"alice:not-{PASSWORD}")},
    "basic token as user": {"HTTP_AUTHORIZATION": basic("kp_never-issued:x")},
    "query key": {"QUERY": "key=kp_never-issued"},
    "header key": {"HTTP_X_OPENPROJECT_API_KEY": "kp_never-issued"},
}
# A credential of each scheme that cannot even be read.
MALFORMED = {
    "bearer token": {"HTTP_AUTHORIZATION": "Bearer two values"},
    "bearer jwt": {"HTTP_AUTHORIZATION": "Bearer two values"},
    "basic apikey": {"HTTP_AUTHORIZATION": "Basic %%%"},
    "basic password": {"HTTP_AUTHORIZATION": basic("alice-without-colon")},
    "basic token as user": {"HTTP_AUTHORIZATION": basic("kp_x\x00:x")},
    "query key": {"QUERY": "key=kp_a&key=kp_b"},
    "header key": {"HTTP_X_OPENPROJECT_API_KEY": "kp_\u20ac"},
}
# A request without this scheme's credential (but maybe another scheme's), which each must pass on.
ABSENT = {
    "bearer token": [{}, {"HTTP_AUTHORIZATION": basic("apikey:kp_x")}, {"QUERY": "key=kp_x"}],
    "bearer jwt": [{}, {"HTTP_AUTHORIZATION": basic("alice:pw")}, {"HTTP_AUTHORIZATION": "Token abc"}],
    "basic apikey": [{}, {"HTTP_AUTHORIZATION": "Bearer kp_x"}, {"HTTP_AUTHORIZATION": basic("alice:pw")}],
    "basic password": [{}, {"HTTP_AUTHORIZATION": "Bearer kp_x"}, {"HTTP_X_OPENPROJECT_API_KEY": "kp_x"}],
    "basic token as user": [{}, {"HTTP_AUTHORIZATION": "Bearer kp_x"}, {"QUERY": "key=kp_x"}],
    "query key": [{}, {"HTTP_AUTHORIZATION": basic("apikey:kp_x")}, {"QUERY": "keys=kp_x"}],
    "header key": [{}, {"HTTP_AUTHORIZATION": "Bearer kp_x"}, {"QUERY": "key=kp_x"}],
}


def run(authenticator_class, headers: dict):
    headers = dict(headers)
    query = headers.pop("QUERY", "")
    return authenticator_class().authenticate(drf_request(f"/?{query}" if query else "/", **headers))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_good_credential_authenticates_its_user(scheme, alice, alice_token):
    authenticator, credential = SCHEMES[scheme]
    user, auth = run(authenticator, credential(alice_token, alice))
    assert user == alice
    if scheme not in ("bearer jwt", "basic password"):
        assert isinstance(auth, ApiToken) and auth.user == alice


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_bad_credential_is_refused(scheme, alice, alice_token):
    with pytest.raises(AuthenticationFailed):
        run(SCHEMES[scheme][0], BAD[scheme])


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_malformed_credential_is_refused(scheme, alice, alice_token):
    with pytest.raises(AuthenticationFailed):
        run(SCHEMES[scheme][0], MALFORMED[scheme])


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_credential_of_an_inactive_user_is_refused(scheme, alice, alice_token):
    authenticator, credential = SCHEMES[scheme]
    headers = credential(alice_token, alice)   # made while the user is active (a JWT is signed now)
    deactivate(alice)
    with pytest.raises(AuthenticationFailed):
        run(authenticator, headers)


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s not in ("bearer jwt", "basic password")])
def test_a_revoked_token_is_refused(scheme, alice):
    token, raw = api_token_create(user=alice)
    api_token_revoke(token=token)
    with pytest.raises(AuthenticationFailed):
        run(SCHEMES[scheme][0], SCHEMES[scheme][1](raw, alice))


@pytest.mark.parametrize("scheme, absent", [(s, a) for s, cases in ABSENT.items() for a in cases])
def test_an_absent_credential_is_left_to_the_next_authenticator(scheme, absent, alice):
    assert run(SCHEMES[scheme][0], absent) is None


def test_a_bearer_token_beside_jwt_takes_only_a_single_prefixed_value(alice, alice_token):
    class BesideJWT(c.BearerApiTokenAuthentication):
        beside_jwt = True

    assert run(BesideJWT, {"HTTP_AUTHORIZATION": f"Bearer {alice_token}"})[0] == alice
    for header in ("Bearer", "Bearer two values", f"Bearer {_jwt(alice)}"):
        assert run(BesideJWT, {"HTTP_AUTHORIZATION": header}) is None, header
    # Alone, it takes every Bearer value: a JWT is no API token, a malformed header no credential.
    for header in ("Bearer", "Bearer two values", f"Bearer {_jwt(alice)}"):
        with pytest.raises(AuthenticationFailed):
            run(c.BearerApiTokenAuthentication, {"HTTP_AUTHORIZATION": header})


def test_basic_token_as_user_ignores_the_password(alice, alice_token):
    for password in ("x", "true", "", "anything:at:all"):
        assert run(c.BasicTokenAsUserAuthentication,
                   {"HTTP_AUTHORIZATION": basic(f"{alice_token}:{password}")})[0] == alice


@pytest.mark.parametrize("authenticator, challenge", [
    (c.BearerApiTokenAuthentication, 'Bearer realm="api"'),
    (c.BearerJWTAuthentication, 'Bearer realm="api"'),
    (c.BasicApiKeyAuthentication, 'Basic realm="api"'),
    (c.BasicPasswordAuthentication, 'Basic realm="api"'),
    (c.BasicTokenAsUserAuthentication, 'Basic realm="api"'),
    (c.QueryKeyAuthentication, 'ApiKey realm="api", param="key"'),
    (c.HeaderKeyAuthentication, 'ApiKey realm="api", header="X-OpenProject-API-Key"'),
])
def test_each_scheme_names_its_challenge(authenticator, challenge):
    assert authenticator().authenticate_header(drf_request()) == challenge


# ---------------------------------------------------------------- composed, through HTTP (a test-only URLconf)

class WhoAmI(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = []

    def get(self, request):
        return Response({"user": request.user.username})


class OpenProjectV3Like(WhoAmI):
    authentication_classes = [c.BasicApiKeyAuthentication, c.BearerApiTokenAuthentication,
                              c.RefuseUnclaimedAuthorization]


class OpenProjectV2Like(WhoAmI):
    authentication_classes = [c.BasicPasswordAuthentication, c.QueryKeyAuthentication, c.HeaderKeyAuthentication]


class BeeboleLike(WhoAmI):
    authentication_classes = [c.BasicTokenAsUserAuthentication]


urlpatterns = [
    path("v3/me", OpenProjectV3Like.as_view()),
    path("v2/me", OpenProjectV2Like.as_view()),
    path("beebole/me", BeeboleLike.as_view()),
]


def get(url: str, **headers):
    return APIClient().get(url, **headers)


@pytest.mark.urls(__name__)
def test_v3_like_list_takes_basic_apikey_and_bearer_tokens(alice, alice_token):
    for headers in ({"HTTP_AUTHORIZATION": basic(f"apikey:{alice_token}")},
                    {"HTTP_AUTHORIZATION": f"Bearer {alice_token}"}):
        response = get("/v3/me", **headers)
        assert (response.status_code, response.json()) == (200, {"user": "alice"}), headers


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("headers, detail", [
    ({}, "Authentication credentials were not provided."),
    ({"HTTP_AUTHORIZATION": basic(f"alice:{PASSWORD}")}, "These credentials are not accepted here."),
    ({"HTTP_AUTHORIZATION": "Token abc"}, "These credentials are not accepted here."),
    ({"HTTP_AUTHORIZATION": basic("apikey:kp_never-issued")}, c.INVALID_TOKEN),
    ({"HTTP_AUTHORIZATION": "Basic %%%"}, "The Basic credentials are not valid base64."),
    ({"HTTP_AUTHORIZATION": basic("apikey-without-colon")},
     "The Basic credentials have no colon between user and password."),
])
def test_v3_like_list_refuses_with_401_and_a_basic_challenge(alice, headers, detail):
    response = get("/v3/me", **headers)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


@pytest.mark.urls(__name__)
def test_v2_like_list_takes_a_password_a_query_key_or_a_header_key(alice, alice_token):
    for url, headers in (("/v2/me", {"HTTP_AUTHORIZATION": basic(f"alice:{PASSWORD}")}),
                         (f"/v2/me?key={alice_token}", {}),
                         ("/v2/me", {"HTTP_X_OPENPROJECT_API_KEY": alice_token})):
        response = get(url, **headers)
        assert (response.status_code, response.json()) == (200, {"user": "alice"}), (url, headers)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url, headers", [
    ("/v2/me", {}),
    ("/v2/me", {"HTTP_AUTHORIZATION": basic(f"alice:not-{PASSWORD}")}),
    ("/v2/me", {"HTTP_AUTHORIZATION": basic(f"nobody:{PASSWORD}")}),
    ("/v2/me", {"HTTP_AUTHORIZATION": basic(f"alice\x00:{PASSWORD}")}),
    ("/v2/me", {"HTTP_AUTHORIZATION": basic(f"{'a' * 10_000}:{PASSWORD}")}),
    ("/v2/me?key=kp_never-issued", {}),
    ("/v2/me?key=", {}),
    ("/v2/me?key=%00", {}),
    ("/v2/me", {"HTTP_X_OPENPROJECT_API_KEY": ""}),
])
def test_v2_like_list_refuses_with_401_never_a_server_error(alice, url, headers):
    response = get(url, **headers)
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


@pytest.mark.urls(__name__)
def test_an_inactive_users_password_is_refused_like_a_wrong_one(alice):
    deactivate(alice)
    response = get("/v2/me", HTTP_AUTHORIZATION=basic(f"alice:{PASSWORD}"))
    assert (response.status_code, response.json()) == (401, {"detail": c.INVALID_PASSWORD})


@pytest.mark.urls(__name__)
def test_beebole_like_list_takes_the_token_as_user_name(alice, alice_token):
    response = get("/beebole/me", HTTP_AUTHORIZATION=basic(f"{alice_token}:x"))
    assert (response.status_code, response.json()) == (200, {"user": "alice"})
    refused = get("/beebole/me", HTTP_AUTHORIZATION=basic(f"alice:{PASSWORD}"))
    assert (refused.status_code, refused["WWW-Authenticate"]) == (401, 'Basic realm="api"')


# ---------------------------------------------------------------- v1: its two Bearer schemes, nothing else

def test_v1_lists_exactly_the_bearer_token_and_jwt_authenticators():
    token_authenticator, jwt_authenticator = V1_AUTHENTICATION
    assert issubclass(token_authenticator, c.BearerApiTokenAuthentication) and token_authenticator.beside_jwt
    assert jwt_authenticator is c.BearerJWTAuthentication


def test_v1_accepts_both_bearer_schemes(alice, alice_token):
    for credential in (alice_token, _jwt(alice)):
        response = get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {credential}")
        assert response.status_code == 200 and response.json()["username"] == "alice"


@pytest.mark.parametrize("scheme", ["basic apikey", "basic token as user", "basic password", "query key",
                                    "header key"])
def test_v1_refuses_the_other_dialects_schemes_even_with_a_good_credential(alice, alice_token, scheme):
    headers = SCHEMES[scheme][1](alice_token, alice)
    query = headers.pop("QUERY", "")
    response = get(f"{ME_URL}?{query}" if query else ME_URL, **headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
