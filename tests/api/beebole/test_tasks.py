"""``task.*`` and ``custom_field.list`` through ``POST /api/v2``: a task is an activity of one company (or a
workspace-wide one, listed when no company is named). Each service's request and reply shapes, the rows each writes,
and who may: workspace administrators write tasks, anyone signed in reads them and the custom field list."""

from __future__ import annotations

import pytest

from keelplan.customfields.services import custom_field_create
from keelplan.portfolio.models import GroupAssignment
from keelplan.timesheets.models import Activity
from tests.api.beebole.conftest import Beebole
from tests.api.beebole.workspace_rows import failed, refused
from tests.conftest import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(bb) -> int:
    return bb.call("company.create", company={"name": "Acme Corp"})["id"]


@pytest.fixture
def task(bb, company) -> int:
    return bb.call("task.create", task={"name": "Design", "company": {"id": company}})["id"]


@pytest.fixture
def reader(outsider) -> Beebole:
    """Someone signed in who is no workspace administrator."""
    return Beebole(outsider)


def _generic() -> list[dict]:
    """The workspace-wide activities as ``task.list`` shows them."""
    return [{"id": a.pk, "name": a.name, "company": None, "active": a.is_active}
            for a in Activity.objects.filter(company__isnull=True).order_by("id")]


# ---------------------------------------------------------------- create, get, update


def test_create_makes_an_activity_of_the_company(bb, company):
    reply = bb.call("task.create", task={"name": "Design", "company": {"id": company}})
    assert set(reply) == {"status", "id"} and type(reply["id"]) is int
    row = Activity.objects.get(pk=reply["id"])
    assert (row.name, row.company_id, row.is_active, row.is_default) == ("Design", company, True, False)


def test_create_from_an_unwrapped_body(bb, company):
    pk = bb.call("task.create", name="Review", company={"id": company})["id"]
    assert Activity.objects.get(pk=pk).company_id == company


def test_a_name_is_unique_within_a_company_only(bb, company, task):
    assert failed(bb, "task.create", task={"name": "design", "company": {"id": company}}).startswith("task.name: ")
    globex = bb.call("company.create", company={"name": "Globex"})["id"]
    pk = bb.call("task.create", task={"name": "Design", "company": {"id": globex}})["id"]
    assert Activity.objects.get(pk=pk).company_id == globex


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "X"}, "Missing field: task.company."),
    ({"name": "X", "company": {"id": 987654}}, "Unknown company: no company with id 987654 (task.company)."),
    ({"company": {"id": "COMPANY"}}, "Missing field: task.name."),
    ({"name": "", "company": {"id": "COMPANY"}}, None),
])
def test_create_refusals_change_nothing(bb, company, body, message):
    if body.get("company") == {"id": "COMPANY"}:
        body = {**body, "company": {"id": company}}
    got = failed(bb, "task.create", task=body)
    assert got == message if message else got.startswith("task.name: ")


def test_get_answers_the_documented_fields(bb, company, task):
    assert bb.call("task.get", id=task) == {"status": "ok", "task": {"id": task, "name": "Design",
                                                                     "company": {"id": company}, "active": True}}
    assert failed(bb, "task.get", id=987654) == "Unknown task: no task with id 987654 (id)."


def test_a_workspace_wide_task_has_no_company(bb):
    generic = Activity.objects.filter(company__isnull=True).order_by("id").first()
    assert bb.call("task.get", id=generic.pk)["task"]["company"] is None


def test_update_renames(bb, task):
    assert bb.call("task.update", task={"id": task, "name": "Drawing"}) == {"status": "ok"}
    assert Activity.objects.get(pk=task).name == "Drawing"


def test_activate_and_deactivate(bb, task):
    assert bb.call("task.deactivate", id=task) == {"status": "ok"}
    assert Activity.objects.get(pk=task).is_active is False
    assert bb.call("task.get", id=task)["task"]["active"] is False
    assert bb.call("task.activate", id=task) == {"status": "ok"}
    assert Activity.objects.get(pk=task).is_active is True


# ---------------------------------------------------------------- list


def test_list_answers_a_companys_own_tasks_and_every_task_when_none_is_named(bb, company, task):
    globex = bb.call("company.create", company={"name": "Globex"})["id"]
    theirs = bb.call("task.create", task={"name": "Sales", "company": {"id": globex}})["id"]
    reply = bb.call("task.list", company={"id": company})
    assert reply == {"status": "ok", "tasks": [{"id": task, "name": "Design", "company": {"id": company},
                                                "active": True}]}
    assert bb.call("task.list") == {"status": "ok", "tasks": _generic() + [
        {"id": task, "name": "Design", "company": {"id": company}, "active": True},
        {"id": theirs, "name": "Sales", "company": {"id": globex}, "active": True}]}


def test_list_keeps_inactive_tasks(bb, company, task):
    bb.call("task.deactivate", id=task)
    assert {"id": task, "name": "Design", "company": {"id": company}, "active": False} in bb.call(
        "task.list", company={"id": company})["tasks"]


# ---------------------------------------------------------------- groups


def test_add_group_remove_group_and_groups(bb, task):
    places = bb.call("group.create", group={"name": "Places"})["id"]
    bb.call("group.create", group={"name": "Lyon", "parent": {"id": places}})
    assert bb.call("task.add_group", id=task, group={"id": places}) == {"status": "ok"}
    assert GroupAssignment.objects.filter(activity_id=task, group_id=places).exists()
    assert bb.call("task.groups", id=task) == {"status": "ok", "groups": [
        {"id": places, "name": "Places", "groups": {"count": 1}}]}
    failed(bb, "task.add_group", id=task, group={"id": places})
    assert bb.call("task.remove_group", id=task, group={"id": places}) == {"status": "ok"}
    assert not GroupAssignment.objects.filter(activity_id=task).exists()
    assert bb.call("task.groups", id=task)["groups"] == []


# ---------------------------------------------------------------- custom_field.list


def test_custom_field_list_shows_company_project_and_person_fields_to_everyone(bb, owner, reader):
    person = custom_field_create(actor=owner, name="Badge", applies_to="person", format="string")
    company = custom_field_create(actor=owner, name="Size", applies_to="company", format="list", options=["S"])
    project = custom_field_create(actor=owner, name="Phase", applies_to="project", format="string")
    custom_field_create(actor=owner, name="Risk", applies_to="work_item", format="string")
    reply = reader.call("custom_field.list")
    assert set(reply) == {"status", "customFields"}
    assert sorted(reply["customFields"], key=lambda f: f["id"]) == [
        {"id": person.pk, "name": "Badge", "availableFor": "Person"},
        {"id": company.pk, "name": "Size", "availableFor": "Company"},
        {"id": project.pk, "name": "Phase", "availableFor": "Project"},
    ]
    assert bb.call("custom_field.list") == reply


def test_custom_field_list_of_a_workspace_without_fields(reader):
    assert reader.call("custom_field.list") == {"status": "ok", "customFields": []}


# ---------------------------------------------------------------- who may


def test_anyone_signed_in_reads_tasks(bb, company, task, reader):
    places = bb.call("group.create", group={"name": "Places"})["id"]
    bb.call("task.add_group", id=task, group={"id": places})
    assert reader.call("task.get", id=task) == bb.call("task.get", id=task)
    assert reader.call("task.groups", id=task) == bb.call("task.groups", id=task)
    assert reader.call("task.list", company={"id": company}) == bb.call("task.list", company={"id": company})


@pytest.fixture
def attack(bb, company, task):
    places = bb.call("group.create", group={"name": "Places"})["id"]
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    bb.call("task.add_group", id=task, group={"id": places})
    bb.call("task.deactivate", id=task)
    other = bb.call("task.create", task={"name": "Build", "company": {"id": company}})["id"]
    return {
        "task.create": {"task": {"name": "Mine", "company": {"id": company}}},
        "task.update": {"task": {"id": other, "name": "Mine"}},
        "task.activate": {"id": task},
        "task.deactivate": {"id": other},
        "task.add_group": {"id": task, "group": {"id": crew}},
        "task.remove_group": {"id": task, "group": {"id": places}},
    }


@pytest.mark.parametrize("service", ["task.create", "task.update", "task.activate", "task.deactivate",
                                     "task.add_group", "task.remove_group"])
def test_only_workspace_administrators_write_tasks(service, attack, reader):
    """A project owner who is no workspace administrator tries each write: refused, nothing changed."""
    make_project(reader.user, "Theirs")
    refused(reader, service, **attack[service])
