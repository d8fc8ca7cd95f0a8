"""Work items (tasks in a WBS tree), the dependencies between them, and their statuses, types and priorities;
the workflows (which status changes each type allows), the colour palette, versions and categories."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from keelplan.core.models import DomainModel, LiveManager, LiveQuerySet
from keelplan.portfolio.models import Role

# A colour as stored everywhere: ``#RRGGBB``.
HEX_COLOR_PATTERN = r"#[0-9A-Fa-f]{6}"


class Color(models.Model):
    """A named colour of the workspace palette (OpenProject v2's ``/colors``).

    Statuses, types and priorities keep their colour as hex text in ``color`` (the v1 dialect may read it), not as
    a reference to this table: the palette lists the colours offered, and a dialect that shows a colour row (v2's
    ``color{id, name, hexcode}``) finds it by ``hexcode``. Invariants: ``hexcode`` is ``#RRGGBB`` in upper case;
    ``name`` and ``hexcode`` are unique. Changing a colour's hexcode repaints the rows painted with it; a colour
    rows are painted with cannot be deleted.
    """

    name = models.CharField(max_length=100, unique=True)
    hexcode = models.CharField(max_length=7, unique=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hexcode})"


class Status(models.Model):
    """A work item's state. ``code`` is what the v1 dialect reads and writes (``IN_PROGRESS``).

    ``is_readonly``: a work item in this status may have only its status changed; ``default_done_ratio`` (0-100
    or None): the progress a work item takes on when it enters the status; ``excluded_from_totals``: its work
    items are left out of summed estimates (OpenProject's meanings). Invariant: at most one status is the default
    (the reference services keep exactly one).
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_closed = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    color = models.CharField(max_length=7, default="#1A67A3")
    is_readonly = models.BooleanField(default=False)
    default_done_ratio = models.PositiveSmallIntegerField(null=True, blank=True)
    excluded_from_totals = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "statuses"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="one_default_status"),
            models.CheckConstraint(condition=models.Q(default_done_ratio__isnull=True)
                                   | models.Q(default_done_ratio__lte=100), name="status_done_ratio_range"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkItemType(models.Model):
    """The kind of a work item (task, milestone, phase, ...). Every type is enabled in a project that enables
    none in particular (``ProjectWorkItemType``). Invariant: at most one type is the default."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    color = models.CharField(max_length=7, default="#1A67A3")
    is_milestone = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="one_default_work_item_type"),
        ]

    def __str__(self) -> str:
        return self.name


class Priority(models.Model):
    """How urgent a work item is. An inactive priority stays on the work items that have it but is offered for
    no other. Invariant: at most one priority is the default, and it is active."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    color = models.CharField(max_length=7, default="#1A67A3")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "priorities"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="one_default_priority"),
        ]

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


class ProjectWorkItemType(models.Model):
    """A type enabled in a project. A project with no such rows enables every type, so projects that never chose
    keep working as new types are added."""

    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="+")
    type = models.ForeignKey(WorkItemType, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["project", "type"], name="one_enabling_per_project_type")]

    def __str__(self) -> str:
        return f"{self.type} in {self.project}"


class WorkflowScope(models.TextChoices):
    """Who a workflow row lets make its transition (OpenProject's workflow scopes): anyone holding the row's role,
    or, holding it, only the work item's author, or only its assignee."""

    ROLE = "role", "Role"
    AUTHOR = "author", "Author"
    ASSIGNEE = "assignee", "Assignee"


class Workflow(models.Model):
    """One allowed status change: a work item of ``type`` may go from ``old_status`` to ``new_status`` when the
    actor's project role is ``role`` and, for ``scope`` author or assignee, the actor is the work item's author or
    assignee. Workspace rows (``keelplan.planning.workflows``).

    A type with no rows at all is unrestricted; once it has one, a status change of its work items needs a row
    that allows it. Invariants: ``old_status`` differs from ``new_status``; at most one row per (type, old status,
    new status, role, scope). Types and statuses in use by a row cannot be deleted (``PROTECT``; the reference
    services count the rows as uses).
    """

    type = models.ForeignKey(WorkItemType, on_delete=models.PROTECT, related_name="+")
    old_status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="+")
    new_status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="+")
    role = models.PositiveSmallIntegerField(choices=Role.choices)
    scope = models.CharField(max_length=8, choices=WorkflowScope.choices, default=WorkflowScope.ROLE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["type", "old_status", "new_status", "role", "scope"],
                                    name="one_workflow_per_transition"),
            models.CheckConstraint(condition=~models.Q(old_status=models.F("new_status")),
                                   name="workflow_changes_status"),
            models.CheckConstraint(condition=models.Q(scope__in=WorkflowScope.values), name="workflow_scope_known"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="workflow_role_known"),
        ]

    def __str__(self) -> str:
        return (f"{self.type}: {self.old_status} -> {self.new_status} for {Role(self.role).label}"
                f"{'' if self.scope == WorkflowScope.ROLE else f' ({self.scope})'}")


class VersionStatus(models.TextChoices):
    """OpenProject's version states: a locked or closed version takes no further work items."""

    OPEN = "open", "Open"
    LOCKED = "locked", "Locked"
    CLOSED = "closed", "Closed"


class VersionSharing(models.TextChoices):
    """Which projects besides its own may use a version (OpenProject's sharing values)."""

    NONE = "none", "Not shared"
    DESCENDANTS = "descendants", "With subprojects"
    HIERARCHY = "hierarchy", "With project hierarchy"
    TREE = "tree", "With project tree"
    SYSTEM = "system", "With all projects"


class Version(DomainModel):
    """A release or sprint defined by ``project``, which work items of the projects it is shared with may
    target. Invariants: ``name`` is unique (ignoring case) among the project's live versions; ``end_date`` is not
    before ``start_date``."""

    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=6, choices=VersionStatus.choices, default=VersionStatus.OPEN)
    sharing = models.CharField(max_length=11, choices=VersionSharing.choices, default=VersionSharing.NONE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "project", condition=models.Q(deleted_at__isnull=True),
                                    name="one_live_version_name_per_project"),
            models.CheckConstraint(condition=models.Q(start_date__isnull=True) | models.Q(end_date__isnull=True)
                                   | models.Q(end_date__gte=models.F("start_date")), name="version_date_order"),
        ]

    def __str__(self) -> str:
        return self.name


class Category(DomainModel):
    """A project's grouping of work items; a new work item in it goes to ``default_assignee`` (a member) when
    none is given. Invariant: ``name`` is unique (ignoring case) among the project's live categories."""

    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=255)
    default_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(Lower("name"), "project", condition=models.Q(deleted_at__isnull=True),
                                    name="one_live_category_name_per_project"),
        ]

    def __str__(self) -> str:
        return self.name



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
    # Who answers for the work item (OpenProject's "accountable"), besides who does it (``assignee``).
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Effort in hours, planned and left; not scheduling inputs (the schedule runs on ``duration``).
    estimated_hours = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    remaining_hours = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)

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
    # Versions and categories are soft-deleted through services (a version in use cannot be; a category's work
    # items are moved off it first), so SET_NULL acts only when rows are purged: a purge never fails on, and
    # never leaves dangling, a reference from a work item. Indexed only where set (the indexes below): most
    # work items have neither, and a bulk insert of them then touches neither index.
    version = models.ForeignKey(Version, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_items",
                                db_index=False)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="work_items", db_index=False)

    # Computed by the scheduler. The dates and floats live in ``scheduling.ScheduleChunk``; this copy of the
    # critical flag is kept on the row (written only where it flips) so lists can filter on it in SQL. It has no
    # index of its own: an edit can flip it on thousands of rows, and unindexed columns update in place (HOT).
    is_critical = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["project", "id"]),
            models.Index(fields=["parent"]),
            models.Index(fields=["version"], condition=models.Q(version__isnull=False), name="work_item_version"),
            models.Index(fields=["category"], condition=models.Q(category__isnull=False), name="work_item_category"),
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


class RelationType(models.TextChoices):
    """The relations between two work items that do not schedule: each stored one way round (``from`` is the
    predecessor column, ``to`` the successor), its inverse read by swapping the ends (``INVERSES``)."""

    RELATES = "relates", "Relates to"
    DUPLICATES = "duplicates", "Duplicates"
    BLOCKS = "blocks", "Blocks"
    INCLUDES = "includes", "Includes"
    REQUIRES = "requires", "Requires"


# The name of each stored relation read from its other end (``relates`` reads the same both ways).
INVERSES = {
    RelationType.RELATES: "relates", RelationType.DUPLICATES: "duplicated", RelationType.BLOCKS: "blocked",
    RelationType.INCLUDES: "partof", RelationType.REQUIRES: "requiredby",
}
SCHEDULING_TYPES = tuple(DependencyType.values)


class SchedulingLinkManager(LiveManager):
    """Live rows that schedule (``DependencyType``): what the scheduler, the v1 dialect and offline sync see."""

    def get_queryset(self):
        return super().get_queryset().filter(dep_type__in=SCHEDULING_TYPES)


class SchedulingLinkRows(models.Manager.from_queryset(LiveQuerySet)):
    """Every row that schedules, deleted ones included."""

    def get_queryset(self):
        return super().get_queryset().filter(dep_type__in=SCHEDULING_TYPES)


class Dependency(DomainModel):
    """A link between two work items of one project: a scheduling link ``predecessor -> successor`` (FS, SS, FF,
    SF; negative lag is a lead), or a relation that does not schedule (``RelationType``), in the same rows and
    id space, as OpenProject keeps all its relations.

    ``objects`` and ``all_objects`` see only scheduling links, so the scheduler, the cycle checks, the v1 dialect
    and offline sync never meet a relation; ``relations`` sees every live row, ``every_row`` every row.

    Invariants: both ends are live work items of ``project``; no self-links; the live graph of scheduling links
    is acyclic; at most one live row per (predecessor, successor, type), and per pair for ``relates``, which
    reads the same both ways; a relation has no lag and is never driving; ``uid`` is unique within the project.
    """

    uid = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)   # as ``WorkItem.uid``
    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="dependencies")
    predecessor = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="successor_links")
    successor = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="predecessor_links")
    dep_type = models.CharField(max_length=10, choices=DependencyType.choices + RelationType.choices,
                                default=DependencyType.FS)
    lag = models.IntegerField(default=0)
    lag_unit = models.CharField(max_length=3, choices=LagUnit.choices, default=LagUnit.ELAPSED_DAYS)
    description = models.TextField(blank=True)
    is_driving = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SchedulingLinkManager()
    all_objects = SchedulingLinkRows()
    relations = LiveManager()
    every_row = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "dependencies"
        base_manager_name = "every_row"
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

    @property
    def schedules(self) -> bool:
        """A scheduling link (FS, SS, FF, SF), not a relation."""
        return self.dep_type in SCHEDULING_TYPES
