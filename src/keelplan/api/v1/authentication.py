"""Authentication of the v1 dialect: ``Authorization: Bearer <JWT>`` or ``Bearer kp_...`` API tokens, nothing else."""

from __future__ import annotations

from keelplan.api.common.credentials import BearerApiTokenAuthentication, BearerJWTAuthentication


class ApiTokenAuthentication(BearerApiTokenAuthentication):
    """A Keelplan API token as a Bearer credential; any other Bearer value is the JWT authenticator's."""

    beside_jwt = True


# First the API token: its challenge is the WWW-Authenticate header of every v1 401.
AUTHENTICATION_CLASSES = (ApiTokenAuthentication, BearerJWTAuthentication)

__all__ = ["AUTHENTICATION_CLASSES", "ApiTokenAuthentication"]
