"""Relations between work items as OpenProject names them: ``precedes``/``follows`` are scheduling links (the
dependency services make and check them, and the project reschedules), every other kind (``relates``,
``duplicates``/``duplicated``, ``blocks``/``blocked``, ``includes``/``partof``, ``requires``/``requiredby``) is a
``Dependency`` row that does not schedule: the scheduler, the cycle checks, the v1 dialect and offline sync never
see it (``Dependency.objects`` holds only scheduling links), and its changes are logged as ``relation`` events.

A relation is stored one way round, in its ``RelationType`` direction; an inverse name given to
:func:`relation_create` swaps the ends. ``relates`` reads the same both ways, so A relates B and B relates A are
one relation.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, project_write_lock, row_save_changes, snapshot,
)
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Choice, Fields, Integer, Reference, Text
from keelplan.permissions import Action, ProjectAccess, can, project_ids_visible, require
from keelplan.planning.models import INVERSES, Dependency, DependencyType, LagUnit, RelationType, WorkItem
from keelplan.planning.services import (
    LAG_LIMITS, MAX_LINK_DESCRIPTION, RELATION_ENTITY, dependency_create, dependency_delete, dependency_update,
    save_link, validate_link_ends,
)

RELATION_FIELDS = ("predecessor", "successor", "dep_type", "description")
# Every name a relation may be given: ``name -> (stored type, ends swapped)``. ``precedes`` is a finish-to-start
# link from ``from`` to ``to``; ``follows`` the same link read from its successor.
KINDS: dict[str, tuple[str, bool]] = {
    "precedes": (DependencyType.FS, False), "follows": (DependencyType.FS, True),
    **{kind.value: (kind.value, False) for kind in RelationType},
    **{inverse: (kind.value, True) for kind, inverse in INVERSES.items() if inverse != kind.value},
}
RELATION_INPUT = Fields(
    from_item=Reference(WorkItem, entity="work item"), to_item=Reference(WorkItem, entity="work item"),
    type=Choice(tuple(KINDS)), description=Text(MAX_LINK_DESCRIPTION, blank=True, strip=False),
    lag=Integer(-max(LAG_LIMITS.values()), max(LAG_LIMITS.values())), lag_unit=Choice(LagUnit),
)


def relation_name(relation: Dependency, *, seen_from: int | None = None) -> str:
    """The relation's name read from the work item ``seen_from`` (default: its ``from`` end, the predecessor):
    ``precedes``/``follows`` for a finish-to-start link, the inverse name from the other end of a relation.
    Other scheduling links (SS, FF, SF) answer their type."""
    reverse = seen_from is not None and seen_from == relation.successor_id
    if relation.dep_type == DependencyType.FS:
        return "follows" if reverse else "precedes"
    if relation.schedules:
        return relation.dep_type
    return INVERSES[relation.dep_type] if reverse else relation.dep_type


# ---------------------------------------------------------------- reads

def relation_list(*, actor) -> QuerySet:
    """Every live relation and scheduling link in the projects ``actor`` may see."""
    return Dependency.relations.filter(project_id__in=project_ids_visible(actor))


def relations_of(*, actor, work_item: WorkItem) -> QuerySet:
    """The live relations and links with ``work_item`` at either end (none if its project is not visible)."""
    return relation_list(actor=actor).filter(Q(predecessor=work_item) | Q(successor=work_item))


def relation_get(*, actor, pk) -> Dependency:
    row = relation_list(actor=actor).filter(pk=pk).first() if isinstance(pk, int) or str(pk).isdigit() else None
    if row is None:
        raise NotFound("Relation not found.", entity="relation")
    return row


# ---------------------------------------------------------------- writes

def _ends(values: dict, swapped: bool) -> tuple[WorkItem, WorkItem]:
    first, second = values["from_item"], values["to_item"]
    return (second, first) if swapped else (first, second)


def _require_new(project_id: int, predecessor: WorkItem, successor: WorkItem, kind: str, *, exclude=None) -> None:
    pair = Q(predecessor=predecessor, successor=successor)
    if kind == RelationType.RELATES:
        pair |= Q(predecessor=successor, successor=predecessor)
    rows = Dependency.relations.filter(pair, project_id=project_id, dep_type=kind)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    if rows.exists():
        raise Conflict("These two work items are already related this way.", field="to_item",
                       code=ErrorCode.DUPLICATE_DEPENDENCY)


@write_transaction()
def relation_create(*, actor, from_item: WorkItem, to_item: WorkItem, type: str, description: str = "",
                    lag: int = 0, lag_unit: str = LagUnit.WORKING_DAYS, mode_follows_links: bool = False) -> Dependency:
    """Relate two work items of one project (Scheduler or above). ``precedes`` and ``follows`` make a
    finish-to-start link through ``dependency_create`` (with ``lag`` and ``mode_follows_links``); any other kind
    makes a relation, which takes no lag. Self-relations, cross-project relations and duplicates are refused."""
    values = RELATION_INPUT.clean({"from_item": from_item, "to_item": to_item, "type": type,
                                   "description": description, "lag": lag, "lag_unit": lag_unit})
    kind, swapped = KINDS[values["type"]]
    predecessor, successor = _ends(values, swapped)
    project = values["from_item"].project
    access = ProjectAccess(actor, project)
    for field, item in (("from_item", values["from_item"]), ("to_item", values["to_item"])):
        # Whether a work item exists is told only to those who may see its project.
        if not (access.visible if item.project_id == project.pk else can(actor, Action.PROJECT_VIEW, item.project)):
            raise InvalidInput("The work item does not exist.", field=field, code=ErrorCode.INVALID_REFERENCE,
                               entity="work item")
    if kind in DependencyType.values:
        return dependency_create(actor=actor, predecessor=predecessor, successor=successor, dep_type=kind,
                                 lag=values["lag"], lag_unit=values["lag_unit"], description=values["description"],
                                 mode_follows_links=mode_follows_links)
    if values["lag"]:
        raise InvalidInput("Only a precedes or follows relation takes a lag.", field="lag",
                           code=ErrorCode.NOT_ALLOWED)
    access.require(Action.RELATION_MANAGE, project)
    validate_link_ends(predecessor, successor)
    project_write_lock(project)
    _require_new(project.pk, predecessor, successor, kind)
    relation = Dependency(project=project, predecessor=predecessor, successor=successor, dep_type=kind,
                          description=values["description"], created_by=actor)
    save_link(relation)
    change_record(project=project, actor=actor, changes=[
        Change(RELATION_ENTITY, relation.pk, ChangeAction.CREATED, diff({}, snapshot(relation, RELATION_FIELDS)))
    ])
    return relation


@write_transaction()
def relation_update(*, actor, relation: Dependency, lock_version: int | None = None, **fields) -> Dependency:
    """Change a relation's kind or description (Scheduler or above); a scheduling link's description, type and
    lag go through ``dependency_update``. A relation cannot become a scheduling link or the other way round:
    the v1 dialect and offline clients would see a row appear or vanish under its id."""
    if fields.keys() & {"from_item", "to_item"}:
        raise InvalidInput("A relation's work items cannot change; delete it and create another.",
                           field="from_item" if "from_item" in fields else "to_item", code=ErrorCode.NOT_ALLOWED)
    values = RELATION_INPUT.clean(fields)
    if "type" in values:
        kind, swapped = KINDS[values["type"]]
        if (kind in DependencyType.values) != relation.schedules:
            raise InvalidInput("A relation cannot become a scheduling link or the other way round; delete it and "
                               "create the other kind.", field="type", code=ErrorCode.NOT_ALLOWED)
    if relation.schedules:
        link = {"description": values["description"]} if "description" in values else {}
        if "lag" in values:
            link["lag"] = values["lag"]
        if "lag_unit" in values:
            link["lag_unit"] = values["lag_unit"]
        if "type" in values:
            kind, swapped = KINDS[values["type"]]
            link["dep_type"] = kind
            if swapped:
                link.update(predecessor=relation.successor, successor=relation.predecessor)
        return dependency_update(actor=actor, dependency=relation, lock_version=lock_version, **link)
    if values.get("lag"):
        raise InvalidInput("Only a precedes or follows relation takes a lag.", field="lag",
                           code=ErrorCode.NOT_ALLOWED)
    project = relation.project
    require(actor, Action.RELATION_MANAGE, project)
    project_write_lock(project)
    relation = Dependency.relations.select_for_update().filter(pk=relation.pk).first()
    if relation is None:
        raise NotFound("Relation not found.", entity="relation")
    check_lock_version(relation, lock_version)
    before = snapshot(relation, RELATION_FIELDS)
    if "description" in values:
        relation.description = values["description"]
    if "type" in values:
        kind, swapped = KINDS[values["type"]]
        relation.dep_type = kind
        if swapped:
            relation.predecessor, relation.successor = relation.successor, relation.predecessor
        _require_new(project.pk, relation.predecessor, relation.successor, kind, exclude=relation.pk)
    row_save_changes(relation, before, RELATION_FIELDS, entity=RELATION_ENTITY, project=project, actor=actor,
                     save=lambda: save_link(relation))
    return relation


@write_transaction()
def relation_delete(*, actor, relation: Dependency) -> None:
    """Soft-delete a relation (Scheduler or above); a scheduling link through ``dependency_delete``."""
    if relation.schedules:
        return dependency_delete(actor=actor, dependency=relation)
    project = relation.project
    require(actor, Action.RELATION_MANAGE, project)
    project_write_lock(project)
    if not Dependency.relations.filter(pk=relation.pk).soft_delete():
        raise NotFound("Relation not found.", entity="relation")
    change_record(project=project, actor=actor, changes=[Change(RELATION_ENTITY, relation.pk, ChangeAction.DELETED)])
