"""Activities: OpenProject's defaults seeded, written by workspace administrators only, at most one (active)
default, names unique, every change logged in the workspace stream."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keelplan.portfolio.models import Role
from keelplan.timesheets.models import Activity
from keelplan.timesheets.selectors import activity_get, activity_list
from keelplan.timesheets.services import ACTIVITY_ENTITY, activity_create, activity_update, default_activity

from conftest import make_user

pytestmark = pytest.mark.django_db
SEEDED = ["Management", "Specification", "Development", "Testing", "Support", "Other"]


@pytest.fixture
def keeper(db):
    return make_user("keeper", workspace_admin=True)


def logged(activity) -> list[tuple]:
    return list(ChangeEvent.objects.filter(entity=ACTIVITY_ENTITY, entity_id=activity.pk).order_by("seq")
                .values_list("stream__key", "action", "changes"))


def test_openprojects_default_activities_are_seeded_with_development_the_default():
    assert [(a.name, a.is_active) for a in activity_list()] == [(name, True) for name in SEEDED]
    assert list(Activity.objects.filter(is_default=True).values_list("name", flat=True)) == ["Development"]
    assert default_activity().name == "Development"


def test_a_workspace_administrator_adds_one_last_in_order_and_it_is_logged(keeper):
    row = activity_create(actor=keeper, name="Travel")
    assert (row.position, row.is_default, row.is_active) == (len(SEEDED) + 1, False, True)
    assert activity_list()[len(SEEDED)] == row
    assert logged(row) == [("workspace", "created", {"name": [None, "Travel"], "position": [None, 7],
                                                     "is_default": [None, False], "is_active": [None, True]})]
    placed = activity_create(actor=keeper, name="Design", position=0)
    assert activity_list()[0] == placed


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER])
def test_no_project_role_lets_anyone_write_activities(role, unchanged):
    from conftest import make_project

    boss = make_user("boss")
    project = make_project(boss)
    person = boss
    if role != Role.OWNER:
        from keelplan.portfolio.services import membership_add

        person = make_user("crew")
        membership_add(actor=boss, project=project, user=person, role=role)
    development = Activity.objects.get(name="Development")
    with unchanged():
        with pytest.raises(PermissionDenied):
            activity_create(actor=person, name="Mine")
        with pytest.raises(PermissionDenied):
            activity_update(actor=person, activity=development, name="Hacked")
        with pytest.raises(PermissionDenied):
            activity_update(actor=person, activity=development, is_active=False)


def test_making_one_the_default_unmarks_the_old_one_and_logs_both(keeper):
    development, testing = Activity.objects.get(name="Development"), Activity.objects.get(name="Testing")
    activity_update(actor=keeper, activity=testing, is_default=True)
    assert list(Activity.objects.filter(is_default=True)) == [testing]
    assert logged(development)[-1] == ("workspace", "updated", {"is_default": [True, False]})
    assert logged(testing)[-1] == ("workspace", "updated", {"is_default": [False, True]})
    created = activity_create(actor=keeper, name="Travel", is_default=True)
    assert list(Activity.objects.filter(is_default=True)) == [created]
    assert default_activity() == created


def test_without_a_default_the_first_active_activity_is_used(keeper):
    activity_update(actor=keeper, activity=Activity.objects.get(name="Development"), is_default=False)
    assert not Activity.objects.filter(is_default=True).exists()
    assert default_activity().name == "Management"
    activity_update(actor=keeper, activity=Activity.objects.get(name="Management"), is_active=False)
    assert default_activity().name == "Specification"
    assert [a.name for a in activity_list(active_only=True)] == SEEDED[1:]


def test_the_default_must_be_active(keeper, unchanged):
    development = Activity.objects.get(name="Development")
    with unchanged():
        with pytest.raises(InvalidInput) as caught:
            activity_update(actor=keeper, activity=development, is_active=False)
        assert (caught.value.field, caught.value.code) == ("is_active", "not_allowed")
        with pytest.raises(InvalidInput) as caught:
            activity_update(actor=keeper, activity=Activity.objects.get(name="Other"), is_active=False,
                            is_default=True)
        assert caught.value.code == "not_allowed"
        with pytest.raises(InvalidInput) as caught:
            activity_create(actor=keeper, name="Idle", is_default=True, is_active=False)
        assert caught.value.code == "not_allowed"


def test_the_database_holds_at_most_one_default():
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(name="Testing").update(is_default=True)


def test_names_are_unique_ignoring_case(keeper, unchanged):
    with unchanged():
        with pytest.raises(Conflict) as caught:
            activity_create(actor=keeper, name="development")
        assert (caught.value.field, caught.value.code) == ("name", "duplicate_name")
        with pytest.raises(Conflict):
            activity_update(actor=keeper, activity=Activity.objects.get(name="Testing"), name="SUPPORT")
    renamed = activity_update(actor=keeper, activity=Activity.objects.get(name="Testing"), name="testing")
    assert renamed.name == "testing"


@pytest.mark.parametrize("fields, field, code", [
    ({"name": ""}, "name", "blank"),
    ({"name": None}, "name", "null"),
    ({"name": "x" * 101}, "name", "too_long"),
    ({"name": 7}, "name", "invalid_type"),
    ({"position": -1}, "position", "out_of_range"),
    ({"position": "1"}, "position", "invalid_type"),
    ({"is_active": "yes"}, "is_active", "invalid_type"),
    ({"is_default": None}, "is_default", "null"),
    ({"colour": "#FFFFFF"}, "colour", "unknown_field"),
])
def test_bad_values_are_refused_naming_the_field_and_write_nothing(keeper, unchanged, fields, field, code):
    with unchanged():
        with pytest.raises(InvalidInput) as caught:
            activity_update(actor=keeper, activity=Activity.objects.get(name="Other"), **fields)
        assert (caught.value.field, caught.value.code) == (field, code)
        if field != "colour":
            with pytest.raises(InvalidInput) as caught:
                activity_create(actor=keeper, **{"name": "New", **fields})
            assert (caught.value.field, caught.value.code) == (field, code)


def test_an_update_that_changes_nothing_writes_nothing(keeper, unchanged):
    with unchanged():
        activity_update(actor=keeper, activity=Activity.objects.get(name="Other"), name="Other", is_active=True)


def test_reads(keeper):
    other = Activity.objects.get(name="Other")
    assert activity_get(other.pk) == other and activity_get(str(other.pk)) == other
    activity_update(actor=keeper, activity=other, is_active=False)
    assert activity_get(other.pk) == other   # an inactive activity is still named by its entries
    for missing in (0, 10_000, "x", None):
        with pytest.raises(NotFound):
            activity_get(missing)
    with pytest.raises(NotFound):
        activity_update(actor=keeper, activity=Activity(pk=10_000, name="Ghost"), name="Boo")
