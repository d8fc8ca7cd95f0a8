"""Clients of the OpenProject v3 dialect: HTTP Basic ``apikey:<token>``, as every OpenProject client sends it."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from keelplan.accounts.services import api_token_create

HAL = "application/hal+json; charset=utf-8"
URN = "urn:openproject-org:api:v3:errors:"


def v3_client(user) -> APIClient:
    _, raw = api_token_create(user=user, name="v3 tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"apikey:{raw}".encode()).decode())
    return client


@pytest.fixture
def v3(owner) -> APIClient:
    return v3_client(owner)


def assert_v3_error(response, status: int, identifier: str, *, attribute: str | None = None) -> dict:
    """The response is OpenProject's Error body: status, HAL content type, the identifier's URN, a message ending
    in punctuation, and the attribute the details name (if any)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == HAL
    body = response.json()
    assert body["_type"] == "Error"
    assert body["errorIdentifier"] == URN + identifier
    assert body["message"] and body["message"][-1] in ".?!", body["message"]
    if attribute is not None:
        assert body["_embedded"]["details"]["attribute"] == attribute
    return body
