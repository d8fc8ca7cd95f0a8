"""Writes for people and API tokens."""

from __future__ import annotations

import re
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from keelplan.accounts.models import (
    ApiToken, Group, GroupAncestor, GroupMember, PersonKind, WorkspaceRole, token_digest,
)
from keelplan.changelog.services import Change, ChangeAction, change_record, diff, row_save_changes, snapshot
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound, PermissionDenied
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Boolean, Choice, Fields, Reference, Text, require_time_zone
from keelplan.core.workspace import is_signed_in, is_workspace_admin
from keelplan.customfields.models import AppliesTo
from keelplan.customfields.services import custom_values_clean, custom_values_write
from keelplan.permissions import Action, require
from keelplan.portfolio.categories import group_assignment_count, group_assignments_remove
from keelplan.portfolio.models import CompanyMember, Membership, Project
from keelplan.portfolio.people import company_memberships_of_group_remove

User = get_user_model()
# How a new person's values are read; the username's characters are Django's rule (letters, digits, @.+-_).
USER_INPUT = Fields(
    username=Text(User._meta.get_field("username").max_length), password=Text(4096, strip=False),
    email=Text(254, blank=True), full_name=Text(255, blank=True), is_admin=Boolean(),
)


def _check_username(username: str, *, exclude_pk=None) -> None:
    """A login of Django's characters that no one else holds in any letter case."""
    try:
        User.username_validator(username)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="username", code=ErrorCode.INVALID_FORMAT,
                           pattern="letters, digits and @.+-_") from None
    if User.objects.filter(username__iexact=username).exclude(pk=exclude_pk).exists():
        raise Conflict(f"A user named {username!r} already exists.", field="username", code="duplicate_user")


def _check_email(email: str) -> None:
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise InvalidInput("Enter a valid e-mail address.", field="email", code=ErrorCode.INVALID_FORMAT,
                               pattern="e-mail") from None


@write_transaction()
def user_create(
    *, username: str, password: str, email: str = "", full_name: str = "", is_admin: bool = False
) -> User:
    """Create a person. ``is_admin`` makes a workspace administrator (and a Django superuser, for the admin site)."""
    values = USER_INPUT.clean({"username": username, "password": password, "email": email,
                               "full_name": full_name, "is_admin": is_admin})
    username, password, email = values["username"], values["password"], values["email"]
    full_name, is_admin = values["full_name"], values["is_admin"]
    _check_username(username)
    _check_email(email)
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


# How a person is read when an administrator adds them (no password: they sign in once given one or a token).
PERSON_INPUT = Fields(
    full_name=Text(255), email=USER_INPUT["email"], username=USER_INPUT["username"], kind=Choice(PersonKind),
    is_admin=Boolean(),
)
MAX_LEADERS = 100


def _free_username(base: str) -> str:
    """A login made from ``base`` (an e-mail address or a name) that no one holds in any letter case: Django's
    characters only, a number added when taken."""
    stem = re.sub(r"[^\w.@+-]+", ".", base.strip(), flags=re.ASCII).strip(".")[:140] or "person"
    candidate, n = stem, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{stem}.{n}"
    return candidate


@write_transaction()
def person_create(*, actor, full_name: str, email: str = "", username: str | None = None,
                  kind: str = PersonKind.EMPLOYEE, is_admin: bool = False) -> User:
    """Add a person to the workspace (workspace administrators), with no password: they sign in once an
    administrator gives them one or an API token. Without ``username`` the login is made from the e-mail address,
    else from the name. Logged in the workspace stream."""
    require(actor, Action.WORKSPACE_MANAGE)
    values = PERSON_INPUT.clean({"full_name": full_name, "email": email, "kind": kind, "is_admin": is_admin,
                                 **({"username": username} if username is not None else {})})
    _check_email(values["email"])
    if "username" in values:
        _check_username(values["username"])
        login = values["username"]
    else:
        login = _free_username(values["email"] or values["full_name"])
    admin = values["is_admin"]
    user = User(username=login, email=values["email"], full_name=values["full_name"], kind=values["kind"],
                is_staff=admin, is_superuser=admin, workspace_role=WorkspaceRole.ADMIN if admin else WorkspaceRole.USER)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(f"A user named {login!r} already exists.", field="username", code="duplicate_user") from None
    change_record(project=None, actor=actor, changes=[
        Change("user", user.pk, ChangeAction.CREATED, diff({}, snapshot(user, USER_LOGGED_FIELDS)))])
    return user


@write_transaction()
def user_leaders_set(*, actor, user: User, leaders) -> User:
    """Make ``leaders`` (people, at most ``MAX_LEADERS``) the team leaders ``user`` reports to, replacing those
    before (workspace administrators). No one leads themself; locked accounts may not become leaders."""
    require(actor, Action.WORKSPACE_MANAGE)
    leaders = list(leaders)
    if len(leaders) > MAX_LEADERS:
        raise InvalidInput(f"At most {MAX_LEADERS} leaders.", field="leaders", code=ErrorCode.TOO_MANY,
                           max_count=MAX_LEADERS)
    user = _locked_user(user)
    active = set(User.objects.filter(pk__in=[getattr(x, "pk", None) for x in leaders], is_active=True)
                 .values_list("pk", flat=True))
    wanted: dict[int, User] = {}
    for index, leader in enumerate(leaders):
        if not isinstance(leader, User) or leader.pk not in active:
            raise InvalidInput("No such active person.", field=f"leaders[{index}]",
                               code=ErrorCode.INVALID_REFERENCE, entity="person")
        if leader.pk == user.pk:
            raise InvalidInput("A person cannot be their own leader.", field=f"leaders[{index}]",
                               code=ErrorCode.NOT_ALLOWED)
        wanted[leader.pk] = leader
    before = sorted(user.leaders.values_list("pk", flat=True))
    after = sorted(wanted)
    if before != after:
        user.leaders.set(list(wanted.values()))
        change_record(project=None, actor=actor, changes=[
            Change("user", user.pk, ChangeAction.UPDATED, {"leaders": (before, after)})])
    return user


# Who counts as a workspace administrator (``User.is_workspace_admin``), as a filter.
ADMINS = Q(is_active=True) & (Q(workspace_role__gte=WorkspaceRole.ADMIN) | Q(is_superuser=True))


def _lock_with_admins(user: User) -> tuple[User, bool]:
    """``user``'s row, locked together with every active administrator's, and whether an active administrator
    other than ``user`` remains. The rows are locked in one query in id order, so two writes that each take them
    (two administrators locking or demoting each other at once) run one after the other instead of both seeing
    the other still there, and cannot deadlock."""
    rows = list(User.objects.select_for_update().filter(Q(pk=user.pk) | ADMINS).order_by("pk"))
    target = next((row for row in rows if row.pk == user.pk), None)
    if target is None:
        raise NotFound("User not found.", entity="user")
    return target, any(row.pk != user.pk for row in rows)


def _last_admin(field: str) -> InvalidInput:
    return InvalidInput("The workspace needs at least one administrator.", field=field,
                        code=ErrorCode.LAST_WORKSPACE_ADMIN)


@write_transaction()
def user_set_workspace_role(*, actor, user: User, role: int) -> User:
    """Give ``user`` a workspace role. ``actor`` is a workspace administrator, or None for the operator at the
    server's command line. The last active workspace administrator cannot step down, so the workspace's
    shared rows always have someone who may change them.

    Django's ``is_staff`` and ``is_superuser`` follow the role, as ``user_create`` sets them: a superuser would
    otherwise stay a workspace administrator (``User.is_workspace_admin``) after being made an ordinary user."""
    role = Choice(WorkspaceRole).clean(role, field="workspace_role")
    if actor is not None and not getattr(actor, "is_workspace_admin", False):
        raise PermissionDenied("Only a workspace administrator may change workspace roles.")
    user, others = _lock_with_admins(user)
    admin, was_admin = role >= WorkspaceRole.ADMIN, user.has_admin_role
    if user.workspace_role == role and admin == was_admin:
        return user
    if was_admin and not admin and user.is_active and not others:
        raise _last_admin("workspace_role")
    user.workspace_role = role
    fields = ["workspace_role"]
    if admin != was_admin:
        user.is_staff = user.is_superuser = admin
        fields += ["is_staff", "is_superuser"]
    user.save(update_fields=fields)
    return user


# ---------------------------------------------------------------- changing people

# What a person's record holds that ``user_update`` changes. First and last name are 127 characters at most, so
# that the two joined by a space fit ``full_name``.
USER_UPDATE_INPUT = Fields(
    username=USER_INPUT["username"], email=USER_INPUT["email"], full_name=USER_INPUT["full_name"],
    first_name=Text(127, blank=True), last_name=Text(127, blank=True), is_admin=Boolean(), kind=Choice(PersonKind),
)
# What a person may change on their own record; every other change is a workspace administrator's.
SELF_SERVICE_FIELDS = frozenset({"email", "full_name", "first_name", "last_name"})
# What the change log records of a person (never the password).
USER_LOGGED_FIELDS = ("username", "email", "full_name", "first_name", "last_name", "workspace_role", "is_active",
                      "time_zone", "kind")
PREFERENCES_INPUT = Fields(time_zone=Text(64, blank=True))


def _require_self_or_admin(actor, user: User, *, what: str) -> None:
    if not is_signed_in(actor):
        raise PermissionDenied(f"Sign in to change {what}.")
    if actor.pk != user.pk and not is_workspace_admin(actor):
        raise PermissionDenied(f"Only a workspace administrator may change another person's {what}.")


def _locked_user(user: User) -> User:
    row = User.objects.select_for_update().filter(pk=user.pk).first()
    if row is None:
        raise NotFound("User not found.", entity="user")
    return row


def _record_user_change(actor, user: User, before: dict) -> None:
    changes = diff(before, snapshot(user, USER_LOGGED_FIELDS))
    if changes:
        change_record(project=None, actor=actor, changes=[Change("user", user.pk, ChangeAction.UPDATED, changes)])


@write_transaction()
def user_update(*, actor, user: User, **fields) -> User:
    """Change a person's login (``username``), e-mail address, name, ``kind`` and workspace administration
    (``is_admin``, through ``user_set_workspace_role`` and its last-administrator rule).

    A workspace administrator changes anyone; anyone else only their own name and e-mail address (another
    person's record, even unchanged, is refused). A value equal to the current one is no change, so a client may
    send back the whole record it read. The name is ``full_name`` (the split is then recomputed from it) or
    ``first_name``/``last_name`` (``full_name`` becomes the two joined), never both. Each refusal names its
    field; nothing is written unless everything is valid.
    """
    _require_self_or_admin(actor, user, what="details")
    values = USER_UPDATE_INPUT.clean(fields)
    if "full_name" in values and ({"first_name", "last_name"} & set(values)):
        raise InvalidInput("Give either the full name or the first and last names, not both.", field="full_name",
                           code=ErrorCode.NOT_ALLOWED)
    # A change of administration locks the administrators' rows first (``_lock_with_admins``), in their order.
    user = _lock_with_admins(user)[0] if "is_admin" in values else _locked_user(user)
    first, last = user.name_parts
    current = {"username": user.username, "email": user.email, "full_name": user.full_name, "first_name": first,
               "last_name": last, "is_admin": user.has_admin_role, "kind": user.kind}
    changed = {name: value for name, value in values.items() if value != current[name]}
    if not is_workspace_admin(actor):
        refused = sorted(set(changed) - SELF_SERVICE_FIELDS)
        if refused:
            raise PermissionDenied(f"Only a workspace administrator may change {refused[0].replace('_', ' ')}.")
    if "username" in changed:
        _check_username(changed["username"], exclude_pk=user.pk)
    if "email" in changed:
        _check_email(changed["email"])
    if not changed:
        return user
    before = snapshot(user, USER_LOGGED_FIELDS)
    if "is_admin" in changed:
        role = WorkspaceRole.ADMIN if changed["is_admin"] else WorkspaceRole.USER
        user = user_set_workspace_role(actor=actor, user=user, role=role)
    columns = [name for name in ("username", "email", "kind") if name in changed]
    for name in columns:
        setattr(user, name, changed[name])
    if "full_name" in changed:
        user.full_name, user.first_name, user.last_name = changed["full_name"], "", ""
        columns += ["full_name", "first_name", "last_name"]
    elif {"first_name", "last_name"} & set(changed):
        first, last = changed.get("first_name", first), changed.get("last_name", last)
        user.first_name, user.last_name, user.full_name = first, last, f"{first} {last}".strip()
        columns += ["full_name", "first_name", "last_name"]
    if columns:
        try:
            with transaction.atomic():
                user.save(update_fields=columns)
        except IntegrityError:
            raise Conflict(f"A user named {user.username!r} already exists.", field="username",
                           code="duplicate_user") from None
    _record_user_change(actor, user, before)
    return user


@write_transaction()
def user_set_active(*, actor, user: User, active: bool) -> User:
    """Lock (``active`` false) or unlock a person's account (workspace administrators). A locked person cannot
    sign in and their API tokens stop working. No one locks their own account, and the last active workspace
    administrator cannot be locked. Locking a locked account (or unlocking an active one) changes nothing."""
    require(actor, Action.WORKSPACE_MANAGE)
    active = Boolean().clean(active, field="is_active")
    user, others = _lock_with_admins(user)
    if user.is_active == active:
        return user
    if not active:
        if user.pk == actor.pk:
            raise InvalidInput("You cannot lock your own account.", field="is_active", code=ErrorCode.NOT_ALLOWED)
        if user.is_workspace_admin and not others:
            raise _last_admin("is_active")
    before = snapshot(user, USER_LOGGED_FIELDS)
    user.is_active = active
    user.save(update_fields=["is_active"])
    _record_user_change(actor, user, before)
    return user


@write_transaction()
def user_custom_values_set(*, actor, user: User, values: dict) -> User:
    """Set a person's custom field values (``{field id: value}``, ``None`` clears one; workspace administrators),
    checked against the person fields; logged in the workspace stream."""
    require(actor, Action.WORKSPACE_MANAGE)
    cleaned = custom_values_clean(entity=AppliesTo.PERSON, project=None, values=values, for_create=False)
    user = _locked_user(user)
    custom_values_write(actor=actor, entity=AppliesTo.PERSON, obj_id=user.pk, project=None, cleaned=cleaned)
    return user


@write_transaction()
def user_preferences_update(*, actor, user: User, time_zone: str) -> User:
    """Set a person's own preferences: ``time_zone``, an IANA name or empty for none. A person changes their own;
    a workspace administrator anyone's."""
    _require_self_or_admin(actor, user, what="preferences")
    zone = PREFERENCES_INPUT.clean({"time_zone": time_zone})["time_zone"]
    if zone:
        require_time_zone(zone, field="time_zone")
    user = _locked_user(user)
    if user.time_zone != zone:
        before = snapshot(user, USER_LOGGED_FIELDS)
        user.time_zone = zone
        user.save(update_fields=["time_zone"])
        _record_user_change(actor, user, before)
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


def group_uses(group: Group) -> int:
    """How many rows a group is assigned to: project and company memberships it holds, the people in it, and the
    companies, projects and activities it categorises."""
    return (Membership.objects.filter(group=group).count() + GroupMember.objects.filter(group=group).count()
            + CompanyMember.objects.filter(group=group).count() + group_assignment_count(group))


@write_transaction()
def group_delete(*, actor, group: Group, force: bool = True) -> None:
    """Delete a group with no live subgroups (workspace administrators). The project and company memberships it
    held and the categories it was go with it, each logged in its stream, and its members no longer reach those
    projects through it. Without ``force`` a group still in use (``group_uses``) is refused (Beebole's
    ``group.delete``); OpenProject deletes whatever the group holds."""
    require(actor, Action.WORKSPACE_MANAGE)
    subgroups = Group.objects.filter(parent=group).count()
    if subgroups:
        raise Conflict("Delete or move this group's subgroups first.", code=ErrorCode.IN_USE,
                       reference_count=subgroups)
    if not force:
        used = group_uses(group)
        if used:
            raise Conflict(f"The group is still assigned to {used} row(s) (members, projects, companies or "
                           "tasks); remove them first, or force the delete.", code=ErrorCode.IN_USE,
                           reference_count=used)
    group_assignments_remove(group, actor=actor)
    company_memberships_of_group_remove(group, actor=actor)
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
