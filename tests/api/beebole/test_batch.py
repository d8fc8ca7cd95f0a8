"""``{"services": [...]}``: several requests in one body, each answered in its place and done on its own."""

from __future__ import annotations

import pytest

from keelplan.portfolio.models import Company
from tests.api.beebole.conftest import error_message

pytestmark = pytest.mark.django_db


def test_each_request_is_answered_in_its_place_and_a_refusal_undoes_only_itself(bb):
    response = bb.raw({"services": [
        {"service": "company.create", "company": {"name": "First"}},
        {"service": "company.create", "company": {"name": ""}},
        {"service": "nope.list"},
        {"service": "company.list"},
    ]})
    assert response.status_code == 200
    first, blank, unknown, listed = response.json()
    assert first["status"] == "ok" and isinstance(first["id"], int)
    assert blank == {"status": "error", "message": blank["message"]}
    assert blank["message"].startswith("services[1]: company.name:")
    assert unknown["message"] == "services[2]: Invalid service request: unknown service 'nope.list'."
    assert [c["name"] for c in listed["companies"]] == ["First"]
    assert list(Company.objects.values_list("name", flat=True)) == ["First"]


@pytest.mark.parametrize("services, words", [
    ([], "non-empty list"),
    ("company.list", "non-empty list"),
    ([{"service": "company.list"}] * 51, "at most 50"),
])
def test_a_batch_of_the_wrong_shape_is_refused(bb, services, words):
    message = error_message(bb.raw({"services": services}))
    assert words in message


def test_a_batch_needs_credentials_like_any_request(bb):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/v2", {"services": [{"service": "company.list"}]}, format="json")
    assert error_message(response, 401)
