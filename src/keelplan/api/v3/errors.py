"""The OpenProject v3 dialect's errors: every failure as OpenProject's HAL ``Error`` body.

``{"_type": "Error", "errorIdentifier": "urn:openproject-org:api:v3:errors:<Id>", "message": "...",
"_embedded": {"details": {"attribute": "<property>"}}}``; several at once as ``MultipleErrors`` with
``_embedded.errors``. Every message ends with a full stop (OpenProject's own tests insist). Domain errors name
domain fields; a view's ``attributes`` map (domain field -> v3 property) turns them into the property the client
sent, so ``name`` is reported as ``subject`` on a work package.
"""

from __future__ import annotations

import re

from django.http import HttpResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from keelplan.api.common import bodies
from keelplan.api.common.throttling import TooManyHeavyRequests
from keelplan.api.v3.error_codes import v3_error
from keelplan.core import errors as domain

URN = "urn:openproject-org:api:v3:errors:"
REALM = 'Basic realm="OpenProject API"'
HAL_JSON = "application/hal+json; charset=utf-8"
NOT_AUTHENTICATED = "You need to be authenticated to access this resource."
BAD_CREDENTIALS = "You did not provide the correct credentials."
NOT_FOUND = "The requested resource could not be found."
MISSING_PERMISSION = "You are not authorized to access this resource."
UPDATE_CONFLICT = ("Your changes could not be saved, because the resource was changed in the meantime. Please "
                   "reload it and try again.")
INVALID_BODY = "The request body was not a single JSON object."


def sentence(text: str) -> str:
    """``text`` ending with a full stop, question or exclamation mark, as OpenProject's messages do."""
    text = str(text).strip() or "The request could not be processed."
    return text if text[-1] in ".?!" else text + "."


def label(attribute: str) -> str:
    """``startDate`` -> ``Start date``, ``customField12`` -> ``Custom field 12``."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z0-9])", " ", attribute).lower().split()
    return " ".join(words).capitalize() if words else attribute


def error_body(identifier: str, message: str, *, attribute: str | None = None) -> dict:
    body = {"_type": "Error", "errorIdentifier": URN + identifier, "message": sentence(message)}
    if attribute is not None:
        body["_embedded"] = {"details": {"attribute": attribute}}
    return body


class V3Error(exceptions.APIException):
    """An error the dialect itself raises (a property it cannot read, a read-only one, a missing body), with
    OpenProject's identifier and status."""

    def __init__(self, message: str, *, identifier: str = "PropertyConstraintViolation", status_code: int = 422,
                 attribute: str | None = None):
        super().__init__(message)
        self.identifier, self.status_code, self.attribute = identifier, status_code, attribute
        self.message = message

    def body(self) -> dict:
        return error_body(self.identifier, self.message, attribute=self.attribute)


class MissingContentType(Exception):
    """A write without ``Content-Type``: OpenProject answers 406 with a plain-text line, not an Error body."""


class MultipleErrors(exceptions.APIException):
    """Several property errors at once (OpenProject's ``MultipleErrors``, 422); a single one is sent as itself."""

    status_code = 422

    def __init__(self, errors: list[V3Error]):
        super().__init__("Multiple field constraints have been violated.")
        self.errors = errors

    def body(self) -> dict:
        if len(self.errors) == 1:
            return self.errors[0].body()
        return {"_type": "Error", "errorIdentifier": URN + "MultipleErrors",
                "message": "Multiple field constraints have been violated.",
                "_embedded": {"errors": [e.body() for e in self.errors]}}


def attribute_for(field: str | None, attributes: dict) -> str | None:
    """The v3 property a domain field is sent as: the view's map, ``custom_fields.N`` as ``customFieldN``, a
    field the map does not know as it is."""
    if not field:
        return None
    if field.startswith("custom_fields."):
        return "customField" + field.split(".", 1)[1]
    head = field.split(".", 1)[0].split("[", 1)[0]
    return attributes.get(head, head)


def domain_error_response(exc: domain.DomainError, attributes: dict) -> Response:
    wire = v3_error(exc.code)
    attribute = attribute_for(exc.field, attributes)
    if exc.code == domain.ErrorCode.STALE_LOCK_VERSION:
        message = UPDATE_CONFLICT
    elif exc.code == domain.ErrorCode.NOT_FOUND:
        message = NOT_FOUND
    elif exc.code in (domain.ErrorCode.REQUIRED, domain.ErrorCode.NULL, domain.ErrorCode.BLANK) and attribute:
        message = f"{label(attribute)} can't be blank."
    else:
        message = exc.message
    return Response(error_body(wire.identifier, message, attribute=attribute if wire.status == 422 else None),
                    status=wire.status)


def exception_handler(exc, context):
    view = context.get("view")
    attributes = getattr(view, "attributes", {}) or {}
    if isinstance(exc, domain.DomainError):
        response = domain_error_response(exc, attributes)
        if isinstance(exc, domain.Throttled) and exc.params.get("retry_after"):
            response["Retry-After"] = str(exc.params["retry_after"])
        return response
    if isinstance(exc, MissingContentType):
        return HttpResponse("Missing content-type header", status=406, content_type="text/plain; charset=utf-8")
    if isinstance(exc, (V3Error, MultipleErrors)):
        return Response(exc.body(), status=exc.status_code)
    if isinstance(exc, exceptions.AuthenticationFailed):
        return _unauthenticated(BAD_CREDENTIALS)
    if isinstance(exc, exceptions.NotAuthenticated):
        return _unauthenticated(NOT_AUTHENTICATED)
    if isinstance(exc, exceptions.PermissionDenied):
        return Response(error_body("MissingPermission", MISSING_PERMISSION), status=403)
    if isinstance(exc, exceptions.NotFound):
        return Response(error_body("NotFound", NOT_FOUND), status=404)
    if isinstance(exc, bodies.BodyRefused):
        return Response(error_body("InvalidRequestBody", exc.refusal.detail), status=exc.refusal.status)
    if isinstance(exc, exceptions.ParseError):
        return Response(error_body("InvalidRequestBody", INVALID_BODY), status=400)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return Response(error_body("TypeNotSupported", f"Expected CONTENT-TYPE to be (expected value) but got "
                                                       f"({exc.detail})."), status=415)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return Response(error_body("NotFound", NOT_FOUND), status=405)
    if isinstance(exc, TooManyHeavyRequests):
        response = Response(error_body("TooManyRequests", exc.detail["detail"]), status=429)
        response["Retry-After"] = str(int(exc.wait))
        return response
    if isinstance(exc, exceptions.Throttled):
        response = Response(error_body("TooManyRequests", "Too many requests; try again later."), status=429)
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response
    if isinstance(exc, exceptions.APIException):
        return Response(error_body("BadRequest", str(exc.detail)), status=exc.status_code)
    return None


def _unauthenticated(message: str) -> Response:
    response = Response(error_body("Unauthenticated", message), status=status.HTTP_401_UNAUTHORIZED)
    response["WWW-Authenticate"] = REALM
    return response


def hal_response(body: dict, status_code: int) -> HttpResponse:
    """A HAL JSON response built outside DRF (middleware, the 404 of an unknown path)."""
    import orjson

    return HttpResponse(orjson.dumps(body), status=status_code, content_type=HAL_JSON)


def body_refused_response(refusal: bodies.BodyRefusal) -> HttpResponse:
    return hal_response(error_body("InvalidRequestBody", refusal.detail), refusal.status)


bodies.register_dialect("/api/v3", body_refused_response)
