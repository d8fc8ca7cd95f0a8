"""What the offline sync protocol stores beside the change log: pushed batches and their answers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


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
