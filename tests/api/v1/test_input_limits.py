"""The scheduler's input bounds through the v1 API (``keelplan.engine.limits``, TruePPM's numbers): a project
start, a status date, a planned start (and the other dates that place work) and actual dates beyond them are
refused with 400 ``date_out_of_range`` naming the field, and nothing is written; an actual finish without an
actual start is accepted, as TruePPM accepts it. The project starts on Monday 5 January 2026, so the latest
planned start or status date is 366,000 days later, 2 February 3028, and actual dates run from 10 December
1023."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from keelplan.engine import limits
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_create, task_update
from keelplan.portfolio.models import Project

from .contract import assert_error, assert_nothing_written, db_state, json_body

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"
PROJECTS = "/api/v1/projects/"
LATEST = dt.date(3028, 2, 2)     # 5 January 2026 + 366,000 days
EARLIEST = dt.date(1023, 12, 10)  # 5 January 2026 - 366,000 days
DAY = dt.timedelta(days=1)


def test_the_bounds_these_tests_use_are_the_engines():
    start = dt.date(2026, 1, 5)
    assert limits.latest_planned_date(start) == LATEST
    assert limits.actual_date_window(start) == (EARLIEST, LATEST)
    assert limits.LATEST_START == dt.date(9899, 10, 16)


def refused(response, field: str) -> dict:
    body = assert_error(response, 400, field=field, code="date_out_of_range")
    assert "366000 days" in body["detail"] or "latest project start" in body["detail"]
    return body


def row(model, pk):
    """The columns of one row, to show a refused write left it exactly as it was."""
    return model.all_objects.filter(pk=pk).values().get()


# ---------------------------------------------------------------- projects

@pytest.mark.parametrize("body, field", [
    ({"start_date": "9899-10-17"}, "start_date"),
    ({"start_date": "9990-01-01"}, "start_date"),
    ({"start_date": "2026-04-01", "status_date": "5000-01-01"}, "status_date"),
    ({"start_date": "2026-04-01", "status_date": "3028-04-29"}, "status_date"),
])
def test_creating_a_project_beyond_the_bounds_is_refused(api, body, field):
    before = db_state()
    refused(api.post(PROJECTS, {"name": "Far", **body}, format="json"), field)
    assert_nothing_written(before, "project create")


def test_creating_a_project_at_the_bounds_is_accepted(api):
    for body in ({"start_date": "9899-10-16"}, {"start_date": "2026-04-01", "status_date": "3028-04-28"}):
        response = api.post(PROJECTS, {"name": f"Edge {body}", **body}, format="json")
        assert response.status_code == 201, json_body(response)


@pytest.mark.parametrize("body, field", [
    ({"start_date": "9899-10-17"}, "start_date"),
    ({"status_date": (LATEST + DAY).isoformat()}, "status_date"),
    ({"status_date": "5000-01-01"}, "status_date"),
])
def test_updating_a_project_beyond_the_bounds_leaves_it_unchanged(api, project, body, field):
    kept, before = row(Project, project.pk), db_state()
    refused(api.patch(f"{PROJECTS}{project.pk}/", body, format="json"), field)
    assert row(Project, project.pk) == kept
    assert_nothing_written(before, "project update")


def test_a_status_date_at_the_bound_is_accepted(api, project):
    response = api.patch(f"{PROJECTS}{project.pk}/", {"status_date": LATEST.isoformat()}, format="json")
    assert response.status_code == 200, json_body(response)
    assert Project.objects.get(pk=project.pk).status_date == LATEST


def test_moving_the_start_away_from_a_tasks_dates_is_refused(api, owner, project):
    """A task's planned start was within the bounds of the old start; a start 1,000 years earlier would put it
    beyond them, so the move is refused (naming the start and the task) and nothing changes."""
    task = task_create(actor=owner, project=project, name="Far", constraint_type="SNET", constraint_date=LATEST)
    kept, before = row(Project, project.pk), db_state()
    body = refused(api.patch(f"{PROJECTS}{project.pk}/", {"start_date": "2025-01-06"}, format="json"), "start_date")
    assert f"'Far' (#{task.pk})" in body["detail"]
    assert row(Project, project.pk) == kept
    assert_nothing_written(before, "start move")
    # A move that keeps the task within the bounds goes through.
    response = api.patch(f"{PROJECTS}{project.pk}/", {"start_date": "2026-01-12"}, format="json")
    assert response.status_code == 200, json_body(response)


# ---------------------------------------------------------------- tasks

@pytest.mark.parametrize("body, fields", [
    ({"planned_start": (LATEST + DAY).isoformat()}, ("planned_start", "constraint_date")),
    ({"planned_start": "5000-01-01"}, ("planned_start", "constraint_date")),
    ({"constraint_type": "MSO", "constraint_date": (LATEST + DAY).isoformat()}, ("constraint_date",)),
    ({"scheduling_mode": "manual", "manual_start": "2026-01-05", "manual_finish": (LATEST + DAY).isoformat()},
     ("manual_finish",)),
    ({"actual_start": (EARLIEST - DAY).isoformat()}, ("actual_start",)),
    ({"actual_finish": "5000-01-01"}, ("actual_finish",)),
])
def test_creating_a_task_beyond_the_bounds_is_refused(api, project, body, fields):
    before = db_state()
    response = api.post(TASKS, {"project": project.pk, "name": "T", **body}, format="json")
    for field in fields:
        refused(response, field)
    assert_nothing_written(before, "task create")


@pytest.mark.parametrize("body, field", [
    ({"planned_start": (LATEST + DAY).isoformat()}, "planned_start"),
    ({"planned_start": "9999-12-31"}, "planned_start"),
    ({"actual_start": "2026-01-05", "actual_finish": (LATEST + DAY).isoformat()}, "actual_finish"),
])
def test_updating_a_task_beyond_the_bounds_leaves_it_unchanged(api, owner, project, body, field):
    task = task_create(actor=owner, project=project, name="T", duration=2)
    kept, before = row(WorkItem, task.pk), db_state()
    refused(api.patch(f"{TASKS}{task.pk}/", body, format="json"), field)
    assert row(WorkItem, task.pk) == kept
    assert_nothing_written(before, "task update")


def test_dates_at_the_bounds_and_before_the_start_are_accepted(api, project):
    for body in ({"planned_start": LATEST.isoformat(), "duration": 0},
                 {"planned_start": "1900-01-01"},  # before the start: the start floors it
                 {"actual_start": EARLIEST.isoformat(), "actual_finish": "2026-01-06", "percent_complete": 100}):
        response = api.post(TASKS, {"project": project.pk, "name": "Edge", **body}, format="json")
        assert response.status_code == 201, json_body(response)


def test_the_bulk_endpoint_and_sync_push_refuse_the_same_dates(api, owner, project):
    task = task_create(actor=owner, project=project, name="T", duration=2)
    kept, before = row(WorkItem, task.pk), db_state()
    response = api.post(f"/api/v1/projects/{project.pk}/tasks/bulk/",
                        {"tasks": [{"uid": str(uuid.uuid4()), "name": "New"},
                                   {"id": task.pk, "planned_start": "5000-01-01"}]}, format="json")
    refused(response, "tasks[1].planned_start")
    since = json_body(api.get(f"/api/v1/projects/{project.pk}/sync/"))["timestamp"]
    before = db_state()
    response = api.post(f"/api/v1/projects/{project.pk}/sync/", {
        "client_batch_id": str(uuid.uuid4()), "last_pulled_at": since,
        "changes": {"tasks": {"updated": [{"id": task.pk, "actual_start": "0900-01-01"}]}}}, format="json")
    body = json_body(response)
    assert response.status_code == 400 and body["code"] == "date_out_of_range", body
    assert any(key.endswith("actual_start") for key in body), body
    assert row(WorkItem, task.pk) == kept
    assert_nothing_written(before, "sync push")


# ---------------------------------------------------------------- an actual finish alone

def test_an_actual_finish_without_an_actual_start_is_accepted(api, project):
    """TruePPM's ``progress_completed_pin``: a task complete by its actual finish, its start not recorded."""
    response = api.post(TASKS, {"project": project.pk, "name": "Done", "duration": 5, "percent_complete": 100,
                                "actual_finish": "2026-01-09"}, format="json")
    body = json_body(response)
    assert response.status_code == 201, body
    assert (body["actual_start"], body["actual_finish"]) == (None, "2026-01-09")
    stored = WorkItem.objects.get(pk=body["id"])
    assert (stored.actual_start, stored.actual_finish) == (None, dt.date(2026, 1, 9))
    # Through an edit too, and a finish before a recorded start is still refused.
    task = json_body(api.post(TASKS, {"project": project.pk, "name": "Later", "duration": 2}, format="json"))
    response = api.patch(f"{TASKS}{task['id']}/", {"actual_finish": "2026-01-07"}, format="json")
    assert response.status_code == 200, json_body(response)
    before = db_state()
    response = api.patch(f"{TASKS}{task['id']}/", {"actual_start": "2026-01-08"}, format="json")
    assert_error(response, 400, field="actual_finish")
    assert_nothing_written(before, "finish before start")


def test_the_service_takes_an_actual_finish_alone_for_every_dialect(owner, project):
    task = task_create(actor=owner, project=project, name="Done", duration=3, actual_finish=dt.date(2026, 1, 7))
    assert task.actual_start is None
    task = task_update(actor=owner, task=task, actual_finish=dt.date(2026, 1, 8))
    assert WorkItem.objects.get(pk=task.pk).actual_finish == dt.date(2026, 1, 8)
