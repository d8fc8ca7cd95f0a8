"""task_restore and POST /api/v1/tasks/{id}/restore/: a deleted task comes back with what was deleted with it."""

from __future__ import annotations

import pytest

from conftest import client_for
from keelplan.core.errors import Conflict, CyclicDependency, NotFound, PermissionDenied
from keelplan.planning.models import WorkItem
from keelplan.planning.services import dependency_create, dependency_delete, task_create, task_delete, task_restore
from keelplan.resources.models import Assignment
from keelplan.resources.services import assignment_create, resource_create
from keelplan.changelog.models import ChangeEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(owner, project):
    """A summary with a child, a link from the child to an outside task, and an assignment on the child."""
    summary = task_create(actor=owner, project=project, name="Fit-out")
    child = task_create(actor=owner, project=project, name="Partitions", parent=summary)
    after = task_create(actor=owner, project=project, name="Handover")
    link = dependency_create(actor=owner, predecessor=child, successor=after)
    booking = assignment_create(actor=owner, work_item=child, resource=resource_create(actor=owner, name="Crew"))
    return summary, child, after, link, booking


def live(row) -> bool:
    return not type(row).all_objects.get(pk=row.pk).is_deleted


def test_restore_brings_back_the_subtree_its_links_and_assignments(owner, plan):
    summary, child, after, link, booking = plan
    task_delete(actor=owner, task=summary)
    assert not any(live(r) for r in (summary, child, link, booking))
    restored = task_restore(actor=owner, task_id=summary.pk)
    assert restored.pk == summary.pk
    assert all(live(r) for r in (summary, child, after, link, booking))
    actions = set(ChangeEvent.objects.filter(action="restored").values_list("entity", "entity_id"))
    assert {("work_item", summary.pk), ("work_item", child.pk), ("dependency", link.pk),
            ("assignment", booking.pk)} <= actions


def test_restore_leaves_out_rows_deleted_on_their_own_before(owner, plan):
    summary, child, after, link, booking = plan
    dependency_delete(actor=owner, dependency=link)  # deleted earlier, by itself
    task_delete(actor=owner, task=summary)
    task_restore(actor=owner, task_id=summary.pk)
    assert live(child) and not live(link)


def test_restoring_a_live_task_changes_nothing(owner, plan):
    summary = plan[0]
    before = ChangeEvent.objects.count()
    assert task_restore(actor=owner, task_id=summary.pk).pk == summary.pk
    assert ChangeEvent.objects.count() == before


def test_a_child_cannot_come_back_under_a_deleted_parent(owner, plan):
    summary, child = plan[0], plan[1]
    task_delete(actor=owner, task=summary)
    with pytest.raises(Conflict) as err:
        task_restore(actor=owner, task_id=child.pk)
    assert err.value.code == "parent_deleted"
    assert not live(child)


def test_a_restore_that_would_close_a_cycle_is_refused(owner, project):
    # Phase P holds A and K; A links to B. While A is deleted, B is linked to the whole phase P.
    # Bringing A back (with its link A -> B) would make A wait for B, which waits for P, which holds A.
    phase = task_create(actor=owner, project=project, name="Phase")
    a = task_create(actor=owner, project=project, name="A", parent=phase)
    task_create(actor=owner, project=project, name="K", parent=phase)
    b = task_create(actor=owner, project=project, name="B")
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    task_delete(actor=owner, task=a)
    dependency_create(actor=owner, predecessor=b, successor=phase)
    with pytest.raises(CyclicDependency) as err:
        task_restore(actor=owner, task_id=a.pk)
    assert a.pk in err.value.cycle and b.pk in err.value.cycle
    assert not live(a) and not live(link)


def test_restore_needs_admin_and_hides_other_projects(members, outsider, owner, plan):
    summary = plan[0]
    task_delete(actor=owner, task=summary)
    with pytest.raises(PermissionDenied):
        task_restore(actor=members["scheduler"], task_id=summary.pk)
    with pytest.raises(NotFound):
        task_restore(actor=outsider, task_id=summary.pk)
    with pytest.raises(NotFound):
        task_restore(actor=owner, task_id=10**9)
    assert not live(summary)


def test_the_restore_endpoint(owner, members, plan):
    summary, child = plan[0], plan[1]
    api = client_for(owner)
    assert api.delete(f"/api/v1/tasks/{summary.pk}/").status_code == 204
    assert api.get(f"/api/v1/tasks/{child.pk}/").status_code == 404
    response = api.post(f"/api/v1/tasks/{summary.pk}/restore/")
    assert response.status_code == 200
    assert response.json()["id"] == summary.pk and response.json()["is_summary"] is True
    assert api.get(f"/api/v1/tasks/{child.pk}/").status_code == 200
    assert WorkItem.objects.filter(pk=child.pk).exists() and Assignment.objects.filter(work_item=child).exists()
    api.delete(f"/api/v1/tasks/{summary.pk}/")
    denied = client_for(members["member"]).post(f"/api/v1/tasks/{summary.pk}/restore/")
    assert denied.status_code == 403
