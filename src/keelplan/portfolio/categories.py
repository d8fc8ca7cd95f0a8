"""Groups used as categories: assigning a group to a company, a project or an activity, and reading who has which.

A category groups rows for reports and bulk selection (Beebole's ``X.add_group``) and grants nothing: putting a
project in a group gives the group's people no role in it (that is a ``Membership``). Who may assign is who may
change the target: a project's Admins (and workspace administrators) for a project, workspace administrators for
a company or an activity. A project's assignments are logged in its stream, the others in the workspace stream.

Locks, in this order: the group's row (so it cannot be deleted while an assignment to it is written), then the
target's stream. ``group_assignments_remove``, which deleting a group calls first, takes them in the same order.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet

from keelplan.accounts.models import Group
from keelplan.changelog.services import Change, ChangeAction, change_record, locked_stream, project_write_lock
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Fields, Reference
from keelplan.permissions import Action, require
from keelplan.portfolio.models import Company, GroupAssignment, Project
from keelplan.timesheets.models import Activity

GROUP_INPUT = Fields(group=Reference(Group, entity="group"))
# What a group may be assigned to, and the column of ``GroupAssignment`` naming each.
TARGETS: tuple[tuple[type, str], ...] = ((Company, "company"), (Project, "project"), (Activity, "activity"))
# An assignment whose target is live (deleted companies' and projects' assignments wait, unseen, for a restore).
LIVE_TARGET = (Q(company__isnull=False, company__deleted_at__isnull=True)
               | Q(project__isnull=False, project__deleted_at__isnull=True) | Q(activity__isnull=False))


def _kind_of(target) -> str:
    for model, kind in TARGETS:
        if isinstance(target, model) and target.pk is not None:
            return kind
    raise InvalidInput("Must be a company, a project or an activity.", field="target", code=ErrorCode.INVALID_TYPE,
                       expected="company, project or activity")


def _require_may_change(actor, target, kind: str) -> None:
    """A project's target needs the right to change the project (NotFound for those who cannot see it), the
    others a workspace administrator."""
    if kind == "project":
        require(actor, Action.PROJECT_UPDATE, target)
    else:
        require(actor, Action.WORKSPACE_MANAGE)


def _lock_target(target, kind: str):
    """Take the target's stream, then read the target again: NotFound once it is deleted."""
    if kind == "project":
        project_write_lock(target)
        live = Project.objects.filter(pk=target.pk).first()
    else:
        locked_stream(None)
        live = (Company.objects if kind == "company" else Activity.objects).filter(pk=target.pk).first()
    if live is None:
        raise NotFound(f"No such {kind}.", entity=kind)
    return live


@write_transaction()
def group_assign(*, actor, group: Group, target) -> GroupAssignment:
    """Put ``target`` (a ``Company``, ``Project`` or ``Activity``) in ``group``, a live group. Assigning it twice:
    ``duplicate_assignment``."""
    kind = _kind_of(target)
    _require_may_change(actor, target, kind)
    group = GROUP_INPUT.clean({"group": group})["group"]
    group = Group.objects.select_for_update().filter(pk=group.pk).first()
    if group is None:
        raise InvalidInput("No such group.", field="group", code=ErrorCode.INVALID_REFERENCE, entity="group")
    target = _lock_target(target, kind)
    if GroupAssignment.objects.filter(group=group, **{kind: target}).exists():
        raise _already_assigned(group, kind)
    try:
        with transaction.atomic():
            row = GroupAssignment.objects.create(group=group, **{kind: target})
    except IntegrityError:
        raise _already_assigned(group, kind) from None
    change_record(project=target if kind == "project" else None, actor=actor, changes=[
        Change("group_assignment", row.pk, ChangeAction.CREATED, {"group": (None, group.pk), kind: (None, target.pk)})])
    return row


def _already_assigned(group: Group, kind: str) -> Conflict:
    return Conflict(f"The {kind} is in the group {group.name!r} already.", field="group",
                    code=ErrorCode.DUPLICATE_ASSIGNMENT)


@write_transaction()
def group_unassign(*, actor, group: Group, target) -> None:
    """Take ``target`` out of ``group``. A target not in the group: NotFound (``group assignment``)."""
    kind = _kind_of(target)
    _require_may_change(actor, target, kind)
    group = GROUP_INPUT.clean({"group": group})["group"]
    target = _lock_target(target, kind)
    row = GroupAssignment.objects.filter(group_id=group.pk, **{kind: target}).first()
    if row is None:
        raise NotFound(f"The {kind} is not in this group.", entity="group assignment")
    pk = row.pk
    row.delete()
    change_record(project=target if kind == "project" else None, actor=actor,
                  changes=[Change("group_assignment", pk, ChangeAction.DELETED)])


@write_transaction()
def group_assignments_remove(group: Group, *, actor) -> int:
    """Remove every assignment of ``group`` (workspace administrators), as deleting the group must; returns how
    many there were (deleted targets' too). Each is logged where it was: a project's in the project's stream, the
    others in the workspace stream."""
    require(actor, Action.WORKSPACE_MANAGE)
    Group.all_objects.select_for_update().filter(pk=group.pk).first()   # the group before any stream
    rows = list(GroupAssignment.objects.filter(group_id=group.pk).values_list("id", "project_id"))
    if not rows:
        return 0
    GroupAssignment.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    by_project: dict[int | None, list[int]] = {}
    for pk, project_id in rows:
        by_project.setdefault(project_id, []).append(pk)
    change_record(project=None, actor=actor,
                  changes=[Change("group_assignment", pk, ChangeAction.DELETED) for pk in by_project.pop(None, [])])
    for project in Project.all_objects.filter(pk__in=by_project).order_by("pk"):
        change_record(project=project, actor=actor,
                      changes=[Change("group_assignment", pk, ChangeAction.DELETED) for pk in by_project[project.pk]])
    return len(rows)


# ---------------------------------------------------------------- reads

def groups_assigned(target) -> list[Group]:
    """The live groups ``target`` (a company, project or activity) is in, by id, each annotated with
    ``subgroup_count`` (its live child groups, Beebole's ``groups.count``). Whether the reader may see the target
    is the caller's check."""
    kind = _kind_of(target)
    return list(Group.objects.filter(**{f"category_assignments__{kind}_id": target.pk})
                .annotate(subgroup_count=Count("children", filter=Q(children__deleted_at__isnull=True)))
                .order_by("id"))


def group_assignments(group: Group) -> dict[str, QuerySet]:
    """What ``group`` is assigned to: ``companies``, ``projects`` and ``activities``, live ones only.

    ``projects`` are **not** filtered by who may see them: the caller keeps those of
    ``keelplan.permissions.project_ids_visible(actor)`` (``projects.filter(pk__in=project_ids_visible(actor))``).
    """
    assigned = {"group_assignments__group_id": group.pk}
    return {"companies": Company.objects.filter(**assigned).order_by("id"),
            "projects": Project.objects.filter(**assigned).order_by("id"),
            "activities": Activity.objects.filter(**assigned)}


def group_assignment_count(group: Group) -> int:
    """How many live companies, projects and activities ``group`` is assigned to (whoever may see them): a group
    with any is refused deletion unless forced. One query."""
    return GroupAssignment.objects.filter(LIVE_TARGET, group_id=group.pk).count()
