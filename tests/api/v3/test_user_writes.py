"""v3 writes to people: ``PATCH /users/{id}`` (login, e-mail, names, admin) and ``POST``/``DELETE
/users/{id}/lock``, answers checked against the dialect's own description, every permission tried as an attack
that leaves the person as they were, every refusal naming the property the client sent."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from keelplan.accounts.models import WorkspaceRole
from keelplan.accounts.services import api_token_create, user_set_workspace_role

from conftest import make_user

from .conftest import assert_v3_error, v3_client
from .test_spec import conforms

pytestmark = pytest.mark.django_db
User = get_user_model()
USER = "/api/v3/users/{id}"
LOCK = "/api/v3/users/{id}/lock"


@pytest.fixture(scope="module")
def document() -> dict:
    from keelplan.api.v3.spec import document

    return document()


@pytest.fixture
def ana(db):
    return make_user("ana", full_name="Ana Lopez", email="ana@example.com")


@pytest.fixture
def bob(db):
    return make_user("bob", full_name="Bob Stone", email="bob@example.com")


def state(user) -> tuple:
    row = User.objects.get(pk=user.pk)
    return (row.username, row.email, row.full_name, row.first_name, row.last_name, row.workspace_role,
            row.is_superuser, row.is_active)


def patch(client, target, body):
    return client.patch(f"/api/v3/users/{target}", body, format="json")


def lock(client, target, *, unlock: bool = False):
    method = client.delete if unlock else client.post
    return method(f"/api/v3/users/{target}/lock", content_type="application/json")


# ---------------------------------------------------------------- PATCH /users/{id}

def test_an_admin_changes_login_email_names_and_admin(document, owner, ana):
    answer = patch(v3_client(owner), ana.pk, {"login": "ana.l", "email": "ana@lopez.example", "firstName": "Ana María",
                                              "lastName": "López", "admin": True})
    body = conforms(document, answer, "PATCH", USER)
    assert answer.status_code == 200
    assert (body["login"], body["email"], body["firstName"], body["lastName"], body["name"], body["admin"]) == (
        "ana.l", "ana@lopez.example", "Ana María", "López", "Ana María López", True)
    row = User.objects.get(pk=ana.pk)
    assert (row.username, row.email, row.full_name) == ("ana.l", "ana@lopez.example", "Ana María López")
    assert row.workspace_role == WorkspaceRole.ADMIN


def test_a_person_changes_their_own_name_and_email(document, ana):
    answer = patch(v3_client(ana), "me", {"firstName": "Anita", "email": "anita@example.com"})
    body = conforms(document, answer, "PATCH", USER)
    assert (body["name"], body["firstName"], body["lastName"], body["email"]) == (
        "Anita Lopez", "Anita", "Lopez", "anita@example.com")
    assert v3_client(ana).get("/api/v3/users/me").json()["name"] == "Anita Lopez"


def test_the_whole_record_sent_back_is_accepted_and_changes_nothing(ana):
    client = v3_client(ana)
    shown = client.get("/api/v3/users/me").json()
    before = state(ana)
    answer = patch(client, "me", {k: shown[k] for k in ("login", "firstName", "lastName", "email", "admin",
                                                        "status", "language")})
    assert answer.status_code == 200 and state(ana) == before


def test_an_admin_demotes_an_admin_made_at_creation(owner):
    boss = v3_client(owner).post("/api/v3/users", {"login": "boss", "password": "a-long-password-9", "admin": True},
                                 format="json").json()
    answer = patch(v3_client(owner), boss["id"], {"admin": False})
    assert answer.status_code == 200 and answer.json()["admin"] is False
    assert not User.objects.get(pk=boss["id"]).is_workspace_admin


@pytest.mark.parametrize("body", [{"login": "mallory"}, {"email": "bob@evil.example"}, {"firstName": "Mallory"},
                                  {"admin": True}, {"admin": "yes"}, {}])
def test_a_non_admin_cannot_patch_someone_else(document, ana, bob, body):
    before = state(bob)
    answer = patch(v3_client(ana), bob.pk, body)
    assert_v3_error(answer, 403, "MissingPermission")
    conforms(document, answer, "PATCH", USER)
    assert state(bob) == before


@pytest.mark.parametrize("body", [{"admin": True}, {"login": "queen"}])
def test_a_non_admin_cannot_make_themself_admin_or_change_their_login(ana, body):
    before = state(ana)
    assert_v3_error(patch(v3_client(ana), "me", body), 403, "MissingPermission")
    assert state(ana) == before


def test_someone_hidden_is_404_whatever_the_body(owner, ana, bob):
    v3_client(owner).post(f"/api/v3/users/{bob.pk}/lock", content_type="application/json")
    before = state(bob)
    assert_v3_error(patch(v3_client(ana), bob.pk, {"firstName": "X"}), 404, "NotFound")
    assert_v3_error(patch(v3_client(ana), 999999, {"firstName": "X"}), 404, "NotFound")
    assert state(bob) == before


def test_the_last_admin_cannot_be_demoted_and_the_rest_of_the_body_is_not_written(owner):
    before = state(owner)
    answer = patch(v3_client(owner), "me", {"admin": False, "firstName": "Changed", "email": "new@example.com"})
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="admin")
    assert state(owner) == before


@pytest.mark.parametrize("body, identifier, attribute", [
    ({"login": ""}, "PropertyConstraintViolation", "login"),
    ({"login": None}, "PropertyConstraintViolation", "login"),
    ({"login": "has space"}, "PropertyConstraintViolation", "login"),
    ({"login": "BOB"}, "PropertyConstraintViolation", "login"),
    ({"login": "x" * 151}, "PropertyConstraintViolation", "login"),
    ({"login": 7}, "PropertyFormatError", "login"),
    ({"email": "not-an-address"}, "PropertyConstraintViolation", "email"),
    ({"email": ["a@b.org"]}, "PropertyFormatError", "email"),
    ({"firstName": "x" * 128}, "PropertyConstraintViolation", "firstName"),
    ({"lastName": "x" * 128}, "PropertyConstraintViolation", "lastName"),
    ({"lastName": {"raw": "x"}}, "PropertyFormatError", "lastName"),
    ({"admin": "true"}, "PropertyFormatError", "admin"),
    ({"password": "a-new-password-1"}, "PropertyIsReadOnly", "password"),
    ({"status": "locked"}, "PropertyIsReadOnly", "status"),
    ({"language": "de"}, "PropertyIsReadOnly", "language"),
    ({"firstName": "Ok", "login": "two words"}, "PropertyConstraintViolation", "login"),
])
def test_a_bad_patch_is_422_naming_the_property_and_changes_nothing(document, owner, ana, bob, body, identifier,
                                                                     attribute):
    before = state(ana)
    answer = patch(v3_client(owner), ana.pk, body)
    assert_v3_error(answer, 422, identifier, attribute=attribute)
    conforms(document, answer, "PATCH", USER)
    assert state(ana) == before


def test_a_login_change_keeps_the_api_token_working(owner, ana):
    client = v3_client(ana)
    user_set_workspace_role(actor=owner, user=ana, role=WorkspaceRole.ADMIN)
    assert patch(client, "me", {"login": "ana2"}).status_code == 200
    assert client.get("/api/v3/users/me").json()["login"] == "ana2"


# ---------------------------------------------------------------- POST/DELETE /users/{id}/lock

def test_an_admin_locks_and_unlocks_a_person(document, owner, ana):
    _, raw = api_token_create(user=ana)
    ana_client = APIClient()
    ana_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    admin = v3_client(owner)
    locked = lock(admin, ana.pk)
    body = conforms(document, locked, "POST", LOCK)
    assert locked.status_code == 200 and body["status"] == "locked" and body["id"] == ana.pk
    assert body["_links"]["unlock"] == {"href": f"/api/v3/users/{ana.pk}/lock", "method": "delete",
                                        "title": "Unlock Ana Lopez"}
    assert "lock" not in body["_links"]
    assert not User.objects.get(pk=ana.pk).is_active
    assert_v3_error(ana_client.get("/api/v3/users/me"), 401, "Unauthenticated")
    unlocked = lock(admin, ana.pk, unlock=True)
    body = conforms(document, unlocked, "DELETE", LOCK)
    assert unlocked.status_code == 200 and body["status"] == "active"
    assert body["_links"]["lock"]["method"] == "post" and "unlock" not in body["_links"]
    assert ana_client.get("/api/v3/users/me").status_code == 200


def test_locking_a_locked_person_answers_them_unchanged(owner, ana):
    admin = v3_client(owner)
    lock(admin, ana.pk)
    again = lock(admin, ana.pk)
    assert again.status_code == 200 and again.json()["status"] == "locked"
    assert lock(v3_client(owner), owner.pk, unlock=True).json()["status"] == "active"


def test_a_non_admin_cannot_lock_anyone_nor_themself(document, ana, bob):
    for target in (bob, ana):
        before = state(target)
        answer = lock(v3_client(ana), target.pk)
        assert_v3_error(answer, 403, "MissingPermission")
        conforms(document, answer, "POST", LOCK)
        assert state(target) == before


def test_a_non_admin_cannot_unlock_anyone_and_is_not_told_they_exist(owner, ana, bob):
    lock(v3_client(owner), bob.pk)
    before = state(bob)
    assert_v3_error(lock(v3_client(ana), bob.pk, unlock=True), 404, "NotFound")
    assert state(bob) == before


def test_an_admin_cannot_lock_themself(document, owner, ana):
    user_set_workspace_role(actor=owner, user=ana, role=WorkspaceRole.ADMIN)
    answer = lock(v3_client(owner), owner.pk)
    assert_v3_error(answer, 400, "InvalidUserStatusTransition")
    conforms(document, answer, "POST", LOCK)
    assert User.objects.get(pk=owner.pk).is_active


def test_admins_see_lock_links_but_not_on_themselves(owner, ana):
    admin = v3_client(owner)
    assert admin.get(f"/api/v3/users/{ana.pk}").json()["_links"]["lock"] == {
        "href": f"/api/v3/users/{ana.pk}/lock", "method": "post", "title": "Lock Ana Lopez"}
    mine = admin.get("/api/v3/users/me").json()["_links"]
    assert "lock" not in mine and "unlock" not in mine
    assert "lock" not in v3_client(ana).get("/api/v3/users/me").json()["_links"]


def test_lock_of_an_unknown_person_is_404(owner):
    assert_v3_error(lock(v3_client(owner), 999999), 404, "NotFound")
    assert_v3_error(lock(v3_client(owner), "me"), 404, "NotFound")


def test_lock_needs_credentials_and_a_content_type(owner, ana):
    assert_v3_error(APIClient().post(f"/api/v3/users/{ana.pk}/lock", content_type="application/json"), 401,
                    "Unauthenticated")
    assert v3_client(owner).post(f"/api/v3/users/{ana.pk}/lock").status_code == 406
    assert User.objects.get(pk=ana.pk).is_active


# ---------------------------------------------------------------- DELETE /users/{id} stays refused

def test_deleting_a_user_is_refused_with_a_pointer_to_locking(owner, ana):
    answer = v3_client(owner).delete(f"/api/v3/users/{ana.pk}", content_type="application/json")
    body = assert_v3_error(answer, 403, "MissingPermission")
    assert "lock" in body["message"]
    assert User.objects.filter(pk=ana.pk, is_active=True).exists()
