"""Sync points: one number a sync client holds, pinning its project's stream and the workspace stream."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.changelog.services import SYNC_MARK, WORKSPACE_STREAM, Change, ChangeAction, change_record, locked_stream
from keelplan.core.errors import InvalidInput
from keelplan.core.transactions import write_transaction

# ---------------------------------------------------------------- sync points

@dataclass(frozen=True)
class SyncPoint:
    """Where a sync client stands: a position in the project's stream and the workspace stream position that
    goes with it (calendars and resources are logged in the workspace stream)."""

    seq: int
    workspace_seq: int


def _workspace_seq() -> int:
    return ChangeStream.objects.filter(key=WORKSPACE_STREAM).values_list("last_seq", flat=True).first() or 0


def _mark_at_or_before(stream_id: int, seq: int) -> int:
    """The workspace position recorded by the stream's last sync mark at or before ``seq`` (0 if none)."""
    payload = (ChangeEvent.objects.filter(stream_id=stream_id, entity=SYNC_MARK, seq__lte=seq)
               .order_by("-seq").values_list("changes", flat=True).first())
    return int(payload["workspace_seq"]) if payload else 0


def sync_point_take(project) -> SyncPoint:
    """The point a pull of ``project`` answers at: the stream's current position, pinned to the workspace
    position by the last sync mark before it.

    If the workspace stream has moved since that mark, a new mark is appended first (the only write a pull
    makes, and only after a calendar or resource changed). Marks are appended at the stream's end, so the
    marks at or before a position never change and ``sync_point_resolve`` maps it back the same way forever.
    """
    stream = ChangeStream.objects.filter(project=project).values_list("pk", "last_seq").first()
    if stream is None:
        return SyncPoint(0, 0)
    stream_id, seq = stream
    pinned = _mark_at_or_before(stream_id, seq)
    if _workspace_seq() <= pinned:
        return SyncPoint(seq, pinned)
    with write_transaction():
        seq = locked_stream(project).last_seq
        pinned, now = _mark_at_or_before(stream_id, seq), _workspace_seq()
        if now > pinned:
            change_record(project=project, actor=None, changes=[
                Change(SYNC_MARK, 0, ChangeAction.UPDATED, payload={"workspace_seq": now})])
            seq, pinned = seq + 1, now
    return SyncPoint(seq, pinned)


def sync_point_resolve(project, seq: int, *, field: str = "last_pulled_at") -> SyncPoint:
    """The sync point a client's ``seq`` (a ``timestamp`` it was given) stands for, refusing one this project
    never gave out (``unknown_sync_point``) or one older than the tombstone retention (``sync_point_expired``):
    deleted rows are purged after the retention, so such a client could miss deletions and must pull
    everything again."""
    if seq == 0:
        return SyncPoint(0, 0)
    stream = ChangeStream.objects.filter(project=project).values_list("pk", "last_seq").first()
    stream_id, last = stream or (None, 0)
    if seq < 0 or seq > last:
        raise InvalidInput(f"This project's change log ends at {last}; pull again with last_pulled_at=0.",
                           field=field, code="unknown_sync_point")
    point = SyncPoint(seq, _mark_at_or_before(stream_id, seq))
    cutoff = timezone.now() - dt.timedelta(days=settings.KEELPLAN_TOMBSTONE_RETENTION_DAYS)
    missed = (ChangeEvent.objects.filter(stream_id=stream_id, seq__gt=point.seq).order_by("seq")
              .values_list("created_at", flat=True).first())
    missed_ws = (ChangeEvent.objects.filter(stream__key=WORKSPACE_STREAM, seq__gt=point.workspace_seq)
                 .order_by("seq").values_list("created_at", flat=True).first())
    if any(t is not None and t < cutoff for t in (missed, missed_ws)):
        raise InvalidInput(
            f"This timestamp is older than the {settings.KEELPLAN_TOMBSTONE_RETENTION_DAYS}-day retention of deleted "
            "rows, so deletions since may be gone from the feed: pull everything again with last_pulled_at=0 and "
            "replace the local copy.", field=field, code="sync_point_expired")
    return point


__all__ = ["SyncPoint", "sync_point_resolve", "sync_point_take"]
