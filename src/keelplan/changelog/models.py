"""The ordered change log: one ChangeEvent per row written, numbered per stream in commit order.

This app sits below the domain apps (it imports none of them): every service records its writes here, and the
protocols above (the scheduler, the offline sync feed) read it. The tables keep the names they had when they
lived in the ``sync`` app.
"""

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

    class Meta:
        db_table = "sync_changestream"

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
        db_table = "sync_changeevent"
        ordering = ["stream", "seq"]
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="one_event_per_seq")]
        indexes = [
            models.Index(fields=["entity", "entity_id"], name="sync_change_entity_8179ef_idx"),
            # The sync marks of a stream (see ``keelplan.sync.services.SYNC_MARK``), found without scanning its events.
            models.Index(fields=["stream", "seq"], condition=Q(entity="sync_mark"), name="sync_mark_by_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.stream.key}#{self.seq} {self.action} {self.entity}:{self.entity_id}"
