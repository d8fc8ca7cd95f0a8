"""Query budgets of the v1 list endpoints: each is pinned, and none may grow with the number of rows (an N+1
is a failing test here, not a slow page in production)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keelplan.calendars.services import calendar_create
from keelplan.planning.services import dependency_create, task_create
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add
from keelplan.resources.services import assignment_create, resource_create

from conftest import client_for, make_project, make_user

_names = itertools.count(1)




class Scene:
    """Rows for one list endpoint, grown ``add(n)`` at a time; every row carries the relations its
    serializer renders (assignee, parent, calendar, user, exceptions...), so a missing join shows."""

    def __init__(self, owner, project):
        self.owner, self.project = owner, project
        self.calendar = calendar_create(actor=owner, name="Base", exceptions=[
            {"start": dt.date(2026, 12, 25), "end": dt.date(2026, 12, 26), "description": "Christmas"},
        ])
        self.person = make_user(f"person{next(_names)}")
        membership_add(actor=owner, project=project, user=self.person, role=Role.MEMBER)
        self.summary = task_create(actor=owner, project=project, name="Phase")
        self.hub = task_create(actor=owner, project=project, name="Hub", parent=self.summary)


def add_tasks(scene: Scene, n: int):
    for _ in range(n):
        task_create(actor=scene.owner, project=scene.project, name=f"Task {next(_names)}", parent=scene.summary,
                    assignee=scene.person, calendar=scene.calendar)


def add_dependencies(scene: Scene, n: int):
    for _ in range(n):
        task = task_create(actor=scene.owner, project=scene.project, name=f"Task {next(_names)}")
        dependency_create(actor=scene.owner, predecessor=scene.hub, successor=task, lag=1)


def add_projects(scene: Scene, n: int):
    for _ in range(n):
        make_project(scene.owner, name=f"Project {next(_names)}", parent=scene.project, calendar=scene.calendar)


def add_members(scene: Scene, n: int):
    for _ in range(n):
        membership_add(actor=scene.owner, project=scene.project, user=make_user(f"m{next(_names)}"),
                       role=Role.VIEWER)


def add_calendars(scene: Scene, n: int):
    for _ in range(n):
        calendar_create(actor=scene.owner, name=f"Calendar {next(_names)}", exceptions=[
            {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 1, 1), "description": "New year"},
            {"start": dt.date(2026, 5, 1), "end": dt.date(2026, 5, 2), "description": "May"},
        ])


def add_resources(scene: Scene, n: int):
    for _ in range(n):
        resource_create(actor=scene.owner, name=f"Resource {next(_names)}", user=scene.person,
                        calendar=scene.calendar)


def add_task_resources(scene: Scene, n: int):
    for _ in range(n):
        resource = resource_create(actor=scene.owner, name=f"Resource {next(_names)}", user=scene.person)
        assignment_create(actor=scene.owner, work_item=scene.hub, resource=resource)


def add_users(scene: Scene, n: int):
    for _ in range(n):
        make_user(f"u{next(_names)}")


# endpoint, how to add rows, the pinned number of queries for a whole page. Every list spends one query on
# the signed-in user, one on the page's count and one on the rows; calendars add one for their exceptions;
# members add the project lookup and two role checks (project_get, then membership_list).
ENDPOINTS = [
    # + the schedule's version check and (first read of a new version) its chunks
    ("/api/v1/tasks/", add_tasks, 5),
    ("/api/v1/dependencies/", add_dependencies, 3),
    ("/api/v1/projects/", add_projects, 3),
    ("/api/v1/projects/{project}/members/", add_members, 6),
    ("/api/v1/calendars/", add_calendars, 4),
    ("/api/v1/resources/", add_resources, 3),
    ("/api/v1/task-resources/", add_task_resources, 3),
    ("/api/v1/users/", add_users, 3),
]


def count_queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


@pytest.mark.parametrize(("path", "add", "budget"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_list_queries_do_not_grow_with_rows(project, owner, path, add, budget, django_assert_max_num_queries):
    scene = Scene(owner, project)
    client = client_for(owner)
    url = path.format(project=project.pk) + "?page_size=100"
    add(scene, 5)
    client.get(url)  # warm-up: first-request work (URL resolving, content types) is not the list's cost

    small, small_rows = count_queries(client, url)
    add(scene, 35)
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    large, large_rows = count_queries(client, url)

    assert response.status_code == 200
    assert large_rows >= small_rows + 35, (small_rows, large_rows)
    assert large == small, f"{path}: {small} queries for {small_rows} rows but {large} for {large_rows}"
