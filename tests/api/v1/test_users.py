"""Contract of ``/api/v1/users/``: who am I, and finding people by username or full name."""

from __future__ import annotations

from rest_framework.test import APIClient

from conftest import client_for, make_user

from .contract import (
    ENVELOPE_KEYS, assert_error, assert_nothing_written, db_state, json_body,
)

URL = "/api/v1/users/"


def test_me_returns_the_caller(owner, api):
    response = api.get(f"{URL}me/")
    body = json_body(response)
    assert response.status_code == 200, body
    assert (body["id"], body["username"], body["full_name"]) == (owner.pk, "owner", "Olive Owner")
    assert {"email", "is_staff", "date_joined"} <= set(body)
    assert "password" not in body


def test_me_is_the_token_holder_not_someone_else(owner, outsider):
    assert json_body(client_for(outsider).get(f"{URL}me/"))["id"] == outsider.pk


def test_full_name_falls_back_to_the_username(db):
    plain = make_user("plainuser")
    assert json_body(client_for(plain).get(f"{URL}me/"))["full_name"] == "plainuser"


def test_search_finds_by_username_and_full_name(owner, api):
    grace = make_user("ghopper", full_name="Grace Hopper")
    ada = make_user("alovelace", full_name="Ada Lovelace")
    make_user("someone", full_name="Somebody Else")

    def found(term):
        body = json_body(api.get(URL, {"search": term}))
        assert set(body) == ENVELOPE_KEYS
        return body["results"]

    assert found("ghop") == [{"id": grace.pk, "username": "ghopper", "full_name": "Grace Hopper",
                              "is_workspace_admin": False}]
    assert found("LOVELACE") == [{"id": ada.pk, "username": "alovelace", "full_name": "Ada Lovelace",
                                  "is_workspace_admin": False}]
    assert [row["id"] for row in found("hopper")] == [grace.pk]
    assert found("no such person") == []
    everyone = json_body(api.get(URL, {"page_size": 500}))
    assert everyone["count"] == 4
    assert all(set(row) == {"id", "username", "full_name", "is_workspace_admin"} for row in everyone["results"])
    assert [row["is_workspace_admin"] for row in everyone["results"]].count(True) == 1  # the owner fixture


def test_search_with_a_nul_byte_is_400_not_a_database_error(owner, api):
    assert_error(api.get(URL, {"search": "own\x00er"}), 400, field="search")


def test_inactive_people_are_not_found(owner, api):
    gone = make_user("leaver", full_name="Lee Leaver")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert json_body(api.get(URL, {"search": "leaver"}))["results"] == []


def test_users_are_read_only(owner, api):
    before = db_state()
    for response in (
        api.post(URL, {"username": "new", "password": "x" * 12}, format="json"),
        api.patch(f"{URL}me/", {"full_name": "Changed"}, format="json"),
        api.delete(f"{URL}me/"),
        api.get(f"{URL}{owner.pk}/"),
    ):
        assert response.status_code in (404, 405), (response.status_code, response.content)
        json_body(response)
    assert_nothing_written(before, "writes to users")


def test_users_need_authentication(db):
    anonymous = APIClient()
    assert_error(anonymous.get(URL), 401)
    assert_error(anonymous.get(f"{URL}me/"), 401)


def test_bad_page_size_is_400(owner, api):
    assert_error(api.get(URL, {"page_size": 0}), 400, field="page_size")
