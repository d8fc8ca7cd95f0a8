"""Time entries through ``/api/v3``: logged in the body openproject-api-client sends, listed with OpenProject's
filters (string values) and sorts, paged, read, changed with and without ``lockVersion`` and deleted; every refusal
in OpenProject's words with nothing written; the domain's rights tried as attacks; action links by role; the
activity resource, the schema and the forms; and the answers conform to ``/api/v3/spec.json``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keelplan.changelog.models import ChangeEvent
from keelplan.planning.services import task_create, task_delete
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add
from keelplan.timesheets.models import Activity, TimeEntry
from keelplan.timesheets.services import (
    activity_create, activity_update, specific_activity_attach, time_entry_create,
)

from conftest import make_project, make_user

from .conftest import HAL, URN, assert_v3_error, v3_client
from .test_spec import conforms

pytestmark = pytest.mark.django_db

TIME = "/api/v3/time_entries"
DAY = dt.date(2026, 1, 7)


def wp(pk) -> dict:
    return {"href": f"/api/v3/work_packages/{pk}"}


def activity_link(activity: Activity, spelling: str = "activities") -> dict:
    return {"href": f"{TIME}/{spelling}/{activity.pk}"}


def state() -> tuple:
    """Every time entry (deleted ones too) with every stored field, and the change log's length."""
    rows = list(TimeEntry.all_objects.order_by("pk").values_list(
        "pk", "project_id", "work_item_id", "user_id", "activity_id", "spent_on", "minutes", "comment", "deleted_at",
        "lock_version", "updated_at"))
    return rows, ChangeEvent.objects.count()


def filters(*entries) -> dict:
    return {"filters": json.dumps(list(entries))}


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content[:300]
    return [e["id"] for e in answer.json()["_embedded"]["elements"]]


@pytest.fixture
def spec_document() -> dict:
    from keelplan.api.v3.spec import document

    return document()


@pytest.fixture
def development() -> Activity:
    return Activity.objects.get(name="Development")


@pytest.fixture
def testing() -> Activity:
    return Activity.objects.get(name="Testing")


@pytest.fixture
def tasks(owner, project):
    return (task_create(actor=owner, project=project, name="Survey", duration=3),
            task_create(actor=owner, project=project, name="Layout", duration=5))


@pytest.fixture
def clients(members) -> dict:
    return {name: v3_client(person) for name, person in members.items()}


def log(actor, project, minutes=60, *, day=DAY, **extra) -> TimeEntry:
    return time_entry_create(actor=actor, project=project, spent_on=day, minutes=minutes, **extra)


# ---------------------------------------------------------------- logging time

def test_log_time_as_openproject_api_client_sends_it(members, clients, project, tasks, testing):
    survey, _ = tasks
    answer = clients["member"].post(TIME, {
        "hours": "PT1H30M", "spentOn": "2026-01-07", "comment": {"raw": "Walked the site."},
        "_links": {"workPackage": wp(survey.pk), "project": {"href": f"/api/v3/projects/{project.pk}"},
                   "activity": activity_link(testing)}}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer["Content-Type"] == HAL
    body = answer.json()
    row = TimeEntry.objects.get(pk=body["id"])
    assert (row.project_id, row.work_item_id, row.user_id, row.activity_id, row.spent_on, row.minutes,
            row.comment) == (project.pk, survey.pk, members["member"].pk, testing.pk, DAY, 90, "Walked the site.")
    assert (body["_type"], body["hours"], body["spentOn"], body["ongoing"], body["lockVersion"]) == (
        "TimeEntry", "PT1H30M", "2026-01-07", False, row.lock_version)
    assert body["comment"] == {"format": "plain", "raw": "Walked the site.", "html": "<p>Walked the site.</p>"}
    links = body["_links"]
    assert links["self"]["href"] == f"{TIME}/{row.pk}"
    assert links["project"] == {"href": f"/api/v3/projects/{project.pk}", "title": project.name}
    assert links["workPackage"] == links["entity"] == {"href": f"/api/v3/work_packages/{survey.pk}",
                                                       "title": "Survey"}
    assert links["user"] == {"href": f"/api/v3/users/{members['member'].pk}",
                             "title": members["member"].display_name}
    assert links["activity"] == {"href": f"{TIME}/activities/{testing.pk}", "title": "Testing"}
    assert links["schema"]["href"] == f"{TIME}/schema"
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")


@pytest.mark.parametrize("hours, minutes", [("PT2H", 120), ("P0DT1H", 60), ("PT45M", 45), ("PT1.5H", 90),
                                            ("PT0.25H", 15), ("P1D", 1440), ("PT23H59M", 1439)])
def test_hours_in_every_iso_spelling(v3, tasks, hours, minutes):
    answer = v3.post(TIME, {"hours": hours, "_links": {"workPackage": wp(tasks[0].pk)}}, format="json")
    assert answer.status_code == 201, answer.content
    assert TimeEntry.objects.get(pk=answer.json()["id"]).minutes == minutes


def test_defaults_and_other_body_shapes(owner, v3, project, tasks, development, testing):
    survey, layout = tasks
    # entity instead of workPackage; no spentOn (today), no activity (the default), a plain-text comment.
    first = v3.post(TIME, {"hours": "PT1H", "comment": "plain text", "_links": {"entity": wp(layout.pk)}},
                    format="json").json()
    row = TimeEntry.objects.get(pk=first["id"])
    assert (row.work_item_id, row.spent_on, row.activity_id, row.comment) == (
        layout.pk, timezone.localdate(), development.pk, "plain text")
    # A project alone: time on the project as a whole; the activity in OpenProject's singular spelling.
    second = v3.post(TIME, {"hours": "PT3H", "spentOn": "2026-01-08", "comment": None, "_links": {
        "project": {"href": f"/api/v3/projects/{project.pk}"}, "activity": activity_link(testing, "activity")}},
        format="json")
    assert second.status_code == 201, second.content
    body = second.json()
    assert body["_links"]["workPackage"] == body["_links"]["entity"] == {"href": None}
    row = TimeEntry.objects.get(pk=body["id"])
    assert (row.project_id, row.work_item_id, row.activity_id, row.comment) == (project.pk, None, testing.pk, "")
    # Both links naming the same work package; the user link naming the caller.
    third = v3.post(TIME, {"hours": "PT1H", "_links": {"entity": wp(survey.pk), "workPackage": wp(survey.pk),
                                                       "user": {"href": "/api/v3/users/me"}}}, format="json")
    assert third.status_code == 201 and TimeEntry.objects.get(pk=third.json()["id"]).user_id == owner.pk


def test_time_reschedules_nothing(owner, v3, tasks):
    before = v3.get(f"/api/v3/work_packages/{tasks[0].pk}").json()
    assert v3.post(TIME, {"hours": "PT8H", "_links": {"workPackage": wp(tasks[0].pk)}},
                   format="json").status_code == 201
    after = v3.get(f"/api/v3/work_packages/{tasks[0].pk}").json()
    assert (after["startDate"], after["dueDate"], after["lockVersion"]) == (
        before["startDate"], before["dueDate"], before["lockVersion"])


# ---------------------------------------------------------------- refusals, nothing written

@pytest.fixture
def refusal_world(owner, project, tasks):
    other = make_project(owner, "Gemini")
    foreign = task_create(actor=owner, project=other, name="Elsewhere")
    gone = task_create(actor=owner, project=project, name="Gone")
    task_delete(actor=owner, task=gone)
    retired = activity_create(actor=owner, name="Retired")
    activity_update(actor=owner, activity=retired, is_active=False)
    return {"task": tasks[0].pk, "foreign": foreign.pk, "gone": gone.pk, "retired": retired.pk,
            "project": project.pk}


BAD_BODIES = [
    # (name, body builder, status, identifier, attribute)
    ("no hours", lambda w: {"_links": {"workPackage": wp(w["task"])}}, 422, "PropertyConstraintViolation",
     "hours"),
    ("null hours", lambda w: {"hours": None, "_links": {"workPackage": wp(w["task"])}}, 422,
     "PropertyConstraintViolation", "hours"),
    ("hours not ISO", lambda w: {"hours": "1.5", "_links": {"workPackage": wp(w["task"])}}, 422,
     "PropertyFormatError", "hours"),
    ("hours a number", lambda w: {"hours": 2, "_links": {"workPackage": wp(w["task"])}}, 422,
     "PropertyFormatError", "hours"),
    ("no time", lambda w: {"hours": "PT0M", "_links": {"workPackage": wp(w["task"])}}, 422,
     "PropertyConstraintViolation", "hours"),
    ("more than a day", lambda w: {"hours": "PT24H1M", "_links": {"workPackage": wp(w["task"])}}, 422,
     "PropertyConstraintViolation", "hours"),
    ("hours past a float", lambda w: {"hours": "PT" + "9" * 400 + "H", "_links": {"workPackage": wp(w["task"])}},
     422, "PropertyConstraintViolation", "hours"),
    ("not a date", lambda w: {"hours": "PT1H", "spentOn": "2026-02-30", "_links": {"workPackage": wp(w["task"])}},
     422, "PropertyFormatError", "spentOn"),
    ("null date", lambda w: {"hours": "PT1H", "spentOn": None, "_links": {"workPackage": wp(w["task"])}}, 422,
     "PropertyConstraintViolation", "spentOn"),
    ("comment a number", lambda w: {"hours": "PT1H", "comment": 5, "_links": {"workPackage": wp(w["task"])}},
     422, "PropertyFormatError", "comment"),
    ("comment too long", lambda w: {"hours": "PT1H", "comment": {"raw": "x" * 10_001},
                                    "_links": {"workPackage": wp(w["task"])}}, 422, "PropertyConstraintViolation",
     "comment"),
    ("ongoing", lambda w: {"hours": "PT1H", "ongoing": True, "_links": {"workPackage": wp(w["task"])}}, 422,
     "PropertyConstraintViolation", "ongoing"),
    ("no work package or project", lambda w: {"hours": "PT1H"}, 422, "PropertyConstraintViolation",
     "workPackage"),
    ("missing work package", lambda w: {"hours": "PT1H", "_links": {"workPackage": wp(999_999)}}, 422,
     "PropertyConstraintViolation", "workPackage"),
    ("deleted work package", lambda w: {"hours": "PT1H", "_links": {"workPackage": wp(w["gone"])}}, 422,
     "PropertyConstraintViolation", "workPackage"),
    ("work package of another project", lambda w: {"hours": "PT1H", "_links": {
        "workPackage": wp(w["foreign"]), "project": {"href": f"/api/v3/projects/{w['project']}"}}}, 422,
     "PropertyConstraintViolation", "workPackage"),
    ("work package and entity disagree", lambda w: {"hours": "PT1H", "_links": {
        "workPackage": wp(w["task"]), "entity": wp(w["foreign"])}}, 422, "PropertyConstraintViolation",
     "workPackage"),
    ("work package link of another kind", lambda w: {"hours": "PT1H", "_links": {
        "workPackage": {"href": "/api/v3/meetings/4"}}}, 422, "ResourceTypeMismatch", "workPackage"),
    ("activity not a link", lambda w: {"hours": "PT1H", "_links": {"workPackage": wp(w["task"]),
                                                                   "activity": "Development"}}, 422,
     "PropertyFormatError", "activity"),
    ("activity of another kind", lambda w: {"hours": "PT1H", "_links": {"workPackage": wp(w["task"]),
                                                                        "activity": {"href": "/api/v3/types/1"}}},
     422, "ResourceTypeMismatch", "activity"),
    ("missing activity", lambda w: {"hours": "PT1H", "_links": {"workPackage": wp(w["task"]),
                                                                "activity": {"href": f"{TIME}/activities/9999"}}},
     422, "PropertyConstraintViolation", "activity"),
    ("inactive activity", lambda w: {"hours": "PT1H", "_links": {
        "workPackage": wp(w["task"]), "activity": {"href": f"{TIME}/activities/{w['retired']}"}}}, 422,
     "PropertyConstraintViolation", "activity"),
    ("missing user", lambda w: {"hours": "PT1H", "_links": {"workPackage": wp(w["task"]),
                                                            "user": {"href": "/api/v3/users/999999"}}}, 422,
     "PropertyConstraintViolation", "user"),
    ("_links not an object", lambda w: {"hours": "PT1H", "_links": ["x"]}, 422, "PropertyFormatError", "_links"),
    ("missing project", lambda w: {"hours": "PT1H", "_links": {"project": {"href": "/api/v3/projects/999999"}}},
     404, "NotFound", None),
]


@pytest.mark.parametrize("build, status, identifier, attribute", [case[1:] for case in BAD_BODIES],
                         ids=[case[0] for case in BAD_BODIES])
def test_a_bad_body_is_refused_in_openproject_words_with_nothing_written(v3, refusal_world, build, status,
                                                                          identifier, attribute):
    before = state()
    assert_v3_error(v3.post(TIME, build(refusal_world), format="json"), status, identifier, attribute=attribute)
    assert state() == before


def test_several_bad_properties_are_answered_together(v3, tasks):
    before = state()
    body = assert_v3_error(v3.post(TIME, {"hours": "soon", "spentOn": "tomorrow", "comment": []}, format="json"),
                           422, "MultipleErrors")
    attributes = {e["_embedded"]["details"]["attribute"] for e in body["_embedded"]["errors"]}
    assert attributes == {"hours", "spentOn", "comment", "workPackage"}
    empty = assert_v3_error(v3.post(TIME, {}, format="json"), 422, "MultipleErrors")
    assert {e["_embedded"]["details"]["attribute"] for e in empty["_embedded"]["errors"]} == {"hours",
                                                                                               "workPackage"}
    assert_v3_error(v3.post(TIME, ["not", "an", "object"], format="json"), 400, "InvalidRequestBody")
    assert state() == before


# ---------------------------------------------------------------- listing

@pytest.fixture
def logged(members, project, tasks, testing):
    """Five entries in the project: the member's three, the admin's one, one on the project as a whole."""
    member, admin = members["member"], members["admin"]
    survey, layout = tasks
    return [
        log(member, project, 90, day=dt.date(2026, 1, 7), work_item=survey, comment="survey"),
        log(member, project, 30, day=dt.date(2026, 1, 5), work_item=layout, activity=testing),
        log(admin, project, 240, day=dt.date(2026, 1, 6), work_item=survey),
        log(member, project, 60, day=dt.date(2026, 1, 9)),
        log(admin, project, 15, day=dt.date(2026, 1, 8), work_item=layout, user=members["member"]),
    ]


def test_list_sorted_by_spent_on_unless_sort_by_says_otherwise(clients, logged):
    every = clients["member"].get(TIME)
    assert every["Content-Type"] == HAL
    page = every.json()
    assert (page["_type"], page["total"], page["count"], page["offset"], page["pageSize"]) == ("Collection", 5, 5,
                                                                                               1, 20)
    assert ids(every) == [logged[i].pk for i in (1, 2, 0, 4, 3)]
    by_hours = clients["member"].get(TIME, {"sortBy": '[["hours", "desc"]]'})
    assert ids(by_hours) == [logged[i].pk for i in (2, 0, 3, 1, 4)]
    assert ids(clients["member"].get(TIME, {"sortBy": '[["id", "desc"]]'})) == sorted(
        (e.pk for e in logged), reverse=True)
    assert_v3_error(clients["member"].get(TIME, {"sortBy": '[["colour", "asc"]]'}), 400, "InvalidQuery")


def test_filters_take_string_values_as_openproject_api_client_sends_them(members, clients, project, tasks,
                                                                         logged, testing):
    survey, layout = tasks
    v3 = clients["member"]
    on = lambda name, op, *values: filters({name: {"operator": op, "values": list(values)}})  # noqa: E731
    assert ids(v3.get(TIME, on("work_package", "=", str(survey.pk)))) == [logged[2].pk, logged[0].pk]
    assert ids(v3.get(TIME, on("entity_id", "=", str(layout.pk)))) == [logged[1].pk, logged[4].pk]
    assert ids(v3.get(TIME, on("work_package", "!*"))) == [logged[3].pk]
    assert ids(v3.get(TIME, on("project", "=", str(project.pk)))) == [logged[i].pk for i in (1, 2, 0, 4, 3)]
    assert ids(v3.get(TIME, on("project_id", "=", "999999"))) == []
    assert ids(v3.get(TIME, on("user", "=", "me"))) == [logged[i].pk for i in (1, 0, 4, 3)]
    assert ids(v3.get(TIME, on("user_id", "=", str(members["admin"].pk)))) == [logged[2].pk]
    assert ids(v3.get(TIME, on("activity_id", "=", str(testing.pk)))) == [logged[1].pk]
    assert ids(v3.get(TIME, on("spent_on", "<>d", "2026-01-06", "2026-01-08"))) == [logged[i].pk for i in (2, 0, 4)]
    assert ids(v3.get(TIME, on("spent_on", "=d", "2026-01-09"))) == [logged[3].pk]
    assert ids(v3.get(TIME, on("entity_type", "=", "WorkPackage"))) == [logged[i].pk for i in (1, 2, 0, 4)]
    assert ids(v3.get(TIME, on("entity_type", "=", "Meeting"))) == []
    assert ids(v3.get(TIME, on("ongoing", "=", "t"))) == []
    assert len(ids(v3.get(TIME, on("ongoing", "=", "f")))) == 5
    today = timezone.localdate().isoformat()
    assert len(ids(v3.get(TIME, on("created_at", "<>d", today, today)))) == 5
    both = filters({"work_package": {"operator": "=", "values": [str(survey.pk)]}},
                   {"user": {"operator": "=", "values": ["me"]}})
    assert ids(v3.get(TIME, both)) == [logged[0].pk]
    for bad in (on("colour", "=", "1"), on("work_package", "=", "twelve"), on("entity_type", "=", "Wiki"),
                on("spent_on", "=d", "soon"), {"filters": "not json"}):
        assert_v3_error(v3.get(TIME, bad), 400, "InvalidQuery")


def test_pages_as_openproject_collections(clients, logged):
    v3 = clients["member"]
    second = v3.get(TIME, {"pageSize": "2", "offset": "2"}).json()
    assert (second["total"], second["count"], second["pageSize"], second["offset"]) == (5, 2, 2, 2)
    assert [e["id"] for e in second["_embedded"]["elements"]] == [logged[0].pk, logged[4].pk]
    assert second["_links"]["nextByOffset"]["href"] == f"{TIME}?offset=3&pageSize=2"
    assert second["_links"]["previousByOffset"]["href"] == f"{TIME}?offset=1&pageSize=2"
    last = v3.get(TIME, {"pageSize": "2", "offset": "3"}).json()
    assert last["count"] == 1 and "nextByOffset" not in last["_links"]
    beyond = v3.get(TIME, {"pageSize": "2", "offset": "9"}).json()
    assert (beyond["total"], beyond["count"], beyond["_embedded"]["elements"]) == (5, 0, [])
    assert_v3_error(v3.get(TIME, {"offset": "x"}), 400, "InvalidQuery")


def test_a_list_reads_in_a_fixed_number_of_queries(members, clients, project, tasks, logged):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert clients["admin"].get(TIME).status_code == 200
        return len(queries)

    count()   # the first request also records when the token was last used
    few = count()
    other = make_project(members["admin"], "Gemini")
    for n in range(6):
        log(members["admin"], other, 10 + n, work_item=task_create(actor=members["admin"], project=other,
                                                                   name=f"T{n}"))
    assert count() == few


# ---------------------------------------------------------------- reading, changing, deleting

def test_get_patch_with_lock_version_and_delete(members, clients, project, tasks, development):
    member = clients["member"]
    entry = log(members["member"], project, 60, work_item=tasks[0], comment="first")
    got = member.get(f"{TIME}/{entry.pk}")
    assert got.status_code == 200 and got["Content-Type"] == HAL
    body = got.json()
    assert (body["id"], body["hours"], body["lockVersion"]) == (entry.pk, "PT1H", entry.lock_version)
    changed = member.patch(f"{TIME}/{entry.pk}", {
        "lockVersion": body["lockVersion"], "hours": "PT2H15M", "spentOn": "2026-01-08",
        "comment": {"raw": "second"}, "_links": {"workPackage": wp(tasks[1].pk)}}, format="json")
    assert changed.status_code == 200, changed.content
    after = changed.json()
    assert (after["hours"], after["spentOn"], after["comment"]["raw"], after["lockVersion"]) == (
        "PT2H15M", "2026-01-08", "second", body["lockVersion"] + 1)
    assert after["_links"]["entity"]["href"] == f"/api/v3/work_packages/{tasks[1].pk}"
    row = TimeEntry.objects.get(pk=entry.pk)
    assert (row.minutes, row.spent_on, row.comment, row.work_item_id) == (135, dt.date(2026, 1, 8), "second",
                                                                          tasks[1].pk)
    # Without lockVersion the change is made too; a null workPackage moves the time to the project itself.
    loose = member.patch(f"{TIME}/{entry.pk}", {"_links": {"workPackage": {"href": None}}}, format="json")
    assert loose.status_code == 200 and loose.json()["_links"]["entity"] == {"href": None}
    # The whole entry sent back changes nothing.
    whole = member.get(f"{TIME}/{entry.pk}").json()
    version = TimeEntry.objects.get(pk=entry.pk).lock_version
    again = member.patch(f"{TIME}/{entry.pk}", whole, format="json")
    assert again.status_code == 200 and TimeEntry.objects.get(pk=entry.pk).lock_version == version
    deleted = member.delete(f"{TIME}/{entry.pk}", content_type="application/json")
    assert deleted.status_code == 204 and deleted.content == b""
    assert TimeEntry.all_objects.get(pk=entry.pk).deleted_at is not None
    assert_v3_error(member.get(f"{TIME}/{entry.pk}"), 404, "NotFound")
    assert_v3_error(member.delete(f"{TIME}/{entry.pk}", content_type="application/json"), 404, "NotFound")


def test_patch_refusals_write_nothing(members, clients, project, tasks, refusal_world):
    member = clients["member"]
    entry = log(members["member"], project, 60, work_item=tasks[0])
    url = f"{TIME}/{entry.pk}"
    elsewhere, hidden = make_project(members["owner"], "Vostok"), make_project(members["owner"], "Voskhod")
    membership_add(actor=members["owner"], project=elsewhere, user=members["member"], role=Role.MEMBER)
    cases = [
        ({"lockVersion": entry.lock_version + 5, "hours": "PT3H"}, 409, "UpdateConflict", None),
        ({"lockVersion": "one", "hours": "PT3H"}, 422, "PropertyFormatError", "lockVersion"),
        ({"hours": None}, 422, "PropertyConstraintViolation", "hours"),
        ({"hours": "PT25H"}, 422, "PropertyConstraintViolation", "hours"),
        ({"spentOn": "07/01/2026"}, 422, "PropertyFormatError", "spentOn"),
        ({"_links": {"activity": {"href": None}}}, 422, "PropertyConstraintViolation", "activity"),
        ({"_links": {"user": {"href": None}}}, 422, "PropertyConstraintViolation", "user"),
        ({"_links": {"activity": {"href": f"{TIME}/activities/{refusal_world['retired']}"}}}, 422,
         "PropertyConstraintViolation", "activity"),
        ({"_links": {"workPackage": wp(refusal_world["foreign"])}}, 422, "PropertyConstraintViolation",
         "workPackage"),
        ({"_links": {"project": {"href": f"/api/v3/projects/{elsewhere.pk}"}}}, 422, "PropertyIsReadOnly",
         "project"),
        ({"_links": {"project": {"href": f"/api/v3/projects/{hidden.pk}"}}}, 404, "NotFound", None),
        ({"hours": "x", "spentOn": "y"}, 422, "MultipleErrors", None),
    ]
    for body, status, identifier, attribute in cases:
        before = state()
        assert_v3_error(member.patch(url, body, format="json"), status, identifier, attribute=attribute)
        assert state() == before, body


# ---------------------------------------------------------------- attacks

def test_a_non_member_learns_nothing_and_changes_nothing(owner, project, tasks, outsider):
    entry = log(owner, project, 60, work_item=tasks[0])
    stranger = v3_client(outsider)
    before = state()
    url = f"{TIME}/{entry.pk}"
    missing = f"{TIME}/999999"
    for path in (url, missing):
        assert_v3_error(stranger.get(path), 404, "NotFound")
        assert_v3_error(stranger.patch(path, {"hours": "PT9H"}, format="json"), 404, "NotFound")
        assert_v3_error(stranger.delete(path, content_type="application/json"), 404, "NotFound")
        assert_v3_error(stranger.post(f"{path}/form", {"hours": "PT9H"}, format="json"), 404, "NotFound")
    # The project's entries: none listed, exactly as for a project that does not exist.
    listed = stranger.get(TIME, filters({"project": {"operator": "=", "values": [str(project.pk)]}})).json()
    assert (listed["total"], listed["_embedded"]["elements"]) == (0, [])
    assert stranger.get(TIME).json()["total"] == 0
    # Logging into it: the project link is 404 and the work package link 422, each exactly as for a missing one.
    into_project = stranger.post(TIME, {"hours": "PT1H", "_links": {
        "project": {"href": f"/api/v3/projects/{project.pk}"}}}, format="json")
    into_nothing = stranger.post(TIME, {"hours": "PT1H", "_links": {
        "project": {"href": "/api/v3/projects/999999"}}}, format="json")
    assert_v3_error(into_project, 404, "NotFound")
    assert into_project.json() == into_nothing.json()
    on_package = stranger.post(TIME, {"hours": "PT1H", "_links": {"workPackage": wp(tasks[0].pk)}}, format="json")
    on_nothing = stranger.post(TIME, {"hours": "PT1H", "_links": {"workPackage": wp(999_999)}}, format="json")
    assert_v3_error(on_package, 422, "PropertyConstraintViolation", attribute="workPackage")
    assert on_package.json() == on_nothing.json()
    # A bad body besides does not turn the project's 404 into an answer that tells it exists.
    assert_v3_error(stranger.post(TIME, {"hours": "bad", "_links": {
        "project": {"href": f"/api/v3/projects/{project.pk}"}}}, format="json"), 404, "NotFound")
    assert_v3_error(stranger.post(f"{TIME}/form", {"hours": "PT1H", "_links": {
        "project": {"href": f"/api/v3/projects/{project.pk}"}}}, format="json"), 404, "NotFound")
    assert state() == before


def test_a_viewer_cannot_log_and_sees_only_their_own_time(members, clients, project, tasks):
    viewer = clients["viewer"]
    before = state()
    assert_v3_error(viewer.post(TIME, {"hours": "PT1H", "_links": {"workPackage": wp(tasks[0].pk)}},
                                format="json"), 403, "MissingPermission")
    assert_v3_error(viewer.post(f"{TIME}/form", {"hours": "PT1H", "_links": {"workPackage": wp(tasks[0].pk)}},
                                format="json"), 403, "MissingPermission")
    assert state() == before
    others = log(members["member"], project, 60, work_item=tasks[0])
    own = log(members["admin"], project, 30, work_item=tasks[0], user=members["viewer"])
    assert ids(viewer.get(TIME)) == [own.pk]
    assert_v3_error(viewer.get(f"{TIME}/{others.pk}"), 404, "NotFound")
    shown = viewer.get(f"{TIME}/{own.pk}").json()
    assert not {"update", "updateImmediately", "delete"} & set(shown["_links"])
    before = state()
    assert_v3_error(viewer.patch(f"{TIME}/{others.pk}", {"hours": "PT9H"}, format="json"), 404, "NotFound")
    assert_v3_error(viewer.patch(f"{TIME}/{own.pk}", {"hours": "PT9H"}, format="json"), 403, "MissingPermission")
    assert_v3_error(viewer.delete(f"{TIME}/{own.pk}", content_type="application/json"), 403, "MissingPermission")
    assert state() == before


def test_a_member_changes_only_their_own_time(members, clients, project, tasks):
    member = clients["member"]
    theirs = log(members["admin"], project, 60, work_item=tasks[0])
    before = state()
    assert_v3_error(member.patch(f"{TIME}/{theirs.pk}", {"hours": "PT9H"}, format="json"), 403,
                    "MissingPermission")
    assert_v3_error(member.patch(f"{TIME}/{theirs.pk}", {"lockVersion": theirs.lock_version}, format="json"), 403,
                    "MissingPermission")
    assert_v3_error(member.post(f"{TIME}/{theirs.pk}/form", {"hours": "PT9H"}, format="json"), 403,
                    "MissingPermission")
    assert_v3_error(member.delete(f"{TIME}/{theirs.pk}", content_type="application/json"), 403,
                    "MissingPermission")
    # Nor logs time for someone else, nor hands their own entry to someone else.
    assert_v3_error(member.post(TIME, {"hours": "PT1H", "_links": {
        "workPackage": wp(tasks[0].pk), "user": {"href": f"/api/v3/users/{members['admin'].pk}"}}}, format="json"),
        403, "MissingPermission")
    assert state() == before
    own = log(members["member"], project, 60, work_item=tasks[0])
    before = state()
    assert_v3_error(member.patch(f"{TIME}/{own.pk}", {"_links": {
        "user": {"href": f"/api/v3/users/{members['admin'].pk}"}}}, format="json"), 403, "MissingPermission")
    assert state() == before


def test_an_admin_logs_for_members_only_and_changes_anyones_time(members, clients, project, tasks, outsider):
    admin = clients["admin"]
    for_member = admin.post(TIME, {"hours": "PT2H", "_links": {
        "workPackage": wp(tasks[0].pk), "user": {"href": f"/api/v3/users/{members['member'].pk}"}}}, format="json")
    assert for_member.status_code == 201, for_member.content
    assert for_member.json()["_links"]["user"]["href"] == f"/api/v3/users/{members['member'].pk}"
    before = state()
    assert_v3_error(admin.post(TIME, {"hours": "PT2H", "_links": {
        "workPackage": wp(tasks[0].pk), "user": {"href": f"/api/v3/users/{outsider.pk}"}}}, format="json"),
        422, "PropertyConstraintViolation", attribute="user")
    assert state() == before
    theirs = log(members["member"], project, 60, work_item=tasks[0])
    changed = admin.patch(f"{TIME}/{theirs.pk}", {"hours": "PT4H"}, format="json")
    assert changed.status_code == 200 and TimeEntry.objects.get(pk=theirs.pk).minutes == 240
    assert admin.delete(f"{TIME}/{theirs.pk}", content_type="application/json").status_code == 204


def test_action_links_follow_the_domains_rule(members, clients, project, tasks):
    own = log(members["member"], project, 60, work_item=tasks[0])
    others = log(members["admin"], project, 60, work_item=tasks[0])
    actions = {"update", "updateImmediately", "delete"}

    def shown(who, entry) -> set:
        return actions & set(clients[who].get(f"{TIME}/{entry.pk}").json()["_links"])

    assert shown("member", own) == actions
    assert shown("member", others) == set()
    assert shown("scheduler", others) == set()
    assert shown("admin", own) == actions and shown("owner", others) == actions
    links = clients["member"].get(f"{TIME}/{own.pk}").json()["_links"]
    assert links["updateImmediately"] == {"href": f"{TIME}/{own.pk}", "method": "patch", "title": "Update time entry"}
    assert links["update"]["href"] == f"{TIME}/{own.pk}/form"
    assert links["delete"]["method"] == "delete"
    # The list offers logging only to those who may log somewhere.
    assert {"createTimeEntry", "createTimeEntryImmediately"} <= set(clients["member"].get(TIME).json()["_links"])
    assert "createTimeEntryImmediately" not in clients["viewer"].get(TIME).json()["_links"]


def test_available_projects_are_those_one_may_log_in(members, clients, project):
    make_project(members["admin"], "Gemini")
    assert ids(clients["member"].get(f"{TIME}/available_projects")) == [project.pk]
    assert ids(clients["admin"].get(f"{TIME}/available_projects")) == sorted(
        p.pk for p in [project, *type(project).objects.filter(name="Gemini")])
    assert ids(clients["viewer"].get(f"{TIME}/available_projects")) == []


# ---------------------------------------------------------------- activities, schema, forms

def test_the_activity_resource_in_both_spellings(owner, members, clients, project, development):
    other = make_project(owner, "Gemini")
    for spelling in ("activities", "activity"):
        answer = clients["member"].get(f"{TIME}/{spelling}/{development.pk}")
        assert answer.status_code == 200 and answer["Content-Type"] == HAL
        body = answer.json()
        assert (body["_type"], body["id"], body["name"], body["position"], body["default"]) == (
            "TimeEntriesActivity", development.pk, "Development", development.position, True)
        assert body["_links"]["self"] == {"href": f"{TIME}/activities/{development.pk}", "title": "Development"}
        # In use in every project the caller sees: the member sees one of the two.
        assert body["_links"]["projects"] == [{"href": f"/api/v3/projects/{project.pk}", "title": project.name}]
        assert [p["id"] for p in body["_embedded"]["projects"]] == [project.pk]
        assert body["_embedded"]["projects"][0]["_type"] == "Project"
    assert len(clients["owner"].get(f"{TIME}/activities/{development.pk}").json()["_links"]["projects"]) == 2
    assert other.pk in [p["id"] for p in clients["owner"].get(
        f"{TIME}/activities/{development.pk}").json()["_embedded"]["projects"]]
    retired = activity_create(actor=owner, name="Retired")
    activity_update(actor=owner, activity=retired, is_active=False)
    body = clients["member"].get(f"{TIME}/activities/{retired.pk}").json()
    assert (body["default"], body["_links"]["projects"], body["_embedded"]["projects"]) == (False, [], [])
    for path in (f"{TIME}/activities/999999", f"{TIME}/activity/0"):
        assert_v3_error(clients["member"].get(path), 404, "NotFound")


def test_schema_lists_properties_and_the_activities_in_use(owner, v3):
    retired = activity_create(actor=owner, name="Retired")
    activity_update(actor=owner, activity=retired, is_active=False)
    answer = v3.get(f"{TIME}/schema")
    assert answer.status_code == 200 and answer["Content-Type"] == HAL
    schema = answer.json()
    assert schema["_type"] == "Schema"
    assert (schema["hours"]["type"], schema["hours"]["writable"], schema["hours"]["required"]) == (
        "Duration", True, True)
    assert (schema["spentOn"]["type"], schema["spentOn"]["hasDefault"]) == ("Date", True)
    assert schema["comment"]["type"] == "Formattable"
    assert not schema["id"]["writable"] and not schema["createdAt"]["writable"]
    assert schema["ongoing"]["writable"] is False
    allowed = schema["activity"]["_links"]["allowedValues"]
    assert [a["title"] for a in allowed] == [a.name for a in Activity.objects.filter(is_active=True)]
    assert "Retired" not in [a["title"] for a in allowed]
    assert schema["project"]["_links"]["allowedValues"]["href"] == f"{TIME}/available_projects"
    assert schema["_links"]["self"]["href"] == f"{TIME}/schema"


def test_a_projects_form_offers_only_the_activities_chosen_for_it(owner, members, clients, project, testing):
    specific_activity_attach(actor=owner, owner=project, activity=testing)
    form = clients["member"].post(f"{TIME}/form", {"hours": "PT1H", "_links": {"project": {
        "href": f"/api/v3/projects/{project.pk}"}}}, format="json").json()
    allowed = form["_embedded"]["schema"]["activity"]["_links"]["allowedValues"]
    assert [a["title"] for a in allowed] == ["Testing"]
    refused = clients["member"].post(TIME, {"hours": "PT1H", "_links": {
        "project": {"href": f"/api/v3/projects/{project.pk}"},
        "activity": activity_link(Activity.objects.get(name="Development"))}}, format="json")
    assert_v3_error(refused, 422, "PropertyConstraintViolation", attribute="activity")


def test_forms_check_a_write_and_keep_nothing(members, clients, project, tasks):
    member = clients["member"]
    before = state()
    good = member.post(f"{TIME}/form", {"hours": "PT1H30M", "spentOn": "2026-01-07",
                                        "_links": {"workPackage": wp(tasks[0].pk)}}, format="json")
    assert good.status_code == 200 and good["Content-Type"] == HAL
    form = good.json()
    assert form["_type"] == "Form"
    assert form["_embedded"]["validationErrors"] == {}
    payload = form["_embedded"]["payload"]
    assert (payload["hours"], payload["spentOn"]) == ("PT1H30M", "2026-01-07")
    assert payload["_links"]["workPackage"]["href"] == f"/api/v3/work_packages/{tasks[0].pk}"
    assert form["_links"]["commit"] == {"href": TIME, "method": "post", "title": "Log time"}
    assert form["_embedded"]["schema"]["user"]["_links"]["allowedValues"]["href"] == (
        f"/api/v3/projects/{project.pk}/available_assignees")
    bad = member.post(f"{TIME}/form", {"hours": "PT30H", "spentOn": "never",
                                       "_links": {"workPackage": wp(tasks[0].pk)}}, format="json").json()
    assert set(bad["_embedded"]["validationErrors"]) == {"hours", "spentOn"}
    assert bad["_embedded"]["validationErrors"]["hours"]["errorIdentifier"] == URN + "PropertyConstraintViolation"
    assert "commit" not in bad["_links"]
    assert state() == before
    entry = log(members["member"], project, 60, work_item=tasks[0])
    before = state()
    update = member.post(f"{TIME}/{entry.pk}/form", {"hours": "PT2H"}, format="json").json()
    assert update["_embedded"]["payload"]["hours"] == "PT2H"
    assert update["_links"]["commit"]["href"] == f"{TIME}/{entry.pk}"
    stale = member.post(f"{TIME}/{entry.pk}/form", {"hours": "PT2H", "lockVersion": entry.lock_version + 3},
                        format="json")
    assert_v3_error(stale, 409, "UpdateConflict")
    assert state() == before


def test_root_links_the_time_entries(v3):
    assert v3.get("/api/v3").json()["_links"]["time_entries"] == {"href": TIME}


# ---------------------------------------------------------------- conformance to /api/v3/spec.json

def test_time_entry_answers_conform_to_the_document(spec_document, members, clients, project, tasks, development,
                                                    outsider):
    member = clients["member"]
    created = member.post(TIME, {"hours": "PT1H30M", "_links": {"workPackage": wp(tasks[0].pk)}}, format="json")
    entry = conforms(spec_document, created, "POST", TIME)
    on_project = member.post(TIME, {"hours": "PT1H", "_links": {"project": {"href": f"/api/v3/projects/{project.pk}"}}},
                             format="json")
    conforms(spec_document, on_project, "POST", TIME)
    one = f"{TIME}/{entry['id']}"
    cases = [
        (member, "GET", TIME, TIME, None),
        (member, "GET", f"{TIME}?pageSize=1&offset=2", TIME, None),
        (member, "GET", one, f"{TIME}/{{id}}", None),
        (member, "PATCH", one, f"{TIME}/{{id}}", {"hours": "PT2H", "lockVersion": entry["lockVersion"]}),
        (member, "PATCH", one, f"{TIME}/{{id}}", {"hours": "PT2H", "lockVersion": 0}),
        (member, "PATCH", one, f"{TIME}/{{id}}", {"hours": "soon"}),
        (member, "POST", f"{TIME}/form", f"{TIME}/form", {"hours": "PT1H", "_links": {"workPackage": wp(tasks[0].pk)}}),
        (member, "POST", f"{TIME}/form", f"{TIME}/form", {}),
        (member, "POST", f"{one}/form", f"{TIME}/{{id}}/form", {"hours": "PT3H"}),
        (member, "GET", f"{TIME}/schema", f"{TIME}/schema", None),
        (member, "GET", f"{TIME}/available_projects", f"{TIME}/available_projects", None),
        (member, "GET", f"{TIME}/activities/{development.pk}", f"{TIME}/activities/{{id}}", None),
        (member, "GET", f"{TIME}/activity/{development.pk}", f"{TIME}/activity/{{id}}", None),
        (member, "GET", f"{TIME}/activity/999999", f"{TIME}/activity/{{id}}", None),
        (member, "POST", TIME, TIME, {}),
        (member, "GET", f"{TIME}?filters=nonsense", TIME, None),
        (clients["viewer"], "POST", TIME, TIME, {"hours": "PT1H", "_links": {"workPackage": wp(tasks[0].pk)}}),
        (clients["admin"], "DELETE", one, f"{TIME}/{{id}}", None),
        (v3_client(outsider), "GET", one, f"{TIME}/{{id}}", None),
    ]
    for client, method, url, template, body in cases:
        if body is not None:
            answer = getattr(client, method.lower())(url, body, format="json")
        elif method == "DELETE":
            answer = client.delete(url, content_type="application/json")
        else:
            answer = client.get(url)
        conforms(spec_document, answer, method, template)


def test_membership_gives_rights_at_once(owner, project, tasks):
    """A person added as a Member logs straight away; before, the project was not there for them."""
    newcomer = make_user("newcomer")
    client = v3_client(newcomer)
    body = {"hours": "PT1H", "_links": {"project": {"href": f"/api/v3/projects/{project.pk}"}}}
    assert_v3_error(client.post(TIME, body, format="json"), 404, "NotFound")
    membership_add(actor=owner, project=project, user=newcomer, role=Role.MEMBER)
    assert client.post(TIME, body, format="json").status_code == 201
