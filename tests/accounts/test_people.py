"""People an administrator adds (Beebole's ``person.create``), their kind, their team leaders and their custom
field values; deleting a group still in use; who reads whom. Refusals are attacks: the data is unchanged."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from keelplan.accounts.models import Group, GroupMember, PersonKind
from keelplan.accounts.selectors import users_visible
from keelplan.accounts.services import (
    group_create, group_delete, group_member_add, person_create, user_custom_values_set, user_leaders_set,
    user_set_active, user_update,
)
from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, PermissionDenied
from keelplan.customfields.models import AppliesTo, CustomValue
from keelplan.customfields.services import custom_field_create, custom_values_read
from keelplan.portfolio.categories import group_assign, groups_assigned
from keelplan.portfolio.models import Membership
from keelplan.portfolio.reference import company_create
from keelplan.portfolio.services import membership_add
from conftest import make_project, make_user

User = get_user_model()
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return make_user("boss", workspace_admin=True)


@pytest.fixture
def ada(db):
    return make_user("ada", full_name="Ada Lovelace")


def test_an_administrator_adds_a_person_who_has_no_password(admin):
    person = person_create(actor=admin, full_name="John Le Carré", email="jlc@example.com", kind=PersonKind.CONTRACTOR)
    person.refresh_from_db()
    assert (person.full_name, person.email, person.kind, person.username) == (
        "John Le Carré", "jlc@example.com", "contractor", "jlc@example.com")
    assert not person.has_usable_password() and person.is_active and not person.has_admin_role
    event = ChangeEvent.objects.filter(entity="user", entity_id=person.pk).get()
    assert event.action == "created"


def test_logins_are_made_from_the_name_and_never_taken_twice(admin):
    first = person_create(actor=admin, full_name="John Smith")
    second = person_create(actor=admin, full_name="john smith")
    assert first.username == "John.Smith"
    assert second.username == "john.smith.2"


def test_an_administrator_may_add_an_administrator(admin):
    person = person_create(actor=admin, full_name="Deputy", is_admin=True)
    assert person.is_workspace_admin


@pytest.mark.parametrize("actor_name", ["plain", "anonymous"])
def test_only_administrators_add_people(ada, actor_name):
    actor = ada if actor_name == "plain" else None
    before = User.objects.count()
    with pytest.raises(PermissionDenied):
        person_create(actor=actor, full_name="Intruder")
    assert User.objects.count() == before


@pytest.mark.parametrize("fields, field, code", [
    ({"full_name": ""}, "full_name", ErrorCode.BLANK),
    ({"full_name": "x" * 256}, "full_name", ErrorCode.TOO_LONG),
    ({"full_name": "X", "email": "not an address"}, "email", ErrorCode.INVALID_FORMAT),
    ({"full_name": "X", "kind": "boss"}, "kind", ErrorCode.INVALID_CHOICE),
    ({"full_name": "X", "username": "bad login!"}, "username", ErrorCode.INVALID_FORMAT),
])
def test_bad_people_are_refused_naming_the_field(admin, fields, field, code):
    before = User.objects.count()
    with pytest.raises(InvalidInput) as caught:
        person_create(actor=admin, **fields)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert User.objects.count() == before


def test_a_taken_login_is_refused(admin, ada):
    with pytest.raises(Conflict):
        person_create(actor=admin, full_name="Other Ada", username="ADA")


def test_leaders_are_replaced_as_a_whole_and_logged(admin, ada):
    bob, cy = make_user("bob"), make_user("cy")
    user_leaders_set(actor=admin, user=ada, leaders=[bob, cy, bob])
    assert set(ada.leaders.values_list("username", flat=True)) == {"bob", "cy"}
    assert set(bob.team.values_list("username", flat=True)) == {"ada"}
    user_leaders_set(actor=admin, user=ada, leaders=[cy])
    assert list(ada.leaders.values_list("username", flat=True)) == ["cy"]
    payloads = [e.changes for e in ChangeEvent.objects.filter(entity="user", entity_id=ada.pk).order_by("seq")]
    assert [p["leaders"] for p in payloads] == [[[], sorted([bob.pk, cy.pk])], [sorted([bob.pk, cy.pk]), [cy.pk]]]


def test_no_one_leads_themself_nor_is_led_by_a_locked_account(admin, ada):
    bob = make_user("bob")
    user_set_active(actor=admin, user=bob, active=False)
    with pytest.raises(InvalidInput) as caught:
        user_leaders_set(actor=admin, user=ada, leaders=[ada])
    assert (caught.value.field, caught.value.code) == ("leaders[0]", ErrorCode.NOT_ALLOWED)
    with pytest.raises(InvalidInput) as caught:
        user_leaders_set(actor=admin, user=ada, leaders=[bob])
    assert caught.value.code == ErrorCode.INVALID_REFERENCE
    assert not ada.leaders.exists()


def test_only_administrators_set_leaders(ada):
    bob = make_user("bob")
    with pytest.raises(PermissionDenied):
        user_leaders_set(actor=ada, user=ada, leaders=[bob])
    assert not ada.leaders.exists()


def test_a_persons_kind_is_changed_by_administrators_only(admin, ada):
    with pytest.raises(PermissionDenied):
        user_update(actor=ada, user=ada, kind=PersonKind.PROJECT_MANAGER)
    ada.refresh_from_db()
    assert ada.kind == PersonKind.EMPLOYEE
    user_update(actor=admin, user=ada, kind=PersonKind.PROJECT_MANAGER)
    ada.refresh_from_db()
    assert ada.kind == "pm"


def test_person_custom_values_are_set_by_administrators(admin, ada):
    field = custom_field_create(actor=admin, name="Location", applies_to=AppliesTo.PERSON, format="string")
    with pytest.raises(PermissionDenied):
        user_custom_values_set(actor=ada, user=ada, values={field.pk: "Paris"})
    assert not CustomValue.objects.exists()
    user_custom_values_set(actor=admin, user=ada, values={field.pk: "Paris"})
    assert custom_values_read(AppliesTo.PERSON, [ada.pk]) == {ada.pk: {field.pk: "Paris"}}
    user_custom_values_set(actor=admin, user=ada, values={field.pk: None})
    assert custom_values_read(AppliesTo.PERSON, [ada.pk]) == {ada.pk: {}}


def test_a_group_in_use_is_deleted_only_when_forced(admin, ada):
    crew = group_create(actor=admin, name="Crew")
    group_member_add(actor=admin, group=crew, user=ada)
    project = make_project(admin, "Reach")
    membership_add(actor=admin, project=project, group=crew)
    company = company_create(actor=admin, name="Acme")
    group_assign(actor=admin, group=crew, target=company)
    with pytest.raises(Conflict) as caught:
        group_delete(actor=admin, group=crew, force=False)
    assert caught.value.params["reference_count"] == 3
    assert Group.objects.filter(pk=crew.pk).exists()
    assert Membership.objects.filter(group=crew).exists()
    group_delete(actor=admin, group=crew, force=True)
    assert not Group.objects.filter(pk=crew.pk).exists()
    assert not Membership.objects.filter(group=crew).exists()
    assert groups_assigned(company) == []
    assert GroupMember.objects.filter(group=crew).exists()  # the people stay in the deleted group's history


def test_an_unused_group_is_deleted_without_force(admin):
    crew = group_create(actor=admin, name="Crew")
    group_delete(actor=admin, group=crew, force=False)
    assert not Group.objects.filter(pk=crew.pk).exists()


def test_who_reads_whom(admin, ada):
    locked = make_user("locked")
    user_set_active(actor=admin, user=locked, active=False)
    assert set(users_visible(actor=admin)) >= {admin, ada, locked}
    assert locked not in set(users_visible(actor=ada)) and ada in set(users_visible(actor=ada))
    assert not users_visible(actor=None).exists()
