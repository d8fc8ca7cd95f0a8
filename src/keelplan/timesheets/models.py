"""Time logged on projects and work items, and the activities (kinds of work) it is logged as."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from keelplan.core.models import DomainModel

# One entry is at most a day's time.
MAX_MINUTES = 24 * 60


class Activity(models.Model):
    """A kind of work one logs time as (OpenProject's time entry activity; Beebole's task). Reference data,
    written by workspace administrators. ``company`` None makes it workspace-wide, usable in every project;
    otherwise it is that company's own, usable only in the company's projects (Beebole: a task belongs to a
    company), and it never moves to another. An inactive activity stays on the entries that have it but is
    offered for no new one.

    Invariants: at most one activity is the default, and it is active; names are unique ignoring case among one
    company's activities, and among the workspace-wide ones (two constraints: NULLs never clash on PostgreSQL).
    """

    name = models.CharField(max_length=100)
    company = models.ForeignKey("portfolio.Company", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="activities")
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="one_default_activity"),
            models.UniqueConstraint(Lower("name"), "company", condition=models.Q(company__isnull=False),
                                    name="one_activity_name_per_company"),
            models.UniqueConstraint(Lower("name"), condition=models.Q(company__isnull=True),
                                    name="one_workspace_activity_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ActivitySelection(models.Model):
    """The specific activities of one project (a subproject is a child project) or one company: the subset of
    activities chosen to be offered there instead of the generic ones (Beebole's specific tasks).

    ``is_enabled`` is Beebole's switch, on by default: a disabled selection keeps its activities but counts as
    none, so the owner falls back to what it would offer without one (``selectors.activities_offered`` walks the
    project, its ancestors, then its company). A project or company with no row has an enabled, empty selection.

    Invariants: exactly one of ``project`` and ``company``; each activity is one usable by the owner when it was
    attached (workspace-wide, or of the owner's company), kept by the services.
    """

    project = models.OneToOneField("portfolio.Project", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="activity_selection")
    company = models.OneToOneField("portfolio.Company", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="activity_selection")
    activities = models.ManyToManyField(Activity, blank=True, related_name="selections")
    is_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(project__isnull=False, company__isnull=True)
                           | models.Q(project__isnull=True, company__isnull=False)),
                name="activity_selection_one_owner"),
        ]

    def __str__(self) -> str:
        return f"specific activities of {self.project or self.company}"


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
