"""A manually scheduled work item may have no dates at all (OpenProject's default for a new work package): it
takes no part in the schedule. Only a caller that offers such items asks for them (``allow_undated``); the v1
dialect keeps TruePPM's rule that a manual task has a start. The project starts on Monday 5 January 2026."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import InvalidInput
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import dependency_create, task_create, task_update
from keelplan.scheduling.models import ProjectSchedule
from keelplan.scheduling.selectors import computed_fields

from conftest import client_for

pytestmark = pytest.mark.django_db
D = dt.date


def early(task):
    found = computed_fields(task.project_id, [task.pk]).get(task.pk)
    return None if found is None else (found["early_start"], found["early_finish"])


def undated(owner, project, name="Undated", **fields):
    return task_create(actor=owner, project=project, name=name, scheduling_mode="manual", allow_undated=True,
                       **fields)


def test_an_undated_manual_item_has_no_computed_dates_and_moves_nothing(owner, project):
    loose = undated(owner, project, duration=30)
    after = task_create(actor=owner, project=project, name="After", duration=2)
    link = dependency_create(actor=owner, predecessor=loose, successor=after)
    assert (loose.manual_start, loose.manual_finish) == (None, None)
    assert early(loose) is None
    assert early(after) == (D(2026, 1, 5), D(2026, 1, 6))   # the link from the undated item is ignored
    row = ProjectSchedule.objects.get(project=project)
    assert (row.task_count, row.project_finish, row.critical_path) == (1, D(2026, 1, 6), [after.pk])
    assert WorkItem.objects.get(pk=loose.pk).is_critical is False
    assert Dependency.objects.get(pk=link.pk).is_driving is False


def test_giving_it_dates_puts_it_in_the_schedule_and_clearing_them_takes_it_out(owner, project):
    loose = undated(owner, project)
    after = task_create(actor=owner, project=project, name="After", duration=2)
    link = dependency_create(actor=owner, predecessor=loose, successor=after)
    task_update(actor=owner, task=loose, manual_start=D(2026, 1, 12), manual_finish=D(2026, 1, 14))
    assert early(loose) == (D(2026, 1, 12), D(2026, 1, 14))
    assert early(after) == (D(2026, 1, 15), D(2026, 1, 16))
    assert Dependency.objects.get(pk=link.pk).is_driving is True
    assert WorkItem.objects.get(pk=loose.pk).is_critical is True
    seq = ChangeEvent.objects.filter(entity="schedule").order_by("-seq").values_list("seq", flat=True).first()

    task_update(actor=owner, task=loose, manual_start=None, manual_finish=None, allow_undated=True)
    assert early(loose) is None
    assert early(after) == (D(2026, 1, 5), D(2026, 1, 6))
    assert WorkItem.objects.get(pk=loose.pk).is_critical is False
    assert Dependency.objects.get(pk=link.pk).is_driving is False
    # The schedule event names the item that left the schedule, so offline clients drop its computed dates.
    (event,) = ChangeEvent.objects.filter(entity="schedule", seq__gt=seq)
    named = {t for first, last in event.changes["work_items"] for t in range(first, last + 1)}
    assert {loose.pk, after.pk} <= named


def test_a_parent_all_of_whose_children_are_undated_is_out_too_but_one_dated_child_keeps_it_a_summary(owner, project):
    parent = undated(owner, project, "Parent")
    first = undated(owner, project, "First", parent=parent)
    second = undated(owner, project, "Second", parent=parent)
    assert (early(parent), early(first), early(second)) == (None, None, None)
    task_update(actor=owner, task=second, scheduling_mode="auto", duration=3)
    assert early(second) == (D(2026, 1, 5), D(2026, 1, 7))
    assert early(parent) == (D(2026, 1, 5), D(2026, 1, 7))   # a summary of its dated child
    assert early(first) is None


def test_a_finish_without_a_start_is_refused_even_where_undated_items_are_offered(owner, project):
    with pytest.raises(InvalidInput) as caught:
        undated(owner, project, manual_finish=D(2026, 1, 9))
    assert (caught.value.field, caught.value.code) == ("manual_start", "required")
    assert not WorkItem.objects.filter(project=project).exists()


def test_without_allow_undated_a_manual_item_still_needs_a_start(owner, project):
    with pytest.raises(InvalidInput) as caught:
        task_create(actor=owner, project=project, name="X", scheduling_mode="manual")
    assert (caught.value.field, caught.value.code) == ("manual_start", "required")
    task = task_create(actor=owner, project=project, name="Y")
    with pytest.raises(InvalidInput):
        task_update(actor=owner, task=task, scheduling_mode="manual")
    assert WorkItem.objects.get(pk=task.pk).scheduling_mode == "auto"


def test_v1_refuses_an_undated_manual_task_as_before_but_may_rename_one_another_dialect_made(owner, project):
    api = client_for(owner)
    answer = api.post("/api/v1/tasks/", {"project": project.pk, "name": "X", "scheduling_mode": "manual"},
                      format="json")
    assert answer.status_code == 400 and "manual_start" in str(answer.json())
    loose = undated(owner, project)
    answer = api.patch(f"/api/v1/tasks/{loose.pk}/", {"name": "Renamed"}, format="json")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["name"], body["manual_start"], body["early_start"], body["is_critical"]) == ("Renamed", None,
                                                                                                None, False)
    answer = api.patch(f"/api/v1/tasks/{loose.pk}/", {"manual_finish": "2026-01-09"}, format="json")
    assert answer.status_code == 400
    assert WorkItem.objects.get(pk=loose.pk).manual_finish is None
