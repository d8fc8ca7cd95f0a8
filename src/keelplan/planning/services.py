"""Writes for work items and dependencies: role checks, domain validation, cascades, the change log."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from keelplan.accounts.models import User
from keelplan.calendars.models import Calendar
from keelplan.calendars.selectors import require_usable_calendar
from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, project_write_lock, row_save_changes, snapshot,
)
from keelplan.core.errors import Conflict, CyclicDependency, ErrorCode, InvalidInput, NotFound
from keelplan.core.models import MAX_POSITION, check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import (
    Boolean, Choice, Date, Fields, Integer, Number, Reference, Text, require_int_range, require_schedulable,
)
from keelplan.customfields.models import AppliesTo
from keelplan.customfields.services import custom_values_clean, custom_values_write
from keelplan.engine import limits
from keelplan.permissions import Action, ProjectAccess, members_among, require
from keelplan.planning.graph import find_cycle
from keelplan.planning.models import (
    DATED_CONSTRAINTS, SCHEDULING_TYPES, Category, ConstraintType, Dependency, DependencyType, LagUnit, Priority,
    RelationType, SchedulingMode, Status, Version, WorkItem, WorkItemType,
)
from keelplan.planning.reference import (
    default_type_for, require_assignable_version, require_enabled_type, require_usable_category, types_enabled,
)
from keelplan.planning.workflows import require_initial_status, require_transition
from keelplan.portfolio.models import Project
from keelplan.resources.models import Assignment

TASK_FIELDS = (
    "name", "description", "parent", "position", "status", "type", "priority", "assignee", "duration",
    "is_milestone", "scheduling_mode", "manual_start", "manual_finish", "constraint_type", "constraint_date",
    "deadline", "calendar", "percent_complete", "actual_start", "actual_finish", "responsible", "estimated_hours",
    "remaining_hours", "version", "category",
)
MAX_HOURS = Decimal("99999999.99")
DEPENDENCY_FIELDS = ("predecessor", "successor", "dep_type", "lag", "lag_unit", "description")
MAX_DESCRIPTION = 100_000
MAX_LINK_DESCRIPTION = 10_000
# The change log's entity for a relation that does not schedule (a scheduling link's is "dependency").
RELATION_ENTITY = "relation"
# Every writable work item field and how its values are read: the single-row services, the bulk write and offline
# push all clean input through it, so each refuses the same value with the same code.
TASK_INPUT = Fields(
    name=Text(512), description=Text(MAX_DESCRIPTION, blank=True, strip=False),
    parent=Reference(WorkItem, null=True), position=Integer(0, MAX_POSITION),
    status=Reference(Status), type=Reference(WorkItemType), priority=Reference(Priority),
    assignee=Reference(User, null=True, entity="person"), duration=Integer(0, limits.MAX_DURATION_DAYS),
    is_milestone=Boolean(), scheduling_mode=Choice(SchedulingMode), manual_start=Date(null=True),
    manual_finish=Date(null=True), constraint_type=Choice(ConstraintType), constraint_date=Date(null=True),
    deadline=Date(null=True), calendar=Reference(Calendar, null=True), percent_complete=Number(0, 100),
    actual_start=Date(null=True), actual_finish=Date(null=True), responsible=Reference(User, null=True, entity="person"),
    estimated_hours=Number(0, MAX_HOURS, null=True), remaining_hours=Number(0, MAX_HOURS, null=True),
    version=Reference(Version, null=True), category=Reference(Category, null=True),
)
assert set(TASK_INPUT) == set(TASK_FIELDS)
LAG_LIMITS = {LagUnit.WORKING_DAYS: limits.MAX_LAG_DAYS, LagUnit.ELAPSED_DAYS: limits.MAX_LAG_DAYS,
              LagUnit.PERCENT: limits.MAX_LAG_PERCENT}
DEPENDENCY_INPUT = Fields(
    predecessor=Reference(WorkItem), successor=Reference(WorkItem), dep_type=Choice(DependencyType),
    lag=Integer(-max(LAG_LIMITS.values()), max(LAG_LIMITS.values())), lag_unit=Choice(LagUnit),
    description=Text(MAX_LINK_DESCRIPTION, blank=True, strip=False),
)
# The fields whose dates the scheduler bounds by the project start (checked when one of these changes).
WORK_ITEM = AppliesTo.WORK_ITEM.value
MANUAL_WINDOW_FIELDS = frozenset({"scheduling_mode", "manual_start", "manual_finish"})
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

def clean_task_fields(fields: dict) -> dict:
    """New work item values read the one way (``TASK_INPUT``): unknown fields, wrong types, blanks, lengths and
    ranges refused with a registered code naming the field."""
    return TASK_INPUT.clean(fields)


def validate_task(task: WorkItem, changed: set[str], *, allow_undated: bool = False) -> None:
    """The rules across one work item's own fields, checked after cleaned values are applied: constraint and
    date pairs, the manual window, the scheduler's date bounds, and the calendar the project may use.

    A manually scheduled work item with neither date takes no part in the schedule (OpenProject's default for a
    new work package). Only a caller that offers such items passes ``allow_undated``; for the others (the v1
    dialect: TruePPM's manual tasks always have dates) a write that sets the mode or the manual dates needs a
    start, while a write that leaves them alone may touch an undated item another dialect made."""
    if task.constraint_type in DATED_CONSTRAINTS:
        if task.constraint_date is None:
            raise InvalidInput(f"A {task.constraint_type} constraint needs a date.", field="constraint_date",
                               code=ErrorCode.REQUIRED)
    elif "constraint_type" in changed:
        task.constraint_date = None
    elif task.constraint_date is not None and "constraint_date" in changed:
        raise InvalidInput("ASAP and ALAP constraints take no date; set the constraint type too.",
                           field="constraint_date", code=ErrorCode.NOT_ALLOWED)
    if task.scheduling_mode == SchedulingMode.MANUAL and task.manual_start is None:
        if task.manual_finish is not None or not (allow_undated or changed.isdisjoint(MANUAL_WINDOW_FIELDS)):
            raise InvalidInput("A manually scheduled work item needs a start date.", field="manual_start",
                               code=ErrorCode.REQUIRED)
    elif task.scheduling_mode == SchedulingMode.MANUAL:
        if task.manual_finish is None:
            task.manual_finish = task.manual_start
        if task.manual_finish < task.manual_start:
            raise InvalidInput("The finish cannot be before the start.", field="manual_finish",
                               code=ErrorCode.FINISH_BEFORE_START)
    # An actual finish alone is accepted, as TruePPM accepts it (the task is complete, its start not recorded).
    if task.actual_finish is not None and task.actual_start is not None and task.actual_finish < task.actual_start:
        raise InvalidInput("The actual finish cannot be before the actual start.", field="actual_finish",
                           code=ErrorCode.FINISH_BEFORE_START)
    if changed & SCHEDULED_DATE_FIELDS:
        _validate_scheduled_dates(task)
    if task.is_milestone:
        task.duration = 0
    if "calendar" in changed:
        require_usable_calendar(task.calendar, task.project)
    if "type" in changed:
        _require_enabled_type(task)
    if "priority" in changed and not task.priority.is_active:
        raise InvalidInput(f"The priority {task.priority.name!r} is no longer in use.", field="priority",
                           code=ErrorCode.INVALID_REFERENCE, entity="priority")
    if "version" in changed:
        require_assignable_version(task.version, task.project)
    if "category" in changed:
        require_usable_category(task.category, task.project)


def _require_enabled_type(task: WorkItem) -> None:
    """The task's type is one its project enables; the project's enabled types are read once per project object
    (a bulk write checks thousands of rows of one project)."""
    project = task.project
    enabled = getattr(project, "_enabled_type_ids", None)
    if enabled is None:
        enabled = project._enabled_type_ids = frozenset(types_enabled(project).values_list("pk", flat=True))
    if task.type.pk not in enabled:
        require_enabled_type(task.type, project)   # the refusal, worded in one place


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


# ---------------------------------------------------------------- OpenProject's scheduling modes
# A dialect that offers OpenProject's rules (≥ 15.4) passes ``mode_follows_links`` to the services below: a work
# item may be switched to automatic only when it has something to take its dates from (a predecessor or a child);
# a manual work item becomes automatic when it gains a predecessor, and a manual parent when it gains its first
# child. The v1 dialect (TruePPM: every task automatic unless the user pins it) leaves them off.

def has_something_to_follow(task: WorkItem) -> bool:
    """Whether ``task`` has a live predecessor (a scheduling link into it) or a live child."""
    return task.pk is not None and (Dependency.objects.filter(successor_id=task.pk).exists()
                                    or WorkItem.objects.filter(parent_id=task.pk).exists())


def _require_something_to_follow(task: WorkItem) -> None:
    if not has_something_to_follow(task):
        raise InvalidInput("A work item is scheduled automatically only when it has a predecessor or a child to "
                           "take its dates from.", field="scheduling_mode", code=ErrorCode.NOTHING_TO_FOLLOW)


def _make_automatic(*, actor, project: Project, task_id: int) -> None:
    """Switch the work item ``task_id`` to automatic scheduling if it is manual; it keeps its duration, and the
    scheduler places it after its predecessors (or over its children)."""
    row = WorkItem.objects.select_for_update().filter(pk=task_id, scheduling_mode=SchedulingMode.MANUAL).first()
    if row is None:
        return
    before = snapshot(row, TASK_FIELDS)
    row.scheduling_mode = SchedulingMode.AUTO
    row_save_changes(row, before, TASK_FIELDS, entity="work_item", project=project, actor=actor)


def _first_child_makes_parent_automatic(*, actor, project: Project, task: WorkItem) -> None:
    """``task`` has just been put under its parent: a manual parent with no other live child turns automatic."""
    if task.parent_id is None or WorkItem.objects.filter(parent_id=task.parent_id).exclude(pk=task.pk).exists():
        return
    _make_automatic(actor=actor, project=project, task_id=task.parent_id)


def apply_task_fields(task: WorkItem, fields: dict, *, access: ProjectAccess, allow_undated: bool = False) -> None:
    """Set cleaned ``fields`` on ``task`` and check the rules across its own fields, and a change of its status
    against its type's workflow for ``access``'s actor (``workflows.require_transition``)."""
    old_status_id, old_assignee_id = task.status_id, task.assignee_id
    for key, value in fields.items():
        setattr(task, key, value)
    validate_task(task, set(fields), allow_undated=allow_undated)
    if task.status_id != old_status_id:
        require_transition(access, task, old_status_id=old_status_id, old_assignee_id=old_assignee_id)


def category_default_assignee(task: WorkItem, member_ids: set[int] | None = None):
    """Who a new work item without an assignee goes to: its category's default assignee, if still a member of the
    project (``member_ids``: people already known to be members, to spare the query), else nobody."""
    person = task.category.default_assignee if task.category is not None else None
    if person is None:
        return None
    if (member_ids is not None and person.pk in member_ids) or members_among(task.project, [person.pk]):
        return person
    return None


def validate_assignee(project: Project, assignee, *, field: str = "assignee") -> None:
    """The assignee (or the responsible person: ``field``), if any, is a member of the project."""
    if assignee is None:
        return
    if not members_among(project, [assignee.pk]):
        raise InvalidInput(f"The {field} must be a member of the project.", field=field,
                           code=ErrorCode.NOT_A_MEMBER)


def validate_parent(task: WorkItem, parent: WorkItem | None) -> None:
    """The parent, if any, is a live work item of the same project and not the task or one under it."""
    if parent is None:
        return
    if parent.is_deleted or parent.project_id != task.project_id:
        raise InvalidInput("The parent must be a work item of the same project.", field="parent",
                           code=ErrorCode.INVALID_REFERENCE, entity="work item")
    node = parent
    while node is not None:
        if task.pk is not None and node.pk == task.pk:
            raise InvalidInput("A work item cannot sit under itself or its own children.", field="parent",
                               code=ErrorCode.CYCLIC_PARENT)
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
def task_create(*, actor, project: Project, name: str, custom_fields: dict | None = None, allow_undated: bool = False,
                mode_follows_links: bool = False, **fields) -> WorkItem:
    """Create a work item (Admin or above). ``status``, ``type`` and ``priority`` default to the workspace's
    defaults when absent or None. ``custom_fields`` (``{custom field id: value}``) are checked against the
    definitions that apply to the project and type, defaults filled in, in the same transaction.
    ``allow_undated``: a manual work item may have no dates (``validate_task``). ``mode_follows_links``:
    OpenProject's scheduling modes (above), so a new work item cannot start automatic and a manual parent
    turns automatic with its first child. A status other than the default one must be a change the type's
    workflow allows the actor from the default status (``workflows.require_initial_status``)."""
    access = ProjectAccess(actor, project)
    access.require(Action.WORK_ITEM_CREATE, project)
    for key in ("status", "type", "priority"):
        if fields.get(key, 0) is None:
            del fields[key]
    fields = clean_task_fields({"name": name, **fields})
    given = set(fields)
    project_write_lock(project)
    task = WorkItem(project=project, author=actor)
    task.status = fields.pop("status", None) or default_status()
    task.type = fields.pop("type", None) or default_type_for(project) or default_type()
    task.priority = fields.pop("priority", None) or default_priority()
    for key, value in fields.items():
        setattr(task, key, value)
    if task.type.is_milestone and "is_milestone" not in fields:
        task.is_milestone = True
    if "assignee" not in given:
        task.assignee = category_default_assignee(task)
    validate_task(task, given | {"type"}, allow_undated=allow_undated)
    if "status" in given:
        require_initial_status(access, task)
    if mode_follows_links and task.scheduling_mode == SchedulingMode.AUTO:
        _require_something_to_follow(task)
    validate_assignee(project, task.assignee)
    validate_assignee(project, task.responsible, field="responsible")
    validate_parent(task, task.parent)
    custom = custom_values_clean(entity=WORK_ITEM, project=project, type=task.type, values=custom_fields or {},
                                 for_create=True)
    if "position" not in fields:
        last = WorkItem.all_objects.filter(project=project).order_by("-position").values_list("position", flat=True).first()
        task.position = (last or 0) + 1
    task.save()
    change_record(project=project, actor=actor, changes=[
        Change("work_item", task.pk, ChangeAction.CREATED, diff({}, snapshot(task, TASK_FIELDS)))
    ])
    if mode_follows_links:
        _first_child_makes_parent_automatic(actor=actor, project=project, task=task)
    custom_values_write(actor=actor, entity=WORK_ITEM, obj_id=task.pk, project=project, cleaned=custom)
    return task


@write_transaction()
def task_update(*, actor, task: WorkItem, lock_version: int | None = None, custom_fields: dict | None = None,
                allow_undated: bool = False, mode_follows_links: bool = False, **fields) -> WorkItem:
    """Change a work item: Admin and above any task; a Member only tasks assigned to them (not their
    assignee or parent). ``allow_undated`` and ``mode_follows_links`` as for ``task_create``: with the latter,
    switching to automatic needs a predecessor or a child, and a manual parent turns automatic with its first
    child. A change of status must be one the type's workflow allows the actor (``keelplan.planning.workflows``)."""
    project = task.project
    fields = clean_task_fields(fields)
    access = ProjectAccess(actor, project)
    access.require(Action.WORK_ITEM_UPDATE, task, fields=fields)
    project_write_lock(project)
    task = WorkItem.objects.select_for_update().filter(pk=task.pk).first()
    if task is None:
        raise NotFound("Work item not found.", entity="work item")
    check_lock_version(task, lock_version)
    before = snapshot(task, TASK_FIELDS)
    old_parent_id, was_automatic = task.parent_id, task.scheduling_mode == SchedulingMode.AUTO
    apply_task_fields(task, fields, access=access, allow_undated=allow_undated)
    if mode_follows_links and task.scheduling_mode == SchedulingMode.AUTO and not was_automatic:
        _require_something_to_follow(task)
    if "assignee" in fields:
        validate_assignee(project, task.assignee)
    if "responsible" in fields:
        validate_assignee(project, task.responsible, field="responsible")
    if task.parent_id != old_parent_id:
        validate_parent(task, task.parent)
        _check_parent_move(project, task.pk, task.parent_id)
    custom = (custom_values_clean(entity=WORK_ITEM, project=project, type=task.type, values=custom_fields,
                                  for_create=False) if custom_fields is not None else {})
    row_save_changes(task, before, TASK_FIELDS, entity="work_item", project=project, actor=actor)
    if mode_follows_links and task.parent_id != old_parent_id:
        _first_child_makes_parent_automatic(actor=actor, project=project, task=task)
    custom_values_write(actor=actor, entity=WORK_ITEM, obj_id=task.pk, project=project, cleaned=custom)
    return task


def subtree_ids(root: WorkItem) -> list[int]:
    """The ids of ``root`` and every live work item under it, top down."""
    ids, frontier = [root.pk], [root.pk]
    while frontier:
        frontier = list(WorkItem.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        ids.extend(frontier)
    return ids


@write_transaction()
def task_delete(*, actor, task: WorkItem) -> None:
    """Soft-delete a work item (Admin or above) with its subtasks, their dependencies and assignments."""
    project = task.project
    require(actor, Action.WORK_ITEM_DELETE, project)
    project_write_lock(project)
    ids = subtree_ids(task)
    now = timezone.now()
    link_ids, relation_ids = [], []
    for pk, kind in (Dependency.relations.filter(project=project)
                     .filter(Q(predecessor_id__in=ids) | Q(successor_id__in=ids)).values_list("id", "dep_type")):
        (link_ids if kind in SCHEDULING_TYPES else relation_ids).append(pk)
    assignment_ids = list(Assignment.objects.filter(work_item_id__in=ids).values_list("id", flat=True))
    Dependency.relations.filter(pk__in=link_ids + relation_ids).soft_delete(at=now)
    Assignment.objects.filter(pk__in=assignment_ids).soft_delete(at=now)
    WorkItem.objects.filter(pk__in=ids).soft_delete(at=now)
    change_record(project=project, actor=actor, changes=(
        [Change("dependency", i, ChangeAction.DELETED) for i in sorted(link_ids)]
        + [Change(RELATION_ENTITY, i, ChangeAction.DELETED) for i in sorted(relation_ids)]
        + [Change("assignment", i, ChangeAction.DELETED) for i in sorted(assignment_ids)]
        + [Change("work_item", i, ChangeAction.DELETED) for i in ids]
    ))


@write_transaction()
def task_restore(*, actor, task_id: int) -> WorkItem:
    """Bring back a soft-deleted work item (Admin or above) with what was deleted together with it: its
    subtasks, and the links and assignments whose other end is live again. Links that would now duplicate
    or close a cycle are refused."""
    task = WorkItem.all_objects.filter(pk=task_id, project__deleted_at__isnull=True).select_related("project").first()
    access = ProjectAccess(actor, task.project) if task is not None else None
    if access is None or not access.visible:
        raise NotFound("Work item not found.", entity="work item")
    project = task.project
    access.require(Action.WORK_ITEM_DELETE, project)
    project_write_lock(project)
    task = WorkItem.all_objects.get(pk=task.pk)
    if not task.is_deleted:
        return task
    if task.parent_id is not None and WorkItem.all_objects.filter(pk=task.parent_id, deleted_at__isnull=False).exists():
        raise Conflict("Restore the parent work item first.", field="parent", code=ErrorCode.PARENT_DELETED)
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
        raise Conflict(f"Work items #{clash[0]} and #{clash[1]} were linked again since; remove that link first.",
                       code=ErrorCode.DUPLICATE_DEPENDENCY)
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
    relation_ids = _relations_to_restore(project, ids, stamp, live_after)
    now = timezone.now()
    WorkItem.all_objects.filter(pk__in=ids).update(deleted_at=None, updated_at=now)
    Dependency.every_row.filter(pk__in=link_ids + relation_ids).update(deleted_at=None, updated_at=now)
    Assignment.all_objects.filter(pk__in=assignment_ids).update(deleted_at=None, updated_at=now)
    change_record(project=project, actor=actor, changes=(
        [Change("work_item", i, ChangeAction.RESTORED) for i in ids]
        + [Change("dependency", i, ChangeAction.RESTORED) for i in sorted(link_ids)]
        + [Change(RELATION_ENTITY, i, ChangeAction.RESTORED) for i in sorted(relation_ids)]
        + [Change("assignment", i, ChangeAction.RESTORED) for i in sorted(assignment_ids)]
    ))
    return WorkItem.objects.get(pk=task.pk)


def _relations_to_restore(project: Project, ids: list[int], stamp, live_after: set[int]) -> list[int]:
    """The relations deleted with the work items ``ids`` whose ends are live again, less any made again since
    (a relation carries nothing a new one lacks, so the one made since stands instead of refusing the restore)."""
    rows = [row for row in Dependency.every_row.filter(project=project, deleted_at=stamp)
            .exclude(dep_type__in=SCHEDULING_TYPES).filter(Q(predecessor_id__in=ids) | Q(successor_id__in=ids))
            .values_list("id", "predecessor_id", "successor_id", "dep_type")
            if row[1] in live_after and row[2] in live_after]
    if not rows:
        return []
    live = set(Dependency.relations.filter(project=project).exclude(dep_type__in=SCHEDULING_TYPES)
               .values_list("predecessor_id", "successor_id", "dep_type"))
    kept = []
    for pk, pred, succ, kind in rows:
        taken = (pred, succ, kind) in live or (kind == RelationType.RELATES and (succ, pred, kind) in live)
        if not taken:
            kept.append(pk)
            live.add((pred, succ, kind))
    return kept


# ---------------------------------------------------------------- dependencies

def validate_link_values(dep_type, lag, lag_unit) -> None:
    """A link's type and lag, cleaned already, within the bounds of its lag unit."""
    limit = LAG_LIMITS[lag_unit]
    require_int_range(lag, field="lag", low=-limit, high=limit)


def clean_link_fields(fields: dict) -> dict:
    """New link values read the one way (``DEPENDENCY_INPUT``), the lag held to its unit's bounds when both are
    given."""
    fields = DEPENDENCY_INPUT.clean(fields)
    if "lag" in fields:
        validate_link_values(fields.get("dep_type"), fields["lag"], fields.get("lag_unit", LagUnit.ELAPSED_DAYS))
    return fields


def validate_link_ends(predecessor: WorkItem, successor: WorkItem) -> None:
    """Both ends live, different, and of one project."""
    if predecessor is None or predecessor.is_deleted:
        raise InvalidInput("The predecessor does not exist.", field="predecessor", code=ErrorCode.INVALID_REFERENCE,
                           entity="work item")
    if successor is None or successor.is_deleted:
        raise InvalidInput("The successor does not exist.", field="successor", code=ErrorCode.INVALID_REFERENCE,
                           entity="work item")
    if predecessor.pk == successor.pk:
        raise InvalidInput("A work item cannot depend on itself.", field="successor", code=ErrorCode.SELF_DEPENDENCY)
    if predecessor.project_id != successor.project_id:
        raise InvalidInput("Predecessor and successor must belong to the same project.", field="predecessor",
                           code=ErrorCode.CROSS_PROJECT_DEPENDENCY)


def save_link(dependency: Dependency) -> None:
    try:
        with transaction.atomic():
            dependency.save()
    except IntegrityError:
        raise Conflict("These two work items are already linked with this type.", field="successor",
                       code=ErrorCode.DUPLICATE_DEPENDENCY) from None


@write_transaction()
def dependency_create(
    *, actor, predecessor: WorkItem, successor: WorkItem, dep_type: str = DependencyType.FS, lag: int = 0,
    lag_unit: str = LagUnit.ELAPSED_DAYS, description: str = "", mode_follows_links: bool = False,
) -> Dependency:
    """Link two work items of one project (Scheduler or above). Refuses self-links, cross-project links,
    duplicates and anything that would close a cycle. ``mode_follows_links`` (OpenProject's scheduling modes):
    a manual successor turns automatic, so it moves to follow its new predecessor."""
    values = clean_link_fields({"predecessor": predecessor, "successor": successor, "dep_type": dep_type, "lag": lag,
                                "lag_unit": lag_unit, "description": description})
    predecessor, successor, description = values["predecessor"], values["successor"], values["description"]
    project = successor.project
    access = ProjectAccess(actor, project)
    if not access.visible:
        raise InvalidInput("The successor does not exist.", field="successor", code=ErrorCode.INVALID_REFERENCE,
                           entity="work item")
    access.require(Action.DEPENDENCY_MANAGE, project)
    validate_link_ends(predecessor, successor)
    project_write_lock(project)
    if Dependency.objects.filter(predecessor=predecessor, successor=successor, dep_type=dep_type).exists():
        raise Conflict("These two work items are already linked with this type.", field="successor",
                       code=ErrorCode.DUPLICATE_DEPENDENCY)
    # A link that closes a cycle (summaries expanded) is refused by the scheduler, which runs before this write
    # commits and already holds the project's graph in memory: checking here too would read the whole graph.
    dependency = Dependency(project=project, predecessor=predecessor, successor=successor, dep_type=dep_type, lag=lag,
                            lag_unit=lag_unit, description=description, created_by=actor)
    save_link(dependency)
    change_record(project=project, actor=actor, changes=[
        Change("dependency", dependency.pk, ChangeAction.CREATED, diff({}, snapshot(dependency, DEPENDENCY_FIELDS)))
    ])
    if mode_follows_links:
        _make_automatic(actor=actor, project=project, task_id=successor.pk)
    return dependency


@write_transaction()
def dependency_update(*, actor, dependency: Dependency, lock_version: int | None = None, **fields) -> Dependency:
    """Change a link's ends, type or lag (Scheduler or above), with the same checks as creating it."""
    fields = DEPENDENCY_INPUT.clean(fields)
    project = dependency.project
    require(actor, Action.DEPENDENCY_MANAGE, project)
    project_write_lock(project)
    dependency = Dependency.objects.select_for_update().filter(pk=dependency.pk).first()
    if dependency is None:
        raise NotFound("Dependency not found.", entity="dependency")
    check_lock_version(dependency, lock_version)
    before = snapshot(dependency, DEPENDENCY_FIELDS)
    for key, value in fields.items():
        setattr(dependency, key, value)
    validate_link_ends(dependency.predecessor, dependency.successor)
    if dependency.successor.project_id != project.pk:
        raise InvalidInput("A dependency cannot move to another project.", field="successor",
                           code=ErrorCode.CROSS_PROJECT_DEPENDENCY)
    validate_link_values(dependency.dep_type, dependency.lag, dependency.lag_unit)
    changes = diff(before, snapshot(dependency, DEPENDENCY_FIELDS))
    if not changes:
        return dependency
    if "predecessor" in changes or "successor" in changes:
        rows = Dependency.objects.filter(project=project).exclude(pk=dependency.pk)
        if rows.filter(predecessor=dependency.predecessor, successor=dependency.successor,
                       dep_type=dependency.dep_type).exists():
            raise Conflict("These two work items are already linked with this type.", field="successor",
                           code=ErrorCode.DUPLICATE_DEPENDENCY)
        # A cycle is refused by the scheduler before commit, as for dependency_create.
    row_save_changes(dependency, before, DEPENDENCY_FIELDS, entity="dependency", project=project, actor=actor,
                     save=lambda: save_link(dependency))
    return dependency


@write_transaction()
def dependency_delete(*, actor, dependency: Dependency) -> None:
    """Soft-delete a link (Scheduler or above)."""
    project = dependency.project
    require(actor, Action.DEPENDENCY_MANAGE, project)
    project_write_lock(project)
    if not Dependency.objects.filter(pk=dependency.pk).soft_delete():
        raise NotFound("Dependency not found.", entity="dependency")
    change_record(project=project, actor=actor, changes=[Change("dependency", dependency.pk, ChangeAction.DELETED)])
