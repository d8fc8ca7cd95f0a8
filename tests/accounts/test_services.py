"""People and API tokens: usernames and passwords are validated; tokens exist at rest only as digests, are
shown once, and stop working when revoked, expired or their owner is deactivated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from keelplan.accounts.models import ApiToken, token_digest
from keelplan.accounts.services import api_token_authenticate, api_token_create, api_token_revoke, user_create
from keelplan.core.errors import Conflict, InvalidInput

from conftest import make_user

pytestmark = pytest.mark.django_db
User = get_user_model()




@pytest.fixture
def person():
    return make_user("ada", full_name="Ada Lovelace")


def all_stored_text() -> str:
    """Every value of every column of the token and user tables, as the database holds them."""
    with connection.cursor() as cursor:
        chunks = []
        for table in (ApiToken._meta.db_table, User._meta.db_table):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks += [str(value) for row in cursor.fetchall() for value in row]
    return "\n".join(chunks)


# ---------------------------------------------------------------- tokens

def test_a_token_is_stored_only_as_its_digest(person):
    token, raw = api_token_create(user=person, name="ci")
    assert raw.startswith(ApiToken.PREFIX) and len(raw) > 40
    assert raw not in all_stored_text()
    assert raw[len(ApiToken.PREFIX):] not in all_stored_text()
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == token_digest(raw) != raw
    assert raw.startswith(stored.hint) and len(stored.hint) < len(raw) // 3


def test_the_raw_token_is_shown_once(person):
    token, raw = api_token_create(user=person)
    reloaded = ApiToken.objects.get(pk=token.pk)
    assert all(raw != getattr(reloaded, f.attname) for f in ApiToken._meta.concrete_fields)
    second, raw2 = api_token_create(user=person)
    assert raw2 != raw and second.digest != token.digest


def test_a_token_authenticates_its_user(person):
    token, raw = api_token_create(user=person)
    found = api_token_authenticate(raw)
    assert found.pk == token.pk and found.user == person
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.parametrize("raw", ["", "kp_", "kp_wrong", "not-a-token"])
def test_unknown_tokens_do_not_authenticate(person, raw):
    api_token_create(user=person)
    assert api_token_authenticate(raw) is None


def test_a_revoked_token_stops_working(person):
    token, raw = api_token_create(user=person)
    api_token_revoke(token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert api_token_authenticate(raw) is None


def test_revoking_one_token_keeps_the_others(person):
    first, raw1 = api_token_create(user=person)
    _, raw2 = api_token_create(user=person)
    api_token_revoke(token=first)
    assert api_token_authenticate(raw1) is None
    assert api_token_authenticate(raw2) is not None


def test_an_expired_token_stops_working(person):
    _, expired = api_token_create(user=person, expires_at=timezone.now() - dt.timedelta(seconds=1))
    _, current = api_token_create(user=person, expires_at=timezone.now() + dt.timedelta(days=1))
    assert api_token_authenticate(expired) is None
    assert api_token_authenticate(current) is not None


def test_a_deactivated_users_tokens_stop_working(person):
    _, raw = api_token_create(user=person)
    person.is_active = False
    person.save()
    assert api_token_authenticate(raw) is None


def test_use_is_recorded_at_most_once_a_minute(person):
    token, raw = api_token_create(user=person)
    api_token_authenticate(raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    api_token_authenticate(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    api_token_authenticate(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - dt.timedelta(minutes=2)


def test_tokens_work_over_the_v1_api_until_revoked(person):
    from rest_framework.test import APIClient

    token, raw = api_token_create(user=person)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "ada"
    api_token_revoke(token=token)
    assert client.get("/api/v1/users/me/").status_code == 401


# ---------------------------------------------------------------- people

def test_a_user_is_created_with_a_hashed_password():
    user = user_create(username="grace", password="long-enough-1", full_name="Grace Hopper")
    assert user.check_password("long-enough-1")
    assert "long-enough-1" not in all_stored_text()
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert user.display_name == "Grace Hopper"


def test_an_admin_is_staff_and_superuser():
    user = user_create(username="root", password="long-enough-1", is_admin=True)
    assert (user.is_staff, user.is_superuser) == (True, True)


@pytest.mark.parametrize("username", ["", "   ", "has space", "semi;colon", "slash/name", "a" * 151])
def test_bad_usernames_are_refused(username):
    with pytest.raises(InvalidInput) as exc:
        user_create(username=username, password="long-enough-1")
    assert exc.value.field == "username"
    assert not User.objects.exists()


@pytest.mark.parametrize("username", ["ada.l", "ada_l", "ada-l", "ada+l", "ada@example.org", "Ω"])
def test_usual_usernames_are_accepted(username):
    assert user_create(username=username, password="long-enough-1").username == username


def test_usernames_are_trimmed():
    assert user_create(username="  ada  ", password="long-enough-1").username == "ada"


def test_duplicate_usernames_conflict(person):
    with pytest.raises(Conflict) as exc:
        user_create(username="ada", password="long-enough-1")
    assert exc.value.code == "duplicate_user"
    assert User.objects.filter(username="ada").count() == 1


@pytest.mark.parametrize("password", ["", "short", "1234567"])
def test_passwords_need_eight_characters(password):
    with pytest.raises(InvalidInput) as exc:
        user_create(username="grace", password=password)
    assert exc.value.field == "password"
    assert not User.objects.filter(username="grace").exists()


def test_eight_characters_are_enough():
    assert user_create(username="grace", password="12345678").check_password("12345678")
