"""Writes for work items and dependencies: role checks, domain validation, cascades, the change log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from keelplan.calendars.selectors import require_usable_calendar
from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, project_write_lock, row_save_changes, snapshot,
)
from keelplan.core.errors import Conflict, CyclicDependency, InvalidInput, NotFound, PermissionDenied
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import require_decimal, require_int_range, require_schedulable, require_text
from keelplan.engine import limits
from keelplan.planning.graph import find_cycle
from keelplan.planning.models import (
    DATED_CONSTRAINTS, ConstraintType, Dependency, DependencyType, LagUnit, Priority, SchedulingMode, Status, WorkItem,
    WorkItemType,
)
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.portfolio.selectors import require_role, role_in
from keelplan.resources.models import Assignment

TASK_FIELDS = (
    "name", "description", "parent", "position", "status", "type", "priority", "assignee", "duration",
    "is_milestone", "scheduling_mode", "manual_start", "manual_finish", "constraint_type", "constraint_date",
    "deadline", "calendar", "percent_complete", "actual_start", "actual_finish",
)
# What a Member may change on a work item assigned to them.
MEMBER_FORBIDDEN_FIELDS = frozenset({"assignee", "parent"})
DEPENDENCY_FIELDS = ("predecessor", "successor", "dep_type", "lag", "lag_unit", "description")
LAG_LIMITS = {LagUnit.WORKING_DAYS: limits.MAX_LAG_DAYS, LagUnit.ELAPSED_DAYS: limits.MAX_LAG_DAYS,
              LagUnit.PERCENT: limits.MAX_LAG_PERCENT}
# The fields whose dates the scheduler bounds by the project start (checked when one of these changes).
SCHEDULED_DATE_FIELDS = frozenset({"constraint_type", "constraint_date", "manual_start", "manual_finish",
                                   "actual_start", "actual_finish"})


# ---------------------------------------------------------------- reference data

def default_status() -> Status:
    return Status.objects.filter(is_default=True).first() or Status.objects.order_by("position").first()


def default_type() -> WorkItemType:
    return WorkItemType.objects.filter(is_default=True).first() or WorkItemType.objects.order_by("position").first()


def default_priority() -> Priority:
    return Priority.objects.filter(is_default=True).first() or Priority.objects.order_by("position").first()


# ---------------------------------------------------------------- work items

def _may_edit_task(role: int | None, actor, task: WorkItem) -> bool:
    if role is None:
        return False
    if role >= Role.ADMIN:
        return True
    return role == Role.MEMBER and _is_assigned_to(actor, task)


def _is_assigned_to(actor, task: WorkItem) -> bool:
    if task.assignee_id == actor.pk:
        return True
    return task.assignments.filter(resource__user_id=actor.pk).exists()


def _as_date(value, field: str):
    if value is not None and not isinstance(value, dt.date):
        raise InvalidInput("Must be a date (YYYY-MM-DD).", field=field)
    return value


def _validate_task(task: WorkItem, changed: set[str]) -> None:
    """Rules that involve one work item's own fields, checked after the new values are applied."""
    task.name = require_text(task.name, field="name", max_length=512)
    require_int_range(task.duration, field="duration", low=0, high=limits.MAX_DURATION_DAYS)
    task.percent_complete = require_decimal(task.percent_complete, field="percent_complete", low=Decimal(0),
                                            high=Decimal(100))
    for name in ("manual_start", "manual_finish", "constraint_date", "deadline", "actual_start", "actual_finish"):
        _as_date(getattr(task, name), name)
    if task.constraint_type not in ConstraintType.values:
        raise InvalidInput(f"Must be one of {', '.join(ConstraintType.values)}.", field="constraint_type")
    if task.constraint_type in DATED_CONSTRAINTS:
        if task.constraint_date is None:
            raise InvalidInput(f"A {task.constraint_type} constraint needs a date.", field="constraint_date")
    elif "constraint_type" in changed:
        task.constraint_date = None
    elif task.constraint_date is not None and "constraint_date" in changed:
        raise InvalidInput("ASAP and ALAP constraints take no date; set constraint_type too.", field="constraint_date")
    if task.scheduling_mode not in SchedulingMode.values:
        raise InvalidInput("Must be 'auto' or 'manual'.", field="scheduling_mode")
    if task.scheduling_mode == SchedulingMode.MANUAL:
        if task.manual_start is None:
            raise InvalidInput("A manually scheduled task needs a start date.", field="manual_start")
        if task.manual_finish is None:
            task.manual_finish = task.manual_start
        if task.manual_finish < task.manual_start:
            raise InvalidInput("The finish cannot be before the start.", field="manual_finish")
    # An actual finish alone is accepted, as TruePPM accepts it (the task is complete, its start not recorded).
    if task.actual_finish is not None and task.actual_start is not None and task.actual_finish < task.actual_start:
        raise InvalidInput("The actual finish cannot be before the actual start.", field="actual_finish")
    if changed & SCHEDULED_DATE_FIELDS:
        _validate_scheduled_dates(task)
    if task.is_milestone:
        task.duration = 0
    if "calendar" in changed:
        require_usable_calendar(task.calendar, task.project)


def _validate_scheduled_dates(task: WorkItem) -> None:
    """The task's dates that place work lie within the scheduler's bounds of the project start
    (``keelplan.engine.limits``); so does every other task's, and a change of the start keeps it so."""
    dates = (task.constraint_date, task.manual_start, task.manual_finish, task.actual_start, task.actual_finish)
    if all(value is None for value in dates):
        return
    start = task.project.start_date
    # In TruePPM's words (the v1 dialect's too) a start-no-earlier-than date is the planned start.
    snet = task.constraint_type == ConstraintType.SNET
    require_schedulable(limits.planned_date_problem(start, task.constraint_date,
                                                    what="planned start" if snet else "constraint date"),
                        field="constraint_date", what="planned start" if snet else "constraint date",
                        also=("planned_start",) if snet else ())
    for field, what in (("manual_start", "manual start"), ("manual_finish", "manual finish")):
        require_schedulable(limits.planned_date_problem(start, getattr(task, field), what=what), field=field,
                            what=what)
    for field, what in (("actual_start", "actual start"), ("actual_finish", "actual finish")):
        require_schedulable(limits.actual_date_problem(start, getattr(task, field)), field=field, what=what)


def check_member_fields(role: int, fields) -> None:
    """Below Admin, the fields a Member may not change on a task of theirs are refused, naming the first."""
    if role < Role.ADMIN:
        forbidden = sorted(MEMBER_FORBIDDEN_FIELDS & set(fields))
        if forbidden:
            raise PermissionDenied("Only an Admin may change this field.", field=forbidden[0])


def apply_task_fields(task: WorkItem, fields: dict) -> None:
    """Set ``fields`` on ``task`` and check the rules on its own fields (status, type and priority stay set)."""
    for key, value in fields.items():
        if key in ("status", "type", "priority") and value is None:
            raise InvalidInput("This field may not be null.", field=key)
        setattr(task, key, value)
    _validate_task(task, set(fields))


def _validate_assignee(project: Project, assignee) -> None:
    if assignee is None:
        return
    if not Membership.objects.filter(project=project, user=assignee).exists():
        raise InvalidInput("The assignee must be a member of the project.", field="assignee")


def _validate_parent(task: WorkItem, parent: WorkItem | None) -> None:
    if parent is None:
        return
    if parent.is_deleted or parent.project_id != task.project_id:
        raise InvalidInput("The parent must be a task of the same project.", field="parent")
    node = parent
    while node is not None:
        if task.pk is not None and node.pk == task.pk:
            raise InvalidInput("A task cannot sit under itself or its own subtasks.", field="parent",
                               code="cyclic_parent")
        node = node.parent


def cycle_error(cycle: list, *, field: str) -> CyclicDependency:
    """The error for a cycle of work item ids, naming each task on it."""
    names = dict(WorkItem.all_objects.filter(pk__in=set(cycle)).values_list("id", "name"))
    return CyclicDependency(cycle, names=[f"{names.get(t, t)} (#{t})" for t in cycle], field=field)


def _check_parent_move(project: Project, task_id: int, parent_id: int | None) -> None:
    """Refuse moving a task under ``parent_id`` if, with summaries expanded, the project's links would then
    form a cycle. (A new or changed link needs no such check: the scheduler refuses cycles before commit.)"""
    parent_of = dict(WorkItem.objects.filter(project=project).values_list("id", "parent_id"))
    parent_of[task_id] = parent_id
    links = list(Dependency.objects.filter(project=project).values_list("predecessor_id", "successor_id"))
    cycle = find_cycle(parent_of.keys(), parent_of, links)
    if cycle:
        raise cycle_error(cycle, field="parent")


@write_transaction()
def task_create(*, actor, project: Project, name: str, **fields) -> WorkItem:
    """Create a work item (Admin or above)."""
    require_role(actor, project, Role.ADMIN, action="create tasks")
    unknown = set(fields) - set(TASK_FIELDS)
    if unknown:
        raise InvalidInput("Unknown field.", field=sorted(unknown)[0])
    project_write_lock(project)
    task = WorkItem(project=project, author=actor, name=name)
    task.status = fields.pop("status", None) or default_status()
    task.type = fields.pop("type", None) or default_type()
    task.priority = fields.pop("priority", None) or default_priority()
    for key, value in fields.items():
        setattr(task, key, value)
    if task.type.is_milestone and "is_milestone" not in fields:
        task.is_milestone = True
    _validate_task(task, set(fields) | {"name"})
    _validate_assignee(project, task.assignee)
    _validate_parent(task, task.parent)
    if "position" not in fields:
        last = WorkItem.all_objects.filter(project=project).order_by("-position").values_list("position", flat=True).first()
        task.position = (last or 0) + 1
    task.save()
    change_record(project=project, actor=actor, changes=[
        Change("work_item", task.pk, ChangeAction.CREATED, diff({}, snapshot(task, TASK_FIELDS)))
    ])
    return task


@write_transaction()
def task_update(*, actor, task: WorkItem, lock_version: int | None = None, **fields) -> WorkItem:
    """Change a work item: Admin and above any task; a Member only tasks assigned to them (not their
    assignee or parent)."""
    unknown = set(fields) - set(TASK_FIELDS)
    if unknown:
        raise InvalidInput("Unknown field.", field=sorted(unknown)[0])
    project = task.project
    role = require_role(actor, project, Role.VIEWER, action="view this project")
    if not _may_edit_task(role, actor, task):
        raise PermissionDenied("Your role may not edit this task.")
    check_member_fields(role, fields)
    project_write_lock(project)
    task = WorkItem.objects.select_for_update().filter(pk=task.pk).first()
    if task is None:
        raise NotFound("Task not found.")
    check_lock_version(task, lock_version)
    before = snapshot(task, TASK_FIELDS)
    old_parent_id = task.parent_id
    apply_task_fields(task, fields)
    if "assignee" in fields:
        _validate_assignee(project, task.assignee)
    if task.parent_id != old_parent_id:
        _validate_parent(task, task.parent)
        _check_parent_move(project, task.pk, task.parent_id)
    row_save_changes(task, before, TASK_FIELDS, entity="work_item", project=project, actor=actor)
    return task


def _subtree_ids(root: WorkItem) -> list[int]:
    ids, frontier = [root.pk], [root.pk]
    while frontier:
        frontier = list(WorkItem.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        ids.extend(frontier)
    return ids


@write_transaction()
def task_delete(*, actor, task: WorkItem) -> None:
    """Soft-delete a work item (Admin or above) with its subtasks, their dependencies and assignments."""
    project = task.project
    require_role(actor, project, Role.ADMIN, action="delete tasks")
    project_write_lock(project)
    ids = _subtree_ids(task)
    now = timezone.now()
    link_ids = list(
        Dependency.objects.filter(project=project)
        .filter(Q(predecessor_id__in=ids) | Q(successor_id__in=ids)).values_list("id", flat=True)
    )
    assignment_ids = list(Assignment.objects.filter(work_item_id__in=ids).values_list("id", flat=True))
    Dependency.objects.filter(pk__in=link_ids).soft_delete(at=now)
    Assignment.objects.filter(pk__in=assignment_ids).soft_delete(at=now)
    WorkItem.objects.filter(pk__in=ids).soft_delete(at=now)
    change_record(project=project, actor=actor, changes=(
        [Change("dependency", i, ChangeAction.DELETED) for i in sorted(link_ids)]
        + [Change("assignment", i, ChangeAction.DELETED) for i in sorted(assignment_ids)]
        + [Change("work_item", i, ChangeAction.DELETED) for i in ids]
    ))


@write_transaction()
def task_restore(*, actor, task_id: int) -> WorkItem:
    """Bring back a soft-deleted work item (Admin or above) with what was deleted together with it: its
    subtasks, and the links and assignments whose other end is live again. Links that would now duplicate
    or close a cycle are refused."""
    task = WorkItem.all_objects.filter(pk=task_id, project__deleted_at__isnull=True).select_related("project").first()
    if task is None or role_in(actor, task.project) is None:
        raise NotFound("Task not found.")
    project = task.project
    require_role(actor, project, Role.ADMIN, action="restore tasks")
    project_write_lock(project)
    task = WorkItem.all_objects.get(pk=task.pk)
    if not task.is_deleted:
        return task
    if task.parent_id is not None and WorkItem.all_objects.filter(pk=task.parent_id, deleted_at__isnull=False).exists():
        raise Conflict("Restore the parent task first.", field="parent", code="parent_deleted")
    stamp = task.deleted_at
    ids, frontier = [task.pk], [task.pk]
    while frontier:
        frontier = list(WorkItem.all_objects.filter(parent_id__in=frontier, deleted_at=stamp).values_list("id", flat=True))
        ids.extend(frontier)
    live_after = set(WorkItem.objects.filter(project=project).values_list("id", flat=True)) | set(ids)
    links = [
        (pk, pred, succ, kind) for pk, pred, succ, kind in Dependency.all_objects.filter(project=project, deleted_at=stamp)
        .filter(Q(predecessor_id__in=ids) | Q(successor_id__in=ids))
        .values_list("id", "predecessor_id", "successor_id", "dep_type")
        if pred in live_after and succ in live_after
    ]
    existing = set(Dependency.objects.filter(project=project).values_list("predecessor_id", "successor_id", "dep_type"))
    clash = next(((pred, succ) for _, pred, succ, kind in links if (pred, succ, kind) in existing), None)
    if clash:
        raise Conflict(f"Task #{clash[0]} and #{clash[1]} were linked again since; remove that link first.",
                       code="duplicate_dependency")
    parent_of = dict(WorkItem.all_objects.filter(pk__in=live_after).values_list("id", "parent_id"))
    all_links = list(Dependency.objects.filter(project=project).values_list("predecessor_id", "successor_id"))
    cycle = find_cycle(parent_of.keys(), parent_of, all_links + [(pred, succ) for _, pred, succ, _ in links])
    if cycle:
        raise CyclicDependency(cycle, field="id")
    assignment_ids = list(
        Assignment.all_objects.filter(work_item_id__in=ids, deleted_at=stamp, resource__deleted_at__isnull=True)
        .exclude(resource_id__in=Assignment.objects.filter(work_item_id__in=ids).values("resource_id"))
        .values_list("id", flat=True)
    )
    link_ids = [pk for pk, *_ in links]
    now = timezone.now()
    WorkItem.all_objects.filter(pk__in=ids).update(deleted_at=None, updated_at=now)
    Dependency.all_objects.filter(pk__in=link_ids).update(deleted_at=None, updated_at=now)
    Assignment.all_objects.filter(pk__in=assignment_ids).update(deleted_at=None, updated_at=now)
    change_record(project=project, actor=actor, changes=(
        [Change("work_item", i, ChangeAction.RESTORED) for i in ids]
        + [Change("dependency", i, ChangeAction.RESTORED) for i in sorted(link_ids)]
        + [Change("assignment", i, ChangeAction.RESTORED) for i in sorted(assignment_ids)]
    ))
    return WorkItem.objects.get(pk=task.pk)


# ---------------------------------------------------------------- dependencies

def _validate_link_values(dep_type, lag, lag_unit) -> None:
    if dep_type not in DependencyType.values:
        raise InvalidInput("Must be one of FS, SS, FF, SF.", field="dep_type")
    if lag_unit not in LagUnit.values:
        raise InvalidInput("Must be one of wd (working days), ed (elapsed days), pct (percent).", field="lag_unit")
    limit = LAG_LIMITS[lag_unit]
    require_int_range(lag, field="lag", low=-limit, high=limit)


def _validate_link_ends(predecessor: WorkItem, successor: WorkItem) -> None:
    if predecessor is None or predecessor.is_deleted:
        raise InvalidInput("The predecessor does not exist.", field="predecessor")
    if successor is None or successor.is_deleted:
        raise InvalidInput("The successor does not exist.", field="successor")
    if predecessor.pk == successor.pk:
        raise InvalidInput("A task cannot depend on itself.", field="successor", code="self_dependency")
    if predecessor.project_id != successor.project_id:
        raise InvalidInput("Predecessor and successor must belong to the same project.", field="predecessor",
                           code="cross_project_dependency")


def _save_link(dependency: Dependency) -> None:
    try:
        with transaction.atomic():
            dependency.save()
    except IntegrityError:
        raise Conflict("These two tasks are already linked with this type.", field="successor",
                       code="duplicate_dependency") from None


@write_transaction()
def dependency_create(
    *, actor, predecessor: WorkItem, successor: WorkItem, dep_type: str = DependencyType.FS, lag: int = 0,
    lag_unit: str = LagUnit.ELAPSED_DAYS, description: str = "",
) -> Dependency:
    """Link two work items of one project (Scheduler or above). Refuses self-links, cross-project links,
    duplicates and anything that would close a cycle."""
    if successor is None or successor.is_deleted:
        raise InvalidInput("The successor does not exist.", field="successor")
    project = successor.project
    if role_in(actor, project) is None:
        raise InvalidInput("The successor does not exist.", field="successor")
    require_role(actor, project, Role.SCHEDULER, action="manage dependencies")
    _validate_link_ends(predecessor, successor)
    _validate_link_values(dep_type, lag, lag_unit)
    project_write_lock(project)
    if Dependency.objects.filter(predecessor=predecessor, successor=successor, dep_type=dep_type).exists():
        raise Conflict("These two tasks are already linked with this type.", field="successor",
                       code="duplicate_dependency")
    # A link that closes a cycle (summaries expanded) is refused by the scheduler, which runs before this write
    # commits and already holds the project's graph in memory: checking here too would read the whole graph.
    dependency = Dependency(project=project, predecessor=predecessor, successor=successor, dep_type=dep_type, lag=lag,
                            lag_unit=lag_unit, description=description or "", created_by=actor)
    _save_link(dependency)
    change_record(project=project, actor=actor, changes=[
        Change("dependency", dependency.pk, ChangeAction.CREATED, diff({}, snapshot(dependency, DEPENDENCY_FIELDS)))
    ])
    return dependency


@write_transaction()
def dependency_update(*, actor, dependency: Dependency, lock_version: int | None = None, **fields) -> Dependency:
    """Change a link's ends, type or lag (Scheduler or above), with the same checks as creating it."""
    unknown = set(fields) - set(DEPENDENCY_FIELDS)
    if unknown:
        raise InvalidInput("Unknown field.", field=sorted(unknown)[0])
    project = dependency.project
    require_role(actor, project, Role.SCHEDULER, action="manage dependencies")
    project_write_lock(project)
    dependency = Dependency.objects.select_for_update().filter(pk=dependency.pk).first()
    if dependency is None:
        raise NotFound("Dependency not found.")
    check_lock_version(dependency, lock_version)
    before = snapshot(dependency, DEPENDENCY_FIELDS)
    for key, value in fields.items():
        setattr(dependency, key, value)
    if dependency.description is None:
        dependency.description = ""
    _validate_link_ends(dependency.predecessor, dependency.successor)
    if dependency.successor.project_id != project.pk:
        raise InvalidInput("A dependency cannot move to another project.", field="successor",
                           code="cross_project_dependency")
    _validate_link_values(dependency.dep_type, dependency.lag, dependency.lag_unit)
    changes = diff(before, snapshot(dependency, DEPENDENCY_FIELDS))
    if not changes:
        return dependency
    if "predecessor" in changes or "successor" in changes:
        rows = Dependency.objects.filter(project=project).exclude(pk=dependency.pk)
        if rows.filter(predecessor=dependency.predecessor, successor=dependency.successor,
                       dep_type=dependency.dep_type).exists():
            raise Conflict("These two tasks are already linked with this type.", field="successor",
                           code="duplicate_dependency")
        # A cycle is refused by the scheduler before commit, as for dependency_create.
    row_save_changes(dependency, before, DEPENDENCY_FIELDS, entity="dependency", project=project, actor=actor,
                     save=lambda: _save_link(dependency))
    return dependency


@write_transaction()
def dependency_delete(*, actor, dependency: Dependency) -> None:
    """Soft-delete a link (Scheduler or above)."""
    project = dependency.project
    require_role(actor, project, Role.SCHEDULER, action="manage dependencies")
    project_write_lock(project)
    if not Dependency.objects.filter(pk=dependency.pk).soft_delete():
        raise NotFound("Dependency not found.")
    change_record(project=project, actor=actor, changes=[Change("dependency", dependency.pk, ChangeAction.DELETED)])
