"""Writing work packages through ``/api/v3``: create at ``/work_packages`` and ``/projects/{id}/work_packages``,
PATCH with ``lockVersion``, DELETE; OpenProject's scheduling words mapped onto Keelplan's (manual dates kept with
their duration in working days, automatic dates from the engine); the same row through v1; every refusal in
OpenProject's error form with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.calendars.services import calendar_create
from keelplan.planning.models import ConstraintType, WorkItem, WorkItemType
from keelplan.planning.services import dependency_create, task_create
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add, project_update
from keelplan.scheduling.selectors import WorkingDays, computed_fields

from conftest import client_for, make_project, make_user

from .conftest import HAL, assert_v3_error, v3_client

pytestmark = pytest.mark.django_db
URL = "/api/v3/work_packages"
D = dt.date


def rows_state(project) -> list[tuple]:
    return sorted(WorkItem.all_objects.filter(project=project).values_list(
        "id", "name", "scheduling_mode", "manual_start", "manual_finish", "duration", "constraint_type",
        "constraint_date", "deleted_at", "lock_version"))


def task_type():
    return WorkItemType.objects.filter(is_milestone=False).order_by("position").first()


def project_link(project):
    return {"href": f"/api/v3/projects/{project.pk}"}


# ---------------------------------------------------------------- creating

def test_create_a_manual_work_package_from_start_and_duration(v3, project):
    answer = v3.post(URL, {"subject": "Dig", "startDate": "2026-01-08", "duration": "P3D",
                           "_links": {"project": project_link(project),
                                      "type": {"href": f"/api/v3/types/{task_type().pk}"}}}, format="json")
    assert answer.status_code == 201 and answer["Content-Type"] == HAL
    body = answer.json()
    # Thursday, Friday, then Monday: the weekend is not worked.
    assert (body["startDate"], body["dueDate"], body["duration"], body["scheduleManually"]) == (
        "2026-01-08", "2026-01-12", "P3D", True)
    row = WorkItem.objects.get(pk=body["id"])
    assert (row.name, row.scheduling_mode, row.manual_start, row.manual_finish, row.duration) == (
        "Dig", "manual", D(2026, 1, 8), D(2026, 1, 12), 3)
    assert computed_fields(project.pk, [row.pk])[row.pk]["early_finish"] == D(2026, 1, 12)
    v1 = client_for(project.created_by).get(f"/api/v1/tasks/{row.pk}/").json()
    assert (v1["name"], v1["manual_start"], v1["manual_finish"], v1["early_finish"]) == (
        "Dig", "2026-01-08", "2026-01-12", "2026-01-12")


def test_the_duration_follows_the_project_calendar(owner, v3, project):
    four_days = calendar_create(actor=owner, name="Four days", working_days=0b0001111)
    project_update(actor=owner, project=project, calendar=four_days)
    body = v3.post(f"/api/v3/projects/{project.pk}/work_packages",
                   {"subject": "Short weeks", "startDate": "2026-01-08", "dueDate": "2026-01-13"},
                   format="json").json()
    # Thursday, (Friday off, weekend), Monday, Tuesday.
    assert body["duration"] == "P3D"
    project.refresh_from_db()
    days = WorkingDays(project)
    assert days.count(D(2026, 1, 8), D(2026, 1, 13)) == 3
    assert days.finish(D(2026, 1, 8), 3) == D(2026, 1, 13)
    assert days.start(D(2026, 1, 13), 3) == D(2026, 1, 8)


def test_a_due_date_and_duration_give_the_start(v3, project):
    body = v3.post(f"/api/v3/projects/{project.pk}/work_packages",
                   {"subject": "Back from due", "dueDate": "2026-01-12", "duration": "P2D"}, format="json").json()
    assert (body["startDate"], body["dueDate"]) == ("2026-01-09", "2026-01-12")


def test_a_new_work_package_without_dates_is_manual_and_unscheduled(v3, project):
    body = v3.post(f"/api/v3/projects/{project.identifier}/work_packages", {"subject": "Someday"},
                   format="json").json()
    assert (body["scheduleManually"], body["startDate"], body["dueDate"]) == (True, None, None)
    assert computed_fields(project.pk, [body["id"]]) == {}


def test_an_automatic_work_package_takes_its_dates_from_the_engine(owner, v3, project):
    first = task_create(actor=owner, project=project, name="First", duration=3)
    body = v3.post(f"/api/v3/projects/{project.pk}/work_packages",
                   {"subject": "After", "startDate": "2026-01-20", "duration": "P2D"}, format="json").json()
    answer = v3.post(f"{URL}/{first.pk}/relations", {"type": "precedes", "_links": {"to": {"href": body["_links"][
        "self"]["href"]}}}, format="json")
    assert answer.status_code == 201, answer.json()
    body = v3.get(f"{URL}/{body['id']}").json()
    # Becoming a successor made it automatic: pulled from the 20th to the day after its predecessor, duration kept.
    assert (body["scheduleManually"], body["startDate"], body["dueDate"]) == (False, "2026-01-08", "2026-01-09")


def test_a_new_work_package_cannot_start_automatic(v3, project):
    """OpenProject (≥ 15.4) schedules a work package automatically only when it has a predecessor or a child to
    take its dates from, and a new one has neither."""
    before = rows_state(project)
    assert_v3_error(v3.post(f"/api/v3/projects/{project.pk}/work_packages",
                            {"subject": "Floating", "scheduleManually": False, "duration": "P2D"}, format="json"),
                    422, "PropertyConstraintViolation", attribute="scheduleManually")
    assert rows_state(project) == before


def test_a_start_date_on_an_automatic_work_package_is_its_earliest_start(owner, v3, project):
    first = task_create(actor=owner, project=project, name="First", duration=1)
    later = task_create(actor=owner, project=project, name="Later", duration=1)
    dependency_create(actor=owner, predecessor=first, successor=later)
    body = v3.patch(f"{URL}/{later.pk}", {"startDate": "2026-01-14", "lockVersion": later.lock_version},
                    format="json").json()
    row = WorkItem.objects.get(pk=later.pk)
    assert (row.constraint_type, row.constraint_date) == (ConstraintType.SNET, D(2026, 1, 14))
    assert (body["scheduleManually"], body["startDate"]) == (False, "2026-01-14")


def test_a_milestone_takes_one_date(v3, project):
    milestone = WorkItemType.objects.filter(is_milestone=True).first()
    body = v3.post(f"/api/v3/projects/{project.pk}/work_packages",
                   {"subject": "Launch", "date": "2026-01-16",
                    "_links": {"type": {"href": f"/api/v3/types/{milestone.pk}"}}}, format="json").json()
    assert (body["date"], body["duration"]) == ("2026-01-16", None)
    row = WorkItem.objects.get(pk=body["id"])
    assert (row.is_milestone, row.manual_start, row.manual_finish) == (True, D(2026, 1, 16), D(2026, 1, 16))


def test_links_set_assignee_parent_priority_and_hours(owner, v3, project):
    parent = task_create(actor=owner, project=project, name="Parent")
    body = v3.post(f"/api/v3/projects/{project.pk}/work_packages", {
        "subject": "Child", "estimatedTime": "PT2H30M", "remainingTime": "P1DT1H", "percentageDone": 20,
        "description": {"raw": "Details"},
        "_links": {"assignee": {"href": f"/api/v3/users/{owner.pk}"},
                   "parent": {"href": f"/api/v3/work_packages/{parent.pk}"}}}, format="json").json()
    row = WorkItem.objects.get(pk=body["id"])
    assert (row.assignee_id, row.parent_id, float(row.estimated_hours), float(row.remaining_hours),
            int(row.percent_complete), row.description) == (owner.pk, parent.pk, 2.5, 25.0, 20, "Details")
    assert body["estimatedTime"] == "PT2H30M" and body["_links"]["parent"]["title"] == "Parent"


def test_an_empty_body_is_multiple_errors(v3, project):
    before = rows_state(project)
    body = assert_v3_error(v3.post(URL, {}, format="json"), 422, "MultipleErrors")
    assert {e["_embedded"]["details"]["attribute"] for e in body["_embedded"]["errors"]} == {"project", "subject"}
    assert rows_state(project) == before


@pytest.mark.parametrize("body, identifier, attribute", [
    ({"startDate": "2026-01-05"}, "PropertyConstraintViolation", "subject"),
    ({"subject": ""}, "PropertyConstraintViolation", "subject"),
    ({"subject": "x" * 513}, "PropertyConstraintViolation", "subject"),
    ({"subject": "D", "startDate": "5 Jan"}, "PropertyFormatError", "startDate"),
    ({"subject": "D", "duration": "five days"}, "PropertyFormatError", "duration"),
    ({"subject": "D", "duration": "PT3H"}, "PropertyFormatError", "duration"),
    ({"subject": "D", "startDate": "2026-01-09", "dueDate": "2026-01-05"}, "PropertyConstraintViolation",
     "dueDate"),
    ({"subject": "D", "dueDate": "2026-01-05"}, "PropertyConstraintViolation", "startDate"),
    ({"subject": "D", "scheduleManually": "yes"}, "PropertyFormatError", "scheduleManually"),
    ({"subject": "D", "scheduleManually": False, "dueDate": "2026-01-09"}, "PropertyIsReadOnly", "dueDate"),
    ({"subject": "D", "percentageDone": 140}, "PropertyConstraintViolation", "percentageDone"),
    ({"subject": "D", "estimatedTime": "two hours"}, "PropertyFormatError", "estimatedTime"),
    ({"subject": "D", "_links": {"type": {"href": "/api/v3/types/999999"}}}, "PropertyConstraintViolation", "type"),
    ({"subject": "D", "_links": {"status": {"href": "/api/v3/users/1"}}}, "ResourceTypeMismatch", "status"),
    ({"subject": "D", "_links": {"parent": {"href": "/api/v3/work_packages/999999"}}},
     "PropertyConstraintViolation", "parent"),
])
def test_a_bad_create_names_the_property_and_writes_nothing(v3, project, body, identifier, attribute):
    before = rows_state(project)
    assert_v3_error(v3.post(f"/api/v3/projects/{project.pk}/work_packages", body, format="json"), 422, identifier,
                    attribute=attribute)
    assert rows_state(project) == before


def test_an_assignee_outside_the_project_is_refused(v3, project):
    stranger = make_user("stranger")
    before = rows_state(project)
    assert_v3_error(v3.post(f"/api/v3/projects/{project.pk}/work_packages", {
        "subject": "D", "_links": {"assignee": {"href": f"/api/v3/users/{stranger.pk}"}}}, format="json"), 422,
        "PropertyConstraintViolation", attribute="assignee")
    assert rows_state(project) == before


def test_a_project_the_caller_cannot_see_is_refused_as_unknown(owner, project):
    stranger = v3_client(make_user("stranger"))
    before = rows_state(project)
    hidden = assert_v3_error(stranger.post(URL, {"subject": "Mine", "_links": {"project": project_link(project)}},
                                           format="json"), 422, "PropertyConstraintViolation", attribute="project")
    missing = assert_v3_error(stranger.post(URL, {"subject": "Mine", "_links": {"project": {
        "href": "/api/v3/projects/999999"}}}, format="json"), 422, "PropertyConstraintViolation")
    assert hidden == missing
    assert_v3_error(stranger.post(f"/api/v3/projects/{project.pk}/work_packages", {"subject": "Mine"},
                                  format="json"), 404, "NotFound")
    assert rows_state(project) == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.SCHEDULER])
def test_below_admin_may_not_create_and_nothing_is_written(owner, project, role):
    person = make_user("below")
    membership_add(actor=owner, project=project, user=person, role=role)
    before = rows_state(project)
    assert_v3_error(v3_client(person).post(f"/api/v3/projects/{project.pk}/work_packages", {"subject": "Mine"},
                                           format="json"), 403, "MissingPermission")
    assert rows_state(project) == before


# ---------------------------------------------------------------- updating and deleting

@pytest.fixture
def dig(owner, project):
    return task_create(actor=owner, project=project, name="Dig", scheduling_mode="manual",
                       manual_start=D(2026, 1, 5), manual_finish=D(2026, 1, 7), duration=3)


def test_update_needs_the_lock_version_and_refuses_a_stale_one(v3, project, dig):
    before = rows_state(project)
    assert_v3_error(v3.patch(f"{URL}/{dig.pk}", {"subject": "Dug"}, format="json"), 422, "PropertyMissingError",
                    attribute="lockVersion")
    assert_v3_error(v3.patch(f"{URL}/{dig.pk}", {"subject": "Dug", "lockVersion": dig.lock_version + 5},
                             format="json"), 409, "UpdateConflict")
    assert rows_state(project) == before
    answer = v3.patch(f"{URL}/{dig.pk}", {"subject": "Dug", "lockVersion": dig.lock_version}, format="json")
    assert answer.status_code == 200 and answer.json()["lockVersion"] == dig.lock_version + 1


def test_a_new_start_keeps_the_duration_and_a_new_due_date_changes_it(v3, dig):
    body = v3.patch(f"{URL}/{dig.pk}", {"startDate": "2026-01-09", "lockVersion": dig.lock_version},
                    format="json").json()
    assert (body["startDate"], body["dueDate"], body["duration"]) == ("2026-01-09", "2026-01-13", "P3D")
    body = v3.patch(f"{URL}/{dig.pk}", {"dueDate": "2026-01-16", "lockVersion": body["lockVersion"]},
                    format="json").json()
    assert (body["startDate"], body["dueDate"], body["duration"]) == ("2026-01-09", "2026-01-16", "P6D")


def test_the_whole_object_sent_back_changes_only_what_differs(v3, owner, project):
    auto = task_create(actor=owner, project=project, name="Auto", duration=2)
    body = v3.get(f"{URL}/{auto.pk}").json()
    body["subject"] = "Auto renamed"
    answer = v3.patch(f"{URL}/{auto.pk}", body, format="json")
    assert answer.status_code == 200, answer.json()
    row = WorkItem.objects.get(pk=auto.pk)
    # The computed start it was sent back did not become a constraint.
    assert (row.name, row.constraint_type, row.scheduling_mode) == ("Auto renamed", ConstraintType.ASAP, "auto")


def test_switching_to_automatic_lets_the_engine_place_it(owner, v3, project, dig):
    first = task_create(actor=owner, project=project, name="First", duration=4)
    dependency_create(actor=owner, predecessor=first, successor=dig)
    body = v3.patch(f"{URL}/{dig.pk}", {"scheduleManually": False, "lockVersion": dig.lock_version},
                    format="json").json()
    assert (body["scheduleManually"], body["startDate"], body["dueDate"]) == (False, "2026-01-09", "2026-01-13")


def test_switching_to_automatic_needs_a_predecessor_or_a_child(owner, v3, project, dig):
    before = rows_state(project)
    assert_v3_error(v3.patch(f"{URL}/{dig.pk}", {"scheduleManually": False, "lockVersion": dig.lock_version},
                             format="json"), 422, "PropertyConstraintViolation", attribute="scheduleManually")
    assert rows_state(project) == before
    # A child is something to follow too.
    task_create(actor=owner, project=project, name="Spade", parent=dig, duration=2)
    dig.refresh_from_db()
    answer = v3.patch(f"{URL}/{dig.pk}", {"scheduleManually": False, "lockVersion": dig.lock_version},
                      format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["scheduleManually"] is False


def test_a_manual_parent_turns_automatic_with_its_first_child_only(v3, project, dig):
    child = v3.post(f"/api/v3/projects/{project.pk}/work_packages", {
        "subject": "Spade", "startDate": "2026-01-12", "duration": "P2D",
        "_links": {"parent": {"href": f"{URL}/{dig.pk}"}}}, format="json").json()
    parent = v3.get(f"{URL}/{dig.pk}").json()
    # The parent's dates now follow its child.
    assert (parent["scheduleManually"], parent["startDate"], parent["dueDate"]) == (False, "2026-01-12", "2026-01-13")
    assert child["scheduleManually"] is True
    # Switched back to manual by hand, it stays manual when a second child arrives.
    answer = v3.patch(f"{URL}/{dig.pk}", {"scheduleManually": True, "lockVersion": parent["lockVersion"]},
                      format="json")
    assert answer.status_code == 200, answer.json()
    v3.post(f"/api/v3/projects/{project.pk}/work_packages", {
        "subject": "Barrow", "startDate": "2026-01-14", "_links": {"parent": {"href": f"{URL}/{dig.pk}"}}},
        format="json")
    assert WorkItem.objects.get(pk=dig.pk).scheduling_mode == "manual"


def test_moving_a_work_package_under_a_childless_manual_parent_turns_it_automatic(owner, v3, project, dig):
    spade = task_create(actor=owner, project=project, name="Spade", scheduling_mode="manual",
                        manual_start=D(2026, 1, 19), manual_finish=D(2026, 1, 19), duration=1)
    answer = v3.patch(f"{URL}/{spade.pk}", {"lockVersion": spade.lock_version,
                                            "_links": {"parent": {"href": f"{URL}/{dig.pk}"}}}, format="json")
    assert answer.status_code == 200, answer.json()
    parent = v3.get(f"{URL}/{dig.pk}").json()
    assert (parent["scheduleManually"], parent["startDate"], parent["dueDate"]) == (False, "2026-01-19", "2026-01-19")


def test_v1_keeps_a_manual_successor_and_a_manual_parent_manual(owner, project, dig):
    """TruePPM's rules: a link or a child never changes how a task is scheduled (the v1 dialect leaves OpenProject's
    mode rules off)."""
    first = task_create(actor=owner, project=project, name="First", duration=1)
    client = client_for(owner)
    assert client.post("/api/v1/dependencies/", {"predecessor": first.pk, "successor": dig.pk, "type": "FS"},
                       format="json").status_code == 201
    assert client.post("/api/v1/tasks/", {"project": project.pk, "name": "Spade", "parent": dig.pk, "duration": 1},
                       format="json").status_code == 201
    assert WorkItem.objects.get(pk=dig.pk).scheduling_mode == "manual"


def test_the_project_cannot_change(owner, v3, project, dig):
    other = make_project(owner, name="Other")
    before = rows_state(project)
    assert_v3_error(v3.patch(f"{URL}/{dig.pk}", {"lockVersion": dig.lock_version, "_links": {
        "project": project_link(other)}}, format="json"), 422, "PropertyIsReadOnly", attribute="project")
    assert rows_state(project) == before


def test_a_member_edits_only_their_own_and_never_the_assignee(owner, project, dig):
    member = make_user("member")
    membership_add(actor=owner, project=project, user=member, role=Role.MEMBER)
    client = v3_client(member)
    before = rows_state(project)
    assert_v3_error(client.patch(f"{URL}/{dig.pk}", {"subject": "Mine", "lockVersion": dig.lock_version},
                                 format="json"), 403, "MissingPermission")
    assert rows_state(project) == before
    WorkItem.objects.filter(pk=dig.pk).update(assignee=member)
    assert client.patch(f"{URL}/{dig.pk}", {"percentageDone": 50, "lockVersion": dig.lock_version},
                        format="json").status_code == 200
    assert_v3_error(client.patch(f"{URL}/{dig.pk}", {"lockVersion": dig.lock_version + 1, "_links": {
        "assignee": {"href": None}}}, format="json"), 403, "MissingPermission")


def test_delete_answers_204_and_takes_the_children(owner, v3, project):
    parent = task_create(actor=owner, project=project, name="Parent")
    child = task_create(actor=owner, project=project, name="Child", parent=parent)
    answer = v3.delete(f"{URL}/{parent.pk}", content_type="application/json")
    assert answer.status_code == 204 and answer.content == b""
    assert not WorkItem.objects.filter(pk__in=[parent.pk, child.pk]).exists()
    assert_v3_error(v3.get(f"{URL}/{parent.pk}"), 404, "NotFound")


def test_an_outsider_cannot_touch_a_work_package(project, dig):
    stranger = v3_client(make_user("stranger"))
    before = rows_state(project)
    assert_v3_error(stranger.patch(f"{URL}/{dig.pk}", {"subject": "x", "lockVersion": 0}, format="json"), 404,
                    "NotFound")
    assert_v3_error(stranger.delete(f"{URL}/{dig.pk}", content_type="application/json"), 404, "NotFound")
    assert rows_state(project) == before


def test_a_v1_edit_shows_in_v3_with_a_new_lock_version(owner, v3, project, dig):
    before = v3.get(f"{URL}/{dig.pk}").json()["lockVersion"]
    assert client_for(owner).patch(f"/api/v1/tasks/{dig.pk}/", {"name": "Dig (v1)"}, format="json").status_code == 200
    after = v3.get(f"{URL}/{dig.pk}").json()
    assert (after["subject"], after["lockVersion"]) == ("Dig (v1)", before + 1)


# ---------------------------------------------------------------- schema, form, assignees

def test_the_schema_names_writable_properties_and_allowed_values(owner, v3, project):
    from keelplan.customfields.services import custom_field_create

    kind = task_type()
    cf = custom_field_create(actor=owner, name="Risk", applies_to="work_item", format="list",
                             options=["Low", "High"])
    schema = v3.get(f"{URL}/schemas/{project.pk}-{kind.pk}").json()
    assert schema["_type"] == "Schema"
    assert schema["subject"]["required"] is True and schema["id"]["writable"] is False
    assert "startDate" in schema and "date" not in schema
    assert {v["title"] for v in schema["status"]["_links"]["allowedValues"]}
    assert schema["assignee"]["_links"]["allowedValues"]["href"] == \
        f"/api/v3/projects/{project.pk}/available_assignees"
    assert [v["title"] for v in schema[f"customField{cf.pk}"]["_links"]["allowedValues"]] == ["Low", "High"]
    milestone = WorkItemType.objects.filter(is_milestone=True).first()
    assert "date" in v3.get(f"{URL}/schemas/{project.pk}-{milestone.pk}").json()
    assert_v3_error(v3.get(f"{URL}/schemas/{project.pk}-999999"), 404, "NotFound")
    assert_v3_error(v3_client(make_user("stranger")).get(f"{URL}/schemas/{project.pk}-{kind.pk}"), 404,
                    "NotFound")


def test_the_form_checks_a_create_and_an_update_without_writing(v3, project, dig):
    before = rows_state(project)
    good = v3.post(f"/api/v3/projects/{project.pk}/work_packages/form",
                   {"subject": "Planned", "startDate": "2026-01-05", "duration": "P2D"}, format="json").json()
    assert good["_type"] == "Form" and good["_embedded"]["validationErrors"] == {}
    assert (good["_embedded"]["payload"]["subject"], good["_embedded"]["payload"]["dueDate"]) == (
        "Planned", "2026-01-06")
    assert good["_links"]["commit"]["href"] == f"/api/v3/projects/{project.pk}/work_packages"
    also = v3.post(f"{URL}/form", {"subject": "Via links", "_links": {"project": project_link(project)}},
                   format="json").json()
    assert also["_embedded"]["validationErrors"] == {}
    bad = v3.post(f"{URL}/{dig.pk}/form", {"lockVersion": dig.lock_version, "subject": ""}, format="json").json()
    assert set(bad["_embedded"]["validationErrors"]) == {"subject"} and "commit" not in bad["_links"]
    assert rows_state(project) == before


def test_available_assignees_of_a_work_package(owner, v3, project, dig):
    member = make_user("member-a", full_name="Mia Member")
    membership_add(actor=owner, project=project, user=member, role=Role.MEMBER)
    make_user("not-a-member")
    body = v3.get(f"{URL}/{dig.pk}/available_assignees").json()
    assert {e["name"] for e in body["_embedded"]["elements"]} == {"Olive Owner", "Mia Member"}
