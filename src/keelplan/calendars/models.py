"""Working calendars: a weekly working-day mask plus dated exceptions (holidays, or extra working days)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from keelplan.core.models import DomainModel

MONDAY_TO_FRIDAY = 0b0011111
ALL_DAYS = 0b1111111


class Calendar(DomainModel):
    """A working-time calendar: shared by the workspace (``project`` null, written by workspace administrators) or
    owned by one project (written by that project's Admins, seen and used only there).

    ``working_days`` is a 7-bit mask, bit 0 = Monday ... bit 6 = Sunday (TruePPM's encoding: Mon=1, Sun=64).
    Invariants: at least one weekday is working, so every date has a next working day; a project-owned calendar
    is used only by its own project and that project's tasks, never by a resource (a workspace row); ``project``
    never changes. At most one live calendar is the workspace default (``is_default``), and it is a shared one:
    a project without a calendar, and so its tasks without one, work to it (Monday to Friday if there is none).
    """

    name = models.CharField(max_length=255)
    working_days = models.PositiveSmallIntegerField(default=MONDAY_TO_FRIDAY)
    hours_per_day = models.DecimalField(max_digits=4, decimal_places=2, default=8)
    timezone = models.CharField(max_length=64, default="UTC")
    project = models.ForeignKey("portfolio.Project", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="own_calendars")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(working_days__gte=1, working_days__lte=ALL_DAYS), name="calendar_mask_range"
            ),
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True, deleted_at__isnull=True),
                                    name="one_default_calendar"),
            models.CheckConstraint(condition=models.Q(is_default=False) | models.Q(project__isnull=True),
                                   name="default_calendar_is_shared"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def workspace_default(cls) -> Calendar | None:
        """The live workspace default calendar, if there is one."""
        return cls.objects.filter(is_default=True, project__isnull=True).first()


class CalendarException(DomainModel):
    """An inclusive date range that is non-working (a holiday) or, with ``is_working``, working despite the mask."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="exceptions")
    start = models.DateField()
    end = models.DateField()
    description = models.CharField(max_length=255, blank=True)
    is_working = models.BooleanField(default=False)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="calendar_exception_order"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar}: {self.start}..{self.end}"
