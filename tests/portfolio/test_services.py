"""Project and membership services without HTTP: escalation rules, the last Owner, identifiers, the tree."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.permissions import role_in
from keelplan.portfolio.services import (
    membership_add, membership_change_role, membership_remove, project_create, project_delete, project_update,
)

from conftest import make_project, make_user

pytestmark = pytest.mark.django_db




@pytest.fixture
def owner(db):
    """The project's Owner as an ordinary user: these tests are about project roles, which a workspace
    administrator (who holds the Owner's rights in every project) would blur."""
    return make_user("owner", full_name="Olive Owner")


def membership_of(project, user) -> Membership:
    return Membership.objects.get(project=project, user=user)


def second_owner(project):
    """A co-owner. The services can never make one (no one may grant a role equal to their own), but a
    project may carry one from an import or an administrator, and the rules must hold then too."""
    user = make_user()
    Membership.objects.create(project=project, user=user, role=Role.OWNER)
    return user


# ---------------------------------------------------------------- adding members

def test_creator_becomes_the_only_owner(owner):
    project = make_project(owner)
    assert list(Membership.objects.filter(project=project).values_list("user", "role")) == [(owner.pk, Role.OWNER)]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.SCHEDULER, Role.ADMIN])
def test_owner_adds_members_below_owner(project, owner, role):
    user = make_user()
    membership = membership_add(actor=owner, project=project, user=user, role=role)
    assert membership.role == role
    assert role_in(user, project) == role


def test_owner_cannot_add_another_owner(project, owner):
    user = make_user()
    with pytest.raises(PermissionDenied) as exc:
        membership_add(actor=owner, project=project, user=user, role=Role.OWNER)
    assert exc.value.field == "role"
    assert role_in(user, project) is None


@pytest.mark.parametrize("role_name", ["viewer", "member", "scheduler", "admin"])
def test_only_owners_add_members(members, project, role_name):
    user = make_user()
    with pytest.raises(PermissionDenied):
        membership_add(actor=members[role_name], project=project, user=user, role=Role.VIEWER)
    assert role_in(user, project) is None


def test_non_member_adding_members_is_not_found(project, outsider):
    with pytest.raises(NotFound):
        membership_add(actor=outsider, project=project, user=make_user(), role=Role.VIEWER)


def test_omitted_role_is_the_project_default(owner):
    project = make_project(owner, default_member_role=Role.SCHEDULER)
    assert membership_add(actor=owner, project=project, user=make_user()).role == Role.SCHEDULER


@pytest.mark.parametrize("role", [0, 2, 500, True, "100", "Owner"])
def test_unknown_role_values_are_refused(project, owner, role):
    with pytest.raises(InvalidInput) as exc:
        membership_add(actor=owner, project=project, user=make_user(), role=role)
    assert exc.value.field == "role"


def test_duplicate_membership_conflicts(members, project, owner):
    with pytest.raises(Conflict) as exc:
        membership_add(actor=owner, project=project, user=members["viewer"], role=Role.ADMIN)
    assert exc.value.code == "duplicate_membership"
    assert membership_of(project, members["viewer"]).role == Role.VIEWER


def test_inactive_user_cannot_be_added(project, owner):
    user = make_user()
    user.is_active = False
    user.save()
    with pytest.raises(InvalidInput) as exc:
        membership_add(actor=owner, project=project, user=user)
    assert exc.value.field == "user"


def test_a_removed_member_can_be_added_again(members, project, owner):
    membership_remove(actor=owner, membership=membership_of(project, members["viewer"]))
    again = membership_add(actor=owner, project=project, user=members["viewer"], role=Role.ADMIN)
    assert role_in(members["viewer"], project) == Role.ADMIN
    assert Membership.all_objects.filter(project=project, user=members["viewer"]).count() == 2
    assert again.deleted_at is None


# ---------------------------------------------------------------- changing roles

def test_owner_changes_a_lower_role(members, project, owner):
    membership = membership_change_role(actor=owner, membership=membership_of(project, members["viewer"]),
                                        role=Role.ADMIN)
    assert membership.role == Role.ADMIN
    assert membership.lock_version == 1
    assert membership.role_changed_at is not None


def test_owner_cannot_promote_to_owner(members, project, owner):
    with pytest.raises(PermissionDenied):
        membership_change_role(actor=owner, membership=membership_of(project, members["admin"]), role=Role.OWNER)
    assert membership_of(project, members["admin"]).role == Role.ADMIN


@pytest.mark.parametrize("role_name", ["viewer", "member", "scheduler", "admin"])
def test_only_owners_change_roles(members, project, role_name):
    target = membership_of(project, members["viewer" if role_name != "viewer" else "member"])
    before = target.role
    with pytest.raises(PermissionDenied):
        membership_change_role(actor=members[role_name], membership=target, role=Role.VIEWER)
    assert membership_of(project, target.user).role == before


def test_admin_cannot_raise_themselves(members, project):
    admin = members["admin"]
    with pytest.raises(PermissionDenied):
        membership_change_role(actor=admin, membership=membership_of(project, admin), role=Role.OWNER)
    assert role_in(admin, project) == Role.ADMIN


def test_owner_cannot_change_a_co_owner(project, owner):
    other = second_owner(project)
    with pytest.raises(PermissionDenied):
        membership_change_role(actor=owner, membership=membership_of(project, other), role=Role.VIEWER)
    assert role_in(other, project) == Role.OWNER


def test_last_owner_cannot_step_down(project, owner):
    with pytest.raises(InvalidInput) as exc:
        membership_change_role(actor=owner, membership=membership_of(project, owner), role=Role.ADMIN)
    assert exc.value.code == "last_owner"
    assert role_in(owner, project) == Role.OWNER


def test_an_owner_may_step_down_when_another_owner_remains(project, owner):
    second_owner(project)
    membership_change_role(actor=owner, membership=membership_of(project, owner), role=Role.ADMIN)
    assert role_in(owner, project) == Role.ADMIN


def test_stale_role_change_is_refused(members, project, owner):
    target = membership_of(project, members["viewer"])
    membership_change_role(actor=owner, membership=target, role=Role.MEMBER, lock_version=0)
    with pytest.raises(Conflict) as exc:
        membership_change_role(actor=owner, membership=target, role=Role.ADMIN, lock_version=0)
    assert exc.value.code == "stale_lock_version"
    assert role_in(members["viewer"], project) == Role.MEMBER


# ---------------------------------------------------------------- removing members

@pytest.mark.parametrize("role_name", ["viewer", "member", "scheduler", "admin"])
def test_anyone_may_leave(members, project, role_name):
    user = members[role_name]
    membership_remove(actor=user, membership=membership_of(project, user))
    assert role_in(user, project) is None


@pytest.mark.parametrize("role_name", ["viewer", "member", "scheduler", "admin"])
def test_only_owners_remove_others(members, project, role_name):
    target = members["viewer" if role_name != "viewer" else "member"]
    with pytest.raises(PermissionDenied):
        membership_remove(actor=members[role_name], membership=membership_of(project, target))
    assert role_in(target, project) is not None


def test_owner_removes_lower_members(members, project, owner):
    membership_remove(actor=owner, membership=membership_of(project, members["admin"]))
    assert role_in(members["admin"], project) is None
    assert Membership.all_objects.get(project=project, user=members["admin"]).deleted_at is not None


def test_owner_cannot_remove_a_co_owner(project, owner):
    other = second_owner(project)
    with pytest.raises(PermissionDenied):
        membership_remove(actor=owner, membership=membership_of(project, other))
    assert role_in(other, project) == Role.OWNER


def test_last_owner_cannot_leave(project, owner):
    with pytest.raises(InvalidInput) as exc:
        membership_remove(actor=owner, membership=membership_of(project, owner))
    assert exc.value.code == "last_owner"
    assert role_in(owner, project) == Role.OWNER


def test_an_owner_may_leave_when_another_owner_remains(project, owner):
    other = second_owner(project)
    membership_remove(actor=owner, membership=membership_of(project, owner))
    assert role_in(owner, project) is None
    assert role_in(other, project) == Role.OWNER


def test_outsider_removing_is_not_found(members, project, outsider):
    with pytest.raises(NotFound):
        membership_remove(actor=outsider, membership=membership_of(project, members["viewer"]))
    assert role_in(members["viewer"], project) == Role.VIEWER


def test_a_deleted_project_hides_every_role(members, project, owner):
    project_delete(actor=owner, project=project)
    assert all(role_in(user, project) is None for user in members.values())


# ---------------------------------------------------------------- identifiers

@pytest.mark.parametrize(("name", "identifier"), [
    ("Apollo Moon Landing", "apollo-moon-landing"),
    ("  Gemini  ", "gemini"),
    ("2026 Budget", "p-2026-budget"),
    ("!!!", "project"),
    ("Ünïcödé Straße", "unicode-strae"),
])
def test_identifier_is_derived_from_the_name(owner, name, identifier):
    assert make_project(owner, name=name).identifier == identifier


def test_derived_identifiers_stay_unique(owner):
    identifiers = [make_project(owner, name="Apollo").identifier for _ in range(3)]
    assert identifiers == ["apollo", "apollo-2", "apollo-3"]


def test_a_deleted_project_keeps_its_identifier(owner):
    first = make_project(owner, name="Apollo")
    project_delete(actor=owner, project=first)
    assert make_project(owner, name="Apollo").identifier == "apollo-2"
    with pytest.raises(Conflict):
        make_project(owner, name="Other", identifier="apollo")


def test_long_names_give_identifiers_within_the_limit(owner):
    first = make_project(owner, name="x" * 255)
    second = make_project(owner, name="x" * 255)
    assert len(first.identifier) <= 100 and len(second.identifier) <= 100
    assert first.identifier != second.identifier


@pytest.mark.parametrize("identifier", ["Upper", "has space", "9lives", "-dash", "a" * 101, "é"])
def test_bad_explicit_identifiers_are_refused(owner, identifier):
    with pytest.raises(InvalidInput) as exc:
        make_project(owner, identifier=identifier)
    assert exc.value.field == "identifier"
    assert not Project.objects.exists()


def test_explicit_identifier_must_be_free(owner):
    make_project(owner, identifier="apollo")
    with pytest.raises(Conflict) as exc:
        make_project(owner, name="Other", identifier="apollo")
    assert exc.value.code == "duplicate_identifier"
    assert Project.objects.count() == 1


@pytest.mark.parametrize("word", ["schema", "form", "available_parent_projects"])
def test_route_words_are_never_identifiers(owner, word):
    """``/api/v3/projects/schema`` is the schema, so no project may be called ``schema`` by its identifier."""
    with pytest.raises(InvalidInput) as exc:
        make_project(owner, name="Mine", identifier=word)
    assert (exc.value.field, exc.value.code) == ("identifier", "not_allowed")
    other = make_project(owner, name="Other")
    with pytest.raises(InvalidInput):
        project_update(actor=owner, project=other, identifier=word)
    assert make_project(owner, name=word.replace("_", " ")).identifier != word


def test_renaming_the_identifier_to_a_taken_one_conflicts(owner):
    make_project(owner, identifier="apollo")
    other = make_project(owner, identifier="gemini")
    with pytest.raises(Conflict):
        project_update(actor=owner, project=other, identifier="apollo")
    other.refresh_from_db()
    assert other.identifier == "gemini"
    assert other.lock_version == 0


# ---------------------------------------------------------------- the project tree and settings

def test_parent_chain_cannot_loop(owner):
    top = make_project(owner, name="Top")
    middle = make_project(owner, name="Middle", parent=top)
    bottom = make_project(owner, name="Bottom", parent=middle)
    for new_parent in (top, middle, bottom):
        with pytest.raises(InvalidInput) as exc:
            project_update(actor=owner, project=top, parent=new_parent)
        assert exc.value.code == "cyclic_parent"
    top.refresh_from_db()
    assert top.parent is None


def test_moving_a_subtree_elsewhere_is_fine(owner):
    top, other = make_project(owner, name="Top"), make_project(owner, name="Other")
    middle = make_project(owner, name="Middle", parent=top)
    project_update(actor=owner, project=middle, parent=other)
    middle.refresh_from_db()
    assert middle.parent_id == other.pk


def test_parent_must_be_visible_and_administered(members, project, owner):
    stranger = make_user()
    hidden = make_project(stranger, name="Hidden")
    with pytest.raises(InvalidInput) as exc:
        make_project(owner, name="Child", parent=hidden)
    assert exc.value.field == "parent"
    scheduler = members["scheduler"]
    with pytest.raises(PermissionDenied):
        make_project(scheduler, name="Child", parent=project)
    assert not Project.objects.filter(name="Child").exists()


def test_project_with_live_subprojects_cannot_be_deleted(owner):
    top = make_project(owner, name="Top")
    make_project(owner, name="Child", parent=top)
    with pytest.raises(Conflict) as exc:
        project_delete(actor=owner, project=top)
    assert exc.value.code == "has_subprojects"
    assert Project.objects.filter(pk=top.pk).exists()


@pytest.mark.parametrize(("role_name", "allowed"), [
    ("viewer", False), ("member", False), ("scheduler", False), ("admin", True), ("owner", True),
])
def test_project_settings_need_admin(members, project, role_name, allowed):
    if allowed:
        project_update(actor=members[role_name], project=project, name="Renamed")
    else:
        with pytest.raises(PermissionDenied):
            project_update(actor=members[role_name], project=project, name="Renamed")
    project.refresh_from_db()
    assert (project.name == "Renamed") is allowed


@pytest.mark.parametrize(("role_name", "allowed"), [("admin", False), ("owner", True)])
def test_deleting_a_project_needs_owner(members, project, role_name, allowed):
    if allowed:
        project_delete(actor=members[role_name], project=project)
    else:
        with pytest.raises(PermissionDenied):
            project_delete(actor=members[role_name], project=project)
    assert Project.objects.filter(pk=project.pk).exists() is not allowed


def test_default_member_role_cannot_be_owner(owner):
    with pytest.raises(InvalidInput) as exc:
        project_create(actor=owner, name="X", start_date=dt.date(2026, 1, 5), default_member_role=Role.OWNER)
    assert exc.value.field == "default_member_role"


def test_stale_project_update_changes_nothing(project, owner):
    project_update(actor=owner, project=project, name="First", lock_version=0)
    with pytest.raises(Conflict) as exc:
        project_update(actor=owner, project=project, name="Second", lock_version=0)
    assert exc.value.code == "stale_lock_version"
    project.refresh_from_db()
    assert (project.name, project.lock_version) == ("First", 1)


def test_unchanged_update_keeps_the_version(project, owner):
    stamp = project.updated_at
    project_update(actor=owner, project=project, name=project.name)
    project.refresh_from_db()
    assert project.lock_version == 0
    assert project.updated_at == stamp
