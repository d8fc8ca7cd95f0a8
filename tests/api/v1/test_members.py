"""Contract of ``/api/v1/projects/{id}/members/``: Owner-only adds and role changes below the caller's role, the
project's default role, self-removal, the last Owner kept, duplicates refused."""

from __future__ import annotations

from keelplan.portfolio.models import Membership, Role
from keelplan.portfolio.services import membership_add, project_update

from conftest import client_for, make_project, make_user

from .contract import (
    EndpointContract, assert_error, assert_nothing_written, db_state, json_body, result_ids,
)


def members_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/members/"


class TestMemberContract(EndpointContract):
    model = Membership
    change_entity = "membership"
    detail_fields = ("id", "project", "user", "user_detail", "role", "role_label", "joined_at", "role_changed_at",
                     "lock_version")

    def list_url(self, ctx):
        return members_url(ctx.project)

    def make(self, ctx):
        return membership_add(actor=ctx.owner, project=ctx.project, user=make_user(full_name="Nora Newcomer"),
                              role=Role.MEMBER)

    def create_payloads(self, ctx):
        return [
            {"user": make_user().pk, "role": 200},
            {"user": make_user().pk, "role": 1},
            {"user": make_user().pk, "role": 300},
        ]

    def put_payload(self, ctx, obj):
        return {"role": 300}

    def patch_payloads(self, ctx, obj):
        return [{"role": 200}, {"role": 1}, {"role": 100}]

    def bad_create_payloads(self, ctx):
        fresh = make_user().pk
        inactive = make_user()
        inactive.is_active = False
        inactive.save(update_fields=["is_active"])
        return [
            ({}, "user"),
            ({"role": 100}, "user"),
            ({"user": None}, "user"),
            ({"user": "abc"}, "user"),
            ({"user": 99999999}, "user"),
            ({"user": 99999999999999999999}, "user"),
            ({"user": 0}, "user"),
            ({"user": [fresh]}, "user"),
            ({"user": {"id": fresh}}, "user"),
            ({"user": inactive.pk}, "user"),
            ({"user": fresh, "role": 7}, "role"),
            ({"user": fresh, "role": "Admin"}, "role"),
            ({"user": fresh, "role": None}, "role"),
            ({"user": fresh, "role": 99999999999999999999}, "role"),
        ]

    def bad_update_payloads(self, ctx, obj):
        return [({"role": 0}, "role"), ({"role": "Viewer"}, "role"), ({"role": 250}, "role"), ({"role": None}, "role")]

    def reflected(self, payload):
        return {k: v for k, v in payload.items() if k != "lock_version"}


LABELS = {1: "Viewer", 100: "Member", 200: "Scheduler", 300: "Admin", 400: "Owner"}


def test_role_labels(project, members, api):
    rows = json_body(api.get(members_url(project)))["results"]
    assert {row["user_detail"]["username"]: (row["role"], row["role_label"]) for row in rows} == {
        name: (role, LABELS[role]) for name, role in
        (("owner", 400), ("viewer", 1), ("member", 100), ("scheduler", 200), ("admin", 300))
    }
    assert set(rows[0]["user_detail"]) >= {"id", "username", "full_name"}


def test_added_member_gets_the_projects_default_role(owner, project, api):
    project_update(actor=owner, project=project, default_member_role=Role.SCHEDULER)
    newcomer = make_user()
    body = json_body(api.post(members_url(project), {"user": newcomer.pk}, format="json"))
    assert (body["user"], body["role"], body["role_label"]) == (newcomer.pk, 200, "Scheduler")
    assert body["project"] == project.pk


def test_default_role_is_member_when_the_project_says_nothing(project, api):
    body = json_body(api.post(members_url(project), {"user": make_user().pk}, format="json"))
    assert (body["role"], body["role_label"]) == (100, "Member")


def test_only_an_owner_adds_members(project, members):
    newcomer = make_user()
    before = db_state()
    for role in ("viewer", "member", "scheduler", "admin"):
        assert_error(client_for(members[role]).post(members_url(project), {"user": newcomer.pk, "role": 1},
                                                    format="json"), 403)
    assert_nothing_written(before, "add by non-owner")


def test_new_role_must_be_strictly_below_the_callers(project, api):
    newcomer = make_user()
    before = db_state()
    assert_error(api.post(members_url(project), {"user": newcomer.pk, "role": 400}, format="json"), 403, field="role")
    assert_nothing_written(before, "add as Owner")
    assert not Membership.objects.filter(project=project, user=newcomer).exists()


def test_role_change_to_owner_is_refused(project, members, api):
    membership = Membership.objects.get(project=project, user=members["admin"])
    before = db_state()
    assert_error(api.patch(f"{members_url(project)}{membership.pk}/", {"role": 400}, format="json"), 403, field="role")
    assert_nothing_written(before, "promotion to Owner")


def test_role_change_is_visible_with_its_label(project, members, api):
    membership = Membership.objects.get(project=project, user=members["viewer"])
    url = f"{members_url(project)}{membership.pk}/"
    body = json_body(api.patch(url, {"role": 300}, format="json"))
    assert (body["role"], body["role_label"]) == (300, "Admin")
    assert body["role_changed_at"] is not None
    reread = json_body(api.get(url))
    assert (reread["role"], reread["role_label"]) == (300, "Admin")


def test_owner_removes_another_member(project, members, api):
    membership = Membership.objects.get(project=project, user=members["scheduler"])
    assert api.delete(f"{members_url(project)}{membership.pk}/").status_code == 204
    assert membership.pk not in result_ids(api, members_url(project))
    assert_error(client_for(members["scheduler"]).get(f"/api/v1/projects/{project.pk}/"), 404)


def test_anyone_may_remove_themselves(project, members):
    for role in ("viewer", "member", "scheduler", "admin"):
        user = members[role]
        membership = Membership.objects.get(project=project, user=user)
        client = client_for(user)
        assert client.delete(f"{members_url(project)}{membership.pk}/").status_code == 204, role
        assert_error(client.get(members_url(project)), 404)


def test_non_owner_cannot_remove_someone_else(project, members):
    target = Membership.objects.get(project=project, user=members["viewer"])
    before = db_state()
    assert_error(client_for(members["admin"]).delete(f"{members_url(project)}{target.pk}/"), 403)
    assert_nothing_written(before, "removal by admin")


def test_last_owner_cannot_be_removed_or_demoted(owner, project, api):
    own = Membership.objects.get(project=project, user=owner)
    url = f"{members_url(project)}{own.pk}/"
    before = db_state()
    assert_error(api.delete(url), 400, code="last_owner")
    assert_error(api.patch(url, {"role": 300}, format="json"), 400, field="role", code="last_owner")
    assert_error(api.put(url, {"role": 1}, format="json"), 400, code="last_owner")
    assert_nothing_written(before, "last owner")
    assert json_body(api.get(url))["role"] == 400


def test_duplicate_membership_is_409(project, members, api):
    before = db_state()
    body = assert_error(api.post(members_url(project), {"user": members["viewer"].pk, "role": 100}, format="json"),
                        409, field="user", code="duplicate_membership")
    assert "already" in body["detail"]
    assert_error(api.post(members_url(project), {"user": members["owner"].pk, "role": 1}, format="json"), 409)
    assert_nothing_written(before, "duplicate membership")


def test_removed_member_can_be_added_again(project, members, api):
    membership = Membership.objects.get(project=project, user=members["member"])
    assert api.delete(f"{members_url(project)}{membership.pk}/").status_code == 204
    response = api.post(members_url(project), {"user": members["member"].pk, "role": 200}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["id"] != membership.pk


def test_members_of_an_unknown_or_foreign_project_are_404(project, outsider, api):
    before = db_state()
    for url in ("/api/v1/projects/99999999/members/", "/api/v1/projects/abc/members/",
                "/api/v1/projects/99999999999999999999/members/"):
        assert_error(api.get(url), 404)
        assert_error(api.post(url, {"user": outsider.pk}, format="json"), 404)
    assert_error(client_for(outsider).get(members_url(project)), 404)
    assert_error(client_for(outsider).post(members_url(project), {"user": outsider.pk, "role": 1}, format="json"), 404)
    assert_nothing_written(before, "members of unknown projects")


def test_membership_of_another_project_is_404_under_this_one(owner, project, api):
    other = make_project(owner, name="Other")
    foreign = membership_add(actor=owner, project=other, user=make_user(), role=Role.VIEWER)
    assert_error(api.get(f"{members_url(project)}{foreign.pk}/"), 404)
    before = db_state()
    assert_error(api.patch(f"{members_url(project)}{foreign.pk}/", {"role": 100}, format="json"), 404)
    assert_error(api.delete(f"{members_url(project)}{foreign.pk}/"), 404)
    assert_nothing_written(before, "membership through the wrong project")
