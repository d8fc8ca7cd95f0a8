"""The permissions module: roles through groups, staff, public projects, and ``can`` answering without writing.

Each permission is tried as an attack: the caller attempts the write, is refused, and the data is unchanged.
"""

from __future__ import annotations

import pytest

from keelplan.accounts.models import Group, GroupMember
from keelplan.accounts.services import (
    group_create, group_delete, group_member_add, group_member_remove, group_update,
)
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keelplan.permissions import Action, can, members_among, project_ids_visible, projects_visible, role_in
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_create, task_update
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.portfolio.services import membership_add, membership_remove, project_update

from conftest import client_for, make_project, make_user


@pytest.fixture
def world(db):
    keeper = make_user("keeper", workspace_admin=True)
    lead = make_user("lead")
    project = make_project(lead, name="Harbour")
    task = task_create(actor=lead, project=project, name="Dredge")
    engineering = group_create(actor=keeper, name="Engineering")
    backend = group_create(actor=keeper, name="Backend", parent=engineering)
    return {"keeper": keeper, "lead": lead, "project": project, "task": task, "engineering": engineering,
            "backend": backend}


# ---------------------------------------------------------------- groups

def test_a_group_membership_grants_its_role_and_removing_the_person_revokes_it(world):
    ada = make_user("ada")
    membership_add(actor=world["lead"], project=world["project"], group=world["engineering"], role=Role.SCHEDULER)
    assert role_in(ada, world["project"]) is None
    group_member_add(actor=world["keeper"], group=world["engineering"], user=ada)
    assert role_in(ada, world["project"]) == Role.SCHEDULER
    assert client_for(ada).get(f"/api/v1/projects/{world['project'].pk}/").status_code == 200
    group_member_remove(actor=world["keeper"], group=world["engineering"], user=ada)
    assert role_in(ada, world["project"]) is None
    assert world["project"].pk not in set(project_ids_visible(ada).values_list("id", flat=True))
    assert client_for(ada).get(f"/api/v1/projects/{world['project'].pk}/").status_code == 404


def test_a_subgroup_member_holds_the_role_given_to_the_group_above(world):
    bo = make_user("bo")
    group_member_add(actor=world["keeper"], group=world["backend"], user=bo)
    membership_add(actor=world["lead"], project=world["project"], group=world["engineering"], role=Role.MEMBER)
    assert role_in(bo, world["project"]) == Role.MEMBER
    assert members_among(world["project"], [bo.pk]) == {bo.pk}
    group_update(actor=world["keeper"], group=world["backend"], parent=None)
    assert role_in(bo, world["project"]) is None


def test_the_role_is_the_highest_of_own_and_group_memberships(world):
    cy = make_user("cy")
    group_member_add(actor=world["keeper"], group=world["engineering"], user=cy)
    membership_add(actor=world["lead"], project=world["project"], group=world["engineering"], role=Role.ADMIN)
    membership_add(actor=world["lead"], project=world["project"], user=cy, role=Role.VIEWER)
    assert role_in(cy, world["project"]) == Role.ADMIN
    task_update(actor=cy, task=world["task"], duration=4)   # an Admin's right, through the group
    assert WorkItem.objects.get(pk=world["task"].pk).duration == 4


def test_deleting_a_group_revokes_what_it_held(world):
    di = make_user("di")
    group_member_add(actor=world["keeper"], group=world["backend"], user=di)
    membership = membership_add(actor=world["lead"], project=world["project"], group=world["backend"],
                                role=Role.MEMBER)
    with pytest.raises(Conflict):
        group_delete(actor=world["keeper"], group=world["engineering"])   # it has a subgroup
    group_delete(actor=world["keeper"], group=world["backend"])
    assert role_in(di, world["project"]) is None
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_v1_members_list_shows_people_only(world):
    membership_add(actor=world["lead"], project=world["project"], group=world["engineering"], role=Role.MEMBER)
    body = client_for(world["lead"]).get(f"/api/v1/projects/{world['project'].pk}/members/").json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [row["user"]["username"] if isinstance(row["user"], dict) else row["user"] for row in rows] in (
        [world["lead"].pk], ["lead"])


def test_a_group_cannot_sit_under_itself(world):
    with pytest.raises(InvalidInput) as caught:
        group_update(actor=world["keeper"], group=world["engineering"], parent=world["backend"])
    assert caught.value.code == "cyclic_parent"
    assert Group.objects.get(pk=world["engineering"].pk).parent_id is None


@pytest.mark.parametrize("attacker", ["lead", "stranger"])
def test_only_workspace_administrators_write_groups(world, attacker):
    """Anyone may sign up and own a project; that gives no right over groups, which reach every project."""
    actor = world["lead"] if attacker == "lead" else make_user("stranger")
    with pytest.raises(PermissionDenied):
        group_create(actor=actor, name="Mine")
    with pytest.raises(PermissionDenied):
        group_member_add(actor=actor, group=world["engineering"], user=actor)
    with pytest.raises(PermissionDenied):
        group_update(actor=actor, group=world["engineering"], name="Taken")
    with pytest.raises(PermissionDenied):
        group_delete(actor=actor, group=world["backend"])
    assert not Group.objects.filter(name__in=["Mine", "Taken"]).exists()
    assert not GroupMember.objects.filter(user=actor).exists()
    assert Group.objects.filter(pk=world["backend"].pk).exists()


def test_a_group_reaches_a_project_only_through_its_owner(world):
    """A project Owner of another project may not give a group a role in this one."""
    other_lead = make_user("other")
    with pytest.raises(NotFound):
        membership_add(actor=other_lead, project=world["project"], group=world["engineering"], role=Role.VIEWER)
    assert not Membership.objects.filter(group=world["engineering"]).exists()


# ---------------------------------------------------------------- staff and public projects

def test_a_staff_user_sees_every_project_and_holds_the_owners_rights(world):
    keeper = world["keeper"]
    assert world["project"] in projects_visible(keeper)
    assert role_in(keeper, world["project"]) == Role.OWNER
    listed = [row["id"] for row in client_for(keeper).get("/api/v1/projects/").json()["results"]]
    assert world["project"].pk in listed
    project_update(actor=keeper, project=world["project"], name="Harbour II")
    assert Project.objects.get(pk=world["project"].pk).name == "Harbour II"


def test_staff_no_longer_sees_a_deleted_project(world):
    Project.objects.filter(pk=world["project"].pk).soft_delete()
    assert role_in(world["keeper"], world["project"].pk) is None
    assert not projects_visible(world["keeper"]).filter(pk=world["project"].pk).exists()


def test_a_public_project_is_read_by_everyone_signed_in_and_written_by_its_members_only(world):
    reader = make_user("reader")
    project = world["project"]
    assert role_in(reader, project) is None
    project_update(actor=world["lead"], project=project, is_public=True)
    project.refresh_from_db()
    assert role_in(reader, project) == Role.VIEWER
    assert client_for(reader).get(f"/api/v1/projects/{project.pk}/").json()["my_role"] == Role.VIEWER
    with pytest.raises(PermissionDenied):
        task_update(actor=reader, task=world["task"], name="Defaced")
    with pytest.raises(PermissionDenied):
        task_create(actor=reader, project=project, name="Spam")
    assert WorkItem.objects.get(pk=world["task"].pk).name == "Dredge"
    assert not WorkItem.objects.filter(name="Spam").exists()
    assert role_in(None, project) is None


def test_leaving_a_public_project_leaves_read_access_only(world):
    project = world["project"]
    project_update(actor=world["lead"], project=project, is_public=True)
    ed = make_user("ed")
    membership = membership_add(actor=world["lead"], project=project, user=ed, role=Role.ADMIN)
    membership_remove(actor=ed, membership=membership)
    assert role_in(ed, Project.objects.get(pk=project.pk)) == Role.VIEWER


# ---------------------------------------------------------------- can() decides without writing

def test_can_answers_each_question_without_writing(world):
    project, task = world["project"], world["task"]
    member = make_user("member")
    membership_add(actor=world["lead"], project=project, user=member, role=Role.MEMBER)
    before = list(WorkItem.objects.values())
    assert not can(member, Action.WORK_ITEM_UPDATE, task)
    task_update(actor=world["lead"], task=task, assignee=member)
    task.refresh_from_db()
    assert can(member, Action.WORK_ITEM_UPDATE, task)
    assert not can(member, Action.WORK_ITEM_UPDATE, task, fields=["assignee"])
    assert not can(member, Action.WORK_ITEM_CREATE, project)
    assert can(world["lead"], Action.PROJECT_DELETE, project)
    assert not can(make_user("nobody"), Action.PROJECT_VIEW, project)
    assert can(world["keeper"], Action.WORKSPACE_MANAGE) and not can(world["lead"], Action.WORKSPACE_MANAGE)
    assert len(before) == WorkItem.objects.count()
