"""tasks_bulk_apply without HTTP: tasks created by uid with parents and links in any order, edits, the change
log, one change_record and one reschedule per call, the rules of the single-row services row by row, and
nothing written when any row is refused."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Sum
from django.test.utils import CaptureQueriesContext

from keelplan.calendars.services import calendar_create
from keelplan.core.errors import Conflict, CyclicDependency, InvalidInput, NotFound, PermissionDenied, StaleLockVersion
from keelplan.planning import bulk
from keelplan.planning.bulk import tasks_bulk_apply
from keelplan.planning.models import Dependency, WorkItem, WorkItemType
from keelplan.planning.services import dependency_create, task_create, task_update
from keelplan.resources.services import assignment_create, resource_create
from keelplan.scheduling import services as scheduling_services
from keelplan.changelog import services as changelog_services
from keelplan.changelog.models import ChangeEvent

from conftest import make_project

pytestmark = pytest.mark.django_db


def uids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


def fingerprint() -> dict:
    """What a refused call must leave exactly as it was."""
    state = {}
    for model in (WorkItem, Dependency):
        state[model.__name__] = model.all_objects.aggregate(n=Count("id"), versions=Sum("lock_version"),
                                                             touched=Max("updated_at"))
    state["events"] = ChangeEvent.objects.count()
    return state


def events(since: int, entity: str | None = None) -> list[ChangeEvent]:
    rows = ChangeEvent.objects.filter(pk__gt=since).order_by("pk")
    return list(rows.filter(entity=entity) if entity else rows)


def last_event_id() -> int:
    return ChangeEvent.objects.aggregate(m=Max("pk"))["m"] or 0


@pytest.fixture
def site(linked_pair_and_loner):
    return linked_pair_and_loner


# ---------------------------------------------------------------- creating

def test_creates_tasks_with_parents_and_links_named_by_uid_in_any_order(owner, project):
    child, summary, other = uids(3)
    result = tasks_bulk_apply(actor=owner, project=project, tasks=[
        {"uid": child, "name": "Weld", "parent": summary, "duration": 3},
        {"uid": summary, "name": "Hull"},
        {"uid": other, "name": "Paint", "duration": 2},
    ], dependencies=[{"predecessor": str(child), "successor": other, "dep_type": "SS", "lag": 1}])

    weld, hull, paint = (WorkItem.objects.get(uid=u) for u in (child, summary, other))
    assert [t.id for t in result.tasks] == [weld.pk, hull.pk, paint.pk]
    assert [t.uid for t in result.tasks] == [child, summary, other]
    assert weld.parent_id == hull.pk and hull.parent_id is None
    assert hull.pk < weld.pk, "a parent is inserted before its children"
    (link,) = result.dependencies
    stored = Dependency.objects.get(pk=link.id)
    assert (link.predecessor, link.successor, link.lock_version) == (weld.pk, paint.pk, 0)
    assert (stored.predecessor_id, stored.successor_id, stored.dep_type, stored.lag) == (weld.pk, paint.pk, "SS", 1)
    assert stored.created_by == owner and stored.uid is not None
    assert all(t.author_id == owner.pk and t.lock_version == 0 for t in (weld, hull, paint))


def test_new_tasks_take_the_defaults_of_task_create(owner, project, site):
    milestone_type = WorkItemType.objects.create(code="gate", name="Gate", is_milestone=True)
    first, second, gate = uids(3)
    tasks_bulk_apply(actor=owner, project=project, tasks=[
        {"uid": first, "name": "  Trimmed  "}, {"uid": second, "name": "Placed", "position": 40},
        {"uid": gate, "name": "Gate", "type": milestone_type, "duration": 5},
    ])
    single = task_create(actor=owner, project=project, name="Single")
    one, two, three = (WorkItem.objects.get(uid=u) for u in (first, second, gate))
    assert one.name == "Trimmed"
    assert (one.status, one.type, one.priority) == (single.status, single.type, single.priority)
    assert one.position == site["c"].position + 1 and two.position == 40 and three.position == one.position + 1
    assert three.is_milestone and three.duration == 0


def test_created_rows_are_logged_as_task_create_and_dependency_create_log_them(owner, project, site):
    since = last_event_id()
    new = uuid.uuid4()
    fields = {"duration": 4, "description": "Seams", "deadline": dt.date(2026, 3, 31), "parent": site["c"].pk,
              "constraint_type": "SNET", "constraint_date": dt.date(2026, 2, 2), "percent_complete": 12.5}
    tasks_bulk_apply(actor=owner, project=project, tasks=[{"uid": new, "name": "Weld", **fields}],
                     dependencies=[{"predecessor": new, "successor": site["b"].pk, "lag": 2}])
    created = WorkItem.objects.get(uid=new)
    bulk_events = {(e.entity, e.action): e for e in events(since) if e.entity != "schedule"}
    assert set(bulk_events) == {("work_item", "created"), ("dependency", "created")}

    since = last_event_id()
    single = task_create(actor=owner, project=project, name="Weld", **{**fields, "parent": site["c"]})
    dependency_create(actor=owner, predecessor=single, successor=site["b"], lag=2)
    single_events = {(e.entity, e.action): e for e in events(since) if e.entity != "schedule"}

    task_changes = bulk_events["work_item", "created"].changes
    assert bulk_events["work_item", "created"].entity_id == created.pk
    assert {k: v for k, v in task_changes.items() if k != "position"} == {
        k: v for k, v in single_events["work_item", "created"].changes.items() if k != "position"}
    link_changes = dict(bulk_events["dependency", "created"].changes)
    single_link = dict(single_events["dependency", "created"].changes)
    assert link_changes.pop("predecessor") == [None, created.pk]
    assert single_link.pop("predecessor") == [None, single.pk]
    assert link_changes == single_link
    assert all(e.actor_id == owner.pk for e in bulk_events.values())


# ---------------------------------------------------------------- editing

def test_edits_log_the_diff_bump_the_version_and_skip_rows_that_change_nothing(owner, project, site):
    a, b = site["a"], site["b"]
    a_touched = WorkItem.objects.get(pk=a.pk).updated_at
    before_touch = WorkItem.objects.get(pk=b.pk).updated_at
    since = last_event_id()
    result = tasks_bulk_apply(actor=owner, project=project, tasks=[
        {"id": a.pk, "duration": 7, "name": "A2", "lock_version": 0},
        {"id": b.pk, "duration": 3},
    ])
    a2, b2 = WorkItem.objects.get(pk=a.pk), WorkItem.objects.get(pk=b.pk)
    assert (a2.duration, a2.name, a2.lock_version) == (7, "A2", 1) and a2.updated_at > a_touched
    assert (b2.lock_version, b2.updated_at) == (0, before_touch)
    assert [t.lock_version for t in result.tasks] == [1, 0]
    (logged,) = events(since, "work_item")
    assert (logged.entity_id, logged.action, logged.changes) == (a.pk, "updated",
                                                                {"name": ["A", "A2"], "duration": [2, 7]})


def test_an_edit_can_move_a_task_under_a_task_created_in_the_same_request(owner, project, site):
    phase = uuid.uuid4()
    since = last_event_id()
    tasks_bulk_apply(actor=owner, project=project, tasks=[
        {"id": site["c"].pk, "parent": phase}, {"uid": phase, "name": "Phase"},
    ])
    created = WorkItem.objects.get(uid=phase)
    assert WorkItem.objects.get(pk=site["c"].pk).parent_id == created.pk
    logged = [(e.entity_id, e.action) for e in events(since, "work_item")]
    assert logged == [(created.pk, "created"), (site["c"].pk, "updated")]


def test_mixed_request_links_new_tasks_to_existing_ones(owner, project, site):
    new = uuid.uuid4()
    result = tasks_bulk_apply(actor=owner, project=project, tasks=[{"uid": new, "name": "Fit"},
                                                                    {"id": site["a"].pk, "duration": 1}],
                              dependencies=[{"predecessor": site["b"].pk, "successor": new},
                                            {"predecessor": site["a"], "successor": site["c"].pk, "dep_type": "FF"}])
    fit = WorkItem.objects.get(uid=new)
    assert [(d.predecessor, d.successor) for d in result.dependencies] == [
        (site["b"].pk, fit.pk), (site["a"].pk, site["c"].pk)]


# ---------------------------------------------------------------- one log write, one reschedule

def test_one_call_records_its_changes_once_and_reschedules_once(owner, project, site, monkeypatch):
    recorded, rescheduled = [], []
    monkeypatch.setattr(changelog_services, "_listeners",
                        [*changelog_services._listeners, lambda project, actor, changes: recorded.append(len(changes))])
    real = scheduling_services.reschedule

    def counting(project_id, **kwargs):
        rescheduled.append(project_id)
        return real(project_id, **kwargs)

    monkeypatch.setattr(scheduling_services, "reschedule", counting)
    keys = uids(50)
    since = last_event_id()
    tasks_bulk_apply(
        actor=owner, project=project,
        tasks=[{"uid": k, "name": f"T{n}", "duration": 1 + n % 4} for n, k in enumerate(keys)]
        + [{"id": site["a"].pk, "duration": 9}],
        dependencies=[{"predecessor": keys[n], "successor": keys[n + 1]} for n in range(49)]
        + [{"predecessor": site["b"].pk, "successor": keys[0]}],
    )
    assert recorded[0] == 50 + 1 + 50 and rescheduled == [project.pk]
    assert len(events(since, "schedule")) == 1
    assert len(events(since)) == 50 + 1 + 50 + 1


def test_queries_do_not_grow_with_the_rows(owner, project, site, monkeypatch):
    """Everything but the inserts themselves (batched by the database backend) is a fixed number of queries.
    (The scheduler is left out: what it writes depends on the dates, not on the number of rows sent.)"""
    monkeypatch.setattr(changelog_services, "_listeners", [])
    def statements(n: int) -> list[str]:
        keys = uids(n)
        tasks = [{"uid": keys[0], "name": "Phase"}]
        tasks += [{"uid": k, "name": f"Step {m}", "parent": keys[0], "duration": 2} for m, k in enumerate(keys[1:])]
        tasks += [{"id": site["a"].pk, "duration": 2 + n}, {"id": site["c"].pk, "parent": keys[0]}]
        links = [{"predecessor": keys[m], "successor": keys[m + 1]} for m in range(1, n - 1)]
        links.append({"predecessor": site["b"].pk, "successor": keys[1]})
        with CaptureQueriesContext(connection) as captured:
            tasks_bulk_apply(actor=owner, project=project, tasks=tasks, dependencies=links)
        # Inserts, and on PostgreSQL the id draw before a COPY, belong to the inserts themselves.
        return [q["sql"] for q in captured.captured_queries
                if not q["sql"].lstrip().upper().startswith(("INSERT", "COPY")) and "nextval(" not in q["sql"]]

    small, large = statements(4), statements(60)
    assert len(small) == len(large), "\n".join(large)


# ---------------------------------------------------------------- who may do what

@pytest.mark.parametrize(("role_name", "allowed"), [
    ("viewer", False), ("member", False), ("scheduler", False), ("admin", True), ("owner", True),
])
def test_creating_needs_admin(members, project, role_name, allowed):
    call = dict(actor=members[role_name], project=project, tasks=[{"uid": uuid.uuid4(), "name": "Dig"}])
    if allowed:
        tasks_bulk_apply(**call)
    else:
        with pytest.raises(PermissionDenied) as caught:
            tasks_bulk_apply(**call)
        assert caught.value.field in (None, "tasks[0]")
    assert WorkItem.objects.filter(name="Dig").exists() is allowed


@pytest.mark.parametrize(("role_name", "allowed"), [
    ("viewer", False), ("member", False), ("scheduler", True), ("admin", True), ("owner", True),
])
def test_linking_needs_scheduler(members, project, site, role_name, allowed):
    call = dict(actor=members[role_name], project=project,
                dependencies=[{"predecessor": site["b"].pk, "successor": site["c"].pk}])
    if allowed:
        tasks_bulk_apply(**call)
    else:
        with pytest.raises(PermissionDenied) as caught:
            tasks_bulk_apply(**call)
        assert caught.value.field in (None, "dependencies[0]")
    assert Dependency.objects.filter(predecessor=site["b"]).exists() is allowed


@pytest.mark.parametrize(("role_name", "allowed"), [
    ("viewer", False), ("member", False), ("scheduler", False), ("admin", True), ("owner", True),
])
def test_editing_a_task_assigned_to_someone_else(members, project, site, role_name, allowed):
    call = dict(actor=members[role_name], project=project, tasks=[{"id": site["a"].pk, "duration": 5}])
    if allowed:
        tasks_bulk_apply(**call)
    else:
        with pytest.raises(PermissionDenied):
            tasks_bulk_apply(**call)
    assert (WorkItem.objects.get(pk=site["a"].pk).duration == 5) is allowed


def test_a_member_edits_tasks_assigned_to_them_but_not_their_assignee_or_parent(members, project, owner, site):
    member = members["member"]
    task_update(actor=owner, task=site["a"], assignee=member)
    crew = resource_create(actor=owner, name="Crew", user=member)
    assignment_create(actor=owner, work_item=site["b"], resource=crew)
    tasks_bulk_apply(actor=member, project=project, tasks=[{"id": site["a"].pk, "duration": 6},
                                                           {"id": site["b"].pk, "percent_complete": 50}])
    assert WorkItem.objects.get(pk=site["a"].pk).duration == 6
    for forbidden in ({"assignee": None}, {"parent": site["c"].pk}):
        with pytest.raises(PermissionDenied) as caught:
            tasks_bulk_apply(actor=member, project=project, tasks=[{"id": site["a"].pk, **forbidden}])
        assert caught.value.field == f"tasks[0].{next(iter(forbidden))}"
    with pytest.raises(PermissionDenied) as caught:
        tasks_bulk_apply(actor=member, project=project, tasks=[{"id": site["a"].pk, "duration": 1},
                                                               {"id": site["c"].pk, "duration": 1}])
    assert caught.value.field == "tasks[1]"
    assert WorkItem.objects.get(pk=site["a"].pk).duration == 6


def test_a_non_member_is_told_the_project_does_not_exist(outsider, project):
    with pytest.raises(NotFound):
        tasks_bulk_apply(actor=outsider, project=project, tasks=[{"uid": uuid.uuid4(), "name": "Dig"}])


# ---------------------------------------------------------------- refused rows: named, nothing written

def _refusals(site, other_task, taken_uid):
    """(tasks, dependencies, error class, field, code) -- ``NEW`` is a uid created in the request."""
    a, b, c = site["a"].pk, site["b"].pk, site["c"].pk
    return [
        ([{"uid": NEW, "name": "X"}, {"uid": uuid.uuid4(), "name": "Y", "duration": -1}], [], InvalidInput,
         "tasks[1].duration", "out_of_range"),
        ([{"name": "No uid"}], [], InvalidInput, "tasks[0].uid", "required"),
        ([{"uid": "not-a-uuid", "name": "X"}], [], InvalidInput, "tasks[0].uid", "invalid_format"),
        ([{"uid": NEW, "name": "X"}, {"uid": NEW, "name": "Y"}], [], InvalidInput, "tasks[1].uid", "duplicate_uid"),
        ([{"uid": taken_uid, "name": "X"}], [], Conflict, "tasks[0].uid", "duplicate_uid"),
        ([{"uid": NEW}], [], InvalidInput, "tasks[0].name", "required"),
        ([{"uid": NEW, "name": "   "}], [], InvalidInput, "tasks[0].name", "blank"),
        ([{"uid": NEW, "name": "X", "colour": "red"}], [], InvalidInput, "tasks[0].colour", "unknown_field"),
        ([{"uid": NEW, "name": "X", "constraint_type": "MSO"}], [], InvalidInput, "tasks[0].constraint_date",
         "required"),
        ([{"uid": NEW, "name": "X", "parent": other_task}], [], InvalidInput, "tasks[0].parent", "invalid_reference"),
        ([{"uid": NEW, "name": "X", "parent": uuid.uuid4()}], [], InvalidInput, "tasks[0].parent", "invalid_reference"),
        ([{"uid": NEW, "name": "X", "parent": NEW}], [], InvalidInput, "tasks[0].parent", "cyclic_parent"),
        ([{"uid": NEW, "name": "X", "parent": NEW2}, {"uid": NEW2, "name": "Y", "parent": NEW}], [], InvalidInput,
         "tasks[0].parent", "cyclic_parent"),
        ([{"uid": NEW, "name": "X", "parent": c}, {"id": c, "parent": NEW}], [], InvalidInput, "tasks[0].parent",
         "cyclic_parent"),
        ([{"id": a, "lock_version": 3, "duration": 4}], [], StaleLockVersion, "tasks[0].lock_version",
         "stale_lock_version"),
        ([{"id": other_task, "duration": 4}], [], InvalidInput, "tasks[0].id", "invalid_reference"),
        ([{"id": a, "duration": 4}, {"id": a, "duration": 5}], [], InvalidInput, "tasks[1].id", "invalid"),
        ([{"id": a, "status": None}], [], InvalidInput, "tasks[0].status", "null"),
        ([{"id": a, "actual_finish": dt.date(5000, 1, 1)}], [], InvalidInput, "tasks[0].actual_finish",
         "date_out_of_range"),
        ([], [{"predecessor": a, "successor": a}], InvalidInput, "dependencies[0].successor", "self_dependency"),
        ([], [{"predecessor": a, "successor": b}], Conflict, "dependencies[0].successor", "duplicate_dependency"),
        ([], [{"predecessor": b, "successor": c}, {"predecessor": b, "successor": c}], InvalidInput,
         "dependencies[1].successor", "duplicate_dependency"),
        ([], [{"predecessor": other_task, "successor": c}], InvalidInput, "dependencies[0].predecessor",
         "invalid_reference"),
        ([], [{"predecessor": 999_999_999, "successor": c}], InvalidInput, "dependencies[0].predecessor", "invalid_reference"),
        ([], [{"predecessor": b, "successor": uuid.uuid4()}], InvalidInput, "dependencies[0].successor", "invalid_reference"),
        ([], [{"successor": c}], InvalidInput, "dependencies[0].predecessor", "required"),
        ([], [{"predecessor": b, "successor": c, "lag": 20000, "lag_unit": "pct"}], InvalidInput,
         "dependencies[0].lag", "out_of_range"),
        ([], [{"predecessor": b, "successor": c, "dep_type": "XX"}], InvalidInput, "dependencies[0].dep_type",
         "invalid_choice"),
        ([], [{"id": 5, "predecessor": b, "successor": c}], InvalidInput, "dependencies[0].id", "unknown_field"),
        ([{"uid": NEW, "name": "X"}], [{"predecessor": b, "successor": NEW}, {"predecessor": NEW, "successor": a}],
         CyclicDependency, "dependencies[1].predecessor", "cyclic_dependency"),
        ([{"uid": NEW, "name": "Phase"}, {"uid": NEW2, "name": "Step", "parent": NEW}],
         [{"predecessor": NEW, "successor": NEW2}], CyclicDependency, "dependencies[0].predecessor",
         "cyclic_dependency"),
        ([{"id": c, "parent": a}], [{"predecessor": c, "successor": a}], CyclicDependency,
         "dependencies[0].predecessor", "cyclic_dependency"),
        ([{"id": b, "parent": a}], [], CyclicDependency, "tasks[0].parent", "cyclic_dependency"),
        ([{"uid": NEW, "name": "X"}, "nope"], [], InvalidInput, "tasks[1]", "invalid_type"),
    ]


NEW, NEW2 = uuid.UUID(int=1), uuid.UUID(int=2)


def test_every_refusal_names_its_row_and_writes_nothing(owner, project, site):
    elsewhere = make_project(owner, name="Sister")
    other_task = task_create(actor=owner, project=elsewhere, name="Far").pk
    taken_uid = site["a"].uid
    for tasks, dependencies, error, field, code in _refusals(site, other_task, taken_uid):
        before = fingerprint()
        with pytest.raises(error) as caught:
            tasks_bulk_apply(actor=owner, project=project, tasks=tasks, dependencies=dependencies)
        exc = caught.value
        assert (exc.field, exc.code) == (field, code), (tasks, dependencies, exc.field, exc.code, exc.message)
        if isinstance(exc, InvalidInput):
            assert field in exc.field_errors(), exc.field_errors()
        assert fingerprint() == before, (tasks, dependencies)


def test_a_cycle_names_new_tasks_by_uid(owner, project, site):
    with pytest.raises(CyclicDependency) as caught:
        tasks_bulk_apply(actor=owner, project=project, tasks=[{"uid": NEW, "name": "Loop"}],
                         dependencies=[{"predecessor": site["b"].pk, "successor": NEW},
                                       {"predecessor": NEW, "successor": site["a"].pk}])
    cycle = caught.value.cycle
    assert cycle[0] == cycle[-1] and set(cycle) == {site["a"].pk, site["b"].pk, str(NEW)}
    assert "Loop" in caught.value.message and "A (#" in caught.value.message


def test_limits_and_an_empty_request(owner, project, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_BULK_TASKS", 3)
    monkeypatch.setattr(bulk, "MAX_BULK_DEPENDENCIES", 2)
    with pytest.raises(InvalidInput) as caught:
        tasks_bulk_apply(actor=owner, project=project, tasks=[{}] * 4)
    assert caught.value.field == "tasks"
    with pytest.raises(InvalidInput) as caught:
        tasks_bulk_apply(actor=owner, project=project, dependencies=[{}] * 3)
    assert caught.value.field == "dependencies"
    with pytest.raises(InvalidInput) as caught:
        tasks_bulk_apply(actor=owner, project=project, tasks=[], dependencies=[])
    assert set(caught.value.field_errors()) == {"tasks", "dependencies"}


def test_a_large_import_refreshes_planner_statistics_after_commit(owner, project, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    monkeypatch.setattr(bulk, "ANALYZE_FROM", 3)
    keys = uids(3)
    with django_capture_on_commit_callbacks(execute=False) as small:
        tasks_bulk_apply(actor=owner, project=project, tasks=[{"uid": keys[0], "name": "One"}])
    assert bulk._refresh_statistics not in small
    with django_capture_on_commit_callbacks(execute=False) as large:
        tasks_bulk_apply(actor=owner, project=project, tasks=[{"uid": k, "name": "Many"} for k in keys[1:]],
                         dependencies=[{"predecessor": keys[1], "successor": keys[2]}])
    assert bulk._refresh_statistics in large
    with CaptureQueriesContext(connection) as captured:
        bulk._refresh_statistics()
    analyzed = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("ANALYZE")]
    assert len(analyzed) == (1 if connection.vendor == "postgresql" else 0)


# ---------------------------------------------------------------- uids per project, and no existence oracle

def test_a_uid_is_unique_within_its_project_only(owner, project, site, outsider):
    theirs = make_project(outsider, name="Theirs")
    link = Dependency.objects.get(predecessor=site["a"], successor=site["b"])
    result = tasks_bulk_apply(actor=outsider, project=theirs, tasks=[{"uid": site["a"].uid, "name": "Mine"},
                                                                     {"uid": site["b"].uid, "name": "Also mine"}],
                              dependencies=[{"uid": link.uid, "predecessor": site["a"].uid,
                                             "successor": site["b"].uid}])
    assert [WorkItem.objects.get(pk=t.id).project_id for t in result.tasks] == [theirs.pk, theirs.pk]
    assert Dependency.objects.get(pk=result.dependencies[0].id).uid == link.uid
    assert WorkItem.objects.filter(uid=site["a"].uid).count() == 2
    # In one project the database refuses a second row with a uid, whatever wrote it.
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkItem.objects.create(project=theirs, uid=site["a"].uid, name="Twin", status=site["a"].status,
                                type=site["a"].type, priority=site["a"].priority)
    with pytest.raises(IntegrityError), transaction.atomic():
        Dependency.objects.create(project=project, uid=link.uid, predecessor=site["b"], successor=site["c"])


def test_a_links_uid_is_kept_and_a_taken_one_is_refused(owner, project, site):
    chosen = uuid.uuid4()
    result = tasks_bulk_apply(actor=owner, project=project,
                              dependencies=[{"uid": chosen, "predecessor": site["b"].pk, "successor": site["c"].pk}])
    assert Dependency.objects.get(pk=result.dependencies[0].id).uid == chosen
    before = fingerprint()
    with pytest.raises(Conflict) as caught:
        tasks_bulk_apply(actor=owner, project=project, dependencies=[
            {"uid": chosen, "predecessor": site["a"].pk, "successor": site["c"].pk}])
    assert (caught.value.field, caught.value.code) == ("dependencies[0].uid", "duplicate_uid")
    assert fingerprint() == before


@pytest.mark.parametrize("kind", ["task", "link"])
def test_the_nil_uuid_cannot_be_a_new_rows_uid(owner, project, site, kind):
    nil = uuid.UUID(int=0)
    before = fingerprint()
    with pytest.raises(InvalidInput) as caught:
        if kind == "task":
            tasks_bulk_apply(actor=owner, project=project, tasks=[{"uid": nil, "name": "X"}])
        else:
            tasks_bulk_apply(actor=owner, project=project, dependencies=[
                {"uid": str(nil), "predecessor": site["b"].pk, "successor": site["c"].pk}])
    field = "tasks[0].uid" if kind == "task" else "dependencies[0].uid"
    assert caught.value.field == field and field in caught.value.field_errors()
    assert fingerprint() == before


def test_a_task_of_another_project_is_refused_in_the_words_of_a_missing_one(owner, project, site):
    """Visible or not, a task of another project is no task here: naming one must not say more than naming
    an id that does not exist."""
    elsewhere = task_create(actor=owner, project=make_project(owner, name="Sister"), name="Far").pk
    absent = elsewhere + 10**6
    mine = site["c"].pk
    shapes = [
        ([{"uid": NEW, "name": "X", "parent": "REF"}], []),
        ([{"id": "REF", "duration": 4}], []),
        ([{"id": mine, "parent": "REF"}], []),
        ([], [{"predecessor": "REF", "successor": mine}]),
        ([], [{"predecessor": mine, "successor": "REF"}]),
    ]

    def refusal(tasks, links, ref):
        fill = lambda rows: [{k: (ref if v == "REF" else v) for k, v in r.items()} for r in rows]  # noqa: E731
        before = fingerprint()
        with pytest.raises(InvalidInput) as caught:
            tasks_bulk_apply(actor=owner, project=project, tasks=fill(tasks), dependencies=fill(links))
        assert fingerprint() == before
        exc = caught.value
        return type(exc), exc.code, exc.field, exc.message.replace(str(ref), "N"), \
            {k: [m.replace(str(ref), "N") for m in v] for k, v in exc.field_errors().items()}

    for tasks, links in shapes:
        assert refusal(tasks, links, elsewhere) == refusal(tasks, links, absent), (tasks, links)


def test_new_and_edited_tasks_take_a_calendar_their_project_may_use(owner, project, site):
    shared = calendar_create(actor=owner, name="Shared week")
    own = calendar_create(actor=owner, name="Own week", project=project)
    foreign = calendar_create(actor=owner, name="Sister's week", project=make_project(owner, name="Sister"))
    new = uuid.uuid4()
    tasks_bulk_apply(actor=owner, project=project, tasks=[{"uid": new, "name": "X", "calendar": shared},
                                                         {"id": site["c"].pk, "calendar": own}])
    assert WorkItem.objects.get(uid=new).calendar_id == shared.pk
    assert WorkItem.objects.get(pk=site["c"].pk).calendar_id == own.pk
    for row in ({"uid": uuid.uuid4(), "name": "Y", "calendar": foreign}, {"id": site["a"].pk, "calendar": foreign}):
        before = fingerprint()
        with pytest.raises(InvalidInput) as caught:
            tasks_bulk_apply(actor=owner, project=project, tasks=[row])
        assert caught.value.field == "tasks[0].calendar"
        assert fingerprint() == before
