"""The ordered change log: one ChangeEvent per row written, numbered per stream in commit order."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ChangeStream(models.Model):
    """The counter of one ordered stream: a project's (``project`` set) or the workspace's (``project`` null:
    calendars, resources). Writers lock this row to take the next number, so numbers follow commit order."""

    key = models.CharField(max_length=40, unique=True)
    project = models.OneToOneField(
        "portfolio.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="change_stream"
    )
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key} @ {self.last_seq}"


class ChangeAction(models.TextChoices):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    RESTORED = "restored"


class ChangeEvent(models.Model):
    """One write to one row, recorded in the same transaction as the write.

    ``changes`` maps field name to ``[old, new]`` (for ``created``: ``[null, value]``). Invariant: within a
    stream, ``seq`` is gap-free and strictly increasing in commit order.
    """

    stream = models.ForeignKey(ChangeStream, on_delete=models.CASCADE, related_name="events")
    seq = models.BigIntegerField()
    entity = models.CharField(max_length=40)
    entity_id = models.BigIntegerField()
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    changes = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["stream", "seq"]
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="one_event_per_seq")]
        indexes = [
            models.Index(fields=["entity", "entity_id"]),
            # The sync marks of a stream (see ``sync.services.SYNC_MARK``), found without scanning its events.
            models.Index(fields=["stream", "seq"], condition=Q(entity="sync_mark"), name="sync_mark_by_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.stream.key}#{self.seq} {self.action} {self.entity}:{self.entity_id}"


class SyncBatch(models.Model):
    """One pushed batch of offline changes and the answer it got, so a retried push replays the answer instead
    of applying the changes twice. Unique per (project, actor, client_batch_id); ``digest`` is the request's
    hash, so the same id with different changes is told apart from a retry."""

    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client_batch_id = models.UUIDField()
    digest = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "actor", "client_batch_id"],
                                               name="one_sync_batch_per_client_batch_id")]

    def __str__(self) -> str:
        return f"batch {self.client_batch_id} of {self.actor_id} in project {self.project_id}"
