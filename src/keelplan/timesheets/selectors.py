"""Permission-filtered reads of time entries, and reads of activities (reference rows everyone signed in reads):
which exist, which a project or company chose as its specific activities, and which a project offers.

Who sees an entry is ``keelplan.permissions``' rule, applied here in SQL: every entry of a live project where the
actor's role allows ``TIME_VIEW`` (Member and above), and the actor's own entries in any live project they may
still see. Everyone else is told the entry does not exist.

What a project offers (``activities_offered``) is Beebole's lookup of specific tasks: the project's own specific
activities, else its nearest ancestor's, else its company's, else every generic activity: those that are
workspace-wide or of the project's company.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet, Sum

from keelplan.core.errors import ErrorCode, InvalidInput, NotFound
from keelplan.core.validation import parse_id
from keelplan.core.workspace import is_signed_in
from keelplan.permissions import MINIMUM_ROLE, Action, project_ids_visible, projects_visible, with_my_role
from keelplan.portfolio.models import Company, Project
from keelplan.timesheets.models import Activity, ActivitySelection, TimeEntry


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


def activity_list(*, active_only: bool = False, company: Company | None = None) -> QuerySet:
    """Every activity by position; ``active_only``: those new time may be logged as; ``company``: that company's
    own activities only (not the workspace-wide ones)."""
    rows = Activity.objects.all()
    if company is not None:
        rows = rows.filter(company_id=company.pk)
    return rows.filter(is_active=True) if active_only else rows


def activity_get(pk) -> Activity:
    """The activity with id ``pk``, active or not; ``NotFound`` when there is none."""
    pk = _row_id(pk)
    row = Activity.objects.filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise NotFound("No such activity.", entity="activity")
    return row


def selection_owner(owner) -> dict:
    """The filter naming ``owner``'s ``ActivitySelection`` row: ``owner`` is a project or a company (saved)."""
    if isinstance(owner, Project) and owner.pk is not None:
        return {"project_id": owner.pk}
    if isinstance(owner, Company) and owner.pk is not None:
        return {"company_id": owner.pk}
    raise InvalidInput("Must be a project or a company.", field="owner", code=ErrorCode.INVALID_TYPE,
                       expected="project or company")


def specific_activities(owner) -> tuple[bool, list[Activity]]:
    """Whether ``owner``'s (a project's or a company's) specific activities are enabled, and which they are, by
    position, inactive ones included (Beebole's ``specific_tasks``). An owner that never chose any has an
    enabled, empty selection. Not permission-filtered: the caller has checked the actor may see ``owner``."""
    selection = ActivitySelection.objects.filter(**selection_owner(owner)).first()
    if selection is None:
        return True, []
    return selection.is_enabled, list(selection.activities.order_by("position", "id"))


def _project_chain(project: Project) -> tuple[list[int], int | None]:
    """The ids of ``project`` and of the projects above it, nearest first, and the company ``project`` belongs
    to, as stored now."""
    chain, company_id, next_id = [], None, project.pk
    while next_id is not None and next_id not in chain:
        row = Project.all_objects.filter(pk=next_id).values_list("parent_id", "company_id").first()
        if row is None:
            break
        if not chain:
            company_id = row[1]
        chain.append(next_id)
        next_id = row[0]
    return chain, company_id


def activities_offered(project: Project) -> QuerySet:
    """The activities time may be logged as in ``project``, by position.

    The project's selection decides, else its parent's, and so on up the tree, else its company's: the first
    that is enabled and holds at least one activity usable in the project (workspace-wide, or of the project's
    company) offers its active ones among those. When none does, every active activity that is workspace-wide
    or of the project's company is offered. A selection whose activities are all inactive still decides, so a
    project that restricted its activities is never silently widened back to the generic ones. Not
    permission-filtered: the caller has checked the actor may see ``project``.
    """
    chain, company_id = _project_chain(project)
    usable, owners, held = Q(company__isnull=True), Q(project_id__in=chain), Q(activities__company__isnull=True)
    if company_id is not None:
        usable |= Q(company_id=company_id)
        owners |= Q(company_id=company_id)
        held |= Q(activities__company_id=company_id)
    deciding = {project_id: pk for pk, project_id in (
        ActivitySelection.objects.filter(owners, is_enabled=True).annotate(held=Count("activities", filter=held))
        .filter(held__gt=0).values_list("pk", "project_id"))}
    offered = Activity.objects.filter(usable, is_active=True)
    for owner_id in [*chain, None]:   # None: the company's selection, which has no project
        if owner_id in deciding:
            return offered.filter(selections=deciding[owner_id])
    return offered


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


__all__ = [
    "activities_offered", "activity_get", "activity_list", "minutes_spent", "selection_owner", "specific_activities",
    "time_entry_get", "time_entry_list",
]
