"""Work item and dependency services without HTTP: who may write, the cascade on delete, optimistic locking,
and the link rules (self, cross-project, duplicate, cycles through the WBS)."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.calendars.services import calendar_create, calendar_update
from keelplan.core.errors import Conflict, CyclicDependency, InvalidInput, PermissionDenied, StaleLockVersion
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import (
    dependency_create, dependency_delete, dependency_update, task_create, task_delete, task_update,
)
from keelplan.resources.models import Assignment
from keelplan.resources.services import assignment_create, assignment_update, resource_create, resource_update
from keelplan.changelog.models import ChangeEvent

from conftest import make_project

pytestmark = pytest.mark.django_db


def task(owner, project, name, **fields) -> WorkItem:
    return task_create(actor=owner, project=project, name=name, **fields)


def fresh(row):
    return type(row).all_objects.get(pk=row.pk)


# ---------------------------------------------------------------- who may write tasks

@pytest.mark.parametrize(("role_name", "allowed"), [
    ("viewer", False), ("member", False), ("scheduler", False), ("admin", True), ("owner", True),
])
def test_creating_tasks_needs_admin(members, project, role_name, allowed):
    if allowed:
        task_create(actor=members[role_name], project=project, name="Dig")
    else:
        with pytest.raises(PermissionDenied):
            task_create(actor=members[role_name], project=project, name="Dig")
    assert WorkItem.objects.filter(name="Dig").exists() is allowed


@pytest.mark.parametrize(("role_name", "allowed"), [
    ("viewer", False), ("member", True), ("scheduler", False), ("admin", True), ("owner", True),
])
def test_editing_an_own_assigned_task(members, project, owner, role_name, allowed):
    mine = task(owner, project, "Mine", assignee=members[role_name])
    if allowed:
        task_update(actor=members[role_name], task=mine, duration=4)
    else:
        with pytest.raises(PermissionDenied):
            task_update(actor=members[role_name], task=mine, duration=4)
    assert (fresh(mine).duration == 4) is allowed


def test_a_member_edits_a_task_they_work_on_through_a_resource(members, project, owner):
    member = members["member"]
    work = task(owner, project, "Pour")
    me = resource_create(actor=owner, name="Me", user=member)
    with pytest.raises(PermissionDenied):
        task_update(actor=member, task=work, duration=2)
    assignment_create(actor=owner, work_item=work, resource=me)
    task_update(actor=member, task=work, duration=2)
    assert fresh(work).duration == 2


@pytest.mark.parametrize("field", ["assignee", "parent"])
def test_a_member_cannot_reassign_or_move_their_task(members, project, owner, field):
    member = members["member"]
    phase = task(owner, project, "Phase")
    mine = task(owner, project, "Mine", assignee=member)
    value = {"assignee": owner, "parent": phase}[field]
    with pytest.raises(PermissionDenied) as exc:
        task_update(actor=member, task=mine, name="Renamed too", **{field: value})
    assert exc.value.field == field
    row = fresh(mine)
    assert (row.name, row.assignee_id, row.parent_id, row.lock_version) == ("Mine", member.pk, None, 0)


def test_a_member_cannot_edit_someone_elses_task(members, project, owner):
    theirs = task(owner, project, "Theirs", assignee=members["admin"])
    with pytest.raises(PermissionDenied):
        task_update(actor=members["member"], task=theirs, name="Mine now")
    assert fresh(theirs).name == "Theirs"


@pytest.mark.parametrize(("role_name", "allowed"), [
    ("viewer", False), ("member", False), ("scheduler", False), ("admin", True), ("owner", True),
])
def test_deleting_tasks_needs_admin(members, project, owner, role_name, allowed):
    doomed = task(owner, project, "Doomed", assignee=members[role_name])
    if allowed:
        task_delete(actor=members[role_name], task=doomed)
    else:
        with pytest.raises(PermissionDenied):
            task_delete(actor=members[role_name], task=doomed)
    assert (fresh(doomed).deleted_at is not None) is allowed


def test_the_assignee_must_belong_to_the_project(project, owner, outsider):
    with pytest.raises(InvalidInput) as exc:
        task(owner, project, "Dig", assignee=outsider)
    assert exc.value.field == "assignee"
    assert not WorkItem.objects.exists()


# ---------------------------------------------------------------- cascade soft delete

@pytest.fixture
def site(project, owner):
    """root{a{a1}, b} plus loose tasks x, y; links a1->x, y->b, x->y, root->z; resources on a1, b and x."""
    root = task(owner, project, "Root")
    a = task(owner, project, "A", parent=root)
    a1 = task(owner, project, "A1", parent=a)
    b = task(owner, project, "B", parent=root)
    x, y, z = (task(owner, project, n) for n in ("X", "Y", "Z"))
    links = {
        "a1>x": dependency_create(actor=owner, predecessor=a1, successor=x),
        "y>b": dependency_create(actor=owner, predecessor=y, successor=b),
        "x>y": dependency_create(actor=owner, predecessor=x, successor=y, dep_type="SS"),
        "root>z": dependency_create(actor=owner, predecessor=root, successor=z),
    }
    crane = resource_create(actor=owner, name="Crane")
    bookings = {name: assignment_create(actor=owner, work_item=t, resource=crane)
                for name, t in (("a1", a1), ("b", b), ("x", x))}
    return {"root": root, "a": a, "a1": a1, "b": b, "x": x, "y": y, "z": z, "links": links, "bookings": bookings}


def test_deleting_a_task_takes_its_subtree_links_and_assignments(site, owner):
    task_delete(actor=owner, task=site["root"])

    for name in ("root", "a", "a1", "b"):
        assert fresh(site[name]).deleted_at is not None, name
    for name in ("x", "y", "z"):
        assert fresh(site[name]).deleted_at is None, name
    assert {k for k, link in site["links"].items() if fresh(link).deleted_at} == {"a1>x", "y>b", "root>z"}
    assert {k for k, b in site["bookings"].items() if fresh(b).deleted_at} == {"a1", "b"}
    assert list(Dependency.objects.values_list("pk", flat=True)) == [site["links"]["x>y"].pk]


def test_the_cascade_is_logged_row_by_row(site, owner, project):
    last = ChangeEvent.objects.filter(stream__project=project).order_by("-seq").first().seq
    task_delete(actor=owner, task=site["a"])
    events = ChangeEvent.objects.filter(stream__project=project, seq__gt=last).exclude(entity="schedule")
    assert {(e.entity, e.entity_id, e.action) for e in events} == {
        ("work_item", site["a"].pk, "deleted"),
        ("work_item", site["a1"].pk, "deleted"),
        ("dependency", site["links"]["a1>x"].pk, "deleted"),
        ("assignment", site["bookings"]["a1"].pk, "deleted"),
    }


def test_deleting_a_leaf_leaves_its_parent(site, owner):
    task_delete(actor=owner, task=site["a1"])
    assert fresh(site["a"]).deleted_at is None
    assert fresh(site["root"]).deleted_at is None
    assert fresh(site["links"]["a1>x"]).deleted_at is not None


def test_a_refused_delete_cascades_nothing(site, members):
    before = ChangeEvent.objects.count()
    with pytest.raises(PermissionDenied):
        task_delete(actor=members["scheduler"], task=site["root"])
    assert WorkItem.objects.count() == 7
    assert Dependency.objects.count() == 4
    assert Assignment.objects.count() == 3
    assert ChangeEvent.objects.count() == before


# ---------------------------------------------------------------- optimistic locking

def _stale_cases(owner, project):
    """(row, service call with lock_version, the field it would change) for each lockable service."""
    work = task(owner, project, "Work")
    other = task(owner, project, "Other")
    link = dependency_create(actor=owner, predecessor=work, successor=other)
    resource = resource_create(actor=owner, name="Crane")
    booking = assignment_create(actor=owner, work_item=work, resource=resource)
    calendar = calendar_create(actor=owner, name="Week")
    return {
        "task": (work, lambda v: task_update(actor=owner, task=work, lock_version=v, name="Changed"), "name"),
        "dependency": (link, lambda v: dependency_update(actor=owner, dependency=link, lock_version=v, lag=5), "lag"),
        "resource": (resource, lambda v: resource_update(actor=owner, resource=resource, lock_version=v,
                                                         name="Changed"), "name"),
        "assignment": (booking, lambda v: assignment_update(actor=owner, assignment=booking, lock_version=v,
                                                            units="0.5"), "units"),
        "calendar": (calendar, lambda v: calendar_update(actor=owner, calendar=calendar, lock_version=v,
                                                         name="Changed"), "name"),
    }


@pytest.mark.parametrize("kind", ["task", "dependency", "resource", "assignment", "calendar"])
def test_a_stale_lock_version_writes_nothing(project, owner, kind):
    row, write, field = _stale_cases(owner, project)[kind]
    events = ChangeEvent.objects.count()
    before = fresh(row)

    with pytest.raises(StaleLockVersion) as exc:
        write(before.lock_version + 1)

    assert exc.value.code == "stale_lock_version"
    assert exc.value.extra["current_lock_version"] == before.lock_version
    after = fresh(row)
    assert (getattr(after, field), after.lock_version, after.updated_at) == (
        getattr(before, field), before.lock_version, before.updated_at)
    assert ChangeEvent.objects.count() == events


@pytest.mark.parametrize("kind", ["task", "dependency", "resource", "assignment", "calendar"])
def test_the_current_lock_version_writes_and_moves_on(project, owner, kind):
    row, write, field = _stale_cases(owner, project)[kind]
    version = fresh(row).lock_version
    write(version)
    assert fresh(row).lock_version == version + 1
    with pytest.raises(StaleLockVersion):
        write(version)


def test_an_update_that_changes_nothing_keeps_the_version(project, owner):
    work = task(owner, project, "Work", duration=3)
    events = ChangeEvent.objects.count()
    task_update(actor=owner, task=work, duration=3, name="Work")
    assert fresh(work).lock_version == 0
    assert ChangeEvent.objects.count() == events


# ---------------------------------------------------------------- dependency rules

@pytest.mark.parametrize(("role_name", "allowed"), [
    ("viewer", False), ("member", False), ("scheduler", True), ("admin", True), ("owner", True),
])
def test_dependencies_need_scheduler(members, project, owner, role_name, allowed):
    a, b = task(owner, project, "A"), task(owner, project, "B")
    actor = members[role_name]
    if allowed:
        link = dependency_create(actor=actor, predecessor=a, successor=b)
        dependency_update(actor=actor, dependency=link, lag=2)
        dependency_delete(actor=actor, dependency=link)
        assert fresh(link).deleted_at is not None and fresh(link).lag == 2
    else:
        with pytest.raises(PermissionDenied):
            dependency_create(actor=actor, predecessor=a, successor=b)
        assert not Dependency.all_objects.exists()


def test_a_task_cannot_depend_on_itself(project, owner):
    a = task(owner, project, "A")
    with pytest.raises(InvalidInput) as exc:
        dependency_create(actor=owner, predecessor=a, successor=a)
    assert exc.value.code == "self_dependency"


def test_links_stay_inside_one_project(project, owner):
    other_project = make_project(owner, name="Other")
    a, b = task(owner, project, "A"), task(owner, other_project, "B")
    with pytest.raises(InvalidInput) as exc:
        dependency_create(actor=owner, predecessor=a, successor=b)
    assert exc.value.code == "cross_project_dependency"
    link = dependency_create(actor=owner, predecessor=a, successor=task(owner, project, "C"))
    with pytest.raises(InvalidInput):
        dependency_update(actor=owner, dependency=link, successor=b)
    assert fresh(link).successor_id != b.pk
    assert Dependency.objects.count() == 1


def test_duplicate_links_conflict_but_other_types_do_not(project, owner):
    a, b = task(owner, project, "A"), task(owner, project, "B")
    dependency_create(actor=owner, predecessor=a, successor=b)
    with pytest.raises(Conflict) as exc:
        dependency_create(actor=owner, predecessor=a, successor=b, lag=3)
    assert exc.value.code == "duplicate_dependency"
    dependency_create(actor=owner, predecessor=a, successor=b, dep_type="SS")
    assert Dependency.objects.count() == 2


def test_a_deleted_link_can_be_made_again(project, owner):
    a, b = task(owner, project, "A"), task(owner, project, "B")
    dependency_delete(actor=owner, dependency=dependency_create(actor=owner, predecessor=a, successor=b))
    dependency_create(actor=owner, predecessor=a, successor=b)
    assert Dependency.objects.count() == 1


def test_a_closing_link_is_refused_with_the_cycle_named(project, owner):
    a, b, c = (task(owner, project, n) for n in "ABC")
    dependency_create(actor=owner, predecessor=a, successor=b)
    dependency_create(actor=owner, predecessor=b, successor=c)
    events = ChangeEvent.objects.count()
    with pytest.raises(CyclicDependency) as exc:
        dependency_create(actor=owner, predecessor=c, successor=a)
    assert exc.value.code == "cyclic_dependency"
    assert exc.value.cycle == [a.pk, b.pk, c.pk, a.pk]
    assert "A (#" in exc.value.message and "C (#" in exc.value.message
    assert Dependency.objects.count() == 2
    assert ChangeEvent.objects.count() == events


def test_a_summary_cannot_be_linked_to_its_own_child(project, owner):
    phase = task(owner, project, "Phase")
    child = task(owner, project, "Child", parent=phase)
    for pred, succ in ((phase, child), (child, phase)):
        with pytest.raises(CyclicDependency):
            dependency_create(actor=owner, predecessor=pred, successor=succ)
    assert not Dependency.all_objects.exists()


def test_moving_a_task_under_a_phase_it_feeds_is_refused(project, owner):
    phase = task(owner, project, "Phase")
    task(owner, project, "Child", parent=phase)
    feeder = task(owner, project, "Feeder")
    dependency_create(actor=owner, predecessor=feeder, successor=phase)
    with pytest.raises(CyclicDependency) as exc:
        task_update(actor=owner, task=feeder, parent=phase)
    assert exc.value.field == "parent"
    row = fresh(feeder)
    assert (row.parent_id, row.lock_version) == (None, 0)


def test_a_task_cannot_move_under_its_own_subtask(project, owner):
    top = task(owner, project, "Top")
    low = task(owner, project, "Low", parent=task(owner, project, "Mid", parent=top))
    with pytest.raises(InvalidInput) as exc:
        task_update(actor=owner, task=top, parent=low)
    assert exc.value.code == "cyclic_parent"
    assert fresh(top).parent_id is None


def test_re_pointing_a_link_into_a_cycle_is_refused(project, owner):
    a, b, c = (task(owner, project, n) for n in "ABC")
    dependency_create(actor=owner, predecessor=a, successor=b)
    link = dependency_create(actor=owner, predecessor=b, successor=c)
    with pytest.raises(CyclicDependency):
        dependency_update(actor=owner, dependency=link, successor=a)
    row = fresh(link)
    assert (row.successor_id, row.lock_version) == (c.pk, 0)


@pytest.mark.parametrize(("fields", "field"), [
    ({"dep_type": "XX"}, "dep_type"),
    ({"lag": 40000}, "lag"),
    ({"lag": 1.5}, "lag"),
    ({"lag_unit": "weeks"}, "lag_unit"),
])
def test_bad_link_values_are_refused(project, owner, fields, field):
    a, b = task(owner, project, "A"), task(owner, project, "B")
    with pytest.raises(InvalidInput) as exc:
        dependency_create(actor=owner, predecessor=a, successor=b, **fields)
    assert exc.value.field == field
    assert not Dependency.all_objects.exists()


# ---------------------------------------------------------------- one task's own rules

@pytest.mark.parametrize(("fields", "field"), [
    ({"duration": -1}, "duration"),
    ({"duration": 40000}, "duration"),
    ({"constraint_type": "MSO"}, "constraint_date"),
    ({"scheduling_mode": "manual"}, "manual_start"),
    ({"actual_finish": dt.date(5000, 1, 9)}, "actual_finish"),
    ({"actual_start": dt.date(2026, 1, 9), "actual_finish": dt.date(2026, 1, 5)}, "actual_finish"),
    ({"percent_complete": 101}, "percent_complete"),
    ({"name": "   "}, "name"),
])
def test_task_values_are_validated_before_anything_is_written(project, owner, fields, field):
    events = ChangeEvent.objects.count()
    with pytest.raises(InvalidInput) as exc:
        task_create(actor=owner, project=project, **{"name": "Dig", **fields})
    assert exc.value.field == field
    assert not WorkItem.all_objects.exists()
    assert ChangeEvent.objects.count() == events


def test_a_milestone_has_no_duration(project, owner):
    assert task(owner, project, "Gate", is_milestone=True, duration=5).duration == 0


def test_a_task_role_check_runs_before_its_validation(members, project):
    with pytest.raises(PermissionDenied):
        task_create(actor=members["viewer"], project=project, name="", duration=-1)
    assert not WorkItem.all_objects.exists()
