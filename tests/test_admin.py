"""The admin site shows domain rows but cannot write them: such a write would skip roles, the change log and
the scheduler."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from keelplan.planning.services import task_create

from conftest import make_project, make_user


@pytest.fixture
def staff_client(db):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "root-password-1")
    client = Client()
    client.force_login(admin)
    return admin, client


@pytest.mark.parametrize("model", ["planning/workitem", "planning/dependency", "calendars/calendar",
                                   "portfolio/project", "resources/resource", "resources/assignment",
                                   "sync/syncbatch"])
def test_domain_rows_cannot_be_added_in_the_admin(staff_client, model):
    _, client = staff_client
    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/{model}/add/").status_code == 403


def test_a_task_is_shown_but_not_editable(staff_client):
    admin, client = staff_client
    owner = make_user("owner-admin")
    task = task_create(actor=owner, project=make_project(owner), name="Read only", duration=2)
    page = client.get(f"/admin/planning/workitem/{task.pk}/change/")
    assert page.status_code == 200
    assert b"Read only" in page.content
    response = client.post(f"/admin/planning/workitem/{task.pk}/change/", {"name": "Changed", "duration": 9})
    assert response.status_code == 403
    task.refresh_from_db()
    assert (task.name, task.duration) == ("Read only", 2)
