"""Reading work packages through ``/api/v3``: Keelplan's work items with OpenProject's names, the dates the
scheduler computed (or a manual item's own), visibility, the default open-status filter, paging, and action links
that follow the caller's role."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from keelplan.planning.models import Status
from keelplan.planning.services import dependency_create, task_create, task_update
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add
from keelplan.timesheets.services import time_entry_create

from conftest import make_project, make_user

from .conftest import HAL, assert_v3_error, v3_client

pytestmark = pytest.mark.django_db
URL = "/api/v3/work_packages"
D = dt.date


def ids(body) -> list[int]:
    return [e["id"] for e in body["_embedded"]["elements"]]


@pytest.fixture
def plan(owner, project):
    """Design (3 days) -FS-> Build (2 days) under a summary Phase; a milestone Launch; a manual Review."""
    phase = task_create(actor=owner, project=project, name="Phase")
    design = task_create(actor=owner, project=project, name="Design", duration=3, parent=phase,
                         description="Sketch it")
    build = task_create(actor=owner, project=project, name="Build", duration=2, parent=phase,
                        estimated_hours=12.5, percent_complete=40)
    dependency_create(actor=owner, predecessor=design, successor=build)
    launch = task_create(actor=owner, project=project, name="Launch", is_milestone=True)
    review = task_create(actor=owner, project=project, name="Review", scheduling_mode="manual",
                         manual_start=D(2026, 2, 2), manual_finish=D(2026, 2, 4))
    return {"phase": phase, "design": design, "build": build, "launch": launch, "review": review}


def test_a_work_package_in_openprojects_shape(owner, v3, project, plan):
    build = plan["build"]
    answer = v3.get(f"{URL}/{build.pk}")
    assert answer.status_code == 200 and answer["Content-Type"] == HAL
    body = answer.json()
    assert (body["_type"], body["id"], body["subject"], body["lockVersion"]) == (
        "WorkPackage", build.pk, "Build", build.lock_version)
    assert (body["startDate"], body["dueDate"], body["duration"]) == ("2026-01-08", "2026-01-09", "P2D")
    assert (body["scheduleManually"], body["percentageDone"], body["estimatedTime"]) == (False, 40, "PT12H30M")
    assert body["derivedStartDate"] is None and body["readonly"] is False
    links = body["_links"]
    assert links["self"] == {"href": f"/api/v3/work_packages/{build.pk}", "title": "Build"}
    assert links["project"] == {"href": f"/api/v3/projects/{project.pk}", "title": project.name}
    assert links["parent"] == {"href": f"/api/v3/work_packages/{plan['phase'].pk}", "title": "Phase"}
    assert links["author"] == {"href": f"/api/v3/users/{owner.pk}", "title": "Olive Owner"}
    assert links["assignee"] == {"href": None} and links["version"] == {"href": None}
    assert links["type"] == {"href": f"/api/v3/types/{build.type_id}", "title": build.type.name}
    assert links["status"] == {"href": f"/api/v3/statuses/{build.status_id}", "title": build.status.name}
    assert links["priority"] == {"href": f"/api/v3/priorities/{build.priority_id}", "title": build.priority.name}
    assert links["schema"]["href"] == f"/api/v3/work_packages/schemas/{project.pk}-{build.type_id}"
    assert {"update", "updateImmediately", "delete", "addRelation"} <= set(links)


def test_a_summary_derives_its_dates_and_lists_its_children(v3, plan):
    body = v3.get(f"{URL}/{plan['phase'].pk}").json()
    assert (body["derivedStartDate"], body["derivedDueDate"]) == ("2026-01-05", "2026-01-09")
    assert (body["startDate"], body["dueDate"]) == ("2026-01-05", "2026-01-09")
    assert [c["title"] for c in body["_links"]["children"]] == ["Design", "Build"]


def test_a_milestone_has_one_date_and_no_duration(v3, plan):
    body = v3.get(f"{URL}/{plan['launch'].pk}").json()
    assert body["date"] == "2026-01-05" and body["duration"] is None
    assert "startDate" not in body and "dueDate" not in body


def test_a_manual_work_package_shows_its_own_dates_and_an_undated_one_none(owner, v3, project, plan):
    body = v3.get(f"{URL}/{plan['review'].pk}").json()
    assert (body["scheduleManually"], body["startDate"], body["dueDate"]) == (True, "2026-02-02", "2026-02-04")
    loose = task_create(actor=owner, project=project, name="Someday", scheduling_mode="manual", allow_undated=True)
    body = v3.get(f"{URL}/{loose.pk}").json()
    assert (body["startDate"], body["dueDate"]) == (None, None)


def test_the_project_list_holds_open_work_packages_by_default(owner, v3, project, plan):
    closed = Status.objects.filter(is_closed=True).first()
    task_update(actor=owner, task=plan["launch"], status=closed)
    listed = v3.get(f"/api/v3/projects/{project.pk}/work_packages").json()
    assert listed["_type"] == "WorkPackageCollection"
    assert plan["launch"].pk not in ids(listed) and listed["total"] == 4
    everything = v3.get(f"/api/v3/projects/{project.identifier}/work_packages", {"filters": "[]"}).json()
    assert plan["launch"].pk in ids(everything) and everything["total"] == 5
    only_closed = v3.get(URL, {"filters": json.dumps([{"status_id": {"operator": "c", "values": None}}])}).json()
    assert ids(only_closed) == [plan["launch"].pk]


def test_filters_paging_and_sorting(owner, v3, project, plan):
    subject = v3.get(URL, {"filters": json.dumps([{"subject": {"operator": "~", "values": ["build"]}}])}).json()
    assert ids(subject) == [plan["build"].pk]
    under = v3.get(URL, {"filters": json.dumps([{"parent": {"operator": "=", "values": [str(plan["phase"].pk)]}}])})
    assert ids(under.json()) == [plan["design"].pk, plan["build"].pk]
    page = v3.get(URL, {"pageSize": 2, "offset": 2, "sortBy": '[["subject","asc"]]'}).json()
    assert [e["subject"] for e in page["_embedded"]["elements"]] == ["Launch", "Phase"]
    assert (page["total"], page["count"], page["offset"], page["pageSize"]) == (5, 2, 2, 2)
    assert_v3_error(v3.get(URL, {"filters": '[{"nope":{"operator":"=","values":["1"]}}]'}), 400, "InvalidQuery")
    assert_v3_error(v3.get(URL, {"sortBy": '[["budget","asc"]]'}), 400, "InvalidQuery")


def test_the_assignee_filter_takes_me(owner, v3, project, plan):
    task_update(actor=owner, task=plan["design"], assignee=owner)
    mine = v3.get(URL, {"filters": json.dumps([{"assignee": {"operator": "=", "values": ["me"]}}])}).json()
    assert ids(mine) == [plan["design"].pk]


def test_an_outsider_sees_no_work_package_and_gets_404(owner, plan, project):
    stranger = v3_client(make_user("stranger"))
    assert stranger.get(URL).json()["total"] == 0
    hidden = assert_v3_error(stranger.get(f"{URL}/{plan['build'].pk}"), 404, "NotFound")
    assert hidden == assert_v3_error(stranger.get(f"{URL}/999999"), 404, "NotFound")
    assert_v3_error(stranger.get(f"/api/v3/projects/{project.pk}/work_packages"), 404, "NotFound")


def test_a_viewer_reads_but_gets_no_action_links(owner, project, plan):
    viewer = make_user("viewer-wp")
    membership_add(actor=owner, project=project, user=viewer, role=Role.VIEWER)
    body = v3_client(viewer).get(f"{URL}/{plan['build'].pk}").json()
    assert body["subject"] == "Build"
    assert not {"update", "updateImmediately", "delete", "addRelation", "addChild"} & set(body["_links"])


def test_time_spent_and_the_time_links_are_for_those_who_see_the_projects_time(owner, project, plan):
    member, viewer = make_user("member-time"), make_user("viewer-time")
    membership_add(actor=owner, project=project, user=member, role=Role.MEMBER)
    membership_add(actor=owner, project=project, user=viewer, role=Role.VIEWER)
    time_entry_create(actor=owner, project=project, work_item=plan["build"], spent_on=D(2026, 1, 6), minutes=90)
    time_entry_create(actor=member, project=project, work_item=plan["build"], spent_on=D(2026, 1, 7), minutes=45)
    time_entry_create(actor=member, project=project, spent_on=D(2026, 1, 7), minutes=30)   # on no work package
    seen = v3_client(member).get(URL, {"pageSize": 10}).json()["_embedded"]["elements"]
    by_subject = {row["subject"]: row for row in seen}
    assert by_subject["Build"]["spentTime"] == "PT2H15M" and by_subject["Design"]["spentTime"] == "PT0H"
    build_links = by_subject["Build"]["_links"]
    assert build_links["logTime"] == {"href": "/api/v3/time_entries", "method": "post", "title": "Log time on Build"}
    listed = v3_client(member).get(build_links["timeEntries"]["href"]).json()
    assert listed["total"] == 2
    # A Viewer sees only their own time, so no total of everyone's and nothing to log with.
    body = v3_client(viewer).get(f"{URL}/{plan['build'].pk}").json()
    assert "spentTime" not in body and not {"timeEntries", "logTime"} & set(body["_links"])


def test_a_member_may_update_only_what_is_assigned_to_them(owner, project, plan):
    member = make_user("member-wp")
    membership_add(actor=owner, project=project, user=member, role=Role.MEMBER)
    task_update(actor=owner, task=plan["design"], assignee=member)
    client = v3_client(member)
    mine = client.get(f"{URL}/{plan['design'].pk}").json()["_links"]
    theirs = client.get(f"{URL}/{plan['build'].pk}").json()["_links"]
    assert "updateImmediately" in mine and "delete" not in mine
    assert "updateImmediately" not in theirs


def test_a_list_of_many_reads_in_a_bounded_number_of_queries(owner, v3, project, django_assert_max_num_queries):
    tasks = [task_create(actor=owner, project=make_project(owner, name=f"P{n}") if n % 10 == 0 else project,
                         name=f"T{n}") for n in range(30)]
    assert len(tasks) == 30
    with django_assert_max_num_queries(25):
        body = v3.get(URL, {"pageSize": 30}).json()
    assert body["count"] == 30


def test_a_members_list_reads_a_bounded_number_of_queries(owner, project, django_assert_max_num_queries):
    """Whether a Member may edit each row (only what is assigned to them) is read once for the page, not per row."""
    member = make_user("counted-member")
    membership_add(actor=owner, project=project, user=member, role=Role.MEMBER)
    for n in range(30):
        task_create(actor=owner, project=project, name=f"T{n}", assignee=member if n % 3 == 0 else None)
    client = v3_client(member)
    with django_assert_max_num_queries(25):
        body = client.get(URL, {"pageSize": 30}).json()
    assert body["count"] == 30
    editable = [row for row in body["_embedded"]["elements"] if "updateImmediately" in row["_links"]]
    assert len(editable) == 10


def test_a_manual_duration_is_its_window_in_working_days(owner, v3, project):
    """Dates set through v1 without a duration still read as the working days between them in v3."""
    row = task_create(actor=owner, project=project, name="Window", scheduling_mode="manual",
                      manual_start=D(2026, 1, 8), manual_finish=D(2026, 1, 13), duration=1)
    assert v3.get(f"{URL}/{row.pk}").json()["duration"] == "P4D"   # Thu, Fri, Mon, Tue
