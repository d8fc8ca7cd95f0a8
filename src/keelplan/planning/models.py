"""Work items (tasks in a WBS tree), the dependencies between them, and their statuses, types and priorities."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from keelplan.core.models import DomainModel


class Status(models.Model):
    """A work item's state. ``code`` is what the v1 dialect reads and writes (``IN_PROGRESS``)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_closed = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    color = models.CharField(max_length=7, default="#1A67A3")

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "statuses"

    def __str__(self) -> str:
        return self.name


class WorkItemType(models.Model):
    """The kind of a work item (task, milestone, phase, ...)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    color = models.CharField(max_length=7, default="#1A67A3")
    is_milestone = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Priority(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    color = models.CharField(max_length=7, default="#1A67A3")

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "priorities"

    def __str__(self) -> str:
        return self.name


class ConstraintType(models.TextChoices):
    """MS Project's eight constraint types."""

    ASAP = "ASAP", "As soon as possible"
    ALAP = "ALAP", "As late as possible"
    MSO = "MSO", "Must start on"
    MFO = "MFO", "Must finish on"
    SNET = "SNET", "Start no earlier than"
    SNLT = "SNLT", "Start no later than"
    FNET = "FNET", "Finish no earlier than"
    FNLT = "FNLT", "Finish no later than"


DATED_CONSTRAINTS = frozenset(
    {ConstraintType.MSO, ConstraintType.MFO, ConstraintType.SNET, ConstraintType.SNLT, ConstraintType.FNET,
     ConstraintType.FNLT}
)


class SchedulingMode(models.TextChoices):
    AUTO = "auto", "Automatic"
    MANUAL = "manual", "Manual (fixed dates)"




class WorkItem(DomainModel):
    """A task, milestone or summary in a project's WBS.

    Inputs to the scheduler: duration (whole working days; 0 = milestone), constraint, deadline,
    scheduling mode with manual dates, calendar, progress, parent. Outputs (``early_*``, ``late_*``, floats,
    ``is_critical``) are written by the scheduler only (see ``keelplan.scheduling``). Invariant: ``parent`` is in the same project and
    the parent chain never loops; a dated constraint has its date; ``uid`` is unique within the project.
    """

    # Clients choose uids (bulk requests, offline sync). Unique per project, not workspace-wide: a global rule
    # would make "this uid is taken" tell anyone that a row exists in a project they cannot see.
    uid = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="work_items")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=512)
    description = models.TextField(blank=True)
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="+")
    type = models.ForeignKey(WorkItemType, on_delete=models.PROTECT, related_name="+")
    priority = models.ForeignKey(Priority, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_work_items"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    duration = models.PositiveIntegerField(default=1)
    is_milestone = models.BooleanField(default=False)
    scheduling_mode = models.CharField(max_length=8, choices=SchedulingMode.choices, default=SchedulingMode.AUTO)
    manual_start = models.DateField(null=True, blank=True)
    manual_finish = models.DateField(null=True, blank=True)
    constraint_type = models.CharField(max_length=4, choices=ConstraintType.choices, default=ConstraintType.ASAP)
    constraint_date = models.DateField(null=True, blank=True)
    deadline = models.DateField(null=True, blank=True)
    calendar = models.ForeignKey(
        "calendars.Calendar", null=True, blank=True, on_delete=models.PROTECT, related_name="work_items"
    )
    percent_complete = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    actual_start = models.DateField(null=True, blank=True)
    actual_finish = models.DateField(null=True, blank=True)

    # Computed by the scheduler. The dates and floats live in ``scheduling.ScheduleChunk``; this copy of the
    # critical flag is kept on the row (written only where it flips) so lists can filter on it in SQL. It has no
    # index of its own: an edit can flip it on thousands of rows, and unindexed columns update in place (HOT).
    is_critical = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["project", "id"]),
            models.Index(fields=["parent"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent_complete__gte=0, percent_complete__lte=100), name="work_item_percent_range"
            ),
            models.UniqueConstraint(fields=["project", "uid"], name="work_item_uid_per_project"),
        ]

    def __str__(self) -> str:
        return self.name


# The fields of a work item the scheduler reads: a write that changes one of them reschedules the project.
SCHEDULE_INPUT_FIELDS = frozenset({
    "parent", "duration", "is_milestone", "scheduling_mode", "manual_start", "manual_finish", "constraint_type",
    "constraint_date", "deadline", "calendar", "percent_complete", "actual_start", "actual_finish",
})


class DependencyType(models.TextChoices):
    FS = "FS", "Finish-to-start"
    SS = "SS", "Start-to-start"
    FF = "FF", "Finish-to-finish"
    SF = "SF", "Start-to-finish"


class LagUnit(models.TextChoices):
    """How ``lag`` is counted: working days on the successor's calendar, elapsed (calendar) days, or a
    percentage of the predecessor's duration."""

    WORKING_DAYS = "wd", "Working days"
    ELAPSED_DAYS = "ed", "Elapsed days"
    PERCENT = "pct", "Percent of predecessor duration"


class Dependency(DomainModel):
    """A scheduling link ``predecessor -> successor``. Negative lag is a lead.

    Invariants: both ends are live work items of ``project``; no self-links; the live dependency graph is
    acyclic; at most one live link per (predecessor, successor, type); ``uid`` is unique within the project.
    """

    uid = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)   # as ``WorkItem.uid``
    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="dependencies")
    predecessor = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="successor_links")
    successor = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="predecessor_links")
    dep_type = models.CharField(max_length=2, choices=DependencyType.choices, default=DependencyType.FS)
    lag = models.IntegerField(default=0)
    lag_unit = models.CharField(max_length=3, choices=LagUnit.choices, default=LagUnit.ELAPSED_DAYS)
    description = models.TextField(blank=True)
    is_driving = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "dependencies"
        indexes = [models.Index(fields=["project", "id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["predecessor", "successor", "dep_type"],
                condition=models.Q(deleted_at__isnull=True),
                name="one_live_link_per_type",
            ),
            models.CheckConstraint(condition=~models.Q(predecessor=models.F("successor")), name="no_self_link"),
            models.UniqueConstraint(fields=["project", "uid"], name="dependency_uid_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor_id} -{self.dep_type}-> {self.successor_id}"
