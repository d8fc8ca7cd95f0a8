"""Reference data in the OpenProject v3 dialect: statuses, types, priorities and roles (workspace rows everyone
signed in reads), each project's versions and categories, and the working days of the workspace calendar.

Every read goes through the owning app's selectors and every version write through ``planning.reference``'s
services, which check roles and sharing; this module only translates. A project in a path is its id or its
identifier (``project_for``); one the caller may not see is 404 ``NotFound``, as is any unknown id. A version
the caller may see but not change answers 403 ``MissingPermission``; its ``update`` and ``delete`` links appear
only when the caller's role in the defining project allows them (the services' rule: Admin and above).

The week days and non-working days are those of the workspace default calendar (``Calendar.is_default``;
Monday to Friday with no exceptions when there is none): a date is non-working when the last of the
calendar's exceptions covering it (in the scheduler's order: start date, then creation) says so.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from urllib.parse import urlencode

from django.urls import path
from django.utils import timezone
from rest_framework.response import Response

from keelplan.api.v3.base import V3View, project_for
from keelplan.api.v3.errors import V3Error
from keelplan.api.v3.hal import (
    NO_LINK, action, collection, filters_param, formattable, href, id_from_href, iso_date, iso_datetime, link,
    plain_collection,
)
from keelplan.api.v3.projects import render_projects
from keelplan.calendars.models import MONDAY_TO_FRIDAY, Calendar, CalendarException
from keelplan.core.errors import InvalidInput, NotFound, PermissionDenied
from keelplan.core.filters import ChoiceFilter, CustomFilter, apply_filters, parse_filters
from keelplan.permissions import Action, ProjectAccess, projects_visible
from keelplan.planning.models import Version, VersionSharing
from keelplan.planning.reference import (
    category_get, category_list, priority_get, priority_list, projects_sharing, status_get, status_list,
    types_enabled, version_create, version_delete, version_get, version_list, version_update, versions_visible,
    work_item_type_get, work_item_type_list,
)
from keelplan.portfolio.models import Role

UNDISCLOSED = "urn:openproject-org:api:v3:undisclosed"
UNDISCLOSED_TITLE = "Undisclosed - The project is invisible because of lacking permissions."
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NON_WORKING_NAME = "Non-working day"
# A non-working-day query spans at most this many days, so that one request cannot list millions of dates.
MAX_DAYS_LISTED = 3660
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Domain fields as a version's v3 properties, for error details.
VERSION_ATTRIBUTES = {"start_date": "startDate", "end_date": "endDate", "project": "definingProject",
                      "lock_version": "lockVersion"}
# Writable version properties and the service fields they set.
VERSION_PROPERTIES = {"name": "name", "startDate": "start_date", "endDate": "end_date", "status": "status",
                      "sharing": "sharing"}
VERSION_FILTERS = {"sharing": ChoiceFilter("sharing", choices=VersionSharing.values)}




def _found(getter, **kwargs):
    """``getter(**kwargs)``, with an id out of range (a path's id, which names nothing) read as ``NotFound``."""
    try:
        return getter(**kwargs)
    except InvalidInput as error:
        raise NotFound("No such row.", entity="row") from error


# ---------------------------------------------------------------- statuses, types, priorities, roles

def status_json(status) -> dict:
    return {
        "_type": "Status", "id": status.pk, "name": status.name, "isClosed": status.is_closed,
        "color": status.color, "isDefault": status.is_default, "isReadonly": status.is_readonly,
        "excludedFromTotals": status.excluded_from_totals, "defaultDoneRatio": status.default_done_ratio or 0,
        "position": status.position,
        "_links": {"self": link(href("statuses", status.pk), status.name)},
    }


def type_json(kind) -> dict:
    return {
        "_type": "Type", "id": kind.pk, "name": kind.name, "color": kind.color, "position": kind.position,
        "isDefault": kind.is_default, "isMilestone": kind.is_milestone, "createdAt": iso_datetime(kind.created_at),
        "updatedAt": iso_datetime(kind.updated_at),
        "_links": {"self": link(href("types", kind.pk), kind.name)},
    }


def priority_json(priority) -> dict:
    return {
        "_type": "Priority", "id": priority.pk, "name": priority.name, "position": priority.position,
        "color": priority.color, "isDefault": priority.is_default, "isActive": priority.is_active,
        "_links": {"self": link(href("priorities", priority.pk), priority.name)},
    }


def role_json(role: Role) -> dict:
    return {"_type": "Role", "id": int(role), "name": role.label,
            "_links": {"self": link(href("roles", int(role)), role.label)}}


class StatusListView(V3View):
    def get(self, request):
        rows = status_list(actor=request.user)
        return Response(plain_collection(href("statuses"), [status_json(row) for row in rows]))


class StatusView(V3View):
    def get(self, request, pk):
        return Response(status_json(_found(status_get, actor=request.user, status_id=pk)))


class TypeListView(V3View):
    def get(self, request):
        rows = work_item_type_list(actor=request.user)
        return Response(plain_collection(href("types"), [type_json(row) for row in rows]))


class TypeView(V3View):
    def get(self, request, pk):
        return Response(type_json(_found(work_item_type_get, actor=request.user, type_id=pk)))


class ProjectTypesView(V3View):
    """The types a project's work items may have (every type when it enables none in particular)."""

    def get(self, request, ref):
        project = project_for(request.user, ref)
        rows = types_enabled(project).order_by("position", "id")
        return Response(plain_collection(href("projects", project.pk, "types"), [type_json(row) for row in rows]))


class PriorityListView(V3View):
    def get(self, request):
        rows = priority_list(actor=request.user)
        return Response(plain_collection(href("priorities"), [priority_json(row) for row in rows]))


class PriorityView(V3View):
    def get(self, request, pk):
        return Response(priority_json(_found(priority_get, actor=request.user, priority_id=pk)))


class RoleListView(V3View):
    """Keelplan's five project roles; a role's id is its value (Viewer 1 ... Owner 400)."""

    def get(self, request):
        return Response(plain_collection(href("roles"), [role_json(role) for role in Role]))


class RoleView(V3View):
    def get(self, request, pk):
        if pk not in Role.values:
            raise NotFound("No such role.", entity="role")
        return Response(role_json(Role(pk)))


# ---------------------------------------------------------------- versions

class VersionRenderer:
    """Renders versions for one caller, reading their role in each defining project once: it decides whether
    the defining project is disclosed and whether the ``update`` and ``delete`` actions are offered."""

    def __init__(self, actor):
        self.actor = actor
        self._access: dict[int, ProjectAccess] = {}

    def access(self, project) -> ProjectAccess:
        if project.pk not in self._access:
            self._access[project.pk] = ProjectAccess(self.actor, project)
        return self._access[project.pk]

    def __call__(self, version: Version) -> dict:
        project, self_href = version.project, href("versions", version.pk)
        access = self.access(project)
        defining = (link(href("projects", project.pk), project.name) if access.visible
                    else link(UNDISCLOSED, UNDISCLOSED_TITLE))
        links = {
            "self": link(self_href, version.name),
            "definingProject": defining,
            "availableInProjects": link(href("versions", version.pk, "projects"), "Available projects"),
        }
        if access.can(Action.PROJECT_UPDATE):
            links["update"] = action(self_href, "patch")
            links["updateImmediately"] = action(self_href, "patch")
            links["delete"] = action(self_href, "delete")
        return {
            "_type": "Version", "id": version.pk, "name": version.name,
            "description": formattable(version.description), "startDate": iso_date(version.start_date),
            "endDate": iso_date(version.end_date), "status": version.status, "sharing": version.sharing,
            "lockVersion": version.lock_version, "createdAt": iso_datetime(version.created_at),
            "updatedAt": iso_datetime(version.updated_at), "_links": links,
        }


def _version_fields(body: dict) -> dict:
    """The service fields a version body sets (only the properties it holds; unknown ones are ignored)."""
    fields = {field: body[prop] for prop, field in VERSION_PROPERTIES.items() if prop in body}
    if "description" in body:
        text = body["description"]
        if text is not None and not isinstance(text, dict):
            raise V3Error("Description must be an object such as {\"raw\": \"...\"}.",
                          identifier="PropertyFormatError", attribute="description")
        fields["description"] = None if text is None else text.get("raw")
    return fields


def _links_of(body: dict) -> dict:
    links = body.get("_links", {})
    if not isinstance(links, dict):
        raise V3Error("_links must be an object.", identifier="PropertyFormatError", attribute="_links")
    return links


def _defining_project_href(links: dict):
    target = links.get("definingProject")
    if target is None:
        return None
    if not isinstance(target, dict):
        raise V3Error("definingProject must be a link such as {\"href\": \"/api/v3/projects/1\"}.",
                      identifier="PropertyFormatError", attribute="definingProject")
    return target.get("href")


class VersionListView(V3View):
    attributes = VERSION_ATTRIBUTES

    def get(self, request):
        rows = apply_filters(versions_visible(actor=request.user), parse_filters(request.query_params.get("filters")),
                             VERSION_FILTERS, actor=request.user)
        return Response(collection(href("versions"), request.query_params, rows, VersionRenderer(request.user)))

    def post(self, request):
        body = self.body(request)
        target = _defining_project_href(_links_of(body))
        if target is None:
            raise V3Error("Defining project can't be blank.", attribute="definingProject")
        project = project_for(request.user, id_from_href(target, "projects", attribute="definingProject"))
        fields = _version_fields(body)
        version = version_create(actor=request.user, project=project, name=fields.pop("name", None), **fields)
        return Response(VersionRenderer(request.user)(version), status=201)


class VersionView(V3View):
    attributes = VERSION_ATTRIBUTES

    def get(self, request, pk):
        return Response(VersionRenderer(request.user)(_found(version_get, actor=request.user, version_id=pk)))

    def patch(self, request, pk):
        version = _found(version_get, actor=request.user, version_id=pk)
        body = self.body(request)
        target = _defining_project_href(_links_of(body))
        if target is not None and target != href("projects", version.project_id):
            raise V3Error("The defining project of a version cannot be changed.", identifier="PropertyIsReadOnly",
                          attribute="definingProject")
        lock_version = body.get("lockVersion")
        if lock_version is not None and (isinstance(lock_version, bool) or not isinstance(lock_version, int)):
            raise V3Error("Lock version must be an integer.", identifier="PropertyFormatError",
                          attribute="lockVersion")
        with _visible_means_forbidden():
            version = version_update(actor=request.user, version=version, lock_version=lock_version,
                                     **_version_fields(body))
        return Response(VersionRenderer(request.user)(version))

    def delete(self, request, pk):
        version = _found(version_get, actor=request.user, version_id=pk)
        with _visible_means_forbidden():
            version_delete(actor=request.user, version=version)
        return Response(status=204)


@contextmanager
def _visible_means_forbidden():
    """For a version seen through a project it is shared with, whose defining project the caller may not see:
    the services answer "no such project", but the caller sees the version, so the answer is 403."""
    try:
        yield
    except NotFound as error:
        if error.params.get("entity") != "project":
            raise
        raise PermissionDenied("Only an Admin of the defining project may change this version.") from error


class VersionProjectsView(V3View):
    """The projects the caller may see that may use a version (its ``availableInProjects``), each as the projects
    resource shows it."""

    def get(self, request, pk):
        version = _found(version_get, actor=request.user, version_id=pk)
        shared = projects_sharing(version)
        rows = projects_visible(request.user).select_related("status").order_by("id")
        if shared is not None:
            rows = rows.filter(pk__in=shared)
        return Response(plain_collection(href("versions", version.pk, "projects"),
                                         render_projects(request.user, list(rows))))


class ProjectVersionsView(V3View):
    """The versions a project's work items may use: its own and those other projects share with it."""

    def get(self, request, ref):
        project = project_for(request.user, ref)
        rows = version_list(actor=request.user, project=project).order_by("id")
        render = VersionRenderer(request.user)
        return Response(plain_collection(href("projects", project.pk, "versions"), [render(row) for row in rows]))


# ---------------------------------------------------------------- categories

def category_json(category, project) -> dict:
    assignee = category.default_assignee
    return {
        "_type": "Category", "id": category.pk, "name": category.name,
        "_links": {
            "self": link(href("categories", category.pk), category.name),
            "project": link(href("projects", project.pk), project.name),
            "defaultAssignee": (link(href("users", assignee.pk), assignee.display_name) if assignee is not None
                                else dict(NO_LINK)),
        },
    }


class CategoryView(V3View):
    def get(self, request, pk):
        category = _found(category_get, actor=request.user, category_id=pk)
        return Response(category_json(category, category.project))


class ProjectCategoriesView(V3View):
    def get(self, request, ref):
        project = project_for(request.user, ref)
        rows = category_list(actor=request.user, project=project).order_by("id")
        return Response(plain_collection(href("projects", project.pk, "categories"),
                                         [category_json(row, project) for row in rows]))


# ---------------------------------------------------------------- working days

def week_day_json(day: int, mask: int) -> dict:
    name = WEEK_DAYS[day - 1]
    return {"_type": "WeekDay", "day": day, "name": name, "working": bool(mask >> (day - 1) & 1),
            "_links": {"self": link(href("days", "week", day), name)}}


def _working_mask() -> int:
    calendar = Calendar.workspace_default()
    return calendar.working_days if calendar is not None else MONDAY_TO_FRIDAY


class WeekView(V3View):
    def get(self, request):
        mask = _working_mask()
        return Response(plain_collection(href("days", "week"), [week_day_json(day, mask) for day in range(1, 8)]))


class WeekDayView(V3View):
    def get(self, request, day):
        if not 1 <= day <= 7:
            raise NotFound("No such week day.", entity="week day")
        return Response(week_day_json(day, _working_mask()))


def non_working_day_json(day: dt.date, name: str) -> dict:
    return {"_type": "NonWorkingDay", "date": day.isoformat(), "name": name,
            "_links": {"self": link(href("days", "non_working", day.isoformat()), name)}}


def exception_days(exceptions, first: dt.date, last: dt.date) -> dict[dt.date, tuple[bool, str]]:
    """The dates from ``first`` to ``last`` that ``exceptions`` (the calendar's, covering the span) decide:
    working or not, with the exception's name. The last exception over a date decides it, as for the scheduler."""
    days: dict[dt.date, tuple[bool, str]] = {}
    for exception in exceptions:
        day = max(exception.start, first)
        end = min(exception.end, last)
        while day <= end:
            days[day] = (exception.is_working, exception.description or NON_WORKING_NAME)
            day += dt.timedelta(days=1)
    return days


def non_working_days(exceptions, first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
    """The dates from ``first`` to ``last`` that ``exceptions`` make non-working, with the holiday's name."""
    return [(day, name) for day, (working, name) in sorted(exception_days(exceptions, first, last).items())
            if not working]


def _default_exceptions():
    calendar = Calendar.workspace_default()
    if calendar is None:
        return CalendarException.objects.none()
    return CalendarException.objects.filter(calendar=calendar).order_by("start", "id")


def _day_span(request, default: tuple[dt.date, dt.date], **more: CustomFilter) -> tuple[dt.date, dt.date]:
    """The dates a list of days covers: the first ``date`` (or ``interval``) filter, ``<>d`` with two dates,
    replaces ``default`` and any further one narrows it; ``more`` filters are applied beside them. 400
    ``InvalidQuery`` for a bad filter or a span too long to list."""
    span, filtered = list(default), False

    def within(queryset, operator, values, actor):
        nonlocal filtered
        first, last = values
        span[:] = [max(span[0], first) if filtered else first, min(span[1], last) if filtered else last]
        filtered = True
        return queryset

    specs = {name: CustomFilter(within, operators={"<>d"}, values="date") for name in ("date", "interval")}
    apply_filters(CalendarException.objects.none(), parse_filters(request.query_params.get("filters")),
                  {**specs, **more}, actor=request.user)
    first, last = span
    if (last - first).days >= MAX_DAYS_LISTED:
        raise V3Error(f"The dates asked for may span at most {MAX_DAYS_LISTED} days.", identifier="InvalidQuery",
                      status_code=400)
    return first, last


class NonWorkingDayListView(V3View):
    """``filters=[{"date": {"operator": "<>d", "values": [first, last]}}]``; without one, the current year."""

    def get(self, request):
        year = timezone.localdate().year
        first, last = _day_span(request, (dt.date(year, 1, 1), dt.date(year, 12, 31)))
        rows = (non_working_days(_default_exceptions().filter(start__lte=last, end__gte=first), first, last)
                if first <= last else [])
        query = urlencode({"filters": filters_param([{"date": {"operator": "<>d",
                                                               "values": [first.isoformat(), last.isoformat()]}}])})
        return Response(plain_collection(f"{href('days', 'non_working')}?{query}",
                                         [non_working_day_json(day, name) for day, name in rows]))


class NonWorkingDayView(V3View):
    def get(self, request, day):
        date = _read_date(day)
        found = [] if date is None else non_working_days(
            _default_exceptions().filter(start__lte=date, end__gte=date), date, date)
        if not found:
            raise NotFound("No such non-working day.", entity="non-working day")
        return Response(non_working_day_json(*found[0]))


def _read_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if _ISO_DATE.fullmatch(text) else None
    except ValueError:
        return None


def days_json(first: dt.date, last: dt.date) -> list[dict]:
    """Each date from ``first`` to ``last`` as OpenProject's ``Day``: working or not by the default calendar's
    week and exceptions, with the reasons a non-working day is one (its week day, its holiday)."""
    mask = _working_mask()
    exceptions = exception_days(_default_exceptions().filter(start__lte=last, end__gte=first), first, last)
    out, day = [], first
    while day <= last:
        weekday = day.isoweekday()
        week_name, weekday_works = WEEK_DAYS[weekday - 1], bool(mask >> (weekday - 1) & 1)
        decided = exceptions.get(day)
        working = decided[0] if decided is not None else weekday_works
        reasons = []
        if not working and not weekday_works:
            reasons.append(link(href("days", "week", weekday), week_name))
        if decided is not None and not decided[0]:
            reasons.append(link(href("days", "non_working", day.isoformat()), decided[1]))
        name = f"{week_name} ({decided[1]})" if decided is not None and not decided[0] else week_name
        links = {"self": link(href("days", day.isoformat()), name),
                 "weekDay": link(href("days", "week", weekday), week_name)}
        if not working:
            links["nonWorkingReasons"] = reasons
        out.append({"_type": "Day", "date": day.isoformat(), "name": name, "working": working, "_links": links})
        day += dt.timedelta(days=1)
    return out


class DayListView(V3View):
    """``filters``: ``date`` (``<>d`` and two dates; by default from the first of this month to the end of the
    next) and ``working`` (``=`` with ``t`` or ``f``)."""

    def get(self, request):
        month = timezone.localdate().replace(day=1)
        after_next = (month + dt.timedelta(days=62)).replace(day=1)
        wanted: list[set[bool]] = []

        def working(queryset, operator, values, actor):
            wanted.append(set(values))
            return queryset

        first, last = _day_span(request, (month, after_next - dt.timedelta(days=1)),
                                working=CustomFilter(working, operators={"="}, values="boolean"))
        rows = days_json(first, last) if first <= last else []
        for allowed in wanted:
            rows = [row for row in rows if row["working"] in allowed]
        conditions = [{"date": {"operator": "<>d", "values": [first.isoformat(), last.isoformat()]}}]
        conditions += [{"working": {"operator": "=", "values": sorted("t" if v else "f" for v in allowed)}}
                       for allowed in wanted]
        query = urlencode({"filters": filters_param(conditions)})
        return Response(plain_collection(f"{href('days')}?{query}", rows))


class DayView(V3View):
    def get(self, request, day):
        date = _read_date(day)
        if date is None:
            raise NotFound("No such day.", entity="day")
        return Response(days_json(date, date)[0])


urlpatterns = [
    path("statuses", StatusListView.as_view()),
    path("statuses/<int:pk>", StatusView.as_view()),
    path("types", TypeListView.as_view()),
    path("types/<int:pk>", TypeView.as_view()),
    path("projects/<str:ref>/types", ProjectTypesView.as_view()),
    path("priorities", PriorityListView.as_view()),
    path("priorities/<int:pk>", PriorityView.as_view()),
    path("roles", RoleListView.as_view()),
    path("roles/<int:pk>", RoleView.as_view()),
    path("versions", VersionListView.as_view()),
    path("versions/<int:pk>", VersionView.as_view()),
    path("versions/<int:pk>/projects", VersionProjectsView.as_view()),
    path("projects/<str:ref>/versions", ProjectVersionsView.as_view()),
    path("categories/<int:pk>", CategoryView.as_view()),
    path("projects/<str:ref>/categories", ProjectCategoriesView.as_view()),
    path("days/week", WeekView.as_view()),
    path("days/week/<int:day>", WeekDayView.as_view()),
    path("days/non_working", NonWorkingDayListView.as_view()),
    path("days/non_working/<str:day>", NonWorkingDayView.as_view()),
    path("days", DayListView.as_view()),
    path("days/<str:day>", DayView.as_view()),
]
