"""Contract of ``/api/v1/tasks/``: filters, read-only schedule fields, planned_start as an SNET constraint,
constraint rules, milestones, status/type/priority codes, and soft deletes that take links and subtasks along."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.planning.models import ConstraintType, Dependency, WorkItem
from keelplan.planning.services import dependency_create, task_create
from keelplan.resources.models import Assignment
from keelplan.resources.services import assignment_create, resource_create
from keelplan.scheduling.selectors import computed_fields

from conftest import client_for, make_project, make_user

from .contract import (
    EndpointContract, assert_error, assert_nothing_written, db_state, json_body, result_ids,
)

URL = "/api/v1/tasks/"
SCHEDULE_FIELDS = ("early_start", "early_finish", "late_start", "late_finish", "total_float", "free_float",
                   "is_critical")
# Values no scheduler would compute for these tasks, so seeing one means a client wrote it.
FORGED_SCHEDULE = {"early_start": "2031-03-03", "early_finish": "2031-03-04", "late_start": "2031-03-05",
                   "late_finish": "2031-03-06", "total_float": 777, "free_float": 555, "is_critical": True}


class TestTaskContract(EndpointContract):
    model = WorkItem
    list_path = URL
    change_entity = "work_item"
    detail_fields = (
        "id", "uid", "project", "parent", "position", "name", "description", "status", "type", "priority",
        "assignee", "duration", "is_milestone", "is_summary", "scheduling_mode", "manual_start", "manual_finish",
        "constraint_type", "constraint_date", "planned_start", "deadline", "calendar", "percent_complete",
        "actual_start", "actual_finish", *SCHEDULE_FIELDS, "lock_version", "created_at", "updated_at",
    )

    def writer(self, ctx):
        """The project's Admin: the Owner fixture is also a workspace administrator, who sees every project, so
        the refusals of rows in projects the writer cannot see need someone who is not."""
        return ctx.members["admin"]

    def make(self, ctx):
        return task_create(actor=ctx.owner, project=ctx.project, name="Design hull", duration=3)

    def create_payloads(self, ctx):
        pid = ctx.project.pk
        return [
            {"project": pid, "name": "Build"},
            {"project": pid, "name": "Weld", "duration": 5, "status": "IN_PROGRESS", "type": "feature",
             "priority": "high", "planned_start": "2026-02-02", "description": "Seams", "percent_complete": 12.5,
             "deadline": "2026-03-31", "assignee": ctx.members["member"].pk, "actual_start": "2026-02-02"},
            {"project": pid, "name": "Launch", "is_milestone": True, "duration": 0},
            {"project": pid, "name": "Fixed", "scheduling_mode": "manual", "manual_start": "2026-02-09",
             "manual_finish": "2026-02-13", "constraint_type": "MFO", "constraint_date": "2026-02-13"},
        ]

    def put_payload(self, ctx, obj):
        return {"project": ctx.project.pk, "name": "Design hull v2", "duration": 4, "status": "REVIEW"}

    def patch_payloads(self, ctx, obj):
        return [{"name": "Design keel"}, {"duration": 8, "percent_complete": 40.0},
                {"priority": "immediate", "type": "bug"}, {"constraint_type": "FNLT", "constraint_date": "2026-04-30"}]

    def bad_create_payloads(self, ctx):
        pid = ctx.project.pk
        foreign = make_project(make_user(), name="Foreign")
        foreign_task = task_create(actor=foreign.created_by, project=foreign, name="Elsewhere")
        mine_elsewhere = make_project(ctx.owner, name="Sister")
        sister_task = task_create(actor=ctx.owner, project=mine_elsewhere, name="Sister task")
        return [
            ({"name": "No project"}, "project"),
            ({"project": None, "name": "Null project"}, "project"),
            ({"project": "abc", "name": "T"}, "project"),
            ({"project": str(pid) + ".5", "name": "T"}, "project"),
            ({"project": 99999999, "name": "T"}, "project"),
            ({"project": 99999999999999999999, "name": "T"}, "project"),
            ({"project": [pid], "name": "T"}, "project"),
            ({"project": {"id": pid}, "name": "T"}, "project"),
            ({"project": 1.5, "name": "T"}, "project"),
            ({"project": foreign.pk, "name": "T"}, "project"),
            ({"project": pid}, "name"),
            ({"project": pid, "name": ""}, "name"),
            ({"project": pid, "name": "   "}, "name"),
            ({"project": pid, "name": "x" * 513}, "name"),
            ({"project": pid, "name": "T", "duration": -1}, "duration"),
            ({"project": pid, "name": "T", "duration": 40000}, "duration"),
            ({"project": pid, "name": "T", "duration": "5"}, "duration"),
            ({"project": pid, "name": "T", "duration": 2.5}, "duration"),
            ({"project": pid, "name": "T", "duration": 99999999999999999999}, "duration"),
            ({"project": pid, "name": "T", "percent_complete": 101}, "percent_complete"),
            ({"project": pid, "name": "T", "percent_complete": -0.5}, "percent_complete"),
            ({"project": pid, "name": "T", "percent_complete": "lots"}, "percent_complete"),
            ({"project": pid, "name": "T", "status": "DONE"}, "status"),
            ({"project": pid, "name": "T", "status": None}, "status"),
            ({"project": pid, "name": "T", "status": "IN_PROGRESS\x00"}, "status"),
            ({"project": pid, "name": "T", "priority": "\x00"}, "priority"),
            ({"project": pid, "name": "T\x00"}, "name"),
            ({"project": pid, "name": "T", "type": "epic"}, "type"),
            ({"project": pid, "name": "T", "priority": "urgent"}, "priority"),
            ({"project": pid, "name": "T", "planned_start": 20260105}, "planned_start"),
            ({"project": pid, "name": "T", "planned_start": "05/01/2026"}, "planned_start"),
            ({"project": pid, "name": "T", "constraint_type": "SOON"}, "constraint_type"),
            ({"project": pid, "name": "T", "constraint_type": "MSO"}, "constraint_date"),
            ({"project": pid, "name": "T", "constraint_type": "SNLT", "constraint_date": None}, "constraint_date"),
            ({"project": pid, "name": "T", "scheduling_mode": "manual"}, "manual_start"),
            ({"project": pid, "name": "T", "scheduling_mode": "sometimes"}, "scheduling_mode"),
            ({"project": pid, "name": "T", "scheduling_mode": "manual", "manual_start": "2026-02-10",
              "manual_finish": "2026-02-09"}, "manual_finish"),
            ({"project": pid, "name": "T", "actual_finish": "5000-02-10"}, "actual_finish"),
            ({"project": pid, "name": "T", "actual_start": "2026-02-10", "actual_finish": "2026-02-09"},
             "actual_finish"),
            ({"project": pid, "name": "T", "parent": sister_task.pk}, "parent"),
            ({"project": pid, "name": "T", "parent": foreign_task.pk}, "parent"),
            ({"project": pid, "name": "T", "parent": 99999999}, "parent"),
            ({"project": pid, "name": "T", "parent": [1]}, "parent"),
            ({"project": pid, "name": "T", "assignee": ctx.outsider.pk}, "assignee"),
            ({"project": pid, "name": "T", "assignee": "me"}, "assignee"),
            ({"project": pid, "name": "T", "calendar": 99999999}, "calendar"),
            ({"project": pid, "name": "T", "position": -1}, "position"),
            ({"project": pid, "name": "T", "is_milestone": "yes please"}, "is_milestone"),
        ]

    def bad_update_payloads(self, ctx, obj):
        other = make_project(ctx.owner, name="Sister")
        return [
            ({"name": ""}, "name"),
            ({"name": None}, "name"),
            ({"duration": -1}, "duration"),
            ({"duration": 40000}, "duration"),
            ({"duration": None}, "duration"),
            ({"percent_complete": 101}, "percent_complete"),
            ({"status": "FINISHED"}, "status"),
            ({"status": None}, "status"),
            ({"type": None}, "type"),
            ({"constraint_type": "MSO", "constraint_date": None}, "constraint_date"),
            ({"constraint_date": "2026-02-02"}, "constraint_date"),
            ({"parent": obj.pk}, "parent"),
            ({"project": other.pk}, "project"),
            ({"planned_start": False}, "planned_start"),
        ]


# ---------------------------------------------------------------- filters

def test_filter_by_project(owner, project, api):
    other = make_project(owner, name="Other")
    here = task_create(actor=owner, project=project, name="Here")
    there = task_create(actor=owner, project=other, name="There")
    assert result_ids(api, URL, project=project.pk) == [here.pk]
    assert result_ids(api, URL, project=other.pk) == [there.pk]
    assert result_ids(api, URL) == [here.pk, there.pk]
    assert result_ids(api, URL, project=99999999) == []


def test_filter_by_criticality(owner, project, api):
    # Two tasks side by side: the longer one sets the finish; the shorter has four days of float.
    critical = task_create(actor=owner, project=project, name="On the path", duration=5)
    slack = task_create(actor=owner, project=project, name="With slack", duration=1)
    for value in ("true", "True", "1"):
        assert result_ids(api, URL, is_critical=value) == [critical.pk]
    for value in ("false", "0"):
        assert result_ids(api, URL, is_critical=value) == [slack.pk]
    assert result_ids(api, URL, is_critical="true", project=project.pk) == [critical.pk]


@pytest.mark.parametrize("params, name", [
    ({"is_critical": "maybe"}, "is_critical"),
    ({"is_critical": "2"}, "is_critical"),
    ({"project": "abc"}, "project"),
    ({"project": "1.5"}, "project"),
    ({"project": "-1"}, "project"),
    ({"project": "99999999999999999999"}, "project"),
    ({"parent": "x"}, "parent"),
    ({"assignee": "99999999999999999999"}, "assignee"),
    ({"status": "IN\x00PROGRESS"}, "status"),
])
def test_bad_filter_values_are_400_naming_the_parameter(project, api, params, name):
    assert_error(api.get(URL, params), 400, field=name)


# ---------------------------------------------------------------- computed schedule fields

def test_schedule_fields_are_present_and_read_only_on_create(project, api):
    forged_values = {**FORGED_SCHEDULE, "is_critical": False}  # a task on its own is critical
    response = api.post(URL, {"project": project.pk, "name": "Forged", **forged_values}, format="json")
    body = json_body(response)
    assert response.status_code == 201, body
    computed = computed_fields(project.pk, [body["id"]])[body["id"]]
    for field, forged in forged_values.items():
        assert field in body
        assert body[field] != forged, field
        stored = computed[field]
        assert (stored.isoformat() if isinstance(stored, dt.date) else stored) != forged, field
    assert body["early_start"] == "2026-01-05" and body["is_critical"] is True


def test_schedule_fields_are_read_only_on_update(owner, project, api):
    # The project starts on Monday 5 January 2026; a one-day task beside a three-day one has two days of float.
    task = task_create(actor=owner, project=project, name="Computed", duration=1)
    task_create(actor=owner, project=project, name="Longer", duration=3)
    url = f"{URL}{task.pk}/"
    computed = {k: v for k, v in json_body(api.get(url)).items() if k in SCHEDULE_FIELDS}
    assert computed == {"early_start": "2026-01-05", "early_finish": "2026-01-05", "late_start": "2026-01-07",
                        "late_finish": "2026-01-07", "total_float": 2, "free_float": 2, "is_critical": False}
    for method in ("patch", "put"):
        body = {"project": project.pk, "name": "Computed", **FORGED_SCHEDULE}
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code == 200, response.content
        assert {k: v for k, v in response.json().items() if k in SCHEDULE_FIELDS} == computed
    # A request made only of computed fields changes nothing at all.
    before = db_state()
    assert api.patch(url, FORGED_SCHEDULE, format="json").status_code == 200
    assert_nothing_written(before, "PATCH of computed fields only")


# ---------------------------------------------------------------- constraints and milestones

def test_planned_start_is_an_snet_constraint(project, api):
    body = json_body(api.post(URL, {"project": project.pk, "name": "Paint", "planned_start": "2026-02-16"},
                              format="json"))
    assert (body["constraint_type"], body["constraint_date"], body["planned_start"]) == ("SNET", "2026-02-16",
                                                                                         "2026-02-16")
    row = WorkItem.objects.get(pk=body["id"])
    assert (row.constraint_type, row.constraint_date) == (ConstraintType.SNET, dt.date(2026, 2, 16))
    url = f"{URL}{body['id']}/"
    body = json_body(api.patch(url, {"planned_start": "2026-03-02"}, format="json"))
    assert (body["constraint_type"], body["constraint_date"]) == ("SNET", "2026-03-02")
    body = json_body(api.patch(url, {"planned_start": None}, format="json"))
    assert (body["constraint_type"], body["constraint_date"], body["planned_start"]) == ("ASAP", None, None)


def test_planned_start_is_null_for_other_constraints(project, api):
    body = json_body(api.post(URL, {"project": project.pk, "name": "Deliver", "constraint_type": "FNLT",
                                    "constraint_date": "2026-06-30"}, format="json"))
    assert (body["constraint_type"], body["constraint_date"], body["planned_start"]) == ("FNLT", "2026-06-30", None)


@pytest.mark.parametrize("kind", ["MSO", "MFO", "SNET", "SNLT", "FNET", "FNLT"])
def test_dated_constraints_need_their_date(project, api, kind):
    before = db_state()
    assert_error(api.post(URL, {"project": project.pk, "name": "T", "constraint_type": kind}, format="json"), 400,
                 field="constraint_date")
    assert_nothing_written(before, kind)
    body = json_body(api.post(URL, {"project": project.pk, "name": "T", "constraint_type": kind,
                                    "constraint_date": "2026-02-02"}, format="json"))
    assert (body["constraint_type"], body["constraint_date"]) == (kind, "2026-02-02")


def test_undated_constraint_clears_the_date(owner, project, api):
    task = task_create(actor=owner, project=project, name="T", constraint_type="MSO",
                       constraint_date=dt.date(2026, 2, 2))
    body = json_body(api.patch(f"{URL}{task.pk}/", {"constraint_type": "ALAP"}, format="json"))
    assert (body["constraint_type"], body["constraint_date"]) == ("ALAP", None)


def test_milestone_forces_duration_zero(owner, project, api):
    body = json_body(api.post(URL, {"project": project.pk, "name": "Gate", "is_milestone": True, "duration": 5},
                              format="json"))
    assert (body["is_milestone"], body["duration"]) == (True, 0)
    body = json_body(api.post(URL, {"project": project.pk, "name": "Gate 2", "type": "milestone"}, format="json"))
    assert (body["is_milestone"], body["duration"], body["type"]) == (True, 0, "milestone")
    task = task_create(actor=owner, project=project, name="Work", duration=6)
    body = json_body(api.patch(f"{URL}{task.pk}/", {"is_milestone": True}, format="json"))
    assert (body["is_milestone"], body["duration"]) == (True, 0)
    assert WorkItem.objects.get(pk=task.pk).duration == 0


def test_status_type_and_priority_are_codes(project, api):
    body = json_body(api.post(URL, {"project": project.pk, "name": "Defaults"}, format="json"))
    assert (body["status"], body["type"], body["priority"]) == ("NOT_STARTED", "task", "normal")
    for status in ("BACKLOG", "NOT_STARTED", "IN_PROGRESS", "REVIEW", "ON_HOLD", "COMPLETE"):
        body = json_body(api.patch(f"{URL}{body['id']}/", {"status": status}, format="json"))
        assert body["status"] == status


def test_percent_complete_is_a_number(project, api):
    body = json_body(api.post(URL, {"project": project.pk, "name": "Half", "percent_complete": 50}, format="json"))
    assert body["percent_complete"] == 50.0 and isinstance(body["percent_complete"], float)


def test_duration_bounds_are_inclusive(project, api):
    for duration in (0, 36525):
        body = json_body(api.post(URL, {"project": project.pk, "name": f"D{duration}", "duration": duration},
                                  format="json"))
        assert body["duration"] == duration


# ---------------------------------------------------------------- hierarchy

def test_parent_must_be_in_the_same_project(owner, project, api):
    sister = make_project(owner, name="Sister")
    elsewhere = task_create(actor=owner, project=sister, name="Elsewhere")
    task = task_create(actor=owner, project=project, name="Here")
    before = db_state()
    assert_error(api.post(URL, {"project": project.pk, "name": "Child", "parent": elsewhere.pk}, format="json"), 400,
                 field="parent")
    assert_error(api.patch(f"{URL}{task.pk}/", {"parent": elsewhere.pk}, format="json"), 400, field="parent")
    assert_nothing_written(before, "parent in another project")


def test_parent_loop_is_refused(owner, project, api):
    top = task_create(actor=owner, project=project, name="Top")
    child = task_create(actor=owner, project=project, name="Child", parent=top)
    grandchild = task_create(actor=owner, project=project, name="Grandchild", parent=child)
    before = db_state()
    assert_error(api.patch(f"{URL}{top.pk}/", {"parent": grandchild.pk}, format="json"), 400, field="parent")
    assert_nothing_written(before, "parent loop")


def test_summary_flag_follows_children(owner, project, api):
    top = task_create(actor=owner, project=project, name="Top")
    assert json_body(api.get(f"{URL}{top.pk}/"))["is_summary"] is False
    body = json_body(api.post(URL, {"project": project.pk, "name": "Child", "parent": top.pk}, format="json"))
    assert body["parent"] == top.pk
    assert json_body(api.get(f"{URL}{top.pk}/"))["is_summary"] is True


def test_task_cannot_move_to_another_project(owner, project, api):
    sister = make_project(owner, name="Sister")
    task = task_create(actor=owner, project=project, name="Stay")
    before = db_state()
    assert_error(api.put(f"{URL}{task.pk}/", {"project": sister.pk, "name": "Moved"}, format="json"), 400,
                 field="project")
    assert_nothing_written(before, "move to another project")


# ---------------------------------------------------------------- deletion cascades

def test_delete_soft_deletes_links_subtasks_and_assignments(owner, project, api):
    summary = task_create(actor=owner, project=project, name="Summary")
    child = task_create(actor=owner, project=project, name="Child", parent=summary)
    grandchild = task_create(actor=owner, project=project, name="Grandchild", parent=child)
    before_task = task_create(actor=owner, project=project, name="Before")
    after_task = task_create(actor=owner, project=project, name="After")
    unrelated = task_create(actor=owner, project=project, name="Unrelated")
    into = dependency_create(actor=owner, predecessor=before_task, successor=summary)
    out_of_child = dependency_create(actor=owner, predecessor=grandchild, successor=after_task)
    kept = dependency_create(actor=owner, predecessor=before_task, successor=unrelated)
    crane = resource_create(actor=owner, name="Crane")
    assignment = assignment_create(actor=owner, work_item=child, resource=crane)

    assert api.delete(f"{URL}{summary.pk}/").status_code == 204

    for gone in (summary, child, grandchild):
        assert_error(api.get(f"{URL}{gone.pk}/"), 404)
        assert WorkItem.all_objects.get(pk=gone.pk).deleted_at is not None
    for link in (into, out_of_child):
        assert_error(api.get(f"/api/v1/dependencies/{link.pk}/"), 404)
        assert Dependency.all_objects.get(pk=link.pk).deleted_at is not None
    assert_error(api.get(f"/api/v1/task-resources/{assignment.pk}/"), 404)
    assert Assignment.all_objects.get(pk=assignment.pk).deleted_at is not None
    assert result_ids(api, URL) == [before_task.pk, after_task.pk, unrelated.pk]
    assert result_ids(api, "/api/v1/dependencies/") == [kept.pk]
    assert result_ids(api, "/api/v1/task-resources/") == []


def test_member_may_edit_only_their_own_task_fields(project, members):
    """A Member edits tasks assigned to them, but not the assignee or parent (and never 500s doing so)."""
    owner = members["owner"]
    mine = task_create(actor=owner, project=project, name="Mine", assignee=members["member"])
    client = client_for(members["member"])
    body = json_body(client.patch(f"{URL}{mine.pk}/", {"percent_complete": 30}, format="json"))
    assert body["percent_complete"] == 30.0
    before = db_state()
    assert_error(client.patch(f"{URL}{mine.pk}/", {"assignee": None}, format="json"), 403)
    assert_nothing_written(before, "member changing the assignee")


# ---------------------------------------------------------------- the fast rendering path

def test_the_direct_rendering_equals_drfs_field_by_field_rendering(owner, project, members):
    from keelplan.api.v1.serializers import TaskSerializer
    from keelplan.api.v1.views import TaskViewSet
    from keelplan.calendars.services import calendar_create

    calendar = calendar_create(actor=owner, name="Site")
    phase = task_create(actor=owner, project=project, name="Phase")
    tasks = [
        task_create(actor=owner, project=project, name="Plain", parent=phase, duration=4),
        task_create(actor=owner, project=project, name="Snet", parent=phase, constraint_type="SNET",
                    constraint_date=dt.date(2026, 2, 2), deadline=dt.date(2026, 3, 1), calendar=calendar),
        task_create(actor=owner, project=project, name="Manual", scheduling_mode="manual",
                    manual_start=dt.date(2026, 1, 12), manual_finish=dt.date(2026, 1, 16),
                    assignee=members["member"], description="By hand", percent_complete=37.5,
                    actual_start=dt.date(2026, 1, 12)),
        task_create(actor=owner, project=project, name="Gate", is_milestone=True, constraint_type="MFO",
                    constraint_date=dt.date(2026, 2, 27)),
        phase,
    ]
    dependency_create(actor=owner, predecessor=tasks[0], successor=tasks[3])
    view = TaskViewSet()
    view.request = type("R", (), {"user": owner})()
    listed = {t.pk: t for t in view.get_queryset().filter(project=project)}
    for task in tasks:
        for instance in (listed[task.pk], WorkItem.objects.get(pk=task.pk)):
            serializer = TaskSerializer(context={})
            fast, generic = serializer.to_representation(instance), serializer.generic_representation(instance)
            assert fast == generic, task.name
            assert list(fast) == list(generic), "same keys in the same order"


@pytest.mark.django_db
def test_a_null_description_is_stored_as_empty_text_on_create_and_update(owner, project):
    """v1 sends text as null where TruePPM allows it; the services read null as empty for every dialect."""
    api = client_for(owner)
    answer = api.post(URL, {"project": project.pk, "name": "Quiet", "description": None}, format="json")
    assert answer.status_code == 201, answer.json()
    task = WorkItem.objects.get(pk=answer.json()["id"])
    assert (answer.json()["description"], task.description) == ("", "")
    api.patch(f"{URL}{task.pk}/", {"description": "said"}, format="json")
    answer = api.patch(f"{URL}{task.pk}/", {"description": None}, format="json")
    assert answer.status_code == 200 and WorkItem.objects.get(pk=task.pk).description == ""
    other = task_create(actor=owner, project=project, name="Other")
    answer = api.post("/api/v1/dependencies/", {"predecessor": task.pk, "successor": other.pk, "description": None},
                      format="json")
    assert answer.status_code == 201 and Dependency.objects.get(pk=answer.json()["id"]).description == ""
