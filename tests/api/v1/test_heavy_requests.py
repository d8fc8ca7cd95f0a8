"""Starving the server, as an attack: a user whose heavy request is running (the bulk endpoint, sync, a schedule
recompute, a large body) sends another and gets 429 ``too_many_heavy_requests`` with ``Retry-After``, nothing
written; other users' reads and heavy requests still answer while under the server-wide bound; past it every
heavy request is refused and light requests still answer. Slots are held from the test, so nothing is timed."""

from __future__ import annotations

import uuid

import pytest

from keelplan.core.slots import heavy_slots_acquire, slots_held_here
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_create

from conftest import client_for, make_project, make_user

from .contract import assert_error, assert_nothing_written, db_state, json_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def bounds(settings, tmp_path):
    settings.DATA_DIR = tmp_path  # the SQLite lock files of this test only
    settings.KEELPLAN_HEAVY_PER_USER = 1
    settings.KEELPLAN_HEAVY_SERVER = 2
    settings.KEELPLAN_HEAVY_BODY_KB = 256
    yield settings
    assert slots_held_here() == set(), "a request left a heavy slot behind"


def bulk_body(count: int = 3) -> dict:
    return {"tasks": [{"uid": str(uuid.uuid4()), "name": f"Flood {n}", "duration": 2} for n in range(count)]}


def bulk(client, project, count: int = 3):
    return client.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", bulk_body(count), format="json")


def assert_too_many(response) -> dict:
    body = assert_error(response, 429, code="too_many_heavy_requests")
    assert body["detail"]
    assert response["Retry-After"].isdigit() and int(response["Retry-After"]) >= 1, response["Retry-After"]
    return body


def tasks_of(project) -> int:
    return WorkItem.objects.filter(project=project).count()


@pytest.fixture
def rival(db):
    """Another user with a project of their own holding one task."""
    user = make_user("rival")
    project = make_project(user, name="Rival's")
    task_create(actor=user, project=project, name="Theirs", duration=3)
    return {"user": user, "project": project, "client": client_for(user)}


def test_a_second_bulk_while_the_users_first_runs_is_429_and_writes_nothing(owner, project, api):
    running = heavy_slots_acquire(user_id=owner.pk, per_user=1, server=2)  # the user's first bulk, still running
    before = db_state()
    try:
        body = assert_too_many(bulk(api, project))
        assert "heavy request" in body["detail"]
        assert_nothing_written(before, "a bulk past the user's bound")
        assert tasks_of(project) == 0
    finally:
        running.release()
    assert bulk(api, project).status_code == 200
    assert tasks_of(project) == 3


def test_every_heavy_endpoint_is_gated_and_light_ones_are_not(owner, project, api):
    task = task_create(actor=owner, project=project, name="Mine", duration=2)
    base = f"/api/v1/projects/{project.pk}"
    push = {"client_batch_id": str(uuid.uuid4()), "last_pulled_at": 0,
            "changes": {"tasks": {"created": [{"uid": str(uuid.uuid4()), "name": "Offline"}]}}}
    with heavy_slots_acquire(user_id=owner.pk, per_user=1, server=2):
        before = db_state()
        assert_too_many(api.post(f"{base}/sync/", push, format="json"))
        assert_too_many(api.get(f"{base}/sync/?last_pulled_at=0"))
        assert_too_many(api.post(f"{base}/schedule/"))
        assert_nothing_written(before, "heavy requests past the user's bound")
        # Light requests of the same user still answer.
        assert api.get(f"{base}/schedule/").status_code == 200
        assert api.get(f"/api/v1/tasks/?project={project.pk}").status_code == 200
        assert api.patch(f"/api/v1/tasks/{task.pk}/", {"duration": 4}, format="json").status_code == 200
    assert api.get(f"{base}/sync/?last_pulled_at=0").status_code == 200
    assert api.post(f"{base}/schedule/").status_code == 200


def test_a_write_with_a_body_over_the_threshold_is_heavy(owner, project, api, bounds):
    bounds.KEELPLAN_HEAVY_BODY_KB = 1
    task = task_create(actor=owner, project=project, name="Mine", duration=2)
    url = f"/api/v1/tasks/{task.pk}/"
    with heavy_slots_acquire(user_id=owner.pk, per_user=1, server=2):
        before = db_state()
        assert_too_many(api.patch(url, {"description": "x" * 2048}, format="json"))
        assert_nothing_written(before, "a large write past the user's bound")
        assert api.patch(url, {"description": "short"}, format="json").status_code == 200
    assert api.patch(url, {"description": "x" * 2048}, format="json").status_code == 200
    task.refresh_from_db()
    assert task.description == "x" * 2048


def test_another_user_is_still_answered_while_under_the_server_bound(owner, project, api, rival):
    with heavy_slots_acquire(user_id=owner.pk, per_user=1, server=2):
        assert_too_many(bulk(api, project))
        theirs = rival["project"]
        assert rival["client"].get(f"/api/v1/projects/{theirs.pk}/schedule/").status_code == 200
        response = bulk(rival["client"], theirs, count=2)
        assert response.status_code == 200, json_body(response)
    assert tasks_of(theirs) == 3
    assert tasks_of(project) == 0


def test_past_the_server_bound_every_heavy_request_is_refused_but_light_ones_answer(owner, project, api, rival):
    third = make_user("third")
    third_project = make_project(third, name="Third's")
    third_client = client_for(third)
    theirs = rival["project"]
    # Two heavy requests of two other people fill the server's two slots.
    held = [heavy_slots_acquire(user_id=user_id, per_user=1, server=2) for user_id in (third.pk, rival["user"].pk)]
    try:
        before = db_state()
        assert_too_many(bulk(api, project))
        assert_too_many(bulk(rival["client"], theirs))
        assert_too_many(third_client.post(f"/api/v1/projects/{third_project.pk}/schedule/"))
        assert_nothing_written(before, "heavy requests past the server's bound")
        assert api.get(f"/api/v1/projects/{project.pk}/schedule/").status_code == 200
        assert rival["client"].get(f"/api/v1/projects/{theirs.pk}/schedule/").status_code == 200
        assert rival["client"].get(f"/api/v1/tasks/?project={theirs.pk}").status_code == 200
        response = api.post("/api/v1/tasks/", {"project": project.pk, "name": "Small"}, format="json")
        assert response.status_code == 201, json_body(response)
    finally:
        held.pop().release()
    # One slot free again: the next heavy request goes through.
    assert bulk(api, project).status_code == 200
    held.pop().release()


def test_a_refused_or_failed_heavy_request_gives_its_slot_back(owner, project, api, outsider):
    bad = {"tasks": [{"uid": str(uuid.uuid4()), "name": "Bad", "duration": "long"}]}
    assert api.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", bad, format="json").status_code == 400
    assert slots_held_here() == set()
    stranger = client_for(outsider)
    assert bulk(stranger, project).status_code == 404
    assert slots_held_here() == set()
    assert bulk(api, project).status_code == 200


def test_authentication_comes_before_the_gate(owner, project):
    from rest_framework.test import APIClient

    with heavy_slots_acquire(user_id=owner.pk, per_user=1, server=2):
        response = APIClient().post(f"/api/v1/projects/{project.pk}/tasks/bulk/", bulk_body(), format="json")
    assert response.status_code == 401
