"""Resources (people, equipment) and their assignments to work items."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from keelplan.core.models import DomainModel

MIN_UNITS = Decimal("0.01")
MAX_UNITS = Decimal("10.00")


class Resource(DomainModel):
    """Something that does work, optionally a person (``user``). ``max_units`` is its capacity (1.0 = full time)."""

    name = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    job_role = models.CharField(max_length=120, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources"
    )
    calendar = models.ForeignKey(
        "calendars.Calendar", null=True, blank=True, on_delete=models.PROTECT, related_name="resources"
    )
    max_units = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.00"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Assignment(DomainModel):
    """A resource working on a work item at ``units`` of its capacity (0.5 = half time).

    Invariant: at most one live assignment per (work item, resource); ``project`` is the work item's.
    """

    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="assignments")
    work_item = models.ForeignKey("planning.WorkItem", on_delete=models.CASCADE, related_name="assignments")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="assignments")
    units = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.00"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_item", "resource"], condition=models.Q(deleted_at__isnull=True), name="one_live_assignment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} on {self.work_item} ({self.units})"
