"""Writes for projects and memberships. Every function checks the actor's role, validates, writes and logs
the change in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from keelplan.calendars.selectors import require_usable_calendar
from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, project_write_lock, row_save_changes, snapshot,
    stream_create_for_project,
)
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import IDENTIFIER_RE, require_schedulable, require_text
from keelplan.engine import limits
from keelplan.planning.models import WorkItem
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.portfolio.selectors import require_role, role_in

PROJECT_FIELDS = (
    "name", "identifier", "description", "parent", "start_date", "status_date", "calendar",
    "default_member_role", "is_public", "is_active",
)
# Fields an Admin may change; re-parenting also needs Admin on the new parent.
PROJECT_SETTINGS = frozenset(PROJECT_FIELDS)
MEMBERSHIP_FIELDS = ("project", "user", "role")


def _unique_identifier(base: str) -> str:
    base = (slugify(base)[:90] or "project").strip("-_") or "project"
    if not base[0].isalpha():
        base = f"p-{base}"[:90]
    candidate, n = base, 1
    while Project.all_objects.filter(identifier=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _validate_identifier(identifier: str, *, exclude_pk=None) -> str:
    identifier = require_text(identifier, field="identifier", max_length=100)
    if not IDENTIFIER_RE.match(identifier):
        raise InvalidInput(
            "Use lower-case letters, digits, '-' and '_', starting with a letter.", field="identifier"
        )
    if Project.all_objects.filter(identifier=identifier).exclude(pk=exclude_pk).exists():
        raise Conflict(f"The identifier {identifier!r} is already taken.", field="identifier", code="duplicate_identifier")
    return identifier


def _validate_parent(actor, parent: Project | None, *, project: Project | None = None) -> None:
    if parent is None:
        return
    if parent.is_deleted:
        raise InvalidInput("The parent project does not exist.", field="parent")
    role = role_in(actor, parent)
    if role is None:
        raise InvalidInput("The parent project does not exist.", field="parent")
    if role < Role.ADMIN:
        raise PermissionDenied("Adding a subproject needs Admin or above in the parent project.", field="parent")
    if project is not None:
        node = parent
        while node is not None:
            if node.pk == project.pk:
                raise InvalidInput("A project cannot sit under itself or its own subprojects.", field="parent",
                                   code="cyclic_parent")
            node = node.parent


def _validate_dates(start_date, status_date) -> None:
    """The project's dates, within the bounds the scheduler accepts (``keelplan.engine.limits``)."""
    if not isinstance(start_date, dt.date):
        raise InvalidInput("A start date is required.", field="start_date")
    if status_date is not None and not isinstance(status_date, dt.date):
        raise InvalidInput("Must be a date.", field="status_date")
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
            f"{last.isoformat()}.", field="start_date", code="date_out_of_range")



@write_transaction()
def project_create(
    *, actor, name: str, start_date: dt.date, identifier: str | None = None, description: str = "",
    parent: Project | None = None, status_date: dt.date | None = None, calendar=None,
    default_member_role: int = Role.MEMBER, is_public: bool = False, is_active: bool = True,
) -> Project:
    """Create a project; the actor becomes its Owner."""
    name = require_text(name, field="name", max_length=255)
    identifier = _validate_identifier(identifier) if identifier else _unique_identifier(name)
    _validate_dates(start_date, status_date)
    _validate_parent(actor, parent)
    require_usable_calendar(calendar, None)
    if default_member_role not in Role.values or default_member_role >= Role.OWNER:
        raise InvalidInput("Must be one of 1, 100, 200, 300.", field="default_member_role")
    project = Project(
        name=name, identifier=identifier, description=description or "", parent=parent, start_date=start_date,
        status_date=status_date, calendar=calendar, default_member_role=default_member_role, is_public=is_public,
        is_active=is_active, created_by=actor,
    )
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError:
        raise Conflict(f"The identifier {identifier!r} is already taken.", field="identifier",
                       code="duplicate_identifier") from None
    stream_create_for_project(project)
    owner = Membership.objects.create(project=project, user=actor, role=Role.OWNER, role_changed_at=timezone.now())
    change_record(project=project, actor=actor, changes=[
        Change("project", project.pk, ChangeAction.CREATED, diff({}, snapshot(project, PROJECT_FIELDS))),
        Change("membership", owner.pk, ChangeAction.CREATED, diff({}, snapshot(owner, MEMBERSHIP_FIELDS))),
    ])
    return project


@write_transaction()
def project_update(*, actor, project: Project, lock_version: int | None = None, **fields) -> Project:
    """Change project settings (Admin or above)."""
    unknown = set(fields) - PROJECT_SETTINGS
    if unknown:
        raise InvalidInput(f"Unknown field {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    require_role(actor, project, Role.ADMIN, action="change project settings")
    # The stream first, then the row: the scheduler holds the stream when it writes the project's finish.
    project_write_lock(project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    check_lock_version(project, lock_version)
    before = snapshot(project, PROJECT_FIELDS)
    if "name" in fields:
        fields["name"] = require_text(fields["name"], field="name", max_length=255)
    if "identifier" in fields:
        fields["identifier"] = _validate_identifier(fields["identifier"], exclude_pk=project.pk)
    if "parent" in fields and fields["parent"] != project.parent:
        _validate_parent(actor, fields["parent"], project=project)
    if "calendar" in fields:
        require_usable_calendar(fields["calendar"], project)
    if "default_member_role" in fields and (
        fields["default_member_role"] not in Role.values or fields["default_member_role"] >= Role.OWNER
    ):
        raise InvalidInput("Must be one of 1, 100, 200, 300.", field="default_member_role")
    if "description" in fields and fields["description"] is None:
        fields["description"] = ""
    old_start = project.start_date
    for key, value in fields.items():
        setattr(project, key, value)
    _validate_dates(project.start_date, project.status_date)
    if project.start_date != old_start:
        _validate_task_dates_from(project, project.start_date)
    row_save_changes(project, before, PROJECT_FIELDS, entity="project", project=project, actor=actor)
    return project


@write_transaction()
def project_delete(*, actor, project: Project) -> None:
    """Soft-delete a project (Owner). Its rows become invisible with it; live subprojects block the delete."""
    require_role(actor, project, Role.OWNER, action="delete the project")
    if Project.objects.filter(parent=project).exists():
        raise Conflict("Delete or move this project's subprojects first.", code="has_subprojects")
    project_write_lock(project)
    Project.objects.filter(pk=project.pk).soft_delete()
    change_record(project=project, actor=actor, changes=[Change("project", project.pk, ChangeAction.DELETED)])


def _validate_role_value(role) -> int:
    if isinstance(role, bool) or role not in Role.values:
        raise InvalidInput("Must be one of 1, 100, 200, 300, 400.", field="role")
    return int(role)


def _live_owner_count(project: Project) -> int:
    return Membership.objects.filter(project=project, role=Role.OWNER).count()


@write_transaction()
def membership_add(*, actor, project: Project, user, role: int | None = None) -> Membership:
    """Add a person to the project (Owner only), at a role strictly below the actor's."""
    caller = require_role(actor, project, Role.OWNER, action="add members")
    role = project.default_member_role if role is None else _validate_role_value(role)
    if role >= caller:
        raise PermissionDenied("You can only give a role below your own.", field="role")
    if user is None or not user.is_active:
        raise InvalidInput("No such active user.", field="user")
    project_write_lock(project)
    if Membership.objects.filter(project=project, user=user).exists():
        raise Conflict(f"{user.username} is already a member of this project.", field="user",
                       code="duplicate_membership")
    membership = Membership.objects.create(project=project, user=user, role=role, role_changed_at=timezone.now())
    change_record(project=project, actor=actor, changes=[
        Change("membership", membership.pk, ChangeAction.CREATED, diff({}, snapshot(membership, MEMBERSHIP_FIELDS)))
    ])
    return membership


@write_transaction()
def membership_change_role(*, actor, membership: Membership, role: int, lock_version: int | None = None) -> Membership:
    """Change a member's role (Owner only). The new role, and the member's current role unless it is the
    actor's own membership, must be below the actor's. The last Owner cannot be demoted."""
    project = membership.project
    caller = require_role(actor, project, Role.OWNER, action="change member roles")
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
        raise InvalidInput("The project's last Owner cannot be demoted.", field="role", code="last_owner")
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
        raise NotFound("Project not found.")
    project_write_lock(project)
    membership = Membership.objects.select_for_update().filter(pk=membership.pk).first()
    if membership is None:
        raise NotFound("Member not found.")
    if membership.user_id != actor.pk:
        if caller < Role.OWNER:
            raise PermissionDenied("Only an Owner can remove other members.")
        if membership.role >= caller:
            raise PermissionDenied("You can only remove members ranked below you.")
    if membership.role == Role.OWNER and _live_owner_count(project) <= 1:
        raise InvalidInput("The project's last Owner cannot be removed.", field="user", code="last_owner")
    Membership.objects.filter(pk=membership.pk).soft_delete()
    change_record(project=project, actor=actor, changes=[Change("membership", membership.pk, ChangeAction.DELETED)])
