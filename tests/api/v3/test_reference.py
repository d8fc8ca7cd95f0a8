"""Reference data in the OpenProject v3 dialect: statuses, types, priorities and roles; versions (read, paged,
filtered, written through the services, refused as OpenProject refuses); categories; the working days of the
workspace calendar. Every refusal is tried as an attack and the data checked unchanged afterwards."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from keelplan.calendars.services import calendar_create, calendar_set_default
from keelplan.planning.models import Category, Priority, Status, Version, WorkItemType
from keelplan.planning.reference import (
    category_create, priority_create, project_types_set, version_create,
)
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add

from conftest import make_project, make_user

from .conftest import HAL, assert_v3_error, v3_client

pytestmark = pytest.mark.django_db

D = dt.date


def filters(*entries) -> str:
    return json.dumps(list(entries))


def version_row(pk) -> tuple:
    """What a refused write must leave as it was."""
    return tuple(Version.all_objects.filter(pk=pk).values_list(
        "name", "description", "start_date", "end_date", "status", "sharing", "lock_version", "deleted_at").get())


@pytest.fixture
def boss(db):
    """Owns ``site``, a project the workspace administrator ``owner`` did not make; not staff."""
    return make_user("boss", full_name="Bea Boss")


@pytest.fixture
def site(boss):
    return make_project(boss, name="Site", identifier="site")


@pytest.fixture
def release(owner, project):
    return version_create(actor=owner, project=project, name="1.0", description="First *cut*",
                          start_date=D(2026, 2, 2), end_date=D(2026, 3, 27))


@pytest.fixture
def roles(members):
    """v3 clients for ``members``, keyed by role name."""
    return {name: v3_client(person) for name, person in members.items()}


# ---------------------------------------------------------------- statuses, types, priorities, roles

def test_statuses_are_every_status_by_position_unpaged(v3):
    body = v3.get("/api/v3/statuses").json()
    expected = list(Status.objects.order_by("position", "id").values_list("id", flat=True))
    assert body["_type"] == "Collection" and body["total"] == body["count"] == len(expected)
    assert "pageSize" not in body and body["_links"]["self"]["href"] == "/api/v3/statuses"
    assert [e["id"] for e in body["_embedded"]["elements"]] == expected
    assert {e["_type"] for e in body["_embedded"]["elements"]} == {"Status"}


def test_a_status_shows_openprojects_properties(v3):
    done = Status.objects.get(code="COMPLETE")
    answer = v3.get(f"/api/v3/statuses/{done.pk}")
    assert answer.status_code == 200 and answer["Content-Type"] == HAL
    assert answer.json() == {
        "_type": "Status", "id": done.pk, "name": "Complete", "isClosed": True, "color": done.color,
        "isDefault": False, "isReadonly": False, "excludedFromTotals": False, "defaultDoneRatio": 0,
        "position": done.position, "_links": {"self": {"href": f"/api/v3/statuses/{done.pk}", "title": "Complete"}},
    }
    default = Status.objects.get(is_default=True)
    assert v3.get(f"/api/v3/statuses/{default.pk}").json()["isDefault"] is True


def test_types_show_milestones_dates_and_titles(v3):
    body = v3.get("/api/v3/types").json()
    assert [e["id"] for e in body["_embedded"]["elements"]] == list(
        WorkItemType.objects.order_by("position", "id").values_list("id", flat=True))
    milestone = WorkItemType.objects.get(code="milestone")
    one = v3.get(f"/api/v3/types/{milestone.pk}").json()
    assert one["_type"] == "Type" and one["isMilestone"] is True and one["isDefault"] is False
    assert one["name"] == "Milestone" and one["color"] == milestone.color and one["position"] == milestone.position
    assert one["createdAt"].endswith("Z") and one["updatedAt"].endswith("Z")
    assert one["_links"]["self"] == {"href": f"/api/v3/types/{milestone.pk}", "title": "Milestone"}


def test_a_project_lists_every_type_until_it_enables_some(owner, project, v3):
    everything = list(WorkItemType.objects.order_by("position", "id").values_list("id", flat=True))
    body = v3.get(f"/api/v3/projects/{project.pk}/types").json()
    assert [e["id"] for e in body["_embedded"]["elements"]] == everything
    assert body["_links"]["self"]["href"] == f"/api/v3/projects/{project.pk}/types"
    chosen = [WorkItemType.objects.get(code="bug"), WorkItemType.objects.get(code="task")]
    project_types_set(actor=owner, project=project, types=chosen)
    by_identifier = v3.get(f"/api/v3/projects/{project.identifier}/types").json()
    assert sorted(e["id"] for e in by_identifier["_embedded"]["elements"]) == sorted(t.pk for t in chosen)
    assert {e["_type"] for e in by_identifier["_embedded"]["elements"]} == {"Type"}


def test_priorities_show_active_and_default(owner, v3):
    retired = priority_create(actor=owner, name="Someday", is_active=False)
    body = v3.get("/api/v3/priorities").json()
    assert [e["id"] for e in body["_embedded"]["elements"]] == list(
        Priority.objects.order_by("position", "id").values_list("id", flat=True))
    one = v3.get(f"/api/v3/priorities/{retired.pk}").json()
    assert one == {"_type": "Priority", "id": retired.pk, "name": "Someday", "position": retired.position,
                   "color": retired.color, "isDefault": False, "isActive": False,
                   "_links": {"self": {"href": f"/api/v3/priorities/{retired.pk}", "title": "Someday"}}}
    default = Priority.objects.get(is_default=True)
    assert v3.get(f"/api/v3/priorities/{default.pk}").json()["isDefault"] is True


def test_roles_are_keelplans_five_with_their_values_as_ids(outsider):
    body = v3_client(outsider).get("/api/v3/roles").json()
    assert [(e["_type"], e["id"], e["name"]) for e in body["_embedded"]["elements"]] == [
        ("Role", 1, "Viewer"), ("Role", 100, "Member"), ("Role", 200, "Scheduler"), ("Role", 300, "Admin"),
        ("Role", 400, "Owner")]
    one = v3_client(outsider).get("/api/v3/roles/300").json()
    assert one == {"_type": "Role", "id": 300, "name": "Admin",
                   "_links": {"self": {"href": "/api/v3/roles/300", "title": "Admin"}}}


@pytest.mark.parametrize("path", [
    "/api/v3/statuses/999999", "/api/v3/types/999999", "/api/v3/priorities/999999", "/api/v3/roles/2",
    "/api/v3/roles/0", "/api/v3/versions/999999", "/api/v3/categories/999999", "/api/v3/statuses/0",
    "/api/v3/types/99999999999999999999999", "/api/v3/statuses/abc", "/api/v3/days/week/0", "/api/v3/days/week/8",
    "/api/v3/projects/nowhere/types", "/api/v3/projects/999999/versions", "/api/v3/projects/nowhere/categories",
    "/api/v3/versions/999999/projects",
])
def test_unknown_ids_are_404_not_found(v3, path):
    assert_v3_error(v3.get(path), 404, "NotFound")


@pytest.mark.parametrize("path", ["/api/v3/statuses", "/api/v3/types", "/api/v3/roles", "/api/v3/versions",
                                  "/api/v3/days/week", "/api/v3/days/non_working"])
def test_reference_data_needs_credentials(db, path):
    assert_v3_error(APIClient().get(path), 401, "Unauthenticated")


# ---------------------------------------------------------------- versions: reads

def test_a_version_shows_its_properties_and_links(project, release, v3):
    body = v3.get(f"/api/v3/versions/{release.pk}").json()
    assert body["_type"] == "Version" and body["id"] == release.pk and body["name"] == "1.0"
    assert body["description"]["raw"] == "First *cut*" and body["description"]["format"] == "markdown"
    assert (body["startDate"], body["endDate"]) == ("2026-02-02", "2026-03-27")
    assert (body["status"], body["sharing"], body["lockVersion"]) == ("open", "none", release.lock_version)
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")
    links = body["_links"]
    assert links["self"] == {"href": f"/api/v3/versions/{release.pk}", "title": "1.0"}
    assert links["definingProject"] == {"href": f"/api/v3/projects/{project.pk}", "title": "Apollo"}
    assert links["availableInProjects"]["href"] == f"/api/v3/versions/{release.pk}/projects"
    assert links["availableInProjects"]["title"]
    assert links["update"] == {"href": f"/api/v3/versions/{release.pk}", "method": "patch"}
    assert links["delete"] == {"href": f"/api/v3/versions/{release.pk}", "method": "delete"}


@pytest.mark.parametrize("role", ["viewer", "member", "scheduler"])
def test_action_links_are_only_for_those_who_may_take_them(roles, release, role):
    links = roles[role].get(f"/api/v3/versions/{release.pk}").json()["_links"]
    assert "update" not in links and "updateImmediately" not in links and "delete" not in links
    assert "update" in roles["admin"].get(f"/api/v3/versions/{release.pk}").json()["_links"]


def test_the_list_holds_visible_projects_versions_and_system_wide_ones(owner, boss, site, project, release,
                                                                       outsider, members):
    hidden = version_create(actor=boss, project=site, name="Site only")
    everywhere = version_create(actor=owner, project=project, name="Everywhere", sharing="system")
    def ids(client) -> list[int]:
        return [e["id"] for e in client.get("/api/v3/versions").json()["_embedded"]["elements"]]

    assert ids(v3_client(members["viewer"])) == [release.pk, everywhere.pk]
    assert ids(v3_client(outsider)) == [everywhere.pk]
    assert ids(v3_client(boss)) == [hidden.pk, everywhere.pk]
    assert ids(v3_client(owner)) == [release.pk, hidden.pk, everywhere.pk]


def test_a_system_version_of_an_unseen_project_does_not_disclose_it(owner, project, outsider):
    everywhere = version_create(actor=owner, project=project, name="Everywhere", sharing="system")
    body = v3_client(outsider).get(f"/api/v3/versions/{everywhere.pk}").json()
    assert body["_links"]["definingProject"]["href"] == "urn:openproject-org:api:v3:undisclosed"
    assert "Apollo" not in json.dumps(body) and "update" not in body["_links"]


def test_versions_are_paged_by_page_number(owner, project, v3):
    made = [version_create(actor=owner, project=project, name=f"V{n}").pk for n in range(5)]
    body = v3.get("/api/v3/versions?pageSize=2&offset=2").json()
    assert (body["total"], body["count"], body["pageSize"], body["offset"]) == (5, 2, 2, 2)
    assert [e["id"] for e in body["_embedded"]["elements"]] == made[2:4]
    assert "offset=3" in body["_links"]["nextByOffset"]["href"]
    assert "offset=1" in body["_links"]["previousByOffset"]["href"]
    last = v3.get("/api/v3/versions?pageSize=2&offset=3").json()
    assert [e["id"] for e in last["_embedded"]["elements"]] == made[4:] and "nextByOffset" not in last["_links"]


def test_versions_filter_by_sharing(owner, project, release, v3):
    shared = version_create(actor=owner, project=project, name="Shared", sharing="system")
    query = filters({"sharing": {"operator": "=", "values": ["system"]}})
    body = v3.get("/api/v3/versions", {"filters": query}).json()
    assert [e["id"] for e in body["_embedded"]["elements"]] == [shared.pk] and body["total"] == 1
    assert "filters=" in body["_links"]["self"]["href"]
    others = filters({"sharing": {"operator": "!", "values": ["system"]}})
    assert [e["id"] for e in v3.get("/api/v3/versions", {"filters": others}).json()["_embedded"]["elements"]] == [
        release.pk]


@pytest.mark.parametrize("raw", [
    "not json", '{"sharing": 1}', filters({"nosuch": {"operator": "=", "values": ["x"]}}),
    filters({"sharing": {"operator": "~", "values": ["system"]}}),
    filters({"sharing": {"operator": "=", "values": ["everyone"]}}),
    filters({"sharing": {"operator": "=", "values": []}}),
])
def test_a_malformed_version_filter_is_400_invalid_query(v3, release, raw):
    assert_v3_error(v3.get("/api/v3/versions", {"filters": raw}), 400, "InvalidQuery")


def test_the_version_list_reads_a_fixed_number_of_queries(owner, project, v3):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert v3.get("/api/v3/versions").status_code == 200
        return len(queries)

    version_create(actor=owner, project=project, name="A")
    count()   # the first request of a token also records its use
    few = count()
    for n in range(6):
        version_create(actor=owner, project=project, name=f"B{n}")
    assert count() == few


def test_an_outsider_cannot_see_a_version(release, outsider):
    assert_v3_error(v3_client(outsider).get(f"/api/v3/versions/{release.pk}"), 404, "NotFound")


def test_a_project_lists_its_own_and_inherited_versions(boss, site):
    wing = make_project(boss, name="Wing", identifier="wing", parent=site)
    down = version_create(actor=boss, project=site, name="Down", sharing="descendants")
    version_create(actor=boss, project=site, name="Kept")
    own = version_create(actor=boss, project=wing, name="Own")
    body = v3_client(boss).get("/api/v3/projects/wing/versions").json()
    assert sorted(e["id"] for e in body["_embedded"]["elements"]) == sorted([down.pk, own.pk])
    assert body["_links"]["self"]["href"] == f"/api/v3/projects/{wing.pk}/versions"
    assert {e["_type"] for e in body["_embedded"]["elements"]} == {"Version"}


def test_available_projects_are_those_sharing_the_version_that_the_caller_sees(boss, site):
    wing = make_project(boss, name="Wing", identifier="wing", parent=site)
    make_project(boss, name="Elsewhere")
    down = version_create(actor=boss, project=site, name="Down", sharing="descendants")
    body = v3_client(boss).get(f"/api/v3/versions/{down.pk}/projects").json()
    assert [(e["_type"], e["id"]) for e in body["_embedded"]["elements"]] == [("Project", site.pk),
                                                                              ("Project", wing.pk)]
    assert body["_embedded"]["elements"][1]["_links"]["self"]["title"] == "Wing"


@pytest.mark.parametrize("tail", ["types", "versions", "categories"])
def test_an_outsider_gets_404_for_a_projects_reference_lists(project, outsider, tail):
    client = v3_client(outsider)
    assert_v3_error(client.get(f"/api/v3/projects/{project.pk}/{tail}"), 404, "NotFound")
    assert_v3_error(client.get(f"/api/v3/projects/{project.identifier}/{tail}"), 404, "NotFound")


# ---------------------------------------------------------------- versions: writes

def test_an_admin_creates_a_version(project, members):
    answer = v3_client(members["admin"]).post("/api/v3/versions", {
        "name": "2.0", "description": {"raw": "Second"}, "startDate": "2026-04-01", "endDate": "2026-04-30",
        "status": "locked", "sharing": "descendants",
        "_links": {"definingProject": {"href": f"/api/v3/projects/{project.pk}"}},
    }, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    row = Version.objects.get(pk=body["id"])
    assert (row.project_id, row.name, row.description, row.start_date, row.end_date, row.status, row.sharing) == (
        project.pk, "2.0", "Second", D(2026, 4, 1), D(2026, 4, 30), "locked", "descendants")
    assert body["_type"] == "Version" and body["_links"]["definingProject"]["title"] == "Apollo"


@pytest.mark.parametrize("who, status, identifier", [
    ("viewer", 403, "MissingPermission"), ("member", 403, "MissingPermission"),
    ("scheduler", 403, "MissingPermission"), ("outsider", 404, "NotFound"),
])
def test_creating_a_version_needs_admin_in_the_project(project, members, outsider, who, status, identifier):
    person = outsider if who == "outsider" else members[who]
    answer = v3_client(person).post("/api/v3/versions", {
        "name": "Sneaky", "_links": {"definingProject": {"href": f"/api/v3/projects/{project.pk}"}}}, format="json")
    assert_v3_error(answer, status, identifier)
    assert not Version.all_objects.filter(name="Sneaky").exists()


BAD_CREATES = {
    # case: (body beside the defining project link, or a whole body when "_links" is in it; identifier; attribute)
    "no project": ({"name": "X", "_links": {}}, "PropertyConstraintViolation", "definingProject"),
    "project of another kind": ({"name": "X", "_links": {"definingProject": {"href": "/api/v3/types/1"}}},
                                "ResourceTypeMismatch", "definingProject"),
    "project not a link": ({"name": "X", "_links": {"definingProject": "nope"}}, "PropertyFormatError",
                           "definingProject"),
    "links not an object": ({"name": "X", "_links": "nope"}, "PropertyFormatError", "_links"),
    "no name": ({}, "PropertyConstraintViolation", "name"),
    "long name": ({"name": "x" * 256}, "PropertyConstraintViolation", "name"),
    "end before start": ({"name": "X", "startDate": "2026-05-02", "endDate": "2026-05-01"},
                         "PropertyConstraintViolation", "endDate"),
    "no such date": ({"name": "X", "startDate": "2026-02-30"}, "PropertyFormatError", "startDate"),
    "unknown status": ({"name": "X", "status": "frozen"}, "PropertyConstraintViolation", "status"),
    "unknown sharing": ({"name": "X", "sharing": "everyone"}, "PropertyConstraintViolation", "sharing"),
    "description not formattable": ({"name": "X", "description": "plain"}, "PropertyFormatError", "description"),
}


@pytest.mark.parametrize("case", sorted(BAD_CREATES))
def test_a_bad_version_body_is_422_naming_the_property(project, v3, case):
    body, identifier, attribute = BAD_CREATES[case]
    if "_links" not in body:
        body = {**body, "_links": {"definingProject": {"href": f"/api/v3/projects/{project.pk}"}}}
    assert_v3_error(v3.post("/api/v3/versions", body, format="json"), 422, identifier, attribute=attribute)
    assert not Version.all_objects.exists()


def test_only_a_workspace_administrator_shares_a_version_with_every_project(project, members):
    answer = v3_client(members["admin"]).post("/api/v3/versions", {
        "name": "All", "sharing": "system", "_links": {"definingProject": {"href": f"/api/v3/projects/{project.pk}"}},
    }, format="json")
    assert_v3_error(answer, 403, "MissingPermission")
    assert not Version.all_objects.exists()


def test_an_admin_patches_a_version_with_its_lock_version(release, members):
    answer = v3_client(members["admin"]).patch(f"/api/v3/versions/{release.pk}", {
        "name": "1.0 final", "endDate": "2026-04-03", "status": "closed", "description": {"raw": "Done"},
        "lockVersion": release.lock_version}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["name"], body["endDate"], body["status"], body["description"]["raw"]) == (
        "1.0 final", "2026-04-03", "closed", "Done")
    assert body["lockVersion"] == release.lock_version + 1
    release.refresh_from_db()
    assert (release.name, release.status, release.end_date) == ("1.0 final", "closed", D(2026, 4, 3))


def test_a_stale_lock_version_is_409_and_changes_nothing(release, v3):
    before = version_row(release.pk)
    answer = v3.patch(f"/api/v3/versions/{release.pk}", {"name": "Late", "lockVersion": release.lock_version + 7},
                      format="json")
    assert_v3_error(answer, 409, "UpdateConflict")
    assert version_row(release.pk) == before


@pytest.mark.parametrize("who, status, identifier", [
    ("viewer", 403, "MissingPermission"), ("scheduler", 403, "MissingPermission"), ("outsider", 404, "NotFound"),
])
def test_patching_or_deleting_a_version_needs_admin(release, members, outsider, who, status, identifier):
    client = v3_client(outsider if who == "outsider" else members[who])
    before = version_row(release.pk)
    assert_v3_error(client.patch(f"/api/v3/versions/{release.pk}", {"name": "Mine"}, format="json"), status,
                    identifier)
    assert_v3_error(client.delete(f"/api/v3/versions/{release.pk}", content_type="application/json"), status,
                    identifier)
    assert version_row(release.pk) == before


def test_a_version_seen_through_sharing_is_403_to_change_for_someone_outside_its_project(boss, site):
    wing = make_project(boss, name="Wing", identifier="wing", parent=site)
    down = version_create(actor=boss, project=site, name="Down", sharing="descendants")
    wing_admin = make_user("wing-admin")
    membership_add(actor=boss, project=wing, user=wing_admin, role=Role.ADMIN)
    client = v3_client(wing_admin)
    body = client.get(f"/api/v3/versions/{down.pk}").json()
    assert body["_links"]["definingProject"]["href"] == "urn:openproject-org:api:v3:undisclosed"
    assert "update" not in body["_links"]
    before = version_row(down.pk)
    assert_v3_error(client.patch(f"/api/v3/versions/{down.pk}", {"name": "Taken"}, format="json"), 403,
                    "MissingPermission")
    assert_v3_error(client.delete(f"/api/v3/versions/{down.pk}", content_type="application/json"), 403,
                    "MissingPermission")
    assert version_row(down.pk) == before


@pytest.mark.parametrize("body, identifier, attribute", [
    ({"lockVersion": "3"}, "PropertyFormatError", "lockVersion"),
    ({"_links": {"definingProject": {"href": "/api/v3/projects/999"}}}, "PropertyIsReadOnly", "definingProject"),
    ({"startDate": "2026-05-02", "endDate": "2026-05-01"}, "PropertyConstraintViolation", "endDate"),
    ({"name": ""}, "PropertyConstraintViolation", "name"),
])
def test_a_bad_patch_is_422_and_changes_nothing(release, v3, body, identifier, attribute):
    before = version_row(release.pk)
    assert_v3_error(v3.patch(f"/api/v3/versions/{release.pk}", body, format="json"), 422, identifier,
                    attribute=attribute)
    assert version_row(release.pk) == before


def test_patching_with_the_same_defining_project_is_accepted(project, release, v3):
    answer = v3.patch(f"/api/v3/versions/{release.pk}", {
        "name": "Same home", "_links": {"definingProject": {"href": f"/api/v3/projects/{project.pk}"}}},
        format="json")
    assert answer.status_code == 200 and answer.json()["name"] == "Same home"


def test_an_admin_deletes_a_version(release, members):
    client = v3_client(members["admin"])
    answer = client.delete(f"/api/v3/versions/{release.pk}", content_type="application/json")
    assert answer.status_code == 204
    assert Version.all_objects.get(pk=release.pk).deleted_at is not None
    assert_v3_error(client.get(f"/api/v3/versions/{release.pk}"), 404, "NotFound")


# ---------------------------------------------------------------- categories

def test_a_category_links_its_project_and_default_assignee(owner, project, members, v3):
    kept = category_create(actor=owner, project=project, name="Docs", default_assignee=members["member"])
    body = v3.get(f"/api/v3/categories/{kept.pk}").json()
    assert body == {"_type": "Category", "id": kept.pk, "name": "Docs", "_links": {
        "self": {"href": f"/api/v3/categories/{kept.pk}", "title": "Docs"},
        "project": {"href": f"/api/v3/projects/{project.pk}", "title": "Apollo"},
        "defaultAssignee": {"href": f"/api/v3/users/{members['member'].pk}", "title": "member"},
    }}


def test_a_projects_categories_by_id_or_identifier(owner, project, members):
    first = category_create(actor=owner, project=project, name="Docs")
    second = category_create(actor=owner, project=project, name="Build")
    category_create(actor=owner, project=make_project(owner, name="Other"), name="Elsewhere")
    client = v3_client(members["viewer"])
    for ref in (project.pk, project.identifier):
        body = client.get(f"/api/v3/projects/{ref}/categories").json()
        assert [(e["_type"], e["id"]) for e in body["_embedded"]["elements"]] == [("Category", first.pk),
                                                                                  ("Category", second.pk)]
        assert body["_embedded"]["elements"][0]["_links"]["defaultAssignee"] == {"href": None}


def test_an_outsider_cannot_see_a_category(owner, project, outsider):
    kept = category_create(actor=owner, project=project, name="Docs")
    assert_v3_error(v3_client(outsider).get(f"/api/v3/categories/{kept.pk}"), 404, "NotFound")
    assert Category.objects.filter(pk=kept.pk).exists()


# ---------------------------------------------------------------- working days

def office(owner, *, mask: int = 0b0011111, exceptions=(), default: bool = True):
    calendar = calendar_create(actor=owner, name="Office", working_days=mask, exceptions=list(exceptions))
    return calendar_set_default(actor=owner, calendar=calendar) if default else calendar


def test_without_a_default_calendar_the_week_is_monday_to_friday(owner, v3):
    office(owner, mask=0b1111111, default=False)
    body = v3.get("/api/v3/days/week").json()
    assert body["_type"] == "Collection" and body["total"] == 7
    assert [(e["_type"], e["day"], e["name"], e["working"]) for e in body["_embedded"]["elements"]] == [
        ("WeekDay", 1, "Monday", True), ("WeekDay", 2, "Tuesday", True), ("WeekDay", 3, "Wednesday", True),
        ("WeekDay", 4, "Thursday", True), ("WeekDay", 5, "Friday", True), ("WeekDay", 6, "Saturday", False),
        ("WeekDay", 7, "Sunday", False)]
    assert body["_embedded"]["elements"][6]["_links"]["self"] == {"href": "/api/v3/days/week/7", "title": "Sunday"}


def test_the_week_follows_the_default_calendar(owner, v3):
    office(owner, mask=0b1001111)    # Sunday to Thursday
    working = [e["working"] for e in v3.get("/api/v3/days/week").json()["_embedded"]["elements"]]
    assert working == [True, True, True, True, False, False, True]
    friday = v3.get("/api/v3/days/week/5").json()
    assert friday == {"_type": "WeekDay", "day": 5, "name": "Friday", "working": False,
                      "_links": {"self": {"href": "/api/v3/days/week/5", "title": "Friday"}}}


@pytest.fixture
def holidays(owner):
    year = timezone.localdate().year
    return year, office(owner, exceptions=[
        {"start": D(year, 12, 24), "end": D(year, 12, 26), "description": "Winter break"},
        {"start": D(year, 12, 25), "end": D(year, 12, 25), "description": "", "is_working": True},
        {"start": D(year, 5, 1), "end": D(year, 5, 1), "description": ""},
        {"start": D(year + 1, 1, 1), "end": D(year + 1, 1, 1), "description": "New year"},
    ])


def test_non_working_days_default_to_the_current_year(holidays, v3):
    year, _ = holidays
    body = v3.get("/api/v3/days/non_working").json()
    assert body["_type"] == "Collection"
    assert [(e["_type"], e["date"], e["name"]) for e in body["_embedded"]["elements"]] == [
        ("NonWorkingDay", f"{year}-05-01", "Non-working day"), ("NonWorkingDay", f"{year}-12-24", "Winter break"),
        ("NonWorkingDay", f"{year}-12-26", "Winter break")]
    assert body["_embedded"]["elements"][1]["_links"]["self"] == {
        "href": f"/api/v3/days/non_working/{year}-12-24", "title": "Winter break"}


def test_non_working_days_in_a_filtered_span(holidays, v3):
    year, _ = holidays
    query = filters({"date": {"operator": "<>d", "values": [f"{year}-12-26", f"{year + 1}-06-30"]}})
    body = v3.get("/api/v3/days/non_working", {"filters": query}).json()
    assert [e["date"] for e in body["_embedded"]["elements"]] == [f"{year}-12-26", f"{year + 1}-01-01"]
    assert body["total"] == 2 and "filters=" in body["_links"]["self"]["href"]


def test_without_a_default_calendar_there_are_no_non_working_days(owner, v3):
    office(owner, exceptions=[{"start": timezone.localdate(), "end": timezone.localdate()}], default=False)
    assert v3.get("/api/v3/days/non_working").json()["total"] == 0


@pytest.mark.parametrize("raw", [
    "[", '{"date": 1}', filters({"day": {"operator": "<>d", "values": ["2026-01-01", "2026-12-31"]}}),
    filters({"date": {"operator": "=d", "values": ["2026-01-01"]}}),
    filters({"date": {"operator": "<>d", "values": ["2026-01-01"]}}),
    filters({"date": {"operator": "<>d", "values": ["2026-01-01", "2026-13-01"]}}),
    filters({"date": {"operator": "<>d", "values": ["", "2026-12-31"]}}),
    filters({"date": {"operator": "<>d", "values": ["1900-01-01", "2900-12-31"]}}),
])
def test_a_malformed_non_working_filter_is_400_invalid_query(holidays, v3, raw):
    assert_v3_error(v3.get("/api/v3/days/non_working", {"filters": raw}), 400, "InvalidQuery")


def test_one_non_working_day_or_404(holidays, v3):
    year, _ = holidays
    assert v3.get(f"/api/v3/days/non_working/{year}-12-24").json() == {
        "_type": "NonWorkingDay", "date": f"{year}-12-24", "name": "Winter break",
        "_links": {"self": {"href": f"/api/v3/days/non_working/{year}-12-24", "title": "Winter break"}}}
    for day in (f"{year}-12-25", f"{year}-06-01", f"{year}-02-30", "christmas", "2026-1-1"):
        assert_v3_error(v3.get(f"/api/v3/days/non_working/{day}"), 404, "NotFound")


def test_a_day_says_whether_it_is_worked_and_why_not(holidays, v3):
    year, _ = holidays
    days = {e["date"]: e for e in v3.get("/api/v3/days", {"filters": filters(
        {"date": {"operator": "<>d", "values": [f"{year}-12-23", f"{year}-12-27"]}})}).json()["_embedded"]["elements"]}
    assert sorted(days) == [f"{year}-12-{d}" for d in range(23, 28)]
    weekday = lambda d: D(year, 12, d).isoweekday()    # noqa: E731
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    # The 24th and 26th are the winter break; the 25th was made a working day again, whatever its week day.
    assert days[f"{year}-12-24"]["working"] is False
    assert days[f"{year}-12-24"]["name"] == f"{names[weekday(24) - 1]} (Winter break)"
    assert {"href": f"/api/v3/days/non_working/{year}-12-24", "title": "Winter break"} in \
        days[f"{year}-12-24"]["_links"]["nonWorkingReasons"]
    assert days[f"{year}-12-25"]["working"] is True and "nonWorkingReasons" not in days[f"{year}-12-25"]["_links"]
    for d in (23, 27):
        day = days[f"{year}-12-{d}"]
        assert day["working"] is (weekday(d) <= 5) and day["name"] == names[weekday(d) - 1]
        assert day["_links"]["weekDay"] == {"href": f"/api/v3/days/week/{weekday(d)}", "title": names[weekday(d) - 1]}
        if weekday(d) > 5:
            assert day["_links"]["nonWorkingReasons"] == [day["_links"]["weekDay"]]
    assert v3.get(f"/api/v3/days/{year}-12-24").json() == days[f"{year}-12-24"]


def test_days_default_to_this_month_and_the_next_and_filter_by_working(holidays, v3):
    today = timezone.localdate()
    body = v3.get("/api/v3/days").json()
    dates = [e["date"] for e in body["_embedded"]["elements"]]
    assert dates[0] == today.replace(day=1).isoformat()
    last = D.fromisoformat(dates[-1])
    assert (last + dt.timedelta(days=1)).day == 1
    assert (last.year * 12 + last.month) - (today.year * 12 + today.month) == 1
    assert len(dates) == len(set(dates)) == (last - today.replace(day=1)).days + 1
    working = v3.get("/api/v3/days", {"filters": filters({"working": {"operator": "=", "values": ["t"]}})}).json()
    assert [e["date"] for e in working["_embedded"]["elements"]] == [
        e["date"] for e in body["_embedded"]["elements"] if e["working"]]
    assert working["total"] < body["total"]


@pytest.mark.parametrize("raw", [
    filters({"working": {"operator": "=", "values": ["yes"]}}),
    filters({"working": {"operator": "!", "values": ["t"]}}),
    filters({"date": {"operator": "<>d", "values": ["1900-01-01", "2900-12-31"]}}),
])
def test_a_malformed_days_filter_is_400_invalid_query(v3, raw):
    assert_v3_error(v3.get("/api/v3/days", {"filters": raw}), 400, "InvalidQuery")


def test_a_day_that_is_no_date_is_404(v3):
    for day in ("2026-02-30", "christmas", "2026-1-1"):
        assert_v3_error(v3.get(f"/api/v3/days/{day}"), 404, "NotFound")
