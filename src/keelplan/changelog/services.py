"""Appending to the change log. Every service that writes a row calls ``change_record`` in its transaction.

Below the domain apps: it imports none of them. The protocols above hear it by registering (``on_change``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone

from keelplan.changelog.models import ChangeAction, ChangeEvent, ChangeStream
from keelplan.core.bulk_insert import insert_rows

WORKSPACE_STREAM = "workspace"
# A project stream's event recording the workspace stream's position (payload ``{"workspace_seq": n}``), so
# that one number -- a position in the project's stream -- pins both streams for a sync client.
SYNC_MARK = "sync_mark"
# The scheduler's one event per computation that changed something. Payload: finish_date [old, new]; work_items,
# the tasks whose computed fields changed, and dependencies, the links whose is_driving flipped, each as
# [first, last] runs of ids; fields, the API names of the computed fields that changed.
SCHEDULE_ENTITY = "schedule"
_PLAIN_TYPES = frozenset({str, int, bool, float})


def plain(value):
    """A JSON-safe form of a field value, as it would appear in an API."""
    if value is None or type(value) in _PLAIN_TYPES:
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict:
    """The current values of ``fields`` (foreign keys as ids), for diffing after a change."""
    values = {}
    for name in fields:
        f = instance._meta.get_field(name)
        values[name] = plain(getattr(instance, f.attname))
    return values


def diff(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


@dataclass
class Change:
    """One row's change: ``changes`` maps field -> ``(old, new)``. A ``payload`` is stored as given instead (the
    scheduler's one event per computation lists the tasks it changed that way)."""

    entity: str
    entity_id: int
    action: str
    changes: dict = field(default_factory=dict)
    payload: dict | None = None


# Callables ``listener(project, actor, changes)`` told of every batch of changes recorded, inside the writer's
# transaction (the scheduler subscribes to reschedule projects whose inputs moved).
_listeners: list = []


def on_change(listener) -> None:
    """Subscribe ``listener(project, actor, changes)`` to every ``change_record`` call (``project`` None = workspace)."""
    if listener not in _listeners:
        _listeners.append(listener)


def stream_create_for_project(project) -> ChangeStream:
    return ChangeStream.objects.create(key=f"project:{project.pk}", project=project)


def locked_stream(project) -> ChangeStream:
    if project is None:
        stream, _ = ChangeStream.objects.get_or_create(key=WORKSPACE_STREAM)
        return ChangeStream.objects.select_for_update().get(pk=stream.pk)
    return ChangeStream.objects.select_for_update().get(project=project)


def project_write_lock(project) -> ChangeStream:
    """Lock the project's stream row for the rest of the transaction, serialising writers of that project.

    Services that validate against the project's current state (cycles, last owner) take it before they read.
    """
    assert transaction.get_connection().in_atomic_block, "project_write_lock needs a transaction"
    return locked_stream(project)


def change_record(*, project, actor, changes: Sequence[Change]) -> None:
    """Append ``changes`` to the project's stream (or the workspace's when ``project`` is None)."""
    if not changes:
        return
    assert transaction.get_connection().in_atomic_block, "change_record must run inside the write's transaction"
    stream = locked_stream(project)
    first = stream.last_seq + 1
    ChangeStream.objects.filter(pk=stream.pk).update(last_seq=stream.last_seq + len(changes))
    stream.last_seq += len(changes)
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    now = timezone.now()
    # insert_rows: tens of thousands of events (a bulk request) go in with one COPY on PostgreSQL.
    insert_rows(ChangeEvent, [
        {"stream_id": stream.pk, "seq": first + i, "entity": c.entity, "entity_id": c.entity_id, "action": c.action,
         "changes": c.payload if c.payload is not None else {k: [plain(a), plain(b)] for k, (a, b) in c.changes.items()},
         "actor_id": actor_id, "created_at": now}
        for i, c in enumerate(changes)
    ])
    for listener in _listeners:
        listener(project, actor, changes)


def row_save_changes(row: models.Model, before: dict, fields, *, entity: str, project, actor, save=None) -> dict:
    """Write ``row`` if any of ``fields`` moved from ``before``: bump ``lock_version``, stamp ``updated_at``, save
    (with ``save`` if given) and log one ``updated`` event. Returns the changes; empty means nothing was written."""
    changes = diff(before, snapshot(row, fields))
    if changes:
        row.lock_version += 1
        row.updated_at = timezone.now()
        (save or row.save)()
        change_record(project=project, actor=actor, changes=[Change(entity, row.pk, ChangeAction.UPDATED, changes)])
    return changes


__all__ = [
    "SCHEDULE_ENTITY", "SYNC_MARK", "WORKSPACE_STREAM", "Change", "ChangeAction", "ChangeEvent", "ChangeStream",
    "change_record", "diff", "locked_stream", "on_change", "plain", "project_write_lock", "row_save_changes",
    "snapshot", "stream_create_for_project",
]
