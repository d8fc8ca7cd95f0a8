"""Projects (a tree through ``parent``), the people who belong to them, and the roles they hold; the companies,
project types and project statuses a project may have; the company each person belongs to, a company's exclusive
members, and the groups used as categories of companies, projects and activities."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from keelplan.core.models import DomainModel


class Role(models.IntegerChoices):
    """Project roles, ordered: a higher value can do everything a lower one can (TruePPM's integers)."""

    VIEWER = 1, "Viewer"
    MEMBER = 100, "Member"
    SCHEDULER = 200, "Scheduler"
    ADMIN = 300, "Admin"
    OWNER = 400, "Owner"


class ProjectType(models.Model):
    """A kind of project (OpenProject v2's project types). Invariant: at most one is the default (the reference
    services keep exactly one while any exists)."""

    name = models.CharField(max_length=255, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    allows_association = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                    name="one_default_project_type"),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectStatusCode(models.TextChoices):
    """How a project is going: OpenProject's project status codes, the only ones a status may have."""

    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"
    NOT_STARTED = "not_started", "Not started"
    FINISHED = "finished", "Finished"
    DISCONTINUED = "discontinued", "Discontinued"


class ProjectStatus(models.Model):
    """A project status a project may report (``Project.status``, explained in ``Project.status_explanation``).
    ``code`` is one of ``ProjectStatusCode``, each at most once; ``name`` is what people read."""

    code = models.CharField(max_length=20, choices=ProjectStatusCode.choices, unique=True)
    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "project statuses"

    def __str__(self) -> str:
        return self.name


class Company(DomainModel):
    """An organisation projects are done for or by (Beebole's company): ``is_corporate`` marks one's own company
    or a branch, otherwise a customer. A project belongs to at most one company. Invariant: ``name`` is unique
    (ignoring case) among live companies."""

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    is_corporate = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(Lower("name"), condition=models.Q(deleted_at__isnull=True),
                                    name="one_live_company_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Project(DomainModel):
    """A project. ``identifier`` is unique and URL-safe (OpenProject addresses projects by it).

    Invariant: the ``parent`` chain never loops. Deleting is soft; a project with live subprojects
    cannot be deleted.
    """

    name = models.CharField(max_length=255)
    identifier = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    start_date = models.DateField()
    status_date = models.DateField(null=True, blank=True)
    calendar = models.ForeignKey(
        "calendars.Calendar", null=True, blank=True, on_delete=models.PROTECT, related_name="projects"
    )
    default_member_role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    is_public = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Written only by the scheduler: the computed finish, and when a computation last changed the schedule (a
    # computation that changes nothing leaves it, so the sync feed, which lists the project then, stays exact).
    finish_date = models.DateField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # Reference data. The reference services refuse to delete a type, status or company that live projects use,
    # so SET_NULL reaches only deleted projects (for a company, soft-deleted itself, only when it is purged).
    project_type = models.ForeignKey(ProjectType, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="projects")
    status = models.ForeignKey(ProjectStatus, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="projects")
    status_explanation = models.TextField(blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="projects")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Membership(DomainModel):
    """A principal's role in a project: a person's (``user``) or a group's (``group``: every person in it or in
    its subgroups holds the role). A person's role is the highest of the memberships that reach them
    (``keelplan.permissions.role_in``).

    Invariants: exactly one of ``user`` and ``group``; at most one live membership per (project, principal).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="memberships")
    group = models.ForeignKey("accounts.Group", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="project_memberships")
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    role_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], condition=models.Q(deleted_at__isnull=True), name="one_live_membership"
            ),
            models.UniqueConstraint(
                fields=["project", "group"], condition=models.Q(deleted_at__isnull=True),
                name="one_live_group_membership"
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, group__isnull=True)
                | models.Q(user__isnull=True, group__isnull=False),
                name="membership_has_one_principal",
            ),
        ]
        indexes = [models.Index(fields=["user", "project"]), models.Index(fields=["group", "project"])]

    @property
    def principal(self):
        return self.user if self.user_id is not None else self.group

    def __str__(self) -> str:
        return f"{self.principal} in {self.project} as {self.get_role_display()}"


class Affiliation(models.Model):
    """The company a person belongs to (Beebole's ``person.company``): one row per person at most, none for a
    person of no company. A person of a customer company (not ``is_corporate``) is one of its contacts.

    Written only by ``portfolio.people.person_company_set``; changing the company rewrites the row and removing it
    deletes the row (the change log keeps the history, as a ``company`` change of the person). Invariant: the
    company is live (``reference.company_delete`` refuses a company people still belong to).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affiliation")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="affiliations")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user} of {self.company}"


class CompanyMember(DomainModel):
    """An exclusive member of a company (Beebole's ``company.attach_member``): a person (``user``) or a group
    (``group``). A company with exclusive members is meant for their timesheets only.

    Invariants: exactly one of ``user`` and ``group``; at most one live row per (company, principal).
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="exclusive_members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="company_memberships")
    group = models.ForeignKey("accounts.Group", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="company_memberships")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], condition=models.Q(deleted_at__isnull=True),
                                    name="one_live_company_member"),
            models.UniqueConstraint(fields=["company", "group"], condition=models.Q(deleted_at__isnull=True),
                                    name="one_live_company_group_member"),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, group__isnull=True)
                | models.Q(user__isnull=True, group__isnull=False),
                name="company_member_has_one_principal",
            ),
        ]

    @property
    def principal(self):
        return self.user if self.user_id is not None else self.group

    def __str__(self) -> str:
        return f"{self.principal} in {self.company}"


class GroupAssignment(models.Model):
    """A group used as a category of one company, project or activity (Beebole's ``X.add_group``: report
    filters and bulk selection; it grants nothing). Removing it deletes the row (the change log keeps the history).

    Invariants: exactly one of ``company``, ``project`` and ``activity``; a group is assigned to a target once.
    """

    group = models.ForeignKey("accounts.Group", on_delete=models.CASCADE, related_name="category_assignments")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="group_assignments")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="group_assignments")
    activity = models.ForeignKey("timesheets.Activity", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="group_assignments")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            # NULLs are distinct in a unique constraint, so each pair binds only rows of its own kind of target.
            models.UniqueConstraint(fields=["group", "company"], name="one_group_assignment_per_company"),
            models.UniqueConstraint(fields=["group", "project"], name="one_group_assignment_per_project"),
            models.UniqueConstraint(fields=["group", "activity"], name="one_group_assignment_per_activity"),
            models.CheckConstraint(
                condition=models.Q(company__isnull=False, project__isnull=True, activity__isnull=True)
                | models.Q(company__isnull=True, project__isnull=False, activity__isnull=True)
                | models.Q(company__isnull=True, project__isnull=True, activity__isnull=False),
                name="group_assignment_has_one_target",
            ),
        ]

    @property
    def target(self):
        return self.company or self.project or self.activity

    def __str__(self) -> str:
        return f"{self.group} on {self.target}"
