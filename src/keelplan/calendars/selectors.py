"""Reads of calendars: the workspace's shared calendars, which every signed-in person sees, and each project's
own calendars, which only its members see and only it uses."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from keelplan.calendars.models import Calendar, CalendarException
from keelplan.core.errors import InvalidInput
from keelplan.permissions import project_ids_visible


def calendar_list(*, actor) -> QuerySet:
    """Live calendars the actor may see: shared ones and those of projects they are a member of."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Calendar.objects.none()
    return Calendar.objects.filter(
        Q(project__isnull=True) | Q(project_id__in=project_ids_visible(actor))
    ).prefetch_related(Prefetch("exceptions", queryset=CalendarException.objects.order_by("start", "id")))


def calendars_usable(project) -> QuerySet:
    """Calendars the rows of ``project`` may reference: the shared ones and its own (None: shared only, for a
    project not yet created or a workspace row such as a resource)."""
    shared = Q(project__isnull=True)
    return Calendar.objects.filter(shared | Q(project_id=project.pk) if project is not None else shared)


def require_usable_calendar(calendar: Calendar | None, project, *, field: str = "calendar") -> None:
    """InvalidInput naming ``field`` unless ``calendar`` is None or live and usable in ``project`` (see
    ``calendars_usable``). A calendar of another project reads as missing: its owner's business."""
    if calendar is None:
        return
    owner = calendar.project_id
    if calendar.is_deleted or (owner is not None and (project is None or owner != project.pk)):
        raise InvalidInput("No such calendar here: it does not exist or belongs to another project.", field=field)
