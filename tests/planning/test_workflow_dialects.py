"""A workflow holds on every path a status change can come by: v1's PATCH, v3's PATCH, v1's bulk endpoint and
offline push each refuse a change the workflow does not allow, in the dialect's own error format, and write
nothing; the change the workflow allows goes through."""

from __future__ import annotations

import uuid

import pytest

from keelplan.planning.models import Status, WorkItem, WorkItemType
from keelplan.planning.services import task_create
from keelplan.planning.workflows import workflow_set
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add
from tests.api.v1.contract import assert_error, assert_nothing_written, db_state, json_body
from tests.api.v3.conftest import assert_v3_error, v3_client

from conftest import client_for, make_project, make_user

pytestmark = pytest.mark.django_db


def status(code: str) -> Status:
    return Status.objects.get(code=code)


@pytest.fixture
def world(db):
    """``dig``, a Task in "Not started" of a project whose Admin may move Tasks from there to "In progress" only
    (the workflow's one row)."""
    keeper = make_user("keeper", workspace_admin=True)
    boss = make_user("boss")
    project = make_project(boss, name="Quarry")
    admin = make_user("quarry-admin")
    membership_add(actor=boss, project=project, user=admin, role=Role.ADMIN)
    workflow_set(actor=keeper, type=WorkItemType.objects.get(code="task"), old_status=status("NOT_STARTED"),
                 transitions=[(status("IN_PROGRESS"), Role.ADMIN, "role")])
    dig = task_create(actor=boss, project=project, name="Dig")
    return {"project": project, "admin": admin, "dig": dig}


def status_of(task) -> str:
    return WorkItem.objects.get(pk=task.pk).status.code


def test_v1_patch_refuses_a_forbidden_transition(world):
    api, dig = client_for(world["admin"]), world["dig"]
    before = db_state()
    body = assert_error(api.patch(f"/api/v1/tasks/{dig.pk}/", {"status": "COMPLETE"}, format="json"), 400,
                        field="status", code="transition_not_allowed")
    assert "'Not started' to 'Complete'" in body["status"][0] and "(Admin)" in body["status"][0]
    assert_nothing_written(before, "v1 PATCH")
    answer = api.patch(f"/api/v1/tasks/{dig.pk}/", {"status": "IN_PROGRESS"}, format="json")
    assert answer.status_code == 200, json_body(answer)
    assert status_of(dig) == "IN_PROGRESS"


def test_v3_patch_refuses_a_forbidden_transition(world):
    v3, dig = v3_client(world["admin"]), world["dig"]
    url = f"/api/v3/work_packages/{dig.pk}"
    before = db_state()
    body = assert_v3_error(v3.patch(url, {"lockVersion": dig.lock_version, "_links": {"status": {
        "href": f"/api/v3/statuses/{status('COMPLETE').pk}"}}}, format="json"), 422, "PropertyConstraintViolation",
        attribute="status")
    assert "'Not started' to 'Complete'" in body["message"]
    assert_nothing_written(before, "v3 PATCH")
    answer = v3.patch(url, {"lockVersion": dig.lock_version, "_links": {"status": {
        "href": f"/api/v3/statuses/{status('IN_PROGRESS').pk}"}}}, format="json")
    assert answer.status_code == 200, answer.content[:300]
    assert status_of(dig) == "IN_PROGRESS"


def test_the_v1_bulk_endpoint_refuses_a_forbidden_transition(world):
    api, dig, project = client_for(world["admin"]), world["dig"], world["project"]
    url = f"/api/v1/projects/{project.pk}/tasks/bulk/"
    before = db_state()
    body = assert_error(api.post(url, {"tasks": [{"uid": str(uuid.uuid4()), "name": "Haul"},
                                                 {"id": dig.pk, "status": "COMPLETE"}]}, format="json"),
                        400, field="tasks[1].status", code="transition_not_allowed")
    assert "'Not started' to 'Complete'" in body["tasks[1].status"][0]
    assert_nothing_written(before, "bulk")
    answer = api.post(url, {"tasks": [{"id": dig.pk, "status": "IN_PROGRESS"}]}, format="json")
    assert answer.status_code == 200, json_body(answer)
    assert status_of(dig) == "IN_PROGRESS"


def test_an_offline_push_refuses_a_forbidden_transition(world):
    api, dig, project = client_for(world["admin"]), world["dig"], world["project"]
    url = f"/api/v1/projects/{project.pk}/sync/"
    since = api.get(url).json()["timestamp"]

    def push(code: str):
        return api.post(url, {"client_batch_id": str(uuid.uuid4()), "last_pulled_at": since, "changes": {
            "tasks": {"updated": [{"id": dig.pk, "status": code}]}}}, format="json")

    before = db_state()
    body = assert_error(push("COMPLETE"), 400, field="tasks.updated[0].status", code="transition_not_allowed")
    assert "'Not started' to 'Complete'" in body["tasks.updated[0].status"][0]
    assert_nothing_written(before, "push")
    answer = push("IN_PROGRESS")
    assert answer.status_code == 200, json_body(answer)
    assert status_of(dig) == "IN_PROGRESS"
