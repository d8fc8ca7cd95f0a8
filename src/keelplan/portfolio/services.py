"""Writes for projects and memberships. Every function checks the actor's role, validates, writes and logs
the change in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from keelplan.accounts.models import Group, User
from keelplan.calendars.models import Calendar
from keelplan.calendars.selectors import require_usable_calendar
from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, project_write_lock, row_save_changes, snapshot,
    stream_create_for_project,
)
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound, PermissionDenied
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import IDENTIFIER_RE, Boolean, Choice, Date, Fields, Reference, Text, require_schedulable
from keelplan.customfields.models import AppliesTo
from keelplan.customfields.services import custom_values_clean, custom_values_write
from keelplan.engine import limits
from keelplan.permissions import Action, ProjectAccess, require, role_in
from keelplan.planning.models import WorkItem
from keelplan.planning.reference import work_item_versions_recheck
from keelplan.portfolio.models import Company, Membership, Project, ProjectStatus, ProjectType, Role

PROJECT_FIELDS = (
    "name", "identifier", "description", "parent", "start_date", "status_date", "calendar",
    "default_member_role", "is_public", "is_active", "project_type", "status", "status_explanation", "company",
)
MEMBERSHIP_FIELDS = ("project", "user", "group", "role")
MAX_DESCRIPTION = 100_000
# The roles a project may give newcomers by default (Owner is given, never defaulted).
DEFAULT_MEMBER_ROLES = (Role.VIEWER, Role.MEMBER, Role.SCHEDULER, Role.ADMIN)
# Every project setting an Admin may change, and how its values are read (re-parenting also needs Admin on the new
# parent).
PROJECT_INPUT = Fields(
    name=Text(255), identifier=Text(100, pattern=IDENTIFIER_RE.pattern,
                                    pattern_name="lower-case letters, digits, '-' and '_', starting with a letter"),
    description=Text(MAX_DESCRIPTION, blank=True, strip=False), parent=Reference(Project, null=True),
    start_date=Date(), status_date=Date(null=True), calendar=Reference(Calendar, null=True),
    default_member_role=Choice([int(r) for r in DEFAULT_MEMBER_ROLES]), is_public=Boolean(), is_active=Boolean(),
    project_type=Reference(ProjectType, null=True), status=Reference(ProjectStatus, null=True),
    status_explanation=Text(MAX_DESCRIPTION, blank=True, strip=False), company=Reference(Company, null=True),
)
assert set(PROJECT_INPUT) == set(PROJECT_FIELDS)
PROJECT = AppliesTo.PROJECT.value
ROLE_INPUT = Choice([int(r) for r in Role])


# Words the dialects' routes use beside a project's identifier (``/api/v3/projects/schema``): never identifiers.
RESERVED_IDENTIFIERS = frozenset({"form", "schema", "available_parent_projects", "new"})


def _unique_identifier(base: str) -> str:
    base = (slugify(base)[:90] or "project").strip("-_") or "project"
    if not base[0].isalpha():
        base = f"p-{base}"[:90]
    candidate, n = base, 1
    while candidate in RESERVED_IDENTIFIERS or Project.all_objects.filter(identifier=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_identifier_free(identifier: str, *, exclude_pk=None) -> str:
    if identifier in RESERVED_IDENTIFIERS:
        raise InvalidInput(f"The identifier {identifier!r} is reserved; choose another.", field="identifier",
                           code=ErrorCode.NOT_ALLOWED)
    if Project.all_objects.filter(identifier=identifier).exclude(pk=exclude_pk).exists():
        raise Conflict(f"The identifier {identifier!r} is already taken.", field="identifier",
                       code=ErrorCode.DUPLICATE_IDENTIFIER)
    return identifier


def _validate_parent(actor, parent: Project | None, *, project: Project | None = None) -> None:
    if parent is None:
        return
    access = ProjectAccess(actor, parent)
    if not access.visible:
        raise InvalidInput("The parent project does not exist.", field="parent", code=ErrorCode.INVALID_REFERENCE,
                           entity="project")
    try:
        access.require(Action.SUBPROJECT_ADD, parent)
    except PermissionDenied as exc:
        exc.field = "parent"
        raise
    if project is not None:
        node = parent
        while node is not None:
            if node.pk == project.pk:
                raise InvalidInput("A project cannot sit under itself or its own subprojects.", field="parent",
                                   code=ErrorCode.CYCLIC_PARENT)
            node = node.parent


def _validate_dates(start_date, status_date) -> None:
    """The project's dates, within the bounds the scheduler accepts (``keelplan.engine.limits``)."""
    require_schedulable(limits.start_problem(start_date), field="start_date", what="start date")
    require_schedulable(limits.planned_date_problem(start_date, status_date, what="status date"),
                        field="status_date", what="status date")


def _validate_task_dates_from(project: Project, start_date: dt.date) -> None:
    """A new start must keep every task's dates within the scheduler's bounds of it (the tasks' own checks
    held them to the old start)."""
    latest = limits.latest_planned_date(start_date)
    first, last = limits.actual_date_window(start_date)
    beyond = (Q(constraint_date__gt=latest) | Q(manual_start__gt=latest) | Q(manual_finish__gt=latest)
              | Q(actual_start__lt=first) | Q(actual_start__gt=last) | Q(actual_finish__lt=first)
              | Q(actual_finish__gt=last))
    task = WorkItem.objects.filter(project=project).filter(beyond).order_by("id").values_list("id", "name").first()
    if task is not None:
        raise InvalidInput(
            f"With this start, the dates of task {task[1]!r} (#{task[0]}) would lie more than "
            f"{limits.MAX_PROJECT_SPAN_DAYS} days from it, beyond what the scheduler accepts: a constraint or "
            f"manual date may be at most {latest.isoformat()}, an actual date from {first.isoformat()} to "
            f"{last.isoformat()}.", field="start_date", code=ErrorCode.DATE_OUT_OF_RANGE)



@write_transaction()
def project_create(
    *, actor, name: str, start_date: dt.date, identifier: str | None = None, description: str = "",
    parent: Project | None = None, status_date: dt.date | None = None, calendar=None,
    default_member_role: int = Role.MEMBER, is_public: bool = False, is_active: bool = True,
    custom_fields: dict | None = None, **more,
) -> Project:
    """Create a project; the actor becomes its Owner. Without an identifier, one is made from the name."""
    values = PROJECT_INPUT.clean({
        "name": name, "start_date": start_date, "description": description, "parent": parent,
        "status_date": status_date, "calendar": calendar, "default_member_role": default_member_role,
        "is_public": is_public, "is_active": is_active, **({"identifier": identifier} if identifier else {}),
        **more,
    })
    name, start_date, description = values["name"], values["start_date"], values["description"]
    status_date, calendar, default_member_role = values["status_date"], values["calendar"], values["default_member_role"]
    identifier = (_check_identifier_free(values["identifier"]) if identifier else _unique_identifier(name))
    _validate_dates(start_date, status_date)
    _validate_parent(actor, parent)
    require_usable_calendar(calendar, None)
    custom = custom_values_clean(entity=PROJECT, project=None, values=custom_fields or {}, for_create=True)
    project = Project(
        name=name, identifier=identifier, description=description, parent=parent, start_date=start_date,
        status_date=status_date, calendar=calendar, default_member_role=default_member_role, is_public=is_public,
        is_active=is_active, created_by=actor, **{key: values[key] for key in more},
    )
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError:
        raise Conflict(f"The identifier {identifier!r} is already taken.", field="identifier",
                       code=ErrorCode.DUPLICATE_IDENTIFIER) from None
    stream_create_for_project(project)
    owner = Membership.objects.create(project=project, user=actor, role=Role.OWNER, role_changed_at=timezone.now())
    change_record(project=project, actor=actor, changes=[
        Change("project", project.pk, ChangeAction.CREATED, diff({}, snapshot(project, PROJECT_FIELDS))),
        Change("membership", owner.pk, ChangeAction.CREATED, diff({}, snapshot(owner, MEMBERSHIP_FIELDS))),
    ])
    custom_values_write(actor=actor, entity=PROJECT, obj_id=project.pk, project=project, cleaned=custom)
    return project


@write_transaction()
def project_update(*, actor, project: Project, lock_version: int | None = None, custom_fields: dict | None = None,
                   **fields) -> Project:
    """Change project settings (Admin or above)."""
    fields = PROJECT_INPUT.clean(fields)
    require(actor, Action.PROJECT_UPDATE, project)
    # The stream first, then the row: the scheduler holds the stream when it writes the project's finish.
    project_write_lock(project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    check_lock_version(project, lock_version)
    before = snapshot(project, PROJECT_FIELDS)
    if "identifier" in fields:
        _check_identifier_free(fields["identifier"], exclude_pk=project.pk)
    if "parent" in fields and fields["parent"] != project.parent:
        _validate_parent(actor, fields["parent"], project=project)
    if "calendar" in fields:
        require_usable_calendar(fields["calendar"], project)
    old_start = project.start_date
    for key, value in fields.items():
        setattr(project, key, value)
    _validate_dates(project.start_date, project.status_date)
    if project.start_date != old_start:
        _validate_task_dates_from(project, project.start_date)
    moved = "parent" in fields and project.parent_id != before["parent"]
    custom = (custom_values_clean(entity=PROJECT, project=project, values=custom_fields, for_create=False)
              if custom_fields is not None else {})
    row_save_changes(project, before, PROJECT_FIELDS, entity="project", project=project, actor=actor)
    custom_values_write(actor=actor, entity=PROJECT, obj_id=project.pk, project=project, cleaned=custom)
    if moved:
        work_item_versions_recheck(actor=actor, project=project)
    return project


@write_transaction()
def project_delete(*, actor, project: Project) -> None:
    """Soft-delete a project (Owner). Its rows become invisible with it; live subprojects block the delete."""
    require(actor, Action.PROJECT_DELETE, project)
    if Project.objects.filter(parent=project).exists():
        raise Conflict("Delete or move this project's subprojects first.", code=ErrorCode.HAS_SUBPROJECTS)
    project_write_lock(project)
    Project.objects.filter(pk=project.pk).soft_delete()
    change_record(project=project, actor=actor, changes=[Change("project", project.pk, ChangeAction.DELETED)])


def _validate_role_value(role) -> int:
    return int(ROLE_INPUT.clean(role, field="role"))


def _live_owner_count(project: Project) -> int:
    return Membership.objects.filter(project=project, role=Role.OWNER).count()


@write_transaction()
def membership_add(*, actor, project: Project, user=None, group: Group | None = None,
                   role: int | None = None) -> Membership:
    """Add a person (``user``) or a group (``group``) to the project (Owner only), at a role strictly below the
    actor's."""
    caller = require(actor, Action.MEMBERS_MANAGE, project)
    role = project.default_member_role if role is None else _validate_role_value(role)
    if role >= caller:
        raise PermissionDenied("You can only give a role below your own.", field="role")
    if group is not None and user is not None:
        raise InvalidInput("Give a person or a group, not both.", field="group", code=ErrorCode.NOT_ALLOWED)
    if group is not None:
        if not isinstance(group, Group) or group.is_deleted:
            raise InvalidInput("No such group.", field="group", code=ErrorCode.INVALID_REFERENCE, entity="group")
        principal, name = {"group": group}, group.name
    else:
        if not isinstance(user, User) or not user.is_active:
            raise InvalidInput("No such active user.", field="user", code=ErrorCode.INVALID_REFERENCE,
                               entity="person")
        principal, name = {"user": user}, user.username
    project_write_lock(project)
    if Membership.objects.filter(project=project, **principal).exists():
        raise Conflict(f"{name} is already a member of this project.", field=next(iter(principal)),
                       code=ErrorCode.DUPLICATE_MEMBERSHIP)
    membership = Membership.objects.create(project=project, role=role, role_changed_at=timezone.now(), **principal)
    change_record(project=project, actor=actor, changes=[
        Change("membership", membership.pk, ChangeAction.CREATED, diff({}, snapshot(membership, MEMBERSHIP_FIELDS)))
    ])
    return membership


@write_transaction()
def membership_change_role(*, actor, membership: Membership, role: int, lock_version: int | None = None) -> Membership:
    """Change a member's role (Owner only). The new role, and the member's current role unless it is the
    actor's own membership, must be below the actor's. The last Owner cannot be demoted."""
    project = membership.project
    caller = require(actor, Action.MEMBERS_MANAGE, project)
    role = _validate_role_value(role)
    project_write_lock(project)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    check_lock_version(membership, lock_version)
    is_self = membership.user_id == actor.pk
    if role >= caller:
        raise PermissionDenied("You can only give a role below your own.", field="role")
    if not is_self and membership.role >= caller:
        raise PermissionDenied("You can only change the role of members ranked below you.", field="role")
    if membership.role == role:
        return membership
    if membership.role == Role.OWNER and _live_owner_count(project) <= 1:
        raise InvalidInput("The project's last Owner cannot be demoted.", field="role", code=ErrorCode.LAST_OWNER)
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    membership.role = role
    membership.role_changed_at = timezone.now()
    row_save_changes(membership, before, MEMBERSHIP_FIELDS, entity="membership", project=project, actor=actor)
    return membership


@write_transaction()
def membership_remove(*, actor, membership: Membership) -> None:
    """Remove a member: anyone may remove themselves; removing someone else needs Owner and a lower-ranked
    member. The last Owner cannot be removed."""
    project = membership.project
    caller = role_in(actor, project)
    if caller is None:
        raise NotFound("Project not found.", entity="project")
    project_write_lock(project)
    membership = Membership.objects.select_for_update().filter(pk=membership.pk).first()
    if membership is None:
        raise NotFound("Member not found.", entity="membership")
    if membership.user_id != actor.pk:
        if caller < Role.OWNER:
            raise PermissionDenied("Only an Owner can remove other members.")
        if membership.role >= caller:
            raise PermissionDenied("You can only remove members ranked below you.")
    if membership.role == Role.OWNER and _live_owner_count(project) <= 1:
        raise InvalidInput("The project's last Owner cannot be removed.", field="user", code=ErrorCode.LAST_OWNER)
    Membership.objects.filter(pk=membership.pk).soft_delete()
    change_record(project=project, actor=actor, changes=[Change("membership", membership.pk, ChangeAction.DELETED)])
