"""Attacks on workspace rows (shared calendars, resources) and on project-owned calendars, each as the issue
reproduced it: the caller tries, is refused, and nothing changed afterwards.

Anyone may sign up and own a project, so no right over a row every project depends on may follow from a
project role; only the workspace administrator role grants it.
"""

from __future__ import annotations

import pytest

from keelplan.calendars.models import Calendar
from keelplan.calendars.services import calendar_create
from keelplan.planning.services import task_create
from keelplan.portfolio.models import Project, Role
from keelplan.portfolio.services import membership_add, project_update
from keelplan.resources.models import Assignment, Resource
from keelplan.resources.services import assignment_create, resource_create
from keelplan.scheduling.selectors import schedule_summary

from conftest import client_for, make_project, make_user

from .contract import assert_error, assert_nothing_written, db_state


@pytest.fixture
def keeper(db):
    return make_user("keeper", workspace_admin=True)


@pytest.fixture
def harbour(keeper):
    """A project on a shared calendar, with a Member (tom) who may edit only what is assigned to him and a
    resource (the electricians) booked on three of its tasks."""
    hannah = make_user("hannah")
    project = make_project(hannah, name="Harbour")
    tom = make_user("tom")
    membership_add(actor=hannah, project=project, user=tom, role=Role.MEMBER)
    office = calendar_create(actor=keeper, name="Office week")
    project_update(actor=hannah, project=project, calendar=office)
    tasks = [task_create(actor=hannah, project=project, name=f"Task {i}", duration=5) for i in range(4)]
    sparks = resource_create(actor=keeper, name="Electricians")
    for task in tasks[1:]:
        assignment_create(actor=hannah, work_item=task, resource=sparks)
    return {"project": project, "hannah": hannah, "tom": tom, "office": office, "tasks": tasks, "sparks": sparks}


def _finish(project: Project):
    return schedule_summary(Project.objects.get(pk=project.pk))["project_finish"]


# ---------------------------------------------------------------- hole 1: a Member grants himself edit rights

def test_a_member_cannot_link_a_resource_to_himself_to_edit_its_tasks(harbour):
    tom, task = harbour["tom"], harbour["tasks"][2]
    client = client_for(tom)
    assert_error(client.patch(f"/api/v1/tasks/{task.pk}/", {"duration": 9}, format="json"), 403)

    make_project(tom, name="Tom's own")  # he is now an Owner somewhere, which used to be enough
    before = db_state()
    response = client.patch(f"/api/v1/resources/{harbour['sparks'].pk}/", {"user": tom.pk}, format="json")

    assert_error(response, 403)
    assert_nothing_written(before, "a resource linked by a Member")
    assert Resource.objects.get(pk=harbour["sparks"].pk).user_id is None
    assert_error(client.patch(f"/api/v1/tasks/{task.pk}/", {"duration": 9}, format="json"), 403)


def test_a_member_cannot_create_a_resource_that_is_him_either(harbour):
    tom = harbour["tom"]
    make_project(tom, name="Tom's own")
    before = db_state()
    assert_error(client_for(tom).post("/api/v1/resources/", {"name": "Tom", "user": tom.pk}, format="json"), 403)
    assert_nothing_written(before, "a resource created by a Member")


# ---------------------------------------------------------------- hole 2: anyone rewriting shared rows

def test_a_stranger_cannot_rewrite_a_shared_calendar_other_projects_use(harbour):
    eve = make_user("eve")
    make_project(eve, name="Eve's")
    finish = _finish(harbour["project"])
    before = db_state()

    response = client_for(eve).patch(f"/api/v1/calendars/{harbour['office'].pk}/", {"working_days": 1},
                                     format="json")

    assert_error(response, 403)
    assert_nothing_written(before, "a shared calendar rewritten by a stranger")
    assert Calendar.objects.get(pk=harbour["office"].pk).working_days == 0b0011111
    assert _finish(harbour["project"]) == finish


@pytest.mark.parametrize("verb", ["put_exceptions", "delete"])
def test_a_stranger_cannot_change_or_delete_shared_calendars(harbour, verb):
    eve = make_user("eve")
    make_project(eve, name="Eve's")
    url = f"/api/v1/calendars/{harbour['office'].pk}/"
    before = db_state()
    if verb == "delete":
        response = client_for(eve).delete(url)
    else:
        response = client_for(eve).patch(url, {"exceptions": [{"exc_start": "2026-01-05", "exc_end": "2027-01-05"}]},
                                         format="json")
    assert_error(response, 403)
    assert "reference_count" not in response.json()
    assert_nothing_written(before, "a shared calendar changed by a stranger")


def test_a_stranger_cannot_delete_a_resource_booked_in_a_project_she_cannot_see(harbour):
    eve = make_user("eve")
    make_project(eve, name="Eve's")
    booked = Assignment.objects.filter(resource=harbour["sparks"]).count()
    before = db_state()

    assert_error(client_for(eve).delete(f"/api/v1/resources/{harbour['sparks'].pk}/"), 403)

    assert_nothing_written(before, "a resource deleted by a stranger")
    assert Assignment.objects.filter(resource=harbour["sparks"]).count() == booked == 3


def test_a_project_owner_is_not_a_workspace_administrator(harbour):
    hannah = harbour["hannah"]
    before = db_state()
    client = client_for(hannah)
    assert_error(client.post("/api/v1/calendars/", {"name": "Mine"}, format="json"), 403)
    assert_error(client.patch(f"/api/v1/calendars/{harbour['office'].pk}/", {"name": "X"}, format="json"), 403)
    assert_error(client.post("/api/v1/resources/", {"name": "Mine"}, format="json"), 403)
    assert_nothing_written(before, "shared rows written by a project Owner")


def test_the_workspace_administrator_writes_shared_rows_without_any_project(harbour, keeper):
    client = client_for(keeper)
    assert client.post("/api/v1/calendars/", {"name": "Night shift"}, format="json").status_code == 201
    response = client.patch(f"/api/v1/resources/{harbour['sparks'].pk}/", {"user": harbour["tom"].pk},
                            format="json")
    assert response.status_code == 200
    # Linked by the administrator, the resource now lets tom edit the tasks it works on.
    task = harbour["tasks"][2]
    assert client_for(harbour["tom"]).patch(f"/api/v1/tasks/{task.pk}/", {"duration": 9},
                                            format="json").status_code == 200


def test_me_tells_the_workspace_role(harbour, keeper):
    assert client_for(keeper).get("/api/v1/users/me/").json()["workspace_role"] == 300
    body = client_for(harbour["hannah"]).get("/api/v1/users/me/").json()
    assert (body["workspace_role"], body["workspace_role_label"]) == (1, "User")


# ---------------------------------------------------------------- project-owned calendars

def test_a_project_admin_makes_and_uses_a_calendar_of_the_project_own(harbour):
    hannah, project = harbour["hannah"], harbour["project"]
    client = client_for(hannah)
    response = client.post("/api/v1/calendars/", {"name": "Harbour weekend works", "project": project.pk,
                                                  "working_days": 127}, format="json")
    assert response.status_code == 201, response.json()
    own = response.json()["id"]
    task = harbour["tasks"][0]
    assert client.patch(f"/api/v1/tasks/{task.pk}/", {"calendar": own}, format="json").status_code == 200
    assert client.patch(f"/api/v1/projects/{project.pk}/", {"calendar": own}, format="json").status_code == 200
    # Changing it reschedules the project, as a shared calendar would.
    finish = _finish(project)
    assert client.patch(f"/api/v1/calendars/{own}/", {"working_days": 1}, format="json").status_code == 200
    assert _finish(project) > finish


def test_a_project_calendar_cannot_move_to_another_project_or_become_shared(harbour):
    hannah = harbour["hannah"]
    own = calendar_create(actor=hannah, name="Harbour only", project=harbour["project"])
    other = make_project(hannah, name="Other")
    before = db_state()
    client = client_for(hannah)
    for value in (other.pk, None):
        assert_error(client.patch(f"/api/v1/calendars/{own.pk}/", {"project": value}, format="json"), 400,
                     field="project")
    assert_nothing_written(before, "a project calendar moved")


def test_another_project_cannot_use_a_project_calendar_even_for_someone_in_both(harbour):
    hannah = harbour["hannah"]
    own = calendar_create(actor=hannah, name="Harbour only", project=harbour["project"])
    other = make_project(hannah, name="Other")
    other_task = task_create(actor=hannah, project=other, name="Elsewhere")
    before = db_state()
    client = client_for(hannah)
    assert_error(client.patch(f"/api/v1/projects/{other.pk}/", {"calendar": own.pk}, format="json"), 400,
                 field="calendar")
    assert_error(client.patch(f"/api/v1/tasks/{other_task.pk}/", {"calendar": own.pk}, format="json"), 400,
                 field="calendar")
    assert_nothing_written(before, "a project calendar used elsewhere")


def test_a_resource_cannot_use_a_project_calendar(harbour, keeper):
    own = calendar_create(actor=harbour["hannah"], name="Harbour only", project=harbour["project"])
    membership_add(actor=harbour["hannah"], project=harbour["project"], user=keeper, role=Role.VIEWER)
    before = db_state()
    response = client_for(keeper).patch(f"/api/v1/resources/{harbour['sparks'].pk}/", {"calendar": own.pk},
                                        format="json")
    assert_error(response, 400, field="calendar")
    assert_nothing_written(before, "a resource on a project calendar")


def test_a_project_calendar_is_invisible_outside_its_project(harbour):
    own = calendar_create(actor=harbour["hannah"], name="Harbour only", project=harbour["project"])
    eve = make_user("eve")
    client = client_for(eve)
    assert_error(client.get(f"/api/v1/calendars/{own.pk}/"), 404)
    assert own.pk not in [row["id"] for row in client.get("/api/v1/calendars/").json()["results"]]
    before = db_state()
    assert_error(client.patch(f"/api/v1/calendars/{own.pk}/", {"name": "Mine"}, format="json"), 404)
    assert_error(client.delete(f"/api/v1/calendars/{own.pk}/"), 404)
    assert_nothing_written(before, "a project calendar touched by a stranger")


def test_a_project_calendar_is_only_in_its_own_project_sync_feed(harbour):
    hannah = harbour["hannah"]
    own = calendar_create(actor=hannah, name="Harbour only", project=harbour["project"])
    other = make_project(hannah, name="Other")
    client = client_for(hannah)

    def pulled(project):
        changes = client.get(f"/api/v1/projects/{project.pk}/sync/?last_pulled_at=0").json()["changes"]
        return [row["id"] for row in changes["calendars"]["updated"]]

    assert own.pk in pulled(harbour["project"])
    assert own.pk not in pulled(other)
    # A delta after the calendar changed: still not listed (not even as deleted) in the other project.
    since = client.get(f"/api/v1/projects/{other.pk}/sync/?last_pulled_at=0").json()["timestamp"]
    client.patch(f"/api/v1/calendars/{own.pk}/", {"name": "Renamed"}, format="json")
    client.delete(f"/api/v1/calendars/{own.pk}/")
    delta = client.get(f"/api/v1/projects/{other.pk}/sync/?last_pulled_at={since}").json()["changes"]["calendars"]
    assert own.pk not in [row["id"] for row in delta["updated"]] + delta["deleted"]


def test_calendar_time_zones_are_iana_names(keeper):
    client = client_for(keeper)
    before = db_state()
    for bad in ("Mars/Olympus", "../etc/passwd", "europe/london ", "Local"):
        assert_error(client.post("/api/v1/calendars/", {"name": "C", "timezone": bad}, format="json"), 400,
                     field="timezone")
    assert_nothing_written(before, "a calendar with a made-up time zone")
    assert client.post("/api/v1/calendars/", {"name": "C", "timezone": "Europe/London"},
                       format="json").status_code == 201


# ---------------------------------------------------------------- e-mail addresses

def test_resource_email_addresses_are_not_listed_to_everyone(harbour, keeper):
    resource_create(actor=keeper, name="Tom", email="tom@harbour.example", user=harbour["tom"])
    stranger = client_for(make_user("eve"))
    rows = stranger.get("/api/v1/resources/").json()["results"]
    assert rows and all(row["email"] == "" for row in rows)
    mine = [row for row in client_for(harbour["tom"]).get("/api/v1/resources/").json()["results"] if row["is_me"]]
    assert [row["email"] for row in mine] == ["tom@harbour.example"]
    emails = {row["email"] for row in client_for(keeper).get("/api/v1/resources/").json()["results"]}
    assert "tom@harbour.example" in emails


def test_users_cannot_be_searched_by_part_of_an_email_address(db):
    make_user("sam", email="samantha.secret@corp.example")
    client = client_for(make_user("eve"))
    for partial in ("secret", "corp.example", "@corp", "samantha.secret@corp.exampl"):
        assert client.get("/api/v1/users/", {"search": partial}).json()["results"] == [], partial
    found = client.get("/api/v1/users/", {"search": "Samantha.Secret@corp.example"}).json()["results"]
    assert [row["username"] for row in found] == ["sam"]


def test_the_last_workspace_administrator_cannot_step_down(keeper):
    from keelplan.accounts.models import WorkspaceRole
    from keelplan.accounts.services import user_set_workspace_role
    from keelplan.core.errors import InvalidInput, PermissionDenied

    with pytest.raises(InvalidInput):
        user_set_workspace_role(actor=keeper, user=keeper, role=WorkspaceRole.USER)
    plain = make_user("plain")
    with pytest.raises(PermissionDenied):
        user_set_workspace_role(actor=plain, user=plain, role=WorkspaceRole.ADMIN)
    plain.refresh_from_db()
    assert plain.workspace_role == WorkspaceRole.USER


def test_nobody_but_a_workspace_administrator_grants_the_role(harbour, keeper):
    hannah = harbour["hannah"]
    before = db_state()
    url = f"/api/v1/users/{hannah.pk}/workspace-role/"
    assert_error(client_for(hannah).put(url, {"workspace_role": 300}, format="json"), 403)
    assert_error(client_for(harbour["tom"]).put(url, {"workspace_role": 300}, format="json"), 403)
    assert_nothing_written(before, "a workspace role granted by a non-administrator")
    hannah.refresh_from_db()
    assert not hannah.is_workspace_admin

    response = client_for(keeper).put(url, {"workspace_role": 300}, format="json")
    assert response.status_code == 200 and response.json()["is_workspace_admin"] is True
    assert client_for(hannah).post("/api/v1/calendars/", {"name": "Hers"}, format="json").status_code == 201
    assert_error(client_for(keeper).put(url, {"workspace_role": 2}, format="json"), 400, field="workspace_role")
    assert_error(client_for(keeper).put("/api/v1/users/999999/workspace-role/", {"workspace_role": 300},
                                        format="json"), 404)


@pytest.mark.parametrize("pk", ["null,null", "abc", "５５"])
def test_a_user_path_that_is_not_an_id_is_404(keeper, pk):
    assert_error(client_for(keeper).put(f"/api/v1/users/{pk}/workspace-role/", {"workspace_role": 1},
                                        format="json"), 404)
