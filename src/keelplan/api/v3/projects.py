"""Projects in the OpenProject v3 dialect: ``/api/v3/projects`` and what hangs off a project.

A project is addressed by its id or its identifier. The list shows the projects the caller may see
(``keelplan.permissions.projects_visible``), filtered with OpenProject's filters (``id``, ``name_and_identifier``,
``active``, ``public``, ``parent_id``, ``ancestor``, ``principal``, ``created_at``, ``latest_activity_at``,
``type_id``) and sorted with ``sortBy``. Writes go through ``portfolio.services``; the create and update forms
run the same service and roll it back. Action links show what the caller's role allows.

A project's start date (Keelplan schedules from it; OpenProject has none) is ``startDate``, today when a create
does not give one.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response

from keelplan.api.v3.base import V3View, dry_run, project_for
from keelplan.api.v3.custom_fields import CustomFieldRenderer, custom_input, custom_schema
from keelplan.api.v3.errors import V3Error
from keelplan.api.v3.hal import (
    action, collection, filters_param, formattable, href, id_from_href, iso_date, iso_datetime, link, link_href,
    plain_collection,
)
from keelplan.core.errors import DomainError, NotFound
from keelplan.core.filters import (
    BooleanFilter, CustomFilter, DateTimeFilter, IntegerFilter, StringFilter, apply_filters, parse_filters,
    parse_sort,
)
from keelplan.customfields.models import AppliesTo
from keelplan.permissions import MINIMUM_ROLE, Action, project_ids_visible, projects_visible, with_my_role
from keelplan.portfolio.models import Membership, Project, ProjectStatus, ProjectStatusCode
from keelplan.portfolio.reference import project_status_get, project_status_list
from keelplan.portfolio.selectors import project_get
from keelplan.portfolio.services import project_create, project_delete, project_update

UNDISCLOSED = "urn:openproject-org:api:v3:undisclosed"
UNDISCLOSED_TITLE = "Undisclosed - The selected parent is invisible because of lacking permissions."
ENTITY = AppliesTo.PROJECT.value
# Domain fields as the project's v3 properties, for error details.
ATTRIBUTES = {
    "name": "name", "identifier": "identifier", "description": "description", "is_public": "public",
    "is_active": "active", "status_explanation": "statusExplanation", "parent": "parent", "status": "status",
    "start_date": "startDate", "status_date": "statusDate",
}




# ---------------------------------------------------------------- reading

def _ancestors(projects: list[Project], visible: set[int]) -> dict[int, list[tuple[int, str]]]:
    """Each project's ancestors, root first, as ``(id, name)``; one query per level of the tree."""
    known = {p.pk: (p.parent_id, p.name) for p in projects}
    missing = {p.parent_id for p in projects if p.parent_id} - known.keys()
    while missing:
        rows = Project.all_objects.filter(pk__in=missing).values_list("pk", "parent_id", "name")
        for pk, parent_id, name in rows:
            known[pk] = (parent_id, name)
        missing = {parent for parent, _ in known.values() if parent} - known.keys()
    out = {}
    for project in projects:
        chain, node = [], project.parent_id
        while node and node in known:
            chain.append((node, known[node][1]))
            node = known[node][0]
        out[project.pk] = list(reversed(chain))
    return out


def _project_link(pk: int, name: str, visible: set[int]) -> dict:
    if pk in visible:
        return link(href("projects", pk), name)
    return link(UNDISCLOSED, UNDISCLOSED_TITLE)


def status_json(status: ProjectStatus) -> dict:
    return {"_type": "ProjectStatus", "id": status.code, "name": status.name,
            "_links": {"self": link(href("project_statuses", status.code), status.name)}}


class ProjectRenderer:
    """Projects of one response: the caller's role in each, their ancestors and custom values read once."""

    def __init__(self, actor, projects: list[Project]):
        self.actor = actor
        self.projects = projects
        self.visible = set(project_ids_visible(actor).values_list("id", flat=True)) if projects else set()
        self.ancestors = _ancestors(projects, self.visible)
        self.custom = CustomFieldRenderer(actor, ENTITY, [p.pk for p in projects])
        roles = dict(with_my_role(Project.objects.filter(pk__in=[p.pk for p in projects]), actor)
                     .values_list("pk", "my_role"))
        self.roles = roles

    def may(self, project: Project, action_: Action) -> bool:
        role = self.roles.get(project.pk)
        return role is not None and role >= MINIMUM_ROLE[action_]

    def render(self, project: Project) -> dict:
        pk = project.pk
        links = {
            "self": link(href("projects", pk), project.name),
            "categories": link(href("projects", pk, "categories")),
            "types": link(href("projects", pk, "types")),
            "versions": link(href("projects", pk, "versions")),
            "memberships": link(href("memberships") + "?filters=" + filters_param(
                [{"project": {"operator": "=", "values": [str(pk)]}}])),
            "workPackages": link(href("projects", pk, "work_packages")),
            "parent": (_project_link(project.parent_id, self.ancestors[pk][-1][1], self.visible)
                       if project.parent_id else link(None)),
            "ancestors": [_project_link(a, name, self.visible) for a, name in self.ancestors[pk]],
            "status": (link(href("project_statuses", project.status.code), project.status.name)
                       if project.status_id else link(None)),
        }
        if self.may(project, Action.WORK_ITEM_CREATE):
            links["createWorkPackage"] = action(href("projects", pk, "work_packages", "form"), "post")
            links["createWorkPackageImmediate"] = action(href("projects", pk, "work_packages"), "post")
            links["createWorkPackageImmediately"] = action(href("projects", pk, "work_packages"), "post")
        if self.may(project, Action.PROJECT_UPDATE):
            links["update"] = action(href("projects", pk, "form"), "post")
            links["updateImmediately"] = action(href("projects", pk), "patch")
        if self.may(project, Action.PROJECT_DELETE):
            links["delete"] = action(href("projects", pk), "delete")
        properties, custom_links = self.custom.render(pk, self.custom.fields_for(project_id=pk))
        links.update(custom_links)
        return {
            "_type": "Project", "id": pk, "identifier": project.identifier, "name": project.name,
            "active": project.is_active, "public": project.is_public,
            "description": formattable(project.description),
            "statusExplanation": formattable(project.status_explanation),
            "startDate": iso_date(project.start_date),
            "createdAt": iso_datetime(project.created_at), "updatedAt": iso_datetime(project.updated_at),
            **properties,
            "_links": links,
        }


def render_projects(actor, projects: list[Project]) -> list[dict]:
    renderer = ProjectRenderer(actor, projects)
    return [renderer.render(p) for p in projects]


def render_project(actor, project: Project) -> dict:
    project = Project.objects.select_related("status").get(pk=project.pk)
    return render_projects(actor, [project])[0]


def _ancestor_filter(queryset, operator, values, actor):
    below = set()
    frontier = set(values)
    while frontier:
        frontier = set(Project.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - below
        below |= frontier
    return queryset.filter(pk__in=below) if operator == "=" else queryset.exclude(pk__in=below)


def _principal_filter(queryset, operator, values, actor):
    members = Membership.objects.filter(Q(user_id__in=values) | Q(group_id__in=values)).values("project_id")
    return queryset.filter(pk__in=members) if operator == "=" else queryset.exclude(pk__in=members)


FILTERS = {
    "id": IntegerFilter("pk", operators={"=", "!"}),
    "name_and_identifier": StringFilter("name", "identifier", ignore_case=True,
                                        operators={"=", "!", "~", "!~", "**"}),
    "active": BooleanFilter("is_active"),
    "public": BooleanFilter("is_public"),
    "parent_id": IntegerFilter("parent_id", operators={"=", "!", "*", "!*"}),
    "ancestor": CustomFilter(_ancestor_filter, operators={"=", "!"}, values="id"),
    "principal": CustomFilter(_principal_filter, operators={"=", "!"}, values="id"),
    "type_id": IntegerFilter("project_type_id", operators={"=", "!", "*", "!*"}),
    "created_at": DateTimeFilter("created_at"),
    "latest_activity_at": DateTimeFilter("updated_at"),
}
SORTS = {"id": "pk", "name": ("name", "pk"), "typeahead": ("name", "pk"), "created_at": ("created_at", "pk"),
         "public": ("is_public", "pk"), "latest_activity_at": ("updated_at", "pk")}


# ---------------------------------------------------------------- writing

def _raw(value, attribute: str):
    """Formattable text from a body: ``{"raw": ...}`` or plain text; None stays None."""
    if isinstance(value, dict):
        return value.get("raw")
    if value is None or isinstance(value, str):
        return value
    raise V3Error(f"{attribute} must be formattable text ({{\"raw\": \"...\"}}).", identifier="PropertyFormatError",
                  attribute=attribute)


def _status(value) -> ProjectStatus | None:
    if value is None:
        return None
    text = value.rstrip("/") if isinstance(value, str) else ""
    prefix = href("project_statuses") + "/"
    if not text.startswith(prefix):
        raise V3Error(f"For property 'status' a link like '{prefix}:id' is expected.",
                      identifier="ResourceTypeMismatch", attribute="status")
    row = ProjectStatus.objects.filter(code=text[len(prefix):]).first()
    if row is None:
        raise V3Error("The chosen status is not one of the project statuses.", attribute="status")
    return row


def project_fields(actor, body: dict, *, project: Project | None) -> tuple[dict, dict | None]:
    """Domain fields and custom values from a project body. Read-only and unknown properties are ignored, as
    OpenProject ignores them (clients send whole objects back)."""
    fields: dict = {}
    simple = {"name": "name", "identifier": "identifier", "public": "is_public", "active": "is_active",
              "startDate": "start_date"}
    for prop, field in simple.items():
        if prop in body:
            fields[field] = body[prop]
    for prop, field in (("description", "description"), ("statusExplanation", "status_explanation")):
        if prop in body:
            fields[field] = _raw(body[prop], prop)
    links = body.get("_links")
    if links is not None and not isinstance(links, dict):
        raise V3Error("_links must be an object.", identifier="PropertyFormatError", attribute="_links")
    links = links or {}
    if "parent" in links:
        parent_id = id_from_href(link_href(links["parent"], "parent"), "projects", attribute="parent")
        fields["parent"] = _visible_parent(actor, parent_id) if parent_id is not None else None
    if "status" in links:
        fields["status"] = _status(link_href(links["status"], "status"))
    renderer = CustomFieldRenderer(actor, ENTITY, [])
    custom = custom_input(body, renderer.fields_for(project_id=project.pk if project else None))
    return fields, custom


def _visible_parent(actor, parent_id: int) -> Project:
    try:
        return project_get(actor=actor, project_id=parent_id)
    except (NotFound, DomainError):
        raise V3Error("The chosen parent project is not available.", attribute="parent") from None


def _create(actor, body: dict) -> Project:
    fields, custom = project_fields(actor, body, project=None)
    if "name" not in fields:
        raise V3Error("Name can't be blank.", attribute="name")
    fields.setdefault("start_date", timezone.localdate())
    return project_create(actor=actor, custom_fields=custom, **fields)


def _update(actor, project: Project, body: dict) -> Project:
    fields, custom = project_fields(actor, body, project=project)
    if "lockVersion" in body:
        fields["lock_version"] = body["lockVersion"]
    return project_update(actor=actor, project=project, custom_fields=custom, **fields)


# ---------------------------------------------------------------- schema and form

def project_schema(actor, project: Project | None) -> dict:
    def prop(kind, name, *, required=False, writable=True, **extra):
        return {"type": kind, "name": name, "required": required, "hasDefault": False, "writable": writable,
                **extra}

    statuses = [link(href("project_statuses", s.code), s.name) for s in project_status_list(actor=actor)]
    schema = {
        "_type": "Schema", "_dependencies": [],
        "id": prop("Integer", "ID", required=True, writable=False),
        "name": prop("String", "Name", required=True, minLength=1, maxLength=255),
        "identifier": prop("String", "Identifier", required=True, minLength=1, maxLength=100),
        "description": prop("Formattable", "Description"),
        "public": prop("Boolean", "Public", required=True),
        "active": prop("Boolean", "Active", required=True),
        "status": {**prop("ProjectStatus", "Status"), "_links": {"allowedValues": statuses}},
        "statusExplanation": prop("Formattable", "Status description"),
        "parent": {**prop("Project", "Subproject of"),
                   "_links": {"allowedValues": link(href("projects", "available_parent_projects"))}},
        "startDate": prop("Date", "Start date"),
        "createdAt": prop("DateTime", "Created on", required=True, writable=False),
        "updatedAt": prop("DateTime", "Updated on", required=True, writable=False),
        "_links": {"self": link(href("projects", "schema"))},
    }
    renderer = CustomFieldRenderer(actor, ENTITY, [])
    for cf in renderer.fields_for(project_id=project.pk if project else None):
        schema[f"customField{cf.pk}"] = custom_schema(cf)
    return schema


def form_json(actor, project: Project | None, body: dict) -> dict:
    def run():
        row = _update(actor, project, body) if project is not None else _create(actor, body)
        return render_project(actor, row)

    payload, errors = dry_run(run, ATTRIBUTES)
    target = href("projects", project.pk, "form") if project else href("projects", "form")
    links = {"self": action(target, "post"), "validate": action(target, "post")}
    if not errors:
        links["commit"] = (action(href("projects", project.pk), "patch") if project
                           else action(href("projects"), "post"))
    shown = {k: v for k, v in (payload or {}).items() if k not in ("id", "createdAt", "updatedAt", "_type")}
    if payload:
        shown["_links"] = {k: v for k, v in payload["_links"].items()
                           if k in ("parent", "status") or k.startswith("customField")}
    return {"_type": "Form", "_embedded": {"payload": shown, "schema": project_schema(actor, project),
                                            "validationErrors": errors}, "_links": links}


# ---------------------------------------------------------------- views

class ProjectsView(V3View):
    attributes = ATTRIBUTES

    def get(self, request):
        rows = projects_visible(request.user).select_related("status")
        filters = parse_filters(request.query_params.get("filters"))
        rows = apply_filters(rows, filters, FILTERS, actor=request.user)
        order = parse_sort(request.query_params.get("sortBy"), SORTS) or ["pk"]
        rows = rows.order_by(*order)
        body = collection(href("projects"), request.query_params, rows,
                          render_many=lambda page: render_projects(request.user, list(page)))
        return Response(body)

    def post(self, request):
        project = _create(request.user, self.body(request))
        return Response(render_project(request.user, project), status=201)


class ProjectView(V3View):
    attributes = ATTRIBUTES

    def get(self, request, ref):
        return Response(render_project(request.user, project_for(request.user, ref)))

    def patch(self, request, ref):
        project = _update(request.user, project_for(request.user, ref), self.body(request))
        return Response(render_project(request.user, project))

    def delete(self, request, ref):
        project_delete(actor=request.user, project=project_for(request.user, ref))
        return Response(status=204)


class ProjectFormView(V3View):
    attributes = ATTRIBUTES

    def post(self, request, ref=None):
        project = project_for(request.user, ref, Action.PROJECT_UPDATE) if ref is not None else None
        return Response(form_json(request.user, project, self.body(request)))


class ProjectSchemaView(V3View):
    def get(self, request):
        return Response(project_schema(request.user, None))


class AvailableParentsView(V3View):
    """The projects a project may be moved under or created in: those where the caller may add subprojects."""

    def get(self, request):
        rows = with_my_role(projects_visible(request.user), request.user).filter(
            my_role__gte=MINIMUM_ROLE[Action.SUBPROJECT_ADD]).select_related("status").order_by("pk")
        body = collection(href("projects", "available_parent_projects"), request.query_params, rows,
                          render_many=lambda page: render_projects(request.user, list(page)))
        return Response(body)


class ProjectStatusesView(V3View):
    def get(self, request):
        return Response(plain_collection(href("project_statuses"),
                                         [status_json(s) for s in project_status_list(actor=request.user)]))


class ProjectStatusView(V3View):
    def get(self, request, code):
        if code not in ProjectStatusCode.values:   # OpenProject names a project status by its code, never an id
            raise NotFound("No such project status.", entity="project status")
        return Response(status_json(project_status_get(actor=request.user, project_status_id=code)))


PROJECT_REF = "<str:ref>"
urlpatterns = [
    path("projects", ProjectsView.as_view()),
    path("projects/form", ProjectFormView.as_view()),
    path("projects/schema", ProjectSchemaView.as_view()),
    path("projects/available_parent_projects", AvailableParentsView.as_view()),
    path(f"projects/{PROJECT_REF}", ProjectView.as_view()),
    path(f"projects/{PROJECT_REF}/form", ProjectFormView.as_view()),
    path("project_statuses", ProjectStatusesView.as_view()),
    path("project_statuses/<str:code>", ProjectStatusView.as_view()),
]
