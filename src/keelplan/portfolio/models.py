"""Projects (a tree through ``parent``), the people who belong to them, and the roles they hold."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from keelplan.core.models import DomainModel


class Role(models.IntegerChoices):
    """Project roles, ordered: a higher value can do everything a lower one can (TruePPM's integers)."""

    VIEWER = 1, "Viewer"
    MEMBER = 100, "Member"
    SCHEDULER = 200, "Scheduler"
    ADMIN = 300, "Admin"
    OWNER = 400, "Owner"


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

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Membership(DomainModel):
    """A person's role in a project. Invariant: at most one live membership per (project, user)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    role_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], condition=models.Q(deleted_at__isnull=True), name="one_live_membership"
            ),
        ]
        indexes = [models.Index(fields=["user", "project"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.get_role_display()}"
