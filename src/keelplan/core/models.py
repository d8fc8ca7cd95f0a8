"""Abstract model bases shared by every app: timestamps, soft delete, optimistic locking, client uids."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F
from django.utils import timezone

from keelplan.core.errors import StaleLockVersion


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
