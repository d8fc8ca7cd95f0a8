"""GET /api/v1/projects/{id}/sync/: the pull side of offline sync, read from the change log."""

from __future__ import annotations

import pytest

from conftest import client_for
from keelplan.planning.services import dependency_create, task_create, task_delete, task_update

COLLECTIONS = {"projects", "tasks", "dependencies", "calendars", "memberships", "resources", "task_resources"}


def pull(client, project, **params):
    return client.get(f"/api/v1/projects/{project.pk}/sync/", params)


def ids(body, collection, key="updated"):
    return sorted(row["id"] if isinstance(row, dict) else row for row in body["changes"][collection][key])


@pytest.mark.django_db
def test_a_first_pull_returns_every_live_row_and_a_timestamp(api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    b = task_create(actor=owner, project=project, name="B")
    dependency_create(actor=owner, predecessor=a, successor=b)
    body = pull(api, project).json()
    assert set(body["changes"]) == COLLECTIONS
    assert ids(body, "tasks") == [a.pk, b.pk]
    assert ids(body, "projects") == [project.pk]
    assert len(body["changes"]["dependencies"]["updated"]) == 1
    assert all(body["changes"][c]["created"] == [] and body["changes"][c]["deleted"] == [] for c in COLLECTIONS)
    assert body["timestamp"] > 0


@pytest.mark.django_db
def test_a_delta_pull_returns_only_what_changed_since_with_deletions_as_ids(api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    b = task_create(actor=owner, project=project, name="B")
    untouched = task_create(actor=owner, project=project, name="Untouched")
    first = pull(api, project).json()
    task_update(actor=owner, task=b, name="B renamed")
    task_delete(actor=owner, task=a)
    body = pull(api, project, last_pulled_at=first["timestamp"]).json()
    assert ids(body, "tasks") == [b.pk]
    assert body["changes"]["tasks"]["updated"][0]["name"] == "B renamed"
    assert ids(body, "tasks", "deleted") == [a.pk]
    assert untouched.pk not in ids(body, "tasks")
    assert body["timestamp"] > first["timestamp"]
    again = pull(api, project, since=body["timestamp"]).json()  # `since` is an alias
    assert all(not again["changes"][c]["updated"] and not again["changes"][c]["deleted"] for c in COLLECTIONS)
    assert again["timestamp"] == body["timestamp"]


@pytest.mark.django_db
def test_tasks_the_scheduler_moved_are_in_the_delta_with_their_new_dates(api, project, owner):
    a = task_create(actor=owner, project=project, name="A", duration=2)
    b = task_create(actor=owner, project=project, name="B", duration=1)
    c = task_create(actor=owner, project=project, name="C", duration=9)  # sets the finish; never moves
    dependency_create(actor=owner, predecessor=a, successor=b, lag=0, lag_unit="wd")
    first = pull(api, project).json()
    task_update(actor=owner, task=a, duration=4)  # B moves though nobody wrote B
    body = pull(api, project, last_pulled_at=first["timestamp"]).json()
    assert ids(body, "tasks") == [a.pk, b.pk]
    moved = {row["id"]: row for row in body["changes"]["tasks"]["updated"]}
    assert (moved[b.pk]["early_start"], moved[b.pk]["total_float"]) == ("2026-01-09", 4)
    assert c.pk not in moved


@pytest.mark.django_db
def test_a_viewer_may_pull_and_a_non_member_gets_404(project, members, outsider):
    assert pull(client_for(members["viewer"]), project).status_code == 200
    response = pull(client_for(outsider), project)
    assert response.status_code == 404


@pytest.mark.django_db
def test_pulling_needs_a_token(project):
    from rest_framework.test import APIClient

    assert pull(APIClient(), project).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "99999999999999999999"])
def test_a_bad_last_pulled_at_is_a_400_naming_it(api, project, value):
    response = pull(api, project, last_pulled_at=value)
    assert response.status_code == 400
    assert "last_pulled_at" in response.json()


@pytest.mark.django_db
def test_a_timestamp_from_the_future_is_refused_with_a_code(api, project):
    now = pull(api, project).json()["timestamp"]
    response = pull(api, project, last_pulled_at=now + 10)
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_sync_point"
