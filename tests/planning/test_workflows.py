"""Workflows: which status changes a work item of a type may make, per project role, with the author and assignee
scopes; written by workspace administrators only, logged in the workspace stream, read by anyone signed in, and
enforced on every status change -- the single-row services, the bulk write and offline push."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from keelplan.planning.bulk import tasks_bulk_apply
from keelplan.planning.models import Status, WorkItem, Workflow, WorkflowScope, WorkItemType
from keelplan.planning.reference import status_delete, work_item_type_delete
from keelplan.planning.services import task_create, task_update
from keelplan.planning.workflows import (
    MAX_TRANSITIONS, allowed_statuses, transition_allowed, workflow_delete, workflow_set, workflows_for,
)
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add
from keelplan.sync.push import PushRow, sync_push

from conftest import make_project, make_user

ROLE, AUTHOR, ASSIGNEE = WorkflowScope.ROLE, WorkflowScope.AUTHOR, WorkflowScope.ASSIGNEE


def status(code: str) -> Status:
    return Status.objects.get(code=code)


def kind(code: str) -> WorkItemType:
    return WorkItemType.objects.get(code=code)


def workflow_rows() -> list[tuple]:
    return sorted(Workflow.objects.values_list("id", "type_id", "old_status_id", "new_status_id", "role", "scope"))


def workspace_events(entity: str = "workflow") -> list[ChangeEvent]:
    return list(ChangeEvent.objects.filter(stream__key="workspace", entity=entity).order_by("seq"))


def work_items() -> list[dict]:
    return list(WorkItem.all_objects.order_by("id").values())


# ---------------------------------------------------------------- people, a project and its workflow

@pytest.fixture
def keeper(db):
    """A workspace administrator who is no member of ``site``: bound like an Owner there."""
    return make_user("keeper", workspace_admin=True)


@pytest.fixture
def boss(db):
    """The Owner of ``site``, not a workspace administrator."""
    return make_user("boss")


@pytest.fixture
def site(boss):
    return make_project(boss, name="Site")


@pytest.fixture
def crew(boss, site):
    """Members of ``site`` by name: two Admins, two Members, a Scheduler and a Viewer (and the Owner)."""
    people = {"owner": boss}
    for name, role in (("admin", Role.ADMIN), ("admin2", Role.ADMIN), ("member", Role.MEMBER),
                       ("member2", Role.MEMBER), ("scheduler", Role.SCHEDULER), ("viewer", Role.VIEWER)):
        people[name] = make_user(f"site-{name}")
        membership_add(actor=boss, project=site, user=people[name], role=role)
    return people


# From "Not started", a Task may go to: In progress (Members and Admins), Review (an Admin who wrote it), On hold
# (an Admin or a Member it is assigned to), Complete (Owners). Nothing leaves any other status.
TASK_FLOW = [
    ("IN_PROGRESS", Role.MEMBER, ROLE), ("IN_PROGRESS", Role.ADMIN, ROLE), ("REVIEW", Role.ADMIN, AUTHOR),
    ("ON_HOLD", Role.ADMIN, ASSIGNEE), ("ON_HOLD", Role.MEMBER, ASSIGNEE), ("COMPLETE", Role.OWNER, ROLE),
]


@pytest.fixture
def flow(keeper):
    return workflow_set(actor=keeper, type=kind("task"), old_status=status("NOT_STARTED"),
                        transitions=[(status(new), role, scope) for new, role, scope in TASK_FLOW])


@pytest.fixture
def items(site, crew, flow):
    """Tasks in "Not started": ``dig`` written by the first Admin and assigned to the first Member, ``fill``
    written by the Owner and assigned to the first Admin; ``log``, a Bug (a type with no workflow), written by
    the Owner and assigned to the first Member."""
    return {
        "dig": task_create(actor=crew["admin"], project=site, name="Dig", assignee=crew["member"]),
        "fill": task_create(actor=crew["owner"], project=site, name="Fill", assignee=crew["admin"]),
        "log": task_create(actor=crew["owner"], project=site, name="Log", type=kind("bug"), assignee=crew["member"]),
    }


def actor_named(name: str, crew, keeper):
    return keeper if name == "keeper" else crew[name]


# ---------------------------------------------------------------- writing workflows

def test_workflow_set_writes_each_transition_and_logs_it_in_the_workspace_stream(keeper):
    rows = workflow_set(actor=keeper, type=kind("task"), old_status=status("NOT_STARTED"), transitions=[
        (status("IN_PROGRESS"), Role.MEMBER, "role"), (status("REVIEW"), Role.ADMIN, "author")])
    assert [(r.type.code, r.old_status.code, r.new_status.code, r.role, r.scope) for r in rows] == [
        ("task", "NOT_STARTED", "IN_PROGRESS", Role.MEMBER, "role"),
        ("task", "NOT_STARTED", "REVIEW", Role.ADMIN, "author")]
    events = workspace_events()
    assert [(e.entity_id, e.action) for e in events] == [(rows[0].pk, "created"), (rows[1].pk, "created")]
    assert events[1].changes == {"type": [None, kind("task").pk], "old_status": [None, status("NOT_STARTED").pk],
                                 "new_status": [None, status("REVIEW").pk], "role": [None, Role.ADMIN],
                                 "scope": [None, "author"]}
    assert not ChangeEvent.objects.filter(entity="workflow").exclude(stream__key="workspace").exists()


def test_workflow_set_replaces_the_transitions_from_one_status_and_keeps_the_rows_that_stay(keeper, flow):
    kept = {(r.new_status.code, r.role, r.scope): r.pk for r in flow}
    other = workflow_set(actor=keeper, type=kind("task"), old_status=status("IN_PROGRESS"),
                         transitions=[(status("COMPLETE"), Role.MEMBER, "role")])
    logged = len(workspace_events())
    rows = workflow_set(actor=keeper, type=kind("task"), old_status=status("NOT_STARTED"), transitions=[
        (status("IN_PROGRESS"), Role.MEMBER, "role"), (status("COMPLETE"), Role.OWNER, "role"),
        (status("BACKLOG"), Role.SCHEDULER, "assignee")])
    assert [r.new_status_id for r in rows] == sorted(r.new_status_id for r in rows)
    now = {(r.new_status.code, r.role, r.scope): r.pk for r in rows}
    staying = {("IN_PROGRESS", Role.MEMBER, "role"), ("COMPLETE", Role.OWNER, "role")}
    assert set(now) == staying | {("BACKLOG", Role.SCHEDULER, "assignee")}
    assert all(now[key] == kept[key] for key in staying)
    new = workspace_events()[logged:]
    assert sorted((e.action, e.entity_id) for e in new) == sorted(
        [("deleted", kept[key]) for key in kept if key not in staying]
        + [("created", now[("BACKLOG", Role.SCHEDULER, "assignee")])])
    # Another status's transitions are left alone.
    assert list(workflows_for(actor=keeper, old_status=status("IN_PROGRESS"))) == other


def test_setting_the_same_transitions_again_writes_and_logs_nothing(keeper, flow):
    before, logged = workflow_rows(), len(workspace_events())
    again = workflow_set(actor=keeper, type=kind("task"), old_status=status("NOT_STARTED"),
                         transitions=[(status(new), role, scope) for new, role, scope in reversed(TASK_FLOW)])
    assert sorted(r.pk for r in again) == sorted(r.pk for r in flow)
    assert (workflow_rows(), len(workspace_events())) == (before, logged)


def test_an_empty_list_removes_every_transition_from_the_status(keeper, flow):
    assert workflow_set(actor=keeper, type=kind("task"), old_status=status("NOT_STARTED"), transitions=[]) == []
    assert not Workflow.objects.exists()
    assert [e.action for e in workspace_events()[len(flow):]] == ["deleted"] * len(flow)


def test_transitions_may_be_mappings_with_the_role_scope_by_default_and_repeats_count_once(keeper):
    rows = workflow_set(actor=keeper, type=kind("bug"), old_status=status("BACKLOG"), transitions=[
        {"new_status": status("NOT_STARTED"), "role": Role.MEMBER},
        {"new_status": status("NOT_STARTED"), "role": Role.MEMBER, "scope": "role"},
        (status("NOT_STARTED"), Role.MEMBER, "role")])
    assert [(r.new_status.code, r.role, r.scope) for r in rows] == [("NOT_STARTED", Role.MEMBER, "role")]


@pytest.mark.parametrize(("transitions", "field", "code"), [
    ("IN_PROGRESS", "transitions", "invalid_type"),
    ({"new_status": 3}, "transitions", "invalid_type"),
    ([("IN_PROGRESS", Role.MEMBER, "role")], "transitions[0].new_status", "invalid_type"),
    ([(None, Role.MEMBER, "role")], "transitions[0].new_status", "null"),
    ([("ok", 150, "role")], "transitions[0].role", "invalid_choice"),
    ([("ok", True, "role")], "transitions[0].role", "invalid_choice"),
    ([("ok", Role.MEMBER, "watcher")], "transitions[0].scope", "invalid_choice"),
    ([("ok", Role.MEMBER)], "transitions[0]", "invalid_type"),
    ([("ok", Role.MEMBER, "role"), ("same", Role.MEMBER, "role")], "transitions[1].new_status", "not_allowed"),
    ([{"new_status": "ok", "role": Role.MEMBER, "when": "always"}], "transitions[0].when", "unknown_field"),
    ([{"new_status": "ok"}], "transitions[0].role", "required"),
    ([("ok", Role.MEMBER, "role")] * (MAX_TRANSITIONS + 1), "transitions", "too_many"),
], ids=["text", "mapping", "code-not-a-status", "null-status", "unknown-role", "bool-role", "unknown-scope",
        "pair", "to-itself", "unknown-key", "no-role", "too-many"])
def test_bad_transitions_are_refused_naming_the_entry_and_nothing_is_written(keeper, flow, transitions, field, code):
    swap = {"ok": status("REVIEW"), "same": status("NOT_STARTED")}

    def real(value):
        return swap.get(value, value) if isinstance(value, str) else value

    if isinstance(transitions, list):
        transitions = [{k: real(v) for k, v in t.items()} if isinstance(t, dict) else tuple(real(v) for v in t)
                       for t in transitions]
    before, events = workflow_rows(), ChangeEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        workflow_set(actor=keeper, type=kind("task"), old_status=status("NOT_STARTED"), transitions=transitions)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert (workflow_rows(), ChangeEvent.objects.count()) == (before, events)


@pytest.mark.parametrize(("values", "field"), [
    ({"type": "task"}, "type"), ({"type": None}, "type"), ({"old_status": 2}, "old_status"),
    ({"old_status": Status(code="GHOST", name="Ghost")}, "old_status"),
])
def test_the_type_and_old_status_must_be_rows(keeper, values, field):
    given = {"type": kind("task"), "old_status": status("NOT_STARTED"), **values}
    with pytest.raises(InvalidInput) as caught:
        workflow_set(actor=keeper, transitions=[(status("REVIEW"), Role.MEMBER, "role")], **given)
    assert caught.value.field == field
    assert not Workflow.objects.exists() and not workspace_events()


@pytest.mark.parametrize("who", ["boss", "admin", "member", "outsider", "anonymous"])
def test_only_a_workspace_administrator_may_write_workflows(boss, crew, flow, who):
    actor = {"boss": boss, "anonymous": AnonymousUser()}.get(who) or crew.get(who) or make_user(who)
    before, events = workflow_rows(), ChangeEvent.objects.count()
    with pytest.raises(PermissionDenied):
        workflow_set(actor=actor, type=kind("task"), old_status=status("NOT_STARTED"),
                     transitions=[(status("COMPLETE"), Role.MEMBER, "role")])
    with pytest.raises(PermissionDenied):
        workflow_set(actor=actor, type=kind("task"), old_status=status("NOT_STARTED"), transitions=[])
    with pytest.raises(PermissionDenied):
        workflow_delete(actor=actor, workflow=flow[0])
    assert (workflow_rows(), ChangeEvent.objects.count()) == (before, events)


def test_workflow_delete_removes_one_transition_and_logs_it(keeper, flow):
    gone = flow[0]
    workflow_delete(actor=keeper, workflow=gone)
    assert not Workflow.objects.filter(pk=gone.pk).exists()
    assert Workflow.objects.count() == len(flow) - 1
    last = workspace_events()[-1]
    assert (last.entity_id, last.action) == (gone.pk, "deleted")
    with pytest.raises(NotFound):
        workflow_delete(actor=keeper, workflow=gone)
    with pytest.raises(InvalidInput):
        workflow_delete(actor=keeper, workflow=gone.pk)


def test_a_status_or_type_a_workflow_uses_cannot_be_deleted(keeper, flow):
    before = workflow_rows()
    with pytest.raises(Conflict) as caught:
        status_delete(actor=keeper, status=status("REVIEW"))
    assert caught.value.code == "in_use"
    with pytest.raises(Conflict):
        work_item_type_delete(actor=keeper, type=kind("task"))
    assert workflow_rows() == before and Status.objects.filter(code="REVIEW").exists()


# ---------------------------------------------------------------- reading workflows

def test_anyone_signed_in_reads_workflows_and_nobody_else(keeper, crew, flow):
    bug = workflow_set(actor=keeper, type=kind("bug"), old_status=status("BACKLOG"),
                       transitions=[(status("NOT_STARTED"), Role.VIEWER, "role")])
    everything = list(workflows_for(actor=crew["viewer"]))
    assert everything == sorted(flow + bug, key=lambda r: (r.type_id, r.old_status_id, r.new_status_id, r.role,
                                                           r.scope))
    assert list(workflows_for(actor=make_user("stranger"), type=kind("bug"))) == bug
    assert list(workflows_for(actor=crew["member"], type=kind("task").pk, role=Role.OWNER)) == [
        r for r in flow if r.role == Role.OWNER]
    assert list(workflows_for(actor=AnonymousUser())) == []


# ---------------------------------------------------------------- the rule table

# (actor, work item, new status, allowed): ``dig`` by admin, assigned to member; ``fill`` by owner, assigned to
# admin.
RULES = [
    ("member", "dig", "IN_PROGRESS", True),     # role scope, the Member's role
    ("member", "dig", "ON_HOLD", True),         # assignee scope: the Member is the assignee
    ("member", "dig", "REVIEW", False),         # author scope is the Admins', and the Member wrote nothing
    ("member", "dig", "COMPLETE", False),       # the Owners' transition
    ("member", "dig", "BACKLOG", False),        # no row at all
    ("admin", "dig", "IN_PROGRESS", True),
    ("admin", "dig", "REVIEW", True),           # author scope: the Admin wrote it
    ("admin2", "dig", "REVIEW", False),         # another Admin did not
    ("admin", "dig", "ON_HOLD", False),         # assignee scope: not assigned to the Admin
    ("admin", "fill", "ON_HOLD", True),         # ... but this one is
    ("admin", "fill", "REVIEW", False),         # which the Admin did not write
    ("admin", "dig", "COMPLETE", False),
    ("owner", "dig", "COMPLETE", True),
    ("owner", "dig", "IN_PROGRESS", False),     # roles are matched exactly: no Owner row for it
    ("owner", "fill", "REVIEW", False),         # the Owner wrote ``fill``, but author scope is the Admins'
    ("keeper", "dig", "COMPLETE", True),        # a workspace administrator holds Owner
    ("keeper", "dig", "IN_PROGRESS", False),    # ... and is bound like one
]


@pytest.mark.parametrize(("who", "item", "new", "allowed"), RULES,
                         ids=[f"{w}-{i}-{n.lower()}" for w, i, n, _ in RULES])
def test_a_status_change_is_allowed_exactly_as_the_workflow_says(crew, keeper, items, who, item, new, allowed):
    actor, task = actor_named(who, crew, keeper), items[item]
    assert transition_allowed(actor, task, status(new)) is allowed
    assert (status(new) in allowed_statuses(actor, task)) is allowed
    before, events = work_items(), ChangeEvent.objects.count()
    if allowed:
        task_update(actor=actor, task=task, status=status(new))
        assert WorkItem.objects.get(pk=task.pk).status.code == new
        return
    with pytest.raises(InvalidInput) as caught:
        task_update(actor=actor, task=task, status=status(new))
    error = caught.value
    assert (error.code, error.field) == ("transition_not_allowed", "status")
    label = "Owner" if who == "keeper" else Role[{"admin2": "admin"}.get(who, who).upper()].label
    assert error.message == (f"The workflow of the type 'Task' does not let your role ({label}) change the status "
                             f"from 'Not started' to {status(new).name!r}.")
    assert (work_items(), ChangeEvent.objects.count()) == (before, events)


def test_allowed_statuses_lists_the_current_status_and_the_reachable_ones_in_status_order(crew, keeper, items):
    def codes(who: str, item: str) -> list[str]:
        return [s.code for s in allowed_statuses(actor_named(who, crew, keeper), items[item])]

    assert codes("member", "dig") == ["NOT_STARTED", "IN_PROGRESS", "ON_HOLD"]
    assert codes("admin", "dig") == ["NOT_STARTED", "IN_PROGRESS", "REVIEW"]
    assert codes("keeper", "dig") == ["NOT_STARTED", "COMPLETE"]
    assert codes("scheduler", "dig") == ["NOT_STARTED"]
    assert codes("member", "log") == list(Status.objects.values_list("code", flat=True))   # no workflow for bugs
    assert codes("viewer", "dig") == ["NOT_STARTED"]


def test_a_type_without_workflow_rows_is_unrestricted(crew, items):
    log = items["log"]
    for code in ("COMPLETE", "BACKLOG", "REVIEW", "NOT_STARTED"):
        log = task_update(actor=crew["member"], task=log, status=status(code))
        assert WorkItem.objects.get(pk=log.pk).status.code == code


def test_with_no_workflow_at_all_every_change_is_allowed_as_before(site, crew):
    task = task_create(actor=crew["admin"], project=site, name="Free", status=status("REVIEW"))
    for code in ("COMPLETE", "BACKLOG"):
        task = task_update(actor=crew["admin"], task=task, status=status(code))
    assert WorkItem.objects.get(pk=task.pk).status.code == "BACKLOG"


def test_transitions_are_read_from_the_status_the_work_item_is_in(crew, items):
    dig = task_update(actor=crew["member"], task=items["dig"], status=status("IN_PROGRESS"))
    # Nothing leaves "In progress", not even the way back.
    with pytest.raises(InvalidInput) as caught:
        task_update(actor=crew["member"], task=dig, status=status("NOT_STARTED"))
    assert caught.value.code == "transition_not_allowed"
    assert "from 'In progress' to 'Not started'" in caught.value.message
    assert WorkItem.objects.get(pk=dig.pk).status.code == "IN_PROGRESS"


def test_keeping_the_status_or_changing_other_fields_is_no_transition(crew, items):
    dig = task_update(actor=crew["member"], task=items["dig"], status=status("IN_PROGRESS"))
    dig = task_update(actor=crew["member"], task=dig, status=status("IN_PROGRESS"), duration=4, name="Dig deeper")
    assert (dig.status.code, dig.duration, dig.name) == ("IN_PROGRESS", 4, "Dig deeper")


def test_the_assignee_scope_reads_the_assignee_before_the_write(crew, items):
    dig, admin2 = items["dig"], crew["admin2"]
    with pytest.raises(InvalidInput) as caught:
        task_update(actor=admin2, task=dig, assignee=admin2, status=status("ON_HOLD"))
    assert caught.value.code == "transition_not_allowed"
    assert WorkItem.objects.get(pk=dig.pk).assignee == crew["member"]
    dig = task_update(actor=admin2, task=dig, assignee=admin2)
    dig = task_update(actor=admin2, task=dig, status=status("ON_HOLD"))
    assert WorkItem.objects.get(pk=dig.pk).status.code == "ON_HOLD"


def test_a_change_of_type_keeps_the_status_and_is_no_transition(crew, items):
    log = task_update(actor=crew["member"], task=items["log"], status=status("REVIEW"))
    # A Task may not leave "Not started" for "Review" as a Member, nor leave "Review" at all; the type still changes.
    log = task_update(actor=crew["member"], task=log, type=kind("task"))
    assert (log.type.code, log.status.code) == ("task", "REVIEW")


def test_a_change_of_type_and_status_together_is_checked_against_the_new_type(crew, items):
    log, member = items["log"], crew["member"]
    before = work_items()
    with pytest.raises(InvalidInput) as caught:
        task_update(actor=member, task=log, type=kind("task"), status=status("COMPLETE"))
    assert caught.value.code == "transition_not_allowed" and "type 'Task'" in caught.value.message
    assert work_items() == before
    log = task_update(actor=member, task=log, type=kind("task"), status=status("IN_PROGRESS"))
    assert (log.type.code, log.status.code) == ("task", "IN_PROGRESS")


def test_a_role_refusal_comes_before_the_workflow(crew, items):
    # A Scheduler may not edit work items at all: that is the answer, whatever the workflow says.
    with pytest.raises(PermissionDenied):
        task_update(actor=crew["scheduler"], task=items["dig"], status=status("IN_PROGRESS"))


# ---------------------------------------------------------------- creating a work item

def test_creating_in_the_default_status_is_no_transition(site, crew, flow):
    task = task_create(actor=crew["admin"], project=site, name="Plain", status=status("NOT_STARTED"))
    assert task.status.code == "NOT_STARTED"


@pytest.mark.parametrize(("who", "code", "allowed"), [
    ("admin", "IN_PROGRESS", True), ("admin", "REVIEW", True), ("admin", "ON_HOLD", False),
    ("admin", "COMPLETE", False), ("owner", "COMPLETE", True), ("owner", "IN_PROGRESS", False),
])
def test_creating_in_another_status_is_the_change_from_the_default_one_by_its_author(site, crew, flow, who, code,
                                                                                      allowed):
    before = work_items()
    if allowed:
        assert task_create(actor=crew[who], project=site, name="New", status=status(code)).status.code == code
        return
    with pytest.raises(InvalidInput) as caught:
        task_create(actor=crew[who], project=site, name="New", status=status(code))
    assert (caught.value.code, caught.value.field) == ("transition_not_allowed", "status")
    assert work_items() == before


def test_creating_a_work_item_of_an_unrestricted_type_takes_any_status(site, crew, flow):
    task = task_create(actor=crew["admin"], project=site, name="Bug", type=kind("bug"), status=status("COMPLETE"))
    assert task.status.code == "COMPLETE"


def test_bulk_creates_are_held_to_the_workflow_too(site, crew, flow):
    before = work_items()
    with pytest.raises(InvalidInput) as caught:
        tasks_bulk_apply(actor=crew["admin"], project=site, tasks=[
            {"uid": uuid.uuid4(), "name": "Ok", "status": status("IN_PROGRESS")},
            {"uid": uuid.uuid4(), "name": "No", "status": status("COMPLETE")}])
    assert (caught.value.code, caught.value.field) == ("transition_not_allowed", "tasks[1].status")
    assert work_items() == before
    written = tasks_bulk_apply(actor=crew["admin"], project=site, tasks=[
        {"uid": uuid.uuid4(), "name": "Ok", "status": status("IN_PROGRESS")},
        {"uid": uuid.uuid4(), "name": "Bug", "type": kind("bug"), "status": status("COMPLETE")}])
    assert [WorkItem.objects.get(pk=t.id).status.code for t in written.tasks] == ["IN_PROGRESS", "COMPLETE"]


# ---------------------------------------------------------------- the bulk write and offline push

def test_a_bulk_write_refuses_a_forbidden_transition_naming_the_row_and_writes_nothing(crew, items):
    before, events = work_items(), ChangeEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        tasks_bulk_apply(actor=crew["admin"], project=items["dig"].project, tasks=[
            {"id": items["dig"].pk, "status": status("REVIEW")},        # allowed: the Admin wrote it
            {"id": items["fill"].pk, "status": status("COMPLETE")}])    # the Owners' transition
    assert (caught.value.code, caught.value.field) == ("transition_not_allowed", "tasks[1].status")
    assert (work_items(), ChangeEvent.objects.count()) == (before, events)


def test_a_bulk_write_reads_the_workflow_once_however_many_rows_change_status(site, crew, flow):
    admin = crew["admin"]
    tasks = tasks_bulk_apply(actor=admin, project=site, tasks=[
        {"uid": uuid.uuid4(), "name": f"T{n}"} for n in range(40)]).tasks

    started = status("IN_PROGRESS")

    def queries(rows) -> int:
        edits = [{"id": t.id, "status": started, "name": f"Moved {t.id}"} for t in rows]
        with CaptureQueriesContext(connection) as captured:
            tasks_bulk_apply(actor=admin, project=site, tasks=edits)
        return len(captured)

    assert queries(tasks[:3]) == queries(tasks[3:40])
    assert set(WorkItem.objects.filter(project=site).values_list("status__code", flat=True)) == {"IN_PROGRESS"}


def test_an_offline_push_refuses_a_forbidden_transition_naming_the_row_and_writes_nothing(crew, items):
    project, member = items["dig"].project, crew["member"]
    seq = ChangeStream.objects.get(project=project).last_seq
    row = PushRow(where="tasks.updated[0]", id=items["dig"].pk, fields={"status": status("REVIEW")},
                  client={"status": "REVIEW"})
    before, events = work_items(), ChangeEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        sync_push(actor=member, project=project, client_batch_id=uuid.uuid4(), last_pulled_at=seq,
                  changes={"tasks": {"updated": [row]}}, digest="d", render=lambda result: {})
    assert (caught.value.code, caught.value.field) == ("transition_not_allowed", "tasks.updated[0].status")
    assert (work_items(), ChangeEvent.objects.count()) == (before, events)
    row = PushRow(where="tasks.updated[0]", id=items["dig"].pk, fields={"status": status("ON_HOLD")},
                  client={"status": "ON_HOLD"})
    sync_push(actor=member, project=project, client_batch_id=uuid.uuid4(), last_pulled_at=seq,
              changes={"tasks": {"updated": [row]}}, digest="e", render=lambda result: {})
    assert WorkItem.objects.get(pk=items["dig"].pk).status.code == "ON_HOLD"


def test_a_workspace_without_workflows_reads_no_rule_for_a_change_that_keeps_the_status(site, crew):
    task = task_create(actor=crew["admin"], project=site, name="Quiet")
    with CaptureQueriesContext(connection) as captured:
        task_update(actor=crew["admin"], task=task, duration=3)
    assert not any("planning_workflow" in q["sql"] for q in captured)
