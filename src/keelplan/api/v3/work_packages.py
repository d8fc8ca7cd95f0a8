"""Work packages in the OpenProject v3 dialect: Keelplan's work items as OpenProject shows them.

Dates: a manually scheduled work package shows its own dates (``manual_start``/``manual_finish``, none at all
for an undated one); an automatic one shows the dates the scheduler computed. A parent's ``derivedStartDate`` /
``derivedDueDate`` are its computed summary dates. A milestone has one ``date`` instead of a start and a due
date, and no duration. ``duration`` is the work item's working days as ISO 8601 (``P5D``).

Lists: ``/api/v3/work_packages`` (every visible project) and ``/api/v3/projects/{id}/work_packages``. Without
``filters`` a list holds open work packages only, as OpenProject's default query does; ``filters=[]`` gives all.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef
from django.urls import path
from rest_framework.response import Response

from keelplan.accounts.models import User
from keelplan.api.common.views import visible_row
from keelplan.api.v3.base import V3View, dry_run, project_for
from keelplan.api.v3.custom_fields import CustomFieldRenderer, custom_input, custom_schema
from keelplan.api.v3.errors import MultipleErrors, V3Error
from keelplan.api.v3.hal import (
    action, collection, days_from_iso, filters_param, formattable, hours_from_iso, href, id_from_href, iso_date,
    iso_datetime, iso_days, iso_hours, link, link_href,
)
from keelplan.api.v3.principals import user_json
from keelplan.core.errors import NotFound
from keelplan.core.filters import (
    DateTimeFilter, IntegerFilter, PrincipalFilter, StatusFilter, StringFilter, TextFilter, apply_filters,
    parse_filters, parse_sort,
)
from keelplan.customfields.models import AppliesTo
from keelplan.permissions import MINIMUM_ROLE, Action, ProjectAccess, project_members_q, with_my_role
from keelplan.planning.models import (
    Category, ConstraintType, Priority, SchedulingMode, Status, Version, WorkItem, WorkItemType,
)
from keelplan.planning.reference import default_type_for, types_enabled, versions_assignable
from keelplan.planning.selectors import work_item_list
from keelplan.planning.services import default_type, task_create, task_delete, task_update
from keelplan.portfolio.models import Project, Role
from keelplan.scheduling.selectors import ScheduleReader, WorkingDays
from keelplan.timesheets.selectors import minutes_spent

ENTITY = AppliesTo.WORK_ITEM.value
DEFAULT_FILTERS = [{"status_id": {"operator": "o", "values": None}}]

FILTERS = {
    "id": IntegerFilter("pk", operators={"=", "!"}),
    "project": IntegerFilter("project_id", operators={"=", "!"}),
    "project_id": IntegerFilter("project_id", operators={"=", "!"}),
    "status": StatusFilter("status_id", closed_path="status__is_closed"),
    "status_id": StatusFilter("status_id", closed_path="status__is_closed"),
    "type": IntegerFilter("type_id", operators={"=", "!"}),
    "type_id": IntegerFilter("type_id", operators={"=", "!"}),
    "priority": IntegerFilter("priority_id", operators={"=", "!"}),
    "assignee": PrincipalFilter("assignee_id"),
    "assigned_to": PrincipalFilter("assignee_id"),
    "responsible": PrincipalFilter("responsible_id"),
    "author": PrincipalFilter("author_id"),
    "version": IntegerFilter("version_id", operators={"=", "!", "*", "!*"}),
    "category": IntegerFilter("category_id", operators={"=", "!", "*", "!*"}),
    "parent": IntegerFilter("parent_id", operators={"=", "!", "*", "!*"}),
    "subject": StringFilter("name", operators={"~", "!~", "=", "!"}),
    "search": TextFilter("name", "description", operators={"**"}),
    "created_at": DateTimeFilter("created_at"),
    "updated_at": DateTimeFilter("updated_at"),
}
SORTS = {"id": "pk", "subject": ("name", "pk"), "created_at": ("created_at", "pk"),
         "updated_at": ("updated_at", "pk"), "parent": ("parent_id", "pk"), "status": ("status__position", "pk"),
         "priority": ("priority__position", "pk"), "type": ("type__position", "pk"),
         "position": ("position", "pk")}


def work_package_rows(actor):
    """The work items the caller may see, each knowing whether it has children (the renderer reads the rest for
    the whole page at once)."""
    return (work_item_list(actor=actor)
            .annotate(has_children=Exists(WorkItem.objects.filter(parent_id=OuterRef("pk")))))


def _person(user):
    return link(href("users", user.pk), user.display_name) if user is not None else link(None)


class WorkPackageRenderer:
    """Work packages of one response: computed dates, the caller's role per project, children and custom values
    read once for the page."""

    def __init__(self, actor, rows: list[WorkItem]):
        self.actor = actor
        self.schedule = ScheduleReader()
        self.schedule.prefetch((row.project_id, row.pk) for row in rows)
        project_ids = {row.project_id for row in rows}
        projects = {p.pk: p for p in with_my_role(Project.objects.filter(pk__in=project_ids), actor)}
        self.roles = {pk: project.my_role for pk, project in projects.items()}
        self._attach(rows, projects)
        self.children: dict[int, list[tuple[int, str]]] = {}
        for pk, parent_id, name in (WorkItem.objects.filter(parent_id__in=[r.pk for r in rows])
                                    .order_by("position", "pk").values_list("pk", "parent_id", "name")):
            self.children.setdefault(parent_id, []).append((pk, name))
        self.ancestors = self._ancestors(rows)
        self.custom = CustomFieldRenderer(actor, ENTITY, [r.pk for r in rows])
        self.access: dict[int, ProjectAccess] = {}
        self.page_ids: dict[int, list[int]] = {}
        for row in rows:
            self.page_ids.setdefault(row.project_id, []).append(row.pk)
        self.calendars: dict[int, WorkingDays] = {}
        # Time logged on each, for those who may see the project's time (OpenProject's ``spentTime``).
        self.spent = minutes_spent(r.pk for r in rows if self.may(r, Action.TIME_VIEW))

    @staticmethod
    def _attach(rows: list[WorkItem], projects: dict[int, Project]) -> None:
        """Give each row the related rows a representation reads, one query per kind for the whole page (joining
        them into the page's query would build ten objects per row, most of them the same few)."""
        def by_id(model, field: str, manager: str = "objects") -> dict:
            ids = {getattr(row, f"{field}_id") for row in rows} - {None}
            return {obj.pk: obj for obj in getattr(model, manager).filter(pk__in=ids)} if ids else {}

        people_ids = {pk for row in rows for pk in (row.author_id, row.assignee_id, row.responsible_id) if pk}
        people = {u.pk: u for u in User.objects.filter(pk__in=people_ids)} if people_ids else {}
        related = {"status": by_id(Status, "status"), "type": by_id(WorkItemType, "type"),
                   "priority": by_id(Priority, "priority"), "version": by_id(Version, "version", "all_objects"),
                   "category": by_id(Category, "category", "all_objects"), "project": projects,
                   "author": people, "assignee": people, "responsible": people}
        for row in rows:
            for field, found in related.items():
                pk = getattr(row, f"{field}_id")
                if pk is not None and pk in found:
                    setattr(row, field, found[pk])

    @staticmethod
    def _ancestors(rows: list[WorkItem]) -> dict[int, list[tuple[int, str]]]:
        known = {r.pk: (r.parent_id, r.name) for r in rows}
        missing = {r.parent_id for r in rows if r.parent_id} - known.keys()
        while missing:
            for pk, parent_id, name in WorkItem.all_objects.filter(pk__in=missing).values_list("pk", "parent_id",
                                                                                              "name"):
                known[pk] = (parent_id, name)
            missing = {p for p, _ in known.values() if p} - known.keys()
        out = {}
        for row in rows:
            chain, node = [], row.parent_id
            while node and node in known:
                chain.append((node, known[node][1]))
                node = known[node][0]
            out[row.pk] = list(reversed(chain))
        return out

    def may(self, row: WorkItem, action_: Action) -> bool:
        role = self.roles.get(row.project_id)
        if role is None:
            return False
        if action_ == Action.WORK_ITEM_UPDATE:   # a Member edits only what is assigned to them: the rule's own call
            access = self.access.get(row.project_id)
            if access is None:
                access = self.access[row.project_id] = ProjectAccess(self.actor, row.project, role)
                if role == Role.MEMBER:   # which of the page's rows are theirs through a resource: one read
                    access.prefetch_assigned(self.page_ids.get(row.project_id, ()))
            return access.can(action_, row)
        return role >= MINIMUM_ROLE[action_]

    def _working_days(self, row: WorkItem) -> WorkingDays:
        days = self.calendars.get(row.project_id)
        if days is None:
            days = self.calendars[row.project_id] = WorkingDays(row.project)
        return days

    def dates(self, row: WorkItem) -> dict:
        computed = self.schedule.fields(row.project_id, row.pk) or {}
        manual = row.scheduling_mode == SchedulingMode.MANUAL
        start = row.manual_start if manual else computed.get("early_start")
        due = (row.manual_finish or row.manual_start) if manual else computed.get("early_finish")
        out = {}
        if row.is_milestone:
            out["date"] = iso_date(start)
            out["duration"] = None
        else:
            out["startDate"], out["dueDate"] = iso_date(start), iso_date(due)
            days = row.duration
            if manual and start is not None and due is not None:
                # A manual item's duration is its window, in working days of its calendar (v1 may have set the
                # dates without the duration).
                days = max(self._working_days(row).count(start, due, row.calendar_id), 1)
            out["duration"] = iso_days(days)
        summary = getattr(row, "has_children", False)
        out["derivedStartDate"] = iso_date(computed.get("early_start")) if summary else None
        out["derivedDueDate"] = iso_date(computed.get("early_finish")) if summary else None
        return out

    def render(self, row: WorkItem) -> dict:
        pk = row.pk
        links = {
            "self": link(href("work_packages", pk), row.name),
            "schema": link(href("work_packages", "schemas", f"{row.project_id}-{row.type_id}")),
            "project": link(href("projects", row.project_id), row.project.name),
            "type": link(href("types", row.type_id), row.type.name),
            "status": link(href("statuses", row.status_id), row.status.name),
            "priority": link(href("priorities", row.priority_id), row.priority.name),
            "author": _person(row.author),
            "assignee": _person(row.assignee),
            "responsible": _person(row.responsible),
            "version": link(href("versions", row.version_id), row.version.name) if row.version_id else link(None),
            "category": (link(href("categories", row.category_id), row.category.name) if row.category_id
                         else link(None)),
            "parent": (link(href("work_packages", row.parent_id), self.ancestors[pk][-1][1])
                       if row.parent_id and self.ancestors[pk] else link(None)),
            "ancestors": [link(href("work_packages", a), name) for a, name in self.ancestors[pk]],
            "children": [link(href("work_packages", c), name) for c, name in self.children.get(pk, [])],
            "relations": link(href("work_packages", pk, "relations")),
            "availableAssignees": link(href("work_packages", pk, "available_assignees")),
        }
        if self.may(row, Action.WORK_ITEM_UPDATE):
            links["update"] = action(href("work_packages", pk, "form"), "post")
            links["updateImmediately"] = action(href("work_packages", pk), "patch")
        if self.may(row, Action.WORK_ITEM_DELETE):
            links["delete"] = action(href("work_packages", pk), "delete")
        if self.may(row, Action.RELATION_MANAGE):
            links["addRelation"] = action(href("work_packages", pk, "relations"), "post")
        if self.may(row, Action.WORK_ITEM_CREATE):
            links["addChild"] = action(href("projects", row.project_id, "work_packages"), "post")
        if pk in self.spent:
            query = urlencode({"filters": filters_param([{"work_package": {"operator": "=", "values": [str(pk)]}}])})
            links["timeEntries"] = link(f"{href('time_entries')}?{query}", "Time entries")
        if self.may(row, Action.TIME_LOG):
            links["logTime"] = action(href("time_entries"), "post", title=f"Log time on {row.name}")
        properties, custom_links = self.custom.render(pk, self.custom.fields_for(
            project_id=row.project_id, type_id=row.type_id, work_item=True))
        links.update(custom_links)
        return {
            "_type": "WorkPackage", "id": pk, "lockVersion": row.lock_version, "subject": row.name,
            "description": formattable(row.description),
            "scheduleManually": row.scheduling_mode == SchedulingMode.MANUAL,
            **self.dates(row),
            "ignoreNonWorkingDays": False,
            "estimatedTime": iso_hours(row.estimated_hours), "remainingTime": iso_hours(row.remaining_hours),
            "percentageDone": int(row.percent_complete),
            **({"spentTime": iso_hours(self.spent[pk] / 60)} if pk in self.spent else {}),
            "readonly": row.status.is_readonly,
            "createdAt": iso_datetime(row.created_at), "updatedAt": iso_datetime(row.updated_at),
            **properties,
            "_links": links,
        }


def render_work_packages(actor, rows: list[WorkItem]) -> list[dict]:
    renderer = WorkPackageRenderer(actor, rows)
    return [renderer.render(row) for row in rows]


# ---------------------------------------------------------------- writing

# Domain fields as the work package's v3 properties, for error details.
ATTRIBUTES = {
    "name": "subject", "description": "description", "scheduling_mode": "scheduleManually",
    "manual_start": "startDate", "manual_finish": "dueDate", "constraint_date": "startDate",
    "constraint_type": "startDate", "duration": "duration", "percent_complete": "percentageDone",
    "estimated_hours": "estimatedTime", "remaining_hours": "remainingTime", "type": "type", "status": "status",
    "priority": "priority", "assignee": "assignee", "responsible": "responsible", "parent": "parent",
    "version": "version", "category": "category", "project": "project", "is_milestone": "type",
}
# Links a body may set: property -> (route kind, model).
LINKS = {"type": ("types", WorkItemType), "status": ("statuses", Status), "priority": ("priorities", Priority),
         "assignee": ("users", User), "responsible": ("users", User), "parent": ("work_packages", WorkItem),
         "version": ("versions", Version), "category": ("categories", Category)}
NULLABLE_LINKS = frozenset({"assignee", "responsible", "parent", "version", "category"})
def _date(value, attribute: str):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad_date(attribute)
    except ValueError:
        _bad_date(attribute)


def _bad_date(attribute: str):
    raise V3Error(f"{attribute} must be a date (YYYY-MM-DD).", identifier="PropertyFormatError", attribute=attribute)


def _link_target(links: dict, name: str):
    """The row a body's ``_links.<name>`` names (None for ``{"href": null}``), or 422 naming it."""
    kind, model = LINKS[name]
    if links[name] is None:
        raise V3Error(f"{name} must be a link object with an href.", identifier="PropertyFormatError",
                      attribute=name)
    pk = id_from_href(link_href(links[name], name), kind, attribute=name)
    if pk is None:
        if name not in NULLABLE_LINKS:
            raise V3Error(f"{name.capitalize()} can't be blank.", attribute=name)
        return None
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise V3Error(f"The chosen {name} does not exist.", attribute=name)
    return row


def _unchanged(body: dict, current: dict) -> dict:
    """``body`` less what it repeats of ``current`` (a client that sends the whole object back changes only
    what differs): plain properties compared by value, links by href."""
    out = {k: v for k, v in body.items() if k != "_links" and current.get(k, object()) != v}
    links = body.get("_links")
    if isinstance(links, dict):
        kept = {}
        for name, value in links.items():
            now = current.get("_links", {}).get(name)
            if isinstance(value, dict) and isinstance(now, dict) and value.get("href") == now.get("href"):
                continue
            if isinstance(value, list) and isinstance(now, list) and [v.get("href") for v in value
                                                                       if isinstance(v, dict)] == \
                    [n.get("href") for n in now]:
                continue
            kept[name] = value
        out["_links"] = kept
    elif links is not None:
        out["_links"] = links
    return out


def work_package_fields(actor, body: dict, *, project: Project, row: WorkItem | None) -> tuple[dict, dict | None]:
    """Domain fields and custom values from a work package body (``row``: the one being changed).

    Manual scheduling (the default for a new work package, as in OpenProject) keeps the dates given; with a start
    and a duration the due date is the duration's last working day, with a due date and a duration the start
    its first. An automatic work package takes its dates from the scheduler: a start date given becomes the
    earliest it may start (a start-no-earlier-than constraint), a due date given is refused.
    """
    links = body.get("_links") if body.get("_links") is not None else {}
    if not isinstance(links, dict):
        raise V3Error("_links must be an object.", identifier="PropertyFormatError", attribute="_links")
    fields: dict = {}
    if "subject" in body:
        fields["name"] = body["subject"]
    if "description" in body:
        value = body["description"]
        fields["description"] = value.get("raw") if isinstance(value, dict) else value
    for name in LINKS:
        if name in links:
            fields[name] = _link_target(links, name)
    if "percentageDone" in body:
        fields["percent_complete"] = body["percentageDone"]
    for prop, field in (("estimatedTime", "estimated_hours"), ("remainingTime", "remaining_hours")):
        if prop in body:
            fields[field] = hours_from_iso(body[prop], prop)
    manual = body.get("scheduleManually", row.scheduling_mode == SchedulingMode.MANUAL if row else True)
    if not isinstance(manual, bool):
        raise V3Error("scheduleManually must be true or false.", identifier="PropertyFormatError",
                      attribute="scheduleManually")
    if "scheduleManually" in body or row is None:
        fields["scheduling_mode"] = SchedulingMode.MANUAL if manual else SchedulingMode.AUTO
    milestone = (fields.get("type") or (row.type if row else None))
    milestone = bool(milestone.is_milestone) if milestone is not None else bool(row and row.is_milestone)
    start_key = "date" if milestone and "date" in body else "startDate"
    start = _date(body[start_key], start_key) if start_key in body else _UNSET
    due = _date(body["dueDate"], "dueDate") if "dueDate" in body else _UNSET
    days = days_from_iso(body["duration"], "duration") if body.get("duration") is not None else _UNSET
    if milestone and start is not _UNSET:
        due = start
    calendar = WorkingDays(project)
    calendar_id = row.calendar_id if row else None
    if manual:
        _manual_window(fields, start, due, days, row, calendar, calendar_id, milestone)
    else:
        if due is not _UNSET and not milestone:
            raise V3Error("The due date of an automatically scheduled work package follows from its start and "
                          "duration.", identifier="PropertyIsReadOnly", attribute="dueDate")
        if start is not _UNSET:
            fields["constraint_type"] = ConstraintType.SNET if start else ConstraintType.ASAP
            fields["constraint_date"] = start
        if days is not _UNSET:
            fields["duration"] = days
    renderer = CustomFieldRenderer(actor, ENTITY, [])
    type_ = fields.get("type") or (row.type if row else None)
    custom = custom_input(body, renderer.fields_for(project_id=project.pk, type_id=type_.pk if type_ else None,
                                                    work_item=True))
    return fields, custom


_UNSET = object()


def _manual_window(fields, start, due, days, row, calendar: WorkingDays, calendar_id, milestone: bool) -> None:
    """A manual work package's dates from what the body gave, kept consistent with its duration as OpenProject
    keeps them: a new start with no new due date keeps the duration and moves the due date; a new due date alone
    changes the duration; a duration moves the due date (or, given with a due date alone, the start)."""
    given_start, given_due, given_days = start is not _UNSET, due is not _UNSET, days is not _UNSET
    if not (given_start or given_due or given_days):
        return
    was_manual = row is not None and row.scheduling_mode == SchedulingMode.MANUAL
    start = start if given_start else (row.manual_start if was_manual else None)
    due = due if given_due else (row.manual_finish if was_manual else None)
    if milestone:
        due = start
    elif given_days:
        if days < 1:
            raise V3Error("Duration must be at least one day.", attribute="duration")
        fields["duration"] = days
        if start is not None and not given_due:
            due = calendar.finish(start, days, calendar_id)
        elif due is not None and not given_start:
            start = calendar.start(due, days, calendar_id)
        elif start is not None and due is not None:
            fields["duration"] = max(calendar.count(start, due, calendar_id), 1)
    elif given_start and not given_due and start is not None and due is not None and row is not None:
        due = calendar.finish(start, max(row.duration, 1), calendar_id)
    elif start is not None and due is not None:
        fields["duration"] = max(calendar.count(start, due, calendar_id), 1)
    if start is None and due is not None:
        raise V3Error("A work package with a due date needs a start date or a duration.", attribute="startDate")
    fields["manual_start"], fields["manual_finish"] = start, due


def _create(actor, project: Project, body: dict) -> WorkItem:
    fields, custom = work_package_fields(actor, body, project=project, row=None)
    if "name" not in fields:
        raise V3Error("Subject can't be blank.", attribute="subject")
    name = fields.pop("name")
    return task_create(actor=actor, project=project, name=name, custom_fields=custom, allow_undated=True,
                       mode_follows_links=True, **fields)


def _update(actor, row: WorkItem, body: dict) -> WorkItem:
    if "lockVersion" not in body:
        raise V3Error("Lock version can't be blank.", identifier="PropertyMissingError", attribute="lockVersion")
    lock_version = body["lockVersion"]
    current = render_work_packages(actor, [row])[0]
    changed = _unchanged(body, current)
    links = changed.get("_links") or {}
    if "project" in links:
        raise V3Error("A work package cannot move to another project.", identifier="PropertyIsReadOnly",
                      attribute="project")
    fields, custom = work_package_fields(actor, changed, project=row.project, row=row)
    return task_update(actor=actor, task=row, lock_version=lock_version, custom_fields=custom, allow_undated=True,
                       mode_follows_links=True, **fields)


def work_package_for(actor, pk) -> WorkItem:
    return visible_row(work_package_rows(actor), pk)


def _listing(request, rows, path_: str):
    raw = request.query_params.get("filters")
    filters = parse_filters(raw) if raw not in (None, "") else parse_filters(DEFAULT_FILTERS)
    rows = apply_filters(rows, filters, FILTERS, actor=request.user)
    order = parse_sort(request.query_params.get("sortBy"), SORTS) or ["pk"]
    return collection(path_, request.query_params, rows.order_by(*order), kind="WorkPackageCollection",
                      render_many=lambda page: render_work_packages(request.user, list(page)))


# ---------------------------------------------------------------- schema and form

def work_package_schema(actor, project: Project, type_: WorkItemType) -> dict:
    """What a work package of ``type_`` in ``project`` holds, which properties are writable and the values its
    links allow, as OpenProject's clients read it before a write (``/work_packages/schemas/{project}-{type}``)."""
    def prop(kind, name, *, required=False, writable=True, **extra):
        return {"type": kind, "name": name, "required": required, "hasDefault": False, "writable": writable,
                **extra}

    def allowed(values):
        return {"_links": {"allowedValues": values}}

    schema = {
        "_type": "Schema", "_dependencies": [],
        "id": prop("Integer", "ID", required=True, writable=False),
        "lockVersion": prop("Integer", "Lock version", required=True, writable=False),
        "subject": prop("String", "Subject", required=True, minLength=1, maxLength=512),
        "description": prop("Formattable", "Description"),
        "scheduleManually": {**prop("Boolean", "Manual scheduling"), "hasDefault": True},
        "duration": prop("Duration", "Duration", writable=not type_.is_milestone),
        "ignoreNonWorkingDays": prop("Boolean", "Ignore non-working days", writable=False),
        "estimatedTime": prop("Duration", "Estimated time"),
        "remainingTime": prop("Duration", "Remaining time"),
        "percentageDone": prop("Integer", "Progress (%)", minimum=0, maximum=100),
        "readonly": prop("Boolean", "Read only", writable=False),
        "derivedStartDate": prop("Date", "Derived start date", writable=False),
        "derivedDueDate": prop("Date", "Derived finish date", writable=False),
        "createdAt": prop("DateTime", "Created on", writable=False),
        "updatedAt": prop("DateTime", "Updated on", writable=False),
        "project": {**prop("Project", "Project", required=True),
                    **allowed([link(href("projects", project.pk), project.name)])},
        "type": {**prop("Type", "Type", required=True),
                 **allowed([link(href("types", t.pk), t.name) for t in types_enabled(project)])},
        "status": {**prop("Status", "Status", required=True),
                   **allowed([link(href("statuses", st.pk), st.name) for st in Status.objects.all()])},
        "priority": {**prop("Priority", "Priority", required=True),
                     **allowed([link(href("priorities", pr.pk), pr.name)
                                for pr in Priority.objects.filter(is_active=True)])},
        "assignee": {**prop("User", "Assignee"),
                     **allowed(link(href("projects", project.pk, "available_assignees")))},
        "responsible": {**prop("User", "Accountable"),
                        **allowed(link(href("projects", project.pk, "available_assignees")))},
        "parent": prop("WorkPackage", "Parent"),
        "version": {**prop("Version", "Version"),
                    **allowed([link(href("versions", v.pk), v.name) for v in versions_assignable(project)])},
        "category": {**prop("Category", "Category"),
                     **allowed([link(href("categories", c.pk), c.name) for c in Category.objects.filter(
                         project=project)])},
        "author": prop("User", "Author", writable=False),
        "_links": {"self": link(href("work_packages", "schemas", f"{project.pk}-{type_.pk}"))},
    }
    if type_.is_milestone:
        schema["date"] = prop("Date", "Date")
    else:
        schema["startDate"] = prop("Date", "Start date")
        schema["dueDate"] = prop("Date", "Finish date")
    renderer = CustomFieldRenderer(actor, ENTITY, [])
    for cf in renderer.fields_for(project_id=project.pk, type_id=type_.pk, work_item=True):
        schema[f"customField{cf.pk}"] = custom_schema(cf)
    return schema


def form_json(actor, project: Project, row: WorkItem | None, body: dict) -> dict:
    """OpenProject's form: the write checked by the services and rolled back."""
    def run():
        written = _update(actor, row, body) if row is not None else _create(actor, project, body)
        return render_work_packages(actor, [work_package_for(actor, written.pk)])[0], written.type

    result, errors = dry_run(run, ATTRIBUTES)
    payload, type_ = result if result else ({}, row.type if row else (default_type_for(project) or default_type()))
    target = href("work_packages", row.pk, "form") if row else href("projects", project.pk, "work_packages", "form")
    links = {"self": action(target, "post"), "validate": action(target, "post")}
    if not errors:
        links["commit"] = (action(href("work_packages", row.pk), "patch") if row
                           else action(href("projects", project.pk, "work_packages"), "post"))
    shown = {k: v for k, v in payload.items() if k not in ("id", "createdAt", "updatedAt", "_type", "_embedded")}
    if payload:
        shown["_links"] = {k: v for k, v in payload["_links"].items() if k in WRITABLE_LINKS or
                           k.startswith("customField")}
    return {"_type": "Form", "_embedded": {"payload": shown, "schema": work_package_schema(actor, project, type_),
                                            "validationErrors": errors}, "_links": links}


WRITABLE_LINKS = frozenset({"project", "type", "status", "priority", "assignee", "responsible", "parent", "version",
                            "category"})


def _created(actor, row: WorkItem) -> Response:
    return Response(render_work_packages(actor, [work_package_for(actor, row.pk)])[0], status=201)


class WorkPackagesView(V3View):
    attributes = ATTRIBUTES

    def get(self, request):
        return Response(_listing(request, work_package_rows(request.user), href("work_packages")))

    def post(self, request):
        body = self.body(request)
        links = body.get("_links") if isinstance(body.get("_links"), dict) else {}
        target = links.get("project")
        if not isinstance(target, dict) or target.get("href") is None:
            missing = [V3Error("Project can't be blank.", attribute="project")]
            if "subject" not in body:
                missing.append(V3Error("Subject can't be blank.", attribute="subject"))
            raise MultipleErrors(missing)
        pk = id_from_href(target["href"], "projects", attribute="project")
        try:
            project = project_for(request.user, pk)
        except NotFound:
            raise V3Error("The chosen project does not exist.", attribute="project") from None
        return _created(request.user, _create(request.user, project, body))


class ProjectWorkPackagesView(V3View):
    attributes = ATTRIBUTES

    def get(self, request, ref):
        project = project_for(request.user, ref)
        return Response(_listing(request, work_package_rows(request.user).filter(project=project),
                                 href("projects", project.pk, "work_packages")))

    def post(self, request, ref):
        project = project_for(request.user, ref)
        return _created(request.user, _create(request.user, project, self.body(request)))


class WorkPackageView(V3View):
    attributes = ATTRIBUTES

    def get(self, request, pk):
        row = work_package_for(request.user, pk)
        return Response(render_work_packages(request.user, [row])[0])

    def patch(self, request, pk):
        row = _update(request.user, work_package_for(request.user, pk), self.body(request))
        return Response(render_work_packages(request.user, [work_package_for(request.user, row.pk)])[0])

    def delete(self, request, pk):
        task_delete(actor=request.user, task=work_package_for(request.user, pk))
        return Response(status=204)


class WorkPackageSchemaView(V3View):
    def get(self, request, project_id, type_id):
        project = project_for(request.user, project_id)
        type_ = WorkItemType.objects.filter(pk=type_id).first()
        if type_ is None:
            raise NotFound("Type not found.", entity="type")
        return Response(work_package_schema(request.user, project, type_))


class WorkPackageFormView(V3View):
    """``POST /work_packages/form`` (the project from ``_links.project``), ``/projects/{id}/work_packages/form``
    and ``/work_packages/{id}/form``."""

    attributes = ATTRIBUTES

    def post(self, request, ref=None, pk=None):
        body = self.body(request)
        if pk is not None:
            row = work_package_for(request.user, pk)
            return Response(form_json(request.user, row.project, row, body))
        if ref is None:
            links = body.get("_links") if isinstance(body.get("_links"), dict) else {}
            target = links.get("project")
            if not isinstance(target, dict) or target.get("href") is None:
                raise V3Error("Project can't be blank.", attribute="project")
            ref = id_from_href(target["href"], "projects", attribute="project")
        return Response(form_json(request.user, project_for(request.user, ref), None, body))


class WorkPackageAssigneesView(V3View):
    """``GET /work_packages/{id}/available_assignees``: who the work package may be assigned to (the people of
    its project, their own membership or a group's)."""

    def get(self, request, pk):
        row = work_package_for(request.user, pk)
        people = User.objects.filter(project_members_q(row.project), is_active=True).order_by("id")
        return Response(collection(href("work_packages", row.pk, "available_assignees"), request.query_params,
                                   people, lambda person: user_json(person, request.user)))


urlpatterns = [
    path("work_packages", WorkPackagesView.as_view()),
    path("work_packages/form", WorkPackageFormView.as_view()),
    path("work_packages/<id:pk>", WorkPackageView.as_view()),
    path("work_packages/<id:pk>/form", WorkPackageFormView.as_view()),
    path("work_packages/<id:pk>/available_assignees", WorkPackageAssigneesView.as_view()),
    path("work_packages/schemas/<id:project_id>-<id:type_id>", WorkPackageSchemaView.as_view()),
    path("projects/<str:ref>/work_packages", ProjectWorkPackagesView.as_view()),
    path("projects/<str:ref>/work_packages/form", WorkPackageFormView.as_view()),
]
