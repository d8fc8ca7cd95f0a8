"""Contract of ``POST /api/v1/projects/{id}/tasks/bulk/``: tasks created by uid with parents and links, edits,
mixed requests, the response in request order with computed fields, errors that name the row and field and
write nothing, permissions per role, limits, the change log, and one reschedule per request."""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
import uuid

import pytest
from django.core.management import call_command

from keelplan.calendars.services import calendar_create
from keelplan.planning import bulk as bulk_service
from keelplan.planning.models import ConstraintType, Dependency, WorkItem
from keelplan.planning.services import task_create, task_update
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add
from keelplan.scheduling import services as scheduling_services
from keelplan.changelog.models import ChangeEvent

from conftest import client_for, make_project, make_user

from .contract import assert_error, assert_nothing_written, db_state, json_body

pytestmark = pytest.mark.django_db
COMPUTED = ("early_start", "early_finish", "late_start", "late_finish", "total_float", "free_float", "is_critical")


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/tasks/bulk/"


def post(client, project, body):
    return client.post(url(project), body, format="json")


def new_uid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def site(linked_pair_and_loner):
    return linked_pair_and_loner


# ---------------------------------------------------------------- success

def test_create_tasks_with_uids_parents_and_links(api, project):
    hull, weld, paint = new_uid(), new_uid(), new_uid()
    response = post(api, project, {
        "tasks": [
            {"uid": weld, "name": "Weld", "parent": hull, "duration": 3, "status": "IN_PROGRESS",
             "planned_start": "2026-02-02", "description": None},
            {"uid": hull, "name": "Hull"},
            {"uid": paint, "name": "Paint", "duration": 2, "percent_complete": 12.5},
        ],
        "dependencies": [{"predecessor": weld, "successor": paint, "lag": 1, "lag_unit": "wd"}],
    })
    body = json_body(response)
    assert response.status_code == 200, body
    assert set(body) == {"tasks", "dependencies", "schedule"}
    assert [t["uid"] for t in body["tasks"]] == [weld, hull, paint]
    for row in body["tasks"]:
        assert set(row) == {"id", "uid", "lock_version", *COMPUTED}
        assert row["lock_version"] == 0
    rows = {t["uid"]: WorkItem.objects.get(pk=t["id"]) for t in body["tasks"]}
    assert rows[weld].parent_id == rows[hull].pk
    assert (rows[weld].constraint_type, rows[weld].constraint_date.isoformat()) == ("SNET", "2026-02-02")
    assert rows[weld].status.code == "IN_PROGRESS" and rows[weld].description == ""
    (link,) = body["dependencies"]
    assert set(link) == {"id", "predecessor", "successor", "lock_version"}
    assert (link["predecessor"], link["successor"], link["lock_version"]) == (rows[weld].pk, rows[paint].pk, 0)
    assert Dependency.objects.get(pk=link["id"]).lag_unit == "wd"

    # The response's computed fields are what the task endpoint reports.
    by_id = {t["id"]: t for t in body["tasks"]}
    for task_id, row in by_id.items():
        detail = json_body(api.get(f"/api/v1/tasks/{task_id}/"))
        assert {k: detail[k] for k in COMPUTED} == {k: row[k] for k in COMPUTED}
    assert by_id[rows[paint].pk]["early_start"] is not None
    assert isinstance(by_id[rows[paint].pk]["early_start"], str)
    assert body["schedule"]["project"] == project.pk and body["schedule"]["task_count"] == 3


def test_edits_and_creates_in_one_request(api, project, site):
    a, b = site["a"], site["b"]
    extra = new_uid()
    response = post(api, project, {
        "tasks": [
            {"id": a.pk, "duration": 5, "lock_version": 0, "early_start": "2031-01-01", "is_summary": True},
            {"uid": extra, "name": "Extra", "parent": str(site["c"].pk)},
            {"id": b.pk, "name": "B"},
        ],
        "dependencies": [{"predecessor": b.pk, "successor": extra, "dep_type": "SS"}],
    })
    body = json_body(response)
    assert response.status_code == 200, body
    assert [t["id"] for t in body["tasks"]][::2] == [a.pk, b.pk]
    assert [t["lock_version"] for t in body["tasks"]] == [1, 0, 0]
    assert WorkItem.objects.get(pk=a.pk).duration == 5
    assert WorkItem.objects.get(uid=extra).parent_id == site["c"].pk


def test_planned_start_null_clears_an_snet_constraint_on_edit(api, project, owner):
    task = task_create(actor=owner, project=project, name="Fixed", constraint_type="SNET",
                       constraint_date=dt.date(2026, 2, 2))
    response = post(api, project, {"tasks": [{"id": task.pk, "planned_start": None}]})
    assert response.status_code == 200, json_body(response)
    task.refresh_from_db()
    assert (task.constraint_type, task.constraint_date) == (ConstraintType.ASAP, None)


def test_only_dependencies(project, members, site):
    client = client_for(members["scheduler"])
    response = post(client, project, {"dependencies": [{"predecessor": site["b"].pk, "successor": site["c"].pk}]})
    body = json_body(response)
    assert response.status_code == 200, body
    assert body["tasks"] == [] and len(body["dependencies"]) == 1


# ---------------------------------------------------------------- the change log and the reschedule

def test_the_change_log_gets_one_event_per_row_and_one_schedule_event(api, project, site, monkeypatch):
    calls = []
    real = scheduling_services.reschedule
    monkeypatch.setattr(scheduling_services, "reschedule",
                        lambda project_id, **kw: calls.append(project_id) or real(project_id, **kw))
    first = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    keys = [new_uid() for _ in range(30)]
    response = post(api, project, {
        "tasks": [{"uid": k, "name": f"T{n}"} for n, k in enumerate(keys)]
        + [{"id": site["a"].pk, "duration": 4}, {"id": site["c"].pk, "name": "C"}],
        "dependencies": [{"predecessor": keys[n], "successor": keys[n + 1]} for n in range(29)],
    })
    assert response.status_code == 200, json_body(response)
    logged = list(ChangeEvent.objects.filter(pk__gt=first).order_by("seq").values_list("entity", "action", "changes"))
    assert [(e, a) for e, a, _ in logged] == (
        [("work_item", "created")] * 30 + [("work_item", "updated")] + [("dependency", "created")] * 29
        + [("schedule", "updated")])
    assert logged[30][2] == {"duration": [2, 4]}
    assert logged[0][2]["name"] == [None, "T0"]
    assert calls == [project.pk]


# ---------------------------------------------------------------- errors: named, nothing written

def refusals(site, foreign_task):
    a, b, c = site["a"].pk, site["b"].pk, site["c"].pk
    u1, u2 = new_uid(), new_uid()
    ok = {"uid": new_uid(), "name": "Fine"}
    return [
        # (body, status, field, code)
        ({"tasks": [ok, ok | {"uid": new_uid()}, {"uid": u1, "name": "X"}, {"uid": u2, "name": "Y", "duration": "5"}]},
         400, "tasks[3].duration", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "duration": -1}]}, 400, "tasks[0].duration", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "duration": 5.5}]}, 400, "tasks[0].duration", "invalid"),
        ({"tasks": [{"uid": u1}]}, 400, "tasks[0].name", "invalid"),
        ({"tasks": [{"name": "X"}]}, 400, "tasks[0].uid", "invalid"),
        ({"tasks": [{"uid": "nope", "name": "X"}]}, 400, "tasks[0].uid", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X"}, {"uid": u1, "name": "Y"}]}, 400, "tasks[1].uid", "duplicate_uid"),
        ({"tasks": [{"uid": str(site["a"].uid), "name": "X"}]}, 409, "tasks[0].uid", "duplicate_uid"),
        ({"tasks": [{"uid": u1, "name": "X", "status": "NOPE"}]}, 400, "tasks[0].status", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "assignee": 999_999}]}, 400, "tasks[0].assignee", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "calendar": "x"}]}, 400, "tasks[0].calendar", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "project": 999_999}]}, 400, "tasks[0].project", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "colour": "red"}]}, 400, "tasks[0].colour", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "constraint_type": "MSO"}]}, 400, "tasks[0].constraint_date",
         "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "parent": foreign_task}]}, 400, "tasks[0].parent", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "parent": new_uid()}]}, 400, "tasks[0].parent", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "parent": "1.5"}]}, 400, "tasks[0].parent", "invalid"),
        ({"tasks": [{"uid": u1, "name": "X", "parent": u2}, {"uid": u2, "name": "Y", "parent": u1}]}, 400,
         "tasks[0].parent", "cyclic_parent"),
        ({"tasks": [{"id": a, "lock_version": 7, "duration": 3}]}, 409, "tasks[0].lock_version",
         "stale_lock_version"),
        ({"tasks": [{"id": foreign_task, "duration": 3}]}, 400, "tasks[0].id", "invalid"),
        ({"tasks": [{"id": "abc", "duration": 3}]}, 400, "tasks[0].id", "invalid"),
        ({"tasks": [{"id": a, "status": None}]}, 400, "tasks[0].status", "invalid"),
        ({"tasks": [{"id": b, "parent": a}]}, 400, "tasks[0].parent", "cyclic_dependency"),
        ({"tasks": [1]}, 400, "tasks[0]", "invalid"),
        ({"dependencies": [{"predecessor": a, "successor": a}]}, 400, "dependencies[0].successor", "self_dependency"),
        ({"dependencies": [{"predecessor": a, "successor": b}]}, 409, "dependencies[0].successor",
         "duplicate_dependency"),
        ({"dependencies": [{"predecessor": b, "successor": c}, {"predecessor": b, "successor": c}]}, 400,
         "dependencies[1].successor", "duplicate_dependency"),
        ({"dependencies": [{"predecessor": foreign_task, "successor": c}]}, 400, "dependencies[0].predecessor",
         "invalid"),
        ({"dependencies": [{"successor": c}]}, 400, "dependencies[0].predecessor", "invalid"),
        ({"dependencies": [{"predecessor": b, "successor": None}]}, 400, "dependencies[0].successor", "invalid"),
        ({"dependencies": [{"predecessor": b, "successor": new_uid()}]}, 400, "dependencies[0].successor", "invalid"),
        ({"dependencies": [{"predecessor": True, "successor": c}]}, 400, "dependencies[0].predecessor", "invalid"),
        ({"dependencies": [{"predecessor": b, "successor": c, "lag": "2"}]}, 400, "dependencies[0].lag", "invalid"),
        ({"dependencies": [{"predecessor": b, "successor": c, "lag": 200, "lag_unit": "pct"},
                           {"predecessor": c, "successor": a, "lag": 20000, "lag_unit": "pct"}]}, 400,
         "dependencies[1].lag", "invalid"),
        ({"dependencies": [{"predecessor": b, "successor": c, "dep_type": "XY"}]}, 400, "dependencies[0].dep_type",
         "invalid"),
        ({"dependencies": [{"id": 3, "predecessor": b, "successor": c}]}, 400, "dependencies[0].id", "invalid"),
        ({"dependencies": [{"predecessor": b, "successor": c, "weight": 2}]}, 400, "dependencies[0].weight",
         "invalid"),
        ({"tasks": [{"uid": u1, "name": "X"}],
          "dependencies": [{"predecessor": b, "successor": u1}, {"predecessor": u1, "successor": a}]},
         400, "dependencies[1].predecessor", "cyclic_dependency"),
        ({"tasks": [{"uid": u1, "name": "Phase"}, {"uid": u2, "name": "Step", "parent": u1}],
          "dependencies": [{"predecessor": u2, "successor": u1}]}, 400, "dependencies[0].predecessor",
         "cyclic_dependency"),
        ({}, 400, "tasks", "invalid"),
        ({"tasks": [], "dependencies": []}, 400, "dependencies", "invalid"),
        ({"tasks": {"uid": u1}}, 400, "tasks", "invalid"),
        ({"dependencies": "x"}, 400, "dependencies", "invalid"),
    ]


def test_every_refusal_names_the_row_and_field_and_writes_nothing(api, owner, project, site):
    elsewhere = make_project(owner, name="Sister")
    foreign_task = task_create(actor=owner, project=elsewhere, name="Far").pk
    for body, status, field, code in refusals(site, foreign_task):
        before = db_state()
        response = post(api, project, body)
        error = assert_error(response, status, field=field, code=code)
        assert set(error) >= {field, "detail", "code"}, error
        assert_nothing_written(before, json.dumps(body)[:200])


def test_a_cycle_lists_its_tasks(api, project, site):
    u = new_uid()
    response = post(api, project, {"tasks": [{"uid": u, "name": "Loop"}],
                                   "dependencies": [{"predecessor": site["b"].pk, "successor": u},
                                                    {"predecessor": u, "successor": site["a"].pk}]})
    body = assert_error(response, 400, field="dependencies[1].predecessor", code="cyclic_dependency")
    assert set(body["cycle"]) == {site["a"].pk, site["b"].pk, u}


def test_a_body_that_is_not_an_object(api, project):
    before = db_state()
    response = api.post(url(project), [1, 2], format="json")
    assert_error(response, 400, code="invalid")
    response = api.generic("POST", url(project), "{not json", content_type="application/json")
    assert_error(response, 400, code="malformed_json")
    assert_nothing_written(before)


def test_limits(api, project, monkeypatch):
    before = db_state()
    response = post(api, project, {"tasks": [{}] * 20_001})
    body = assert_error(response, 400, field="tasks", code="invalid")
    assert "20000" in body["tasks"][0]
    response = post(api, project, {"dependencies": [{}] * 50_001})
    assert_error(response, 400, field="dependencies", code="invalid")
    assert_nothing_written(before)
    # The service keeps the limit too, for callers other than this view.
    monkeypatch.setattr(bulk_service, "MAX_BULK_TASKS", 1)
    response = post(api, project, {"tasks": [{"uid": new_uid(), "name": "A"}, {"uid": new_uid(), "name": "B"}]})
    assert_error(response, 400, field="tasks")
    assert_nothing_written(before)


def test_a_body_larger_than_djangos_upload_limit_is_read(api, project, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    keys = [new_uid() for _ in range(40)]
    body = {"tasks": [{"uid": k, "name": f"Task {n}", "description": "x" * 50} for n, k in enumerate(keys)]}
    assert len(json.dumps(body)) > 1000
    response = post(api, project, body)
    assert response.status_code == 200, json_body(response)
    assert len(json_body(response)["tasks"]) == 40
    settings.KEELPLAN_MAX_BODY_BYTES = settings.KEELPLAN_MAX_BULK_BODY_BYTES = 1000
    before = db_state()
    response = post(api, project, {"tasks": [{"uid": new_uid(), "name": "x" * 2000}]})
    assert_error(response, 413, code="body_too_large")
    assert_nothing_written(before)


def test_the_garbage_collector_runs_again_after_a_request(api, project):
    assert gc.isenabled()
    post(api, project, {"tasks": [{"uid": new_uid(), "name": "One"}]})
    assert gc.isenabled()
    post(api, project, {"tasks": [{"uid": "bad", "name": "Two"}]})
    assert gc.isenabled()


# ---------------------------------------------------------------- permissions

@pytest.mark.parametrize(("role", "create", "edit", "link"), [
    ("viewer", 403, 403, 403),
    ("member", 403, 403, 403),
    ("scheduler", 403, 403, 200),
    ("admin", 200, 200, 200),
    ("owner", 200, 200, 200),
    ("outsider", 404, 404, 404),
])
def test_permissions_per_role(project, members, outsider, site, role, create, edit, link):
    client = client_for(outsider if role == "outsider" else members[role])
    bodies = {
        "create": {"tasks": [{"uid": new_uid(), "name": "Dig"}]},
        "edit": {"tasks": [{"id": site["a"].pk, "duration": 9}]},
        "link": {"dependencies": [{"predecessor": site["b"].pk, "successor": site["c"].pk}]},
    }
    for action, expected in (("create", create), ("edit", edit), ("link", link)):
        before = db_state()
        response = post(client, project, bodies[action])
        body = json_body(response)
        assert response.status_code == expected, (action, body)
        if expected != 200:
            assert_nothing_written(before, action)
            if role in ("member", "scheduler"):
                assert body["code"] == "permission_denied"
                assert any(k.startswith(("tasks[0]", "dependencies[0]")) for k in body), body


def test_a_member_edits_their_own_tasks_but_not_their_parent(project, members, owner, site):
    member = members["member"]
    task_update(actor=owner, task=site["a"], assignee=member)
    client = client_for(member)
    response = post(client, project, {"tasks": [{"id": site["a"].pk, "duration": 8, "percent_complete": 10}]})
    assert response.status_code == 200, json_body(response)
    before = db_state()
    response = post(client, project, {"tasks": [{"id": site["a"].pk, "parent": site["c"].pk}]})
    assert_error(response, 403, field="tasks[0].parent", code="permission_denied")
    response = post(client, project, {"tasks": [{"id": site["a"].pk, "duration": 1}, {"id": site["b"].pk,
                                                                                       "duration": 1}]})
    assert_error(response, 403, field="tasks[1]", code="permission_denied")
    assert_nothing_written(before)


def test_anonymous_and_unknown_projects(api, project):
    from rest_framework.test import APIClient

    assert APIClient().post(url(project), {"tasks": []}, format="json").status_code == 401
    response = api.post("/api/v1/projects/999999999/tasks/bulk/", {"tasks": [{"uid": new_uid(), "name": "X"}]},
                        format="json")
    assert_error(response, 404, code="not_found")
    assert api.get(url(project)).status_code == 405


# ---------------------------------------------------------------- the schema

def test_the_schema_documents_the_endpoint(tmp_path):
    path = tmp_path / "openapi.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(path))
    schema = json.loads(path.read_text())
    operation = schema["paths"]["/api/v1/projects/{id}/tasks/bulk/"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(operation["responses"])
    request = schema["components"]["schemas"]["TaskBulkRequest"]
    assert set(request["properties"]) == {"tasks", "dependencies"}


# ---------------------------------------------------------------- no existence oracle

NIL_UID = "00000000-0000-0000-0000-000000000000"


def normalised(body: dict, number: int) -> str:
    """``body`` as text with ``number`` (the id a request named) written ``N``, so two answers about two ids
    compare equal when they differ only there."""
    return re.sub(rf"(?<!\d){number}(?!\d)", "N", json.dumps(body, sort_keys=True))


@pytest.fixture
def victim(owner, project, site):
    """Rows of ``project`` for others to probe: its tasks, its A->B link, its own calendar and a person who is a
    member of it and of nothing else."""
    insider = make_user("insider")
    membership_add(actor=owner, project=project, user=insider, role=Role.MEMBER)
    link = Dependency.objects.get(predecessor=site["a"], successor=site["b"])
    calendar = calendar_create(actor=owner, name="Victim's own week", project=project)
    return {"task": site["a"].pk, "link": link, "calendar": calendar.pk, "person": insider.pk}


@pytest.fixture(params=["outsider", "member-of-both"])
def prober(request, owner, outsider):
    """Someone writing to a project of their own while naming ``victim``'s rows: a stranger to the victim's
    project, or its own Owner (who may see the rows, but not use them in another project)."""
    user = outsider if request.param == "outsider" else owner
    own = make_project(user, name="Prober's own")
    return {"client": client_for(user), "project": own,
            "task": task_create(actor=user, project=own, name="Mine").pk}


def probes(mine: int) -> dict:
    """Bodies naming a row by ``ref``, by the field that names it."""
    return {
        "tasks[0].parent": lambda ref: {"tasks": [{"uid": new_uid(), "name": "X", "parent": ref}]},
        "tasks[0].id": lambda ref: {"tasks": [{"id": ref, "duration": 4}]},
        "tasks[0].parent (edit)": lambda ref: {"tasks": [{"id": mine, "parent": ref}]},
        "dependencies[0].predecessor": lambda ref: {"dependencies": [{"predecessor": ref, "successor": mine}]},
        "dependencies[0].successor": lambda ref: {"dependencies": [{"predecessor": mine, "successor": ref}]},
    }


def test_naming_another_projects_task_answers_as_a_task_that_does_not_exist(victim, prober):
    client, own, absent = prober["client"], prober["project"], victim["task"] + 10**6
    for field, make in probes(prober["task"]).items():
        before = db_state()
        foreign, missing = post(client, own, make(victim["task"])), post(client, own, make(absent))
        assert foreign.status_code == missing.status_code == 400, (field, json_body(foreign))
        assert_nothing_written(before, field)
        assert normalised(json_body(foreign), victim["task"]) == normalised(json_body(missing), absent), field
        assert field.split(" ")[0] in json_body(foreign)


def test_naming_another_projects_calendar_or_member_answers_as_one_that_does_not_exist(victim, prober):
    client, own = prober["client"], prober["project"]
    for field, real in (("assignee", victim["person"]), ("calendar", victim["calendar"])):
        absent = real + 10**6
        before = db_state()
        foreign = post(client, own, {"tasks": [{"uid": new_uid(), "name": "X", field: real}]})
        missing = post(client, own, {"tasks": [{"uid": new_uid(), "name": "X", field: absent}]})
        assert foreign.status_code == missing.status_code == 400, (field, json_body(foreign))
        assert_nothing_written(before, field)
        assert normalised(json_body(foreign), real) == normalised(json_body(missing), absent), field
        assert f"tasks[0].{field}" in json_body(foreign)


def test_a_uid_used_in_another_project_is_free_in_this_one(victim, prober, site):
    """Uids are unique per project: a 409 for another project's uid would tell that it exists there."""
    task_uid, link_uid = str(site["c"].uid), str(victim["link"].uid)
    response = post(prober["client"], prober["project"], {
        "tasks": [{"uid": task_uid, "name": "Same uid, other project"}],
        "dependencies": [{"uid": link_uid, "predecessor": prober["task"], "successor": task_uid}],
    })
    body = json_body(response)
    assert response.status_code == 200, body
    mine = WorkItem.objects.get(pk=body["tasks"][0]["id"])
    assert (str(mine.uid), mine.project_id) == (task_uid, prober["project"].pk)
    link = Dependency.objects.get(pk=body["dependencies"][0]["id"])
    assert (str(link.uid), link.project_id) == (link_uid, prober["project"].pk)
    # The victim's rows are as they were.
    assert WorkItem.objects.get(uid=task_uid, project=site["c"].project_id).name == "C"
    assert Dependency.objects.filter(uid=link_uid).count() == 2


def test_a_uid_taken_in_this_project_is_still_refused(api, project, site):
    link = Dependency.objects.get(predecessor=site["a"], successor=site["b"])
    b, c, u = site["b"].pk, site["c"].pk, new_uid()
    cases = [
        ({"tasks": [{"uid": str(site["a"].uid), "name": "X"}]}, 409, "tasks[0].uid"),
        ({"dependencies": [{"uid": str(link.uid), "predecessor": b, "successor": c}]}, 409, "dependencies[0].uid"),
        ({"dependencies": [{"uid": u, "predecessor": b, "successor": c},
                           {"uid": u, "predecessor": c, "dep_type": "SS", "successor": b}]}, 400,
         "dependencies[1].uid"),
    ]
    for body, status, field in cases:
        before = db_state()
        assert_error(post(api, project, body), status, field=field, code="duplicate_uid")
        assert_nothing_written(before, field)


def test_a_link_keeps_the_uid_the_client_gave_it(api, project, site):
    u = new_uid()
    response = post(api, project, {"dependencies": [{"uid": u.upper(), "predecessor": site["b"].pk,
                                                     "successor": site["c"].pk}]})
    body = json_body(response)
    assert response.status_code == 200, body
    assert str(Dependency.objects.get(pk=body["dependencies"][0]["id"]).uid) == u


@pytest.mark.parametrize(("body", "field"), [
    ({"tasks": [{"uid": NIL_UID, "name": "X"}]}, "tasks[0].uid"),
    ({"dependencies": [{"uid": NIL_UID, "predecessor": "B", "successor": "C"}]}, "dependencies[0].uid"),
    ({"tasks": [{"uid": "{" + str(uuid.uuid4()) + "}", "name": "X"}]}, "tasks[0].uid"),
    ({"tasks": [{"uid": 12345, "name": "X"}]}, "tasks[0].uid"),
    ({"dependencies": [{"uid": "urn:uuid:" + str(uuid.uuid4()), "predecessor": "B", "successor": "C"}]},
     "dependencies[0].uid"),
], ids=["nil-task", "nil-link", "braces", "integer", "urn"])
def test_the_nil_uuid_and_odd_spellings_are_refused_as_a_new_rows_uid(api, project, site, body, field):
    for row in body.get("dependencies", []):
        row["predecessor"], row["successor"] = site["b"].pk, site["c"].pk
    before = db_state()
    assert_error(post(api, project, body), 400, field=field, code="invalid")
    assert_nothing_written(before, field)
