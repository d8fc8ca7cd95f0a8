"""Ids are ASCII digits or JSON integers, everywhere a client sends one: ``parse_id`` itself, then each path that
reads ids with it (bulk rows, pushed rows, list filters, sync pull parameters, project lookups), each attacked
with the full-width spelling of an id that exists ("５５" is 55 to ``int()``), which must be a 400 naming the
field and write nothing, never a match."""

from __future__ import annotations

import uuid

import pytest

from keelplan.calendars.services import calendar_create
from keelplan.core.errors import InvalidInput, NotFound
from keelplan.core.validation import MAX_ID, parse_id
from keelplan.planning.services import task_update
from keelplan.portfolio.selectors import project_get
from keelplan.resources.services import assignment_create, resource_create
from keelplan.sync.models import SyncBatch

from .contract import assert_error, db_state, json_body

pytestmark = pytest.mark.django_db
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def wide(number: int) -> str:
    """``number`` in full-width digits: ``int()`` reads "５５" as 55."""
    return str(number).translate(FULL_WIDTH)


def new_uid() -> str:
    return str(uuid.uuid4())


def state() -> dict:
    return {**db_state(), "SyncBatch": SyncBatch.objects.count()}


@pytest.fixture
def site(linked_pair_and_loner):
    return linked_pair_and_loner


# ---------------------------------------------------------------- parse_id itself

@pytest.mark.parametrize(("value", "expected"), [
    (5, 5), ("5", 5), ("05", 5), (MAX_ID, MAX_ID), (str(MAX_ID), MAX_ID), ("1", 1),
])
def test_parse_id_takes_json_integers_and_ascii_digits(value, expected):
    assert parse_id(value, field="parent") == expected


@pytest.mark.parametrize(("value", "message"), [
    ("５５", "Incorrect type. Expected an integer id, received str."),
    ("+5", "Incorrect type. Expected an integer id, received str."),
    (" 5", "Incorrect type. Expected an integer id, received str."),
    ("5 ", "Incorrect type. Expected an integer id, received str."),
    ("5\n", "Incorrect type. Expected an integer id, received str."),
    ("5.0", "Incorrect type. Expected an integer id, received str."),
    ("1_000", "Incorrect type. Expected an integer id, received str."),
    ("-5", "Incorrect type. Expected an integer id, received str."),
    ("٥", "Incorrect type. Expected an integer id, received str."),
    ("", "Incorrect type. Expected an integer id, received str."),
    (True, "Incorrect type. Expected an integer id, received bool."),
    (False, "Incorrect type. Expected an integer id, received bool."),
    (5.0, "Incorrect type. Expected an integer id, received float."),
    (None, "Incorrect type. Expected an integer id, received NoneType."),
    ([5], "Incorrect type. Expected an integer id, received list."),
    (0, "No such object: 0."),
    ("0", "No such object: 0."),
    (-3, "No such object: -3."),
    (MAX_ID + 1, f"No such object: {MAX_ID + 1}."),
    ("9" * 40, f"No such object: {'9' * 40}."),
])
def test_parse_id_refuses_every_other_spelling_naming_the_field(value, message):
    with pytest.raises(InvalidInput) as caught:
        parse_id(value, field="tasks[2].parent")
    assert caught.value.field_errors() == {"tasks[2].parent": [message]}
    assert caught.value.code == ("invalid_type" if message.startswith("Incorrect type") else "invalid")


# ---------------------------------------------------------------- the bulk endpoint

def test_bulk_rows_refuse_full_width_ids_in_every_id_they_take(api, owner, project, site):
    a, b, c = site["a"].pk, site["b"].pk, site["c"].pk
    calendar = calendar_create(actor=owner, name="Site week")
    url = f"/api/v1/projects/{project.pk}/tasks/bulk/"
    attacks = [
        ({"tasks": [{"id": wide(a), "duration": 9}]}, "tasks[0].id"),
        ({"tasks": [{"id": " " + str(a), "duration": 9}]}, "tasks[0].id"),
        ({"tasks": [{"id": "+" + str(a), "duration": 9}]}, "tasks[0].id"),
        ({"tasks": [{"uid": new_uid(), "name": "X", "parent": wide(c)}]}, "tasks[0].parent"),
        ({"tasks": [{"id": b, "parent": wide(c)}]}, "tasks[0].parent"),
        ({"tasks": [{"uid": new_uid(), "name": "X", "assignee": wide(owner.pk)}]}, "tasks[0].assignee"),
        ({"tasks": [{"uid": new_uid(), "name": "X", "calendar": wide(calendar.pk)}]}, "tasks[0].calendar"),
        ({"tasks": [{"uid": new_uid(), "name": "X", "project": wide(project.pk)}]}, "tasks[0].project"),
        ({"dependencies": [{"predecessor": wide(b), "successor": c}]}, "dependencies[0].predecessor"),
        ({"dependencies": [{"predecessor": b, "successor": wide(c)}]}, "dependencies[0].successor"),
    ]
    for body, field in attacks:
        before = state()
        response = api.post(url, body, format="json")
        assert_error(response, 400, field=field, code="invalid")
        assert state() == before, body


# ---------------------------------------------------------------- offline push

def test_pushed_rows_refuse_full_width_ids(api, project, site):
    a, b, c = site["a"].pk, site["b"].pk, site["c"].pk
    url = f"/api/v1/projects/{project.pk}/sync/"
    since = json_body(api.get(url))["timestamp"]
    attacks = [
        ({"tasks": {"updated": [{"id": wide(a), "duration": 9}]}}, "tasks.updated[0].id"),
        ({"tasks": {"deleted": [wide(c)]}}, "tasks.deleted[0].id"),
        ({"tasks": {"deleted": [{"id": wide(c)}]}}, "tasks.deleted[0].id"),
        ({"tasks": {"created": [{"uid": new_uid(), "name": "X", "parent": wide(c)}]}}, "tasks.created[0].parent"),
        ({"tasks": {"updated": [{"id": b, "parent": wide(c)}]}}, "tasks.updated[0].parent"),
        ({"dependencies": {"created": [{"uid": new_uid(), "predecessor": wide(b), "successor": c}]}},
         "dependencies.created[0].predecessor"),
    ]
    for changes, field in attacks:
        before = state()
        response = api.post(url, {"client_batch_id": new_uid(), "last_pulled_at": since, "changes": changes},
                            format="json")
        assert_error(response, 400, field=field, code="invalid")
        assert state() == before, changes


# ---------------------------------------------------------------- list filters

@pytest.mark.parametrize(("path", "parameter"), [
    ("/api/v1/tasks/", "project"),
    ("/api/v1/tasks/", "parent"),
    ("/api/v1/tasks/", "assignee"),
    ("/api/v1/dependencies/", "project"),
    ("/api/v1/dependencies/", "task"),
    ("/api/v1/task-resources/", "project"),
    ("/api/v1/task-resources/", "task"),
    ("/api/v1/task-resources/", "resource"),
    ("/api/v1/resources/", "user"),
])
@pytest.mark.parametrize("spelling", ["full-width", "space", "plus", "decimal"])
def test_an_id_filter_refuses_other_spellings_of_an_id_that_matches(api, owner, project, site, path, parameter,
                                                                    spelling):
    a, b = site["a"], site["b"]
    task_update(actor=owner, task=site["c"], parent=a, assignee=owner)
    resource = resource_create(actor=owner, name="Crane", user=owner)
    assignment_create(actor=owner, work_item=b, resource=resource)
    number = {"project": project.pk, "parent": a.pk, "assignee": owner.pk, "task": b.pk, "resource": resource.pk,
              "user": owner.pk}[parameter]
    # The ASCII spelling matches something, so a looser parse would answer 200 with rows.
    response = api.get(path, {parameter: number})
    assert response.status_code == 200 and json_body(response)["results"], json_body(response)
    text = {"full-width": wide(number), "space": f" {number}", "plus": f"+{number}", "decimal": f"{number}.0"}[spelling]
    body = assert_error(api.get(path, {parameter: text}), 400, field=parameter)
    assert body[parameter] == ["Incorrect type. Expected an integer id, received str."]


# ---------------------------------------------------------------- sync pull parameters

@pytest.mark.parametrize("parameter", ["last_pulled_at", "since", "page_size"])
def test_sync_pull_numbers_are_ascii_digits(api, project, site, parameter):
    url = f"/api/v1/projects/{project.pk}/sync/"
    timestamp = json_body(api.get(url))["timestamp"]
    value = {"page_size": 10}.get(parameter, timestamp)
    assert api.get(url, {parameter: value}).status_code == 200
    field = "last_pulled_at" if parameter == "since" else parameter
    for text in (wide(value), f" {value}", f"+{value}"):
        body = assert_error(api.get(url, {parameter: text}), 400, field=field)
        assert body[field] == ["A whole number is required."]


# ---------------------------------------------------------------- project lookups

def test_project_get_reads_only_ascii_ids(owner, project):
    assert project_get(actor=owner, project_id=str(project.pk)) == project
    assert project_get(actor=owner, project_id=project.pk) == project
    for value in (wide(project.pk), f" {project.pk}", f"+{project.pk}", "9" * 25, 0):
        with pytest.raises(NotFound):
            project_get(actor=owner, project_id=value)


def test_project_get_still_finds_projects_by_identifier(owner):
    from conftest import make_project

    named = make_project(owner, name="Named", identifier="harbour-l3")
    assert project_get(actor=owner, project_id="harbour-l3") == named

