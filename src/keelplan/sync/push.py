"""Pushing offline changes: one client batch of task and dependency edits, merged field by field, all or nothing.

A client that edited offline sends what it created, updated and deleted, with ``last_pulled_at`` (the sync point
its copy is from) and optionally each row's ``base_version`` (the ``lock_version`` it last saw). For every row it
updated, the fields someone else changed after that point are read from the change log:

* a field the client changed too (to a different value) is not applied and is reported in ``conflicts`` with
  the server's value; the row's other fields are applied ("merged");
* a row deleted on the server meanwhile is reported, not resurrected or edited;
* a delete of a row someone else changed meanwhile (for a task: or anything in its subtree) is reported, so no
  one's edit is deleted unseen;
* a new link duplicating one made meanwhile, or ending at a task deleted meanwhile, is reported.

Everything else follows the rules of the REST endpoints (roles, validation, cycles): the first bad row refuses
the whole batch, naming it (``tasks.updated[3].duration``), and nothing is written. Roles are checked before
conflicts are looked for, so a row the actor may not write is refused whatever ``last_pulled_at`` is, never
reported as a conflict. Rows are found by id or uid within the project only: a row of another project reads as
one that does not exist. The batch is one write scope, so the project is rescheduled once. Its answer is stored
under ``client_batch_id``; sending the same batch again replays that answer without applying anything twice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model, Q

from keelplan.changelog.models import ChangeAction, ChangeEvent, ChangeStream
from keelplan.changelog.services import project_write_lock
from keelplan.core.errors import Conflict, DomainError, ErrorCode, InvalidInput
from keelplan.core.transactions import write_transaction
from keelplan.permissions import Action, ProjectAccess, require
from keelplan.planning.bulk import tasks_bulk_apply
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import (
    DEPENDENCY_FIELDS, TASK_FIELDS, dependency_delete, dependency_update, subtree_ids, task_delete,
)
from keelplan.portfolio.models import Project, Role
from keelplan.resources.models import Assignment
from keelplan.sync.models import SyncBatch
from keelplan.sync.services import sync_point_resolve

PUSHABLE = ("tasks", "dependencies")
MAX_PUSH_ROWS = 5000
# Fields that change together: a conflict on one holds back both (``planned_start`` writes the pair).
_LINKED = {"constraint_type": "constraint_date", "constraint_date": "constraint_type"}
_ENTITY = {"tasks": "work_item", "dependencies": "dependency", "task_resources": "assignment"}
_MODEL = {"tasks": WorkItem, "dependencies": Dependency}
_FIELDS = {"tasks": TASK_FIELDS, "dependencies": DEPENDENCY_FIELDS}


@dataclass
class PushRow:
    """One pushed row, parsed by the dialect.

    ``fields`` are model-level values as the services take them (task references as ids or uids);
    ``client`` the values as the client wrote them, by field name, for conflict reports; ``id`` or ``uid``
    names the row (``uid`` alone for rows created offline).
    """

    where: str
    id: int | None = None
    uid: uuid.UUID | None = None
    base_version: int | None = None
    fields: dict = field(default_factory=dict)
    client: dict = field(default_factory=dict)


@dataclass
class PushConflict:
    """A pushed row (or part of one) not applied. ``reason``: ``changed`` (someone else changed ``fields``
    since the client's copy), ``deleted`` (the row, or the task named in ``fields``, was deleted), or
    ``duplicate`` (a link like it exists: ``server``)."""

    collection: str
    row: PushRow
    reason: str
    fields: list[str]
    server: WorkItem | Dependency | None


@dataclass
class PushResult:
    created: dict[str, list[tuple[PushRow, int, int]]]       # collection -> (row, id, lock_version)
    updated: dict[str, list[tuple[PushRow, int, int]]]
    deleted: dict[str, list[int]]
    conflicts: list[PushConflict]
    timestamp: int = 0
    # Pushed row (``where``) -> fields others changed since the client's copy that the batch left as they are.
    merged: dict[str, set[str]] = field(default_factory=dict)


@write_transaction()
def sync_push(
    *, actor, project: Project, client_batch_id: uuid.UUID, last_pulled_at: int, changes: dict[str, dict[str, list]],
    digest: str, render: Callable[[PushResult], dict],
) -> tuple[dict, bool]:
    """Apply one client batch to ``project`` (Member and above; each row needs the role its REST write needs).

    ``changes`` maps ``tasks``/``dependencies`` to ``created``/``updated``/``deleted`` lists of ``PushRow``.
    ``render`` turns the result into the dialect's answer, which is stored with the batch in the same
    transaction. Returns ``(answer, replayed)``: a batch already applied is answered from the store; the same
    ``client_batch_id`` with a different ``digest`` (other changes) is refused with 409.
    """
    require(actor, Action.CHANGES_PUSH, project)
    project_write_lock(project)
    stored = SyncBatch.objects.filter(project=project, actor=actor, client_batch_id=client_batch_id).first()
    if stored is not None:
        if stored.digest != digest:
            raise Conflict("This client_batch_id was used for other changes; give every batch a new id.",
                           field="client_batch_id", code=ErrorCode.CLIENT_BATCH_ID_REUSED)
        return stored.response, True
    since = sync_point_resolve(project, last_pulled_at).seq
    result = _Push(actor, project, since, changes).run()
    result.timestamp = ChangeStream.objects.filter(project=project).values_list("last_seq", flat=True).get()
    answer = render(result)
    SyncBatch.objects.create(project=project, actor=actor, client_batch_id=client_batch_id, digest=digest,
                             response=answer)
    return answer, False


class _Push:
    def __init__(self, actor, project: Project, since: int, changes: dict):
        self.actor, self.project, self.since = actor, project, since
        # Others' changes are those logged after the client's sync point and before this batch began.
        self.until = ChangeStream.objects.filter(project=project).values_list("last_seq", flat=True).get()
        kinds = ("created", "updated", "deleted")
        self.rows = {name: {kind: list(changes.get(name, {}).get(kind, ())) for kind in kinds} for name in PUSHABLE}
        self.conflicts: list[PushConflict] = []
        self.result = PushResult({n: [] for n in PUSHABLE}, {n: [] for n in PUSHABLE}, {n: [] for n in PUSHABLE}, [])

    def run(self) -> PushResult:
        self.access = ProjectAccess(self.actor, self.project)
        self.role = self.access.role
        self._read()
        bulk_tasks, bulk_where = self._task_rows()
        bulk_links, link_where = self._new_links()
        self._apply_bulk(bulk_tasks, bulk_where, bulk_links, link_where)
        self._update_links()
        self._delete("dependencies")
        self._delete("tasks")
        for conflict in self.conflicts:
            if conflict.server is not None:
                conflict.server.refresh_from_db()
        self.result.conflicts = self.conflicts
        return self.result

    # ---------------------------------------------------------------- reading the rows named

    def _read(self) -> None:
        """Every existing row the batch names, by id and by uid, deleted ones included (one query per table)."""
        self.new_uids = {name: {r.uid for r in self.rows[name]["created"] if r.uid} for name in PUSHABLE}
        wanted = {name: (set(), set(self.new_uids[name])) for name in PUSHABLE}
        for name in PUSHABLE:
            for kind in ("updated", "deleted"):
                for row in self.rows[name][kind]:
                    _add(row.id if row.id is not None else row.uid, *wanted[name])
        for kind in ("created", "updated"):
            for row in self.rows["tasks"][kind]:
                _add(row.fields.get("parent"), *wanted["tasks"])
            for row in self.rows["dependencies"][kind]:
                for end in ("predecessor", "successor"):
                    _add(row.fields.get(end), *wanted["tasks"])
        self.by_id: dict[str, dict] = {}
        self.by_uid: dict[str, dict] = {}
        for name, (ids, uids) in wanted.items():
            rows = list(_MODEL[name].all_objects.filter(Q(pk__in=ids) | Q(uid__in=uids), project=self.project)) \
                if ids or uids else []
            self.by_id[name] = {r.pk: r for r in rows}
            self.by_uid[name] = {r.uid: r for r in rows}

    def _existing(self, name: str, row: PushRow):
        """The existing row ``row`` names (by id, else by uid), deleted or not; 400 if there is none."""
        found = self.by_id[name].get(row.id) if row.id is not None else self.by_uid[name].get(row.uid)
        if found is None:
            noun = "work item" if name == "tasks" else "dependency"
            key = "id" if row.id is not None else "uid"
            raise InvalidInput(f"No such {noun} in this project.", field=f"{row.where}.{key}",
                               code=ErrorCode.INVALID_REFERENCE, entity=noun)
        return found

    def _reference(self, value, row: PushRow, key: str):
        """A task reference made ready for the services: an existing task's id, the uid of a task this batch
        creates, None for none -- or False when the task was deleted (or, created in this batch, held back)."""
        if value is None:
            return None
        if isinstance(value, uuid.UUID):
            if value in self.created_task_uids:
                return value
            task = self.by_uid["tasks"].get(value)
            if task is None and value in self.new_uids["tasks"]:
                return False
        else:
            task = self.by_id["tasks"].get(value)
        if task is None:
            raise InvalidInput("No work item of this project, or created in this batch, is this one.",
                               field=f"{row.where}.{key}", code=ErrorCode.INVALID_REFERENCE, entity="work item")
        return False if task.is_deleted else task.pk

    def _as_id(self, key: str, value):
        """A task reference given by uid, as the id of the task it names (for comparing with stored values)."""
        if key in ("parent", "predecessor", "successor") and isinstance(value, uuid.UUID):
            task = self.by_uid["tasks"].get(value)
            return task.pk if task is not None else value
        return value

    # ---------------------------------------------------------------- what someone else changed

    def _changed_since(self, name: str, ids) -> dict[int, set[str]]:
        """Fields of each row written by anyone after the client's sync point (``created`` counts as every field
        written at creation); a row with an event but no field change maps to an empty set."""
        changed: dict[int, set[str]] = {}
        if not ids:
            return changed
        events = (ChangeEvent.objects.filter(stream__project=self.project, seq__gt=self.since, seq__lte=self.until,
                                             entity=_ENTITY[name], entity_id__in=list(ids))
                  .values_list("entity_id", "action", "changes"))
        for entity_id, action, changes in events:
            fields = changed.setdefault(entity_id, set())
            if action in (ChangeAction.UPDATED, ChangeAction.CREATED):
                fields.update(changes)
        return changed

    def _split(self, name: str, row: PushRow, current, changed: set[str]) -> dict:
        """The row's fields that apply; the rest go to ``conflicts``."""
        meta = current._meta
        wanted = {k: v for k, v in row.fields.items() if k not in _FIELDS[name]
                  or not _same(self._as_id(k, v), getattr(current, meta.get_field(k).attname))}
        if row.base_version is not None and row.base_version == current.lock_version:
            changed = set()
        clash = {f for f in wanted if f in changed}
        clash |= {_LINKED[f] for f in clash if f in _LINKED and _LINKED[f] in wanted}
        if clash:
            self.conflicts.append(PushConflict(name, row, "changed", sorted(clash), current))
        applied = {k: v for k, v in wanted.items() if k not in clash}
        # What others changed that the client neither sent nor hears of as a conflict: the answer carries it,
        # so the client's copy becomes the row at the version the answer gives.
        merged = changed - row.fields.keys() - clash
        if merged:
            self.result.merged[row.where] = merged
        return applied

    # ---------------------------------------------------------------- tasks created and updated

    def _task_rows(self) -> tuple[list[dict], list[str]]:
        rows, where = [], []
        created = self.rows["tasks"]["created"]
        self.created_task_uids: set[uuid.UUID] = set()
        upserts = []
        for row in created:
            existing = self.by_uid["tasks"].get(row.uid)
            if existing is None:
                self.created_task_uids.add(row.uid)
            else:
                upserts.append((row, existing))
        updates = [(row, self._existing("tasks", row)) for row in self.rows["tasks"]["updated"]] + upserts
        seen: dict[int, str] = {}
        for row, task in updates:
            if task.pk in seen:
                raise InvalidInput(f"{seen[task.pk]} changes this task already.", field=row.where)
            seen[task.pk] = row.where
        self.updated_task_ids = set(seen)
        self._check_task_roles(created, updates)
        changed = self._changed_since("tasks", [task.pk for _, task in updates if not task.is_deleted])

        for row in created:
            if row.uid not in self.created_task_uids:
                continue
            fields = dict(row.fields)
            if "parent" in fields:
                parent = self._reference(fields["parent"], row, "parent")
                if parent is False:
                    self.conflicts.append(PushConflict("tasks", row, "deleted", ["parent"], None))
                    self.created_task_uids.discard(row.uid)
                    continue
                fields["parent"] = parent
            rows.append({**fields, "uid": row.uid})
            where.append(row.where)
        self._drop_orphans(rows, where)
        for row, task in updates:
            if task.is_deleted:
                self.conflicts.append(PushConflict("tasks", row, "deleted", [], task))
                continue
            fields = self._split("tasks", row, task, changed.get(task.pk, set()))
            if "parent" in fields:
                parent = self._reference(fields["parent"], row, "parent")
                if parent is False:
                    self.conflicts.append(PushConflict("tasks", row, "deleted", ["parent"], task))
                    del fields["parent"]
                else:
                    fields["parent"] = parent
            if fields:
                rows.append({"id": task.pk, **fields})
                where.append(row.where)
            else:
                self.result.updated["tasks"].append((row, task.pk, task.lock_version))
        return rows, where

    def _check_task_roles(self, created: list[PushRow], updates: list[tuple[PushRow, WorkItem]]) -> None:
        """Refuse the first task row the actor's role does not allow, before any conflict is looked for: a row
        that would have been held back as a conflict needs the role all the same."""
        new = next((row for row in created if row.uid in self.created_task_uids), None)
        if new is not None:
            try:
                self.access.require(Action.WORK_ITEM_CREATE, self.project)
            except DomainError as exc:
                raise exc.under(new.where) from None
        if updates and self.role < Role.ADMIN:
            self.access.prefetch_assigned(task.pk for _, task in updates)
        for row, task in updates:
            meta = task._meta
            changing = [k for k, v in row.fields.items() if k in TASK_FIELDS
                        and not _same(self._as_id(k, v), getattr(task, meta.get_field(k).attname))]
            try:
                self.access.require(Action.WORK_ITEM_UPDATE, task, fields=changing)
            except DomainError as exc:
                raise exc.under(row.where) from None

    def _drop_orphans(self, rows: list[dict], where: list[str]) -> None:
        """New tasks under a new task that was not created (its parent was deleted) are held back too."""
        while True:
            orphans = [i for i, r in enumerate(rows) if isinstance(r.get("parent"), uuid.UUID)
                       and r["parent"] not in self.created_task_uids]
            if not orphans:
                return
            for i in reversed(orphans):
                row = next(r for r in self.rows["tasks"]["created"] if r.where == where[i])
                self.conflicts.append(PushConflict("tasks", row, "deleted", ["parent"], None))
                self.created_task_uids.discard(row.uid)
                del rows[i], where[i]

    # ---------------------------------------------------------------- links created

    def _new_links(self) -> tuple[list[dict], list[str]]:
        rows, where = [], []
        self.link_upserts = []
        pending = []
        new = next((row for row in self.rows["dependencies"]["created"]
                    if row.uid not in self.by_uid["dependencies"]), None)
        if new is not None:
            try:
                self.access.require(Action.DEPENDENCY_MANAGE, self.project)
            except DomainError as exc:
                raise exc.under(new.where) from None
        for row in self.rows["dependencies"]["created"]:
            existing = self.by_uid["dependencies"].get(row.uid)
            if existing is not None:
                self.link_upserts.append((row, existing))
                continue
            fields, lost = dict(row.fields), []
            for end in ("predecessor", "successor"):
                ref = self._reference(fields.get(end), row, end)
                if ref is False or (isinstance(ref, uuid.UUID) and ref not in self.created_task_uids):
                    lost.append(end)
                fields[end] = ref
            if lost:
                self.conflicts.append(PushConflict("dependencies", row, "deleted", lost, None))
                continue
            pending.append((row, fields))
        ends = {f[e] for _, f in pending for e in ("predecessor", "successor") if isinstance(f[e], int)}
        existing = {}
        if ends:
            existing = {(d.predecessor_id, d.successor_id, d.dep_type): d for d in Dependency.objects.filter(
                project=self.project, predecessor_id__in=ends, successor_id__in=ends)}
        for row, fields in pending:
            twin = existing.get((fields["predecessor"], fields["successor"], fields.get("dep_type", "FS")))
            if twin is not None:
                self.conflicts.append(PushConflict("dependencies", row, "duplicate", ["predecessor", "successor"],
                                                   twin))
                continue
            rows.append({**fields, "uid": row.uid})
            where.append(row.where)
        return rows, where

    # ---------------------------------------------------------------- applying

    def _apply_bulk(self, tasks: list[dict], task_where: list[str], links: list[dict], link_where: list[str]) -> None:
        if not tasks and not links:
            return
        try:
            written = tasks_bulk_apply(actor=self.actor, project=self.project, tasks=tasks, dependencies=links)
        except DomainError as exc:
            raise _relocated(exc, {"tasks": task_where, "dependencies": link_where}) from None
        rows_by_where = {r.where: r for kind in ("created", "updated") for r in self.rows["tasks"][kind]}
        for at, task in zip(task_where, written.tasks, strict=True):
            row = rows_by_where[at]
            new = row.uid in self.created_task_uids and at.startswith("tasks.created")
            (self.result.created if new else self.result.updated)["tasks"].append((row, task.id, task.lock_version))
        links_by_where = {r.where: r for r in self.rows["dependencies"]["created"]}
        for at, link in zip(link_where, written.dependencies, strict=True):
            self.result.created["dependencies"].append((links_by_where[at], link.id, link.lock_version))

    def _update_links(self) -> None:
        updates = [(row, self._existing("dependencies", row)) for row in self.rows["dependencies"]["updated"]]
        updates += self.link_upserts
        if updates:
            try:
                self.access.require(Action.DEPENDENCY_MANAGE, self.project)
            except DomainError as exc:
                raise exc.under(updates[0][0].where) from None
        changed = self._changed_since("dependencies", [d.pk for _, d in updates if not d.is_deleted])
        for row, link in updates:
            if link.is_deleted:
                self.conflicts.append(PushConflict("dependencies", row, "deleted", [], link))
                continue
            fields = self._split("dependencies", row, link, changed.get(link.pk, set()))
            lost = []
            for end in ("predecessor", "successor"):
                if end in fields:
                    ref = self._reference(fields[end], row, end)
                    if isinstance(ref, uuid.UUID):
                        ref = (WorkItem.objects.filter(project=self.project, uid=ref)
                               .values_list("pk", flat=True).first())
                    if ref is False or ref is None:
                        lost.append(end)
                        del fields[end]
                    else:
                        fields[end] = self.by_id["tasks"].get(ref) or WorkItem.objects.get(pk=ref)
            if lost:
                self.conflicts.append(PushConflict("dependencies", row, "deleted", lost, link))
            if fields:
                try:
                    link = dependency_update(actor=self.actor, dependency=link, **fields)
                except DomainError as exc:
                    raise exc.under(row.where) from None
            self.result.updated["dependencies"].append((row, link.pk, link.lock_version))

    def _delete(self, name: str) -> None:
        targets = [(row, self._existing(name, row)) for row in self.rows[name]["deleted"]]
        if targets:
            try:
                self.access.require(Action.WORK_ITEM_DELETE if name == "tasks" else Action.DEPENDENCY_MANAGE,
                                    self.project)
            except DomainError as exc:
                raise exc.under(targets[0][0].where) from None
        seen: dict[int, str] = {}
        for row, current in targets:
            if current.pk in seen or (name == "tasks" and current.pk in self.updated_task_ids):
                raise InvalidInput("Another row of this batch changes this row too.", field=row.where)
            seen[current.pk] = row.where
        live = [current for _, current in targets if not current.is_deleted]
        subtrees = {t.pk: subtree_ids(t) for t in live} if name == "tasks" else {c.pk: [c.pk] for c in live}
        changed = self._changed_since(name, {i for ids in subtrees.values() for i in ids})
        attached = self._attached(subtrees) if name == "tasks" else {}
        for row, current in targets:
            if current.is_deleted:
                self.result.deleted[name].append(current.pk)
                continue
            seen_by_client = row.base_version is not None and row.base_version == current.lock_version
            own = None if seen_by_client else changed.get(current.pk)
            others = (["subtasks"] if any(i in changed for i in subtrees[current.pk][1:]) else [])
            others += attached.get(current.pk, [])
            if own is not None or others:
                self.conflicts.append(PushConflict(name, row, "changed", sorted(own or ()) + others, current))
                continue
            if not _MODEL[name].objects.filter(pk=current.pk).exists():   # deleted with a task deleted above
                self.result.deleted[name].append(current.pk)
                continue
            try:
                if name == "tasks":
                    task_delete(actor=self.actor, task=current)
                else:
                    dependency_delete(actor=self.actor, dependency=current)
            except DomainError as exc:
                raise exc.under(row.where) from None
            self.result.deleted[name].append(current.pk)


    def _attached(self, subtrees: dict[int, list[int]]) -> dict[int, list[str]]:
        """For each task to delete, the kinds of rows deleted with it (its subtree's links and assignments) that
        someone changed since the client's copy: deleting the task would delete those changes unseen."""
        tasks = {i for ids in subtrees.values() for i in ids}
        if not tasks:
            return {}
        links = list(Dependency.objects.filter(Q(predecessor_id__in=tasks) | Q(successor_id__in=tasks),
                                               project=self.project).values_list("pk", "predecessor_id",
                                                                                 "successor_id"))
        bookings = list(Assignment.objects.filter(work_item_id__in=tasks).values_list("pk", "work_item_id"))
        changed_links = self._changed_since("dependencies", [pk for pk, _, _ in links])
        changed_bookings = self._changed_since("task_resources", [pk for pk, _ in bookings])
        out: dict[int, list[str]] = {}
        for root, ids in subtrees.items():
            members = set(ids)
            kinds = []
            if any(pk in changed_links and (pred in members or succ in members) for pk, pred, succ in links):
                kinds.append("dependencies")
            if any(pk in changed_bookings and task in members for pk, task in bookings):
                kinds.append("task_resources")
            if kinds:
                out[root] = kinds
        return out


def _add(ref, ids: set, uids: set) -> None:
    if isinstance(ref, uuid.UUID):
        uids.add(ref)
    elif isinstance(ref, int) and not isinstance(ref, bool):
        ids.add(ref)


def _same(value, current) -> bool:
    """Whether a pushed value equals the stored one (a row instance counts as its id)."""
    return (value.pk if isinstance(value, Model) else value) == current


_BULK_ROW = re.compile(r"^(tasks|dependencies)\[(\d+)\]")


def _relocated(exc: DomainError, where: dict[str, list[str]]) -> DomainError:
    """A bulk-service error about ``tasks[3]`` renamed to the pushed row it came from (``tasks.updated[1]``)."""

    def rename(key: str | None) -> str | None:
        match = _BULK_ROW.match(key or "")
        if not match:
            return key
        return where[match.group(1)][int(match.group(2))] + key[match.end():]

    exc.field = rename(exc.field)
    if isinstance(exc, InvalidInput):
        exc.errors = {rename(k): v for k, v in exc.errors.items()}
    return exc


__all__ = ["MAX_PUSH_ROWS", "PUSHABLE", "PushConflict", "PushResult", "PushRow", "sync_push"]
