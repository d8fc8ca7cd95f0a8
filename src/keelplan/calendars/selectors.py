"""Reads of calendars: workspace rows every signed-in person may see."""

from django.db.models import Prefetch, QuerySet

from keelplan.calendars.models import Calendar, CalendarException


def calendar_list(*, actor) -> QuerySet:
    return Calendar.objects.prefetch_related(
        Prefetch("exceptions", queryset=CalendarException.objects.order_by("start", "id"))
    )
