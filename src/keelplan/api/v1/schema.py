"""OpenAPI description of the v1 dialect: its security schemes, the error responses of every operation, and the
views that serve it.

drf-spectacular documents only the success response of a view. Clients (and Schemathesis) also need to know
which error statuses an operation may answer and what their bodies look like, so the schema class below adds
them from rules that mirror where the v1 exception handler raises each status.
"""

from __future__ import annotations

from inspect import getdoc

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_bearer_security_scheme_object
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from keelplan.api.common.bodies import JSONBodyParser
from keelplan.api.common.throttling import HeavyRequestThrottle
from keelplan.api.v1.authentication import AUTHENTICATION_CLASSES
from keelplan.api.v1.errors import exception_handler

# The paths whose errors are rendered by ``keelplan.api.v1.errors.exception_handler``.
V1_PATH_PREFIXES = ("/api/v1/", "/api/token/")
ID_PATTERN = "^[0-9]{1,18}$"
MAX_ROUTED_ID = 10**18 - 1
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "An error. Domain errors carry a human `detail` and a stable `code` (e.g. `stale_lock_version`, "
        "`cyclic_dependency`); validation errors map each offending field to a list of messages."
    ),
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "code": {"type": "string", "description": "A stable, machine-readable error code."},
    },
    "additionalProperties": True,
}

ERROR_DESCRIPTIONS = {
    "400": "Validation error: the body or a query parameter is invalid, or a domain rule refused the write.",
    "401": "Missing, invalid or expired credentials.",
    "403": "Your role in the project does not allow this.",
    "404": "Not found, soft-deleted, or not visible to you.",
    "409": "Conflict with the current state: a stale lock_version, a duplicate, or a row still in use.",
    "413": "The request body is larger than the endpoint's limit (code body_too_large, limit_bytes).",
    "429": "Too many heavy requests running, yours or the server's (code too_many_heavy_requests); retry after "
           "the Retry-After header's seconds.",
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer kp_...``: a long-lived API token made with ``keelplan token``."""

    target_class = "keelplan.api.v1.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer",
                                                     bearer_format="kp_<token>")
        scheme["description"] = "A Keelplan API token (created with `keelplan token <user>`), sent as a Bearer token."
        return scheme


class JWTScheme(SimpleJWTScheme):
    """``Authorization: Bearer <JWT>``: simplejwt's security scheme (``jwtAuth``) for the authenticator v1 lists."""

    target_class = "keelplan.api.common.credentials.BearerJWTAuthentication"


class KeelplanAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses each v1 operation can give."""

    def get_description(self):
        # The action's docstring, else the view's own. A docstring inherited from a shared base class
        # describes the implementation and is no use to API clients, so it is left out.
        action = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        function = getattr(action, "__func__", action)
        defined_here = function is not None and function.__qualname__.startswith(f"{type(self.view).__name__}.")
        if defined_here and function.__doc__:
            return getdoc(function)
        view_doc = vars(type(self.view)).get("__doc__")
        return getdoc(type(self.view)) if view_doc else ""

    def _resolve_path_parameters(self, variables):
        # Row ids are routed with ID_REGEX; describe them as the integers they are.
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("pattern") == ID_PATTERN:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ROUTED_ID}
        return parameters

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None or not path.startswith(V1_PATH_PREFIXES):
            return operation
        error = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, schema=ERROR_SCHEMA, object="Error")
        registry.register_on_missing(error)
        responses = operation.setdefault("responses", {})
        for code in self.error_codes(operation):
            responses.setdefault(code, {
                "description": ERROR_DESCRIPTIONS[code],
                "content": {"application/json": {"schema": error.ref}},
            })
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_codes(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        has_query = any(p.get("in") == "query" for p in parameters)
        has_path = any(p.get("in") == "path" for p in parameters)
        is_write = self.method in WRITE_METHODS
        is_token_endpoint = self.path.startswith("/api/token/")
        codes = ["401"]
        if is_write or has_query:
            codes.append("400")
        if is_write:
            codes.append("413")
        if is_write and not is_token_endpoint:
            codes += ["403", "409", "429"]
        elif self.path.endswith("/sync/"):
            codes.append("429")
        if has_path:
            codes.append("404")
        return codes


# ---------------------------------------------------------------- the schema's own pages

class SchemaView(SpectacularAPIView):
    """``GET /api/schema/``: the v1 description, behind v1's authentication and exception handler (a credential
    is not needed, but a bad one is refused as on every v1 path)."""

    authentication_classes = list(AUTHENTICATION_CLASSES)
    parser_classes = [JSONBodyParser]
    throttle_classes = [HeavyRequestThrottle]

    def get_exception_handler(self):
        return exception_handler


class SwaggerView(SpectacularSwaggerView):
    """``GET /api/schema/swagger-ui/``: Swagger UI over :class:`SchemaView`, with the same credentials."""

    authentication_classes = list(AUTHENTICATION_CLASSES)
    parser_classes = [JSONBodyParser]
    throttle_classes = [HeavyRequestThrottle]

    def get_exception_handler(self):
        return exception_handler
