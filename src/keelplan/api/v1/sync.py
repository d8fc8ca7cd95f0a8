"""``/api/v1/projects/{id}/sync/``: offline sync in the v1 dialect.

``GET`` pulls a page of changes (``sync.selectors.sync_pull``) and renders each collection with the serializer its
REST endpoint uses, so a synced row and a fetched row are the same JSON. ``POST`` parses a pushed batch with the
field objects of those serializers (through the bulk endpoint's parser: same names, types, ranges and messages)
and hands it to ``sync.push.sync_push``.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from django.db import connection
from django.db.models import F, Func, Prefetch, TextField
from django.utils import timezone
from rest_framework.response import Response

from keelplan.api.v1 import serializers as s
from keelplan.api.v1.bulk import _fail, _Parser, _task_reference
from keelplan.calendars.models import CalendarException
from keelplan.changelog.services import plain
from keelplan.core.validation import parse_uid, parse_whole_number
from keelplan.planning.models import ConstraintType, Dependency, Priority, Status, WorkItem, WorkItemType
from keelplan.permissions import with_my_role
from keelplan.sync.push import MAX_PUSH_ROWS, PUSHABLE, PushResult, PushRow, sync_push
from keelplan.sync.selectors import COLLECTION_NAMES, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, sync_pull

MAX_INT = 2**63 - 1
KINDS = ("created", "updated", "deleted")


# ---------------------------------------------------------------- pull

def _number(request, name: str, default: int, *, low: int, high: int, alias: str | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None and alias:
        raw = request.query_params.get(alias)
    if raw in (None, ""):
        return default
    return parse_whole_number(raw, field=name, low=low, high=high)


def pull(request, project) -> Response:
    since = _number(request, "last_pulled_at", 0, low=0, high=MAX_INT, alias="since")
    page_size = _number(request, "page_size", PAGE_SIZE_DEFAULT, low=1, high=PAGE_SIZE_MAX)
    page = sync_pull(actor=request.user, project=project, since=since, cursor=request.query_params.get("cursor"),
                     page_size=page_size)
    context = {"request": request}
    changes = {}
    for name in COLLECTION_NAMES:
        part = page.collections[name]
        changes[name] = {"created": [], "updated": _render(name, part.rows, request, context), "deleted": part.deleted}
    return Response({"changes": changes, "timestamp": page.timestamp, "next_cursor": page.next_cursor,
                     "has_more": page.next_cursor is not None})


def _render(name: str, rows, request, context) -> list:
    if rows.query.is_empty():
        return []
    if name == "tasks":
        return task_rows(rows, context)
    if name == "dependencies":
        return dependency_rows(rows)
    if name == "projects":
        return s.ProjectSerializer(with_my_role(rows, request.user), many=True, context=context).data
    if name == "calendars":
        rows = rows.prefetch_related(Prefetch("exceptions", queryset=CalendarException.objects.order_by("start", "id")))
        return s.CalendarSerializer(rows, many=True, context=context).data
    if name == "memberships":
        return s.MembershipSerializer(rows.select_related("user"), many=True, context=context).data
    if name == "resources":
        return s.ResourceSerializer(rows, many=True, context=context).data
    return s.TaskResourceSerializer(rows.select_related("resource"), many=True, context=context).data


# A pull lists tens of thousands of tasks and links: they are read as tuples and rendered straight into the dicts
# ``TaskSerializer`` and ``DependencySerializer`` give (``test_sync`` checks they agree), several times faster than
# building model instances and rendering them field by field.
_TASK_COLUMNS = (
    "id", "uid", "project_id", "parent_id", "position", "name", "description", "status_id", "type_id", "priority_id",
    "assignee_id", "duration", "is_milestone", "scheduling_mode", "manual_start", "manual_finish", "constraint_type",
    "constraint_date", "deadline", "calendar_id", "percent_complete", "actual_start", "actual_finish", "is_critical",
    "lock_version", "created_at", "updated_at",
)
_LINK_COLUMNS = ("id", "uid", "project_id", "predecessor_id", "successor_id", "dep_type", "lag", "lag_unit",
                 "description", "is_driving", "lock_version", "created_at", "updated_at")


def _date(value):
    return None if value is None else value.isoformat()


class _UtcText(Func):
    """A timestamp as the text DRF renders for it in UTC (``2026-11-23T15:25:42.654063Z``), made by PostgreSQL:
    parsing tens of thousands of timestamps into Python objects only to print them again is most of a pull's
    time. Used on PostgreSQL only (``_columns``)."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        utc = f"({column} AT TIME ZONE 'UTC')"
        sql = (f"CASE WHEN date_trunc('second', {column}) = {column} "
               f"THEN to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
               f"ELSE to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END")
        return sql, params * 4


def _stamp_renderer():
    """``_iso_datetime`` for a page of timestamps: the same text, without a time-zone conversion per value when
    the current zone is UTC (as stored)."""
    if timezone.get_current_timezone_name() != "UTC":
        return s._iso_datetime

    def stamp(value):
        if value is None or type(value) is str:   # None, or printed by the database already
            return value
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else s._iso_datetime(value)

    return stamp


def task_rows(rows, context: dict) -> list[dict]:
    """The tasks of ``rows`` as ``TaskSerializer`` renders them, in id order."""
    tuples = list(rows.order_by("pk").values_list(*_columns(_TASK_COLUMNS)))
    if not tuples:
        return []
    codes = {name: dict(model.objects.values_list("pk", "code"))
             for name, model in (("status", Status), ("type", WorkItemType), ("priority", Priority))}
    project_id = tuples[0][2]
    parents = set(WorkItem.objects.filter(project_id=project_id, parent_id__gte=tuples[0][0],
                                          parent_id__lte=tuples[-1][0]).values_list("parent_id", flat=True).distinct())
    reader = s.schedule_reader(context)
    reader.prefetch((row[2], row[0]) for row in tuples)
    stamp, snet, none = _stamp_renderer(), ConstraintType.SNET, {}
    out = []
    for (pk, uid, project, parent, position, name, description, status, kind, priority, assignee, duration,
         milestone, mode, manual_start, manual_finish, constraint, constraint_date, deadline, calendar, percent,
         actual_start, actual_finish, critical, version, created, updated) in tuples:
        computed = reader.fields(project, pk) or none
        out.append({
            "id": pk, "uid": str(uid), "project": project, "parent": parent, "position": position, "name": name,
            "description": description, "status": codes["status"].get(status), "type": codes["type"].get(kind),
            "priority": codes["priority"].get(priority), "assignee": assignee, "duration": duration,
            "is_milestone": milestone, "is_summary": pk in parents, "scheduling_mode": mode,
            "manual_start": _date(manual_start), "manual_finish": _date(manual_finish),
            "constraint_type": constraint, "constraint_date": _date(constraint_date),
            "planned_start": constraint_date.isoformat() if constraint == snet and constraint_date else None,
            "deadline": _date(deadline), "calendar": calendar, "percent_complete": float(percent),
            "actual_start": _date(actual_start), "actual_finish": _date(actual_finish),
            "early_start": _date(computed.get("early_start")), "early_finish": _date(computed.get("early_finish")),
            "late_start": _date(computed.get("late_start")), "late_finish": _date(computed.get("late_finish")),
            "total_float": computed.get("total_float"), "free_float": computed.get("free_float"),
            "is_critical": critical, "lock_version": version, "created_at": stamp(created),
            "updated_at": stamp(updated),
        })
    return out


def dependency_rows(rows) -> list[dict]:
    """The links of ``rows`` as ``DependencySerializer`` renders them, in id order."""
    stamp = _stamp_renderer()
    return [
        {"id": pk, "uid": str(uid), "project": project, "predecessor": predecessor, "successor": successor,
         "dep_type": dep_type, "lag": lag, "lag_unit": lag_unit, "description": description, "is_driving": driving,
         "lock_version": version, "created_at": stamp(created), "updated_at": stamp(updated)}
        for (pk, uid, project, predecessor, successor, dep_type, lag, lag_unit, description, driving, version, created,
             updated) in rows.order_by("pk").values_list(*_columns(_LINK_COLUMNS))
    ]


class _UuidText(Func):
    """A uuid column as its text, made by PostgreSQL (``_columns`` uses it there only)."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column}::text", params


def _columns(names: tuple[str, ...]) -> list:
    """``names`` for ``values_list``: the uid as text, and the two timestamps too when the current zone is UTC."""
    if connection.vendor != "postgresql":
        return list(names)
    utc = timezone.get_current_timezone_name() == "UTC"
    return [_UuidText(F(name)) if name == "uid" else _UtcText(F(name)) if utc and name in ("created_at", "updated_at")
            else name for name in names]


# ---------------------------------------------------------------- push

def push(request, project) -> Response:
    body = request.data
    if not isinstance(body, dict):
        _fail("non_field_errors", f"Invalid data. Expected a dictionary, but got {type(body).__name__}.")
    batch_id = _batch_id(body.get("client_batch_id"))
    last_pulled_at = body.get("last_pulled_at", 0)
    if last_pulled_at is None:
        last_pulled_at = 0
    if isinstance(last_pulled_at, bool) or not isinstance(last_pulled_at, int) or not 0 <= last_pulled_at <= MAX_INT:
        _fail("last_pulled_at", "Must be zero or the timestamp of your last pull.")
    changes = _changes(body.get("changes"), project)
    # The id as the UUID it is: a retry that spells it in other letters is the same batch.
    digest = hashlib.sha256(json.dumps({**body, "client_batch_id": str(batch_id)}, sort_keys=True,
                                       default=str).encode()).hexdigest()
    answer, replayed = sync_push(actor=request.user, project=project, client_batch_id=batch_id,
                                 last_pulled_at=last_pulled_at, changes=changes, digest=digest,
                                 render=lambda result: _answer(result, batch_id, request))
    headers = {"Idempotent-Replay": "true"} if replayed else None
    return Response(answer, headers=headers)


def _batch_id(value) -> uuid.UUID:
    if value is None:
        _fail("client_batch_id", "This field is required: a new UUID for every batch, the same one on retries.")
    return parse_uid(value, field="client_batch_id", allow_nil=True)


def _changes(value, project) -> dict:
    if value is None:
        _fail("changes", "This field is required.")
    if not isinstance(value, dict):
        _fail("changes", f'Expected an object of collections but got type "{type(value).__name__}".')
    for name in value:
        if name not in PUSHABLE:
            _fail(f"changes.{name}", f"Only {' and '.join(PUSHABLE)} can be pushed; change other rows through their "
                                     "REST endpoints.")
    lists: dict[str, dict[str, list]] = {}
    total = 0
    for name in PUSHABLE:
        part = value.get(name) or {}
        if not isinstance(part, dict):
            _fail(f"changes.{name}", "Expected an object with created, updated and deleted lists.")
        for kind in part:
            if kind not in KINDS:
                _fail(f"changes.{name}.{kind}", "Unknown key; expected created, updated or deleted.")
        lists[name] = {}
        for kind in KINDS:
            rows = part.get(kind) or []
            if not isinstance(rows, list):
                _fail(f"changes.{name}.{kind}", f'Expected a list of items but got type "{type(rows).__name__}".')
            lists[name][kind] = rows
            total += len(rows)
    if total > MAX_PUSH_ROWS:
        _fail("changes", f"At most {MAX_PUSH_ROWS} rows per batch (this one has {total}); push in several batches.")
    parser = _Parser(project, [r for kind in ("created", "updated") for r in lists["tasks"][kind]])
    return {name: {kind: [_row(parser, name, kind, i, raw) for i, raw in enumerate(rows)]
                   for kind, rows in lists[name].items()}
            for name in PUSHABLE}


_ROW_KEYS = ("id", "uid", "base_version", "lock_version")


def _row(parser: _Parser, name: str, kind: str, i: int, raw) -> PushRow:
    where = f"{name}.{kind}[{i}]"
    if kind == "deleted" and not isinstance(raw, dict):
        raw = {"id": raw}   # WatermelonDB sends deleted rows as bare ids
    if not isinstance(raw, dict):
        _fail(where, "Must be an object.")
    fields = {k: v for k, v in raw.items() if not k.startswith("_") and k not in _ROW_KEYS}
    if "_changed" in raw:
        changed = raw["_changed"]
        if isinstance(changed, str):
            changed = [c for c in changed.split(",") if c]
        if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
            _fail(f"{where}._changed", "Expected the changed field names, as a list or comma-separated.")
        fields = {k: v for k, v in fields.items() if k in changed}
    row = PushRow(where=where)
    base = raw.get("base_version", raw.get("lock_version"))
    if base is not None:
        if isinstance(base, bool) or not isinstance(base, int) or base < 0:
            _fail(f"{where}.base_version", "Must be the lock_version you last pulled (a whole number).")
        row.base_version = base
    if kind == "created":
        if raw.get("id") is not None:
            _fail(f"{where}.id", "A row created offline has no id yet; name it by its uid.")
        if raw.get("uid") is None:
            _fail(f"{where}.uid", "This field is required: the uid (a UUID) the client gave the new row.")
        row.uid = parse_uid(raw["uid"], field=f"{where}.uid")
    elif raw.get("id") is not None:
        reference = _task_reference(raw["id"], f"{where}.id")
        if isinstance(reference, uuid.UUID):
            row.uid = reference
        else:
            row.id = reference
    elif raw.get("uid") is not None:
        row.uid = parse_uid(raw["uid"], field=f"{where}.uid", allow_nil=True)
    else:
        _fail(f"{where}.id", "This field is required: the row's id, or the uid it was created with.")
    if kind == "deleted":
        return row
    if name == "tasks":
        names = {"id": row.id} if row.id is not None else {}
        if row.uid is not None:
            names["uid"] = str(row.uid)
        parsed = parser.task(i, {**fields, **names}, where=where, edit=kind != "created")
        parsed.pop("uid", None)
        parsed.pop("id", None)
    else:
        parsed = parser.dependency(i, fields, where=where, partial=kind != "created")
    row.fields, row.client = parsed, fields
    return row


def _merged_values(result: PushResult, context: dict) -> dict[str, dict]:
    """For each updated row whose other fields someone else changed, those fields' values now (``planned_start``
    with the constraint it stands for)."""
    out = {}
    for name, serializer, model in (("tasks", s.TaskSerializer, WorkItem), ("dependencies", s.DependencySerializer,
                                                                           Dependency)):
        wanted = {pk: result.merged[row.where] for row, pk, _ in result.updated[name] if row.where in result.merged}
        if not wanted:
            continue
        rendered = {r["id"]: r for r in serializer(model.all_objects.filter(pk__in=wanted).order_by("pk"), many=True,
                                                   context=context).data}
        for row, pk, _ in result.updated[name]:
            fields = result.merged.get(row.where)
            if fields:
                if "constraint_date" in fields or "constraint_type" in fields:
                    fields = fields | {"planned_start"}
                out[row.where] = {f: rendered[pk].get(f) for f in sorted(fields)}
    return out


def _answer(result: PushResult, batch_id: uuid.UUID, request) -> dict:
    context = {"request": request}
    merged = _merged_values(result, context)
    applied = {
        name: {
            "created": [{"id": pk, "uid": str(row.uid), "lock_version": version}
                        for row, pk, version in result.created[name]],
            "updated": [{"id": pk, "lock_version": version, "merged": merged.get(row.where, {})}
                        for row, pk, version in result.updated[name]],
            "deleted": sorted(set(result.deleted[name])),
        }
        for name in PUSHABLE
    }
    conflicts: dict[str, list] = {name: [] for name in PUSHABLE}
    for conflict in result.conflicts:
        server = {}
        if conflict.server is not None:
            serializer = s.TaskSerializer if conflict.collection == "tasks" else s.DependencySerializer
            server = serializer(conflict.server, context=context).data
        fields = [f for f in conflict.fields if f != "subtasks"]
        row = conflict.row
        uid = row.uid if row.uid is not None else getattr(conflict.server, "uid", None)
        conflicts[conflict.collection].append({
            "where": row.where,
            "id": conflict.server.pk if conflict.server is not None else row.id,
            "uid": str(uid) if uid is not None else None,
            "reason": conflict.reason,
            "conflict_fields": conflict.fields,
            "server_value": {f: server.get(f) for f in fields} if conflict.reason != "duplicate" else dict(server),
            "client_value": {f: row.client.get(f, plain(row.fields.get(f))) for f in fields},
            "server_version": server.get("lock_version"),
            "server_deleted": bool(conflict.server is not None and conflict.server.is_deleted),
        })
    return {"client_batch_id": str(batch_id), "applied": applied, "conflicts": conflicts,
            "timestamp": result.timestamp}
