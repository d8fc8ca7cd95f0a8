"""Contract of ``/api/v1/task-resources/``: assignments with ``units`` in range, one per (task, resource), written
by Schedulers and above, pointing at tasks the caller can see."""

from __future__ import annotations

import pytest

from keelplan.planning.services import task_create
from keelplan.resources.models import Assignment
from keelplan.resources.services import assignment_create, resource_create

from conftest import client_for, make_project, make_user

from .contract import (
    EndpointContract, assert_error, assert_nothing_written, db_state, json_body, result_ids,
)

URL = "/api/v1/task-resources/"


class TestTaskResourceContract(EndpointContract):
    model = Assignment
    list_path = URL
    change_entity = "assignment"
    detail_fields = ("id", "uid", "project", "task", "resource", "resource_name", "units", "lock_version",
                     "created_at", "updated_at")

    def writer(self, ctx):
        """The project's Admin: the Owner fixture is also a workspace administrator, who sees every project, so
        the refusals of rows in projects the writer cannot see need someone who is not."""
        return ctx.members["admin"]

    def make(self, ctx):
        task = task_create(actor=ctx.owner, project=ctx.project, name="Lift beams")
        crane = resource_create(actor=ctx.owner, name="Crane")
        return assignment_create(actor=ctx.owner, work_item=task, resource=crane, units="0.50")

    def create_payloads(self, ctx):
        task = task_create(actor=ctx.owner, project=ctx.project, name="Pour slab")
        return [
            {"task": task.pk, "resource": resource_create(actor=ctx.owner, name="Mixer").pk},
            {"task": task.pk, "resource": resource_create(actor=ctx.owner, name="Crew").pk, "units": "0.25"},
            {"task": task.pk, "resource": resource_create(actor=ctx.owner, name="Pump").pk, "units": 2},
        ]

    def put_payload(self, ctx, obj):
        return {"units": "0.75"}

    def patch_payloads(self, ctx, obj):
        return [{"units": "0.25"}, {"units": 1}, {"units": "10.00"}]

    def bad_create_payloads(self, ctx):
        task = task_create(actor=ctx.owner, project=ctx.project, name="Target")
        resource = resource_create(actor=ctx.owner, name="Spare")
        stranger = make_project(make_user(), name="Stranger")
        hidden = task_create(actor=stranger.created_by, project=stranger, name="Hidden")
        gone = task_create(actor=ctx.owner, project=ctx.project, name="Gone")
        ctx.api.delete(f"/api/v1/tasks/{gone.pk}/")
        return [
            ({"resource": resource.pk}, "task"),
            ({"task": task.pk}, "resource"),
            ({"task": "abc", "resource": resource.pk}, "task"),
            ({"task": 99999999, "resource": resource.pk}, "task"),
            ({"task": 99999999999999999999, "resource": resource.pk}, "task"),
            ({"task": [task.pk], "resource": resource.pk}, "task"),
            ({"task": hidden.pk, "resource": resource.pk}, "task"),
            ({"task": gone.pk, "resource": resource.pk}, "task"),
            ({"task": task.pk, "resource": 99999999}, "resource"),
            ({"task": task.pk, "resource": {"id": resource.pk}}, "resource"),
            ({"task": task.pk, "resource": None}, "resource"),
            ({"task": task.pk, "resource": resource.pk, "units": 0}, "units"),
            ({"task": task.pk, "resource": resource.pk, "units": -0.5}, "units"),
            ({"task": task.pk, "resource": resource.pk, "units": "10.01"}, "units"),
            ({"task": task.pk, "resource": resource.pk, "units": 1e9}, "units"),
            ({"task": task.pk, "resource": resource.pk, "units": "half"}, "units"),
            ({"task": task.pk, "resource": resource.pk, "units": "NaN"}, "units"),
            ({"task": task.pk, "resource": resource.pk, "units": None}, "units"),
        ]

    def bad_update_payloads(self, ctx, obj):
        return [({"units": 0}, "units"), ({"units": "11"}, "units"), ({"units": "many"}, "units"),
                ({"units": None}, "units"), ({"units": [1]}, "units")]


def test_units_default_to_one_and_project_follows_the_task(owner, project, api):
    task = task_create(actor=owner, project=project, name="Paint")
    painter = resource_create(actor=owner, name="Painter")
    body = json_body(api.post(URL, {"task": task.pk, "resource": painter.pk}, format="json"))
    assert (body["units"], body["project"], body["resource_name"]) == ("1.00", project.pk, "Painter")


def test_duplicate_assignment_is_409(owner, project, api):
    task = task_create(actor=owner, project=project, name="Paint")
    painter = resource_create(actor=owner, name="Painter")
    assignment_create(actor=owner, work_item=task, resource=painter)
    before = db_state()
    assert_error(api.post(URL, {"task": task.pk, "resource": painter.pk, "units": "0.50"}, format="json"), 409,
                 field="resource", code="duplicate_assignment")
    assert_nothing_written(before, "duplicate assignment")


def test_deleted_resource_cannot_be_assigned(owner, project, api):
    task = task_create(actor=owner, project=project, name="Paint")
    painter = resource_create(actor=owner, name="Painter")
    assert api.delete(f"/api/v1/resources/{painter.pk}/").status_code == 204
    before = db_state()
    assert_error(api.post(URL, {"task": task.pk, "resource": painter.pk}, format="json"), 400, field="resource")
    assert_nothing_written(before, "assigning a deleted resource")


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_below_scheduler_may_not_assign(project, members, role):
    owner = members["owner"]
    task = task_create(actor=owner, project=project, name="Paint", assignee=members["member"])
    painter = resource_create(actor=owner, name="Painter")
    existing = assignment_create(actor=owner, work_item=task, resource=resource_create(actor=owner, name="Other"))
    client = client_for(members[role])
    before = db_state()
    assert_error(client.post(URL, {"task": task.pk, "resource": painter.pk}, format="json"), 403)
    assert_error(client.patch(f"{URL}{existing.pk}/", {"units": "0.50"}, format="json"), 403)
    assert_error(client.delete(f"{URL}{existing.pk}/"), 403)
    assert_nothing_written(before, f"{role} assigning")


def test_scheduler_may_assign(project, members):
    owner = members["owner"]
    task = task_create(actor=owner, project=project, name="Paint")
    painter = resource_create(actor=owner, name="Painter")
    client = client_for(members["scheduler"])
    response = client.post(URL, {"task": task.pk, "resource": painter.pk, "units": "0.50"}, format="json")
    assert response.status_code == 201, response.content
    url = f"{URL}{response.json()['id']}/"
    assert json_body(client.patch(url, {"units": "0.75"}, format="json"))["units"] == "0.75"
    assert client.delete(url).status_code == 204


def test_filters_by_project_task_and_resource(owner, project, api):
    sister = make_project(owner, name="Sister")
    here = task_create(actor=owner, project=project, name="Here")
    there = task_create(actor=owner, project=sister, name="There")
    crane, crew = resource_create(actor=owner, name="Crane"), resource_create(actor=owner, name="Crew")
    a = assignment_create(actor=owner, work_item=here, resource=crane)
    b = assignment_create(actor=owner, work_item=there, resource=crane)
    c = assignment_create(actor=owner, work_item=here, resource=crew)
    assert result_ids(api, URL, project=project.pk) == [a.pk, c.pk]
    assert result_ids(api, URL, task=there.pk) == [b.pk]
    assert result_ids(api, URL, resource=crane.pk) == [a.pk, b.pk]
    assert_error(api.get(URL, {"task": "x"}), 400, field="task")
    assert_error(api.get(URL, {"resource": "99999999999999999999"}), 400, field="resource")


def test_task_and_resource_cannot_be_changed_by_update(owner, project, api):
    task = task_create(actor=owner, project=project, name="Paint")
    other = task_create(actor=owner, project=project, name="Sand")
    painter = resource_create(actor=owner, name="Painter")
    assignment = assignment_create(actor=owner, work_item=task, resource=painter)
    body = json_body(api.patch(f"{URL}{assignment.pk}/", {"task": other.pk, "units": "0.50"}, format="json"))
    assert (body["task"], body["units"]) == (task.pk, "0.50")
