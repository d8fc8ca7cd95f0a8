"""The v1 dialect's one exception handler: domain errors and DRF errors to TruePPM-style JSON bodies."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from keelplan.api.common import bodies
from keelplan.api.v1.error_codes import v1_error
from keelplan.core import errors as domain

STATUS_BY_ERROR = [
    (domain.InvalidInput, status.HTTP_400_BAD_REQUEST),
    (domain.NotFound, status.HTTP_404_NOT_FOUND),
    (domain.PermissionDenied, status.HTTP_403_FORBIDDEN),
    (domain.Conflict, status.HTTP_409_CONFLICT),
    (domain.Throttled, status.HTTP_429_TOO_MANY_REQUESTS),
]


def domain_error_body(exc: domain.DomainError) -> dict:
    """``{<field>: [msg], detail, code, ...extras}``: a DRF-style field map plus TruePPM's structured keys."""
    body: dict = {}
    body.update(exc.field_errors())
    body["detail"] = exc.message
    wire = v1_error(exc.code)
    body["code"] = wire.code
    if isinstance(exc, domain.CyclicDependency):
        body["offending"] = exc.cycle
        body["cycle"] = exc.cycle
    # The code's own parameters show only where v1 names them; other detail (the task an engine error is about)
    # always shows.
    hidden = set(domain.REGISTRY[domain.ErrorCode(exc.code)].params) - set(wire.params)
    for key, value in exc.params.items():
        if key not in hidden:
            body.setdefault(key, value)
    return body


def exception_handler(exc, context):
    if isinstance(exc, domain.DomainError):
        code = next((s for cls, s in STATUS_BY_ERROR if isinstance(exc, cls)), status.HTTP_400_BAD_REQUEST)
        return Response(domain_error_body(exc), status=code)
    if isinstance(exc, (OverflowError,)):
        exc = exceptions.ValidationError({"detail": ["A number is out of range."]})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ParseError):
        response.data = {"detail": str(exc.detail), "code": "malformed_json"}
    return response


@csrf_exempt  # an API client has no CSRF cookie; an unknown path must answer 404, not the CSRF 403 page
def not_found_view(request, exception=None, *args, **kwargs):
    """404 for any unmatched path, as JSON, so API clients never get an HTML page."""
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def body_refused_response(refusal: bodies.BodyRefusal) -> JsonResponse:
    """A body refused before any view ran (too large, too deep): ``{detail, code, <limit>}`` like every v1 error."""
    return JsonResponse({"detail": refusal.detail, "code": refusal.code, **refusal.extra}, status=refusal.status)


# The token endpoints and the schema live beside /api/v1/ and speak this dialect; a later dialect mounted inside
# /api/ (/api/v3/) registers its own, longer prefix.
bodies.register_dialect("/api/", body_refused_response)

__all__ = ["exception_handler", "domain_error_body", "not_found_view", "body_refused_response", "Http404"]
