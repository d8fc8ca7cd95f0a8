"""``person.*`` through ``POST /api/v2``: a person is a user of one company. Each service's request and reply
shapes, the rows each writes (the user, their company affiliation, kind, leaders, workspace administration,
groups and custom values), and who may: workspace administrators write people, anyone signed in reads the active
ones, and an e-mail address is shown only to administrators and to its owner."""

from __future__ import annotations

import pytest

from keelplan.accounts.models import GroupMember, PersonKind, User, WorkspaceRole
from keelplan.customfields.models import CustomValue
from keelplan.customfields.services import custom_field_create
from keelplan.portfolio.models import Affiliation
from tests.api.beebole.conftest import Beebole
from tests.api.beebole.workspace_rows import failed, refused
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PERSON_KEYS = {"id", "name", "company", "active", "email", "userGroup", "leaders"}


@pytest.fixture
def company(bb) -> int:
    return bb.call("company.create", company={"name": "Acme Corp", "corporate": True})["id"]


@pytest.fixture
def john(bb, company) -> User:
    pk = bb.call("person.create", person={"name": "John Le Carré", "company": {"id": company},
                                          "email": "jlc@example.com"})["id"]
    return User.objects.get(pk=pk)


@pytest.fixture
def reader(outsider) -> Beebole:
    """Someone signed in who is no workspace administrator."""
    return Beebole(outsider)


# ---------------------------------------------------------------- create


def test_create_makes_a_user_of_the_company(bb, company):
    reply = bb.call("person.create", person={"name": "John Le Carré", "company": {"id": company},
                                             "email": "jlc@example.com"})
    assert set(reply) == {"status", "id"} and type(reply["id"]) is int
    user = User.objects.get(pk=reply["id"])
    assert (user.full_name, user.email, user.kind, user.workspace_role, user.is_active) == (
        "John Le Carré", "jlc@example.com", PersonKind.EMPLOYEE, WorkspaceRole.USER, True)
    assert not user.has_usable_password()
    assert Affiliation.objects.get(user=user).company_id == company


def test_create_with_a_kind_and_leaders_by_id_email_and_name(bb, company, john):
    lea = make_user("lea", full_name="Lea Leader", email="lea@example.com")
    leo = make_user("leo", full_name="Leo Lead")
    reply = bb.call("person.create", person={
        "name": "Carl Contractor", "company": {"id": company}, "userGroup": "contractor",
        "leaders": [{"id": john.pk}, {"email": "LEA@example.com"}, {"name": "leo lead"}]})
    user = User.objects.get(pk=reply["id"])
    assert user.kind == PersonKind.CONTRACTOR
    assert sorted(user.leaders.values_list("pk", flat=True)) == sorted([john.pk, lea.pk, leo.pk])


def test_create_an_administrator(bb, company):
    pk = bb.call("person.create", person={"name": "Ada Admin", "company": {"id": company}, "userGroup": "admin"})["id"]
    user = User.objects.get(pk=pk)
    assert user.workspace_role == WorkspaceRole.ADMIN and user.is_workspace_admin
    assert bb.call("person.get", id=pk)["person"]["userGroup"] == "admin"


def test_create_from_an_unwrapped_body(bb, company):
    pk = bb.call("person.create", name="Una Wrapped", company={"id": company})["id"]
    assert User.objects.get(pk=pk).full_name == "Una Wrapped"


@pytest.mark.parametrize(("person", "message"), [
    ({"name": "X"}, "Missing field: person.company."),
    ({"company": {"id": "COMPANY"}}, "Missing field: person.name."),
    ({"name": "X", "company": {"id": 987654}}, "Unknown company: no company with id 987654 (person.company)."),
    ({"name": "X", "company": {"id": "COMPANY"}, "userGroup": "boss"},
     "Invalid field person.userGroup: must be one of admin, employee, contractor, pm, leader."),
    ({"name": "X", "company": {"id": "COMPANY"}, "leaders": [{"email": "nobody@example.com"}]},
     "Unknown person: no person with email 'nobody@example.com' (person.leaders[0].email)."),
    ({"name": "X", "company": {"id": "COMPANY"}, "leaders": [{}]},
     "Missing field: person.leaders[0].id (or email or name)."),
])
def test_create_refusals_name_the_field_and_add_no_one(bb, company, person, message):
    if person.get("company", {}).get("id") == "COMPANY":
        person = {**person, "company": {"id": company}}
    assert failed(bb, "person.create", person=person) == message


# ---------------------------------------------------------------- get, list, leaders


def test_get_answers_the_documented_fields(bb, company, john):
    lea = make_user("lea", full_name="Lea Leader")
    bb.call("person.update", person={"id": john.pk, "leaders": [{"id": lea.pk}]})
    reply = bb.call("person.get", id=john.pk)
    assert set(reply) == {"status", "person"}
    assert reply["person"] == {"id": john.pk, "name": "John Le Carré", "company": {"id": company}, "active": True,
                               "email": "jlc@example.com", "userGroup": "employee", "leaders": {"count": 1}}


def test_list_answers_the_people_of_a_company(bb, company, john):
    other = bb.call("company.create", company={"name": "Globex"})["id"]
    bb.call("person.create", person={"name": "Gus", "company": {"id": other}})
    reply = bb.call("person.list", company={"id": company})
    assert set(reply) == {"status", "people"}
    assert [p["id"] for p in reply["people"]] == [john.pk]
    assert set(reply["people"][0]) == PERSON_KEYS


def test_leaders_lists_the_people_one_reports_to(bb, company, john):
    lea = make_user("lea", full_name="Lea Leader")
    leo = make_user("leo", full_name="Leo Lead")
    bb.call("person.update", person={"id": john.pk, "leaders": [{"id": leo.pk}, {"id": lea.pk}]})
    reply = bb.call("person.leaders", id=john.pk)
    assert set(reply) == {"status", "leaders"}
    assert [p["id"] for p in reply["leaders"]] == sorted([lea.pk, leo.pk])
    assert all(set(p) == PERSON_KEYS for p in reply["leaders"])
    assert bb.call("person.leaders", id=lea.pk)["leaders"] == []


def test_emails_are_hidden_from_others_but_not_from_their_owner(bb, company, john, outsider, reader):
    outsider.email = "out@example.com"
    outsider.save(update_fields=["email"])
    bb.call("person.update", person={"id": outsider.pk, "leaders": [{"id": john.pk}]})
    assert reader.call("person.get", id=john.pk)["person"]["email"] == ""
    assert reader.call("person.get", id=outsider.pk)["person"]["email"] == "out@example.com"
    assert [p["email"] for p in reader.call("person.list", company={"id": company})["people"]] == [""]
    assert [p["email"] for p in reader.call("person.leaders", id=outsider.pk)["leaders"]] == [""]
    assert {p["id"]: p["email"] for p in reader.call("person.list")["people"]}[outsider.pk] == "out@example.com"
    assert bb.call("person.get", id=john.pk)["person"]["email"] == "jlc@example.com"


def test_locked_people_are_unknown_to_anyone_but_administrators(bb, company, john, reader):
    bb.call("person.deactivate", id=john.pk)
    assert failed(reader, "person.get", id=john.pk) == f"Unknown person: no person with id {john.pk} (id)."
    assert reader.call("person.list", company={"id": company})["people"] == []
    assert bb.call("person.get", id=john.pk)["person"]["active"] is False


# ---------------------------------------------------------------- update


def test_update_changes_name_email_kind_company_and_leaders(bb, company, john):
    other = bb.call("company.create", company={"name": "Globex"})["id"]
    lea = make_user("lea")
    assert bb.call("person.update", person={
        "id": john.pk, "name": "David Cornwell", "email": "dc@example.com", "userGroup": "pm",
        "company": {"id": other}, "leaders": [{"id": lea.pk}]}) == {"status": "ok"}
    john.refresh_from_db()
    assert (john.full_name, john.email, john.kind) == ("David Cornwell", "dc@example.com", PersonKind.PROJECT_MANAGER)
    assert Affiliation.objects.get(user=john).company_id == other
    assert list(john.leaders.values_list("pk", flat=True)) == [lea.pk]
    bb.call("person.update", person={"id": john.pk, "leaders": []})
    assert not john.leaders.exists()


def test_update_usergroup_admin_makes_a_workspace_administrator_and_back(bb, john):
    bb.call("person.update", person={"id": john.pk, "userGroup": "admin"})
    john.refresh_from_db()
    assert john.workspace_role == WorkspaceRole.ADMIN and john.is_workspace_admin
    assert Beebole(john).call("company.create", company={"name": "By John"})["id"]
    bb.call("person.update", person={"id": john.pk, "userGroup": "leader"})
    john.refresh_from_db()
    assert (john.workspace_role, john.is_workspace_admin, john.kind) == (
        WorkspaceRole.USER, False, PersonKind.TEAM_LEADER)
    refused(Beebole(john), "company.create", company={"name": "Again"})


def test_the_last_administrator_cannot_be_demoted(bb, owner):
    message = failed(bb, "person.update", person={"id": owner.pk, "userGroup": "employee"})
    assert message == "person.userGroup: The workspace needs at least one administrator."
    owner.refresh_from_db()
    assert owner.is_workspace_admin


def test_a_person_may_not_lead_themself(bb, john):
    message = failed(bb, "person.update", person={"id": john.pk, "leaders": [{"id": john.pk}]})
    assert message == "person.leaders[0]: A person cannot be their own leader."


def test_anyone_changes_their_own_name_but_nothing_else(bb, john, outsider, reader):
    assert reader.call("person.update", person={"id": outsider.pk, "name": "Otto Outsider"}) == {"status": "ok"}
    outsider.refresh_from_db()
    assert outsider.full_name == "Otto Outsider"
    refused(reader, "person.update", person={"id": outsider.pk, "userGroup": "admin"})
    refused(reader, "person.update", person={"id": outsider.pk, "userGroup": "pm"})
    refused(reader, "person.update", person={"id": outsider.pk, "leaders": [{"id": john.pk}]})
    refused(reader, "person.update", person={"id": outsider.pk, "company": {"id": john.affiliation.company_id}})


# ---------------------------------------------------------------- activate, deactivate


def test_activate_and_deactivate(bb, john):
    assert bb.call("person.deactivate", id=john.pk) == {"status": "ok"}
    john.refresh_from_db()
    assert john.is_active is False
    assert bb.call("person.activate", id=john.pk) == {"status": "ok"}
    john.refresh_from_db()
    assert john.is_active is True


def test_no_one_locks_their_own_account(bb, owner):
    assert failed(bb, "person.deactivate", id=owner.pk) == "person.active: You cannot lock your own account."


# ---------------------------------------------------------------- groups


def test_add_group_remove_group_and_groups(bb, john):
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    bb.call("group.create", group={"name": "Night shift", "parent": {"id": crew}})
    assert bb.call("person.add_group", id=john.pk, group={"id": crew}) == {"status": "ok"}
    assert GroupMember.objects.filter(group_id=crew, user=john).exists()
    assert bb.call("person.groups", id=john.pk) == {"status": "ok", "groups": [
        {"id": crew, "name": "Crew", "groups": {"count": 1}}]}
    failed(bb, "person.add_group", id=john.pk, group={"id": crew})
    assert bb.call("person.remove_group", id=john.pk, group={"id": crew}) == {"status": "ok"}
    assert not GroupMember.objects.filter(group_id=crew).exists()
    assert bb.call("person.groups", id=john.pk)["groups"] == []


# ---------------------------------------------------------------- custom fields


@pytest.fixture
def fields(owner):
    return (custom_field_create(actor=owner, name="Badge", applies_to="person", format="string"),
            custom_field_create(actor=owner, name="Site", applies_to="person", format="list",
                                options=["Lyon", "Paris"]))


def test_custom_fields_set_list_and_clear(bb, john, fields):
    badge, site = fields
    assert bb.call("person.custom_fields", id=john.pk) == {"status": "ok", "customFields": [
        {"id": badge.pk, "name": "Badge", "availableFor": "Person"},
        {"id": site.pk, "name": "Site", "availableFor": "Person"},
    ]}
    assert bb.call("person.set_custom_field_value", id=john.pk,
                   customField={"id": badge.pk, "value": "B-12"}) == {"status": "ok"}
    bb.call("person.set_custom_field_value", id=john.pk, customField={"id": site.pk, "value": "Paris"})
    stored = CustomValue.objects.get(custom_field=site, entity="person", object_id=john.pk)
    assert stored.value == str(site.options.get(value="Paris").pk)
    assert [f.get("value") for f in bb.call("person.custom_fields", id=john.pk)["customFields"]] == ["B-12", "Paris"]
    assert bb.call("person.clear_custom_field_value", id=john.pk, customField={"id": badge.pk}) == {"status": "ok"}
    assert [f.get("value") for f in bb.call("person.custom_fields", id=john.pk)["customFields"]] == [None, "Paris"]
    assert failed(bb, "person.set_custom_field_value", id=john.pk, customField={"id": site.pk, "value": "Rome"}) == (
        "Invalid field customField.value: 'Rome' is not one of 'Lyon', 'Paris'.")


def test_custom_field_list_names_person_fields(reader, fields):
    badge, site = fields
    assert reader.call("custom_field.list")["customFields"] == [
        {"id": badge.pk, "name": "Badge", "availableFor": "Person"},
        {"id": site.pk, "name": "Site", "availableFor": "Person"},
    ]


# ---------------------------------------------------------------- who may


def test_anyone_signed_in_reads_people(bb, john, reader, fields):
    bb.call("person.set_custom_field_value", id=john.pk, customField={"id": fields[0].pk, "value": "B-12"})
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    bb.call("person.add_group", id=john.pk, group={"id": crew})
    for service in ("person.get", "person.leaders", "person.groups", "person.custom_fields"):
        assert reader.call(service, id=john.pk)["status"] == "ok", service
    assert reader.call("person.custom_fields", id=john.pk) == bb.call("person.custom_fields", id=john.pk)
    assert reader.call("person.groups", id=john.pk) == bb.call("person.groups", id=john.pk)


@pytest.fixture
def attack(bb, company, john, fields):
    """What each write would send about ``john`` (in a group, with a custom value)."""
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    crew2 = bb.call("group.create", group={"name": "Crew 2"})["id"]
    bb.call("person.add_group", id=john.pk, group={"id": crew})
    bb.call("person.set_custom_field_value", id=john.pk, customField={"id": fields[0].pk, "value": "B-12"})
    return {
        "person.create": {"person": {"name": "Mole", "company": {"id": company}, "userGroup": "admin"}},
        "person.update": {"person": {"id": john.pk, "name": "Renamed"}},
        "person.activate": {"id": john.pk},
        "person.deactivate": {"id": john.pk},
        "person.add_group": {"id": john.pk, "group": {"id": crew2}},
        "person.remove_group": {"id": john.pk, "group": {"id": crew}},
        "person.set_custom_field_value": {"id": john.pk, "customField": {"id": fields[0].pk, "value": "X"}},
        "person.clear_custom_field_value": {"id": john.pk, "customField": {"id": fields[0].pk}},
    }


@pytest.mark.parametrize("service", ["person.create", "person.update", "person.activate", "person.deactivate",
                                     "person.add_group", "person.remove_group", "person.set_custom_field_value",
                                     "person.clear_custom_field_value"])
def test_only_workspace_administrators_write_people(service, attack, reader):
    refused(reader, service, **attack[service])


@pytest.mark.parametrize("service", ["person.set_custom_field_value", "person.clear_custom_field_value",
                                     "person.add_group"])
def test_no_one_writes_their_own_groups_or_custom_values(service, bb, reader, outsider, attack):
    fields = {**attack[service], "id": outsider.pk}
    if service == "person.clear_custom_field_value":
        bb.call("person.set_custom_field_value", id=outsider.pk, customField={**fields["customField"], "value": "O"})
    refused(reader, service, **fields)
