"""Clients of the Beebole dialect: ``POST /api/v2`` with HTTP Basic ``<token>:x``, as Beebole's clients send it."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from keelplan.accounts.services import api_token_create

URL = "/api/v2"


class Beebole:
    """One caller of the service API."""

    def __init__(self, user):
        self.user = user
        _, raw = api_token_create(user=user, name="beebole tests")
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{raw}:x".encode()).decode())

    def raw(self, body, **kwargs):
        """The response to ``body`` (a dict is sent as JSON; bytes as they are)."""
        if isinstance(body, (bytes, str)):
            return self.client.post(URL, body, content_type=kwargs.pop("content_type", "application/json"),
                                    **kwargs)
        return self.client.post(URL, body, format="json", **kwargs)

    def call(self, service: str, **fields) -> dict:
        """The reply to a service that must succeed."""
        response = self.raw({"service": service, **fields})
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        assert body["status"] == "ok", body
        return body

    def error(self, service: str, **fields) -> str:
        """The message of a service call that must fail in Beebole's form (HTTP 200, status error)."""
        response = self.raw({"service": service, **fields})
        return error_message(response)


def error_message(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "error", body
    assert set(body) == {"status", "message"}, body
    assert isinstance(body["message"], str) and body["message"]
    return body["message"]


@pytest.fixture
def bb(owner) -> Beebole:
    """The workspace administrator (``owner``) as a Beebole caller."""
    return Beebole(owner)
