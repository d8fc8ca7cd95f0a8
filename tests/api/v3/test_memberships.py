"""The v3 memberships: shapes, paging and filters, who sees which, writes through the portfolio services (one
role per membership), the form, the schema and the projects whose members the caller may manage. Every refused
write is tried as an attack and the memberships are checked unchanged afterwards."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keelplan.accounts.services import group_create, group_member_add
from keelplan.portfolio.models import Membership, Role
from keelplan.portfolio.services import membership_add

from conftest import make_project, make_user

from .conftest import assert_v3_error, v3_client

pytestmark = pytest.mark.django_db


def filters(*entries) -> str:
    return json.dumps([{name: {"operator": op, "values": values}} for name, op, values in entries])


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content[:500]
    return [row["id"] for row in answer.json()["_embedded"]["elements"]]


def state(project) -> list[tuple]:
    """Every live membership of the project, as (user, group, role)."""
    return list(Membership.objects.filter(project=project).order_by("id").values_list("user_id", "group_id", "role"))


def body(project, principal: str, *roles: int) -> dict:
    return {"_links": {"project": {"href": f"/api/v3/projects/{project.pk}"}, "principal": {"href": principal},
                       "roles": [{"href": f"/api/v3/roles/{r}"} for r in roles]},
            "_meta": {"sendNotifications": False, "notificationMessage": {"raw": "hi"}}}


@pytest.fixture
def boss(db):
    """The Owner of ``venture``, not a workspace administrator (so only the project role speaks)."""
    return make_user("boss", full_name="Bea Boss", email="boss@example.com")


@pytest.fixture
def venture(boss):
    return make_project(boss, "Venture", identifier="venture")


@pytest.fixture
def crew(boss, venture):
    """One person per role below Owner in ``venture``."""
    people = {"owner": boss}
    for role in (Role.VIEWER, Role.MEMBER, Role.SCHEDULER, Role.ADMIN):
        person = make_user(f"v-{role.label.lower()}", email=f"{role.label.lower()}@example.com")
        membership_add(actor=boss, project=venture, user=person, role=role)
        people[role.label.lower()] = person
    return people


def row_of(project, user) -> Membership:
    return Membership.objects.get(project=project, user=user)


# ---------------------------------------------------------------- shapes

def test_a_membership_shows_its_project_principal_and_role_linked_and_embedded(boss, venture, crew):
    row = row_of(venture, crew["member"])
    answer = v3_client(boss).get(f"/api/v3/memberships/{row.pk}")
    assert answer.status_code == 200
    data = answer.json()
    assert data["_type"] == "Membership" and data["id"] == row.pk
    assert data["createdAt"].endswith("Z") and data["updatedAt"].endswith("Z")
    links = data["_links"]
    assert links["self"] == {"href": f"/api/v3/memberships/{row.pk}", "title": "v-member"}
    assert links["project"] == {"href": f"/api/v3/projects/{venture.pk}", "title": "Venture"}
    assert links["principal"] == {"href": f"/api/v3/users/{crew['member'].pk}", "title": "v-member"}
    assert links["roles"] == [{"href": "/api/v3/roles/100", "title": "Member"}]
    embedded = data["_embedded"]
    project = embedded["project"]
    assert (project["_type"], project["id"], project["name"], project["identifier"]) == (
        "Project", venture.pk, "Venture", "venture")
    assert project["_links"]["self"] == {"href": f"/api/v3/projects/{venture.pk}", "title": "Venture"}
    assert embedded["principal"]["_type"] == "User" and embedded["principal"]["id"] == crew["member"].pk
    assert embedded["roles"][0]["_type"] == "Role" and embedded["roles"][0]["id"] == 100
    assert embedded["roles"][0]["name"] == "Member"


def test_the_owner_gets_the_action_links_a_viewer_does_not(boss, venture, crew):
    row = row_of(venture, crew["member"])
    links = v3_client(boss).get(f"/api/v3/memberships/{row.pk}").json()["_links"]
    assert links["updateImmediately"] == {"href": f"/api/v3/memberships/{row.pk}", "method": "patch",
                                          "title": "Update membership"}
    assert links["update"]["href"] == f"/api/v3/memberships/{row.pk}/form"
    assert links["delete"]["method"] == "delete"
    for role in ("viewer", "admin"):
        links = v3_client(crew[role]).get(f"/api/v3/memberships/{row.pk}").json()["_links"]
        assert not {"update", "updateImmediately", "delete"} & set(links)


def test_a_group_membership_embeds_the_group(owner, boss, venture):
    team = group_create(actor=owner, name="Engineering")
    group_member_add(actor=owner, group=team, user=boss)
    row = membership_add(actor=boss, project=venture, group=team, role=Role.VIEWER)
    data = v3_client(boss).get(f"/api/v3/memberships/{row.pk}").json()
    assert data["_links"]["principal"] == {"href": f"/api/v3/groups/{team.pk}", "title": "Engineering"}
    assert data["_embedded"]["principal"]["_type"] == "Group"
    assert data["_embedded"]["principal"]["_links"]["members"] == [
        {"href": f"/api/v3/users/{boss.pk}", "title": "Bea Boss"}]


def test_a_fellow_member_does_not_read_emails_in_embedded_principals(boss, venture, crew):
    answer = v3_client(crew["viewer"]).get("/api/v3/memberships")
    people = {e["_embedded"]["principal"]["id"]: e["_embedded"]["principal"]
              for e in answer.json()["_embedded"]["elements"]}
    assert "email" not in people[crew["member"].pk] and "login" not in people[crew["member"].pk]
    assert "email" not in people[boss.pk]
    assert people[crew["viewer"].pk]["email"] == "viewer@example.com"


# ---------------------------------------------------------------- visibility

def test_an_outsider_cannot_list_or_get_a_projects_memberships(venture, crew, outsider):
    client = v3_client(outsider)
    assert ids(client.get("/api/v3/memberships")) == []
    assert ids(client.get("/api/v3/memberships", {"filters": filters(("project", "=", [str(venture.pk)]))})) == []
    assert_v3_error(client.get(f"/api/v3/memberships/{row_of(venture, crew['member']).pk}"), 404, "NotFound")


def test_memberships_of_a_deleted_membership_or_unknown_id_are_404(boss, venture, crew):
    row = row_of(venture, crew["member"])
    v3_client(boss).delete(f"/api/v3/memberships/{row.pk}", content_type="application/json")
    assert_v3_error(v3_client(boss).get(f"/api/v3/memberships/{row.pk}"), 404, "NotFound")
    assert_v3_error(v3_client(boss).get("/api/v3/memberships/987654"), 404, "NotFound")


def test_a_member_lists_only_the_projects_they_see(boss, venture, crew, owner):
    other = make_project(owner, "Elsewhere")
    listed = ids(v3_client(crew["viewer"]).get("/api/v3/memberships"))
    assert set(listed) == set(Membership.objects.filter(project=venture).values_list("pk", flat=True))
    assert not set(listed) & set(Membership.objects.filter(project=other).values_list("pk", flat=True))


# ---------------------------------------------------------------- paging and filters

def test_the_list_is_paged(boss, venture, crew):
    answer = v3_client(boss).get("/api/v3/memberships?pageSize=2&offset=3")
    data = answer.json()
    assert data["_type"] == "Collection" and data["total"] == 5 and data["count"] == 1
    assert data["pageSize"] == 2 and data["offset"] == 3 and "nextByOffset" not in data["_links"]
    assert ids(answer) == [Membership.objects.filter(project=venture).order_by("id").last().pk]


def test_a_page_of_memberships_costs_the_same_queries_however_many_rows(boss, venture, crew):
    client = v3_client(boss)
    client.get("/api/v3/memberships")
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v3/memberships?pageSize=2")
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v3/memberships?pageSize=5")
    assert len(large) == len(small)


def test_project_filter(boss, venture, crew):
    other = make_project(boss, "Second")
    answer = v3_client(boss).get("/api/v3/memberships", {"filters": filters(("project", "=", [str(other.pk)]))})
    assert ids(answer) == [Membership.objects.get(project=other).pk]


def test_principal_filter(boss, venture, crew):
    answer = v3_client(boss).get("/api/v3/memberships",
                                 {"filters": filters(("principal", "=", [str(crew["scheduler"].pk)]))})
    assert ids(answer) == [row_of(venture, crew["scheduler"]).pk]


def test_role_filter(boss, venture, crew):
    answer = v3_client(boss).get("/api/v3/memberships", {"filters": filters(("role", "=", ["300", "1"]))})
    assert ids(answer) == [row_of(venture, crew["viewer"]).pk, row_of(venture, crew["admin"]).pk]


def test_an_unknown_filter_is_400(boss):
    assert_v3_error(v3_client(boss).get("/api/v3/memberships", {"filters": filters(("colour", "=", ["1"]))}), 400,
                    "InvalidQuery")


# ---------------------------------------------------------------- create

def test_the_owner_adds_a_person_with_the_highest_of_the_roles_named(boss, venture):
    newcomer = make_user("newcomer")
    answer = v3_client(boss).post("/api/v3/memberships",
                                  body(venture, f"/api/v3/users/{newcomer.pk}", Role.VIEWER, Role.SCHEDULER),
                                  format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["_links"]["roles"] == [{"href": "/api/v3/roles/200", "title": "Scheduler"}]
    assert row_of(venture, newcomer).role == Role.SCHEDULER


def test_the_owner_adds_a_group(owner, boss, venture):
    team = group_create(actor=owner, name="Engineering")
    answer = v3_client(boss).post("/api/v3/memberships", body(venture, f"/api/v3/groups/{team.pk}", Role.MEMBER),
                                  format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["_embedded"]["principal"]["_type"] == "Group"
    assert Membership.objects.get(project=venture, group=team).role == Role.MEMBER


@pytest.mark.parametrize("make_body, attribute", [
    (lambda p, u: body(p, f"/api/v3/users/{u.pk}"), "roles"),
    (lambda p, u: body(p, f"/api/v3/users/{u.pk}", 7), "roles"),
    (lambda p, u: {"_links": {**body(p, f"/api/v3/users/{u.pk}", 1)["_links"], "roles": "/api/v3/roles/1"}},
     "roles"),
    (lambda p, u: {"_links": {"project": {"href": f"/api/v3/projects/{p.pk}"},
                              "roles": [{"href": "/api/v3/roles/1"}]}}, "principal"),
    (lambda p, u: body(p, "/api/v3/users/999999", 1), "principal"),
    (lambda p, u: body(p, "/api/v3/groups/999999", 1), "principal"),
    (lambda p, u: body(p, "/api/v3/statuses/1", 1), "principal"),
    (lambda p, u: {"_links": {"principal": {"href": f"/api/v3/users/{u.pk}"},
                              "roles": [{"href": "/api/v3/roles/1"}]}}, "project"),
    (lambda p, u: {"_links": {**body(p, f"/api/v3/users/{u.pk}", 1)["_links"],
                              "project": {"href": "/api/v3/work_packages/1"}}}, "project"),
])
def test_a_bad_create_body_is_422_naming_the_property_and_adds_nothing(boss, venture, make_body, attribute):
    newcomer = make_user("newcomer")
    before = state(venture)
    answer = v3_client(boss).post("/api/v3/memberships", make_body(venture, newcomer), format="json")
    assert answer.status_code == 422, answer.content
    assert answer.json()["_embedded"]["details"]["attribute"] == attribute
    assert state(venture) == before


def test_a_locked_person_cannot_be_added(owner, venture):
    gone = make_user("gone")
    gone.is_active = False
    gone.save()
    before = state(venture)
    answer = v3_client(owner).post("/api/v3/memberships", body(venture, f"/api/v3/users/{gone.pk}", 1), format="json")
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="principal")
    assert state(venture) == before


def test_a_duplicate_membership_is_422(boss, venture, crew):
    before = state(venture)
    answer = v3_client(boss).post("/api/v3/memberships", body(venture, f"/api/v3/users/{crew['viewer'].pk}", 100),
                                  format="json")
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="principal")
    assert state(venture) == before


@pytest.mark.parametrize("role", ["viewer", "member", "scheduler", "admin"])
def test_a_member_below_owner_cannot_add_memberships(venture, crew, role):
    newcomer = make_user("newcomer")
    before = state(venture)
    answer = v3_client(crew[role]).post("/api/v3/memberships", body(venture, f"/api/v3/users/{newcomer.pk}", 1),
                                        format="json")
    assert_v3_error(answer, 403, "MissingPermission")
    assert state(venture) == before


def test_an_outsider_adding_to_a_hidden_project_gets_404(venture, outsider):
    before = state(venture)
    answer = v3_client(outsider).post("/api/v3/memberships", body(venture, f"/api/v3/users/{outsider.pk}", 1),
                                      format="json")
    assert_v3_error(answer, 404, "NotFound")
    assert state(venture) == before


def test_an_owner_cannot_give_a_role_as_high_as_their_own(boss, venture):
    newcomer = make_user("newcomer")
    before = state(venture)
    answer = v3_client(boss).post("/api/v3/memberships", body(venture, f"/api/v3/users/{newcomer.pk}", Role.OWNER),
                                  format="json")
    assert_v3_error(answer, 403, "MissingPermission")
    assert state(venture) == before


# ---------------------------------------------------------------- update

def test_the_owner_changes_a_role(boss, venture, crew):
    row = row_of(venture, crew["viewer"])
    answer = v3_client(boss).patch(f"/api/v3/memberships/{row.pk}",
                                   {"_links": {"roles": [{"href": "/api/v3/roles/300"}]}}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["_embedded"]["roles"][0]["name"] == "Admin"
    assert row_of(venture, crew["viewer"]).role == Role.ADMIN


def test_a_patch_without_roles_changes_nothing(boss, venture, crew):
    row = row_of(venture, crew["viewer"])
    before = state(venture)
    answer = v3_client(boss).patch(f"/api/v3/memberships/{row.pk}", {"_links": {}}, format="json")
    assert answer.status_code == 200 and state(venture) == before


@pytest.mark.parametrize("role", ["member", "admin"])
def test_a_member_below_owner_cannot_change_roles(venture, crew, role):
    row = row_of(venture, crew["viewer"])
    before = state(venture)
    answer = v3_client(crew[role]).patch(f"/api/v3/memberships/{row.pk}",
                                         {"_links": {"roles": [{"href": "/api/v3/roles/100"}]}}, format="json")
    assert_v3_error(answer, 403, "MissingPermission")
    assert state(venture) == before


def test_an_outsider_changing_a_role_gets_404(venture, crew, outsider):
    row = row_of(venture, crew["viewer"])
    before = state(venture)
    answer = v3_client(outsider).patch(f"/api/v3/memberships/{row.pk}",
                                       {"_links": {"roles": [{"href": "/api/v3/roles/300"}]}}, format="json")
    assert_v3_error(answer, 404, "NotFound")
    assert state(venture) == before


def test_the_last_owner_cannot_be_demoted_even_by_themself(boss, venture):
    row = row_of(venture, boss)
    before = state(venture)
    answer = v3_client(boss).patch(f"/api/v3/memberships/{row.pk}",
                                    {"_links": {"roles": [{"href": "/api/v3/roles/300"}]}}, format="json")
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="roles")
    assert state(venture) == before


def test_a_patch_with_no_roles_is_422(boss, venture, crew):
    row = row_of(venture, crew["viewer"])
    before = state(venture)
    answer = v3_client(boss).patch(f"/api/v3/memberships/{row.pk}", {"_links": {"roles": []}}, format="json")
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="roles")
    assert state(venture) == before


@pytest.mark.parametrize("name, target", [("project", "/api/v3/projects/999"), ("principal", "/api/v3/users/1")])
def test_a_membership_cannot_move_to_another_project_or_principal(boss, venture, crew, name, target):
    row = row_of(venture, crew["viewer"])
    before = state(venture)
    answer = v3_client(boss).patch(f"/api/v3/memberships/{row.pk}", {"_links": {
        name: {"href": target}, "roles": [{"href": "/api/v3/roles/100"}]}}, format="json")
    assert_v3_error(answer, 422, "PropertyIsReadOnly", attribute=name)
    assert state(venture) == before


# ---------------------------------------------------------------- delete

def test_the_owner_removes_a_member(boss, venture, crew):
    row = row_of(venture, crew["member"])
    answer = v3_client(boss).delete(f"/api/v3/memberships/{row.pk}", content_type="application/json")
    assert answer.status_code == 204 and answer.content == b""
    assert not Membership.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("role", ["member", "admin"])
def test_a_member_below_owner_cannot_remove_someone_else(venture, crew, role):
    row = row_of(venture, crew["viewer"])
    before = state(venture)
    answer = v3_client(crew[role]).delete(f"/api/v3/memberships/{row.pk}", content_type="application/json")
    assert_v3_error(answer, 403, "MissingPermission")
    assert state(venture) == before


def test_an_outsider_removing_a_member_gets_404(venture, crew, outsider):
    before = state(venture)
    answer = v3_client(outsider).delete(f"/api/v3/memberships/{row_of(venture, crew['viewer']).pk}",
                                        content_type="application/json")
    assert_v3_error(answer, 404, "NotFound")
    assert state(venture) == before


def test_the_last_owner_cannot_be_removed(boss, venture, crew):
    before = state(venture)
    answer = v3_client(boss).delete(f"/api/v3/memberships/{row_of(venture, boss).pk}",
                                    content_type="application/json")
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="principal")
    assert state(venture) == before


# ---------------------------------------------------------------- form, schema, available projects

def test_a_valid_form_offers_commit_and_writes_nothing(boss, venture):
    newcomer = make_user("newcomer")
    before = state(venture)
    answer = v3_client(boss).post("/api/v3/memberships/form", body(venture, f"/api/v3/users/{newcomer.pk}", 100),
                                  format="json")
    assert answer.status_code == 200, answer.content
    form = answer.json()
    assert form["_type"] == "Form" and form["_embedded"]["validationErrors"] == {}
    assert form["_embedded"]["payload"]["_links"]["principal"] == {"href": f"/api/v3/users/{newcomer.pk}"}
    assert form["_embedded"]["schema"]["_type"] == "Schema"
    assert form["_links"]["commit"] == {"href": "/api/v3/memberships", "method": "post",
                                        "title": "Create membership"}
    assert form["_links"]["validate"]["href"] == "/api/v3/memberships/form"
    assert state(venture) == before


def test_an_invalid_form_names_the_property_and_offers_no_commit(boss, venture, crew):
    answer = v3_client(boss).post("/api/v3/memberships/form",
                                  body(venture, f"/api/v3/users/{crew['viewer'].pk}", 100), format="json")
    form = answer.json()
    assert answer.status_code == 200 and "commit" not in form["_links"]
    assert form["_embedded"]["validationErrors"]["principal"]["_type"] == "Error"
    no_roles = v3_client(boss).post("/api/v3/memberships/form", body(venture, f"/api/v3/users/{boss.pk}"),
                                    format="json").json()
    assert set(no_roles["_embedded"]["validationErrors"]) == {"roles"}


def test_the_form_is_refused_to_those_who_may_not_add(venture, crew, outsider):
    newcomer = make_user("newcomer")
    payload = body(venture, f"/api/v3/users/{newcomer.pk}", 1)
    assert_v3_error(v3_client(crew["admin"]).post("/api/v3/memberships/form", payload, format="json"), 403,
                    "MissingPermission")
    assert_v3_error(v3_client(outsider).post("/api/v3/memberships/form", payload, format="json"), 404, "NotFound")


def test_the_update_form_checks_a_role_change_without_writing(boss, venture, crew):
    before = state(venture)
    row = row_of(venture, crew["viewer"])
    good = v3_client(boss).post(f"/api/v3/memberships/{row.pk}/form",
                                {"_links": {"roles": [{"href": "/api/v3/roles/300"}]}}, format="json").json()
    assert good["_embedded"]["validationErrors"] == {}
    assert good["_links"]["commit"]["method"] == "patch"
    last = v3_client(boss).post(f"/api/v3/memberships/{row_of(venture, boss).pk}/form",
                                 {"_links": {"roles": [{"href": "/api/v3/roles/1"}]}}, format="json").json()
    assert set(last["_embedded"]["validationErrors"]) == {"roles"}
    assert state(venture) == before


def test_the_schema_describes_the_writable_links(boss):
    schema = v3_client(boss).get("/api/v3/memberships/schema").json()
    assert schema["_type"] == "Schema"
    for name in ("id", "createdAt", "updatedAt", "project", "principal", "roles"):
        assert {"type", "name", "required", "hasDefault", "writable"} <= set(schema[name])
    assert schema["id"]["writable"] is False
    assert schema["roles"]["type"] == "[]Role" and schema["roles"]["writable"] is True
    assert [r["id"] for r in schema["roles"]["_embedded"]["allowedValues"]] == [1, 100, 200, 300, 400]
    assert schema["project"]["_links"]["allowedValues"]["href"] == "/api/v3/memberships/available_projects"


def test_available_projects_are_those_whose_members_the_caller_manages(owner, boss, venture, crew):
    elsewhere = make_project(owner, "Elsewhere")
    membership_add(actor=owner, project=elsewhere, user=boss, role=Role.ADMIN)
    mine = make_project(boss, "Mine")
    answer = v3_client(boss).get("/api/v3/memberships/available_projects")
    assert ids(answer) == [venture.pk, mine.pk]
    assert answer.json()["_embedded"]["elements"][0]["_type"] == "Project"
    assert ids(v3_client(crew["admin"]).get("/api/v3/memberships/available_projects")) == []
