"""The Beebole dialect's errors: every failure as Beebole's envelope, ``{"status": "error", "message": "..."}``.

Beebole answers a request it understood but could not serve with HTTP 200 and that envelope: an unknown
service, a missing or ill-typed field, an unknown id, a refusal. A wrong or missing API token is 401, a body too
large 413, too many heavy requests 429, always with the same envelope so a client that reads ``status`` first
(the ``beebole`` package does) never meets anything else. Messages name the field as the client sent it
(``project.startDate``), and never tell a caller that a row it may not see exists: such an id is "unknown", like
one that never existed.
"""

from __future__ import annotations

import orjson
from django.http import HttpResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from keelplan.api.beebole.error_codes import ERRORS
from keelplan.api.common import bodies
from keelplan.api.common.throttling import TooManyHeavyRequests
from keelplan.core import errors as domain

REALM = 'Basic realm="Beebole API"'
NOT_AUTHENTICATED = "Authentication required: send your API token as the Basic user name (password x)."
BAD_CREDENTIALS = "Invalid or revoked API token."
INVALID_BODY = "Invalid service request: the body must be one JSON object such as {\"service\": \"company.list\"}."
# Domain field names as the Beebole bodies spell them.
WIRE_NAMES = {
    "start_date": "startDate", "is_active": "active", "is_corporate": "corporate", "full_name": "name",
    "kind": "userGroup", "is_admin": "userGroup", "workspace_role": "userGroup", "custom_fields": "customField",
    "user": "person", "activity": "task",
}
# Names that differ under one entity only: a subproject's parent is the ``project`` it is sent as.
WIRE_NAMES_UNDER = {"subproject": {"parent": "project"}}


class BeeboleError(Exception):
    """A request the dialect refuses with Beebole's error envelope (HTTP 200 unless ``status_code`` says else)."""

    def __init__(self, message: str, *, status_code: int = status.HTTP_200_OK):
        super().__init__(message)
        self.message, self.status_code = message, status_code


def envelope(message: str) -> dict:
    return {"status": "error", "message": message}


def wire_field(field: str | None, prefix: str | None = None) -> str | None:
    """The field a domain error names, as the client sent it: ``start_date`` under ``project`` ->
    ``project.startDate``; ``custom_fields.12`` -> ``customField``."""
    if not field:
        return prefix
    head, dot, rest = field.partition(".")
    head = WIRE_NAMES_UNDER.get(prefix, {}).get(head) or WIRE_NAMES.get(head, head)
    if head == "customField":
        rest = ""
    name = head + (dot + rest if rest else "")
    return f"{prefix}.{name}" if prefix else name


def domain_message(exc: domain.DomainError, prefix: str | None = None) -> str:
    """A domain refusal in Beebole's words (``error_codes.ERRORS``): ``<field>: <message>`` for a broken rule,
    ``Not allowed: ...``, ``Unknown <entity>: ...``."""
    lead = ERRORS[domain.ErrorCode(exc.code)].lead
    if lead == "Unknown":
        return f"Unknown {exc.params.get('entity') or 'row'}: {exc.message}"
    if lead != "field":
        return f"{lead}: {exc.message}"
    where = wire_field(exc.field, prefix)
    return f"{where}: {exc.message}" if where else exc.message


def json_response(body, status_code: int = status.HTTP_200_OK) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status_code, content_type="application/json")


def _error(message: str, status_code: int) -> Response:
    return Response(envelope(message), status=status_code)


def exception_handler(exc, context):
    if isinstance(exc, BeeboleError):
        return _error(exc.message, exc.status_code)
    if isinstance(exc, domain.DomainError):
        response = _error(domain_message(exc), ERRORS[domain.ErrorCode(exc.code)].status)
        if exc.params.get("retry_after"):
            response["Retry-After"] = str(exc.params["retry_after"])
        return response
    if isinstance(exc, (exceptions.AuthenticationFailed, exceptions.NotAuthenticated)):
        response = _error(BAD_CREDENTIALS if isinstance(exc, exceptions.AuthenticationFailed) else NOT_AUTHENTICATED,
                          status.HTTP_401_UNAUTHORIZED)
        response["WWW-Authenticate"] = REALM
        return response
    if isinstance(exc, bodies.BodyRefused):
        return _error(exc.refusal.detail, exc.refusal.status)
    if isinstance(exc, exceptions.ParseError):
        return _error(INVALID_BODY, status.HTTP_200_OK)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _error("Invalid service request: send the body as application/json.", status.HTTP_200_OK)
    if isinstance(exc, exceptions.MethodNotAllowed):
        request = context.get("request")
        method = request.method if request is not None else "this method"
        response = _error(f"The service API takes POST only, not {method}.", status.HTTP_405_METHOD_NOT_ALLOWED)
        response["Allow"] = "POST"
        return response
    if isinstance(exc, TooManyHeavyRequests):
        response = _error(exc.detail["detail"], status.HTTP_429_TOO_MANY_REQUESTS)
        response["Retry-After"] = str(int(exc.wait))
        return response
    if isinstance(exc, exceptions.Throttled):
        response = _error("Too many requests; try again later.", status.HTTP_429_TOO_MANY_REQUESTS)
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response
    if isinstance(exc, exceptions.APIException):
        return _error(str(exc.detail), exc.status_code)
    return None


def body_refused_response(refusal: bodies.BodyRefusal) -> HttpResponse:
    return json_response(envelope(refusal.detail), refusal.status)


bodies.register_dialect("/api/v2", body_refused_response)
