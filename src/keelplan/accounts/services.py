"""Writes for people and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from keelplan.accounts.models import ApiToken, Group, GroupAncestor, GroupMember, WorkspaceRole, token_digest
from keelplan.changelog.services import Change, ChangeAction, change_record, diff, row_save_changes, snapshot
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound, PermissionDenied
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Boolean, Choice, Fields, Reference, Text
from keelplan.permissions import Action, require
from keelplan.portfolio.models import Membership, Project

User = get_user_model()
# How a new person's values are read; the username's characters are Django's rule (letters, digits, @.+-_).
USER_INPUT = Fields(
    username=Text(User._meta.get_field("username").max_length), password=Text(4096, strip=False),
    email=Text(254, blank=True), full_name=Text(255, blank=True), is_admin=Boolean(),
)


@write_transaction()
def user_create(
    *, username: str, password: str, email: str = "", full_name: str = "", is_admin: bool = False
) -> User:
    """Create a person. ``is_admin`` makes a workspace administrator (and a Django superuser, for the admin site)."""
    values = USER_INPUT.clean({"username": username, "password": password, "email": email,
                               "full_name": full_name, "is_admin": is_admin})
    username, password, email = values["username"], values["password"], values["email"]
    full_name, is_admin = values["full_name"], values["is_admin"]
    try:
        User.username_validator(username)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="username", code=ErrorCode.INVALID_FORMAT,
                           pattern="letters, digits and @.+-_") from None
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise InvalidInput("Enter a valid e-mail address.", field="email", code=ErrorCode.INVALID_FORMAT,
                               pattern="e-mail") from None
    if User.objects.filter(username=username).exists():
        raise Conflict(f"A user named {username!r} already exists.", field="username", code="duplicate_user")
    user = User(username=username, email=email, full_name=full_name, is_staff=is_admin, is_superuser=is_admin,
                workspace_role=WorkspaceRole.ADMIN if is_admin else WorkspaceRole.USER)
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(f"A user named {username!r} already exists.", field="username", code="duplicate_user") from None
    return user


@write_transaction()
def user_set_workspace_role(*, actor, user: User, role: int) -> User:
    """Give ``user`` a workspace role. ``actor`` is a workspace administrator, or None for the operator at the
    server's command line. The last active workspace administrator cannot step down, so the workspace's
    shared rows always have someone who may change them."""
    role = Choice(WorkspaceRole).clean(role, field="workspace_role")
    if actor is not None and not getattr(actor, "is_workspace_admin", False):
        raise PermissionDenied("Only a workspace administrator may change workspace roles.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.workspace_role == role:
        return user
    if role < WorkspaceRole.ADMIN and user.workspace_role >= WorkspaceRole.ADMIN:
        others = User.objects.filter(is_active=True, workspace_role__gte=WorkspaceRole.ADMIN).exclude(pk=user.pk)
        if not others.exists():
            raise InvalidInput("The workspace needs at least one administrator.", field="workspace_role",
                               code="last_workspace_admin")
    user.workspace_role = role
    user.save(update_fields=["workspace_role"])
    return user


def api_token_create(*, user: User, name: str = "", expires_at=None) -> tuple[ApiToken, str]:
    """Issue a token. Returns the row and the raw secret, which is shown once and never stored."""
    raw = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, digest=token_digest(raw), hint=raw[:10], expires_at=expires_at
    )
    return token, raw


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The usable token row for a raw secret, or None. Records when it was last used (at most once a minute)."""
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None or not token.is_usable:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# ---------------------------------------------------------------- groups

MAX_GROUP_DEPTH = 20
GROUP_FIELDS = ("name", "description", "parent")
GROUP_INPUT = Fields(name=Text(255), description=Text(100_000, blank=True, strip=False),
                     parent=Reference(Group, null=True))


def _group_paths(groups: list[Group]) -> None:
    """Rewrite the closure rows of ``groups`` (each group's path to the root, itself at depth 0)."""
    ids = [g.pk for g in groups]
    GroupAncestor.objects.filter(group_id__in=ids).delete()
    parent_of = dict(Group.objects.values_list("id", "parent_id"))
    rows = []
    for pk in ids:
        node, depth = pk, 0
        while node is not None:
            rows.append(GroupAncestor(group_id=pk, ancestor_id=node, depth=depth))
            node, depth = parent_of.get(node), depth + 1
    GroupAncestor.objects.bulk_create(rows)


def _subgroups(group: Group) -> list[Group]:
    """``group`` and every live group under it, top down."""
    found, frontier = [group], [group.pk]
    while frontier:
        children = list(Group.objects.filter(parent_id__in=frontier))
        found.extend(children)
        frontier = [g.pk for g in children]
    return found


def _check_group_parent(group: Group | None, parent: Group | None) -> None:
    if parent is None:
        return
    depth, node = 1, parent
    while node is not None:
        if group is not None and node.pk == group.pk:
            raise InvalidInput("A group cannot sit under itself or its own subgroups.", field="parent",
                               code=ErrorCode.CYCLIC_PARENT)
        depth, node = depth + 1, node.parent
    below = 0
    if group is not None:
        below = max(GroupAncestor.objects.filter(ancestor_id=group.pk).values_list("depth", flat=True), default=0)
    if depth + below > MAX_GROUP_DEPTH:
        raise InvalidInput(f"Groups nest at most {MAX_GROUP_DEPTH} deep.", field="parent",
                           code=ErrorCode.OUT_OF_RANGE, min_value=1, max_value=MAX_GROUP_DEPTH)


def _check_group_name_free(name: str, *, exclude_pk=None) -> None:
    if Group.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        raise Conflict(f"A group named {name!r} exists already.", field="name", code=ErrorCode.DUPLICATE_NAME)


@write_transaction()
def group_create(*, actor, name: str, description: str = "", parent: Group | None = None) -> Group:
    """Create a group (workspace administrators)."""
    require(actor, Action.WORKSPACE_MANAGE)
    values = GROUP_INPUT.clean({"name": name, "description": description, "parent": parent})
    _check_group_name_free(values["name"])
    _check_group_parent(None, values["parent"])
    group = Group.objects.create(**values)
    _group_paths([group])
    change_record(project=None, actor=actor, changes=[
        Change("group", group.pk, ChangeAction.CREATED, diff({}, snapshot(group, GROUP_FIELDS)))])
    return group


@write_transaction()
def group_update(*, actor, group: Group, lock_version: int | None = None, **fields) -> Group:
    """Rename, describe or move a group (workspace administrators); moving it moves its subgroups with it."""
    require(actor, Action.WORKSPACE_MANAGE)
    fields = GROUP_INPUT.clean(fields)
    group = Group.objects.select_for_update().filter(pk=group.pk).first()
    if group is None:
        raise NotFound("Group not found.", entity="group")
    check_lock_version(group, lock_version)
    if "name" in fields:
        _check_group_name_free(fields["name"], exclude_pk=group.pk)
    moved = "parent" in fields and fields["parent"] != group.parent
    if moved:
        _check_group_parent(group, fields["parent"])
    before = snapshot(group, GROUP_FIELDS)
    for key, value in fields.items():
        setattr(group, key, value)
    changes = row_save_changes(group, before, GROUP_FIELDS, entity="group", project=None, actor=actor)
    if moved and changes:
        _group_paths(_subgroups(group))
    return group


@write_transaction()
def group_delete(*, actor, group: Group) -> None:
    """Delete a group with no live subgroups (workspace administrators). The project memberships it held go with
    it, each logged in its project's stream, and its members no longer reach those projects through it."""
    require(actor, Action.WORKSPACE_MANAGE)
    subgroups = Group.objects.filter(parent=group).count()
    if subgroups:
        raise Conflict("Delete or move this group's subgroups first.", code=ErrorCode.IN_USE,
                       reference_count=subgroups)
    now = timezone.now()
    held = list(Membership.objects.filter(group=group).values_list("id", "project_id"))
    Membership.objects.filter(pk__in=[pk for pk, _ in held]).soft_delete(at=now)
    Group.objects.filter(pk=group.pk).soft_delete(at=now)
    GroupAncestor.objects.filter(group_id=group.pk).delete()
    change_record(project=None, actor=actor, changes=[Change("group", group.pk, ChangeAction.DELETED)])
    by_project: dict[int, list[int]] = {}
    for pk, project_id in held:
        by_project.setdefault(project_id, []).append(pk)
    for project in Project.all_objects.filter(pk__in=by_project):
        change_record(project=project, actor=actor,
                      changes=[Change("membership", pk, ChangeAction.DELETED) for pk in by_project[project.pk]])


@write_transaction()
def group_member_add(*, actor, group: Group, user) -> GroupMember:
    """Put a person in a group (workspace administrators)."""
    require(actor, Action.WORKSPACE_MANAGE)
    group = GROUP_INPUT["parent"].clean(group, field="group")
    if group is None:
        raise InvalidInput("No such group.", field="group", code=ErrorCode.NULL)
    if not isinstance(user, User) or not user.is_active:
        raise InvalidInput("No such active user.", field="user", code=ErrorCode.INVALID_REFERENCE, entity="person")
    if GroupMember.objects.filter(group=group, user=user).exists():
        raise Conflict(f"{user.username} is in this group already.", field="user",
                       code=ErrorCode.DUPLICATE_MEMBERSHIP)
    try:
        with transaction.atomic():
            row = GroupMember.objects.create(group=group, user=user)
    except IntegrityError:
        raise Conflict(f"{user.username} is in this group already.", field="user",
                       code=ErrorCode.DUPLICATE_MEMBERSHIP) from None
    change_record(project=None, actor=actor, changes=[
        Change("group_member", row.pk, ChangeAction.CREATED, {"group": (None, group.pk), "user": (None, user.pk)})])
    return row


@write_transaction()
def group_member_remove(*, actor, group: Group, user) -> None:
    """Take a person out of a group (workspace administrators)."""
    require(actor, Action.WORKSPACE_MANAGE)
    row = GroupMember.objects.filter(group=group, user=user).first() if isinstance(user, User) else None
    if row is None:
        raise NotFound("This person is not in the group.", entity="group member")
    pk = row.pk
    row.delete()
    change_record(project=None, actor=actor, changes=[Change("group_member", pk, ChangeAction.DELETED)])
