"""``POST /api/v2``: Beebole's one endpoint. The body names the service; the reply is Beebole's envelope.

Authentication is an API token (``keelplan token``) as the Basic user name, with any password (Beebole's
clients send ``x``); a Bearer API token or JWT is read too. There is no anonymous access. Each service runs in
one write transaction: a service that makes several domain writes (making someone a manager, say) makes all or
none of them. ``{"services": [...]}`` (undocumented, sent by Pipedream's Beebole actions) runs several requests in
order and answers a list of replies, each request on its own.
"""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from keelplan.api.beebole import services  # noqa: F401  (registers every handler)
from keelplan.api.beebole.calls import Fields
from keelplan.api.beebole.errors import (
    INVALID_BODY, REALM, BeeboleError, domain_message, envelope, exception_handler, json_response,
)
from keelplan.api.beebole.registry import SERVICES, Call
from keelplan.api.common.bodies import JSONBodyParser
from keelplan.api.common.credentials import (
    BasicTokenAsUserAuthentication, BearerApiTokenAuthentication, BearerJWTAuthentication,
    RefuseUnclaimedAuthorization,
)
from keelplan.api.common.renderers import FastJSONRenderer
from keelplan.api.common.throttling import HeavyRequestThrottle
from keelplan.core.errors import DomainError
from keelplan.core.transactions import write_transaction

MAX_SERVICE_NAME = 100
# Service requests one batch (``{"services": [...]}``, as Pipedream's Beebole actions send) may hold.
MAX_BATCH = 50


class TokenAuthentication(BasicTokenAsUserAuthentication):
    realm = "Beebole API"


class BearerTokenAuthentication(BearerApiTokenAuthentication):
    beside_jwt = True


class BodyIsJSON(BaseContentNegotiation):
    """Whatever ``Content-Type`` says, the body is JSON (Beebole's own example posts with curl's form type) and the
    answer is JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ServiceView(APIView):
    authentication_classes = [TokenAuthentication, BearerTokenAuthentication, BearerJWTAuthentication,
                              RefuseUnclaimedAuthorization]
    permission_classes = [IsAuthenticated]
    renderer_classes = [FastJSONRenderer]
    content_negotiation_class = BodyIsJSON
    parser_classes = [JSONBodyParser]
    throttle_classes = [HeavyRequestThrottle]
    # OPTIONS is refused like every method but POST (405 with the envelope).
    metadata_class = None
    schema = None

    def get_exception_handler(self):
        return exception_handler

    def get_authenticate_header(self, request):
        return REALM

    def post(self, request):
        body = request.data
        if isinstance(body, dict) and "services" in body and "service" not in body:
            return json_response(self.batch(request, body["services"]))
        return json_response(self.run(request, body))

    def run(self, request, body) -> dict:
        """One service request's reply; a refusal raises (the caller decides how it is answered)."""
        if not isinstance(body, dict):
            raise BeeboleError(INVALID_BODY)
        name = body.get("service")
        if "service" not in body:
            raise BeeboleError("Invalid service request: missing field service.")
        if not isinstance(name, str):
            raise BeeboleError("Invalid service request: service must be a string such as \"company.list\".")
        handler = SERVICES.get(name)
        if handler is None:
            shown = name if len(name) <= MAX_SERVICE_NAME else name[:MAX_SERVICE_NAME] + "..."
            raise BeeboleError(f"Invalid service request: unknown service {shown!r}.")
        with write_transaction():
            reply = handler(Call(actor=request.user, name=name, body=Fields(body)))
        return {"status": "ok", **reply}

    def batch(self, request, calls) -> list[dict]:
        """``{"services": [...]}``: each request run on its own, in order, each answered in its place in the list
        (one that fails answers its error there and undoes only itself)."""
        if not isinstance(calls, list) or not calls:
            raise BeeboleError("Invalid field services: expected a non-empty list of service requests.")
        if len(calls) > MAX_BATCH:
            raise BeeboleError(f"Invalid field services: at most {MAX_BATCH} service requests at once.")
        replies = []
        for index, body in enumerate(calls):
            try:
                replies.append(self.run(request, body))
            except BeeboleError as exc:
                replies.append(envelope(f"services[{index}]: {exc.message}"))
            except DomainError as exc:
                replies.append(envelope(f"services[{index}]: {domain_message(exc)}"))
        return replies
