"""Creating and editing many work items, and linking them, in one all-or-nothing write.

Every row obeys the rules of ``task_create``, ``task_update`` and ``dependency_create``, but the project's state
is read once, every row is checked in Python before anything is written (the graph for cycles once, as a
whole), new rows are inserted with ``core.bulk_insert.insert_rows`` (``COPY`` on PostgreSQL), and one
``change_record`` call logs them all -- so the project is rescheduled once, not once per row. An error names
the offending row by its position: ``tasks[3].duration``, ``dependencies[12].predecessor``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from keelplan.changelog.services import Change, ChangeAction, change_record, diff, project_write_lock, snapshot
from keelplan.core.bulk_insert import insert_rows, update_rows
from keelplan.core.errors import Conflict, CyclicDependency, DomainError, ErrorCode, InvalidInput
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import parse_uid
from keelplan.customfields.services import CustomValueCleaner, custom_values_write_many
from keelplan.permissions import Action, ProjectAccess, members_among
from keelplan.planning.graph import find_cycle
from keelplan.planning.models import Dependency, DependencyType, LagUnit, WorkItem
from keelplan.planning.reference import default_type_for
from keelplan.planning.services import (
    DEPENDENCY_FIELDS, DEPENDENCY_INPUT, TASK_FIELDS, TASK_INPUT, WORK_ITEM, apply_task_fields,
    category_default_assignee, default_priority, default_status, default_type, validate_link_values, validate_task,
)
from keelplan.planning.workflows import require_initial_status
from keelplan.portfolio.models import Project, Role

# Rows in one request from which the tables' planner statistics are refreshed after the commit.
ANALYZE_FROM = 5000

MAX_BULK_TASKS = 20_000
MAX_BULK_DEPENDENCIES = 50_000

_UNSET = object()
_RELATED = {name: WorkItem._meta.get_field(name) for name in TASK_FIELDS if WorkItem._meta.get_field(name).is_relation}


class TaskWritten(NamedTuple):
    id: int
    uid: uuid.UUID
    lock_version: int


class LinkWritten(NamedTuple):
    id: int
    predecessor: int
    successor: int
    lock_version: int


@dataclass
class BulkResult:
    """What a bulk write wrote, each list in request order."""

    tasks: list[TaskWritten]
    dependencies: list[LinkWritten]


class _NewTask(SimpleNamespace):
    """A work item to insert: its column values by attname, plus the related objects validation reads.

    Ten thousand of these cost a fraction of ten thousand model instances, and with the model's ``_meta`` they
    are all that ``validate_task`` and ``snapshot`` need.
    """

    _meta = WorkItem._meta


class _NewLink(SimpleNamespace):
    _meta = Dependency._meta


@write_transaction()
def tasks_bulk_apply(
    *, actor, project: Project, tasks: Sequence[dict] = (), dependencies: Sequence[dict] = (),
) -> BulkResult:
    """Create and edit work items of ``project`` and create links between them, all or nothing.

    A task row without ``id`` creates a task (Admin or above): it needs ``uid`` (a UUID, not the nil one, that no
    work item of the project has) and ``name``, and takes any of ``TASK_FIELDS``. A row with ``id`` edits that
    live task of the project like ``task_update`` (optionally checking ``lock_version``). ``parent`` is an
    existing task's id or the uid of a task created by this call. A dependency row (Scheduler or above) takes
    ``DEPENDENCY_FIELDS``; its ends are existing task ids or uids of tasks created by this call (or ``WorkItem``
    objects), and may give the link's own ``uid`` (unique like a task's; one is made up otherwise). ``status``,
    ``type``, ``priority``, ``assignee`` and ``calendar`` are model instances, as for ``task_create``. A task row
    may carry ``custom_fields`` (``{custom field id: value}``), checked and written as ``task_create`` and
    ``task_update`` do: a new work item takes the defaults, and a required field without one must be given.

    Invariant: either every row is written, with one change event each, or nothing is; the resulting graph
    (summaries expanded) is checked for cycles once. A reference to a task of another project is refused
    exactly as one to a task that does not exist, so a refusal never tells that a row exists elsewhere.
    """
    tasks, dependencies = list(tasks or ()), list(dependencies or ())
    access = ProjectAccess(actor, project)
    access.require(Action.WORK_ITEMS_WRITE, project)
    _check_sizes(tasks, dependencies)
    project_write_lock(project)
    write = _BulkWrite(access, tasks, dependencies)
    write.check()
    result = write.apply()
    if len(tasks) + len(dependencies) >= ANALYZE_FROM:
        transaction.on_commit(_refresh_statistics)
    return result


def _refresh_statistics() -> None:
    """After a large import, refresh PostgreSQL's planner statistics at once instead of waiting for autovacuum
    (which may be off): without them the planner takes a big project for a one-row one and reads every task of
    it for each page of a list."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{WorkItem._meta.db_table}", "{Dependency._meta.db_table}"')


def _check_sizes(tasks: list, dependencies: list) -> None:
    if len(tasks) > MAX_BULK_TASKS:
        raise InvalidInput(f"At most {MAX_BULK_TASKS} work items per request (this one has {len(tasks)}).",
                           field="tasks", code=ErrorCode.TOO_MANY, max_count=MAX_BULK_TASKS)
    if len(dependencies) > MAX_BULK_DEPENDENCIES:
        raise InvalidInput(f"At most {MAX_BULK_DEPENDENCIES} dependencies per request (this one has "
                           f"{len(dependencies)}).", field="dependencies", code=ErrorCode.TOO_MANY,
                           max_count=MAX_BULK_DEPENDENCIES)
    if not tasks and not dependencies:
        message = "Send at least one work item or dependency."
        raise InvalidInput(message, errors={"tasks": [message], "dependencies": [message]}, code=ErrorCode.REQUIRED)


def _reference(value, field: str):
    """A task reference as an id (int) or a uid (UUID)."""
    if isinstance(value, WorkItem):
        return value.pk
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    uid = _as_uid(value)
    if uid is not None:
        return uid
    raise InvalidInput("Expected a work item id or the uid of a work item created in this request.", field=field,
                       code=ErrorCode.INVALID_TYPE, expected="integer")


def _as_uid(value) -> uuid.UUID | None:
    """``value`` as a UUID if it is one (or its text), else None; the nil UUID counts, as a reference to it
    simply finds nothing."""
    try:
        return parse_uid(value, field="uid", allow_nil=True)
    except InvalidInput:
        return None


class _BulkWrite:
    """One bulk call's rows checked against the project's state read once, then written.

    Tasks are keyed in the graph checks by id when they exist and by ``-(n + 1)`` when they are the ``n``-th
    task this call creates, so new and existing tasks share one parent map and one link list before any row
    has an id.
    """

    def __init__(self, access: ProjectAccess, tasks: list, dependencies: list):
        self.access, self.actor, self.project, self.role = access, access.actor, access.project, access.role
        self.task_rows, self.link_rows = tasks, dependencies
        self.result_tasks: list[_NewTask | WorkItem] = []     # in request order
        self.created: list[_NewTask] = []                     # the n-th is keyed -(n + 1)
        self.edits: list[tuple[WorkItem, dict]] = []          # (task, snapshot before)
        self.parent_moves: list[tuple[int, int]] = []         # (row index, key) whose parent this call sets
        self.new_links: list[tuple[int, _NewLink, int, int]] = []   # (row index, link, predecessor key, successor key)
        self.valid_link_values: set[tuple] = set()
        self.now = timezone.now()
        self._read_state()

    # ------------------------------------------------------------ reading the project once

    def _read_state(self) -> None:
        project = self.project
        rows = [r for r in self.task_rows if isinstance(r, dict)]
        creates = [r for r in rows if r.get("id") is None]
        edit_ids = {r["id"] for r in rows if isinstance(r.get("id"), int) and not isinstance(r.get("id"), bool)}

        self.parent_of: dict[int, int | None] = dict(WorkItem.objects.filter(project=project)
                                                     .values_list("id", "parent_id"))
        self.live_ids = frozenset(self.parent_of)
        # The first row that names a uid owns it; a later row with the same uid is the error.
        self.uid_key: dict[uuid.UUID, int] = {}
        self.uid_row: dict[uuid.UUID, int] = {}
        for n, (i, row) in enumerate((i, r) for i, r in enumerate(self.task_rows)
                                     if isinstance(r, dict) and r.get("id") is None):
            uid = _as_uid(row.get("uid"))
            if uid is not None and uid not in self.uid_key:
                self.uid_key[uid], self.uid_row[uid] = -(n + 1), i
        self.uids_taken = set(WorkItem.all_objects.filter(project=project, uid__in=list(self.uid_key))
                              .values_list("uid", flat=True)) if self.uid_key else set()
        self.editable = {
            t.pk: t for t in WorkItem.objects.filter(project=project, pk__in=edit_ids).select_related("calendar")
            .select_for_update(of=("self",))
        } if edit_ids else {}
        for task in self.editable.values():
            task.project = project   # validation reads it (usable calendars); one object, not a query per row
        if self.role < Role.ADMIN:
            self.access.prefetch_assigned(self.editable)
        people = {getattr(r[key], "pk", r[key]) for r in rows for key in ("assignee", "responsible")
                  if r.get(key) is not None}
        self.member_ids = members_among(project, people)
        if creates:
            self.new_task = self._new_task_defaults()
        if any("position" not in r for r in creates):
            last = WorkItem.all_objects.filter(project=project).order_by("-position").values_list(
                "position", flat=True).first()
            self.next_position = last or 0
        link_uids = [u for u in (_as_uid(r.get("uid")) for r in self.link_rows if isinstance(r, dict)) if u]
        self.link_uids_taken = set(Dependency.all_objects.filter(project=project, uid__in=link_uids)
                                   .values_list("uid", flat=True)) if link_uids else set()
        self.link_uid_row: dict[uuid.UUID, int] = {}
        self.existing_links: set[tuple[int, int, str]] = set()
        self.seen_edits: set[int] = set()
        self.seen_links: set[tuple[int, int, str]] = set()
        # Custom values: the definitions read once if any row may carry values (a new work item takes the
        # defaults); (work item, cleaned values) per row that has some.
        self.custom = CustomValueCleaner(WORK_ITEM, project) if creates or any(
            "custom_fields" in r for r in rows) else None
        self.custom_rows: list[tuple] = []

    def _new_task_defaults(self) -> dict:
        status, type_, priority = default_status(), default_type_for(self.project) or default_type(), default_priority()
        values = {
            "project": self.project, "project_id": self.project.pk, "author_id": self.actor.pk,
            "created_at": self.now, "updated_at": self.now,
            "status": status, "status_id": status.pk, "type": type_, "type_id": type_.pk,
            "priority": priority, "priority_id": priority.pk, "parent": None, "assignee": None, "calendar": None,
            "responsible": None, "version": None, "category": None,
        }
        for f in WorkItem._meta.concrete_fields:
            if not f.primary_key and not (f.has_default() and callable(f.default)):
                values.setdefault(f.attname, f.get_default())
        return values

    # ------------------------------------------------------------ checks, row by row in request order

    def check(self) -> None:
        for i, row in enumerate(self.task_rows):
            try:
                if not isinstance(row, dict):
                    raise InvalidInput("Must be an object.", code=ErrorCode.INVALID_TYPE, expected="object")
                if row.get("id") is None:
                    self._check_create(i, row)
                else:
                    self._check_edit(i, row)
            except DomainError as exc:
                raise exc.under(f"tasks[{i}]") from None
        self._check_wbs()
        if self.link_rows or self.parent_moves:
            self.existing_links = set(Dependency.objects.filter(project=self.project)
                                      .values_list("predecessor_id", "successor_id", "dep_type"))
        for j, row in enumerate(self.link_rows):
            try:
                if not isinstance(row, dict):
                    raise InvalidInput("Must be an object.", code=ErrorCode.INVALID_TYPE, expected="object")
                self._check_link(j, row)
            except DomainError as exc:
                raise exc.under(f"dependencies[{j}]") from None
        if self.new_links or self.parent_moves:
            self._check_cycles()
        if self.custom is not None:
            self.custom.check_references()

    def _check_create(self, i: int, row: dict) -> None:
        self.access.require(Action.WORK_ITEM_CREATE, self.project)
        fields = dict(row)
        fields.pop("id", None)
        if "uid" not in fields or fields["uid"] is None:
            raise InvalidInput("A new work item needs a uid (a UUID) for this request to refer to it.", field="uid",
                               code=ErrorCode.REQUIRED)
        uid = parse_uid(fields.pop("uid"), field="uid")
        if self.uid_row[uid] != i:
            raise InvalidInput(f"tasks[{self.uid_row[uid]}] has this uid already.", field="uid",
                               code=ErrorCode.DUPLICATE_UID)
        if uid in self.uids_taken:
            raise Conflict("A work item with this uid exists already.", field="uid", code=ErrorCode.DUPLICATE_UID)
        parent = fields.pop("parent", None)
        custom = fields.pop("custom_fields", None)
        for name in ("status", "type", "priority"):
            if fields.get(name, 0) is None:
                del fields[name]
        fields = TASK_INPUT.clean(fields, required=("name",))
        key = self.uid_key[uid]
        task = _NewTask(**self.new_task, uid=uid)
        for name, value in fields.items():
            if name in _RELATED:
                _set_related(task, name, value)
            else:
                setattr(task, name, value)
        if task.type.is_milestone and "is_milestone" not in fields:
            task.is_milestone = True
        if "assignee" not in fields and task.category is not None:
            person = category_default_assignee(task, self.member_ids)
            if person is not None:
                self.member_ids.add(person.pk)
                _set_related(task, "assignee", person)
        validate_task(task, set(fields))
        if "status" in fields:
            require_initial_status(self.access, task)
        self._check_assignee(task.assignee_id)
        self._check_assignee(task.responsible_id, "responsible")
        cleaned = self.custom.clean(custom, type=task.type, for_create=True, where=f"tasks[{i}]")
        if cleaned:
            self.custom_rows.append((task, cleaned))
        self.parent_of[key] = self._parent_key(parent, key)
        if self.parent_of[key] is not None:
            self.parent_moves.append((i, key))
        if "position" not in fields:
            self.next_position += 1
            task.position = self.next_position
        self.created.append(task)
        self.result_tasks.append(task)

    def _check_edit(self, i: int, row: dict) -> None:
        fields = dict(row)
        task_id = fields.pop("id")
        lock_version = fields.pop("lock_version", None)
        if isinstance(task_id, bool) or not isinstance(task_id, int):
            raise InvalidInput("Expected a work item id.", field="id", code=ErrorCode.INVALID_TYPE, expected="integer")
        parent = fields.pop("parent", _UNSET)
        custom = fields.pop("custom_fields", _UNSET)
        fields = TASK_INPUT.clean(fields)
        task = self.editable.get(task_id)
        if task is None:
            raise InvalidInput("No such work item in this project.", field="id", code=ErrorCode.INVALID_REFERENCE,
                               entity="work item")
        if task_id in self.seen_edits:
            raise InvalidInput("This work item is edited by an earlier row of this request.", field="id")
        self.seen_edits.add(task_id)
        self.access.require(Action.WORK_ITEM_UPDATE, task, fields=[*fields, *(() if parent is _UNSET else ("parent",))])
        if custom is not _UNSET:
            cleaned = self.custom.clean(custom, type=fields.get("type", task.type), for_create=False,
                                        where=f"tasks[{i}]")
            if cleaned:
                self.custom_rows.append((task, cleaned))
        check_lock_version(task, lock_version)
        before = snapshot(task, TASK_FIELDS)
        apply_task_fields(task, fields, access=self.access)
        if "assignee" in fields:
            self._check_assignee(task.assignee_id)
        if "responsible" in fields:
            self._check_assignee(task.responsible_id, "responsible")
        if parent is not _UNSET:
            key = self._parent_key(parent, task.pk)
            if key != self.parent_of[task.pk]:
                self.parent_of[task.pk] = key
                self.parent_moves.append((i, task.pk))
        self.edits.append((task, before))
        self.result_tasks.append(task)

    def _check_assignee(self, user_id, field: str = "assignee") -> None:
        if user_id is not None and user_id not in self.member_ids:
            raise InvalidInput(f"The {field} must be a member of the project.", field=field,
                               code=ErrorCode.NOT_A_MEMBER)

    def _parent_key(self, value, own_key: int) -> int | None:
        if value is None:
            return None
        ref = _reference(value, "parent")
        if isinstance(ref, uuid.UUID):
            key = self.uid_key.get(ref)
            if key is None:
                raise InvalidInput("No work item created in this request has this uid.", field="parent",
                                   code=ErrorCode.INVALID_REFERENCE, entity="work item")
        elif ref in self.live_ids:
            key = ref
        else:
            raise InvalidInput("The parent must be a work item of the same project.", field="parent",
                               code=ErrorCode.INVALID_REFERENCE, entity="work item")
        if key == own_key:
            raise InvalidInput("A work item cannot sit under itself or its own children.", field="parent",
                               code=ErrorCode.CYCLIC_PARENT)
        return key

    def _check_wbs(self) -> None:
        """Refuse a parent chain that loops: the first row (in request order) on a loop is named."""
        for i, key in self.parent_moves:
            seen, node = set(), self.parent_of.get(key)
            while node is not None and node not in seen:
                if node == key:
                    raise InvalidInput("A work item cannot sit under itself or its own children.",
                                       field=f"tasks[{i}].parent", code=ErrorCode.CYCLIC_PARENT)
                seen.add(node)
                node = self.parent_of.get(node)

    def _check_link(self, j: int, row: dict) -> None:
        self.access.require(Action.DEPENDENCY_MANAGE, self.project)
        unknown = sorted(set(row) - set(DEPENDENCY_FIELDS) - {"uid"})
        if unknown:
            raise InvalidInput(f"There is no field {unknown[0]!r}.", field=unknown[0], code=ErrorCode.UNKNOWN_FIELD)
        uid = uuid.uuid4()
        if row.get("uid") is not None:
            uid = parse_uid(row["uid"], field="uid")
            if uid in self.link_uid_row:
                raise InvalidInput(f"dependencies[{self.link_uid_row[uid]}] has this uid already.", field="uid",
                                   code=ErrorCode.DUPLICATE_UID)
            if uid in self.link_uids_taken:
                raise Conflict("A dependency with this uid exists already.", field="uid", code=ErrorCode.DUPLICATE_UID)
            self.link_uid_row[uid] = j
        for end in ("predecessor", "successor"):
            if row.get(end) is None:
                raise InvalidInput("Required.", field=end, code=ErrorCode.REQUIRED)
        pred = self._link_end(row["predecessor"], "predecessor")
        succ = self._link_end(row["successor"], "successor")
        if pred == succ:
            raise InvalidInput("A work item cannot depend on itself.", field="successor",
                               code=ErrorCode.SELF_DEPENDENCY)
        dep_type = row.get("dep_type", DependencyType.FS)
        lag = row.get("lag", 0)
        lag_unit = row.get("lag_unit", LagUnit.ELAPSED_DAYS)
        values = (dep_type, type(lag), lag, lag_unit)   # the type too: True == 1, but True is no lag
        try:
            known = values in self.valid_link_values
        except TypeError:  # unhashable, so certainly invalid: let the validator say why
            known = False
        if not known:
            DEPENDENCY_INPUT.clean({"dep_type": dep_type, "lag": lag, "lag_unit": lag_unit})
            validate_link_values(dep_type, lag, lag_unit)
            self.valid_link_values.add(values)
        description = DEPENDENCY_INPUT["description"].clean(row.get("description"), field="description")
        triple = (pred, succ, dep_type)
        if triple in self.seen_links:
            raise InvalidInput("An earlier row of this request links these two work items with this type.",
                               field="successor", code=ErrorCode.DUPLICATE_DEPENDENCY)
        if triple in self.existing_links:
            raise Conflict("These two work items are already linked with this type.", field="successor",
                           code=ErrorCode.DUPLICATE_DEPENDENCY)
        self.seen_links.add(triple)
        link = _NewLink(project_id=self.project.pk, dep_type=dep_type, lag=lag, lag_unit=lag_unit,
                        description=description, created_by_id=self.actor.pk, uid=uid, created_at=self.now,
                        updated_at=self.now)
        self.new_links.append((j, link, pred, succ))

    def _link_end(self, value, field: str) -> int:
        ref = _reference(value, field)
        if isinstance(ref, uuid.UUID):
            key = self.uid_key.get(ref)
            if key is None:
                raise InvalidInput("No work item created in this request has this uid.", field=field,
                                   code=ErrorCode.INVALID_REFERENCE, entity="work item")
            return key
        if ref in self.live_ids:
            return ref
        # A task of another project reads as missing, whoever asks: saying "another project" would confirm it.
        raise InvalidInput(f"The {field} does not exist.", field=field, code=ErrorCode.INVALID_REFERENCE,
                           entity="work item")

    def _check_cycles(self) -> None:
        links = [(pred, succ) for pred, succ, _ in self.existing_links]
        links += [(pred, succ) for _, _, pred, succ in self.new_links]
        cycle = find_cycle(self.parent_of.keys(), self.parent_of, links)
        if not cycle:
            return
        steps = set(zip(cycle, cycle[1:]))
        on_cycle = set(cycle)
        # Name the last row on the cycle in request order: applied one by one, that row would have closed it.
        field = next((f"dependencies[{j}].predecessor" for j, _, pred, succ in reversed(self.new_links)
                      if (pred, succ) in steps), None)
        field = field or next((f"tasks[{i}].parent" for i, key in reversed(self.parent_moves) if key in on_cycle),
                              "dependencies")
        new_by_key = {-(n + 1): task for n, task in enumerate(self.created)}
        names = dict(WorkItem.objects.filter(pk__in=[k for k in on_cycle if k > 0]).values_list("id", "name"))
        shown = [f"{names.get(k, k)} (#{k})" if k > 0 else f"{new_by_key[k].name} ({new_by_key[k].uid})"
                 for k in cycle]
        raise CyclicDependency([k if k > 0 else str(new_by_key[k].uid) for k in cycle], names=shown, field=field)

    # ------------------------------------------------------------ writing

    def apply(self) -> BulkResult:
        created = self._insert_tasks()
        if self.custom_rows:
            custom_values_write_many(actor=self.actor, entity=WORK_ITEM, project=self.project,
                                     cleaned_by_object={task.id if isinstance(task, _NewTask) else task.pk: cleaned
                                                        for task, cleaned in self.custom_rows})
        updated = self._update_tasks()
        links = self._insert_links()
        change_record(project=self.project, actor=self.actor, changes=[
            *(Change("work_item", t.id, ChangeAction.CREATED, diff({}, snapshot(t, TASK_FIELDS))) for t in created),
            *updated,
            *(Change("dependency", d.id, ChangeAction.CREATED, diff({}, snapshot(d, DEPENDENCY_FIELDS)))
              for d in links),
        ])
        return BulkResult(
            tasks=[TaskWritten(t.id, t.uid, t.lock_version) for t in self.result_tasks],
            dependencies=[LinkWritten(d.id, d.predecessor_id, d.successor_id, d.lock_version) for d in links],
        )

    def _id(self, key: int | None) -> int | None:
        if key is None or key > 0:
            return key
        return self.created[-key - 1].id

    def _insert_tasks(self) -> list[_NewTask]:
        """Insert new tasks a WBS level at a time, parents first (a child needs its parent's id); returns them in
        id order."""
        depth: dict[int, int] = {}
        for n in range(len(self.created)):
            chain, key = [], -(n + 1)
            while key not in depth:
                parent = self.parent_of[key]
                if parent is None or parent > 0:
                    depth[key] = 0
                    break
                chain.append(key)
                key = parent
            for k in reversed(chain):
                depth[k] = depth[self.parent_of[k]] + 1
        levels: dict[int, list[_NewTask]] = {}
        for n, task in enumerate(self.created):
            levels.setdefault(depth[-(n + 1)], []).append(task)
        inserted = []
        for level in sorted(levels):
            rows = levels[level]
            for task in rows:
                task.parent_id = self._id(self.parent_of[self.uid_key[task.uid]])
            try:
                with transaction.atomic():
                    insert_rows(WorkItem, [vars(task) for task in rows])
            except IntegrityError:
                raise Conflict("A work item with one of these uids was created meanwhile; send the request again.",
                               field="tasks", code=ErrorCode.DUPLICATE_UID) from None
            inserted.extend(rows)
        return inserted

    def _update_tasks(self) -> list[Change]:
        changed_rows, changed_fields, events = [], set(), []
        for task, before in self.edits:
            task.parent_id = self._id(self.parent_of[task.pk])
            changes = diff(before, snapshot(task, TASK_FIELDS))
            if not changes:
                continue
            task.lock_version += 1
            task.updated_at = self.now
            changed_rows.append(task)
            changed_fields.update(changes)
            events.append(Change("work_item", task.pk, ChangeAction.UPDATED, changes))
        if changed_rows:
            update_rows(WorkItem, changed_rows, sorted(changed_fields | {"lock_version", "updated_at"}))
        return events

    def _insert_links(self) -> list[_NewLink]:
        links = []
        for _, link, pred, succ in self.new_links:
            link.predecessor_id, link.successor_id = self._id(pred), self._id(succ)
            links.append(link)
        if links:
            try:
                with transaction.atomic():
                    insert_rows(Dependency, [vars(link) for link in links])
            except IntegrityError:
                raise Conflict("Two of these work items were linked meanwhile; send the request again.",
                               field="dependencies", code=ErrorCode.DUPLICATE_DEPENDENCY) from None
        for link in links:
            link.lock_version = 0
        return links


def _set_related(task: _NewTask, name: str, value) -> None:
    """Set a cleaned reference on a new work item, by object and by id."""
    field = _RELATED[name]
    setattr(task, name, value)
    setattr(task, field.attname, None if value is None else value.pk)


__all__ = ["BulkResult", "LinkWritten", "MAX_BULK_DEPENDENCIES", "MAX_BULK_TASKS", "TaskWritten", "tasks_bulk_apply"]
