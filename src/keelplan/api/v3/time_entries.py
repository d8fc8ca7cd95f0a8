"""Time entries in the OpenProject v3 dialect: time logged on a work package (or on a project as a whole) and the
activities it is logged as, over ``keelplan.timesheets``.

A time entry shows its minutes as ``hours`` (ISO 8601, ``PT1H30M``), its day as ``spentOn`` and its comment as
plain formattable text; ``ongoing`` is always false (Keelplan runs no timers). Its work package is linked twice,
as ``entity`` (OpenProject's current name) and ``workPackage`` (the older one clients still read and send).
Who sees and changes which entry is the domain's rule (``permissions``, ``TIME_VIEW``/``TIME_LOG``/
``TIME_MANAGE``): a Member sees every entry of the project and changes their own, an Admin changes anyone's and
logs for another member, anyone sees their own entries in a project they can see.

Routes: ``/time_entries`` (list with OpenProject's filters, paged, ``spent_on`` ascending unless ``sortBy`` says
otherwise; POST as openproject-api-client sends it), ``/time_entries/{id}`` (GET, PATCH with an optional
``lockVersion``, DELETE), ``/time_entries/form`` and ``/time_entries/{id}/form`` (the write checked and rolled
back), ``/time_entries/schema``, ``/time_entries/available_projects`` (where the caller may log) and an activity
at ``/time_entries/activities/{id}`` (also spelt ``/time_entries/activity/{id}``, as OpenProject's document does).
"""

from __future__ import annotations

import math

from django.db.models import Q
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response

from keelplan.api.v3.base import V3View, dry_run, project_for
from keelplan.api.v3.errors import MultipleErrors, V3Error
from keelplan.api.v3.hal import (
    action, body_links, collection, formattable, hours_from_iso, href, id_from_href, iso_date, iso_datetime,
    iso_hours, link, link_href,
)
from keelplan.api.v3.principals import users_visible
from keelplan.api.v3.projects import render_projects
from keelplan.core.errors import InvalidInput
from keelplan.core.filters import (
    CustomFilter, DateFilter, DateTimeFilter, IntegerFilter, PrincipalFilter, apply_filters, parse_filters,
    parse_sort,
)
from keelplan.core.validation import parse_date
from keelplan.permissions import MINIMUM_ROLE, Action, ProjectAccess, projects_visible, with_my_role
from keelplan.planning.selectors import work_item_list
from keelplan.portfolio.models import Project
from keelplan.timesheets.models import Activity, TimeEntry
from keelplan.timesheets.selectors import (
    activities_offered, activity_get, activity_list, time_entry_get, time_entry_list,
)
from keelplan.timesheets.services import MAX_MINUTES, time_entry_create, time_entry_delete, time_entry_update

# Domain fields as the time entry's v3 properties, for error details.
ATTRIBUTES = {
    "minutes": "hours", "spent_on": "spentOn", "comment": "comment", "activity": "activity",
    "work_item": "workPackage", "project": "project", "user": "user", "lock_version": "lockVersion",
}
ACTIVITIES = "time_entries/activities"
# OpenProject's document names the activity resource in the singular; its representations link the plural.
ACTIVITY_SINGULAR = "time_entries/activity"
ENTITY_TYPES = ("WorkPackage", "Meeting")
DEFAULT_ORDER = ("spent_on", "pk")


# ---------------------------------------------------------------- representers

def comment_json(raw: str) -> dict:
    """A time entry's comment: OpenProject keeps it as plain text, not markdown."""
    return {**formattable(raw), "format": "plain"}


def activity_href(pk: int) -> str:
    return href(ACTIVITIES, pk)


class TimeEntryRenderer:
    """Time entries of one response, the caller's role in their projects read once (for the action links)."""

    def __init__(self, actor, rows: list[TimeEntry]):
        self.actor = actor
        project_ids = {row.project_id for row in rows}
        self.roles = dict(with_my_role(Project.objects.filter(pk__in=project_ids), actor)
                          .values_list("pk", "my_role")) if project_ids else {}
        self.access: dict[int, ProjectAccess] = {}

    def may_change(self, row: TimeEntry) -> bool:
        """The domain's rule: the caller's own entry with ``TIME_LOG``, anyone's with ``TIME_MANAGE``."""
        access = self.access.get(row.project_id)
        if access is None:
            access = self.access[row.project_id] = ProjectAccess(self.actor, row.project,
                                                                 role=self.roles.get(row.project_id))
        return access.can(Action.TIME_LOG, row)

    def render(self, row: TimeEntry) -> dict:
        pk, hours = row.pk, iso_hours(row.minutes / 60)
        package = (link(href("work_packages", row.work_item_id), row.work_item.name) if row.work_item_id
                   else link(None))
        links = {
            "self": link(href("time_entries", pk), f"{hours} on {iso_date(row.spent_on)}"),
            "schema": link(href("time_entries", "schema"), "Schema"),
            "project": link(href("projects", row.project_id), row.project.name),
            "entity": package,
            "workPackage": dict(package),
            "user": link(href("users", row.user_id), row.user.display_name),
            "activity": link(activity_href(row.activity_id), row.activity.name),
        }
        if self.may_change(row):
            links["update"] = action(href("time_entries", pk, "form"), "post", title="Update time entry")
            links["updateImmediately"] = action(href("time_entries", pk), "patch", title="Update time entry")
            links["delete"] = action(href("time_entries", pk), "delete", title="Delete time entry")
        return {
            "_type": "TimeEntry", "id": pk, "lockVersion": row.lock_version, "comment": comment_json(row.comment),
            "spentOn": iso_date(row.spent_on), "hours": hours, "ongoing": False,
            "createdAt": iso_datetime(row.created_at), "updatedAt": iso_datetime(row.updated_at),
            "_links": links,
        }


def render_time_entries(actor, rows: list[TimeEntry]) -> list[dict]:
    renderer = TimeEntryRenderer(actor, rows)
    return [renderer.render(row) for row in rows]


def render_time_entry(actor, pk: int) -> dict:
    """The entry as the caller sees it now, read again (after a write)."""
    return render_time_entries(actor, [time_entry_get(actor=actor, pk=pk)])[0]


def activity_json(actor, activity: Activity) -> dict:
    """An activity as OpenProject's ``TimeEntriesActivity``. Keelplan's activities are workspace-wide, so an active
    one is in use in every project the caller can see (linked and embedded); an inactive one in none."""
    projects = (list(projects_visible(actor).select_related("status").order_by("pk")) if activity.is_active
                else [])
    return {
        "_type": "TimeEntriesActivity", "id": activity.pk, "name": activity.name, "position": activity.position,
        "default": activity.is_default,
        "_embedded": {"projects": render_projects(actor, projects)},
        "_links": {"self": link(activity_href(activity.pk), activity.name),
                   "projects": [link(href("projects", p.pk), p.name) for p in projects]},
    }


# ---------------------------------------------------------------- filters and sorting

def _entity_type(queryset, operator, values, actor):
    condition = Q()
    for value in values:
        if value not in ENTITY_TYPES:
            raise V3Error(f"Value '{value[:40]}' of filter 'entity_type' is not one of: {', '.join(ENTITY_TYPES)}.",
                          identifier="InvalidQuery", status_code=400)
        # Keelplan logs time on work packages (or their project), never on meetings.
        condition |= Q(work_item__isnull=False) if value == "WorkPackage" else Q(pk__in=[])
    return queryset.filter(condition) if operator == "=" else queryset.exclude(condition)


def _ongoing(queryset, operator, values, actor):
    # No entry is a running timer: "ongoing = f" matches every entry, "ongoing = t" none.
    matches_all = False in values
    return queryset if matches_all == (operator == "=") else queryset.none()


FILTERS = {
    "id": IntegerFilter("pk", operators={"=", "!"}),
    "project": IntegerFilter("project_id", operators={"=", "!"}),
    "project_id": IntegerFilter("project_id", operators={"=", "!"}),
    "work_package": IntegerFilter("work_item_id", operators={"=", "!", "*", "!*"}),
    "entity_id": IntegerFilter("work_item_id", operators={"=", "!", "*", "!*"}),
    "entity_type": CustomFilter(_entity_type, operators={"=", "!"}, values="string"),
    "user": PrincipalFilter("user_id", operators={"=", "!", "ow"}),
    "user_id": PrincipalFilter("user_id", operators={"=", "!", "ow"}),
    "activity": IntegerFilter("activity_id", operators={"=", "!"}),
    "activity_id": IntegerFilter("activity_id", operators={"=", "!"}),
    "spent_on": DateFilter("spent_on"),
    "created_at": DateTimeFilter("created_at"),
    "updated_at": DateTimeFilter("updated_at"),
    "ongoing": CustomFilter(_ongoing, operators={"=", "!"}, values="boolean"),
}
SORTS = {"id": "pk", "hours": ("minutes", "pk"), "spent_on": DEFAULT_ORDER, "created_at": ("created_at", "pk"),
         "updated_at": ("updated_at", "pk")}


def projects_to_log_in(actor):
    """The projects where the caller may log time (``TIME_LOG``), by id."""
    return (with_my_role(projects_visible(actor), actor).filter(my_role__gte=MINIMUM_ROLE[Action.TIME_LOG])
            .select_related("status").order_by("pk"))


# ---------------------------------------------------------------- reading write bodies

_ABSENT = object()


def _blank(attribute: str, name: str) -> V3Error:
    return V3Error(f"{name} can't be blank.", attribute=attribute)


def _minutes(value) -> int:
    """``hours`` (ISO 8601: ``PT1H30M``, ``PT2H``, ``P0DT1H``, ``PT1.5H``) as whole minutes, within what one entry
    may hold (the domain's ``MAX_MINUTES``)."""
    if value is None:
        raise _blank("hours", "Hours")
    hours = hours_from_iso(value, "hours")
    # Far beyond a day (or past what a float holds) is refused below without being rounded.
    minutes = round(hours * 60) if math.isfinite(hours) and hours <= MAX_MINUTES else MAX_MINUTES + 1
    if not 1 <= minutes <= MAX_MINUTES:
        raise V3Error(f"Hours must be at least one minute (PT1M) and at most {iso_hours(MAX_MINUTES / 60)}.",
                      attribute="hours")
    return minutes


def _spent_on(value):
    if value is None:
        raise _blank("spentOn", "Spent on")
    if isinstance(value, str):
        try:
            return parse_date(value, field="spent_on")
        except InvalidInput:
            pass
    raise V3Error("Spent on must be a date (YYYY-MM-DD).", identifier="PropertyFormatError", attribute="spentOn")


def _comment(value) -> str:
    """``{"raw": ...}`` or plain text; null (or a null ``raw``) is no comment."""
    if isinstance(value, dict):
        value = value.get("raw")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise V3Error('Comment must be text or formattable text ({"raw": "..."}).', identifier="PropertyFormatError",
                      attribute="comment")
    return value


def _ongoing_value(value) -> None:
    if not isinstance(value, bool):
        raise V3Error("Ongoing must be true or false.", identifier="PropertyFormatError", attribute="ongoing")
    if value:
        raise V3Error("Keelplan runs no timers: a time entry is never ongoing.", attribute="ongoing")


def _work_package(actor, links: dict):
    """The work package ``_links.workPackage`` / ``_links.entity`` name (they must agree): ``_ABSENT`` when
    neither is given, None for a null href. One the caller cannot see reads as one that does not exist."""
    given = {}
    for name in ("workPackage", "entity"):
        if name in links:
            given[name] = id_from_href(link_href(links[name], name), "work_packages", attribute=name)
    if not given:
        return _ABSENT
    if len(set(given.values())) > 1:
        raise V3Error("workPackage and entity name different work packages.", attribute="workPackage")
    attribute, pk = next(iter(given.items()))
    if pk is None:
        return None
    found = work_item_list(actor=actor).filter(pk=pk).select_related("project").first()
    if found is None:
        raise V3Error("The chosen work package does not exist.", attribute=attribute)
    return found


def _activity(links: dict):
    """The activity ``_links.activity`` names (either spelling of its href); None for a null href."""
    target = link_href(links["activity"], "activity")
    if target is None:
        return None
    singular = isinstance(target, str) and target.startswith(href(ACTIVITY_SINGULAR) + "/")
    pk = id_from_href(target, ACTIVITY_SINGULAR if singular else ACTIVITIES, attribute="activity")
    found = Activity.objects.filter(pk=pk).first()
    if found is None:
        raise V3Error("The chosen activity does not exist.", attribute="activity")
    return found


def _user(actor, links: dict):
    """The person ``_links.user`` names (``/users/me`` is the caller); None for a null href. One the caller
    cannot see reads as one that does not exist."""
    target = link_href(links["user"], "user")
    if target is None:
        return None
    if isinstance(target, str) and target.rstrip("/") == href("users", "me"):
        return actor
    pk = id_from_href(target, "users", attribute="user")
    found = users_visible(actor).filter(pk=pk).first()
    if found is None:
        raise V3Error("The chosen user does not exist.", attribute="user")
    return found


def _project(actor, links: dict):
    """The project ``_links.project`` names, if the caller may see it (404 otherwise, as for one that does not
    exist); ``_ABSENT`` when not given, None for a null href."""
    if "project" not in links:
        return _ABSENT
    pk = id_from_href(link_href(links["project"], "project"), "projects", attribute="project")
    return None if pk is None else project_for(actor, pk)


def read_body(actor, body: dict, *, creating: bool) -> tuple[dict, object, object]:
    """The domain fields a time entry body gives (only those it gives), the project its links name and the work
    package (``_ABSENT`` for either when not named). A create needs ``hours`` and a work package or a project.
    Every property that cannot be read is answered at once (``MultipleErrors``); a project the caller cannot see
    is 404 straight away, whatever else is wrong, so the answer never tells it exists."""
    links = body_links(body)
    project = _project(actor, links)
    fields: dict = {}
    errors: list[V3Error] = []

    def read(field: str | None, present: bool, reader):
        if not present:
            return
        try:
            value = reader()
        except V3Error as exc:
            errors.append(exc)
        else:
            if field is not None:
                fields[field] = value

    read("minutes", "hours" in body, lambda: _minutes(body["hours"]))
    read("spent_on", "spentOn" in body, lambda: _spent_on(body["spentOn"]))
    read("comment", "comment" in body, lambda: _comment(body["comment"]))
    read(None, "ongoing" in body, lambda: _ongoing_value(body["ongoing"]))
    read("work_item", "workPackage" in links or "entity" in links, lambda: _work_package(actor, links))
    read("activity", "activity" in links, lambda: _activity(links))
    read("user", "user" in links, lambda: _user(actor, links))
    package = fields.pop("work_item", _ABSENT)
    if creating:
        if "hours" not in body:
            errors.insert(0, _blank("hours", "Hours"))
        named = "workPackage" in links or "entity" in links
        if project in (_ABSENT, None) and (not named or package is None):
            errors.append(_blank("workPackage", "Work package"))
    if errors:
        raise MultipleErrors(errors)
    return fields, project, package


def create_entry(actor, body: dict) -> TimeEntry:
    """A new entry from a POST body: ``hours`` required, ``spentOn`` today unless given, the project the work
    package's unless ``_links.project`` names it (both given: the domain insists they agree)."""
    fields, project, package = read_body(actor, body, creating=True)
    package = None if package is _ABSENT else package
    project = package.project if project in (_ABSENT, None) else project
    fields.setdefault("spent_on", timezone.localdate())
    return time_entry_create(actor=actor, project=project, work_item=package, **fields)


def update_entry(actor, entry: TimeEntry, body: dict) -> TimeEntry:
    """An entry changed by a PATCH body: what it gives that differs from the entry (a client may send the whole
    entry back). Its project is fixed; ``lockVersion``, when given, must be the entry's."""
    lock_version = body.get("lockVersion")
    if lock_version is not None and (isinstance(lock_version, bool) or not isinstance(lock_version, int)):
        raise V3Error("Lock version must be a whole number.", identifier="PropertyFormatError",
                      attribute="lockVersion")
    fields, project, package = read_body(actor, body, creating=False)
    if project is not _ABSENT and getattr(project, "pk", None) != entry.project_id:
        raise V3Error("A time entry cannot move to another project.", identifier="PropertyIsReadOnly",
                      attribute="project")
    if package is not _ABSENT:
        fields["work_item"] = package
    current = {"minutes": entry.minutes, "spent_on": entry.spent_on, "comment": entry.comment,
               "work_item": entry.work_item_id, "activity": entry.activity_id, "user": entry.user_id}
    changed = {name: value for name, value in fields.items()
               if (value.pk if hasattr(value, "pk") else value) != current[name]}
    return time_entry_update(actor=actor, entry=entry, lock_version=lock_version, **changed)


# ---------------------------------------------------------------- schema and form

def schema_json(project: Project | None = None) -> dict:
    """What a time entry holds and which properties a client writes; the activities it may take (those the
    project offers, ``timesheets.selectors.activities_offered``; every active one for no project), where it may
    be logged and, for a known project, for whom."""
    def prop(kind, name, *, required=False, writable=True, **extra):
        return {"type": kind, "name": name, "required": required, "hasDefault": False, "writable": writable,
                **extra}

    offered = activities_offered(project) if project is not None else activity_list(active_only=True)
    activities = [link(activity_href(a.pk), a.name) for a in offered]
    user = {**prop("User", "User", required=True), "hasDefault": True, "location": "_links"}
    if project is not None:
        user["_links"] = {"allowedValues": link(href("projects", project.pk, "available_assignees"), "Members")}
    return {
        "_type": "Schema", "_dependencies": [],
        "id": prop("Integer", "ID", required=True, writable=False),
        "lockVersion": prop("Integer", "Lock version", required=True, writable=False),
        "comment": prop("Formattable", "Comment"),
        "spentOn": {**prop("Date", "Date", required=True), "hasDefault": True},
        "hours": prop("Duration", "Hours", required=True),
        "ongoing": prop("Boolean", "Ongoing", writable=False),
        "createdAt": prop("DateTime", "Created on", required=True, writable=False),
        "updatedAt": prop("DateTime", "Updated on", required=True, writable=False),
        "project": {**prop("Project", "Project", location="_links"),
                    "_links": {"allowedValues": link(href("time_entries", "available_projects"), "Projects")}},
        "workPackage": prop("WorkPackage", "Work package", location="_links"),
        "entity": prop("WorkPackage", "Entity", location="_links"),
        "user": user,
        "activity": {**prop("TimeEntriesActivity", "Activity", required=True), "hasDefault": True,
                     "location": "_links", "_links": {"allowedValues": activities}},
        "_links": {"self": link(href("time_entries", "schema"), "Schema")},
    }


WRITABLE_LINKS = frozenset({"project", "entity", "workPackage", "user", "activity"})


def form_json(actor, entry: TimeEntry | None, body: dict) -> dict:
    """OpenProject's form: the write checked by the services and rolled back."""
    def run():
        written = update_entry(actor, entry, body) if entry is not None else create_entry(actor, body)
        return render_time_entry(actor, written.pk), written.project

    result, errors = dry_run(run, ATTRIBUTES)
    payload, project = result if result else ({}, entry.project if entry is not None else None)
    target = href("time_entries", entry.pk, "form") if entry is not None else href("time_entries", "form")
    links = {"self": action(target, "post", title="Form"), "validate": action(target, "post", title="Validate")}
    if not errors:
        links["commit"] = (action(href("time_entries", entry.pk), "patch", title="Update time entry")
                           if entry is not None else action(href("time_entries"), "post", title="Log time"))
    shown = {k: v for k, v in payload.items() if k not in ("id", "createdAt", "updatedAt", "_type")}
    if payload:
        shown["_links"] = {k: v for k, v in payload["_links"].items() if k in WRITABLE_LINKS}
    return {"_type": "Form", "_embedded": {"payload": shown, "schema": schema_json(project),
                                            "validationErrors": errors}, "_links": links}


# ---------------------------------------------------------------- views

class TimeEntriesView(V3View):
    """``GET /time_entries``: the entries the caller may see, filtered and sorted; ``POST``: log time."""

    attributes = ATTRIBUTES

    def get(self, request):
        actor = request.user
        rows = apply_filters(time_entry_list(actor=actor), parse_filters(request.query_params.get("filters")),
                             FILTERS, actor=actor)
        order = parse_sort(request.query_params.get("sortBy"), SORTS) or list(DEFAULT_ORDER)
        extra = {}
        if projects_to_log_in(actor).exists():
            extra = {"createTimeEntry": action(href("time_entries", "form"), "post", title="Log time"),
                     "createTimeEntryImmediately": action(href("time_entries"), "post", title="Log time")}
        return Response(collection(href("time_entries"), request.query_params, rows.order_by(*order),
                                   render_many=lambda page: render_time_entries(actor, list(page)),
                                   extra_links=extra))

    def post(self, request):
        entry = create_entry(request.user, self.body(request))
        return Response(render_time_entry(request.user, entry.pk), status=201)


class TimeEntryView(V3View):
    """``GET``, ``PATCH`` and ``DELETE /time_entries/{id}``; an entry the caller may not see is 404."""

    attributes = ATTRIBUTES

    def get(self, request, pk):
        return Response(render_time_entry(request.user, pk))

    def patch(self, request, pk):
        entry = time_entry_get(actor=request.user, pk=pk)
        update_entry(request.user, entry, self.body(request))
        return Response(render_time_entry(request.user, pk))

    def delete(self, request, pk):
        time_entry_delete(actor=request.user, entry=time_entry_get(actor=request.user, pk=pk))
        return Response(status=204)


class TimeEntryFormView(V3View):
    """``POST /time_entries/form`` (a create) and ``/time_entries/{id}/form`` (an update), nothing kept."""

    attributes = ATTRIBUTES

    def post(self, request, pk=None):
        entry = time_entry_get(actor=request.user, pk=pk) if pk is not None else None
        return Response(form_json(request.user, entry, self.body(request)))


class TimeEntrySchemaView(V3View):
    def get(self, request):
        return Response(schema_json())


class AvailableProjectsView(V3View):
    """``GET /time_entries/available_projects``: the projects where the caller may log time, paged."""

    def get(self, request):
        actor = request.user
        return Response(collection(href("time_entries", "available_projects"), request.query_params,
                                   projects_to_log_in(actor),
                                   render_many=lambda page: render_projects(actor, list(page))))


class ActivityView(V3View):
    """``GET /time_entries/activities/{id}`` (and ``/activity/{id}``): an activity, active or not (old entries
    still link an inactive one)."""

    def get(self, request, pk):
        return Response(activity_json(request.user, activity_get(pk)))


urlpatterns = [
    path("time_entries", TimeEntriesView.as_view()),
    path("time_entries/form", TimeEntryFormView.as_view()),
    path("time_entries/schema", TimeEntrySchemaView.as_view()),
    path("time_entries/available_projects", AvailableProjectsView.as_view()),
    path("time_entries/<id:pk>", TimeEntryView.as_view()),
    path("time_entries/<id:pk>/form", TimeEntryFormView.as_view()),
    path(f"{ACTIVITIES}/<id:pk>", ActivityView.as_view()),
    path(f"{ACTIVITY_SINGULAR}/<id:pk>", ActivityView.as_view()),
]
