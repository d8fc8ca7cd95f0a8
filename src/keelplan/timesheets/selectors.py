"""Permission-filtered reads of time entries, and reads of activities (workspace rows everyone signed in reads).

Who sees an entry is ``keelplan.permissions``' rule, applied here in SQL: every entry of a live project where the
actor's role allows ``TIME_VIEW`` (Member and above), and the actor's own entries in any live project they may
still see. Everyone else is told the entry does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet, Sum

from keelplan.core.errors import InvalidInput, NotFound
from keelplan.core.validation import parse_id
from keelplan.core.workspace import is_signed_in
from keelplan.permissions import MINIMUM_ROLE, Action, project_ids_visible, projects_visible, with_my_role
from keelplan.timesheets.models import Activity, TimeEntry


def time_entry_list(*, actor) -> QuerySet:
    """The live entries ``actor`` may see (one query: the rights are subqueries), with their project, work item,
    person and activity."""
    if not is_signed_in(actor):
        return TimeEntry.objects.none()
    every_entry = (with_my_role(projects_visible(actor), actor)
                   .filter(my_role__gte=MINIMUM_ROLE[Action.TIME_VIEW]).values("id"))
    return (TimeEntry.objects
            .filter(Q(project_id__in=every_entry) | Q(user_id=actor.pk, project_id__in=project_ids_visible(actor)))
            .select_related("project", "work_item", "user", "activity"))


def time_entry_get(*, actor, pk) -> TimeEntry:
    """The entry with id ``pk`` if ``actor`` may see it; ``NotFound`` when it is missing, deleted or not theirs
    to see, alike."""
    pk = _row_id(pk)
    entry = time_entry_list(actor=actor).filter(pk=pk).first() if pk is not None else None
    if entry is None:
        raise NotFound("No such time entry.", entity="time entry")
    return entry


def activity_list(*, active_only: bool = False) -> QuerySet:
    """Every activity by position; ``active_only``: those new time may be logged as."""
    rows = Activity.objects.all()
    return rows.filter(is_active=True) if active_only else rows


def activity_get(pk) -> Activity:
    """The activity with id ``pk``, active or not; ``NotFound`` when there is none."""
    pk = _row_id(pk)
    row = Activity.objects.filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise NotFound("No such activity.", entity="activity")
    return row


def minutes_spent(work_item_ids: Iterable[int]) -> dict[int, int]:
    """The minutes of the live entries on each of ``work_item_ids`` (0 for one without any), in one query. The
    caller has already limited the ids to work items the reader may see; every entry on them counts, whoever
    logged it (OpenProject's ``spentTime``)."""
    ids = {pk for pk in work_item_ids if pk is not None}
    spent = dict.fromkeys(ids, 0)
    if ids:
        spent.update(TimeEntry.objects.filter(work_item_id__in=ids).order_by().values("work_item_id")
                     .annotate(total=Sum("minutes")).values_list("work_item_id", "total"))
    return spent


def _row_id(pk) -> int | None:
    """``pk`` read as every row id is (``parse_id``), or None when it names no row: such an id is not found."""
    try:
        return parse_id(pk, field="id")
    except InvalidInput:
        return None


__all__ = ["activity_get", "activity_list", "minutes_spent", "time_entry_get", "time_entry_list"]
