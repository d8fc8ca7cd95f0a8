"""People and companies: the company a person belongs to, and a company's exclusive members (people or groups).
Both are workspace rows: only workspace administrators write them, and a refused write leaves nothing behind."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from keelplan.accounts.models import Group
from keelplan.accounts.services import group_create, group_delete, user_set_active
from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keelplan.portfolio import people
from keelplan.portfolio import reference as ref
from keelplan.portfolio.models import Affiliation, Company, CompanyMember

from conftest import make_project, make_user, second_writer_outcome


@pytest.fixture
def keeper(db):
    """A workspace administrator."""
    return make_user("keeper", workspace_admin=True)


@pytest.fixture
def acme(keeper):
    """A customer."""
    return ref.company_create(actor=keeper, name="Acme")


@pytest.fixture
def home(keeper):
    """One's own company."""
    return ref.company_create(actor=keeper, name="Home", is_corporate=True)


@pytest.fixture
def ann(db):
    return make_user("ann", full_name="Ann Analyst")


@pytest.fixture
def team(keeper):
    return group_create(actor=keeper, name="Team")


def workspace_events() -> list[tuple]:
    return list(ChangeEvent.objects.filter(stream__key="workspace").order_by("seq")
                .values_list("entity", "entity_id", "action", "changes"))


def state() -> tuple:
    """Every row this module's services write, and the change log, to compare before and after a refusal."""
    return (list(Affiliation.objects.order_by("id").values_list()),
            list(CompanyMember.all_objects.order_by("id").values_list()), ChangeEvent.objects.count())


def attacker(who: str):
    """An actor who is not a workspace administrator."""
    if who == "anonymous":
        return None
    person = make_user(who.replace(" ", "-"))
    if who == "project owner":
        make_project(person, name="Own")
    if who == "locked administrator":
        other = make_user("locked", workspace_admin=True)
        return user_set_active(actor=make_user("unlocker", workspace_admin=True), user=other, active=False)
    return person


ATTACKERS = ["ordinary user", "project owner", "locked administrator", "anonymous"]


# ---------------------------------------------------------------- a person's company

def test_a_person_is_given_a_company_moved_and_taken_out_each_change_logged_as_the_persons(keeper, acme, home, ann):
    assert people.company_of(ann) is None
    before = len(workspace_events())
    row = people.person_company_set(actor=keeper, user=ann, company=acme)
    assert (row.user, row.company) == (ann, acme)
    assert people.company_of(ann) == acme
    people.person_company_set(actor=keeper, user=ann, company=home)
    assert people.company_of(ann) == home
    assert Affiliation.objects.filter(user=ann).count() == 1
    assert people.person_company_set(actor=keeper, user=ann, company=None) is None
    assert people.company_of(ann) is None and not Affiliation.objects.exists()
    assert workspace_events()[before:] == [
        ("user", ann.pk, "updated", {"company": [None, acme.pk]}),
        ("user", ann.pk, "updated", {"company": [acme.pk, home.pk]}),
        ("user", ann.pk, "updated", {"company": [home.pk, None]}),
    ]


def test_setting_the_company_a_person_has_already_changes_and_logs_nothing(keeper, acme, ann):
    people.person_company_set(actor=keeper, user=ann, company=acme)
    row = Affiliation.objects.get(user=ann)
    events = ChangeEvent.objects.count()
    assert people.person_company_set(actor=keeper, user=ann, company=acme) == row
    people.person_company_set(actor=keeper, user=make_user("bo"), company=None)
    assert ChangeEvent.objects.count() == events
    assert Affiliation.objects.get(user=ann).updated_at == row.updated_at


def test_people_are_read_by_company_and_companies_by_people_in_one_query(keeper, acme, home, ann,
                                                                        django_assert_num_queries):
    bo, cy, di = make_user("bo"), make_user("cy"), make_user("di")
    for person, company in ((ann, acme), (bo, home), (cy, acme)):
        people.person_company_set(actor=keeper, user=person, company=company)
    user_set_active(actor=keeper, user=cy, active=False)
    assert list(people.people_of_company(acme)) == [ann, cy]   # a locked person still belongs
    assert list(people.people_of_company(home)) == [bo]
    with django_assert_num_queries(1):
        assert people.companies_of([ann.pk, bo.pk, cy.pk, di.pk, None]) == {ann.pk: acme.pk, bo.pk: home.pk,
                                                                              cy.pk: acme.pk}
    with django_assert_num_queries(0):
        assert people.companies_of([]) == {}


def test_only_a_live_company_is_given(keeper, acme, ann):
    stale = Company.objects.get(pk=acme.pk)
    ref.company_delete(actor=keeper, company=acme)
    for company in (stale, Company.all_objects.get(pk=acme.pk)):   # a copy read before, and the deleted row
        with pytest.raises(InvalidInput) as refused:
            people.person_company_set(actor=keeper, user=ann, company=company)
        assert (refused.value.field, refused.value.code, refused.value.params) == (
            "company", "invalid_reference", {"entity": "company"})
    with pytest.raises(InvalidInput) as refused:
        people.person_company_set(actor=keeper, user=ann, company=acme.pk)
    assert (refused.value.field, refused.value.code) == ("company", "invalid_type")
    with pytest.raises(InvalidInput) as refused:
        people.person_company_set(actor=keeper, user="ann", company=None)
    assert (refused.value.field, refused.value.code) == ("user", "invalid_type")
    assert not Affiliation.objects.exists()


@pytest.mark.parametrize("who", ATTACKERS)
def test_only_workspace_administrators_give_people_a_company(keeper, acme, home, ann, who):
    people.person_company_set(actor=keeper, user=ann, company=acme)
    actor = attacker(who)
    before = state()
    for company in (home, None):
        with pytest.raises(PermissionDenied):
            people.person_company_set(actor=actor, user=ann, company=company)
    if actor is not None:   # not even their own
        with pytest.raises(PermissionDenied):
            people.person_company_set(actor=actor, user=actor, company=home)
    assert state() == before
    assert people.company_of(ann) == acme


def test_a_company_people_belong_to_cannot_be_deleted(keeper, acme, home, ann):
    bo = make_user("bo")
    people.person_company_set(actor=keeper, user=ann, company=acme)
    people.person_company_set(actor=keeper, user=bo, company=acme)
    user_set_active(actor=keeper, user=bo, active=False)
    with pytest.raises(Conflict) as refused:
        ref.company_delete(actor=keeper, company=acme)
    assert (refused.value.code, refused.value.params) == ("in_use", {"reference_count": 2})
    assert not Company.all_objects.get(pk=acme.pk).is_deleted
    people.person_company_set(actor=keeper, user=ann, company=home)
    people.person_company_set(actor=keeper, user=bo, company=None)
    ref.company_delete(actor=keeper, company=acme)
    assert Company.all_objects.get(pk=acme.pk).is_deleted


# ---------------------------------------------------------------- a company's exclusive members

def test_people_and_groups_become_exclusive_members_listed_and_logged(keeper, acme, home, ann, team):
    bo = make_user("bo")
    before = len(workspace_events())
    first = people.company_member_add(actor=keeper, company=acme, user=ann)
    second = people.company_member_add(actor=keeper, company=acme, group=team)
    people.company_member_add(actor=keeper, company=acme, user=bo)
    people.company_member_add(actor=keeper, company=home, user=ann)
    assert (first.principal, second.principal) == (ann, team)
    members = people.company_members(acme)
    assert (list(members["people"]), list(members["groups"])) == ([ann, bo], [team])
    assert (list(people.company_members(home)["people"]), list(people.company_members(home)["groups"])) == ([ann],
                                                                                                          [])
    assert workspace_events()[before:before + 2] == [
        ("company_member", first.pk, "created", {"company": [None, acme.pk], "user": [None, ann.pk]}),
        ("company_member", second.pk, "created", {"company": [None, acme.pk], "group": [None, team.pk]}),
    ]


def test_a_member_is_removed_logged_and_may_come_back(keeper, acme, ann, team):
    row = people.company_member_add(actor=keeper, company=acme, user=ann)
    group_row = people.company_member_add(actor=keeper, company=acme, group=team)
    people.company_member_remove(actor=keeper, company=acme, user=ann)
    assert workspace_events()[-1][:3] == ("company_member", row.pk, "deleted")
    people.company_member_remove(actor=keeper, company=acme, group=team)
    assert workspace_events()[-1][:3] == ("company_member", group_row.pk, "deleted")
    assert CompanyMember.all_objects.get(pk=row.pk).is_deleted
    members = people.company_members(acme)
    assert (list(members["people"]), list(members["groups"])) == ([], [])
    again = people.company_member_add(actor=keeper, company=acme, user=ann)
    assert again.pk != row.pk and list(people.company_members(acme)["people"]) == [ann]


def test_a_member_added_twice_is_refused(keeper, acme, ann, team):
    people.company_member_add(actor=keeper, company=acme, user=ann)
    people.company_member_add(actor=keeper, company=acme, group=team)
    before = state()
    for principal, field in (({"user": ann}, "user"), ({"group": team}, "group")):
        with pytest.raises(Conflict) as refused:
            people.company_member_add(actor=keeper, company=acme, **principal)
        assert (refused.value.code, refused.value.field) == ("duplicate_membership", field)
    assert state() == before


def test_removing_one_who_is_not_a_member_is_not_found(keeper, acme, home, ann, team):
    people.company_member_add(actor=keeper, company=home, user=ann)
    before = state()
    for principal in ({"user": ann}, {"group": team}, {"user": 12345}):
        with pytest.raises(NotFound) as refused:
            people.company_member_remove(actor=keeper, company=acme, **principal)
        assert refused.value.params == {"entity": "company member"}
    assert state() == before


def test_a_locked_person_or_a_deleted_group_cannot_become_a_member(keeper, acme, team):
    stale_person = make_user("locked")
    locked = user_set_active(actor=keeper, user=stale_person, active=False)
    stale = Group.objects.get(pk=team.pk)
    group_delete(actor=keeper, group=team)
    before = state()
    cases = [({"user": locked}, "user", "person"), ({"user": stale_person}, "user", "person"),
             ({"user": "ann"}, "user", "person"),
             ({"group": stale}, "group", "group"), ({"group": team.pk}, "group", "group")]
    for principal, field, entity in cases:
        with pytest.raises(InvalidInput) as refused:
            people.company_member_add(actor=keeper, company=acme, **principal)
        assert (refused.value.field, refused.value.code, refused.value.params) == (
            field, "invalid_reference", {"entity": entity})
    assert state() == before


def test_a_member_is_a_person_or_a_group_never_both_or_neither(keeper, acme, ann, team):
    before = state()
    for service in (people.company_member_add, people.company_member_remove):
        with pytest.raises(InvalidInput) as refused:
            service(actor=keeper, company=acme, user=ann, group=team)
        assert (refused.value.code, refused.value.field) == ("not_allowed", "group")
        with pytest.raises(InvalidInput) as refused:
            service(actor=keeper, company=acme)
        assert (refused.value.code, refused.value.field) == ("required", "user")
    assert state() == before
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyMember.objects.create(company=acme, user=ann, group=team)
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyMember.objects.create(company=acme)


def test_one_live_row_per_company_and_principal_in_the_database(keeper, acme, ann):
    people.company_member_add(actor=keeper, company=acme, user=ann)
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyMember.objects.create(company=acme, user=ann)


def test_a_deleted_company_has_no_members_to_change(keeper, acme, ann):
    stale = Company.objects.get(pk=acme.pk)
    people.company_member_add(actor=keeper, company=acme, user=ann)
    ref.company_delete(actor=keeper, company=acme)
    before = state()
    with pytest.raises(NotFound) as refused:
        people.company_member_add(actor=keeper, company=stale, user=make_user("bo"))
    assert refused.value.params == {"entity": "company"}
    with pytest.raises(NotFound):
        people.company_member_remove(actor=keeper, company=stale, user=ann)
    assert state() == before
    assert list(people.company_members(stale)["people"]) == []


@pytest.mark.parametrize("who", ATTACKERS)
def test_only_workspace_administrators_change_exclusive_members(keeper, acme, ann, team, who):
    people.company_member_add(actor=keeper, company=acme, user=ann)
    actor = attacker(who)
    someone = make_user("someone")
    before = state()
    writes = [
        lambda: people.company_member_add(actor=actor, company=acme, group=team),
        lambda: people.company_member_add(actor=actor, company=acme, user=actor or someone),
        lambda: people.company_member_remove(actor=actor, company=acme, user=ann),
        lambda: people.company_memberships_of_group_remove(team, actor=actor),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied):
            write()
    assert state() == before


def test_a_groups_exclusive_memberships_go_with_it(keeper, acme, home, ann, team):
    held = [people.company_member_add(actor=keeper, company=company, group=team) for company in (acme, home)]
    people.company_member_add(actor=keeper, company=acme, user=ann)
    assert people.company_memberships_of_group_remove(team, actor=keeper) == 2
    assert [e[:3] for e in workspace_events()[-2:]] == [("company_member", row.pk, "deleted") for row in held]
    assert not CompanyMember.objects.filter(group=team).exists()
    assert list(people.company_members(acme)["people"]) == [ann]
    assert people.company_memberships_of_group_remove(team, actor=keeper) == 0


def test_a_deleted_group_is_no_member_even_before_its_rows_are_removed(keeper, acme, team):
    people.company_member_add(actor=keeper, company=acme, group=team)
    group_delete(actor=keeper, group=team)
    assert list(people.company_members(acme)["groups"]) == []


@pytest.mark.django_db(transaction=True)
def test_a_company_being_deleted_gains_no_person_meanwhile():
    """Giving a person a company while another request deletes it waits for the deletion, then refuses the
    company: no one belongs to a deleted company. (Only PostgreSQL runs two writers at once.)"""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL runs two writers at once")
    keeper, ann = make_user("keeper", workspace_admin=True), make_user("ann")
    acme = ref.company_create(actor=keeper, name="Acme")
    outcome = second_writer_outcome(lambda: ref.company_delete(actor=keeper, company=acme),
                                    lambda: people.person_company_set(actor=keeper, user=ann, company=acme),
                                    refused=(InvalidInput,))
    assert outcome == ("company", "invalid_reference")
    assert not Affiliation.objects.exists()
