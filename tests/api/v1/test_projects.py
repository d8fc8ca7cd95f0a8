"""Contract of ``/api/v1/projects/``: the creator becomes Owner, identifiers are derived and unique, lists are
scoped to memberships, subprojects need Admin in the parent, deletion is soft and blocked by live subprojects."""

from __future__ import annotations

import re

import pytest

from keelplan.calendars.services import calendar_create
from keelplan.planning.services import task_create
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.portfolio.services import membership_add, project_delete

from conftest import client_for, make_project, make_user

from .contract import (
    EndpointContract, assert_error, assert_nothing_written, db_state, json_body, result_ids,
)

URL = "/api/v1/projects/"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")


@pytest.fixture
def owner(db):
    """The project's Owner as an ordinary user: a workspace administrator sees every project, which would blur
    what these tests show about who sees what."""
    return make_user("owner", full_name="Olive Owner")


class TestProjectContract(EndpointContract):
    model = Project
    list_path = URL
    change_entity = "project"
    detail_fields = ("id", "uid", "name", "identifier", "description", "parent", "start_date", "status_date",
                     "calendar", "default_member_role", "default_member_role_label", "is_public", "is_active",
                     "finish_date", "scheduled_at", "my_role", "my_role_label", "lock_version", "created_at",
                     "updated_at")

    def make(self, ctx):
        return make_project(ctx.owner, name="Borealis")

    def create_payloads(self, ctx):
        return [
            {"name": "Cassini Probe", "start_date": "2026-03-02"},
            {"name": "Huygens", "start_date": "2026-03-02", "identifier": "huygens-lander", "description": "Descent",
             "status_date": "2026-04-01", "default_member_role": 200, "is_public": True, "is_active": False},
        ]

    def put_payload(self, ctx, obj):
        return {"name": "Borealis II", "start_date": "2026-02-02", "identifier": "borealis-ii", "description": "",
                "default_member_role": 1}

    def patch_payloads(self, ctx, obj):
        return [{"name": "Borealis III"}, {"description": "Northern lights", "status_date": "2026-03-01"},
                {"is_public": True}]

    def bad_create_payloads(self, ctx):
        start = "2026-01-05"
        other = make_project(make_user(), name="Someone else's")
        return [
            ({"start_date": start}, "name"),
            ({"name": "", "start_date": start}, "name"),
            ({"name": "x" * 256, "start_date": start}, "name"),
            ({"name": {"en": "X"}, "start_date": start}, "name"),
            ({"name": "Zeta"}, "start_date"),
            ({"name": "Zeta", "start_date": None}, "start_date"),
            ({"name": "Zeta", "start_date": "2026-13-01"}, "start_date"),
            ({"name": "Zeta", "start_date": 20260105}, "start_date"),
            ({"name": "Zeta", "start_date": ["2026-01-05"]}, "start_date"),
            ({"name": "Zeta", "start_date": start, "status_date": "soon"}, "status_date"),
            ({"name": "Zeta", "start_date": start, "identifier": "Bad Id!"}, "identifier"),
            ({"name": "Zeta", "start_date": start, "identifier": "9lives"}, "identifier"),
            ({"name": "Zeta", "start_date": start, "identifier": "x" * 101}, "identifier"),
            ({"name": "Zeta", "start_date": start, "default_member_role": 400}, "default_member_role"),
            ({"name": "Zeta", "start_date": start, "default_member_role": 7}, "default_member_role"),
            ({"name": "Zeta", "start_date": start, "default_member_role": "Admin"}, "default_member_role"),
            ({"name": "Zeta", "start_date": start, "calendar": 99999999}, "calendar"),
            ({"name": "Zeta", "start_date": start, "calendar": "abc"}, "calendar"),
            ({"name": "Zeta", "start_date": start, "calendar": 99999999999999999999}, "calendar"),
            ({"name": "Zeta", "start_date": start, "calendar": {"id": 1}}, "calendar"),
            ({"name": "Zeta", "start_date": start, "calendar": [1]}, "calendar"),
            ({"name": "Zeta", "start_date": start, "calendar": True}, "calendar"),
            ({"name": "Zeta", "start_date": start, "parent": 99999999}, "parent"),
            ({"name": "Zeta", "start_date": start, "parent": -5}, "parent"),
            ({"name": "Zeta", "start_date": start, "parent": other.pk}, "parent"),
            ({"name": "Zeta", "start_date": start, "is_public": "perhaps"}, "is_public"),
        ]

    def bad_update_payloads(self, ctx, obj):
        return [
            ({"name": ""}, "name"),
            ({"name": None}, "name"),
            ({"start_date": None}, "start_date"),
            ({"start_date": 5}, "start_date"),
            ({"identifier": "UPPER"}, "identifier"),
            ({"identifier": ""}, "identifier"),
            ({"default_member_role": 400}, "default_member_role"),
            ({"parent": obj.pk}, "parent"),
            ({"parent": "self"}, "parent"),
            ({"calendar": 99999999}, "calendar"),
            ({"status_date": "yesterday"}, "status_date"),
        ]


def test_creator_becomes_owner(owner, api):
    body = json_body(api.post(URL, {"name": "Voyager", "start_date": "2026-01-05"}, format="json"))
    assert (body["my_role"], body["my_role_label"]) == (400, "Owner")
    assert Membership.objects.get(project_id=body["id"], user=owner).role == Role.OWNER
    members = json_body(api.get(f"{URL}{body['id']}/members/"))["results"]
    assert [(m["user"], m["role"], m["role_label"]) for m in members] == [(owner.pk, 400, "Owner")]


def test_my_role_is_the_readers_own_role(project, members):
    client_body = json_body(client_for(members["viewer"]).get(f"{URL}{project.pk}/"))
    assert (client_body["my_role"], client_body["my_role_label"]) == (1, "Viewer")


def test_identifier_is_derived_from_the_name_and_unique(owner, api):
    def create(name):
        response = api.post(URL, {"name": name, "start_date": "2026-01-05"}, format="json")
        assert response.status_code == 201, response.content
        return response.json()["identifier"]

    first, second = create("Cassini Probe"), create("Cassini Probe")
    assert first == "cassini-probe"
    assert second != first and second.startswith("cassini-probe")
    for name in ("2049 Plan", "Über Größe", "☃☃☃", "-- x --", "A" * 250):
        identifier = create(name)
        assert IDENTIFIER.match(identifier), (name, identifier)
    identifiers = list(Project.all_objects.values_list("identifier", flat=True))
    assert len(identifiers) == len(set(identifiers))


def test_derived_identifier_skips_identifiers_of_deleted_projects(owner, api):
    gone = make_project(owner, name="Phoenix")
    project_delete(actor=owner, project=gone)
    body = json_body(api.post(URL, {"name": "Phoenix", "start_date": "2026-01-05"}, format="json"))
    assert body["identifier"] != gone.identifier


def test_duplicate_identifier_is_409(owner, project, api):
    before = db_state()
    body = assert_error(api.post(URL, {"name": "Copy", "start_date": "2026-01-05", "identifier": project.identifier},
                                 format="json"), 409, field="identifier", code="duplicate_identifier")
    assert project.identifier in body["detail"]
    assert_nothing_written(before, "duplicate identifier on create")
    other = make_project(owner, name="Other")
    before = db_state()
    assert_error(api.patch(f"{URL}{other.pk}/", {"identifier": project.identifier}, format="json"), 409,
                 field="identifier", code="duplicate_identifier")
    assert_nothing_written(before, "duplicate identifier on update")


def test_list_is_scoped_to_memberships(owner, project, members, outsider):
    mine = make_project(outsider, name="Outsider's own")
    client = client_for
    assert result_ids(client(outsider), URL) == [mine.pk]
    assert project.pk in result_ids(client(members["viewer"]), URL)
    assert mine.pk not in result_ids(client(owner), URL)
    membership_add(actor=outsider, project=mine, user=owner, role=Role.VIEWER)
    assert mine.pk in result_ids(client(owner), URL)
    body = json_body(client(owner).get(URL, {"page_size": 500}))
    assert body["count"] == 2
    assert {row["id"]: row["my_role"] for row in body["results"]} == {project.pk: 400, mine.pk: 1}


def test_subproject_needs_admin_in_the_parent(project, members, outsider):
    client = client_for
    payload = {"name": "Lander", "start_date": "2026-02-02", "parent": project.pk}
    before = db_state()
    for role in ("viewer", "member", "scheduler"):
        assert_error(client(members[role]).post(URL, payload, format="json"), 403)
    # For someone outside the parent it does not exist: 400 naming the field, not 403.
    assert_error(client(outsider).post(URL, payload, format="json"), 400, field="parent")
    assert_nothing_written(before, "subproject refused")
    response = client(members["admin"]).post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["parent"] == project.pk
    assert response.json()["my_role"] == 400


def test_project_cannot_be_moved_under_its_own_subproject(owner, project, api):
    child = make_project(owner, name="Child", parent=project)
    before = db_state()
    assert_error(api.patch(f"{URL}{project.pk}/", {"parent": child.pk}, format="json"), 400, field="parent")
    assert_nothing_written(before, "parent loop")


def test_delete_is_soft_and_hides_the_projects_rows(owner, project, api):
    task = task_create(actor=owner, project=project, name="Survey")
    assert api.delete(f"{URL}{project.pk}/").status_code == 204
    assert Project.all_objects.get(pk=project.pk).deleted_at is not None
    assert_error(api.get(f"{URL}{project.pk}/"), 404)
    assert_error(api.get(f"/api/v1/tasks/{task.pk}/"), 404)
    assert_error(api.get(f"{URL}{project.pk}/members/"), 404)
    assert task.pk not in result_ids(api, "/api/v1/tasks/")


def test_project_with_live_subprojects_cannot_be_deleted(owner, project, api):
    child = make_project(owner, name="Child", parent=project)
    before = db_state()
    assert_error(api.delete(f"{URL}{project.pk}/"), 409, code="has_subprojects")
    assert_nothing_written(before, "delete with live subprojects")
    assert api.delete(f"{URL}{child.pk}/").status_code == 204
    assert api.delete(f"{URL}{project.pk}/").status_code == 204


def test_computed_fields_are_read_only(owner, api):
    body = json_body(api.post(URL, {"name": "Read only", "start_date": "2026-01-05", "finish_date": "2030-01-01",
                                    "scheduled_at": "2030-01-01T00:00:00Z", "my_role": 1, "id": 5},
                              format="json"))
    assert body["finish_date"] != "2030-01-01"
    assert body["scheduled_at"] is None or not body["scheduled_at"].startswith("2030")
    assert body["my_role"] == 400 and body["id"] != 5


def test_project_calendar_is_written_and_read_by_id(owner, project, api):
    calendar = calendar_create(actor=make_user("keeper", workspace_admin=True), name="Mission")
    body = json_body(api.patch(f"{URL}{project.pk}/", {"calendar": calendar.pk}, format="json"))
    assert body["calendar"] == calendar.pk
    body = json_body(api.patch(f"{URL}{project.pk}/", {"calendar": None}, format="json"))
    assert body["calendar"] is None


def test_default_member_role_has_a_label(owner, api):
    body = json_body(api.post(URL, {"name": "Labels", "start_date": "2026-01-05", "default_member_role": 300},
                              format="json"))
    assert (body["default_member_role"], body["default_member_role_label"]) == (300, "Admin")
