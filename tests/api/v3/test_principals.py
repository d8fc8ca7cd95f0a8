"""The v3 principals: users, groups, both at once, and a project's available assignees -- their shapes, paging,
filters, who sees what, and every write refused as an attack that leaves the data as it was."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from keelplan.accounts.models import Group, GroupMember, WorkspaceRole
from keelplan.accounts.services import group_create, group_member_add
from keelplan.portfolio.models import Membership, Role
from keelplan.portfolio.services import membership_add

from conftest import make_project, make_user

from .conftest import assert_v3_error, v3_client

pytestmark = pytest.mark.django_db
User = get_user_model()


def filters(*entries) -> str:
    return json.dumps([{name: {"operator": op, "values": values}} for name, op, values in entries])


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.content[:500]
    return [row["id"] for row in answer.json()["_embedded"]["elements"]]


def kinds(answer) -> list[tuple[str, int]]:
    return [(row["_type"], row["id"]) for row in answer.json()["_embedded"]["elements"]]


def user_state(user) -> tuple:
    user = User.objects.get(pk=user.pk)
    return user.username, user.full_name, user.email, user.is_active, user.workspace_role


def group_state(group) -> tuple:
    group = Group.all_objects.get(pk=group.pk)
    return (group.name, group.parent_id, group.deleted_at,
            sorted(GroupMember.objects.filter(group=group).values_list("user_id", flat=True)))


@pytest.fixture
def ana(db):
    return make_user("ana", full_name="Ana Lopez", email="ana@example.com")


@pytest.fixture
def locked(db):
    person = make_user("gone", full_name="Gone Person")
    person.is_active = False
    person.save()
    return person


@pytest.fixture
def team(owner, ana):
    group = group_create(actor=owner, name="Engineering")
    group_member_add(actor=owner, group=group, user=ana)
    return group


# ---------------------------------------------------------------- users: shapes

def test_users_me_is_the_caller_with_their_own_login_and_email(ana):
    body = v3_client(ana).get("/api/v3/users/me").json()
    assert body["_type"] == "User" and body["id"] == ana.pk
    assert body["name"] == "Ana Lopez" and body["firstName"] == "Ana" and body["lastName"] == "Lopez"
    assert body["login"] == "ana" and body["email"] == "ana@example.com"
    assert body["admin"] is False and body["status"] == "active"
    assert body["language"] == "en" and body["avatar"] == ""
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")
    assert body["_links"]["self"] == {"href": f"/api/v3/users/{ana.pk}", "title": "Ana Lopez"}
    assert body["_links"]["memberships"]["title"] == "Memberships"
    assert "principal" in body["_links"]["memberships"]["href"]
    assert body["_links"]["showUser"]["href"] == f"/users/{ana.pk}"


def test_another_person_does_not_see_login_or_email(ana, outsider):
    body = v3_client(outsider).get(f"/api/v3/users/{ana.pk}").json()
    assert body["name"] == "Ana Lopez"
    assert "login" not in body and "email" not in body


def test_a_workspace_admin_sees_login_email_and_the_update_link(owner, ana):
    body = v3_client(owner).get(f"/api/v3/users/{ana.pk}").json()
    assert body["login"] == "ana" and body["email"] == "ana@example.com"
    assert body["_links"]["updateImmediately"]["method"] == "patch"
    assert body["_links"]["updateImmediately"]["title"]


def test_a_non_admin_gets_no_action_links(ana, outsider):
    links = v3_client(outsider).get(f"/api/v3/users/{ana.pk}").json()["_links"]
    assert not {"updateImmediately", "lock", "unlock", "delete"} & set(links)


def test_unknown_and_malformed_user_ids_are_404(ana):
    client = v3_client(ana)
    assert_v3_error(client.get("/api/v3/users/999999"), 404, "NotFound")
    assert_v3_error(client.get("/api/v3/users/abc"), 404, "NotFound")
    assert_v3_error(client.get("/api/v3/users/99999999999999999999999"), 404, "NotFound")


def test_a_locked_user_is_hidden_from_others_but_shown_locked_to_admins(owner, ana, locked):
    assert_v3_error(v3_client(ana).get(f"/api/v3/users/{locked.pk}"), 404, "NotFound")
    body = v3_client(owner).get(f"/api/v3/users/{locked.pk}").json()
    assert body["status"] == "locked" and "showUser" not in body["_links"]


# ---------------------------------------------------------------- users: list, paging, filters

def test_the_user_list_pages_with_openproject_offsets(owner):
    for n in range(4):
        make_user(f"p{n}")
    answer = v3_client(owner).get("/api/v3/users?pageSize=2&offset=2")
    body = answer.json()
    assert body["_type"] == "Collection" and body["total"] == 5 and body["count"] == 2
    assert body["pageSize"] == 2 and body["offset"] == 2
    assert "nextByOffset" in body["_links"] and "previousByOffset" in body["_links"]
    assert ids(answer) == list(User.objects.order_by("id").values_list("id", flat=True))[2:4]


def test_the_user_list_shows_locked_people_to_admins_only(owner, ana, locked):
    assert locked.pk in ids(v3_client(owner).get("/api/v3/users"))
    assert locked.pk not in ids(v3_client(ana).get("/api/v3/users"))


def test_status_filter(owner, ana, locked):
    client = v3_client(owner)
    assert ids(client.get("/api/v3/users", {"filters": filters(("status", "=", ["locked"]))})) == [locked.pk]
    assert locked.pk not in ids(client.get("/api/v3/users", {"filters": filters(("status", "=", ["active"]))}))


def test_name_filter_matches_login_and_name(owner, ana):
    client = v3_client(owner)
    assert ids(client.get("/api/v3/users", {"filters": filters(("name", "~", ["lopez"]))})) == [ana.pk]
    assert ids(client.get("/api/v3/users", {"filters": filters(("name", "~", ["ana"]))})) == [ana.pk]


def test_name_filter_finds_an_address_only_whole_for_non_admins(owner, ana, outsider):
    client = v3_client(outsider)
    assert ids(client.get("/api/v3/users", {"filters": filters(("name", "~", ["example.com"]))})) == []
    assert ids(client.get("/api/v3/users", {"filters": filters(("name", "~", ["ana@example.com"]))})) == [ana.pk]
    admin = v3_client(owner)
    assert ids(admin.get("/api/v3/users", {"filters": filters(("name", "~", ["example.com"]))})) == [ana.pk]


def test_login_filter(owner, ana):
    answer = v3_client(owner).get("/api/v3/users", {"filters": filters(("login", "=", ["ANA"]))})
    assert ids(answer) == [ana.pk]


def test_group_filter_reaches_subgroup_members(owner, ana, team):
    sub = group_create(actor=owner, name="Backend", parent=team)
    bob = make_user("bob")
    group_member_add(actor=owner, group=sub, user=bob)
    client = v3_client(owner)
    assert ids(client.get("/api/v3/users", {"filters": filters(("group", "=", [str(team.pk)]))})) == [ana.pk, bob.pk]
    assert ids(client.get("/api/v3/users", {"filters": filters(("group", "=", [str(sub.pk)]))})) == [bob.pk]


def test_id_filter(owner, ana, outsider):
    answer = v3_client(owner).get("/api/v3/users", {"filters": filters(("id", "=", [str(ana.pk)]))})
    assert ids(answer) == [ana.pk]


def test_an_unknown_filter_or_bad_value_is_400_invalid_query(owner):
    client = v3_client(owner)
    assert_v3_error(client.get("/api/v3/users", {"filters": filters(("colour", "=", ["red"]))}), 400, "InvalidQuery")
    assert_v3_error(client.get("/api/v3/users", {"filters": filters(("status", "=", ["asleep"]))}), 400,
                    "InvalidQuery")
    assert_v3_error(client.get("/api/v3/users", {"filters": "[not json"}), 400, "InvalidQuery")


# ---------------------------------------------------------------- users: writes

def test_an_admin_creates_a_user(owner):
    answer = v3_client(owner).post("/api/v3/users", {
        "login": "newbie", "password": "a-long-password-9", "firstName": "New", "lastName": "Person",
        "email": "new@example.com", "admin": False, "status": "active"}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["_type"] == "User" and body["login"] == "newbie" and body["name"] == "New Person"
    person = User.objects.get(username="newbie")
    assert person.email == "new@example.com" and person.check_password("a-long-password-9")
    assert person.workspace_role == WorkspaceRole.USER


def test_an_admin_creates_an_admin(owner):
    answer = v3_client(owner).post("/api/v3/users", {"login": "boss", "password": "a-long-password-9",
                                                     "admin": True}, format="json")
    assert answer.status_code == 201 and answer.json()["admin"] is True
    assert User.objects.get(username="boss").is_workspace_admin


def test_a_non_admin_cannot_create_users(ana):
    before = User.objects.count()
    answer = v3_client(ana).post("/api/v3/users", {"login": "sneaky", "password": "a-long-password-9"},
                                 format="json")
    assert_v3_error(answer, 403, "MissingPermission")
    assert User.objects.count() == before


@pytest.mark.parametrize("body, attribute", [
    ({"password": "a-long-password-9"}, "login"),
    ({"login": "has space", "password": "a-long-password-9"}, "login"),
    ({"login": "ok", "password": "a-long-password-9", "email": "not-an-address"}, "email"),
    ({"login": "ok", "password": "a-long-password-9", "admin": "yes"}, "admin"),
    ({"login": "ok", "password": "a-long-password-9", "status": "locked"}, "status"),
    ({"login": "ok", "password": "a-long-password-9", "firstName": 5}, "firstName"),
])
def test_a_bad_user_body_is_422_naming_the_property(owner, body, attribute):
    before = User.objects.count()
    assert_v3_error(v3_client(owner).post("/api/v3/users", body, format="json"), 422,
                    "PropertyFormatError" if attribute in ("admin", "firstName") else "PropertyConstraintViolation",
                    attribute=attribute)
    assert User.objects.count() == before


def test_a_taken_login_is_422(owner, ana):
    answer = v3_client(owner).post("/api/v3/users", {"login": "ana", "password": "a-long-password-9"},
                                   format="json")
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="login")
    assert User.objects.filter(username="ana").count() == 1


def test_an_admin_makes_someone_an_admin(owner, ana):
    answer = v3_client(owner).patch(f"/api/v3/users/{ana.pk}", {"admin": True}, format="json")
    assert answer.status_code == 200 and answer.json()["admin"] is True
    assert User.objects.get(pk=ana.pk).workspace_role == WorkspaceRole.ADMIN


def test_a_non_admin_cannot_make_anyone_admin_not_even_themself(ana, outsider):
    for target in (outsider, ana):
        before = user_state(target)
        answer = v3_client(ana).patch(f"/api/v3/users/{target.pk}", {"admin": True}, format="json")
        assert_v3_error(answer, 403, "MissingPermission")
        assert user_state(target) == before


def test_a_non_admin_patching_someone_they_cannot_see_gets_404(ana, locked):
    before = user_state(locked)
    assert_v3_error(v3_client(ana).patch(f"/api/v3/users/{locked.pk}", {"admin": True}, format="json"), 404,
                    "NotFound")
    assert user_state(locked) == before


def test_the_last_admin_cannot_step_down(owner):
    answer = v3_client(owner).patch("/api/v3/users/me", {"admin": False}, format="json")
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="admin")
    assert User.objects.get(pk=owner.pk).is_workspace_admin


def test_a_patch_repeating_unchanged_values_is_accepted_and_changes_nothing(ana):
    client = v3_client(ana)
    shown = client.get("/api/v3/users/me").json()
    before = user_state(ana)
    answer = client.patch("/api/v3/users/me", {k: shown[k] for k in ("login", "firstName", "lastName", "email",
                                                                       "admin", "status")}, format="json")
    assert answer.status_code == 200
    assert user_state(ana) == before


def test_a_patch_of_a_property_no_service_changes_is_422_read_only(ana):
    before = user_state(ana)
    answer = v3_client(ana).patch("/api/v3/users/me", {"language": "de"}, format="json")
    assert_v3_error(answer, 422, "PropertyIsReadOnly", attribute="language")
    assert user_state(ana) == before


def test_deleting_a_user_is_refused_and_changes_nothing(owner, ana, outsider, locked):
    before = user_state(ana)
    assert_v3_error(v3_client(outsider).delete(f"/api/v3/users/{ana.pk}", content_type="application/json"), 403,
                    "MissingPermission")
    assert_v3_error(v3_client(outsider).delete(f"/api/v3/users/{locked.pk}", content_type="application/json"),
                    404, "NotFound")
    assert_v3_error(v3_client(owner).delete(f"/api/v3/users/{ana.pk}", content_type="application/json"), 403,
                    "MissingPermission")
    assert user_state(ana) == before


# ---------------------------------------------------------------- groups

def test_a_group_shows_members_parent_and_memberships(owner, ana, team):
    sub = group_create(actor=owner, name="Backend", parent=team)
    group_member_add(actor=owner, group=sub, user=ana)
    body = v3_client(ana).get(f"/api/v3/groups/{sub.pk}").json()
    assert body["_type"] == "Group" and body["id"] == sub.pk and body["name"] == "Backend"
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")
    assert body["_links"]["self"] == {"href": f"/api/v3/groups/{sub.pk}", "title": "Backend"}
    assert body["_links"]["members"] == [{"href": f"/api/v3/users/{ana.pk}", "title": "Ana Lopez"}]
    assert body["_links"]["parent"] == {"href": f"/api/v3/groups/{team.pk}", "title": "Engineering"}
    assert body["_links"]["memberships"]["title"] == "Memberships"
    assert [m["_type"] for m in body["_embedded"]["members"]] == ["User"]
    assert not {"updateImmediately", "delete"} & set(body["_links"])


def test_admins_get_the_group_action_links(owner, team):
    links = v3_client(owner).get(f"/api/v3/groups/{team.pk}").json()["_links"]
    assert links["updateImmediately"]["method"] == "patch" and links["delete"]["method"] == "delete"
    assert "parent" not in links


def test_the_group_list_is_paged(owner):
    for name in ("A", "B", "C"):
        group_create(actor=owner, name=name)
    body = v3_client(owner).get("/api/v3/groups?pageSize=2&offset=2").json()
    assert body["total"] == 3 and body["count"] == 1
    assert [g["name"] for g in body["_embedded"]["elements"]] == ["C"]


def test_an_unknown_group_is_404(ana):
    assert_v3_error(v3_client(ana).get("/api/v3/groups/424242"), 404, "NotFound")


def test_an_admin_creates_a_group_with_members_and_parent(owner, ana, outsider, team):
    answer = v3_client(owner).post("/api/v3/groups", {"name": "Frontend", "_links": {
        "members": [{"href": f"/api/v3/users/{ana.pk}"}, {"href": f"/api/v3/users/{outsider.pk}"}],
        "parent": {"href": f"/api/v3/groups/{team.pk}"}}}, format="json")
    assert answer.status_code == 201, answer.content
    group = Group.objects.get(name="Frontend")
    assert group.parent_id == team.pk
    assert set(GroupMember.objects.filter(group=group).values_list("user_id", flat=True)) == {ana.pk, outsider.pk}
    assert len(answer.json()["_links"]["members"]) == 2


def test_a_non_admin_cannot_create_a_group(ana):
    assert_v3_error(v3_client(ana).post("/api/v3/groups", {"name": "Mine"}, format="json"), 403, "MissingPermission")
    assert not Group.objects.filter(name="Mine").exists()


@pytest.mark.parametrize("body, attribute", [
    ({"name": "Engineering"}, "name"),
    ({}, "name"),
    ({"name": "X", "_links": {"members": [{"href": "/api/v3/users/999999"}]}}, "members"),
    ({"name": "X", "_links": {"members": [{"href": "/api/v3/groups/1"}]}}, "members"),
    ({"name": "X", "_links": {"parent": {"href": "/api/v3/groups/999999"}}}, "parent"),
])
def test_a_bad_group_body_is_422_and_creates_nothing(owner, team, body, attribute):
    before = Group.objects.count()
    answer = v3_client(owner).post("/api/v3/groups", body, format="json")
    assert answer.status_code == 422 and answer.json()["_embedded"]["details"]["attribute"] == attribute
    assert Group.objects.count() == before


def test_an_admin_renames_a_group_and_replaces_its_members(owner, ana, outsider, team):
    answer = v3_client(owner).patch(f"/api/v3/groups/{team.pk}", {
        "name": "Platform", "_links": {"members": [{"href": f"/api/v3/users/{outsider.pk}"}]}}, format="json")
    assert answer.status_code == 200, answer.content
    assert group_state(team)[0] == "Platform" and group_state(team)[3] == [outsider.pk]
    assert answer.json()["_links"]["members"] == [{"href": f"/api/v3/users/{outsider.pk}", "title": "outsider"}]


def test_a_non_admin_cannot_change_a_group(ana, outsider, team):
    before = group_state(team)
    answer = v3_client(ana).patch(f"/api/v3/groups/{team.pk}", {
        "name": "Mine", "_links": {"members": [{"href": f"/api/v3/users/{outsider.pk}"}]}}, format="json")
    assert_v3_error(answer, 403, "MissingPermission")
    assert group_state(team) == before


def test_a_group_cannot_move_under_its_own_subgroup(owner, team):
    sub = group_create(actor=owner, name="Backend", parent=team)
    before = group_state(team)
    answer = v3_client(owner).patch(f"/api/v3/groups/{team.pk}", {
        "name": "Renamed", "_links": {"parent": {"href": f"/api/v3/groups/{sub.pk}"}}}, format="json")
    assert_v3_error(answer, 422, "PropertyConstraintViolation", attribute="parent")
    assert group_state(team) == before


def test_a_failed_member_change_rolls_back_the_rename(owner, team):
    before = group_state(team)
    answer = v3_client(owner).patch(f"/api/v3/groups/{team.pk}", {
        "name": "Renamed", "_links": {"members": [{"href": "/api/v3/users/999999"}]}}, format="json")
    assert answer.status_code == 422
    assert group_state(team) == before


def test_an_admin_deletes_a_group_with_202_and_its_memberships_go(owner, project, team):
    held = membership_add(actor=owner, project=project, group=team, role=Role.MEMBER)
    answer = v3_client(owner).delete(f"/api/v3/groups/{team.pk}", content_type="application/json")
    assert answer.status_code == 202 and answer.content == b""
    assert not Group.objects.filter(pk=team.pk).exists()
    assert not Membership.objects.filter(pk=held.pk).exists()
    assert_v3_error(v3_client(owner).get(f"/api/v3/groups/{team.pk}"), 404, "NotFound")


def test_a_non_admin_cannot_delete_a_group(ana, team):
    before = group_state(team)
    assert_v3_error(v3_client(ana).delete(f"/api/v3/groups/{team.pk}", content_type="application/json"), 403,
                    "MissingPermission")
    assert group_state(team) == before


# ---------------------------------------------------------------- principals

def test_principals_list_users_then_groups(owner, ana, team):
    answer = v3_client(owner).get("/api/v3/principals")
    assert answer.json()["_type"] == "Collection"
    assert kinds(answer) == [("User", owner.pk), ("User", ana.pk), ("Group", team.pk)]


def test_principals_page_across_users_and_groups(owner, ana, team):
    second = group_create(actor=owner, name="Second")
    body = v3_client(owner).get("/api/v3/principals?pageSize=2&offset=2").json()
    assert body["total"] == 4 and body["count"] == 2
    assert [(e["_type"], e["id"]) for e in body["_embedded"]["elements"]] == [("Group", team.pk),
                                                                            ("Group", second.pk)]


def test_principals_type_filter(owner, ana, team):
    client = v3_client(owner)
    assert kinds(client.get("/api/v3/principals", {"filters": filters(("type", "=", ["Group"]))})) == [
        ("Group", team.pk)]
    assert kinds(client.get("/api/v3/principals", {"filters": filters(("type", "=", ["User"]))})) == [
        ("User", owner.pk), ("User", ana.pk)]
    assert_v3_error(client.get("/api/v3/principals", {"filters": filters(("type", "=", ["Robot"]))}), 400,
                    "InvalidQuery")


def test_principals_name_filter_covers_people_and_groups(owner, ana, team):
    client = v3_client(owner)
    assert kinds(client.get("/api/v3/principals", {"filters": filters(("name", "~", ["engin"]))})) == [
        ("Group", team.pk)]
    assert kinds(client.get("/api/v3/principals", {"filters": filters(("name", "~", ["lopez"]))})) == [
        ("User", ana.pk)]


def test_principals_member_filter_includes_people_reached_through_groups(owner, ana, outsider, team):
    project = make_project(owner, "Gemini")
    bob = make_user("bob")
    membership_add(actor=owner, project=project, user=bob, role=Role.VIEWER)
    membership_add(actor=owner, project=project, group=team, role=Role.MEMBER)
    answer = v3_client(owner).get("/api/v3/principals", {"filters": filters(("member", "=", [str(project.pk)]))})
    assert kinds(answer) == [("User", owner.pk), ("User", ana.pk), ("User", bob.pk), ("Group", team.pk)]


def test_the_member_filter_tells_an_outsider_nothing_about_a_hidden_project(owner, ana, outsider):
    project = make_project(owner, "Secret")
    membership_add(actor=owner, project=project, user=ana, role=Role.VIEWER)
    answer = v3_client(outsider).get("/api/v3/principals",
                                     {"filters": filters(("member", "=", [str(project.pk)]))})
    assert kinds(answer) == []


def test_principals_id_and_status_filters(owner, ana, locked, team):
    client = v3_client(owner)
    assert ("User", ana.pk) in kinds(client.get("/api/v3/principals",
                                                {"filters": filters(("id", "=", [str(ana.pk)]))}))
    assert kinds(client.get("/api/v3/principals", {"filters": filters(("status", "=", ["locked"]))})) == [
        ("User", locked.pk)]
    active = kinds(client.get("/api/v3/principals", {"filters": filters(("status", "=", ["active"]))}))
    assert ("Group", team.pk) in active and ("User", locked.pk) not in active


# ---------------------------------------------------------------- available assignees

def test_available_assignees_are_the_members_direct_and_through_groups(owner, ana, outsider, team):
    project = make_project(owner, "Gemini", identifier="gemini")
    bob = make_user("bob")
    membership_add(actor=owner, project=project, user=bob, role=Role.MEMBER)
    membership_add(actor=owner, project=project, group=team, role=Role.MEMBER)
    for ref in (project.pk, "gemini"):
        answer = v3_client(bob).get(f"/api/v3/projects/{ref}/available_assignees")
        assert ids(answer) == [owner.pk, ana.pk, bob.pk]
        body = answer.json()
        assert body["_links"]["self"]["href"].startswith(f"/api/v3/projects/{project.pk}/available_assignees")
        assert {e["_type"] for e in body["_embedded"]["elements"]} == {"User"}
        assert ["email" in e for e in body["_embedded"]["elements"]][:2] == [False, False]


def test_available_assignees_of_a_hidden_or_unknown_project_are_404(owner, outsider):
    project = make_project(owner, "Secret")
    client = v3_client(outsider)
    assert_v3_error(client.get(f"/api/v3/projects/{project.pk}/available_assignees"), 404, "NotFound")
    assert_v3_error(client.get(f"/api/v3/projects/{project.identifier}/available_assignees"), 404, "NotFound")
    assert_v3_error(client.get("/api/v3/projects/no-such/available_assignees"), 404, "NotFound")
