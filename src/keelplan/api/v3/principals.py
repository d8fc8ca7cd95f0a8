"""The OpenProject v3 principals: people (``/users``), groups (``/groups``), both at once (``/principals``), and
the people a project's work may be assigned to (``/projects/{id}/available_assignees``).

Who sees whom is the domain's: ``users_visible`` reads it (see its docstring for the selector it stands in for).
A person's login and e-mail address are shown to themself and to workspace administrators only, as OpenProject
hides them from everyone else; the action links (``updateImmediately``, ``lock``, ``unlock``, ``delete``) appear
only for workspace administrators, who write people and groups. A person may also change their own name and
e-mail address (``accounts.services.user_update`` decides who changes what). Deleting people is refused, as an
OpenProject instance refuses it by default; locking an account is the way to take someone's access away.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import path, re_path
from rest_framework import status
from rest_framework.response import Response

from keelplan.accounts import services as accounts
from keelplan.accounts.models import Group, GroupAncestor, GroupMember
from keelplan.accounts.selectors import user_search
from keelplan.accounts.selectors import users_visible as accounts_users_visible
from keelplan.api.common.views import visible_row
from keelplan.api.v3.base import V3View, project_for
from keelplan.api.v3.errors import V3Error
from keelplan.api.v3.hal import (
    action, body_links, collection, filters_param, href, id_from_href, iso_datetime, link, link_href,
)
from keelplan.core.errors import InvalidInput, NotFound
from keelplan.core.filters import ChoiceFilter, CustomFilter, IntegerFilter, StringFilter, apply_filters, parse_filters
from keelplan.core.transactions import write_transaction
from keelplan.core.workspace import is_workspace_admin
from keelplan.permissions import Action, project_ids_visible, project_members_q, require
from keelplan.portfolio.models import Membership, Project

User = get_user_model()

STATUS_ACTIVE, STATUS_LOCKED = "active", "locked"
LANGUAGE = "en"
# The user properties a write may name that no PATCH changes (``_refuse_unwritable``): OpenProject changes a
# status through ``/users/{id}/lock``; Keelplan keeps no language and changes no password through this API.
USER_READ_ONLY_PROPERTIES = ("password", "status", "language")
# The properties a PATCH changes -> the ``accounts.services.user_update`` field each is.
USER_WRITABLE = {"login": "username", "email": "email", "firstName": "first_name", "lastName": "last_name"}
# Domain field -> the property a client sent it as, for error details.
USER_ATTRIBUTES = {"username": "login", "full_name": "firstName", "first_name": "firstName", "last_name": "lastName",
                   "email": "email", "password": "password", "is_admin": "admin", "workspace_role": "admin",
                   "is_active": "status", "user": "members"}
GROUP_ATTRIBUTES = {"name": "name", "parent": "parent", "user": "members", "group": "members"}


# ---------------------------------------------------------------- who is visible

def users_visible(actor):
    """The people ``actor`` may see (``accounts.selectors.users_visible``)."""
    return accounts_users_visible(actor=actor)


def user_visible(actor, pk) -> User:
    return visible_row(users_visible(actor), pk)




# ---------------------------------------------------------------- representers

def memberships_href(principal_id: int) -> str:
    """The memberships collection filtered to one principal (a person or a group)."""
    filters = filters_param([{"principal": {"operator": "=", "values": [str(principal_id)]}}])
    return f"{href('memberships')}?{urlencode({'filters': filters})}"


def name_parts(user) -> tuple[str, str]:
    """First and last name (``User.name_parts``)."""
    return user.name_parts


def user_link(user) -> dict:
    return link(href("users", user.pk), user.display_name)


def user_json(user, actor) -> dict:
    """A person as OpenProject's ``User``. ``login`` and ``email`` are left out unless the actor is that person or
    a workspace administrator."""
    admin_view = is_workspace_admin(actor)
    privileged = admin_view or user.pk == actor.pk
    first, last = name_parts(user)
    links = {
        "self": user_link(user),
        "memberships": link(memberships_href(user.pk), "Memberships"),
    }
    if user.is_active:
        links["showUser"] = link(f"/users/{user.pk}", user.display_name)
    if admin_view:
        links["updateImmediately"] = action(href("users", user.pk), "patch", title=f"Update {user.display_name}")
        # No one locks their own account (``accounts.services.user_set_active``).
        if not user.is_active:
            links["unlock"] = action(href("users", user.pk, "lock"), "delete", title=f"Unlock {user.display_name}")
        elif user.pk != actor.pk:
            links["lock"] = action(href("users", user.pk, "lock"), "post", title=f"Lock {user.display_name}")
    hidden = not privileged
    body = {
        "_type": "User",
        "id": user.pk,
        "name": user.display_name,
        "login": user.username,
        "firstName": first,
        "lastName": last,
        "email": user.email,
        "admin": user.has_admin_role,
        "status": STATUS_ACTIVE if user.is_active else STATUS_LOCKED,
        "language": LANGUAGE,
        "avatar": "",
        # Keelplan keeps no "last changed" time for people: both are when the person joined.
        "createdAt": iso_datetime(user.date_joined),
        "updatedAt": iso_datetime(user.date_joined),
        "_links": links,
    }
    if hidden:
        # Shown to the person and to workspace administrators only; left out for everyone else, as OpenProject
        # leaves them out.
        del body["login"], body["email"]
    return body


def group_json(group, actor, *, embed_members: bool = True) -> dict:
    """A group as OpenProject's ``Group``: its direct members as user links (and embedded, unless
    ``embed_members`` is false), its parent group if it has one. Read ``group.memberships`` prefetched with
    their users (``GROUP_PREFETCH``)."""
    admin_view = is_workspace_admin(actor)
    people = [row.user for row in group.memberships.all() if row.user.is_active or admin_view]
    links = {
        "self": link(href("groups", group.pk), group.name),
        "members": [user_link(person) for person in people],
        "memberships": link(memberships_href(group.pk), "Memberships"),
    }
    if group.parent_id is not None:
        links["parent"] = link(href("groups", group.parent_id), group.parent.name)
    if admin_view:
        links["updateImmediately"] = action(href("groups", group.pk), "patch", title=f"Update {group.name}")
        links["delete"] = action(href("groups", group.pk), "delete", title=f"Delete {group.name}")
    body = {"_type": "Group", "id": group.pk, "name": group.name, "createdAt": iso_datetime(group.created_at),
            "updatedAt": iso_datetime(group.updated_at), "_links": links}
    if embed_members:
        body["_embedded"] = {"members": [user_json(person, actor) for person in people]}
    return body


def principal_json(principal, actor) -> dict:
    return group_json(principal, actor) if isinstance(principal, Group) else user_json(principal, actor)


GROUP_PREFETCH = ("memberships__user",)


def groups_all():
    """Every live group (workspace rows: everyone signed in reads them), ready for ``group_json``."""
    return Group.objects.select_related("parent").prefetch_related(*GROUP_PREFETCH).order_by("id")


# ---------------------------------------------------------------- filters

def _in_projects(actor, project_ids) -> list[int]:
    """The ids among ``project_ids`` of projects the actor may see (whose members they may see)."""
    return list(Project.objects.filter(pk__in=project_ids, id__in=project_ids_visible(actor))
                .values_list("pk", flat=True))


def _users_in_projects(queryset, operator, values, actor):
    condition = Q(pk__in=[])
    for project_id in _in_projects(actor, values):
        condition |= project_members_q(project_id)
    return queryset.filter(condition if operator == "=" else ~condition)


def _groups_in_projects(queryset, operator, values, actor):
    held = Membership.objects.filter(project_id__in=_in_projects(actor, values), group__isnull=False)
    condition = Q(pk__in=held.values("group_id"))
    return queryset.filter(condition if operator == "=" else ~condition)


def _users_named(queryset, operator, values, actor):
    """``~``: each word of the value in the login, the name or (for workspace administrators, who see addresses)
    the e-mail; anyone else finds an address only whole, as ``user_search`` does."""
    condition = Q()
    for word in values[0].split()[:20]:
        if is_workspace_admin(actor):
            condition &= (Q(username__icontains=word) | Q(full_name__icontains=word)
                          | Q(first_name__icontains=word) | Q(last_name__icontains=word)
                          | Q(email__icontains=word))
        else:
            condition &= Q(pk__in=user_search(actor=actor, search=word).values("pk"))
    return queryset.filter(condition)


def _users_in_groups(queryset, operator, values, actor):
    """People in the groups, or in a group under one of them (a group's members include its subgroups')."""
    below = GroupAncestor.objects.filter(ancestor_id__in=values).values("group_id")
    condition = Q(pk__in=GroupMember.objects.filter(group_id__in=below).values("user_id"))
    return queryset.filter(condition if operator == "=" else ~condition)


def _of_type(kind: str):
    def narrow(queryset, operator, values, actor):
        wanted = (kind in values) == (operator == "=")
        return queryset if wanted else queryset.none()
    return narrow


def _groups_with_status(queryset, operator, values, actor):
    # Groups are never locked.
    return _of_type(STATUS_ACTIVE)(queryset, operator, values, actor)


USER_STATUS = ChoiceFilter("is_active", choices={STATUS_ACTIVE: True, STATUS_LOCKED: False})
USER_FILTERS = {
    "status": USER_STATUS,
    "name": CustomFilter(_users_named, operators={"~"}),
    "login": StringFilter("username", ignore_case=True, operators={"=", "!", "~"}),
    "group": CustomFilter(_users_in_groups, operators={"=", "!"}, values="id"),
    "id": IntegerFilter("id", operators={"=", "!"}),
}
PRINCIPAL_TYPES = ("User", "Group")
USER_PRINCIPAL_FILTERS = {
    "type": CustomFilter(_of_type("User"), operators={"=", "!"}, values=None),
    "name": USER_FILTERS["name"],
    "member": CustomFilter(_users_in_projects, operators={"=", "!"}, values="id"),
    "id": USER_FILTERS["id"],
    "status": USER_STATUS,
}
GROUP_PRINCIPAL_FILTERS = {
    "type": CustomFilter(_of_type("Group"), operators={"=", "!"}, values=None),
    "name": StringFilter("name", operators={"~"}),
    "member": CustomFilter(_groups_in_projects, operators={"=", "!"}, values="id"),
    "id": IntegerFilter("id", operators={"=", "!"}),
    "status": CustomFilter(_groups_with_status, operators={"=", "!"}, values=None),
}


def _check_choices(filters, name: str, choices) -> None:
    for entry in filters:
        if entry.name == name:
            for value in entry.values:
                if value not in choices:
                    raise V3Error(f"Value '{value[:40]}' of filter '{name}' is not one of: {', '.join(choices)}.",
                                  identifier="InvalidQuery", status_code=400)


# ---------------------------------------------------------------- paging two kinds at once

class Concatenation:
    """Querysets read one after another as a single sequence, so a page of principals reads only its rows."""

    def __init__(self, *parts):
        self.parts = parts
        self._counts = None

    def count(self) -> int:
        if self._counts is None:
            self._counts = [part.count() for part in self.parts]
        return sum(self._counts)

    def __getitem__(self, window: slice) -> list:
        self.count()
        start, stop, rows = window.start or 0, window.stop, []
        for part, size in zip(self.parts, self._counts):
            if stop <= 0:
                break
            if start < size:
                rows.extend(part[start:min(stop, size)])
            start, stop = max(start - size, 0), stop - size
        return rows


# ---------------------------------------------------------------- reading write bodies

def _text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise V3Error(f"{name} must be a string.", identifier="PropertyFormatError", attribute=name)
    return value


def _boolean(body: dict, name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise V3Error(f"{name} must be true or false.", identifier="PropertyFormatError", attribute=name)
    return value


def _member_users(actor, links: dict) -> list | None:
    """The people ``_links.members`` names (None when absent); each must be a person the actor may see."""
    if "members" not in links:
        return None
    entries = links["members"]
    if not isinstance(entries, list):
        raise V3Error("members must be a list of user links.", identifier="PropertyFormatError",
                      attribute="members")
    ids = [id_from_href(link_href(entry, "members"), "users", attribute="members") for entry in entries]
    found = {user.pk: user for user in users_visible(actor).filter(pk__in=[pk for pk in ids if pk])}
    people = []
    for pk in dict.fromkeys(ids):
        if pk not in found:
            raise V3Error(f"The user {pk} does not exist.", attribute="members")
        people.append(found[pk])
    return people


def _parent_group(links: dict) -> tuple[bool, Group | None]:
    if "parent" not in links:
        return False, None
    pk = id_from_href(link_href(links["parent"], "parent"), "groups", attribute="parent")
    if pk is None:
        return True, None
    parent = Group.objects.filter(pk=pk).first()
    if parent is None:
        raise V3Error(f"The group {pk} does not exist.", attribute="parent")
    return True, parent


# ---------------------------------------------------------------- users

class UserListView(V3View):
    """``GET /users``: the people the caller sees, paged and filtered; ``POST /users``: a new person (workspace
    administrators)."""

    attributes = USER_ATTRIBUTES

    def get(self, request):
        actor = request.user
        rows = apply_filters(users_visible(actor), parse_filters(request.query_params.get("filters")),
                             USER_FILTERS, actor=actor)
        return Response(collection(href("users"), request.query_params, rows, lambda u: user_json(u, actor)))

    def post(self, request):
        actor = request.user
        require(actor, Action.WORKSPACE_MANAGE)
        body = self.body(request)
        first, last = _text(body, "firstName") or "", _text(body, "lastName") or ""
        status_value = _text(body, "status")
        if status_value not in (None, STATUS_ACTIVE):
            raise V3Error("Keelplan creates active users only.", attribute="status")
        user = accounts.user_create(
            username=body.get("login"), password=body.get("password"), email=body.get("email") or "",
            full_name=f"{first} {last}".strip(), is_admin=_boolean(body, "admin") if "admin" in body else False)
        return Response(user_json(user, actor), status=status.HTTP_201_CREATED)


def _refuse_unwritable(user, actor, body: dict) -> None:
    """422 ``PropertyIsReadOnly`` for a property no PATCH changes (``USER_READ_ONLY_PROPERTIES``), unless the body
    repeats the value the person already has (clients that send the whole object back)."""
    shown = user_json(user, actor)
    for name in USER_READ_ONLY_PROPERTIES:
        if name in body and body[name] != shown.get(name):
            raise V3Error(f"Keelplan cannot change a user's {name} through this API yet.",
                          identifier="PropertyIsReadOnly", attribute=name)


class UserDetailView(V3View):
    """``GET /users/{id}`` (or ``me``); ``PATCH``: ``login``, ``email``, ``firstName``, ``lastName`` and ``admin``
    through ``accounts.services.user_update`` (a workspace administrator changes anyone; anyone else only their
    own name and e-mail address); ``DELETE``: refused with 403, as OpenProject refuses it unless an instance
    setting allows deleting users (Keelplan has no such setting). A person the caller cannot see is 404 whatever
    the method."""

    attributes = USER_ATTRIBUTES

    def person(self, request, pk):
        return request.user if pk == "me" else user_visible(request.user, pk)

    def get(self, request, pk):
        return Response(user_json(self.person(request, pk), request.user))

    def patch(self, request, pk):
        actor = request.user
        user = self.person(request, pk)
        body = self.body(request)
        if user.pk != actor.pk:
            # Someone else's record: the caller's right is checked before what the body holds.
            require(actor, Action.WORKSPACE_MANAGE)
        fields = {field: _text(body, name) for name, field in USER_WRITABLE.items() if name in body}
        if "admin" in body:
            fields["is_admin"] = _boolean(body, "admin")
        _refuse_unwritable(user, actor, body)
        user = accounts.user_update(actor=actor, user=user, **fields)
        return Response(user_json(user, actor))

    def delete(self, request, pk):
        actor = request.user
        self.person(request, pk)
        require(actor, Action.WORKSPACE_MANAGE)
        raise V3Error("Deleting users is disabled in Keelplan; lock the account instead.",
                      identifier="MissingPermission", status_code=403)


class UserLockView(V3View):
    """``POST /users/{id}/lock`` locks an account, ``DELETE`` unlocks it (workspace administrators), each answering
    the person. Locking a locked account, or unlocking an active one, changes nothing. Locking oneself or the last
    active administrator is 400 ``InvalidUserStatusTransition``, OpenProject's answer to a refused change of
    status."""

    attributes = USER_ATTRIBUTES

    def post(self, request, pk):
        return self.set_active(request, pk, active=False)

    def delete(self, request, pk):
        return self.set_active(request, pk, active=True)

    def set_active(self, request, pk, *, active: bool):
        actor = request.user
        user = user_visible(actor, pk)
        try:
            user = accounts.user_set_active(actor=actor, user=user, active=active)
        except InvalidInput as exc:
            raise V3Error(exc.message, identifier="InvalidUserStatusTransition", status_code=400) from None
        return Response(user_json(user, actor))


# ---------------------------------------------------------------- groups

def group_visible(pk) -> Group:
    group = groups_all().filter(pk=pk).first()
    if group is None:
        raise NotFound("Group not found.", entity="group")
    return group


class GroupListView(V3View):
    """``GET /groups`` (every live group, paged); ``POST /groups`` (workspace administrators)."""

    attributes = GROUP_ATTRIBUTES

    def get(self, request):
        actor = request.user
        return Response(collection(href("groups"), request.query_params, groups_all(),
                                   lambda g: group_json(g, actor)))

    def post(self, request):
        actor = request.user
        require(actor, Action.WORKSPACE_MANAGE)
        body = self.body(request)
        links = body_links(body)
        people = _member_users(actor, links) or []
        _, parent = _parent_group(links)
        with write_transaction():
            group = accounts.group_create(actor=actor, name=body.get("name"), parent=parent)
            for person in people:
                accounts.group_member_add(actor=actor, group=group, user=person)
        return Response(group_json(group_visible(group.pk), actor), status=status.HTTP_201_CREATED)


class GroupDetailView(V3View):
    """``GET /groups/{id}``; ``PATCH`` (name, parent, the whole member list) and ``DELETE`` (202) for workspace
    administrators."""

    attributes = GROUP_ATTRIBUTES

    def get(self, request, pk):
        return Response(group_json(group_visible(pk), request.user))

    def patch(self, request, pk):
        actor = request.user
        group = group_visible(pk)
        require(actor, Action.WORKSPACE_MANAGE)
        body = self.body(request)
        links = body_links(body)
        people = _member_users(actor, links)
        has_parent, parent = _parent_group(links)
        fields = {"name": body["name"]} if "name" in body else {}
        if has_parent:
            fields["parent"] = parent
        with write_transaction():
            if fields:
                accounts.group_update(actor=actor, group=group, **fields)
            if people is not None:
                current = {row.user_id: row.user for row in group.memberships.all()}
                wanted = {person.pk for person in people}
                for person in people:
                    if person.pk not in current:
                        accounts.group_member_add(actor=actor, group=group, user=person)
                for user_id, person in current.items():
                    if user_id not in wanted:
                        accounts.group_member_remove(actor=actor, group=group, user=person)
        return Response(group_json(group_visible(pk), actor))

    def delete(self, request, pk):
        actor = request.user
        group = group_visible(pk)
        accounts.group_delete(actor=actor, group=group)
        return Response(status=status.HTTP_202_ACCEPTED)


# ---------------------------------------------------------------- principals, assignees

class PrincipalListView(V3View):
    """``GET /principals``: the people the caller sees, then every group, paged as one list."""

    def get(self, request):
        actor = request.user
        filters = parse_filters(request.query_params.get("filters"))
        _check_choices(filters, "type", PRINCIPAL_TYPES)
        _check_choices(filters, "status", (STATUS_ACTIVE, STATUS_LOCKED))
        people = apply_filters(users_visible(actor), filters, USER_PRINCIPAL_FILTERS, actor=actor)
        groups = apply_filters(groups_all(), filters, GROUP_PRINCIPAL_FILTERS, actor=actor)
        return Response(collection(href("principals"), request.query_params, Concatenation(people, groups),
                                   lambda row: principal_json(row, actor)))


class AvailableAssigneesView(V3View):
    """``GET /projects/{id or identifier}/available_assignees``: the active people with a membership of the
    project, their own or through a group (``permissions.project_members_q``), paged."""

    def get(self, request, ref):
        actor = request.user
        project = project_for(actor, ref)
        rows = User.objects.filter(project_members_q(project), is_active=True).order_by("id")
        return Response(collection(href("projects", project.pk, "available_assignees"), request.query_params,
                                   rows, lambda u: user_json(u, actor)))


ID = "(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("users", UserListView.as_view()),
    re_path(r"^users/(?P<pk>me)$", UserDetailView.as_view()),
    re_path(rf"^users/{ID}$", UserDetailView.as_view()),
    re_path(rf"^users/{ID}/lock$", UserLockView.as_view()),
    path("groups", GroupListView.as_view()),
    re_path(rf"^groups/{ID}$", GroupDetailView.as_view()),
    path("principals", PrincipalListView.as_view()),
    re_path(r"^projects/(?P<ref>[A-Za-z0-9_-]{1,100})/available_assignees$", AvailableAssigneesView.as_view()),
]
