"""``group.*``: groups are the workspace's tree of people (``accounts.Group``, principals that may hold a project
membership) and, assigned to a company, project or task, its report categories (``portfolio.categories``).
Workspace administrators write them; everyone signed in reads them.

Beebole's clients type a group's ``parent`` as ``{"id": <integer>}``, so a top-level group's parent is
``{"id": 0}``, the top of the tree; ``0`` is read back the same way (no parent) when a group is created or
moved."""

from __future__ import annotations

from django.db.models import Count, Q

from keelplan.accounts import services as accounts
from keelplan.accounts.models import Group, User
from keelplan.accounts.selectors import users_visible
from keelplan.api.beebole.calls import Fields
from keelplan.api.beebole.errors import BeeboleError
from keelplan.api.beebole.registry import Call, service
from keelplan.api.beebole.services.common import (
    company_named, email_shown, group_named, person_named, project_named, refusals, subproject_named, task_named,
)
from keelplan.permissions import project_ids_visible
from keelplan.portfolio import categories

# The parent id that means "none": the top of the tree.
TOP = 0


def counted(queryset):
    """Groups annotated with ``child_count``: their live subgroups."""
    return queryset.annotate(child_count=Count("children", filter=Q(children__deleted_at__isnull=True)))


def group_item(group) -> dict:
    """A group in a list: ``{id, name, groups: {count}}``."""
    return {"id": group.pk, "name": group.name, "groups": {"count": group.child_count}}


def groups_json(groups) -> list[dict]:
    rows = counted(Group.objects.filter(pk__in=[g.pk for g in groups])).order_by("name", "id")
    return [group_item(g) for g in rows]


def _parent(call: Call, body: Fields) -> Group | None:
    if not body.has("parent") or body.data["parent"] is None:
        return None
    pk = Fields(body.data, body.path).object("parent").integer("id")
    if pk == TOP:
        return None
    if pk < 0:
        raise BeeboleError(f"Invalid field {body.where('parent.id')}: an id is a positive integer.")
    return group_named(call, pk, body.where("parent"))


@service("group.create")
def group_create(call: Call) -> dict:
    body = call.section("group", unwrapped=True)
    name = body.text("name")
    parent = _parent(call, body)
    with refusals("group"):
        group = accounts.group_create(actor=call.actor, name=name, parent=parent)
    return {"id": group.pk}


@service("group.get")
def group_get(call: Call) -> dict:
    group = group_named(call, call.body.id("id"))
    return {"group": {"id": group.pk, "name": group.name, "parent": {"id": group.parent_id or TOP}}}


@service("group.update")
def group_update(call: Call) -> dict:
    body = call.section("group")
    group = group_named(call, body.id("id"), body.where("id"))
    fields = {}
    if body.has("name"):
        fields["name"] = body.text("name")
    if body.has("parent"):
        fields["parent"] = _parent(call, body)
    with refusals("group"):
        accounts.group_update(actor=call.actor, group=group, **fields)
    return {}


@service("group.delete")
def group_delete(call: Call) -> dict:
    """Delete a group. Without ``force`` a group still assigned (to a company, project or task, as a project
    member, or holding people) is refused; with it those assignments go too."""
    group = group_named(call, call.body.id("id"))
    force = call.body.boolean("force", required=False) or False
    with refusals("group"):
        accounts.group_delete(actor=call.actor, group=group, force=force)
    return {}


# What ``group.list`` may be asked about, and how to find each kind.
LISTED = {"company": company_named, "project": project_named, "subproject": subproject_named,
          "task": task_named, "person": person_named}


@service("group.list")
def group_list(call: Call) -> dict:
    """The groups assigned to one row: ``{"project": {"id": 5}}`` (or the bare ``{"project": 5}`` the
    ``beebole`` package sends)."""
    given = [key for key in LISTED if call.body.has(key)] + (["absence"] if call.body.has("absence") else [])
    if len(given) != 1:
        raise BeeboleError("Missing field: name one of company, project, subproject, task or person, as "
                           "{\"project\": {\"id\": 1}}.")
    key = given[0]
    if key == "absence":
        raise BeeboleError("Unknown absence: Keelplan has no absences.")
    row = LISTED[key](call, call.body.ref(key, bare=True), key)
    return {"groups": groups_json(assigned_groups(row))}


def assigned_groups(row) -> list[Group]:
    """The groups on a row: a person's are the groups they are in; a company's, project's or task's the
    categories assigned to it."""
    if isinstance(row, User):
        return list(Group.objects.filter(memberships__user=row))
    return categories.groups_assigned(row)


@service("group.assignments")
def group_assignments(call: Call) -> dict:
    group = group_named(call, call.body.id("id"))
    found = categories.group_assignments(group)
    visible = project_ids_visible(call.actor)
    projects = found["projects"].filter(pk__in=visible).order_by("id")
    people = group.memberships.filter(user__in=users_visible(actor=call.actor)).select_related("user").order_by(
        "user_id")

    def item(row) -> dict:
        return {"id": row.pk, "name": row.name, "active": row.is_active}

    return {
        "companies": [item(c) for c in found["companies"].order_by("id")],
        "projects": [item(p) for p in projects if p.parent_id is None],
        "subprojects": [item(p) for p in projects if p.parent_id is not None],
        "tasks": [item(a) for a in found["activities"].order_by("id")],
        "people": [{"id": m.user.pk, "name": m.user.display_name, "active": m.user.is_active,
                    "email": email_shown(m.user, call.actor)} for m in people],
        "absences": [],
    }


@service("group.tree")
def group_tree(call: Call) -> dict:
    """Every group, as a tree: ``{"groups": [{id, name, groups: [...]}]}``."""
    rows = list(Group.objects.order_by("name", "id").values("id", "name", "parent_id"))
    children: dict[int | None, list[dict]] = {}
    for row in rows:
        children.setdefault(row["parent_id"], []).append(row)

    def node(row: dict) -> dict:
        return {"id": row["id"], "name": row["name"], "groups": [node(c) for c in children.get(row["id"], [])]}

    return {"groups": [node(r) for r in children.get(None, [])]}
