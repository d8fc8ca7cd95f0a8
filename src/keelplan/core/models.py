"""Abstract model bases shared by every app: timestamps, soft delete, optimistic locking, client uids."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from keelplan.core.errors import Conflict, ErrorCode, NotFound, StaleLockVersion
from keelplan.core.validation import parse_id


class LiveQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)

    def soft_delete(self, at=None) -> int:
        """Mark the live rows deleted (one UPDATE) and return how many were; rows already deleted stay as they
        are. Rows deleted together share ``at``, which is how a restore finds them again."""
        now = at or timezone.now()
        return self.filter(deleted_at__isnull=True).update(deleted_at=now, updated_at=now,
                                                           lock_version=F("lock_version") + 1)


class LiveManager(models.Manager.from_queryset(LiveQuerySet)):
    """The default manager: soft-deleted rows are invisible unless asked for through ``all_objects``."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class DomainModel(models.Model):
    """A mutable, soft-deletable, optimistically locked row.

    Invariants: ``lock_version`` grows by one on every write made through a service; a row with
    ``deleted_at`` set answers 404 everywhere and is kept as a tombstone for the sync feed.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lock_version = models.PositiveIntegerField(default=0)

    objects = LiveManager()
    all_objects = LiveQuerySet.as_manager()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def check_lock_version(row, lock_version: int | None) -> None:
    """Optimistic lock: a client that sends the version it read gets ``StaleLockVersion`` if the row moved on
    since. ``None`` (the client sent none) checks nothing."""
    if lock_version is not None and lock_version != row.lock_version:
        raise StaleLockVersion(expected=lock_version, current=row.lock_version)


# The largest ``position`` a list row takes (the columns are 32-bit).
MAX_POSITION = 2**31 - 1


def next_position(rows: models.QuerySet) -> int:
    """The position after the last of ``rows`` (1 for none), never beyond ``MAX_POSITION``."""
    last = rows.order_by("-position").values_list("position", flat=True).first()
    return min((last or 0) + 1, MAX_POSITION)


def save_unique(row: models.Model, *, field: str = "name", message: str | None = None) -> None:
    """Save ``row``; a unique constraint the checks before could not see (a concurrent write) is a
    ``duplicate_name`` conflict naming ``field``."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(message or f"The {field} is already taken.", field=field,
                       code=ErrorCode.DUPLICATE_NAME) from None


def get_or_404(queryset: models.QuerySet, row_id, *, entity: str, field: str = "id"):
    """The row of ``queryset`` (already filtered to what the actor may see) with id ``row_id``, or ``NotFound``."""
    row = queryset.filter(pk=parse_id(row_id, field=field)).first()
    if row is None:
        raise NotFound(f"No such {entity}.", entity=entity)
    return row
