"""``/api/v3/projects``: HAL shape, visibility, OpenProject's filters, sorting and paging, writes through the
portfolio services with OpenProject's errors, the form and schema, and action links that follow the caller's role.
Every refused write is checked to have changed nothing."""

from __future__ import annotations

import json

import pytest

from keelplan.customfields.services import custom_field_create, custom_values_read
from keelplan.portfolio.models import Membership, Project, ProjectStatus, Role
from keelplan.portfolio.services import membership_add, project_update

from conftest import client_for, make_project, make_user

from .conftest import HAL, assert_v3_error, v3_client

pytestmark = pytest.mark.django_db
URL = "/api/v3/projects"


def projects_state() -> list[tuple]:
    return sorted(Project.all_objects.values_list("id", "name", "identifier", "description", "parent_id",
                                                  "is_public", "is_active", "deleted_at", "lock_version"))


def ids(body) -> list[int]:
    return [element["id"] for element in body["_embedded"]["elements"]]


def filtered(client, filters, **params):
    return client.get(URL, {"filters": json.dumps(filters), **params})


@pytest.fixture
def tree(owner):
    """Apollo > Lander > Legs, and Gemini on its own."""
    apollo = make_project(owner, name="Apollo")
    lander = make_project(owner, name="Lander", parent=apollo)
    legs = make_project(owner, name="Legs", parent=lander)
    gemini = make_project(owner, name="Gemini", is_active=False)
    return apollo, lander, legs, gemini


# ---------------------------------------------------------------- reading

def test_a_project_in_openprojects_shape(owner, v3, tree):
    apollo, lander, legs, _ = tree
    project_update(actor=owner, project=legs, description="Four legs.\nOne ladder.",
                   status=ProjectStatus.objects.get(code="on_track"), status_explanation="Fine")
    answer = v3.get(f"{URL}/{legs.pk}")
    assert answer.status_code == 200 and answer["Content-Type"] == HAL
    body = answer.json()
    assert (body["_type"], body["id"], body["identifier"], body["name"], body["active"], body["public"]) == (
        "Project", legs.pk, "legs", "Legs", True, False)
    assert body["description"] == {"format": "markdown", "raw": "Four legs.\nOne ladder.",
                                   "html": "<p>Four legs.</p><p>One ladder.</p>"}
    assert body["statusExplanation"]["raw"] == "Fine"
    assert body["createdAt"].endswith("Z") and body["startDate"] == "2026-01-05"
    links = body["_links"]
    assert links["self"] == {"href": f"/api/v3/projects/{legs.pk}", "title": "Legs"}
    assert links["parent"] == {"href": f"/api/v3/projects/{lander.pk}", "title": "Lander"}
    assert links["ancestors"] == [{"href": f"/api/v3/projects/{apollo.pk}", "title": "Apollo"},
                                  {"href": f"/api/v3/projects/{lander.pk}", "title": "Lander"}]
    assert links["status"] == {"href": "/api/v3/project_statuses/on_track", "title": "On track"}
    for name in ("categories", "types", "versions", "workPackages"):
        assert links[name]["href"].startswith(f"/api/v3/projects/{legs.pk}/")
    assert json.loads(links["memberships"]["href"].split("filters=", 1)[1]) == [
        {"project": {"operator": "=", "values": [str(legs.pk)]}}]
    assert links["createWorkPackageImmediate"] == links["createWorkPackageImmediately"] == {
        "href": f"/api/v3/projects/{legs.pk}/work_packages", "method": "post"}


def test_a_project_is_found_by_identifier_too(v3, tree):
    assert v3.get(f"{URL}/lander").json()["id"] == tree[1].pk


def test_an_invisible_project_is_404_exactly_like_a_missing_one(owner, tree):
    stranger = v3_client(make_user("stranger"))
    hidden = assert_v3_error(stranger.get(f"{URL}/{tree[0].pk}"), 404, "NotFound")
    missing = assert_v3_error(stranger.get(f"{URL}/999999"), 404, "NotFound")
    by_name = assert_v3_error(stranger.get(f"{URL}/apollo"), 404, "NotFound")
    assert hidden == missing == by_name


def test_an_invisible_parent_is_undisclosed(owner, tree):
    _, lander, legs, _ = tree
    member = make_user("legs-only")
    membership_add(actor=owner, project=legs, user=member, role=Role.VIEWER)
    body = v3_client(member).get(f"{URL}/{legs.pk}").json()
    assert body["_links"]["parent"]["href"] == "urn:openproject-org:api:v3:undisclosed"
    assert all(a["href"] == "urn:openproject-org:api:v3:undisclosed" for a in body["_links"]["ancestors"])
    assert "Lander" not in json.dumps(body)


def test_the_list_holds_what_the_caller_may_see(owner, tree):
    apollo, *_ = tree
    viewer = make_user("viewer-x")
    membership_add(actor=owner, project=apollo, user=viewer, role=Role.VIEWER)
    public = make_project(make_user("other-owner"), name="Open day", is_public=True)
    assert ids(v3_client(viewer).get(URL).json()) == [apollo.pk, public.pk]
    assert ids(v3_client(make_user("nobody")).get(URL).json()) == [public.pk]


def test_paging_is_by_page_number_and_says_so(v3, tree):
    first = v3.get(URL, {"pageSize": 3}).json()
    assert (first["total"], first["count"], first["pageSize"], first["offset"]) == (4, 3, 3, 1)
    assert first["_links"]["nextByOffset"]["href"] == "/api/v3/projects?offset=2&pageSize=3"
    assert "previousByOffset" not in first["_links"]
    second = v3.get(URL, {"pageSize": 3, "offset": 2}).json()
    assert (second["count"], second["offset"], ids(second)) == (1, 2, [tree[3].pk])
    assert "nextByOffset" not in second["_links"] and "previousByOffset" in second["_links"]
    past = v3.get(URL, {"pageSize": 3, "offset": 9}).json()
    assert (past["total"], past["count"], past["_embedded"]["elements"]) == (4, 0, [])
    assert v3.get(URL, {"pageSize": -1}).json()["pageSize"] == 1000
    assert v3.get(URL).json()["pageSize"] == 20


@pytest.mark.parametrize("params", [{"offset": "x"}, {"pageSize": "1.5"}, {"offset": "9" * 30}])
def test_a_bad_page_parameter_is_invalid_query(v3, tree, params):
    assert_v3_error(v3.get(URL, params), 400, "InvalidQuery")


def test_filters(v3, owner, tree):
    apollo, lander, legs, gemini = tree
    assert ids(filtered(v3, [{"id": {"operator": "=", "values": [str(legs.pk), str(gemini.pk)]}}]).json()) == [
        legs.pk, gemini.pk]
    assert ids(filtered(v3, [{"name_and_identifier": {"operator": "~", "values": ["LAND"]}}]).json()) == [lander.pk]
    assert ids(filtered(v3, [{"active": {"operator": "=", "values": ["f"]}}]).json()) == [gemini.pk]
    assert ids(filtered(v3, [{"parent_id": {"operator": "=", "values": [str(apollo.pk)]}}]).json()) == [lander.pk]
    assert ids(filtered(v3, [{"parent_id": {"operator": "!*", "values": None}}]).json()) == [apollo.pk, gemini.pk]
    assert ids(filtered(v3, [{"ancestor": {"operator": "=", "values": [str(apollo.pk)]}}]).json()) == [
        lander.pk, legs.pk]
    helper = make_user("helper")
    membership_add(actor=owner, project=gemini, user=helper, role=Role.MEMBER)
    assert ids(filtered(v3, [{"principal": {"operator": "=", "values": [str(helper.pk)]}}]).json()) == [gemini.pk]
    both = [{"active": {"operator": "=", "values": ["t"]}}, {"ancestor": {"operator": "!", "values": [str(apollo.pk)]}}]
    assert ids(filtered(v3, both).json()) == [apollo.pk]
    assert filtered(v3, [{"id": {"operator": "=", "values": [str(legs.pk)]}}]).json()["_links"]["self"]["href"] \
        .startswith("/api/v3/projects?filters=")


@pytest.mark.parametrize("raw", [
    '[{"unknown":{"operator":"=","values":["1"]}}]',
    '[{"id":{"operator":"~","values":["1"]}}]',
    '[{"id":{"operator":"=","values":["one"]}}]',
    "not json",
    '{"id": 1}',
])
def test_a_bad_filter_is_invalid_query(v3, tree, raw):
    assert_v3_error(v3.get(URL, {"filters": raw}), 400, "InvalidQuery")


def test_sorting(v3, tree):
    apollo, lander, legs, gemini = tree
    assert ids(v3.get(URL, {"sortBy": '[["name","desc"]]'}).json()) == [legs.pk, lander.pk, gemini.pk, apollo.pk]
    assert ids(v3.get(URL, {"sortBy": '[["id","desc"]]'}).json()) == [gemini.pk, legs.pk, lander.pk, apollo.pk]
    assert_v3_error(v3.get(URL, {"sortBy": '[["secret","asc"]]'}), 400, "InvalidQuery")


@pytest.mark.parametrize("role, expected", [
    (Role.VIEWER, set()),
    (Role.MEMBER, set()),
    (Role.SCHEDULER, set()),
    (Role.ADMIN, {"createWorkPackage", "createWorkPackageImmediate", "createWorkPackageImmediately", "update",
                  "updateImmediately"}),
    (Role.OWNER, {"createWorkPackage", "createWorkPackageImmediate", "createWorkPackageImmediately", "update",
                  "updateImmediately", "delete"}),
])
def test_action_links_follow_the_callers_role(owner, role, expected):
    person = make_user("person")
    if role == Role.OWNER:
        project = make_project(person, name="Roles")
    else:
        project = make_project(owner, name="Roles")
        membership_add(actor=owner, project=project, user=person, role=role)
    actions = {"createWorkPackage", "createWorkPackageImmediate", "createWorkPackageImmediately", "update",
               "updateImmediately", "delete"}
    for body in (v3_client(person).get(f"{URL}/{project.pk}").json(),
                 v3_client(person).get(URL).json()["_embedded"]["elements"][0]):
        assert set(body["_links"]) & actions == expected


# ---------------------------------------------------------------- creating

def test_create_derives_the_identifier_and_makes_the_caller_owner(db):
    person = make_user("founder")
    client = v3_client(person)
    answer = client.post(URL, {"name": "Sea Lab 2", "description": {"raw": "Deep"}, "public": True},
                         format="json")
    assert answer.status_code == 201 and answer["Content-Type"] == HAL
    body = answer.json()
    project = Project.objects.get(pk=body["id"])
    assert (project.name, project.identifier, project.description, project.is_public) == (
        "Sea Lab 2", "sea-lab-2", "Deep", True)
    assert body["identifier"] == "sea-lab-2" and "delete" in body["_links"]
    assert Membership.objects.get(project=project).user == person
    assert client_for(person).get(f"/api/v1/projects/{project.pk}/").json()["name"] == "Sea Lab 2"


def test_create_under_a_parent_with_a_status(owner, v3, tree):
    apollo = tree[0]
    answer = v3.post(URL, {"name": "Service module", "identifier": "service-module",
                           "statusExplanation": {"raw": "Starting"},
                           "_links": {"parent": {"href": f"/api/v3/projects/{apollo.pk}"},
                                      "status": {"href": "/api/v3/project_statuses/not_started"}}}, format="json")
    assert answer.status_code == 201
    project = Project.objects.get(identifier="service-module")
    assert (project.parent_id, project.status.code, project.status_explanation) == (apollo.pk, "not_started",
                                                                                  "Starting")


@pytest.mark.parametrize("body, status, identifier, attribute", [
    ({}, 422, "PropertyConstraintViolation", "name"),
    ({"name": ""}, 422, "PropertyConstraintViolation", "name"),
    ({"name": 5}, 422, "PropertyFormatError", "name"),
    ({"name": "x" * 256}, 422, "PropertyConstraintViolation", "name"),
    ({"name": "Dup", "identifier": "apollo"}, 422, "PropertyConstraintViolation", "identifier"),
    ({"name": "Bad id", "identifier": "Not An Id"}, 422, "PropertyConstraintViolation", "identifier"),
    ({"name": "Orphan", "_links": {"parent": {"href": "/api/v3/projects/999999"}}}, 422,
     "PropertyConstraintViolation", "parent"),
    ({"name": "Wrong link", "_links": {"parent": {"href": "/api/v3/users/1"}}}, 422, "ResourceTypeMismatch",
     "parent"),
    ({"name": "Status", "_links": {"status": {"href": "/api/v3/project_statuses/sleepy"}}}, 422,
     "PropertyConstraintViolation", "status"),
    ({"name": "Desc", "description": 12}, 422, "PropertyFormatError", "description"),
    ({"name": "Flag", "public": "yes"}, 422, "PropertyFormatError", "public"),
])
def test_a_bad_create_is_refused_naming_the_property_and_writes_nothing(v3, tree, body, status, identifier,
                                                                       attribute):
    before = projects_state()
    assert_v3_error(v3.post(URL, body, format="json"), status, identifier, attribute=attribute)
    assert projects_state() == before


def test_a_parent_the_caller_cannot_see_is_refused_as_unavailable(tree):
    stranger = v3_client(make_user("stranger"))
    before = projects_state()
    body = assert_v3_error(stranger.post(URL, {"name": "Mine", "_links": {"parent": {
        "href": f"/api/v3/projects/{tree[0].pk}"}}}, format="json"), 422, "PropertyConstraintViolation",
        attribute="parent")
    missing = assert_v3_error(stranger.post(URL, {"name": "Mine", "_links": {"parent": {
        "href": "/api/v3/projects/999999"}}}, format="json"), 422, "PropertyConstraintViolation")
    assert body == missing and projects_state() == before


@pytest.mark.parametrize("raw", [b"[1, 2]", b"not json", b'"text"'])
def test_a_body_that_is_not_one_json_object_is_invalid_request_body(v3, tree, raw):
    before = projects_state()
    assert_v3_error(v3.post(URL, raw, content_type="application/json"), 400, "InvalidRequestBody")
    assert projects_state() == before


def test_a_write_without_content_type_is_406_plain_text(v3, tree):
    answer = v3.generic("DELETE", f"{URL}/{tree[3].pk}", content_type=None)
    assert answer.status_code == 406 and answer.content == b"Missing content-type header"
    assert answer["Content-Type"].startswith("text/plain")
    assert Project.objects.filter(pk=tree[3].pk).exists()


def test_hal_json_bodies_are_read(v3):
    answer = v3.post(URL, json.dumps({"name": "Hal"}), content_type="application/hal+json")
    assert answer.status_code == 201


# ---------------------------------------------------------------- updating and deleting

def test_update_takes_the_whole_object_back(v3, tree):
    gemini = tree[3]
    body = v3.get(f"{URL}/{gemini.pk}").json()
    body["name"] = "Gemini II"
    body["active"] = True
    answer = v3.patch(f"{URL}/{gemini.pk}", body, format="json")
    assert answer.status_code == 200 and answer.json()["name"] == "Gemini II"
    project = Project.objects.get(pk=gemini.pk)
    assert (project.name, project.is_active, project.identifier) == ("Gemini II", True, "gemini")


def test_update_by_identifier_and_clearing_the_parent(v3, tree):
    answer = v3.patch(f"{URL}/legs", {"_links": {"parent": {"href": None}}}, format="json")
    assert answer.status_code == 200 and answer.json()["_links"]["parent"] == {"href": None}
    assert Project.objects.get(pk=tree[2].pk).parent_id is None


def test_a_stale_lock_version_is_update_conflict(v3, tree):
    gemini = tree[3]
    version = Project.objects.get(pk=gemini.pk).lock_version
    assert v3.patch(f"{URL}/{gemini.pk}", {"name": "One", "lockVersion": version}, format="json").status_code == 200
    before = projects_state()
    assert_v3_error(v3.patch(f"{URL}/{gemini.pk}", {"name": "Two", "lockVersion": version}, format="json"), 409,
                    "UpdateConflict")
    assert projects_state() == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.SCHEDULER])
def test_a_member_below_admin_may_not_update_and_nothing_changes(owner, tree, role):
    apollo = tree[0]
    person = make_user("below")
    membership_add(actor=owner, project=apollo, user=person, role=role)
    before = projects_state()
    assert_v3_error(v3_client(person).patch(f"{URL}/{apollo.pk}", {"name": "Mine"}, format="json"), 403,
                    "MissingPermission")
    assert_v3_error(v3_client(person).post(f"{URL}/{apollo.pk}/form", {"name": "Mine"}, format="json"), 403,
                    "MissingPermission")
    assert projects_state() == before


def test_an_outsider_gets_404_for_every_write_and_nothing_changes(tree):
    apollo = tree[0]
    stranger = v3_client(make_user("stranger"))
    before = projects_state()
    assert_v3_error(stranger.patch(f"{URL}/{apollo.pk}", {"name": "Mine"}, format="json"), 404, "NotFound")
    assert_v3_error(stranger.delete(f"{URL}/{apollo.pk}", content_type="application/json"), 404, "NotFound")
    assert_v3_error(stranger.post(f"{URL}/{apollo.pk}/form", {}, format="json"), 404, "NotFound")
    assert projects_state() == before


def test_delete_is_the_owners_and_answers_204(owner, tree):
    gemini = tree[3]
    admin = make_user("admin-x")
    membership_add(actor=owner, project=gemini, user=admin, role=Role.ADMIN)
    before = projects_state()
    assert_v3_error(v3_client(admin).delete(f"{URL}/{gemini.pk}", content_type="application/json"), 403,
                    "MissingPermission")
    assert projects_state() == before
    answer = v3_client(owner).delete(f"{URL}/{gemini.pk}", content_type="application/json")
    assert answer.status_code == 204 and answer.content == b""
    assert not Project.objects.filter(pk=gemini.pk).exists()


def test_a_project_with_subprojects_cannot_be_deleted(v3, tree):
    before = projects_state()
    assert_v3_error(v3.delete(f"{URL}/{tree[0].pk}", content_type="application/json"), 422,
                    "PropertyConstraintViolation")
    assert projects_state() == before


# ---------------------------------------------------------------- form, schema, statuses

def test_the_form_validates_without_writing(v3, tree):
    gemini = tree[3]
    before = projects_state()
    good = v3.post(f"{URL}/{gemini.pk}/form", {"name": "Gemini Prime"}, format="json").json()
    assert good["_type"] == "Form" and good["_embedded"]["payload"]["name"] == "Gemini Prime"
    assert good["_embedded"]["validationErrors"] == {}
    assert good["_links"]["commit"] == {"href": f"/api/v3/projects/{gemini.pk}", "method": "patch"}
    bad = v3.post(f"{URL}/{gemini.pk}/form", {"name": ""}, format="json").json()
    assert bad["_embedded"]["validationErrors"]["name"]["errorIdentifier"].endswith("PropertyConstraintViolation")
    assert "commit" not in bad["_links"]
    create = v3.post(f"{URL}/form", {"name": "Fresh"}, format="json").json()
    assert create["_links"]["commit"] == {"href": "/api/v3/projects", "method": "post"}
    assert projects_state() == before


def test_the_schema_describes_the_writable_properties(v3, owner):
    cf = custom_field_create(actor=owner, name="Budget code", applies_to="project", format="string",
                             max_length=12, is_required=True)
    schema = v3.get(f"{URL}/schema").json()
    assert schema["_type"] == "Schema"
    assert schema["name"]["required"] is True and schema["name"]["writable"] is True
    assert schema["id"]["writable"] is False
    assert schema[f"customField{cf.pk}"] == {"type": "String", "name": "Budget code", "required": True,
                                             "hasDefault": False, "writable": True, "options": {}, "maxLength": 12}


def test_project_statuses(v3):
    listed = v3.get("/api/v3/project_statuses").json()
    assert listed["_type"] == "Collection" and listed["total"] == 6
    one = v3.get("/api/v3/project_statuses/at_risk").json()
    assert (one["_type"], one["id"], one["name"]) == ("ProjectStatus", "at_risk", "At risk")
    assert_v3_error(v3.get("/api/v3/project_statuses/bored"), 404, "NotFound")


# ---------------------------------------------------------------- custom fields

def test_custom_values_are_shown_and_written(owner, v3, tree):
    apollo = tree[0]
    size = custom_field_create(actor=owner, name="Crew", applies_to="project", format="integer", min_value=1,
                               max_value=9)
    phase = custom_field_create(actor=owner, name="Phase", applies_to="project", format="list",
                                options=["Design", "Build"])
    build = phase.options.get(value="Build")
    answer = v3.patch(f"{URL}/{apollo.pk}", {"customField%d" % size.pk: 3, "_links": {
        f"customField{phase.pk}": {"href": f"/api/v3/custom_options/{build.pk}"}}}, format="json")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body[f"customField{size.pk}"] == 3
    assert body["_links"][f"customField{phase.pk}"] == {"href": f"/api/v3/custom_options/{build.pk}",
                                                         "title": "Build"}
    assert custom_values_read("project", [apollo.pk])[apollo.pk] == {size.pk: 3, phase.pk: build.pk}
    option = v3.get(f"/api/v3/custom_options/{build.pk}").json()
    assert (option["_type"], option["value"]) == ("CustomOption", "Build")


def test_a_bad_custom_value_is_refused_naming_it_and_nothing_is_written(owner, v3, tree):
    apollo = tree[0]
    size = custom_field_create(actor=owner, name="Crew", applies_to="project", format="integer", max_value=9)
    before = projects_state()
    assert_v3_error(v3.patch(f"{URL}/{apollo.pk}", {"name": "Renamed", f"customField{size.pk}": 12},
                             format="json"), 422, "PropertyConstraintViolation", attribute=f"customField{size.pk}")
    assert projects_state() == before
    assert custom_values_read("project", [apollo.pk])[apollo.pk] == {}
