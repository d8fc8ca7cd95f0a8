"""Custom field definitions and options without HTTP: who may write them, the rules across their attributes,
soft delete, the change log, and the selector that lists the ones applying to an object."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, PermissionDenied, StaleLockVersion
from keelplan.customfields.models import CustomField, CustomOption, CustomValue
from keelplan.customfields.selectors import custom_field_list, custom_fields_for
from keelplan.customfields.services import (
    custom_field_create, custom_field_delete, custom_field_update, custom_option_create, custom_option_delete,
    custom_option_update, custom_values_clean, custom_values_read, custom_values_write,
)
from keelplan.planning.models import WorkItemType

from conftest import make_project, make_user

pytestmark = pytest.mark.django_db

_names = itertools.count(1)


def define(actor, **fields) -> CustomField:
    fields.setdefault("name", f"Field {next(_names)}")
    fields.setdefault("applies_to", "work_item")
    fields.setdefault("format", "string")
    return custom_field_create(actor=actor, **fields)


def refused(error_type, call, **kwargs):
    with pytest.raises(error_type) as caught:
        call(**kwargs)
    return caught.value


def workspace_events(entity: str):
    return ChangeEvent.objects.filter(stream__key="workspace", entity=entity).order_by("seq")


# ---------------------------------------------------------------- who may write definitions

@pytest.fixture
def project_owner(db):
    """Owner of a project of their own, and nothing more in the workspace."""
    person = make_user("project-owner")
    make_project(person, name="Own")
    return person


@pytest.mark.parametrize("who", ["outsider", "project_owner"])
def test_only_workspace_admins_create_definitions(request, who):
    actor = request.getfixturevalue(who)
    error = refused(PermissionDenied, custom_field_create, actor=actor, name="Budget", applies_to="project",
                    format="integer")
    assert error.code == "permission_denied"
    assert not CustomField.all_objects.exists()
    assert not workspace_events("custom_field").exists()


@pytest.mark.parametrize("who", ["outsider", "project_owner"])
def test_only_workspace_admins_change_or_delete_definitions_and_options(admin, request, who):
    actor = request.getfixturevalue(who)
    cf = define(admin, name="Size", format="list", options=["S", "M"])
    small = cf.options.get(value="S")
    events = ChangeEvent.objects.count()
    with pytest.raises(PermissionDenied):
        custom_field_update(actor=actor, custom_field=cf, name="Renamed", is_required=True)
    with pytest.raises(PermissionDenied):
        custom_field_delete(actor=actor, custom_field=cf)
    with pytest.raises(PermissionDenied):
        custom_option_create(actor=actor, custom_field=cf, value="L")
    with pytest.raises(PermissionDenied):
        custom_option_update(actor=actor, option=small, value="XS")
    with pytest.raises(PermissionDenied):
        custom_option_delete(actor=actor, option=small)
    cf.refresh_from_db()
    assert (cf.name, cf.is_required, cf.deleted_at, cf.lock_version) == ("Size", False, None, 0)
    assert list(CustomOption.all_objects.filter(custom_field=cf).values_list("value", "deleted_at")) == [
        ("S", None), ("M", None)]
    assert ChangeEvent.objects.count() == events


def test_a_workspace_admin_defines_a_field_and_the_workspace_stream_logs_it(admin, project):
    phase = WorkItemType.objects.order_by("position").first()
    cf = define(admin, name="Ticket", format="string", regexp=r"[A-Z]+-[0-9]+", min_length=3, max_length=20,
                is_required=True, default_value="KP-1", is_for_all=False, projects=[project], types=[phase])
    cf.refresh_from_db()
    assert (cf.regexp, cf.min_length, cf.max_length, cf.default_value, cf.is_for_all) == (
        r"[A-Z]+-[0-9]+", 3, 20, "KP-1", False)
    assert list(cf.projects.all()) == [project]
    assert list(cf.types.all()) == [phase]
    event = workspace_events("custom_field").get()
    assert (event.entity_id, event.action, event.actor_id) == (cf.pk, "created", admin.pk)
    assert event.changes["name"] == [None, "Ticket"]
    assert event.changes["projects"] == [None, [project.pk]]
    assert event.changes["types"] == [None, [phase.pk]]


def test_the_choices_may_be_given_as_their_enum_members(admin):
    from keelplan.customfields.models import AppliesTo, FieldFormat

    cf = define(admin, applies_to=AppliesTo.PROJECT, format=FieldFormat.INTEGER)
    cf.refresh_from_db()
    assert (cf.applies_to, cf.format) == ("project", "integer")


def test_positions_append_per_kind_unless_given(admin):
    first, second = define(admin), define(admin)
    other_kind = define(admin, applies_to="person")
    placed = define(admin, position=0)
    assert (first.position, second.position, other_kind.position, placed.position) == (1, 2, 1, 0)


# ---------------------------------------------------------------- rules across a definition's attributes

@pytest.mark.parametrize(("fields", "field", "code"), [
    ({"name": ""}, "name", "blank"),
    ({"name": "x" * 256}, "name", "too_long"),
    ({"applies_to": "task"}, "applies_to", "invalid_choice"),
    ({"format": "int"}, "format", "invalid_choice"),
    ({"regexp": "[unclosed"}, "regexp", "invalid_format"),
    ({"format": "integer", "regexp": "[0-9]+"}, "regexp", "not_allowed"),
    ({"format": "date", "max_length": 5}, "max_length", "not_allowed"),
    ({"min_length": 5, "max_length": 4}, "min_length", "out_of_range"),
    ({"max_length": 256}, "max_length", "out_of_range"),
    ({"max_length": 0}, "max_length", "out_of_range"),
    ({"format": "string", "min_value": 1}, "min_value", "not_allowed"),
    ({"format": "integer", "min_value": 5, "max_value": 4}, "min_value", "out_of_range"),
    ({"format": "integer", "max_value": "1.5"}, "max_value", "invalid_type"),
    ({"format": "float", "max_value": "1e18"}, "max_value", "out_of_range"),
    ({"format": "string", "is_multi_value": True}, "is_multi_value", "not_allowed"),
    ({"format": "list", "default_value": "1"}, "default_value", "not_allowed"),
    ({"format": "user", "default_value": "1"}, "default_value", "not_allowed"),
    ({"format": "integer", "default_value": "many"}, "default_value", "invalid_type"),
    ({"format": "integer", "max_value": 10, "default_value": 11}, "default_value", "out_of_range"),
    ({"format": "float", "min_value": "0.5", "default_value": "0.25"}, "default_value", "out_of_range"),
    ({"format": "date", "default_value": "2026-02-30"}, "default_value", "invalid_date"),
    ({"format": "bool", "default_value": "yes"}, "default_value", "invalid_type"),
    ({"regexp": "[a-z]+", "default_value": "ABC"}, "default_value", "invalid_format"),
    ({"max_length": 2, "default_value": "abc"}, "default_value", "too_long"),
    ({"format": "string", "options": ["a"]}, "options", "not_allowed"),
    ({"format": "list", "options": ["a", "a"]}, "options", "invalid"),
    ({"applies_to": "company", "is_required": None}, "is_required", "null"),
    ({"position": -1}, "position", "out_of_range"),
])
def test_a_definition_breaking_a_rule_is_refused_naming_the_attribute(admin, fields, field, code):
    error = refused(InvalidInput, define, actor=admin, **fields)
    assert (error.field, error.code) == (field, code)
    assert not CustomField.all_objects.exists()
    assert not ChangeEvent.objects.filter(entity__startswith="custom_").exists()


def test_projects_and_types_only_where_they_mean_something(admin, project):
    task_type = WorkItemType.objects.first()
    error = refused(InvalidInput, define, actor=admin, applies_to="company", projects=[project])
    assert (error.field, error.code) == ("projects", "not_allowed")
    error = refused(InvalidInput, define, actor=admin, applies_to="project", types=[task_type])
    assert (error.field, error.code) == ("types", "not_allowed")
    error = refused(InvalidInput, define, actor=admin, projects=[project.pk])
    assert (error.field, error.code) == ("projects", "invalid_type")
    assert not CustomField.all_objects.exists()


@pytest.mark.parametrize(("fmt", "given", "stored"), [
    ("string", "  KP-7  ", "KP-7"),
    ("integer", "42", "42"),
    ("integer", -3, "-3"),
    ("float", "1.50", "1.5"),
    ("float", 100, "100"),
    ("date", dt.date(2026, 1, 5), "2026-01-05"),
    ("date", "2026-01-05", "2026-01-05"),
    ("bool", "true", "true"),
    ("bool", False, "false"),
    ("string", "", ""),
])
def test_a_default_is_stored_as_canonical_text(admin, fmt, given, stored):
    assert define(admin, format=fmt, default_value=given).default_value == stored


def test_a_name_is_unique_per_kind_ignoring_case_among_live_fields(admin):
    first = define(admin, name="Budget", applies_to="project")
    error = refused(Conflict, define, actor=admin, name="BUDGET", applies_to="project")
    assert (error.field, error.code) == ("name", "duplicate_name")
    define(admin, name="Budget", applies_to="company")
    custom_field_delete(actor=admin, custom_field=first)
    define(admin, name="budget", applies_to="project")
    assert CustomField.objects.filter(name__iexact="budget").count() == 2


# ---------------------------------------------------------------- changing and deleting definitions

def test_an_update_is_logged_as_a_diff_and_replaces_the_chosen_projects(admin, owner, project):
    other = make_project(owner, name="Gemini")
    cf = define(admin, name="Original", is_for_all=False, projects=[project])
    custom_field_update(actor=admin, custom_field=cf, lock_version=0, name="Renamed", projects=[other])
    cf.refresh_from_db()
    assert (cf.name, cf.lock_version, list(cf.projects.all())) == ("Renamed", 1, [other])
    event = workspace_events("custom_field").last()
    assert event.action == "updated"
    assert event.changes == {"name": ["Original", "Renamed"], "projects": [[project.pk], [other.pk]]}


def test_an_update_with_nothing_changed_writes_nothing(admin):
    cf = define(admin, name="Same")
    custom_field_update(actor=admin, custom_field=cf, name="Same")
    cf.refresh_from_db()
    assert cf.lock_version == 0
    assert workspace_events("custom_field").count() == 1


@pytest.mark.parametrize(("fields", "field", "code"), [
    ({"format": "text"}, "format", "not_allowed"),
    ({"applies_to": "project"}, "applies_to", "not_allowed"),
    ({"colour": "red"}, "colour", "unknown_field"),
    ({"max_length": 3}, "default_value", "too_long"),
    ({"regexp": "[0-9]+"}, "default_value", "invalid_format"),
])
def test_an_update_is_checked_as_a_whole_with_the_stored_default(admin, fields, field, code):
    cf = define(admin, format="string", default_value="abcdef")
    error = refused(InvalidInput, custom_field_update, actor=admin, custom_field=cf, **fields)
    assert (error.field, error.code) == (field, code)
    cf.refresh_from_db()
    assert (cf.format, cf.max_length, cf.regexp, cf.lock_version) == ("string", None, "", 0)


def test_a_stale_lock_version_changes_nothing(admin):
    cf = define(admin, name="Before")
    custom_field_update(actor=admin, custom_field=cf, name="Middle")
    with pytest.raises(StaleLockVersion):
        custom_field_update(actor=admin, custom_field=cf, lock_version=0, name="After")
    cf.refresh_from_db()
    assert cf.name == "Middle"


def test_a_multi_value_field_holding_several_values_stays_multi_value(admin, owner, project):
    cf = define(admin, format="version", is_multi_value=True)
    custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: [3, 4]})
    error = refused(Conflict, custom_field_update, actor=admin, custom_field=cf, is_multi_value=False)
    assert (error.field, error.code, error.params) == ("is_multi_value", "in_use", {"reference_count": 1})
    custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: [3]})
    custom_field_update(actor=admin, custom_field=cf, is_multi_value=False)
    assert custom_values_read("work_item", [1]) == {1: {cf.pk: 3}}


def test_deleting_a_definition_hides_its_values_but_keeps_them(admin, owner, project):
    cf = define(admin, format="list", options=["Red", "Blue"])
    red = cf.options.get(value="Red")
    custom_values_write(actor=owner, entity="work_item", obj_id=7, project=project, cleaned={cf.pk: red.pk})
    custom_field_delete(actor=admin, custom_field=cf)
    assert CustomField.all_objects.get(pk=cf.pk).deleted_at is not None
    assert not CustomOption.objects.filter(custom_field=cf).exists()
    assert CustomValue.objects.filter(custom_field=cf, object_id=7).exists()
    assert custom_values_read("work_item", [7]) == {7: {}}
    assert not custom_fields_for(actor=owner, entity="work_item", project=project).exists()
    deleted = workspace_events("custom_field").last()
    assert (deleted.entity_id, deleted.action) == (cf.pk, "deleted")
    assert workspace_events("custom_option").filter(action="deleted").count() == 2
    error = refused(InvalidInput, custom_values_clean, entity="work_item", project=project,
                    values={cf.pk: red.pk}, for_create=False)
    assert error.code == "unknown_field"


# ---------------------------------------------------------------- options

def test_options_are_created_in_order_and_logged(admin):
    cf = define(admin, format="list", options=["Low", "High"])
    extra = custom_option_create(actor=admin, custom_field=cf, value="Medium", position=2)
    custom_option_update(actor=admin, option=cf.options.get(value="High"), position=3)
    assert [o.value for o in cf.options.all()] == ["Low", "Medium", "High"]
    created = workspace_events("custom_option").filter(action="created")
    assert created.count() == 3
    assert created.last().changes == {"custom_field": [None, cf.pk], "value": [None, "Medium"],
                                      "position": [None, 2], "is_default": [None, False]}
    assert extra.lock_version == 0


def test_a_single_value_field_has_one_default_option(admin):
    cf = define(admin, format="list", options=["A", "B"])
    a, b = cf.options.all()
    custom_option_update(actor=admin, option=a, is_default=True)
    custom_option_update(actor=admin, option=b, is_default=True)
    assert list(cf.options.filter(is_default=True)) == [b]
    assert workspace_events("custom_option").last().changes == {"is_default": [True, False]}
    multi = define(admin, format="list", is_multi_value=True, options=["A", "B"])
    for option in multi.options.all():
        custom_option_update(actor=admin, option=option, is_default=True)
    assert multi.options.filter(is_default=True).count() == 2


def test_option_rules(admin, owner, project):
    cf = define(admin, format="list", options=["A"])
    error = refused(Conflict, custom_option_create, actor=admin, custom_field=cf, value="A")
    assert (error.field, error.code) == ("value", "duplicate_name")
    error = refused(InvalidInput, custom_option_create, actor=admin, custom_field=define(admin), value="A")
    assert (error.field, error.code) == ("custom_field", "not_allowed")
    error = refused(InvalidInput, custom_option_create, actor=admin, custom_field=cf, value=" ")
    assert (error.field, error.code) == ("value", "blank")
    a = cf.options.get()
    custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: a.pk})
    error = refused(Conflict, custom_option_delete, actor=admin, option=a)
    assert (error.code, error.params) == ("in_use", {"reference_count": 1})
    custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: None})
    custom_option_delete(actor=admin, option=a)
    assert not cf.options.exists()
    assert CustomOption.all_objects.get(pk=a.pk).deleted_at is not None
    custom_option_create(actor=admin, custom_field=cf, value="A")


# ---------------------------------------------------------------- selectors

def test_definitions_for_an_object_in_position_order_with_options(admin, owner, project, outsider,
                                                                   django_assert_num_queries):
    task_type, other_type = WorkItemType.objects.order_by("position")[:2]
    later = define(admin, name="Later", format="list", options=["x", "y"], position=5)
    first = define(admin, name="First", position=1)
    define(admin, name="Elsewhere", is_for_all=False, projects=[make_project(owner, name="Other")])
    chosen = define(admin, name="Chosen", is_for_all=False, projects=[project], position=3)
    define(admin, name="Other type", types=[other_type])
    typed = define(admin, name="Typed", types=[task_type], position=4)
    define(admin, name="On projects", applies_to="project")
    with django_assert_num_queries(2):
        fields = list(custom_fields_for(actor=outsider, entity="work_item", project=project, type=task_type))
        assert [f.name for f in fields] == ["First", "Chosen", "Typed", "Later"]
        assert [o.value for o in fields[-1].options.all()] == ["x", "y"]
    assert (first, chosen, typed, later) == tuple(fields)
    assert [f.name for f in custom_fields_for(actor=outsider, entity="work_item", project=project)] == [
        "First", "Chosen", "Later"]
    assert [f.name for f in custom_fields_for(actor=outsider, entity="project", project=None)] == ["On projects"]


def test_no_definitions_for_anyone_signed_out(admin, owner):
    from django.contrib.auth.models import AnonymousUser

    define(admin)
    assert not custom_fields_for(actor=AnonymousUser(), entity="work_item").exists()
    assert not custom_field_list(actor=None).exists()
    assert custom_field_list(actor=owner, entity="work_item").count() == 1


def test_an_unknown_kind_is_refused(owner):
    error = refused(InvalidInput, custom_fields_for, actor=owner, entity="task")
    assert (error.field, error.code) == ("entity", "invalid_choice")


def test_decimal_bounds_are_kept(admin):
    cf = define(admin, format="float", min_value="0.125", max_value=Decimal("99.5"))
    cf.refresh_from_db()
    assert (cf.min_value, cf.max_value) == (Decimal("0.125"), Decimal("99.5"))


def test_the_admin_site_shows_definitions_but_cannot_write_them(admin):
    from django.contrib.auth import get_user_model
    from django.test import Client

    cf = define(admin, name="Shown", format="list", options=["a"])
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "root-password-1"))
    page = client.get(f"/admin/customfields/customfield/{cf.pk}/change/")
    assert page.status_code == 200
    assert b"Shown" in page.content
    assert client.get("/admin/customfields/customfield/add/").status_code == 403
    assert client.get("/admin/customfields/customvalue/").status_code == 200
    assert client.post(f"/admin/customfields/customfield/{cf.pk}/change/", {"name": "Changed"}).status_code == 403
    cf.refresh_from_db()
    assert cf.name == "Shown"
