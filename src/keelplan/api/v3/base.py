"""The OpenProject v3 dialect's plumbing, set on its base view so nothing comes from ``REST_FRAMEWORK``.

Authentication is an API token from ``keelplan token``, as OpenProject takes its own: HTTP Basic with the user
name ``apikey`` (every OpenProject client does this) or ``Authorization: Bearer``; a Bearer JWT from
``POST /api/token/`` is read too. Any other ``Authorization`` header is refused. There is no anonymous access:
without credentials every resource answers 401 ``Unauthenticated``, as an OpenProject instance that requires
login does.
"""

from __future__ import annotations

import json

from django.urls import register_converter
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from keelplan.api.common.bodies import JSONBodyParser
from keelplan.api.common.credentials import (
    BasicApiKeyAuthentication, BearerApiTokenAuthentication, BearerJWTAuthentication, RefuseUnclaimedAuthorization,
)
from keelplan.api.common.throttling import HeavyRequestThrottle
from keelplan.api.common.views import ID_REGEX
from keelplan.api.v3.errors import (
    MissingContentType, MultipleErrors, V3Error, attribute_for, domain_error_response, exception_handler,
)
from keelplan.api.v3.renderers import AlwaysHal, HalJSONParser, HalJSONRenderer
from keelplan.core.errors import DomainError
from keelplan.core.transactions import write_transaction
from keelplan.permissions import Action
from keelplan.portfolio.models import Project
from keelplan.portfolio.selectors import project_get

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class IdConverter:
    """``<id:pk>`` in a v3 route: a row id of at most 18 digits, so no path holds an id the database cannot
    compare (a longer one is simply no such resource: 404)."""

    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


class ApiKeyAuthentication(BasicApiKeyAuthentication):
    realm = "OpenProject API"


class BearerTokenAuthentication(BearerApiTokenAuthentication):
    beside_jwt = True


AUTHENTICATION_CLASSES = (ApiKeyAuthentication, BearerTokenAuthentication, BearerJWTAuthentication,
                          RefuseUnclaimedAuthorization)


class V3View(APIView):
    """Every v3 endpoint. ``attributes`` maps domain field names to the properties this resource shows them as,
    for error details (``{"name": "subject"}``)."""

    authentication_classes = list(AUTHENTICATION_CLASSES)
    permission_classes = [IsAuthenticated]
    renderer_classes = [HalJSONRenderer]
    parser_classes = [JSONBodyParser, HalJSONParser]
    content_negotiation_class = AlwaysHal
    throttle_classes = [HeavyRequestThrottle]
    attributes: dict = {}
    # Not in ``/api/schema/``, which describes the v1 dialect alone.
    schema = None

    def get_exception_handler(self):
        return exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in WRITE_METHODS and not request.META.get("CONTENT_TYPE"):
            raise MissingContentType()

    def body(self, request) -> dict:
        """The request body: a JSON object, or 400 ``InvalidRequestBody``. An empty body reads as ``{}``."""
        if not request.stream and not request.META.get("CONTENT_LENGTH"):
            return {}
        data = request.data
        if not isinstance(data, dict):
            raise V3Error("The request body was not a single JSON object.", identifier="InvalidRequestBody",
                          status_code=400)
        return data


def project_for(actor, ref, action: Action = Action.PROJECT_VIEW) -> Project:
    """The project a path names by id or identifier, if the caller may see it (404 ``NotFound`` otherwise,
    exactly as for one that does not exist); then 403 ``MissingPermission`` unless it may do ``action`` there."""
    return project_get(actor=actor, project_id=ref, action=action)


def query_json(request, name: str):
    """A query parameter holding JSON (``filters``, ``sortBy``), parsed; None when absent."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise V3Error(f"{name} is not valid JSON.", identifier="InvalidQuery", status_code=400) from None


class NotFoundView(V3View):
    """Any path under ``/api/v3`` that names no resource: 404 ``NotFound`` for a caller who signed in (401 first
    for one who did not, as everywhere in the dialect)."""

    def dispatch_missing(self, request, *args, **kwargs):
        raise exceptions.NotFound()

    get = post = put = patch = delete = head = options = dispatch_missing


class _Rollback(Exception):
    """Raised inside a form's write scope to undo what the check wrote."""


def dry_run(run, attributes: dict) -> tuple[object, dict]:
    """OpenProject's forms: ``run()`` (the real write, through the services) in a scope always rolled back.
    Returns ``(what run returned, {})`` or ``(None, {property: error body})`` for the property errors it met.
    An invisible row, a missing permission and any other error that is not a 422 are raised: the form is
    refused as the write would be."""
    outcome = {}
    try:
        with write_transaction():
            outcome["value"] = run()
            raise _Rollback
    except _Rollback:
        return outcome["value"], {}
    except MultipleErrors as exc:
        return None, {e.attribute or "base": e.body() for e in exc.errors}
    except V3Error as exc:
        if exc.status_code != 422:
            raise
        return None, {exc.attribute or "base": exc.body()}
    except DomainError as exc:
        response = domain_error_response(exc, attributes)
        if response.status_code != 422:
            raise
        return None, {attribute_for(exc.field, attributes) or "base": response.data}
