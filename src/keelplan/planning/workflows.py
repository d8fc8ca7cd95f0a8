"""Workflows: which status changes a work item of each type may make, per project role, with OpenProject's author
and assignee scopes; their writes, their reads, and the one check every status change goes through.

A row (type, old status, new status, role, scope) allows its change to an actor whose role in the work item's
project is ``role`` exactly (the highest membership reaching them, ``permissions.role_in``; Owner for workspace
administrators, who are bound like Owners): with scope ``role`` whoever they are, with ``author`` only when they
are the work item's author, with ``assignee`` only when they are its assignee (the person, as it was before the
write: assigning oneself does not open the assignee's transitions in the same write).

- A type with no rows at all is unrestricted, as every type was before workflows existed.
- Creating a work item in the workspace's default status is no transition; creating it in another status is the
  change from the default one, made by its author.
- A change of type alone is no transition: the work item keeps its status. When a write changes type and status
  together, the change is checked against the new type's workflow.

The check (``require_transition``) is called by ``services.apply_task_fields`` and ``task_create`` and by the bulk
write, which offline push goes through; so every dialect is held to it. Workflow rows are workspace rows: written
by workspace administrators, logged in the workspace stream, read by anyone signed in.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence

from django.db.models import QuerySet

from keelplan.changelog.services import Change, ChangeAction, change_record, locked_stream
from keelplan.core.errors import DomainError, ErrorCode, InvalidInput, NotFound
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Choice, Fields, Reference
from keelplan.core.workspace import is_signed_in
from keelplan.permissions import Action, ProjectAccess, require, role_in
from keelplan.planning.models import Status, WorkItem, Workflow, WorkflowScope, WorkItemType
from keelplan.portfolio.models import Role

ENTITY = "workflow"
WORKFLOW_FIELDS = ("type", "old_status", "new_status", "role", "scope")
# More transitions from one status than any workflow needs (statuses x roles x scopes), and few enough to write
# in one request.
MAX_TRANSITIONS = 10_000
WORKFLOW_INPUT = Fields(type=Reference(WorkItemType, entity="work item type"),
                        old_status=Reference(Status, entity="status"))
TRANSITION_INPUT = Fields(new_status=Reference(Status, entity="status"), role=Choice(Role),
                          scope=Choice(WorkflowScope))
_ROW_INPUT = Fields(workflow=Reference(Workflow, entity="workflow"))


# ---------------------------------------------------------------- writes

@write_transaction()
def workflow_set(*, actor, type: WorkItemType, old_status: Status,  # noqa: A002 (the domain's word)
                 transitions: Sequence) -> list[Workflow]:
    """Replace the transitions a work item of ``type`` may make from ``old_status`` (workspace administrators).

    ``transitions`` lists ``(new_status, role, scope)`` triples, or mappings with those keys (``scope`` defaults
    to ``role``); repeats count once; an empty list removes every transition from ``old_status``. Rows already
    there keep their ids; only the rows added and removed are logged. Returns the type's rows from
    ``old_status`` in the order of ``workflows_for``.
    """
    require(actor, Action.WORKSPACE_MANAGE)
    values = WORKFLOW_INPUT.clean({"type": type, "old_status": old_status})
    type, old_status = values["type"], values["old_status"]
    wanted = _clean_transitions(transitions, old_status=old_status)
    locked_stream(None)   # serialises with the other writers of workspace rows, deletes of statuses and types too
    _require_still_there(type, {old_status.pk, *(new for new, _, _ in wanted)})
    rows = Workflow.objects.filter(type_id=type.pk, old_status_id=old_status.pk)
    current = {(row.new_status_id, row.role, row.scope): row for row in rows}
    gone = [row for key, row in current.items() if key not in wanted]
    added = [Workflow(type_id=type.pk, old_status_id=old_status.pk, new_status_id=new, role=role, scope=scope)
             for new, role, scope in wanted if (new, role, scope) not in current]
    if gone:
        Workflow.objects.filter(pk__in=[row.pk for row in gone]).delete()
    for row in added:
        row.save()
    if gone or added:
        change_record(project=None, actor=actor, changes=[
            *(Change(ENTITY, row.pk, ChangeAction.DELETED) for row in gone),
            *(Change(ENTITY, row.pk, ChangeAction.CREATED, _created(row)) for row in added),
        ])
    return list(_ordered(Workflow.objects.filter(type_id=type.pk, old_status_id=old_status.pk)))


@write_transaction()
def workflow_delete(*, actor, workflow: Workflow) -> None:
    """Remove one transition (workspace administrators). Removing a type's last row leaves the type
    unrestricted."""
    require(actor, Action.WORKSPACE_MANAGE)
    workflow = _ROW_INPUT.clean({"workflow": workflow})["workflow"]
    locked_stream(None)
    deleted, _ = Workflow.objects.filter(pk=workflow.pk).delete()
    if not deleted:
        raise NotFound("No such workflow.", entity="workflow")
    change_record(project=None, actor=actor, changes=[Change(ENTITY, workflow.pk, ChangeAction.DELETED)])


def _clean_transitions(transitions, *, old_status: Status) -> dict[tuple[int, int, str], None]:
    """``transitions`` as ``(new status id, role, scope)`` keys in the order given, repeats dropped; errors name the
    entry (``transitions[2].role``)."""
    if isinstance(transitions, (str, bytes, Mapping)) or not isinstance(transitions, Sequence):
        raise InvalidInput("Must be a list of transitions.", field="transitions", code=ErrorCode.INVALID_TYPE,
                           expected="list")
    if len(transitions) > MAX_TRANSITIONS:
        raise InvalidInput(f"At most {MAX_TRANSITIONS} transitions from one status.", field="transitions",
                           code=ErrorCode.TOO_MANY, max_count=MAX_TRANSITIONS)
    wanted: dict[tuple[int, int, str], None] = {}
    for i, entry in enumerate(transitions):
        try:
            if isinstance(entry, Mapping):
                given = {"scope": WorkflowScope.ROLE.value, **entry}
            elif isinstance(entry, (list, tuple)) and len(entry) == 3:
                given = dict(zip(("new_status", "role", "scope"), entry, strict=True))
            else:
                raise InvalidInput("Must be (new status, role, scope).", code=ErrorCode.INVALID_TYPE,
                                   expected="object")
            clean = TRANSITION_INPUT.clean(given, required=("new_status", "role"))
            if clean["new_status"].pk == old_status.pk:
                raise InvalidInput(f"A transition from {old_status.name!r} goes to another status.",
                                   field="new_status", code=ErrorCode.NOT_ALLOWED)
        except DomainError as exc:
            raise exc.under(f"transitions[{i}]") from None
        wanted[(clean["new_status"].pk, int(clean["role"]), str(clean["scope"]))] = None
    return wanted


def _require_still_there(type: WorkItemType, status_ids: set[int]) -> None:  # noqa: A002
    """Under the workspace lock: the type and statuses were not deleted since they were read."""
    if not WorkItemType.objects.filter(pk=type.pk).exists():
        raise InvalidInput("No such work item type.", field="type", code=ErrorCode.INVALID_REFERENCE,
                           entity="work item type")
    missing = status_ids - set(Status.objects.filter(pk__in=status_ids).values_list("pk", flat=True))
    if missing:
        raise InvalidInput("No such status.", field="transitions", code=ErrorCode.INVALID_REFERENCE, entity="status")


def _created(row: Workflow) -> dict:
    return {"type": [None, row.type_id], "old_status": [None, row.old_status_id],
            "new_status": [None, row.new_status_id], "role": [None, row.role], "scope": [None, row.scope]}


# ---------------------------------------------------------------- reads

def _ordered(rows: QuerySet) -> QuerySet:
    return rows.order_by("type_id", "old_status_id", "new_status_id", "role", "scope")


def workflows_for(*, actor, type: WorkItemType | int | None = None,  # noqa: A002
                  old_status: Status | int | None = None, role: int | None = None) -> QuerySet:
    """Workflow rows, for anyone signed in (none for anyone else), by type, old status, new status, role and scope;
    optionally those of one ``type``, from one ``old_status``, or for one ``role``."""
    if not is_signed_in(actor):
        return Workflow.objects.none()
    rows = Workflow.objects.all()
    if type is not None:
        rows = rows.filter(type_id=getattr(type, "pk", type))
    if old_status is not None:
        rows = rows.filter(old_status_id=getattr(old_status, "pk", old_status))
    if role is not None:
        rows = rows.filter(role=int(role))
    return _ordered(rows)


def allowed_statuses(actor, work_item: WorkItem) -> list[Status]:
    """The statuses ``actor`` may give ``work_item`` by the workflow of its type, in status order: its current one
    and those the workflow lets them move it to (every status for an unrestricted type). A work item not saved
    yet starts in the default status, its author being ``actor``. Whether the actor may edit the work item at all
    is ``Action.WORK_ITEM_UPDATE``'s question, not this one's."""
    rules = TransitionRules()
    statuses = list(Status.objects.all())
    if not rules.restricts(work_item.type_id):
        return statuses
    start, author_id, assignee_id = _start(actor, work_item, rules)
    role = role_in(actor, work_item.project)
    allowed = {start}
    if role is not None:
        allowed |= {new for new, scopes in rules.transitions(work_item.type_id, start, role).items()
                    if _scope_admits(scopes, actor.pk, author_id, assignee_id)}
    return [status for status in statuses if status.pk in allowed]


def transition_allowed(actor, work_item: WorkItem, new_status: Status) -> bool:
    """Whether ``actor`` may move ``work_item`` from its stored status (the default one if it is not saved yet) to
    ``new_status`` by the workflow of its type; staying in its status is always allowed."""
    rules = TransitionRules()
    start, author_id, assignee_id = _start(actor, work_item, rules)
    return rules.allows(type_id=work_item.type_id, old_status_id=start, new_status_id=new_status.pk,
                        role=role_in(actor, work_item.project), actor_id=actor.pk, author_id=author_id,
                        assignee_id=assignee_id)


def _start(actor, work_item: WorkItem, rules: TransitionRules) -> tuple[int, int | None, int | None]:
    """Where a status change of ``work_item`` starts: (status id, author id, assignee id) as stored; for a work
    item not saved yet the default status, ``actor`` as its author and no assignee."""
    if work_item.pk is None:
        return rules.initial_status_id(), actor.pk, None
    return work_item.status_id, work_item.author_id, work_item.assignee_id


# ---------------------------------------------------------------- the check

class TransitionRules:
    """The workflow rows one request needs, read once: which types are restricted (one query), and the
    transitions from each (type, old status, role) met (one query each). A bulk write of thousands of status
    changes asks a handful of queries, not one per row."""

    def __init__(self):
        self._restricted: frozenset[int] | None = None
        self._transitions: dict[tuple[int, int, int], dict[int, frozenset[str]]] = {}
        self._initial: int | None = None

    def restricts(self, type_id: int) -> bool:
        """Whether work items of the type are held to a workflow (it has rows)."""
        if self._restricted is None:
            self._restricted = frozenset(Workflow.objects.order_by().values_list("type_id", flat=True).distinct())
        return type_id in self._restricted

    def transitions(self, type_id: int, old_status_id: int, role: int) -> dict[int, frozenset[str]]:
        """New status id -> the scopes its rows give ``role`` for leaving ``old_status_id``."""
        key = (type_id, old_status_id, int(role))
        if key not in self._transitions:
            found: dict[int, set[str]] = {}
            for new, scope in Workflow.objects.filter(type_id=type_id, old_status_id=old_status_id,
                                                      role=int(role)).values_list("new_status_id", "scope"):
                found.setdefault(new, set()).add(scope)
            self._transitions[key] = {new: frozenset(scopes) for new, scopes in found.items()}
        return self._transitions[key]

    def initial_status_id(self) -> int:
        """The status a new work item takes when none is given: ``services.default_status``'s."""
        if self._initial is None:
            from keelplan.planning.services import default_status   # services import this module

            self._initial = default_status().pk
        return self._initial

    def allows(self, *, type_id: int, old_status_id: int, new_status_id: int, role: int | None, actor_id: int,
               author_id: int | None, assignee_id: int | None) -> bool:
        if old_status_id == new_status_id or not self.restricts(type_id):
            return True
        if role is None:
            return False
        scopes = self.transitions(type_id, old_status_id, role).get(new_status_id, frozenset())
        return _scope_admits(scopes, actor_id, author_id, assignee_id)


def _scope_admits(scopes: frozenset[str], actor_id: int, author_id: int | None, assignee_id: int | None) -> bool:
    return (WorkflowScope.ROLE in scopes or (WorkflowScope.AUTHOR in scopes and author_id == actor_id)
            or (WorkflowScope.ASSIGNEE in scopes and assignee_id == actor_id))


# The rules read for each ``ProjectAccess`` (one request's rights in one project), dropped with it.
_RULES: weakref.WeakKeyDictionary[ProjectAccess, TransitionRules] = weakref.WeakKeyDictionary()


def rules_for(access: ProjectAccess) -> TransitionRules:
    rules = _RULES.get(access)
    if rules is None:
        rules = _RULES[access] = TransitionRules()
    return rules


def require_transition(access: ProjectAccess, task, *, old_status_id: int, old_assignee_id: int | None) -> None:
    """Refuse (``transition_not_allowed`` on ``status``) moving ``task`` -- its new values applied: ``type``,
    ``status`` -- from ``old_status_id`` by ``access``'s actor, unless the workflow of its type allows it.
    ``old_assignee_id``: its assignee before the write."""
    rules = rules_for(access)
    if rules.allows(type_id=task.type_id, old_status_id=old_status_id, new_status_id=task.status_id,
                    role=access.role, actor_id=access.actor.pk, author_id=task.author_id, assignee_id=old_assignee_id):
        return
    old_name = Status.objects.filter(pk=old_status_id).values_list("name", flat=True).first()
    role = Role(access.role).label if access.role is not None else "none"
    raise InvalidInput(f"The workflow of the type {task.type.name!r} does not let your role ({role}) change the "
                       f"status from {old_name!r} to {task.status.name!r}.", field="status",
                       code=ErrorCode.TRANSITION_NOT_ALLOWED)


def require_initial_status(access: ProjectAccess, task) -> None:
    """A new work item ``task`` (its author ``access``'s actor) in a status other than the default one: refused as
    ``require_transition`` refuses the change from the default status."""
    rules = rules_for(access)
    if not rules.restricts(task.type_id):
        return
    initial = rules.initial_status_id()
    if task.status_id != initial:
        require_transition(access, task, old_status_id=initial, old_assignee_id=None)


__all__ = [
    "MAX_TRANSITIONS", "TransitionRules", "allowed_statuses", "require_initial_status", "require_transition",
    "rules_for", "transition_allowed", "workflow_delete", "workflow_set", "workflows_for",
]
