"""Contract of ``/api/v1/resources/``: workspace rows with a capacity (``max_units``), a checked e-mail and ``is_me``."""

from __future__ import annotations

from keelplan.calendars.services import calendar_create
from keelplan.resources.models import Assignment, Resource
from keelplan.resources.services import assignment_create, resource_create
from keelplan.planning.services import task_create

from conftest import client_for

from .contract import (
    EndpointContract, assert_error, assert_nothing_written, db_state, json_body, result_ids,
)

URL = "/api/v1/resources/"


class TestResourceContract(EndpointContract):
    model = Resource
    list_path = URL
    change_entity = "resource"
    project_scoped = False
    detail_fields = ("id", "uid", "name", "email", "job_role", "user", "calendar", "max_units", "is_me",
                     "lock_version", "created_at", "updated_at")

    def make(self, ctx):
        return resource_create(actor=ctx.owner, name="Tower crane", job_role="Lifting")

    def create_payloads(self, ctx):
        calendar = calendar_create(actor=ctx.owner, name="Crew")
        return [
            {"name": "Alice Ames"},
            {"name": "Bob Brand", "email": "bob@example.com", "job_role": "Welder", "max_units": "1.50",
             "calendar": calendar.pk, "user": ctx.members["member"].pk},
            {"name": "Night crew", "max_units": 4, "email": ""},
        ]

    def put_payload(self, ctx, obj):
        return {"name": "Mobile crane", "job_role": "Lifting", "max_units": "0.50", "email": "crane@example.com"}

    def patch_payloads(self, ctx, obj):
        return [{"max_units": "2.25"}, {"email": "yard@example.org"}, {"name": "Gantry", "job_role": ""}]

    def bad_create_payloads(self, ctx):
        return [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "x" * 256}, "name"),
            ({"name": "R", "email": "not-an-email"}, "email"),
            ({"name": "R", "email": "a@b"}, "email"),
            ({"name": "R", "email": 5}, "email"),
            ({"name": "R", "max_units": 0}, "max_units"),
            ({"name": "R", "max_units": "0.001"}, "max_units"),
            ({"name": "R", "max_units": -1}, "max_units"),
            ({"name": "R", "max_units": 10.01}, "max_units"),
            ({"name": "R", "max_units": 1e300}, "max_units"),
            ({"name": "R", "max_units": "NaN"}, "max_units"),
            ({"name": "R", "max_units": "Infinity"}, "max_units"),
            ({"name": "R", "max_units": "full"}, "max_units"),
            ({"name": "R", "user": "me"}, "user"),
            ({"name": "R", "user": 99999999}, "user"),
            ({"name": "R", "user": 99999999999999999999}, "user"),
            ({"name": "R", "calendar": 99999999}, "calendar"),
            ({"name": "R", "calendar": [1]}, "calendar"),
            ({"name": "R", "job_role": "x" * 121}, "job_role"),
        ]

    def bad_update_payloads(self, ctx, obj):
        return [({"name": ""}, "name"), ({"email": "nope"}, "email"), ({"max_units": 0}, "max_units"),
                ({"max_units": 11}, "max_units"), ({"max_units": None}, "max_units"), ({"user": "x"}, "user")]


def test_max_units_defaults_to_one_and_reads_back_as_a_decimal(project, api):
    body = json_body(api.post(URL, {"name": "Default"}, format="json"))
    assert body["max_units"] == "1.00"
    body = json_body(api.post(URL, {"name": "Limits", "max_units": 10}, format="json"))
    assert body["max_units"] == "10.00"
    body = json_body(api.post(URL, {"name": "Smallest", "max_units": "0.01"}, format="json"))
    assert body["max_units"] == "0.01"


def test_is_me_marks_the_callers_own_resource(owner, project, members, api):
    mine = resource_create(actor=owner, name="Me", user=owner)
    theirs = resource_create(actor=owner, name="Them", user=members["viewer"])
    nobody = resource_create(actor=owner, name="Equipment")
    rows = {row["id"]: row["is_me"] for row in json_body(api.get(URL))["results"]}
    assert rows == {mine.pk: True, theirs.pk: False, nobody.pk: False}
    assert json_body(client_for(members["viewer"]).get(f"{URL}{theirs.pk}/"))["is_me"] is True
    assert json_body(client_for(members["viewer"]).get(f"{URL}{mine.pk}/"))["is_me"] is False


def test_search_and_user_filters(owner, project, members, api):
    welder = resource_create(actor=owner, name="Welder Walt", user=members["member"])
    resource_create(actor=owner, name="Painter Pat")
    assert result_ids(api, URL, search="weld") == [welder.pk]
    assert result_ids(api, URL, user=members["member"].pk) == [welder.pk]
    assert_error(api.get(URL, {"user": "abc"}), 400, field="user")


def test_deleting_a_resource_takes_its_assignments_along(owner, project, api):
    crane = resource_create(actor=owner, name="Crane")
    task = task_create(actor=owner, project=project, name="Lift")
    assignment = assignment_create(actor=owner, work_item=task, resource=crane)
    assert api.delete(f"{URL}{crane.pk}/").status_code == 204
    assert Assignment.all_objects.get(pk=assignment.pk).deleted_at is not None
    assert_error(api.get(f"/api/v1/task-resources/{assignment.pk}/"), 404)


def test_deleted_calendar_cannot_be_given_to_a_resource(owner, project, api):
    calendar = calendar_create(actor=owner, name="Old")
    assert api.delete(f"/api/v1/calendars/{calendar.pk}/").status_code == 204
    before = db_state()
    assert_error(api.post(URL, {"name": "R", "calendar": calendar.pk}, format="json"), 400, field="calendar")
    assert_nothing_written(before, "resource on a deleted calendar")


def test_resources_are_written_by_workspace_administrators_only(project, members, outsider):
    before = db_state()
    for user in (outsider, members["viewer"], members["member"], members["scheduler"], members["admin"]):
        assert_error(client_for(user).post(URL, {"name": "R"}, format="json"), 403)
    assert_nothing_written(before, "resource by someone who is not a workspace administrator")
    assert client_for(members["owner"]).post(URL, {"name": "R"}, format="json").status_code == 201
