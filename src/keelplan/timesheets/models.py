"""Time logged on projects and work items, and the activities (kinds of work) it is logged as."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from keelplan.core.models import DomainModel

# One entry is at most a day's time.
MAX_MINUTES = 24 * 60


class Activity(models.Model):
    """A kind of work one logs time as (OpenProject's time entry activity; Beebole's task). Workspace reference
    data, written by workspace administrators. An inactive activity stays on the entries that have it but is
    offered for no new one. Invariant: at most one activity is the default, and it is active."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="one_default_activity"),
        ]

    def __str__(self) -> str:
        return self.name


class TimeEntry(DomainModel):
    """Time ``user`` spent on ``spent_on`` in ``project``, on one of its work items or on the project as a whole.

    Invariants (kept by the services): ``work_item``, when set, belongs to ``project``; ``user`` was a member of
    the project (or the workspace administrator who logged it) when the entry was written; ``minutes`` is
    1..``MAX_MINUTES``. Time reschedules nothing and is in no offline-sync collection. ``project`` is protected:
    a project keeps its time entries, so a deleted project with live entries is never purged for good.
    ``work_item`` is set to null only when a work item deleted long ago is purged (``sync.retention``): the time
    stays on the project.
    """

    # Indexed by the composite and partial indexes below, which the list filters use.
    project = models.ForeignKey("portfolio.Project", on_delete=models.PROTECT, related_name="time_entries",
                                db_index=False)
    work_item = models.ForeignKey("planning.WorkItem", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="time_entries", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries",
                             db_index=False)
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="time_entries")
    spent_on = models.DateField()
    minutes = models.PositiveIntegerField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["spent_on", "id"]
        verbose_name_plural = "time entries"
        indexes = [
            models.Index(fields=["project", "spent_on"], name="time_entry_project_day"),
            models.Index(fields=["user", "spent_on"], name="time_entry_user_day"),
            models.Index(fields=["work_item"], condition=models.Q(work_item__isnull=False),
                         name="time_entry_work_item"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__gte=1, minutes__lte=MAX_MINUTES),
                                   name="time_entry_minutes_range"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.spent_on} by {self.user_id}"
