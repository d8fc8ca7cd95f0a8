"""The OpenProject v3 memberships: a principal's (a person's or a group's) role in a project, read, written and
validated in OpenProject's shapes (``/memberships``, its form, schema and ``available_projects``).

OpenProject gives a membership several roles; Keelplan gives it one. A write naming several takes the highest,
and a membership is shown with its one role. Roles are Keelplan's five project roles, their ids the role values
(``/api/v3/roles/400`` is Owner). Every rule (who may add whom at which role, duplicates, the last Owner) is the
portfolio services'; this module reads links, calls them, and renders.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import path, re_path
from rest_framework import status
from rest_framework.response import Response

from keelplan.accounts.models import Group
from keelplan.api.common.views import visible_row
from keelplan.api.v3.base import V3View, dry_run
from keelplan.api.v3.errors import V3Error
from keelplan.api.v3.hal import (
    action, body_links, collection, href, id_from_href, iso_datetime, link, link_href,
)
from keelplan.api.v3.principals import GROUP_PREFETCH, group_json, user_json, users_visible
from keelplan.api.v3.projects import render_project, render_projects
from keelplan.core.filters import IntegerFilter, apply_filters, parse_filters
from keelplan.permissions import (
    MINIMUM_ROLE, Action, ProjectAccess, project_ids_visible, projects_visible, require, with_my_role,
)
from keelplan.portfolio import services as portfolio
from keelplan.portfolio.models import Membership, Role
from keelplan.portfolio.selectors import project_get

# Domain field -> the membership property a client wrote it as.
ATTRIBUTES = {"user": "principal", "group": "principal", "role": "roles", "project": "project"}
FILTERS = {
    "project": IntegerFilter("project_id", operators={"=", "!"}),
    # Users and groups have separate ids: a value matches the person and the group with that id.
    "principal": IntegerFilter("user_id", "group_id", operators={"=", "!"}),
    "role": IntegerFilter("role", operators={"=", "!"}),
}


# ---------------------------------------------------------------- representers

def role_link(role: int) -> dict:
    return link(href("roles", int(role)), Role(role).label)


def role_json(role: int) -> dict:
    return {"_type": "Role", "id": int(role), "name": Role(role).label, "_links": {"self": role_link(role)}}


def principal_link(membership) -> dict:
    if membership.group_id is not None:
        return link(href("groups", membership.group_id), membership.group.name)
    return link(href("users", membership.user_id), membership.user.display_name)


class Rights:
    """Whether the actor may manage each project's members, the role read once per project for a page of rows."""

    def __init__(self, actor):
        self.actor, self._by_project = actor, {}

    def may_manage(self, project) -> bool:
        if project.pk not in self._by_project:
            self._by_project[project.pk] = ProjectAccess(self.actor, project).can(Action.MEMBERS_MANAGE)
        return self._by_project[project.pk]


def membership_json(membership, actor, rights: Rights | None = None, projects: dict | None = None) -> dict:
    """A membership as OpenProject's ``Membership``: links to its project, principal and role, each embedded too;
    ``update``, ``updateImmediately`` and ``delete`` only where the actor may manage the project's members.
    ``projects``: the embedded projects already rendered, by id (a page renders them together)."""
    rights = rights or Rights(actor)
    projects = projects if projects is not None else {membership.project_id: render_project(actor,
                                                                                           membership.project)}
    project, self_href = membership.project, href("memberships", membership.pk)
    principal = principal_link(membership)
    links = {
        "self": link(self_href, principal["title"]),
        "schema": link(href("memberships", "schema"), "Schema"),
        "project": link(href("projects", project.pk), project.name),
        "principal": principal,
        "roles": [role_link(membership.role)],
    }
    if rights.may_manage(project):
        links["update"] = action(f"{self_href}/form", "post", title="Update membership")
        links["updateImmediately"] = action(self_href, "patch", title="Update membership")
        links["delete"] = action(self_href, "delete", title="Delete membership")
    embedded_principal = (group_json(membership.group, actor, embed_members=False) if membership.group_id
                          else user_json(membership.user, actor))
    return {
        "_type": "Membership",
        "id": membership.pk,
        "createdAt": iso_datetime(membership.created_at),
        "updatedAt": iso_datetime(membership.updated_at),
        "_links": links,
        "_embedded": {"project": projects[project.pk], "principal": embedded_principal,
                      "roles": [role_json(membership.role)]},
    }


def render_memberships(actor, rights: Rights, rows: list) -> list[dict]:
    """A page of memberships, their projects rendered once each."""
    projects = {p["id"]: p for p in render_projects(actor, list({m.project_id: m.project for m in rows}.values()))}
    return [membership_json(m, actor, rights, projects) for m in rows]


def memberships_visible(actor):
    """The live memberships of the live projects the actor sees, ready for ``membership_json``."""
    return (Membership.objects.filter(project_id__in=project_ids_visible(actor))
            .select_related("project", "user", "group__parent")
            .prefetch_related(*(f"group__{p}" for p in GROUP_PREFETCH)).order_by("id"))


def membership_visible(actor, pk) -> Membership:
    return visible_row(memberships_visible(actor), pk)


# ---------------------------------------------------------------- reading write bodies

def _required(value, attribute: str):
    if value is None:
        raise V3Error(f"{attribute.capitalize()} can't be blank.", attribute=attribute)
    return value


def read_project(actor, links: dict):
    """The project ``_links.project`` names: 422 when missing, 404 when the actor cannot see it."""
    given = _required(link_href(links.get("project"), "project"), "project")
    pk = _required(id_from_href(given, "projects", attribute="project"),
                   "project")
    return project_get(actor=actor, project_id=pk)


def read_principal(actor, links: dict) -> dict:
    """``{"user": person}`` or ``{"group": group}`` from ``_links.principal`` (``/users/{id}``, ``/groups/{id}``);
    a principal the actor cannot see reads as one that does not exist (422)."""
    target = _required(link_href(links.get("principal"), "principal"), "principal")
    kind = "groups" if isinstance(target, str) and target.startswith(href("groups") + "/") else "users"
    pk = id_from_href(target, kind, attribute="principal")
    if kind == "groups":
        found = Group.objects.filter(pk=pk).first()
    else:
        found = users_visible(actor).filter(pk=pk).first()
    if found is None:
        raise V3Error(f"The principal {target} does not exist.", attribute="principal")
    return {"group" if kind == "groups" else "user": found}


def read_role(links: dict) -> int:
    """The one role ``_links.roles`` gives: the highest of those named; none is 422 ``roles``."""
    entries = links.get("roles")
    if not isinstance(entries, list):
        raise V3Error("Roles must be a list of role links.", attribute="roles")
    roles = []
    for entry in entries:
        target = entry.get("href") if isinstance(entry, dict) else entry
        value = id_from_href(target, "roles", attribute="roles")
        if value not in Role.values:
            raise V3Error(f"The role {target} does not exist.", attribute="roles")
        roles.append(value)
    if not roles:
        raise V3Error("Roles need to be assigned.", attribute="roles")
    return max(roles)


def refuse_moved(membership, links: dict) -> None:
    """A membership's project and principal are fixed: naming another one is 422 ``PropertyIsReadOnly``."""
    current = {"project": href("projects", membership.project_id), "principal": principal_link(membership)["href"]}
    for name, value in current.items():
        if name in links and link_href(links.get(name), name) not in (None, value):
            raise V3Error(f"The {name} of a membership cannot be changed.", identifier="PropertyIsReadOnly",
                          attribute=name)


# ---------------------------------------------------------------- trying a write without keeping it

def try_write(write, attributes: dict) -> dict:
    """The property errors ``write`` meets, by property, with nothing kept (``base.dry_run``)."""
    return dry_run(write, attributes)[1]


def schema_json() -> dict:
    """What a membership has and which of its properties a client writes."""
    def prop(kind, name, *, required=True, writable=False, **more):
        return {"type": kind, "name": name, "required": required, "hasDefault": False, "writable": writable,
                **more}
    return {
        "_type": "Schema",
        "_dependencies": [],
        "id": prop("Integer", "ID"),
        "createdAt": prop("DateTime", "Created on"),
        "updatedAt": prop("DateTime", "Updated on"),
        "project": prop("Project", "Project", writable=True, location="_links", _links={
            "allowedValues": link(href("memberships", "available_projects"), "Projects")}),
        "principal": prop("Principal", "User", writable=True, location="_links", _links={
            "allowedValues": link(href("principals"), "Principals")}),
        "roles": prop("[]Role", "Roles", writable=True, location="_links", _embedded={
            "allowedValues": [role_json(role) for role in Role.values]}),
        "_links": {"self": link(href("memberships", "schema"), "Schema")},
    }


def form_json(self_href: str, commit: dict, payload: dict, errors: dict) -> dict:
    links = {"self": action(self_href, "post", title="Form"), "validate": action(self_href, "post", title="Validate")}
    if not errors:
        links["commit"] = commit
    return {"_type": "Form", "_embedded": {"payload": payload, "schema": schema_json(), "validationErrors": errors},
            "_links": links}


def payload_links(links: dict) -> dict:
    """The links of a write body as the form echoes them (hrefs only, as sent)."""
    out = {}
    for name in ("project", "principal"):
        value = links.get(name)
        out[name] = {"href": value.get("href")} if isinstance(value, dict) else {"href": None}
    roles = links.get("roles")
    out["roles"] = [{"href": r.get("href")} for r in roles if isinstance(r, dict)] if isinstance(roles, list) else []
    return {"_links": out}


# ---------------------------------------------------------------- views

class MembershipListView(V3View):
    """``GET /memberships``: every membership of the projects the caller sees, paged, filtered by ``project``,
    ``principal`` and ``role``; ``POST /memberships``: add one (the project's Owners, and workspace
    administrators)."""

    attributes = ATTRIBUTES

    def get(self, request):
        actor, rights = request.user, Rights(request.user)
        rows = apply_filters(memberships_visible(actor), parse_filters(request.query_params.get("filters")), FILTERS,
                             actor=actor)
        return Response(collection(href("memberships"), request.query_params, rows,
                                   render_many=lambda page: render_memberships(actor, rights, list(page))))

    def post(self, request):
        actor = request.user
        links = body_links(self.body(request))
        project = read_project(actor, links)
        require(actor, Action.MEMBERS_MANAGE, project)
        principal, role = read_principal(actor, links), read_role(links)
        membership = portfolio.membership_add(actor=actor, project=project, role=role, **principal)
        return Response(membership_json(membership_visible(actor, membership.pk), actor),
                        status=status.HTTP_201_CREATED)


class MembershipDetailView(V3View):
    """``GET /memberships/{id}``; ``PATCH`` its roles; ``DELETE`` it (204). A membership of a project the caller
    cannot see is 404."""

    attributes = ATTRIBUTES

    def get(self, request, pk):
        return Response(membership_json(membership_visible(request.user, pk), request.user))

    def patch(self, request, pk):
        actor = request.user
        membership = membership_visible(actor, pk)
        links = body_links(self.body(request))
        require(actor, Action.MEMBERS_MANAGE, membership.project)
        refuse_moved(membership, links)
        if "roles" in links:
            portfolio.membership_change_role(actor=actor, membership=membership, role=read_role(links))
        return Response(membership_json(membership_visible(actor, pk), actor))

    def delete(self, request, pk):
        portfolio.membership_remove(actor=request.user, membership=membership_visible(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MembershipFormView(V3View):
    """``POST /memberships/form``: a create body checked by the services in a transaction that is rolled back."""

    attributes = ATTRIBUTES

    def post(self, request):
        actor = request.user
        links = body_links(self.body(request))

        def write():
            project = read_project(actor, links)
            require(actor, Action.MEMBERS_MANAGE, project)
            portfolio.membership_add(actor=actor, project=project, role=read_role(links),
                                     **read_principal(actor, links))

        errors = try_write(write, self.attributes)
        commit = action(href("memberships"), "post", title="Create membership")
        return Response(form_json(href("memberships", "form"), commit, payload_links(links), errors))


class MembershipUpdateFormView(V3View):
    """``POST /memberships/{id}/form``: a PATCH body checked the same way."""

    attributes = ATTRIBUTES

    def post(self, request, pk):
        actor = request.user
        membership = membership_visible(actor, pk)
        links = body_links(self.body(request))

        def write():
            require(actor, Action.MEMBERS_MANAGE, membership.project)
            refuse_moved(membership, links)
            if "roles" in links:
                portfolio.membership_change_role(actor=actor, membership=membership, role=read_role(links))

        errors = try_write(write, self.attributes)
        commit = action(href("memberships", pk), "patch", title="Update membership")
        payload = {"_links": {"roles": payload_links(links)["_links"]["roles"]}}
        return Response(form_json(href("memberships", pk, "form"), commit, payload, errors))


class MembershipSchemaView(V3View):
    def get(self, request):
        return Response(schema_json())


class AvailableProjectsView(V3View):
    """``GET /memberships/available_projects``: the projects whose members the caller may manage, paged."""

    def get(self, request):
        actor = request.user
        minimum = MINIMUM_ROLE[Action.MEMBERS_MANAGE]
        rows = with_my_role(projects_visible(actor), actor).filter(Q(my_role__gte=minimum)).order_by("id")
        return Response(collection(href("memberships", "available_projects"), request.query_params, rows,
                                   render_many=lambda page: render_projects(actor, list(page))))


ID = "(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("memberships", MembershipListView.as_view()),
    path("memberships/form", MembershipFormView.as_view()),
    path("memberships/schema", MembershipSchemaView.as_view()),
    path("memberships/available_projects", AvailableProjectsView.as_view()),
    re_path(rf"^memberships/{ID}$", MembershipDetailView.as_view()),
    re_path(rf"^memberships/{ID}/form$", MembershipUpdateFormView.as_view()),
]
