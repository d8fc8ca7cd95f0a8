"""No answer tells a caller that a row of a project they cannot see exists.

Each attack names a row of a project the caller is not in, and the same request with an id that does not
exist; the two answers must be the same (status and body, the number aside), and nothing is written.
"""

from __future__ import annotations

import re

import pytest

from keelplan.calendars.services import calendar_create
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_create
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add
from keelplan.resources.services import resource_create

from conftest import client_for, make_project, make_user

from .contract import assert_nothing_written, db_state

MISSING = 9_000_000


@pytest.fixture
def hidden(db):
    """A project eve is not in, with a task, and a calendar of its own; eve owns a project of hers."""
    keeper = make_user("keeper", workspace_admin=True)
    hannah = make_user("hannah")
    project = make_project(hannah, name="Hidden")
    task = task_create(actor=hannah, project=project, name="Secret")
    calendar = calendar_create(actor=hannah, name="Hidden hours", project=project)
    used = calendar_create(actor=keeper, name="Used by the hidden project")
    for i in range(3):
        task_create(actor=hannah, project=project, name=f"On it {i}", calendar=used)
    eve = make_user("eve")
    mine = make_project(eve, name="Eve's")
    my_task = task_create(actor=eve, project=mine, name="Mine")
    resource = resource_create(actor=keeper, name="Crew")
    return {"project": project, "task": task, "calendar": calendar, "used": used, "eve": eve, "mine": mine,
            "my_task": my_task, "resource": resource, "keeper": keeper}


def _normalised(response, real: int) -> tuple[int, str]:
    text = response.content.decode()
    return response.status_code, re.sub(rf"\b({real}|{MISSING})\b", "N", text)


def _same_answer(send, real: int) -> tuple[int, str]:
    """``send(id)`` for the hidden row and for a missing id: the answers must not differ."""
    before = db_state()
    hidden_answer = _normalised(send(real), real)
    missing_answer = _normalised(send(MISSING), real)
    assert hidden_answer == missing_answer
    assert 400 <= hidden_answer[0] < 500
    assert_nothing_written(before, "a request naming a hidden row")
    return hidden_answer


def test_task_parent_in_a_hidden_project(hidden):
    client = client_for(hidden["eve"])
    _same_answer(lambda pk: client.post("/api/v1/tasks/", {"project": hidden["mine"].pk, "name": "X", "parent": pk},
                                        format="json"), hidden["task"].pk)
    _same_answer(lambda pk: client.patch(f"/api/v1/tasks/{hidden['my_task'].pk}/", {"parent": pk}, format="json"),
                 hidden["task"].pk)


def test_task_in_a_hidden_project(hidden):
    client = client_for(hidden["eve"])
    _same_answer(lambda pk: client.post("/api/v1/tasks/", {"project": pk, "name": "X"}, format="json"),
                 hidden["project"].pk)


def test_dependency_to_a_task_of_a_hidden_project(hidden):
    client = client_for(hidden["eve"])
    mine = hidden["my_task"].pk
    _same_answer(lambda pk: client.post("/api/v1/dependencies/", {"predecessor": pk, "successor": mine},
                                        format="json"), hidden["task"].pk)
    _same_answer(lambda pk: client.post("/api/v1/dependencies/", {"predecessor": mine, "successor": pk},
                                        format="json"), hidden["task"].pk)


def test_assignment_to_a_task_of_a_hidden_project(hidden):
    client = client_for(hidden["eve"])
    _same_answer(lambda pk: client.post("/api/v1/task-resources/", {"task": pk, "resource": hidden["resource"].pk},
                                        format="json"), hidden["task"].pk)


def test_project_parent_that_is_hidden(hidden):
    client = client_for(hidden["eve"])
    _same_answer(lambda pk: client.patch(f"/api/v1/projects/{hidden['mine'].pk}/", {"parent": pk}, format="json"),
                 hidden["project"].pk)
    _same_answer(lambda pk: client.post("/api/v1/projects/", {"name": "Sub", "start_date": "2026-01-05",
                                                              "parent": pk}, format="json"),
                 hidden["project"].pk)


def test_calendar_of_a_hidden_project(hidden):
    client = client_for(hidden["eve"])
    real = hidden["calendar"].pk
    _same_answer(lambda pk: client.patch(f"/api/v1/tasks/{hidden['my_task'].pk}/", {"calendar": pk},
                                         format="json"), real)
    _same_answer(lambda pk: client.patch(f"/api/v1/projects/{hidden['mine'].pk}/", {"calendar": pk},
                                         format="json"), real)
    _same_answer(lambda pk: client.get(f"/api/v1/calendars/{pk}/"), real)
    _same_answer(lambda pk: client.delete(f"/api/v1/calendars/{pk}/"), real)


def test_creating_a_calendar_for_a_hidden_project(hidden):
    client = client_for(hidden["eve"])
    _same_answer(lambda pk: client.post("/api/v1/calendars/", {"name": "Mine now", "project": pk}, format="json"),
                 hidden["project"].pk)


def test_deleting_a_shared_calendar_tells_a_non_administrator_nothing_about_its_use(hidden):
    client = client_for(hidden["eve"])
    before = db_state()
    response = client.delete(f"/api/v1/calendars/{hidden['used'].pk}/")
    assert response.status_code == 403
    assert "reference_count" not in response.json()
    assert "3" not in response.json()["detail"]
    assert_nothing_written(before, "a shared calendar deleted by a non-administrator")


def test_a_project_calendar_in_use_reports_only_its_project_rows(hidden):
    hannah = WorkItem.objects.get(pk=hidden["task"].pk).author
    task_create(actor=hannah, project=hidden["project"], name="Night job", calendar=hidden["calendar"])
    response = client_for(hannah).delete(f"/api/v1/calendars/{hidden['calendar'].pk}/")
    assert response.status_code == 409
    assert response.json()["reference_count"] == 1


def test_members_see_the_honest_message_for_a_row_of_another_of_their_projects(hidden):
    """Someone in both projects may be told why: the task exists, it is just in the wrong project."""
    hannah = WorkItem.objects.get(pk=hidden["task"].pk).author
    membership_add(actor=hidden["eve"], project=hidden["mine"], user=hannah, role=Role.ADMIN)
    response = client_for(hannah).patch(f"/api/v1/tasks/{hidden['my_task'].pk}/", {"parent": hidden["task"].pk},
                                        format="json")
    assert response.status_code == 400
    assert "same project" in response.json()["parent"][0]
