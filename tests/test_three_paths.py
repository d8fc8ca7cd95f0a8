"""One rule, three paths: a single-row write, the bulk write and an offline push give the same answer for the same
bad row (the same error class, code and field), because all three call the same cleaning, validation and
permission code. Each case is one rule; the data is unchanged after each refusal.
"""

from __future__ import annotations

import uuid

import pytest

from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.core.errors import DomainError
from keelplan.planning.bulk import tasks_bulk_apply
from keelplan.planning.models import Priority, WorkItem
from keelplan.planning.reference import category_create
from keelplan.planning.services import dependency_create, task_create, task_update
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add
from keelplan.sync.push import PushRow, sync_push

from conftest import make_project, make_user


@pytest.fixture
def world(db):
    lead = make_user("lead")
    project = make_project(lead, name="Paths")
    people = {}
    for name, role in (("viewer", Role.VIEWER), ("member", Role.MEMBER), ("scheduler", Role.SCHEDULER)):
        people[name] = make_user(name)
        membership_add(actor=lead, project=project, user=people[name], role=role)
    mine = task_create(actor=lead, project=project, name="Mine", assignee=people["member"])
    other = task_create(actor=lead, project=project, name="Other")
    return {"lead": lead, "project": project, "mine": mine, "other": other, **people}


def _single(actor, task, fields):
    task_update(actor=actor, task=task, **fields)


def _bulk(actor, task, fields):
    tasks_bulk_apply(actor=actor, project=task.project, tasks=[{"id": task.pk, **fields}])


def _push(actor, task, fields):
    seq = ChangeStream.objects.get(project=task.project).last_seq
    row = PushRow(where="tasks.updated[0]", id=task.pk, fields=fields, client=dict(fields))
    sync_push(actor=actor, project=task.project, client_batch_id=uuid.uuid4(), last_pulled_at=seq,
              changes={"tasks": {"updated": [row]}}, digest=uuid.uuid4().hex, render=lambda result: {})


PATHS = {"single": _single, "bulk": _bulk, "push": _push}

# (rule, actor, task, fields, error class name, code, field)
EDIT_CASES = [
    ("duration_range", "lead", "mine", {"duration": -1}, "InvalidInput", "out_of_range", "duration"),
    ("name_blank", "lead", "mine", {"name": "   "}, "InvalidInput", "blank", "name"),
    ("name_too_long", "lead", "mine", {"name": "x" * 513}, "InvalidInput", "too_long", "name"),
    ("percent_type", "lead", "mine", {"percent_complete": "lots"}, "InvalidInput", "invalid_type",
     "percent_complete"),
    ("constraint_needs_date", "lead", "mine", {"constraint_type": "MSO"}, "InvalidInput", "required",
     "constraint_date"),
    ("manual_finish_before_start", "lead", "mine",
     {"scheduling_mode": "manual", "manual_start": "2026-02-10", "manual_finish": "2026-02-01"},
     "InvalidInput", "finish_before_start", "manual_finish"),
    ("status_null", "lead", "mine", {"status": None}, "InvalidInput", "null", "status"),
    ("member_not_assigned", "member", "other", {"duration": 3}, "PermissionDenied", "permission_denied", None),
    ("member_reassigns", "member", "mine", {"assignee": None}, "PermissionDenied", "permission_denied",
     "assignee"),
    ("viewer_edits", "viewer", "mine", {"duration": 3}, "PermissionDenied", "permission_denied", None),
    ("scheduler_edits", "scheduler", "mine", {"duration": 3}, "PermissionDenied", "permission_denied", None),
]


def _answer(exc: DomainError, where: str | None) -> tuple:
    field = exc.field
    if where and field and field.startswith(where):
        field = field[len(where):].lstrip(".") or None
    return type(exc).__name__, exc.code, field


@pytest.mark.parametrize(("rule", "actor", "task", "fields", "kind", "code", "field"), EDIT_CASES,
                         ids=[c[0] for c in EDIT_CASES])
def test_each_path_refuses_the_same_row_alike(world, rule, actor, task, fields, kind, code, field):
    where = {"single": None, "bulk": "tasks[0]", "push": "tasks.updated[0]"}
    target = world[task]
    before = list(WorkItem.objects.order_by("id").values())
    events = ChangeEvent.objects.count()
    answers = {}
    for name, path in PATHS.items():
        with pytest.raises(DomainError) as caught:
            path(world[actor], target, dict(fields))
        answers[name] = _answer(caught.value, where[name])
    assert answers == {name: (kind, code, field) for name in PATHS}
    assert list(WorkItem.objects.order_by("id").values()) == before
    assert ChangeEvent.objects.count() == events


def test_a_self_link_is_refused_alike_by_the_single_row_and_bulk_paths(world):
    lead, mine = world["lead"], world["mine"]
    with pytest.raises(DomainError) as single:
        dependency_create(actor=lead, predecessor=mine, successor=mine)
    with pytest.raises(DomainError) as bulk:
        tasks_bulk_apply(actor=lead, project=world["project"],
                         dependencies=[{"predecessor": mine.pk, "successor": mine.pk}])
    assert (single.value.code, single.value.field) == ("self_dependency", "successor")
    assert (bulk.value.code, bulk.value.field) == ("self_dependency", "dependencies[0].successor")


def test_a_member_may_not_create_work_items_on_any_path(world):
    member, project = world["member"], world["project"]
    with pytest.raises(DomainError) as single:
        task_create(actor=member, project=project, name="Sneaky")
    with pytest.raises(DomainError) as bulk:
        tasks_bulk_apply(actor=member, project=project, tasks=[{"uid": uuid.uuid4(), "name": "Sneaky"}])
    seq = ChangeStream.objects.get(project=project).last_seq
    row = PushRow(where="tasks.created[0]", uid=uuid.uuid4(), fields={"name": "Sneaky"})
    with pytest.raises(DomainError) as push:
        sync_push(actor=member, project=project, client_batch_id=uuid.uuid4(), last_pulled_at=seq,
                  changes={"tasks": {"created": [row]}}, digest="d", render=lambda result: {})
    assert {single.value.message, bulk.value.message, push.value.message} == {
        "Your role (Member) may not create work items; it needs Admin or above."}
    assert not WorkItem.objects.filter(name="Sneaky").exists()


def _priority(name: str, *, active: bool) -> Priority:
    return Priority.objects.create(code=name.lower(), name=name, position=99, is_active=active)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_retired_priority_or_an_outsider_as_responsible_is_refused_on_every_path(world, path):
    retired = _priority("Someday", active=False)
    outsider = make_user("outsider")
    task = world["mine"]
    for fields, field, code in (({"priority": retired}, "priority", "invalid_reference"),
                                ({"responsible": outsider}, "responsible", "not_a_member")):
        with pytest.raises(DomainError) as caught:
            PATHS[path](world["lead"], task, dict(fields))
        assert caught.value.code == code and caught.value.field.endswith(field)
    task.refresh_from_db()
    assert (task.priority_id, task.responsible_id) == (world["mine"].priority_id, None)


def test_a_new_work_item_in_a_category_goes_to_its_default_assignee_on_both_create_paths(world):
    category = category_create(actor=world["lead"], project=world["project"], name="Welding",
                               default_assignee=world["member"])
    single = task_create(actor=world["lead"], project=world["project"], name="Seam", category=category)
    uid = uuid.uuid4()
    tasks_bulk_apply(actor=world["lead"], project=world["project"],
                     tasks=[{"uid": uid, "name": "Bead", "category": category}])
    bulk = WorkItem.objects.get(uid=uid)
    assert (single.assignee_id, bulk.assignee_id) == (world["member"].pk, world["member"].pk)
    chosen = task_create(actor=world["lead"], project=world["project"], name="Grind", category=category,
                         assignee=None)
    assert chosen.assignee_id is None   # an assignee given (even none) wins over the category's
