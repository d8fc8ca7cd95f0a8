"""Credentials of every dialect: each scheme read from a request by a pure function, and checked by a DRF
authenticator that a dialect lists in its ``authentication_classes``.

The schemes: ``Authorization: Bearer <JWT>`` (simplejwt), ``Bearer <API token>``, HTTP Basic as ``apikey:<token>``
(OpenProject v3), ``<login>:<password>`` (OpenProject v2) or ``<token>:<anything>`` (Beebole), ``?key=<token>`` and
``X-OpenProject-API-Key: <token>`` (OpenProject v2). Tokens are ``ApiToken`` secrets, checked by
``accounts.services.api_token_authenticate``; passwords by Django's ``authenticate``.

Every authenticator answers the same way: no credential of its scheme -> ``None``, so the next one in the list
tries; a credential that is wrong, malformed (bad base64, no colon, text that is not Latin-1, a NUL) or belongs
to an inactive user -> ``AuthenticationFailed`` (401), never another exception. Each names a challenge for the
``WWW-Authenticate`` header of a 401; DRF takes it from the first authenticator in the list. Failures keep DRF's
code (``authentication_failed``): a dialect tells a wrong credential from a missing one (``NotAuthenticated``) by
the exception's class.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser
from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication

from keelplan.accounts.models import ApiToken
from keelplan.accounts.services import api_token_authenticate

REALM = "api"
OPENPROJECT_API_KEY_HEADER = "X-OpenProject-API-Key"
QUERY_KEY_PARAMETER = "key"
BASIC_APIKEY_USERNAME = "apikey"

INVALID_TOKEN = "Invalid or revoked API token."
INVALID_PASSWORD = "Invalid username or password."


# ---------------------------------------------------------------- reading credentials (pure functions)

def authorization_parts(request) -> list[bytes]:
    """The ``Authorization`` header split at ASCII whitespace; ``[]`` when there is none.

    A WSGI server hands headers over as Latin-1 text; text that is not (only a test client can send it) is
    refused rather than left to raise ``UnicodeEncodeError`` in a later reader.
    """
    header = request.META.get("HTTP_AUTHORIZATION", b"")
    if isinstance(header, str):
        try:
            header = header.encode(HTTP_HEADER_ENCODING)
        except UnicodeEncodeError:
            raise AuthenticationFailed("The Authorization header is not Latin-1 text.") from None
    return header.split()


def bearer_values(request) -> list[bytes] | None:
    """What follows ``Bearer`` (any case) in the ``Authorization`` header, or ``None`` for another scheme or none.

    A well-formed header has exactly one value; the list may hold none or several, for the caller to judge.
    """
    parts = authorization_parts(request)
    if not parts or parts[0].lower() != b"bearer":
        return None
    return parts[1:]


def bearer_token(values: list[bytes]) -> str:
    """The one Bearer value as text; several or none, or one that is not ASCII, is refused."""
    if len(values) != 1:
        raise AuthenticationFailed("The Authorization header must be 'Bearer <token>', one value after the scheme.")
    try:
        return values[0].decode("ascii")
    except UnicodeDecodeError:
        raise AuthenticationFailed("Invalid token.") from None


def basic_credentials(request) -> tuple[str, str] | None:
    """``(user, password)`` of ``Authorization: Basic <base64 of user:password>``, or ``None`` for another scheme
    or none. The pair is UTF-8, else Latin-1 (RFC 7617 leaves the charset to the client); the password may hold
    colons, the user may not."""
    parts = authorization_parts(request)
    if not parts or parts[0].lower() != b"basic":
        return None
    if len(parts) != 2:
        raise AuthenticationFailed("The Authorization header must be 'Basic <base64 of user:password>'.")
    try:
        decoded = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed("The Basic credentials are not valid base64.") from None
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")
    user, colon, password = text.partition(":")
    if not colon:
        raise AuthenticationFailed("The Basic credentials have no colon between user and password.")
    if "\x00" in text:
        raise AuthenticationFailed("The Basic credentials contain a NUL character.")
    return user, password


def query_key(request, parameter: str = QUERY_KEY_PARAMETER) -> str | None:
    """The API key in the query string (``?key=<token>``), or ``None`` when the parameter is absent."""
    values = request.GET.getlist(parameter)
    if not values:
        return None
    if len(values) > 1:
        raise AuthenticationFailed(f"The query parameter '{parameter}' is given {len(values)} times; give the API "
                                   "key once.")
    return values[0]


def header_key(request, header: str = OPENPROJECT_API_KEY_HEADER) -> str | None:
    """The API key in a request header (``X-OpenProject-API-Key``), or ``None`` when the header is absent."""
    return request.META.get("HTTP_" + header.upper().replace("-", "_"))


# ---------------------------------------------------------------- checking credentials

def user_for_token(raw: str) -> tuple[AbstractBaseUser, ApiToken]:
    """``(user, token)`` for a raw API token; a token that is unknown, revoked, expired or whose user is
    inactive is refused alike, so a caller learns nothing about which."""
    # Every issued token is ASCII; anything else could not match and might not even encode.
    token = api_token_authenticate(raw) if raw.isascii() else None
    # api_token_authenticate refuses an inactive user's token too; checked here as well, where it is promised.
    if token is None or not token.user.is_active:
        raise AuthenticationFailed(INVALID_TOKEN)
    return token.user, token


def user_for_password(request, username: str, password: str) -> AbstractBaseUser:
    """The active user with this login and password; anything else is refused in the same words."""
    user = auth.authenticate(getattr(request, "_request", request), username=username, password=password)
    if user is None or not user.is_active:
        raise AuthenticationFailed(INVALID_PASSWORD)
    return user


# ---------------------------------------------------------------- authenticators

class BearerApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <API token>``.

    ``beside_jwt``: the list also holds :class:`BearerJWTAuthentication`, which reads Bearer values too, so this
    one takes only a single value that starts with the API-token prefix and leaves every other Bearer header,
    malformed ones included, to the JWT authenticator.
    """

    beside_jwt = False
    realm = REALM

    def authenticate(self, request):
        values = bearer_values(request)
        if values is None or (self.beside_jwt and len(values) != 1):
            return None
        raw = bearer_token(values)
        if self.beside_jwt and not raw.startswith(ApiToken.PREFIX):
            return None
        return user_for_token(raw)

    def authenticate_header(self, request):
        return f'Bearer realm="{self.realm}"'


class BearerJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <JWT>`` from ``POST /api/token/``: simplejwt's authenticator (its checks, messages
    and realm), reading the header through :func:`authorization_parts`."""

    def get_header(self, request):
        parts = authorization_parts(request)
        return b" ".join(parts) if parts else None


class BasicApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Basic apikey:<API token>`` (OpenProject v3); a Basic header for another user is left to
    the next authenticator."""

    username = BASIC_APIKEY_USERNAME
    realm = REALM

    def authenticate(self, request):
        credentials = basic_credentials(request)
        if credentials is None or credentials[0] != self.username:
            return None
        return user_for_token(credentials[1])

    def authenticate_header(self, request):
        return f'Basic realm="{self.realm}"'


class BasicPasswordAuthentication(BaseAuthentication):
    """``Authorization: Basic <login>:<password>`` (OpenProject v2)."""

    realm = REALM

    def authenticate(self, request):
        credentials = basic_credentials(request)
        if credentials is None:
            return None
        return user_for_password(request, *credentials), None

    def authenticate_header(self, request):
        return f'Basic realm="{self.realm}"'


class BasicTokenAsUserAuthentication(BaseAuthentication):
    """``Authorization: Basic <API token>:<anything>`` (Beebole): the token is the user name; Beebole's clients
    send ``x`` as the password, some ``true``, so it is not read."""

    realm = REALM

    def authenticate(self, request):
        credentials = basic_credentials(request)
        if credentials is None:
            return None
        return user_for_token(credentials[0])

    def authenticate_header(self, request):
        return f'Basic realm="{self.realm}"'


class QueryKeyAuthentication(BaseAuthentication):
    """``?key=<API token>`` (OpenProject v2)."""

    parameter = QUERY_KEY_PARAMETER
    realm = REALM

    def authenticate(self, request):
        raw = query_key(request, self.parameter)
        return None if raw is None else user_for_token(raw)

    def authenticate_header(self, request):
        return f'ApiKey realm="{self.realm}", param="{self.parameter}"'


class HeaderKeyAuthentication(BaseAuthentication):
    """``X-OpenProject-API-Key: <API token>`` (OpenProject v2)."""

    header = OPENPROJECT_API_KEY_HEADER
    realm = REALM

    def authenticate(self, request):
        raw = header_key(request, self.header)
        return None if raw is None else user_for_token(raw)

    def authenticate_header(self, request):
        return f'ApiKey realm="{self.realm}", header="{self.header}"'


class RefuseUnclaimedAuthorization(BaseAuthentication):
    """Last in a list: an ``Authorization`` header that no authenticator before it took (another scheme, a Basic
    user name no one reads) is refused, where DRF would go on as if no credential had been sent."""

    def authenticate(self, request):
        if authorization_parts(request):
            raise AuthenticationFailed("These credentials are not accepted here.")
        return None


__all__ = [
    "BasicApiKeyAuthentication", "BasicPasswordAuthentication", "BasicTokenAsUserAuthentication",
    "BearerApiTokenAuthentication", "BearerJWTAuthentication", "HeaderKeyAuthentication", "QueryKeyAuthentication",
    "RefuseUnclaimedAuthorization", "authorization_parts", "basic_credentials", "bearer_token", "bearer_values",
    "header_key", "query_key", "user_for_password", "user_for_token",
]
