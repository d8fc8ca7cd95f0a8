"""Relations in the OpenProject v3 dialect, over ``planning.relations``.

A finish-to-start link is OpenProject's ``follows``/``precedes``, shown as OpenProject stores it: ``follows``,
``from`` the successor ``to`` the predecessor, ``lag`` in working days. Every other relation (``relates``,
``duplicates``, ``blocks``, ``includes``, ``requires``) shows in its stored direction. Start-to-start,
finish-to-finish and start-to-finish links (made through the v1 dialect) have no OpenProject name and are not
shown here.

Routes: ``/relations`` (list with filters ``id``, ``from``, ``to``, ``involved``, ``type``; POST with
``_links.from`` and ``_links.to``, as openproject-api-client sends it), ``/relations/<id>`` (GET, PATCH, DELETE),
``/work_packages/<id>/relations`` (a 200 collection rather than OpenProject's redirect, and POST with ``to`` in
``_links`` or at the top level, as pyopenproject sends it).
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import path
from rest_framework.response import Response

from keelplan.api.common.views import visible_row
from keelplan.api.v3.base import V3View
from keelplan.api.v3.errors import V3Error
from keelplan.api.v3.hal import action, collection, href, id_from_href, link
from keelplan.api.v3.work_packages import render_work_packages, work_package_for, work_package_rows
from keelplan.core.errors import NotFound
from keelplan.core.filters import CustomFilter, IntegerFilter, apply_filters, parse_filters, parse_sort
from keelplan.permissions import MINIMUM_ROLE, Action, with_my_role
from keelplan.planning.models import INVERSES, Dependency, DependencyType, LagUnit, RelationType
from keelplan.planning.relations import KINDS, relation_create, relation_delete, relation_list, relation_update
from keelplan.portfolio.models import Project

SHOWN_TYPES = (DependencyType.FS, *RelationType.values)
# OpenProject's names of each stored kind, read from its ``from`` end, and the reverse.
NAMES = {DependencyType.FS: ("follows", "precedes"),
         **{kind: (kind, INVERSES[kind]) for kind in RelationType.values}}
TITLES = {"relates": "related to", "duplicates": "duplicates", "duplicated": "duplicated by",
          "blocks": "blocks", "blocked": "blocked by", "precedes": "precedes", "follows": "follows",
          "includes": "includes", "partof": "part of", "requires": "requires", "requiredby": "required by"}
# OpenProject also spells ``requiredby`` ``required``.
ALIASES = {"required": "requiredby"}


def _ends(row: Dependency) -> tuple[int, int]:
    """``(from, to)`` as OpenProject shows the row: a scheduling link from its successor."""
    if row.dep_type == DependencyType.FS:
        return row.successor_id, row.predecessor_id
    return row.predecessor_id, row.successor_id


def relation_rows(actor):
    """The relations the caller may see, those with an OpenProject name."""
    return (relation_list(actor=actor).filter(dep_type__in=SHOWN_TYPES)
            .select_related("predecessor", "successor", "project"))


class RelationRenderer:
    def __init__(self, actor, rows: list[Dependency]):
        self.actor = actor
        ends = {pk for row in rows for pk in _ends(row)}
        packages = list(work_package_rows(actor).filter(pk__in=ends))
        self.packages = {p["id"]: p for p in render_work_packages(actor, packages)}
        self.roles = dict(with_my_role(Project.objects.filter(pk__in={r.project_id for r in rows}), actor)
                          .values_list("pk", "my_role"))

    def render(self, row: Dependency) -> dict:
        start, end = _ends(row)
        name, reverse = NAMES[row.dep_type]
        first, second = self.packages.get(start), self.packages.get(end)
        links = {
            "self": link(href("relations", row.pk), TITLES[name]),
            "from": link(href("work_packages", start), first["subject"] if first else str(start)),
            "to": link(href("work_packages", end), second["subject"] if second else str(end)),
        }
        role = self.roles.get(row.project_id)
        if role is not None and role >= MINIMUM_ROLE[Action.RELATION_MANAGE]:
            links["update"] = action(href("relations", row.pk), "patch")
            links["updateImmediately"] = action(href("relations", row.pk), "patch")
            links["delete"] = action(href("relations", row.pk), "delete")
        body = {"_type": "Relation", "id": row.pk, "name": TITLES[name], "type": name, "reverseType": reverse,
                "description": row.description or None,
                "lag": row.lag if row.dep_type == DependencyType.FS else None, "_links": links}
        if first and second:
            body["_embedded"] = {"from": first, "to": second}
        return body


def render_relations(actor, rows: list[Dependency]) -> list[dict]:
    renderer = RelationRenderer(actor, rows)
    return [renderer.render(row) for row in rows]


def relation_for(actor, pk) -> Dependency:
    return visible_row(relation_rows(actor), pk)


def _ids_filter(field_for):
    def apply(queryset, operator, values, actor):
        condition = Q()
        for value in values:
            condition |= field_for(value)
        return queryset.filter(condition) if operator == "=" else queryset.exclude(condition)
    return apply


def _from(pk):
    return Q(dep_type=DependencyType.FS, successor_id=pk) | (~Q(dep_type=DependencyType.FS) & Q(predecessor_id=pk))


def _to(pk):
    return Q(dep_type=DependencyType.FS, predecessor_id=pk) | (~Q(dep_type=DependencyType.FS) & Q(successor_id=pk))


def _type_filter(queryset, operator, values, actor):
    condition = Q()
    for value in values:
        name = ALIASES.get(value, value)
        if name not in KINDS:
            raise V3Error(f"Unknown relation type '{value[:40]}'.", identifier="InvalidQuery", status_code=400)
        kind, _ = KINDS[name]
        condition |= Q(dep_type=kind)
    return queryset.filter(condition) if operator == "=" else queryset.exclude(condition)


FILTERS = {
    "id": IntegerFilter("pk", operators={"=", "!"}),
    "from": CustomFilter(_ids_filter(_from), operators={"=", "!"}, values="id"),
    "to": CustomFilter(_ids_filter(_to), operators={"=", "!"}, values="id"),
    "involved": CustomFilter(_ids_filter(lambda pk: Q(predecessor_id=pk) | Q(successor_id=pk)),
                             operators={"=", "!"}, values="id"),
    "type": CustomFilter(_type_filter, operators={"=", "!"}, values="string"),
}
SORTS = {"id": "pk"}


def _listing(request, rows, path_: str) -> dict:
    rows = apply_filters(rows, parse_filters(request.query_params.get("filters")), FILTERS, actor=request.user)
    order = parse_sort(request.query_params.get("sortBy"), SORTS) or ["pk"]
    return collection(path_, request.query_params, rows.order_by(*order),
                      render_many=lambda page: render_relations(request.user, list(page)))


# ---------------------------------------------------------------- writing

def _end(actor, body: dict, name: str):
    """The work package a body names as ``from`` or ``to``: ``_links.<name>`` or a top-level ``<name>`` link.
    One the caller may not see is refused like one that does not exist (422 naming it)."""
    links = body.get("_links") if isinstance(body.get("_links"), dict) else {}
    given = links.get(name, body.get(name))
    if not isinstance(given, dict) or not given.get("href"):
        raise V3Error(f"{name.capitalize()} can't be blank.", attribute=name)
    pk = id_from_href(given["href"], "work_packages", attribute=name)
    try:
        return work_package_for(actor, pk)
    except NotFound:
        raise V3Error(f"The work package named as '{name}' does not exist.", attribute=name) from None


def _type(body: dict) -> str:
    value = body.get("type")
    if not isinstance(value, str) or ALIASES.get(value, value) not in KINDS:
        raise V3Error("Type is not one of the relation types.", attribute="type")
    return ALIASES.get(value, value)


def _description(body: dict):
    value = body.get("description", "")
    if isinstance(value, dict):
        value = value.get("raw")
    return "" if value is None else value


def _lag(body: dict) -> int:
    value = body.get("lag")
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise V3Error("Lag must be a whole number of working days.", identifier="PropertyFormatError",
                      attribute="lag")
    return value


def _attributes(kind_name: str) -> dict:
    """Domain fields as this relation's properties: a scheduling link's ends depend on its direction."""
    _, swapped = KINDS[kind_name]
    ends = {"predecessor": "to", "successor": "from"} if swapped else {"predecessor": "from", "successor": "to"}
    return {**ends, "from_item": "from", "to_item": "to", "dep_type": "type", "type": "type", "lag": "lag",
            "lag_unit": "lag", "description": "description"}


def create_relation(view, actor, body: dict, *, from_item=None) -> Response:
    kind = _type(body)
    view.attributes = _attributes(kind)
    start = from_item or _end(actor, body, "from")
    end = _end(actor, body, "to")
    row = relation_create(actor=actor, from_item=start, to_item=end, type=kind, description=_description(body),
                          lag=_lag(body), lag_unit=LagUnit.WORKING_DAYS, mode_follows_links=True)
    return Response(render_relations(actor, [relation_for(actor, row.pk)])[0], status=201)


class RelationsView(V3View):
    def get(self, request):
        return Response(_listing(request, relation_rows(request.user), href("relations")))

    def post(self, request):
        return create_relation(self, request.user, self.body(request))


class RelationView(V3View):
    def get(self, request, pk):
        return Response(render_relations(request.user, [relation_for(request.user, pk)])[0])

    def patch(self, request, pk):
        row = relation_for(request.user, pk)
        body = self.body(request)
        current = render_relations(request.user, [row])[0]
        links = body.get("_links") if isinstance(body.get("_links"), dict) else {}
        for end in ("from", "to"):
            given = links.get(end, body.get(end))
            if isinstance(given, dict) and given.get("href") not in (None, current["_links"][end]["href"]):
                raise V3Error(f"{end.capitalize()} cannot be changed.", identifier="PropertyIsReadOnly",
                              attribute=end)
        fields = {}
        if "type" in body and body["type"] != current["type"]:
            fields["type"] = _type(body)
            if row.dep_type == DependencyType.FS and fields["type"] in ("follows", "precedes"):
                # Shown from its successor, a link's name is the reverse of the one the domain reads from its
                # predecessor: asking for "precedes" here turns the link round.
                fields["type"] = "follows" if fields["type"] == "precedes" else "precedes"
        if "description" in body and _description(body) != (current["description"] or ""):
            fields["description"] = _description(body)
        if "lag" in body and body["lag"] != current["lag"]:
            fields["lag"] = _lag(body)
        self.attributes = _attributes(fields.get("type", current["type"]))
        if fields:
            relation_update(actor=request.user, relation=row, **fields)
        return Response(render_relations(request.user, [relation_for(request.user, pk)])[0])

    def delete(self, request, pk):
        relation_delete(actor=request.user, relation=relation_for(request.user, pk))
        return Response(status=204)


class WorkPackageRelationsView(V3View):
    def get(self, request, pk):
        package = work_package_for(request.user, pk)
        rows = relation_rows(request.user).filter(Q(predecessor=package) | Q(successor=package))
        return Response(_listing(request, rows, href("work_packages", package.pk, "relations")))

    def post(self, request, pk):
        package = work_package_for(request.user, pk)
        return create_relation(self, request.user, self.body(request), from_item=package)


urlpatterns = [
    path("relations", RelationsView.as_view()),
    path("relations/<id:pk>", RelationView.as_view()),
    path("work_packages/<id:pk>/relations", WorkPackageRelationsView.as_view()),
]
