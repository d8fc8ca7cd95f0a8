"""Activities of a company: made for a live company only, never moved to another, names unique per company and
among the workspace-wide ones (in the services and in the database), listed by company."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, PermissionDenied
from keelplan.portfolio.models import Company
from keelplan.portfolio.reference import company_create, company_delete
from keelplan.timesheets.models import Activity
from keelplan.timesheets.selectors import activity_list
from keelplan.timesheets.services import ACTIVITY_ENTITY, activity_create, activity_update, default_activity

from conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeper(db):
    return make_user("keeper", workspace_admin=True)


@pytest.fixture
def acme(keeper):
    return company_create(actor=keeper, name="Acme")


@pytest.fixture
def globex(keeper):
    return company_create(actor=keeper, name="Globex")


def test_the_seeded_activities_are_workspace_wide():
    assert Activity.objects.count() == 6
    assert not Activity.objects.filter(company__isnull=False).exists()


def test_an_activity_is_made_for_a_company_and_the_company_is_logged(keeper, acme):
    row = activity_create(actor=keeper, name="Design", company=acme)
    row.refresh_from_db()
    assert (row.company, row.is_active, row.is_default) == (acme, True, False)
    [(stream, action, changes)] = ChangeEvent.objects.filter(entity=ACTIVITY_ENTITY, entity_id=row.pk).values_list(
        "stream__key", "action", "changes")
    assert (stream, action) == ("workspace", "created")
    assert changes["company"] == [None, acme.pk] and changes["name"] == [None, "Design"]


def test_names_are_unique_per_company_and_among_workspace_wide_ones(keeper, acme, globex, unchanged):
    mine = activity_create(actor=keeper, name="Design", company=acme)
    theirs = activity_create(actor=keeper, name="design", company=globex)
    generic = activity_create(actor=keeper, name="DESIGN")
    same_as_seeded = activity_create(actor=keeper, name="development", company=acme)
    assert {mine.company_id, theirs.company_id, generic.company_id, same_as_seeded.company_id} == {
        acme.pk, globex.pk, None}
    with unchanged():
        with pytest.raises(Conflict) as caught:
            activity_create(actor=keeper, name="dEsIgN", company=acme)
        assert (caught.value.field, caught.value.code) == ("name", "duplicate_name")
        with pytest.raises(Conflict):
            activity_create(actor=keeper, name="Development")
        with pytest.raises(Conflict):
            activity_update(actor=keeper, activity=same_as_seeded, name="DESIGN")
    # A rename checks only the activity's own company.
    assert activity_update(actor=keeper, activity=theirs, name="Development").name == "Development"


def test_the_database_refuses_a_name_twice_in_a_company_or_among_workspace_wide_ones(acme, globex):
    Activity.objects.create(name="Audit", company=acme)
    Activity.objects.create(name="AUDIT", company=globex)
    Activity.objects.create(name="audit")
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.create(name="aUdIt", company=acme)
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.create(name="AUDIT")
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.create(name="development")


def test_a_deleted_or_missing_company_is_refused(keeper, acme, unchanged):
    company_delete(actor=keeper, company=acme)
    stale = Company.all_objects.get(pk=acme.pk)
    with unchanged():
        for company in (stale, acme, Company(pk=10_000, name="Ghost")):
            with pytest.raises(InvalidInput) as caught:
                activity_create(actor=keeper, name="Design", company=company)
            assert (caught.value.field, caught.value.code, caught.value.params) == (
                "company", "invalid_reference", {"entity": "company"})
        for wrong in ("Acme", 1, object()):
            with pytest.raises(InvalidInput) as caught:
                activity_create(actor=keeper, name="Design", company=wrong)
            assert (caught.value.field, caught.value.code) == ("company", "invalid_type")


def test_an_activitys_company_never_changes(keeper, acme, globex, unchanged):
    row = activity_create(actor=keeper, name="Design", company=acme)
    generic = Activity.objects.get(name="Support")
    with unchanged():
        for activity, company in ((row, globex), (row, None), (row, acme), (generic, acme)):
            with pytest.raises(InvalidInput) as caught:
                activity_update(actor=keeper, activity=activity, company=company)
            assert (caught.value.field, caught.value.code) == ("company", "not_allowed")
        with pytest.raises(InvalidInput):
            activity_update(actor=keeper, activity=row, company=globex, name="Drawing")


def test_only_a_workspace_administrator_makes_a_companys_activity(acme, unchanged):
    boss = make_user("boss")
    with unchanged():
        with pytest.raises(PermissionDenied):
            activity_create(actor=boss, name="Design", company=acme)
        with pytest.raises(PermissionDenied):
            activity_update(actor=boss, activity=Activity.objects.get(name="Other"), company=acme)


def test_activity_list_filters_by_company(keeper, acme, globex):
    design = activity_create(actor=keeper, name="Design", company=acme)
    hidden = activity_create(actor=keeper, name="Drafts", company=acme, is_active=False)
    activity_create(actor=keeper, name="Audit", company=globex)
    assert list(activity_list(company=acme)) == [design, hidden]
    assert list(activity_list(company=acme, active_only=True)) == [design]
    assert activity_list().count() == 9


def test_the_default_stays_one_and_active_and_without_a_project_is_workspace_wide(keeper, acme):
    design = activity_create(actor=keeper, name="Design", company=acme, is_default=True)
    assert list(Activity.objects.filter(is_default=True)) == [design]
    with pytest.raises(InvalidInput):
        activity_update(actor=keeper, activity=design, is_active=False)
    # Outside any project only workspace-wide activities are usable everywhere: the first of them.
    assert default_activity().name == "Management"


def test_a_company_with_activities_cannot_be_erased_from_the_database(keeper, acme):
    activity_create(actor=keeper, name="Design", company=acme)
    with pytest.raises(ProtectedError), transaction.atomic():
        Company.all_objects.filter(pk=acme.pk).delete()
