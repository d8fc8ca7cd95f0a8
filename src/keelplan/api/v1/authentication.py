"""Authentication for the v1 dialect: ``Authorization: Bearer <JWT>`` or ``Bearer kp_...`` API tokens."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from keelplan.accounts.models import ApiToken
from keelplan.accounts.services import api_token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Accepts a Keelplan API token as a Bearer credential; leaves anything else to the JWT authenticator."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].decode("latin-1").lower() != self.keyword.lower():
            return None
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not raw.startswith(ApiToken.PREFIX):
            return None
        token = api_token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
