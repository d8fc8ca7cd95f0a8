"""Contract of ``/api/v1/calendars/``: weekly masks, exception ranges replaced on write, refusal while in use."""

from __future__ import annotations

import datetime as dt

from keelplan.calendars.models import Calendar, CalendarException
from keelplan.calendars.services import calendar_create
from keelplan.planning.services import task_create
from keelplan.portfolio.services import project_update
from keelplan.resources.services import resource_create

from .contract import (
    EndpointContract, assert_error, assert_nothing_written, db_state, json_body, result_ids,
)

URL = "/api/v1/calendars/"


class TestCalendarContract(EndpointContract):
    model = Calendar
    list_path = URL
    change_entity = "calendar"
    project_scoped = False
    detail_fields = ("id", "uid", "name", "working_days", "hours_per_day", "timezone", "exceptions", "lock_version",
                     "created_at", "updated_at")

    def make(self, ctx):
        return calendar_create(actor=ctx.owner, name="Shipyard", exceptions=[
            {"start": dt.date(2026, 12, 24), "end": dt.date(2026, 12, 26), "description": "Winter break"},
        ])

    def create_payloads(self, ctx):
        return [
            {"name": "Plant", "working_days": 63, "hours_per_day": 7.5, "timezone": "Europe/Paris",
             "exceptions": [{"exc_start": "2026-05-01", "exc_end": "2026-05-01", "description": "Labour day"},
                            {"exc_start": "2026-08-10", "exc_end": "2026-08-21", "description": "Shutdown"}]},
            {"name": "Weekends only", "working_days": 96},
            {"name": "Every day", "working_days": 127, "exceptions": []},
        ]

    def put_payload(self, ctx, obj):
        return {"name": "Shipyard (night)", "working_days": 15, "hours_per_day": 6, "timezone": "UTC"}

    def patch_payloads(self, ctx, obj):
        return [{"name": "Dry dock"}, {"working_days": 1}, {"exceptions": [{"exc_start": "2026-01-01",
                                                                            "exc_end": "2026-01-02"}]}]

    def bad_create_payloads(self, ctx):
        return [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "x" * 256}, "name"),
            ({"name": ["Plant"]}, "name"),
            ({"name": "Plant", "working_days": 0}, "working_days"),
            ({"name": "Plant", "working_days": 128}, "working_days"),
            ({"name": "Plant", "working_days": -1}, "working_days"),
            ({"name": "Plant", "working_days": "31"}, "working_days"),
            ({"name": "Plant", "working_days": 31.5}, "working_days"),
            ({"name": "Plant", "working_days": True}, "working_days"),
            ({"name": "Plant", "working_days": 99999999999999999999}, "working_days"),
            ({"name": "Plant", "hours_per_day": 0}, "hours_per_day"),
            ({"name": "Plant", "hours_per_day": 25}, "hours_per_day"),
            ({"name": "Plant", "hours_per_day": "eight"}, "hours_per_day"),
            ({"name": "Plant", "exceptions": {"exc_start": "2026-01-01"}}, "exceptions"),
            ({"name": "Plant", "exceptions": [{"exc_start": 20260101}]}, "exceptions"),
            ({"name": "Plant", "exceptions": [{"exc_end": "2026-01-01"}]}, "exceptions"),
            ({"name": "Plant", "exceptions": [{"exc_start": "2026-02-30"}]}, "exceptions"),
            ({"name": "Plant", "exceptions": [{"exc_start": "2026-01-05", "exc_end": "2026-01-04"}]}, "exceptions"),
            ({"name": "Plant", "exceptions": ["2026-01-01"]}, "exceptions"),
        ]

    def bad_update_payloads(self, ctx, obj):
        return [
            ({"name": ""}, "name"),
            ({"name": None}, "name"),
            ({"working_days": 0}, "working_days"),
            ({"working_days": 128}, "working_days"),
            ({"working_days": "127"}, "working_days"),
            ({"exceptions": [{"exc_start": "2026-01-05", "exc_end": "2026-01-04"}]}, "exceptions"),
            ({"exceptions": "none"}, "exceptions"),
            ({"exceptions": [{"exc_end": "2026-01-01"}]}, "exceptions"),
            ({"exceptions": [{"exc_start": None}]}, "exceptions"),
            ({"hours_per_day": None}, "hours_per_day"),
        ]


def _exceptions(body):
    return [(row["exc_start"], row["exc_end"], row["description"]) for row in body["exceptions"]]


def test_exceptions_are_listed_with_exc_start_and_exc_end(owner, project, api):
    calendar = calendar_create(actor=owner, name="Yard", exceptions=[
        {"start": dt.date(2026, 4, 3), "end": dt.date(2026, 4, 6), "description": "Easter"},
        {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 1, 1), "description": "New year"},
    ])
    body = json_body(api.get(f"{URL}{calendar.pk}/"))
    assert _exceptions(body) == [("2026-01-01", "2026-01-01", "New year"), ("2026-04-03", "2026-04-06", "Easter")]
    assert {"id", "exc_start", "exc_end", "description", "is_working"} <= set(body["exceptions"][0])
    listed = next(row for row in json_body(api.get(URL))["results"] if row["id"] == calendar.pk)
    assert _exceptions(listed) == _exceptions(body)


def test_exception_end_defaults_to_its_start(api, project):
    response = api.post(URL, {"name": "Single days", "exceptions": [{"exc_start": "2026-07-14"}]}, format="json")
    assert response.status_code == 201, response.content
    assert _exceptions(response.json()) == [("2026-07-14", "2026-07-14", "")]


def test_writing_exceptions_replaces_the_whole_list(api, owner, project):
    calendar = calendar_create(actor=owner, name="Yard", exceptions=[
        {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 1, 1)},
        {"start": dt.date(2026, 12, 25), "end": dt.date(2026, 12, 25)},
    ])
    url = f"{URL}{calendar.pk}/"
    body = json_body(api.patch(url, {"exceptions": [{"exc_start": "2026-06-01", "exc_end": "2026-06-05",
                                                     "description": "Inventory"}]}, format="json"))
    assert _exceptions(body) == [("2026-06-01", "2026-06-05", "Inventory")]
    assert list(CalendarException.objects.filter(calendar=calendar).values_list("start", flat=True)) == [
        dt.date(2026, 6, 1)]
    # A write that does not mention the exceptions keeps them.
    body = json_body(api.patch(url, {"name": "Yard 2"}, format="json"))
    assert _exceptions(body) == [("2026-06-01", "2026-06-05", "Inventory")]
    # An empty list clears them.
    body = json_body(api.patch(url, {"exceptions": []}, format="json"))
    assert body["exceptions"] == []
    assert not CalendarException.objects.filter(calendar=calendar).exists()


def test_working_exception_is_kept_as_working(api, project):
    response = api.post(URL, {"name": "Catch-up", "exceptions": [
        {"exc_start": "2026-03-07", "exc_end": "2026-03-07", "is_working": True}]}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["exceptions"][0]["is_working"] is True


def test_defaults_are_monday_to_friday_eight_hours(api, project):
    body = json_body(api.post(URL, {"name": "Plain"}, format="json"))
    assert (body["working_days"], body["hours_per_day"], body["timezone"], body["exceptions"]) == (31, 8.0, "UTC", [])


def test_calendar_in_use_by_a_project_cannot_be_deleted(owner, project, api):
    calendar = calendar_create(actor=owner, name="Project calendar")
    project_update(actor=owner, project=project, calendar=calendar)
    before = db_state()
    body = assert_error(api.delete(f"{URL}{calendar.pk}/"), 409, code="calendar_in_use")
    assert body["reference_count"] == 1
    assert_nothing_written(before, "delete of a calendar in use")
    assert json_body(api.get(f"{URL}{calendar.pk}/"))["id"] == calendar.pk
    # Once nothing uses it, it can go.
    project_update(actor=owner, project=project, calendar=None)
    assert api.delete(f"{URL}{calendar.pk}/").status_code == 204


def test_calendar_in_use_by_a_task_or_resource_cannot_be_deleted(owner, project, api):
    calendar = calendar_create(actor=owner, name="Shared")
    task_create(actor=owner, project=project, name="Weld", calendar=calendar)
    resource_create(actor=owner, name="Crane", calendar=calendar)
    body = assert_error(api.delete(f"{URL}{calendar.pk}/"), 409, code="calendar_in_use")
    assert body["reference_count"] == 2


def test_deleted_calendar_cannot_be_given_to_a_project(owner, project, api):
    calendar = calendar_create(actor=owner, name="Gone")
    assert api.delete(f"{URL}{calendar.pk}/").status_code == 204
    before = db_state()
    assert_error(api.patch(f"/api/v1/projects/{project.pk}/", {"calendar": calendar.pk}, format="json"), 400,
                 field="calendar")
    assert_nothing_written(before, "deleted calendar on a project")
    assert calendar.pk not in result_ids(api, URL)


def test_search_filters_by_name(owner, project, api):
    calendar_create(actor=owner, name="Night shift")
    calendar_create(actor=owner, name="Day shift")
    names = [row["name"] for row in json_body(api.get(URL, {"search": "night"}))["results"]]
    assert names == ["Night shift"]
