"""Reads of the change log: what changed in a project since a client last pulled, a page at a time.

A pull answers at a *sync point* (``sync.services.SyncPoint``): a position in the project's change stream, with
the workspace stream's position pinned to it. The rows of seven collections are listed in a fixed order, each in
id order; a page holds at most ``page_size`` of them and its cursor names the next (collection, id). The cursor
also pins the sync point, so every page of one pull describes the same change-log range: a row written while a
client pages through is either in a later page of this pull (with its newest values) or in the next pull.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.db.models.fields.json import KeyTransform

from keelplan.calendars.models import Calendar, CalendarException
from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.changelog.services import SCHEDULE_ENTITY, WORKSPACE_STREAM
from keelplan.core.errors import InvalidInput
from keelplan.permissions import Action, require
from keelplan.planning.models import Dependency, WorkItem
from keelplan.portfolio.models import Membership, Project
from keelplan.resources.models import Assignment, Resource
from keelplan.sync.services import SyncPoint, sync_point_resolve, sync_point_take

PAGE_SIZE_DEFAULT = 1000
PAGE_SIZE_MAX = 5000
_CURSOR_SALT = "keelplan.sync.cursor"


@dataclass(frozen=True)
class Collection:
    """A sync collection: its rows, the change-log entities that name them, and the stream they are logged in."""

    name: str
    model: type[Model]
    entities: tuple[str, ...]
    workspace: bool = False

    def scope(self, project: Project) -> QuerySet:
        """The live rows of this collection a pull of ``project`` lists."""
        if self.model is Project:
            return Project.objects.filter(pk=project.pk)
        if self.model is Calendar:  # shared calendars and this project's own, never another project's
            return Calendar.objects.filter(Q(project__isnull=True) | Q(project=project))
        if self.workspace:
            return self.model.objects.all()
        return self.model.objects.filter(project=project)


# In the order a pull lists them.
COLLECTIONS = (
    Collection("projects", Project, ("project",)),
    Collection("tasks", WorkItem, ("work_item",)),
    Collection("dependencies", Dependency, ("dependency",)),
    Collection("calendars", Calendar, ("calendar", "calendar_exception"), workspace=True),
    Collection("memberships", Membership, ("membership",)),
    Collection("resources", Resource, ("resource",), workspace=True),
    Collection("task_resources", Assignment, ("assignment",)),
)
COLLECTION_NAMES = tuple(c.name for c in COLLECTIONS)
# The rows whose computed fields the scheduler writes, and the key of its event's payload that names them.
SCHEDULED = {WorkItem: "work_items", Dependency: "dependencies"}


@dataclass(frozen=True)
class Cursor:
    """Where the next page of one pull starts, and the range the pull covers."""

    project_id: int
    since: SyncPoint
    until: SyncPoint
    index: int = 0      # position in COLLECTIONS
    after: int = 0      # last id already listed in that collection

    def encode(self) -> str:
        values = [self.project_id, self.since.seq, self.since.workspace_seq, self.until.seq,
                  self.until.workspace_seq, self.index, self.after]
        return signing.dumps(values, salt=_CURSOR_SALT, compress=True)

    @classmethod
    def decode(cls, text: str, project: Project) -> Cursor:
        try:
            values = signing.loads(text, salt=_CURSOR_SALT)
            pid, since, since_ws, until, until_ws, index, after = (int(v) for v in values)
        except (signing.BadSignature, TypeError, ValueError):
            raise InvalidInput("Not a cursor this server gave out; start the pull again without one.",
                               field="cursor", code="invalid_cursor") from None
        if pid != project.pk or not 0 <= index < len(COLLECTIONS):
            raise InvalidInput("This cursor belongs to another project's pull.", field="cursor",
                               code="invalid_cursor")
        return cls(pid, SyncPoint(since, since_ws), SyncPoint(until, until_ws), index, after)


@dataclass
class PulledCollection:
    """One collection's part of a page: live rows to render (``rows``, in id order) and ids of deleted rows."""

    rows: QuerySet
    deleted: list[int] = field(default_factory=list)


@dataclass
class PullPage:
    timestamp: int
    collections: dict[str, PulledCollection]
    next_cursor: str | None


def sync_pull(*, actor, project: Project, since: int = 0, cursor: str | None = None,
              page_size: int = PAGE_SIZE_DEFAULT) -> PullPage:
    """One page of the changes to ``project`` after ``since`` (0: every live row). Viewer and above.

    Without ``cursor`` this starts a pull: the sync point it answers at is taken now and returned as
    ``timestamp``. With the ``cursor`` of the previous page it continues that pull (``since`` is then ignored).
    ``next_cursor`` is None on the last page.
    """
    require(actor, Action.CHANGES_PULL, project)
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidInput(f"Must be between 1 and {PAGE_SIZE_MAX}.", field="page_size")
    if cursor:
        position = Cursor.decode(cursor, project)
    else:
        start = sync_point_resolve(project, since)
        position = Cursor(project.pk, start, sync_point_take(project))
    return _Page(project, position).read(page_size)


class _Page:
    def __init__(self, project: Project, position: Cursor):
        self.project, self.position = project, position
        self.full = position.since.seq == 0
        self.streams = dict(ChangeStream.objects.filter(project=project).values_list("key", "pk"))
        self.streams.update(ChangeStream.objects.filter(key=WORKSPACE_STREAM).values_list("key", "pk"))

    def read(self, page_size: int) -> PullPage:
        budget, next_cursor = page_size, None
        found: dict[str, list[int]] = {}
        for index in range(self.position.index, len(COLLECTIONS)):
            collection = COLLECTIONS[index]
            after = self.position.after if index == self.position.index else 0
            ids = self._ids(collection, after, budget + 1)
            if len(ids) > budget:
                ids = ids[:budget]
                next_cursor = Cursor(self.project.pk, self.position.since, self.position.until, index,
                                     ids[-1] if ids else after).encode()
                found[collection.name] = ids
                break
            found[collection.name] = ids
            budget -= len(ids)
        collections = {c.name: self._rows(c, found.get(c.name, [])) for c in COLLECTIONS}
        return PullPage(self.position.until.seq, collections, next_cursor)

    # ---------------------------------------------------------------- which ids

    def _ids(self, collection: Collection, after: int, limit: int) -> list[int]:
        """The first ``limit`` ids above ``after`` this pull lists in ``collection``, ascending."""
        if self.full:
            return list(collection.scope(self.project).filter(pk__gt=after).order_by("pk")
                        .values_list("pk", flat=True)[:limit])
        if collection.model is Project:
            return [self.project.pk] if after < self.project.pk and self._project_changed() else []
        events = self._events(collection)
        if collection.model is Calendar:
            # Calendar events are in the workspace stream; another project's own calendars are not this pull's.
            events = events.filter(Q(entity="calendar_exception") | Q(
                entity_id__in=Calendar.all_objects.filter(Q(project__isnull=True) | Q(project=self.project))
                .values("pk")))
        ids = list(events.filter(entity=collection.entities[0], entity_id__gt=after).order_by("entity_id")
                   .values_list("entity_id", flat=True).distinct()[:limit])
        extra: list[list[int]] = []
        if collection.model in SCHEDULED:
            # A computation's event names, as runs of ids, the tasks whose computed fields changed and the links
            # whose is_driving flipped.
            runs = []
            for part in (self._range(False).filter(entity=SCHEDULE_ENTITY)
                         .annotate(part=KeyTransform(SCHEDULED[collection.model], "changes"))
                         .values_list("part", flat=True)):
                runs.extend(part or ())
            extra.append(_first_in_runs(runs, after, limit))
        if collection.model in (WorkItem, Assignment):
            extra.append(self._also_listed(collection, events if collection.model is WorkItem else self._range(False),
                                           after, limit))
        if collection.model is Calendar:
            exception_ids = list(events.filter(entity="calendar_exception").values_list("entity_id", flat=True))
            calendars = set(CalendarException.all_objects.filter(pk__in=exception_ids)
                            .filter(Q(calendar__project__isnull=True) | Q(calendar__project=self.project))
                            .values_list("calendar_id", flat=True)) if exception_ids else set()
            extra.append(sorted(c for c in calendars if c > after))
        if extra:
            merged = heapq.merge(ids, *extra)
            ids = []
            for value in merged:
                if not ids or ids[-1] != value:
                    ids.append(value)
                    if len(ids) == limit:
                        break
        return ids

    def _project_changed(self) -> bool:
        """Whether the project row as the puller sees it changed: written; its schedule (``finish_date``,
        ``scheduled_at``) changed by a computation; or a membership changed (the row carries the puller's role)."""
        return self._range(False).filter(entity__in=("project", SCHEDULE_ENTITY, "membership")).exists()

    def _also_listed(self, collection: Collection, events: QuerySet, after: int, limit: int) -> list[int]:
        """Rows a change elsewhere altered as rendered: a task's parent (``is_summary``) when a child came, went
        or moved; an assignment (``resource_name``) when its resource was renamed."""
        if collection.model is WorkItem:
            parents: set[int] = set()
            for changes in events.filter(entity="work_item", changes__has_key="parent").values_list("changes",
                                                                                                    flat=True):
                parents.update(p for p in changes["parent"] if isinstance(p, int))
            gone = events.filter(entity="work_item", action__in=("deleted", "restored")).values("entity_id")
            parents.update(WorkItem.all_objects.filter(pk__in=gone, parent_id__isnull=False)
                           .values_list("parent_id", flat=True))
            return sorted(p for p in parents if p > after)[:limit]
        if collection.model is Assignment:
            renamed = self._range(True).filter(entity="resource", changes__has_key="name").values("entity_id")
            return list(Assignment.all_objects.filter(project=self.project, resource_id__in=renamed, pk__gt=after)
                        .order_by("pk").values_list("pk", flat=True)[:limit])
        return []

    def _range(self, workspace: bool) -> QuerySet:
        since, until = self.position.since, self.position.until
        if workspace:
            key, low, high = WORKSPACE_STREAM, since.workspace_seq, until.workspace_seq
        else:
            key, low, high = f"project:{self.project.pk}", since.seq, until.seq
        stream = self.streams.get(key)
        if stream is None or high <= low:
            return ChangeEvent.objects.none()
        return ChangeEvent.objects.filter(stream_id=stream, seq__gt=low, seq__lte=high)

    def _events(self, collection: Collection) -> QuerySet:
        return self._range(collection.workspace).filter(entity__in=collection.entities)

    # ---------------------------------------------------------------- which rows

    def _rows(self, collection: Collection, ids: list[int]) -> PulledCollection:
        scope = collection.scope(self.project)
        if not ids:
            return PulledCollection(scope.none())
        if self.full:
            # Ids are consecutive in the table's order: a range reads faster than a list of thousands.
            return PulledCollection(scope.filter(pk__gte=ids[0], pk__lte=ids[-1]).order_by("pk"))
        rows = scope.filter(pk__in=ids).order_by("pk")
        live = set(rows.values_list("pk", flat=True))
        return PulledCollection(rows, [i for i in ids if i not in live])


def _first_in_runs(runs, after: int, limit: int) -> list[int]:
    """The first ``limit`` ids above ``after`` in the union of inclusive ``[first, last]`` runs, ascending."""
    out: list[int] = []
    last_taken = after
    for first, last in sorted((max(first, after + 1), last) for first, last in runs if last > after):
        first = max(first, last_taken + 1)
        if first > last:
            continue
        stop = min(last, first + (limit - len(out)) - 1)
        out.extend(range(first, stop + 1))
        last_taken = stop
        if len(out) >= limit:
            break
    return out


__all__ = ["COLLECTIONS", "COLLECTION_NAMES", "PAGE_SIZE_DEFAULT", "PAGE_SIZE_MAX", "PullPage", "sync_pull"]
