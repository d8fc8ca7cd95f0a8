"""``/api/v1/projects/{id}/schedule/`` and read-your-writes: every response already carries the dates the write
moved. The project starts on Monday 5 January 2026."""

from __future__ import annotations

import uuid

from keelplan.planning.services import dependency_create, task_create
from keelplan.scheduling.models import ProjectSchedule

from conftest import client_for

from .contract import assert_error, assert_nothing_written, db_state, json_body

TASKS = "/api/v1/tasks/"


def schedule_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/schedule/"


def make_chain(owner, project):
    a = task_create(actor=owner, project=project, name="A", duration=3)
    b = task_create(actor=owner, project=project, name="B", duration=2)
    link = dependency_create(actor=owner, predecessor=a, successor=b, lag=0, lag_unit="wd")
    return a, b, link


def test_an_edit_answers_with_its_new_dates_and_its_successor_moves_at_once(owner, project, api):
    a, b, _ = make_chain(owner, project)
    body = json_body(api.patch(f"{TASKS}{a.pk}/", {"duration": 5}, format="json"))
    assert (body["early_start"], body["early_finish"], body["is_critical"]) == ("2026-01-05", "2026-01-09", True)
    successor = json_body(api.get(f"{TASKS}{b.pk}/"))
    assert (successor["early_start"], successor["early_finish"]) == ("2026-01-12", "2026-01-13")
    listed = {t["id"]: t for t in json_body(api.get(TASKS, {"project": project.pk}))["results"]}
    assert listed[b.pk]["early_start"] == "2026-01-12"
    assert json_body(api.get(schedule_url(project)))["project_finish"] == "2026-01-13"


def test_a_new_link_answers_with_the_successor_moved(owner, project, api):
    a = task_create(actor=owner, project=project, name="A", duration=3)
    b = task_create(actor=owner, project=project, name="B", duration=2)
    response = api.post("/api/v1/dependencies/", {"predecessor": a.pk, "successor": b.pk, "lag": 0,
                                                   "lag_unit": "wd"}, format="json")
    assert response.status_code == 201, response.content
    assert json_body(api.get(f"{TASKS}{b.pk}/"))["early_start"] == "2026-01-08"


def test_deleting_a_link_frees_the_successor(owner, project, api):
    _, b, link = make_chain(owner, project)
    assert api.delete(f"/api/v1/dependencies/{link.pk}/").status_code == 204
    body = json_body(api.get(f"{TASKS}{b.pk}/"))
    assert (body["early_start"], body["total_float"]) == ("2026-01-05", 1)


def test_a_cycle_is_refused_with_nothing_changed(owner, project, api):
    a, b, _ = make_chain(owner, project)
    before = db_state()
    response = api.post("/api/v1/dependencies/", {"predecessor": b.pk, "successor": a.pk}, format="json")
    assert_error(response, 400, field="predecessor")
    assert response.json()["code"] == "cyclic_dependency"
    assert_nothing_written(before, "a cycle")


def test_the_summary_names_finish_critical_path_counts_and_time(owner, project, api):
    a, b, _ = make_chain(owner, project)
    side = task_create(actor=owner, project=project, name="Side", duration=1)
    body = json_body(api.get(schedule_url(project)))
    assert body["project"] == project.pk
    assert (body["project_start"], body["project_finish"]) == ("2026-01-05", "2026-01-09")
    assert body["critical_path"] == [a.pk, b.pk]
    assert (body["task_count"], body["critical_count"], body["late_count"]) == (3, 2, 0)
    assert body["computed_at"].endswith("Z") and body["version"] >= 1
    assert side.pk not in body["critical_path"]


def test_late_tasks_are_counted(owner, project, api):
    _, b, _ = make_chain(owner, project)
    api.patch(f"{TASKS}{b.pk}/", {"constraint_type": "FNLT", "constraint_date": "2026-01-06"}, format="json")
    assert json_body(api.get(schedule_url(project)))["late_count"] == 1  # A cannot finish before B's FNLT


def test_post_recomputes_from_the_stored_inputs(owner, project, api):
    a, b, _ = make_chain(owner, project)
    before = json_body(api.get(schedule_url(project)))
    # Damage the stored schedule behind the scheduler's back; a forced recompute repairs it.
    ProjectSchedule.objects.filter(project=project).update(project_finish=None, critical_count=0)
    body = json_body(api.post(schedule_url(project)))
    assert body["project_finish"] == before["project_finish"] == "2026-01-09"
    assert body["critical_count"] == 2
    assert body["computed_at"] >= before["computed_at"]


def test_roles(owner, project, members, outsider):
    make_chain(owner, project)
    url = schedule_url(project)
    assert client_for(members["viewer"]).get(url).status_code == 200
    assert_error(client_for(members["viewer"]).post(url), 403)
    assert_error(client_for(members["member"]).post(url), 403)
    assert client_for(members["scheduler"]).post(url).status_code == 200
    assert client_for(members["admin"]).post(url).status_code == 200
    assert_error(client_for(outsider).get(url), 404)
    assert_error(client_for(outsider).post(url), 404)


def test_unauthenticated_and_unknown_project(project, api):
    from rest_framework.test import APIClient

    assert APIClient().get(schedule_url(project)).status_code == 401
    assert_error(api.get("/api/v1/projects/999999/schedule/"), 404)


def _critical_rows(api, project) -> dict:
    rows = json_body(api.get(TASKS, {"project": project.pk, "page_size": 100}))["results"]
    return {t["id"]: t for t in rows}


def test_the_critical_path_is_every_critical_task_after_bulk_writes_and_edits(owner, project, api):
    """The stored critical path agrees with ``is_critical`` whatever wrote the tasks: every critical task,
    predecessors first, ending at the task that sets the finish (the demo once showed one task while five
    were critical)."""
    uids = [str(uuid.uuid4()) for _ in range(6)]
    body = {"tasks": [{"uid": uids[0], "name": "Survey", "duration": 2},
                      {"uid": uids[1], "name": "Design", "duration": 4},
                      {"uid": uids[2], "name": "Permit", "duration": 1},
                      {"uid": uids[3], "name": "Build", "duration": 5},
                      {"uid": uids[4], "name": "Fit-out", "duration": 3},
                      {"uid": uids[5], "name": "Handover", "duration": 0}],
            "dependencies": [{"predecessor": uids[0], "successor": uids[1]},
                             {"predecessor": uids[0], "successor": uids[2]},
                             {"predecessor": uids[1], "successor": uids[3]},
                             {"predecessor": uids[2], "successor": uids[3]},
                             {"predecessor": uids[1], "successor": uids[4]},
                             {"predecessor": uids[3], "successor": uids[5]},
                             {"predecessor": uids[4], "successor": uids[5]}]}
    response = api.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", body, format="json")
    assert response.status_code == 200, response.content
    ids = {row["uid"]: row["id"] for row in json_body(response)["tasks"]}
    survey, design, permit, build, fitout, handover = (ids[u] for u in uids)

    def check(expected):
        summary = json_body(api.get(schedule_url(project)))
        rows = _critical_rows(api, project)
        assert summary["critical_path"] == expected
        assert set(summary["critical_path"]) == {i for i, t in rows.items() if t["is_critical"]}
        assert rows[expected[-1]]["early_finish"] == summary["project_finish"]

    # Survey Mon 5-Tue 6, Design Wed 7-Mon 12, Build Tue 13-Mon 19, Handover (a milestone) Tue 20.
    check([survey, design, build, handover])
    assert _critical_rows(api, project)[handover]["early_start"] == "2026-01-20"
    # Fit-out grows past Build: the path moves to it.
    assert api.patch(f"{TASKS}{fitout}/", {"duration": 8}, format="json").status_code == 200
    check([survey, design, fitout, handover])
    # Fit-out of five days ties with Build (both Tue 13 - Mon 19): both are critical, listed by early start,
    # then id.
    assert api.patch(f"{TASKS}{fitout}/", {"duration": 5}, format="json").status_code == 200
    check([survey, design, build, fitout, handover])
