"""Custom field values written with a work item or project: one service call, one transaction, one change log."""

from __future__ import annotations

import uuid

import pytest

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import InvalidInput
from keelplan.customfields.services import custom_field_create, custom_values_read
from keelplan.planning.bulk import tasks_bulk_apply
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_create, task_update
from keelplan.portfolio.models import Project
from keelplan.portfolio.services import project_create, project_update

from conftest import make_project, make_user


@pytest.fixture
def world(db):
    keeper = make_user("keeper", workspace_admin=True)
    lead = make_user("lead")
    project = make_project(lead, name="Fields")
    return {"keeper": keeper, "lead": lead, "project": project}


def test_a_work_items_custom_values_are_written_with_it_and_logged(world):
    hull = custom_field_create(actor=world["keeper"], name="Hull number", applies_to="work_item", format="string",
                               regexp="[A-Z]{2}-[0-9]{3}")
    task = task_create(actor=world["lead"], project=world["project"], name="Weld", custom_fields={hull.pk: "KP-101"})
    assert custom_values_read("work_item", [task.pk])[task.pk] == {hull.pk: "KP-101"}
    task_update(actor=world["lead"], task=task, custom_fields={hull.pk: "KP-102"})
    assert custom_values_read("work_item", [task.pk])[task.pk] == {hull.pk: "KP-102"}
    logged = ChangeEvent.objects.filter(entity="custom_value", entity_id=task.pk).order_by("seq")
    assert [e.changes["value"] for e in logged] == [[None, "KP-101"], ["KP-101", "KP-102"]]


def test_a_refused_custom_value_writes_neither_the_work_item_nor_the_value(world):
    hull = custom_field_create(actor=world["keeper"], name="Hull number", applies_to="work_item", format="string",
                               regexp="[A-Z]{2}-[0-9]{3}")
    events = ChangeEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        task_create(actor=world["lead"], project=world["project"], name="Weld", custom_fields={hull.pk: "nope"})
    assert (caught.value.code, caught.value.field) == ("invalid_format", f"custom_fields.{hull.pk}")
    assert not WorkItem.objects.filter(name="Weld").exists()
    task = task_create(actor=world["lead"], project=world["project"], name="Rivet")
    events = ChangeEvent.objects.count()
    with pytest.raises(InvalidInput):
        task_update(actor=world["lead"], task=task, duration=9, custom_fields={hull.pk: "x" * 300})
    assert WorkItem.objects.get(pk=task.pk).duration == 1
    assert ChangeEvent.objects.count() == events


def test_a_required_field_needs_a_value_or_its_default(world):
    custom_field_create(actor=world["keeper"], name="Cost centre", applies_to="work_item", format="integer",
                        is_required=True)
    with pytest.raises(InvalidInput) as caught:
        task_create(actor=world["lead"], project=world["project"], name="Paint")
    assert caught.value.code == "required"
    assert not WorkItem.objects.filter(name="Paint").exists()


def test_a_projects_custom_values_are_written_with_it(world):
    budget = custom_field_create(actor=world["keeper"], name="Budget", applies_to="project", format="float",
                                 min_value=0)
    project = project_create(actor=world["lead"], name="Dock", start_date=world["project"].start_date,
                             custom_fields={budget.pk: "1250.5"})
    assert str(custom_values_read("project", [project.pk])[project.pk][budget.pk]) == "1250.5"
    with pytest.raises(InvalidInput) as caught:
        project_update(actor=world["lead"], project=project, name="Dock 2", custom_fields={budget.pk: -1})
    assert caught.value.code == "out_of_range"
    assert Project.objects.get(pk=project.pk).name == "Dock"


def test_the_bulk_write_checks_and_writes_custom_values_as_the_single_row_services_do(world):
    lead, project = world["lead"], world["project"]
    hull = custom_field_create(actor=world["keeper"], name="Hull number", applies_to="work_item", format="string",
                               regexp="[A-Z]{2}-[0-9]{3}")
    shift = custom_field_create(actor=world["keeper"], name="Shift", applies_to="work_item", format="integer",
                                is_required=True, default_value=1)
    owner_field = custom_field_create(actor=world["keeper"], name="Inspector", applies_to="work_item",
                                      format="user")
    existing = task_create(actor=lead, project=project, name="Old")
    events = ChangeEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        tasks_bulk_apply(actor=lead, project=project, tasks=[
            {"uid": uuid.uuid4(), "name": "Fine", "custom_fields": {hull.pk: "KP-001"}},
            {"id": existing.pk, "custom_fields": {hull.pk: "bad"}}])
    assert (caught.value.code, caught.value.field) == ("invalid_format", f"tasks[1].custom_fields.{hull.pk}")
    with pytest.raises(InvalidInput) as caught:   # a user that does not exist, found after every row is read
        tasks_bulk_apply(actor=lead, project=project, tasks=[
            {"uid": uuid.uuid4(), "name": "Fine"},
            {"uid": uuid.uuid4(), "name": "Also", "custom_fields": {owner_field.pk: 999_999}}])
    assert (caught.value.code, caught.value.field) == ("invalid_reference",
                                                       f"tasks[1].custom_fields.{owner_field.pk}")
    assert ChangeEvent.objects.count() == events and not WorkItem.objects.filter(name__in=["Fine", "Also"]).exists()
    uid = uuid.uuid4()
    tasks_bulk_apply(actor=lead, project=project, tasks=[
        {"uid": uid, "name": "New", "custom_fields": {hull.pk: "KP-002", owner_field.pk: lead.pk}},
        {"id": existing.pk, "custom_fields": {hull.pk: "KP-003"}}])
    new = WorkItem.objects.get(uid=uid)
    values = custom_values_read("work_item", [new.pk, existing.pk])
    assert values[new.pk] == {hull.pk: "KP-002", shift.pk: 1, owner_field.pk: lead.pk}
    assert values[existing.pk] == {hull.pk: "KP-003", shift.pk: 1}
