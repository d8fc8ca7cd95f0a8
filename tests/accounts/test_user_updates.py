"""Changing people: ``user_update`` (login, e-mail, name, administration), ``user_set_active`` (locking) and
``user_preferences_update`` (time zone). Who may change what is tried as an attack that leaves the row as it
was; every refusal names its field; the workspace always keeps an active administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from keelplan.accounts.models import WorkspaceRole
from keelplan.accounts.services import (
    api_token_authenticate, api_token_create, user_create, user_preferences_update, user_set_active,
    user_set_workspace_role, user_update,
)
from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, PermissionDenied

from conftest import make_user, second_writer_outcome

pytestmark = pytest.mark.django_db
User = get_user_model()


def state(user) -> tuple:
    row = User.objects.get(pk=user.pk)
    return (row.username, row.email, row.full_name, row.first_name, row.last_name, row.workspace_role,
            row.is_staff, row.is_superuser, row.is_active, row.time_zone)


def user_events(user) -> list[tuple[str, dict]]:
    return list(ChangeEvent.objects.filter(entity="user", entity_id=user.pk).order_by("seq")
                .values_list("action", "changes"))


@pytest.fixture
def admin(db):
    return make_user("root", full_name="Rita Root", workspace_admin=True)


@pytest.fixture
def ada(db):
    return make_user("ada", full_name="Ada Lovelace", email="ada@example.com")


@pytest.fixture
def bob(db):
    return make_user("bob", full_name="Bob Stone")


# ---------------------------------------------------------------- user_update: what changes

def test_an_admin_changes_login_email_and_names(admin, ada):
    user = user_update(actor=admin, user=ada, username="ada.l", email="ada@math.org", first_name="Augusta Ada",
                       last_name="King")
    row = User.objects.get(pk=ada.pk)
    assert (row.username, row.email) == ("ada.l", "ada@math.org")
    assert (row.first_name, row.last_name, row.full_name) == ("Augusta Ada", "King", "Augusta Ada King")
    assert row.name_parts == ("Augusta Ada", "King") and user.display_name == "Augusta Ada King"


def test_one_name_part_keeps_the_other_from_the_full_name(ada):
    user_update(actor=ada, user=ada, last_name="King")
    row = User.objects.get(pk=ada.pk)
    assert (row.first_name, row.last_name, row.full_name) == ("Ada", "King", "Ada King")


def test_a_full_name_replaces_the_split(ada):
    user_update(actor=ada, user=ada, first_name="Augusta Ada")
    user_update(actor=ada, user=ada, full_name="Countess of Lovelace")
    row = User.objects.get(pk=ada.pk)
    assert (row.full_name, row.first_name, row.last_name) == ("Countess of Lovelace", "", "")
    assert row.name_parts == ("Countess", "of Lovelace")


def test_a_full_name_and_a_split_together_are_refused(ada):
    before = state(ada)
    with pytest.raises(InvalidInput) as exc:
        user_update(actor=ada, user=ada, full_name="A B", first_name="A")
    assert (exc.value.field, exc.value.code) == ("full_name", ErrorCode.NOT_ALLOWED)
    assert state(ada) == before


def test_a_change_is_logged_in_the_workspace_stream_and_no_change_is_not(admin, ada):
    user_update(actor=admin, user=ada, email="ada@example.com", full_name="Ada Lovelace")
    assert user_events(ada) == []
    user_update(actor=admin, user=ada, email="countess@example.com")
    assert user_events(ada) == [("updated", {"email": ["ada@example.com", "countess@example.com"]})]
    event = ChangeEvent.objects.get(entity="user", entity_id=ada.pk)
    assert event.stream.key == "workspace" and event.actor_id == admin.pk


def test_sending_back_the_values_one_has_is_no_change_even_for_a_non_admin(ada):
    before = state(ada)
    user = user_update(actor=ada, user=ada, username="ada", email="ada@example.com", first_name="Ada",
                       last_name="Lovelace", is_admin=False)
    assert user.pk == ada.pk and state(ada) == before and user_events(ada) == []


# ---------------------------------------------------------------- user_update: who changes what

def test_a_person_changes_their_own_name_and_email(ada):
    user_update(actor=ada, user=ada, email="new@example.com", first_name="Augusta")
    row = User.objects.get(pk=ada.pk)
    assert (row.email, row.full_name) == ("new@example.com", "Augusta Lovelace")


@pytest.mark.parametrize("fields", [{"username": "countess"}, {"is_admin": True},
                                    {"username": "countess", "email": "x@example.com"}])
def test_a_person_cannot_change_their_own_login_or_administration(ada, fields):
    before = state(ada)
    with pytest.raises(PermissionDenied):
        user_update(actor=ada, user=ada, **fields)
    assert state(ada) == before


@pytest.mark.parametrize("fields", [{"full_name": "Mallory"}, {"email": "bob@evil.example"}, {"is_admin": True},
                                    {"email": ""}, {}])
def test_a_non_admin_cannot_change_anyone_else(ada, bob, fields):
    before = state(bob)
    with pytest.raises(PermissionDenied):
        user_update(actor=ada, user=bob, **fields)
    assert state(bob) == before


def test_nobody_signed_out_changes_anyone(ada):
    before = state(ada)
    with pytest.raises(PermissionDenied):
        user_update(actor=None, user=ada, full_name="Ghost")
    assert state(ada) == before


# ---------------------------------------------------------------- user_update: refusals name the field

@pytest.mark.parametrize("fields, field, code", [
    ({"username": ""}, "username", ErrorCode.BLANK),
    ({"username": None}, "username", ErrorCode.NULL),
    ({"username": "has space"}, "username", ErrorCode.INVALID_FORMAT),
    ({"username": "a" * 151}, "username", ErrorCode.TOO_LONG),
    ({"username": 5}, "username", ErrorCode.INVALID_TYPE),
    ({"email": "not-an-address"}, "email", ErrorCode.INVALID_FORMAT),
    ({"email": "a" * 250 + "@x.org"}, "email", ErrorCode.TOO_LONG),
    ({"first_name": "a" * 128}, "first_name", ErrorCode.TOO_LONG),
    ({"last_name": "a" * 128}, "last_name", ErrorCode.TOO_LONG),
    ({"full_name": "a" * 256}, "full_name", ErrorCode.TOO_LONG),
    ({"full_name": "nul\x00"}, "full_name", ErrorCode.INVALID),
    ({"is_admin": "yes"}, "is_admin", ErrorCode.INVALID_TYPE),
    ({"password": "new-password-1"}, "password", ErrorCode.UNKNOWN_FIELD),
])
def test_bad_values_are_refused_naming_the_field(admin, ada, fields, field, code):
    before = state(ada)
    with pytest.raises(InvalidInput) as exc:
        user_update(actor=admin, user=ada, **fields)
    assert (exc.value.field, exc.value.code) == (field, code)
    assert state(ada) == before


def test_names_of_127_characters_fit(ada):
    user_update(actor=ada, user=ada, first_name="a" * 127, last_name="b" * 127)
    assert len(User.objects.get(pk=ada.pk).full_name) == 255


@pytest.mark.parametrize("login", ["bob", "BOB", "Bob"])
def test_a_login_someone_holds_in_any_case_is_refused(admin, ada, bob, login):
    before = state(ada)
    with pytest.raises(Conflict) as exc:
        user_update(actor=admin, user=ada, username=login)
    assert (exc.value.field, exc.value.code) == ("username", ErrorCode.DUPLICATE_USER)
    assert state(ada) == before


def test_a_person_may_change_the_case_of_their_own_login(admin, ada):
    user_update(actor=admin, user=ada, username="Ada")
    assert User.objects.get(pk=ada.pk).username == "Ada"


def test_new_people_may_not_take_a_login_in_another_case(ada):
    with pytest.raises(Conflict) as exc:
        user_create(username="ADA", password="long-enough-1")
    assert exc.value.code == ErrorCode.DUPLICATE_USER
    assert User.objects.filter(username__iexact="ada").count() == 1


def test_the_database_refuses_logins_differing_only_in_case(ada):
    """The rule holds even for a write that skips the services (or races past their check)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ADA")


# ---------------------------------------------------------------- administration

def test_an_admin_promotes_and_demotes_through_the_workspace_role(admin, ada):
    user_update(actor=admin, user=ada, is_admin=True)
    row = User.objects.get(pk=ada.pk)
    assert row.workspace_role == WorkspaceRole.ADMIN and row.is_workspace_admin and row.is_superuser
    user_update(actor=admin, user=ada, is_admin=False)
    row = User.objects.get(pk=ada.pk)
    assert row.workspace_role == WorkspaceRole.USER and not row.is_workspace_admin
    assert (row.is_staff, row.is_superuser) == (False, False)
    assert [changes["workspace_role"] for _, changes in user_events(ada)] == [[1, 300], [300, 1]]


def test_an_admin_made_at_creation_can_be_made_an_ordinary_user(admin):
    """``user_create(is_admin=True)`` makes a Django superuser too, which alone counts as an administrator."""
    boss = user_create(username="boss", password="long-enough-1", is_admin=True)
    user_set_workspace_role(actor=admin, user=boss, role=WorkspaceRole.USER)
    assert not User.objects.get(pk=boss.pk).is_workspace_admin


def test_the_last_admin_cannot_step_down_and_nothing_else_is_written(admin):
    before = state(admin)
    with pytest.raises(InvalidInput) as exc:
        user_update(actor=admin, user=admin, is_admin=False, email="new@example.com", full_name="Someone")
    assert (exc.value.field, exc.value.code) == ("workspace_role", ErrorCode.LAST_WORKSPACE_ADMIN)
    assert state(admin) == before and user_events(admin) == []


def test_an_admin_may_step_down_while_another_remains(admin, ada):
    user_set_workspace_role(actor=admin, user=ada, role=WorkspaceRole.ADMIN)
    user_update(actor=admin, user=admin, is_admin=False)
    assert not User.objects.get(pk=admin.pk).is_workspace_admin


def test_two_admins_demoting_each_other_leave_one(admin, ada):
    """The second demotion is written by an actor whose own demotion has just committed (what two requests at
    once amount to once the administrators' rows are locked): it is refused."""
    user_set_workspace_role(actor=admin, user=ada, role=WorkspaceRole.ADMIN)
    stale_ada = User.objects.get(pk=ada.pk)
    user_update(actor=admin, user=ada, is_admin=False)
    with pytest.raises(InvalidInput) as exc:
        user_update(actor=stale_ada, user=admin, is_admin=False)
    assert exc.value.code == ErrorCode.LAST_WORKSPACE_ADMIN
    assert User.objects.get(pk=admin.pk).is_workspace_admin


# ---------------------------------------------------------------- locking

def test_an_admin_locks_and_unlocks_an_account_and_its_tokens_follow(admin, ada):
    _, raw = api_token_create(user=ada)
    user = user_set_active(actor=admin, user=ada, active=False)
    assert not user.is_active and not User.objects.get(pk=ada.pk).is_active
    assert api_token_authenticate(raw) is None
    user_set_active(actor=admin, user=ada, active=True)
    assert User.objects.get(pk=ada.pk).is_active and api_token_authenticate(raw) is not None
    assert [changes for _, changes in user_events(ada)] == [{"is_active": [True, False]},
                                                            {"is_active": [False, True]}]


def test_locking_twice_changes_nothing_the_second_time(admin, ada):
    user_set_active(actor=admin, user=ada, active=False)
    user_set_active(actor=admin, user=ada, active=False)
    assert len(user_events(ada)) == 1


@pytest.mark.parametrize("active", [False, True])
def test_a_non_admin_cannot_lock_or_unlock_anyone(ada, bob, admin, active):
    if active:
        user_set_active(actor=admin, user=bob, active=False)
    before = state(bob)
    with pytest.raises(PermissionDenied):
        user_set_active(actor=ada, user=bob, active=active)
    assert state(bob) == before


def test_a_non_admin_cannot_lock_themself(ada):
    with pytest.raises(PermissionDenied):
        user_set_active(actor=ada, user=ada, active=False)
    assert User.objects.get(pk=ada.pk).is_active


def test_an_admin_cannot_lock_themself_out(admin, ada):
    user_set_workspace_role(actor=admin, user=ada, role=WorkspaceRole.ADMIN)
    with pytest.raises(InvalidInput) as exc:
        user_set_active(actor=admin, user=admin, active=False)
    assert (exc.value.field, exc.value.code) == ("is_active", ErrorCode.NOT_ALLOWED)
    assert User.objects.get(pk=admin.pk).is_active


def test_two_admins_locking_each_other_leave_one(admin, ada):
    user_set_workspace_role(actor=admin, user=ada, role=WorkspaceRole.ADMIN)
    stale_ada = User.objects.get(pk=ada.pk)
    user_set_active(actor=admin, user=ada, active=False)
    with pytest.raises(InvalidInput) as exc:
        user_set_active(actor=stale_ada, user=admin, active=False)
    assert (exc.value.field, exc.value.code) == ("is_active", ErrorCode.LAST_WORKSPACE_ADMIN)
    assert User.objects.get(pk=admin.pk).is_active


@pytest.mark.django_db(transaction=True)
def test_two_admins_locking_each_other_at_once_leave_one():
    """Two requests at once: the second waits for the first's locks on the administrators' rows, then sees the
    first's administrator locked and refuses. (SQLite runs one writer at a time, so only PostgreSQL can race.)"""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL runs two writers at once")
    a, b = make_user("a", workspace_admin=True), make_user("b", workspace_admin=True)
    outcome = second_writer_outcome(lambda: user_set_active(actor=a, user=b, active=False),
                                    lambda: user_set_active(actor=b, user=a, active=False), refused=(InvalidInput,))
    assert outcome == ("is_active", ErrorCode.LAST_WORKSPACE_ADMIN)
    assert list(User.objects.filter(is_active=True, pk__in=[a.pk, b.pk]).values_list("pk", flat=True)) == [a.pk]


def test_a_locked_admin_is_not_counted_and_may_be_demoted(admin, ada):
    user_set_workspace_role(actor=admin, user=ada, role=WorkspaceRole.ADMIN)
    user_set_active(actor=admin, user=ada, active=False)
    user_set_workspace_role(actor=admin, user=ada, role=WorkspaceRole.USER)
    assert not User.objects.get(pk=ada.pk).has_admin_role
    with pytest.raises(InvalidInput):
        user_set_workspace_role(actor=admin, user=admin, role=WorkspaceRole.USER)


# ---------------------------------------------------------------- preferences

def test_a_person_sets_and_clears_their_time_zone(ada):
    user_preferences_update(actor=ada, user=ada, time_zone="Europe/Berlin")
    assert User.objects.get(pk=ada.pk).time_zone == "Europe/Berlin"
    assert user_events(ada) == [("updated", {"time_zone": ["", "Europe/Berlin"]})]
    user_preferences_update(actor=ada, user=ada, time_zone=None)
    assert User.objects.get(pk=ada.pk).time_zone == ""


def test_an_admin_sets_anyones_time_zone(admin, ada):
    user_preferences_update(actor=admin, user=ada, time_zone="UTC")
    assert User.objects.get(pk=ada.pk).time_zone == "UTC"


def test_a_person_cannot_set_someone_elses_preferences(ada, bob):
    with pytest.raises(PermissionDenied):
        user_preferences_update(actor=ada, user=bob, time_zone="Asia/Tokyo")
    assert User.objects.get(pk=bob.pk).time_zone == ""


@pytest.mark.parametrize("zone, code", [("Mars/Olympus", ErrorCode.INVALID_CHOICE),
                                        ("europe/berlin", ErrorCode.INVALID_CHOICE),
                                        ("a" * 65, ErrorCode.TOO_LONG), (7, ErrorCode.INVALID_TYPE)])
def test_an_unknown_time_zone_is_refused(ada, zone, code):
    user_preferences_update(actor=ada, user=ada, time_zone="Europe/Paris")
    with pytest.raises(InvalidInput) as exc:
        user_preferences_update(actor=ada, user=ada, time_zone=zone)
    assert (exc.value.field, exc.value.code) == ("time_zone", code)
    assert User.objects.get(pk=ada.pk).time_zone == "Europe/Paris"
