"""Tombstone retention: what ``tombstones_purge`` removes for good, and what it keeps."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from keelplan.calendars.models import Calendar
from keelplan.calendars.services import calendar_create, calendar_delete
from keelplan.cli import main
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import dependency_create, task_create, task_delete
from keelplan.portfolio.models import Project
from keelplan.portfolio.services import project_delete
from keelplan.resources.models import Assignment, Resource
from keelplan.resources.services import assignment_create, resource_create, resource_delete
from keelplan.sync.models import SyncBatch
from keelplan.sync.retention import tombstones_purge

LATER = dt.timedelta(days=91)


def _age(queryset, by=LATER):
    """Pretend the rows were deleted ``by`` ago."""
    queryset.update(deleted_at=timezone.now() - by)


@pytest.mark.django_db
def test_a_task_deleted_longer_ago_than_the_retention_goes_with_its_subtree_links_and_assignments(owner, project):
    parent = task_create(actor=owner, project=project, name="Parent")
    child = task_create(actor=owner, project=project, name="Child", parent=parent)
    other = task_create(actor=owner, project=project, name="Other")
    dependency_create(actor=owner, predecessor=child, successor=other)
    resource = resource_create(actor=owner, name="Ann")
    assignment_create(actor=owner, work_item=child, resource=resource)
    task_delete(actor=owner, task=parent)
    _age(WorkItem.all_objects.filter(pk__in=[parent.pk, child.pk]))
    _age(Dependency.all_objects.all())
    _age(Assignment.all_objects.all())

    counts = tombstones_purge()

    assert (counts["tasks"], counts["dependencies"], counts["task_resources"]) == (2, 1, 1)
    assert list(WorkItem.all_objects.values_list("pk", flat=True)) == [other.pk]
    assert not Dependency.all_objects.exists() and not Assignment.all_objects.exists()
    assert Resource.objects.filter(pk=resource.pk).exists()


@pytest.mark.django_db
def test_rows_deleted_within_the_retention_stay_as_tombstones(owner, project):
    task = task_create(actor=owner, project=project, name="Recent")
    task_delete(actor=owner, task=task)
    _age(WorkItem.all_objects.filter(pk=task.pk), by=dt.timedelta(days=89))

    assert tombstones_purge()["tasks"] == 0
    assert WorkItem.all_objects.filter(pk=task.pk, deleted_at__isnull=False).exists()


@pytest.mark.django_db
def test_the_retention_is_read_from_the_setting(owner, project, settings):
    settings.KEELPLAN_TOMBSTONE_RETENTION_DAYS = 7
    task = task_create(actor=owner, project=project, name="A week old")
    task_delete(actor=owner, task=task)
    _age(WorkItem.all_objects.filter(pk=task.pk), by=dt.timedelta(days=8))

    assert tombstones_purge()["tasks"] == 1


@pytest.mark.django_db
def test_a_deleted_calendar_still_named_by_a_kept_row_waits(owner, project):
    used = calendar_create(actor=owner, name="Used by a tombstone")
    unused = calendar_create(actor=owner, name="Unused")
    task = task_create(actor=owner, project=project, name="Uses it", calendar=used)
    task_delete(actor=owner, task=task)            # deleted recently: kept, and still names the calendar
    calendar_delete(actor=owner, calendar=used)
    calendar_delete(actor=owner, calendar=unused)
    _age(Calendar.all_objects.all())

    counts = tombstones_purge()

    assert counts["calendars"] == 1
    assert list(Calendar.all_objects.values_list("name", flat=True)) == ["Used by a tombstone"]


@pytest.mark.django_db
def test_a_deleted_resource_and_an_old_deleted_project_go_with_everything_in_them(owner, project):
    resource = resource_create(actor=owner, name="Gone")
    resource_delete(actor=owner, resource=resource)
    task = task_create(actor=owner, project=project, name="Inside")
    project_delete(actor=owner, project=project)
    _age(Resource.all_objects.all())
    _age(Project.all_objects.filter(pk=project.pk))

    counts = tombstones_purge()

    assert (counts["resources"], counts["projects"]) == (1, 1)
    assert not Project.all_objects.filter(pk=project.pk).exists()
    assert not WorkItem.all_objects.filter(pk=task.pk).exists()


@pytest.mark.django_db
def test_stored_push_answers_older_than_the_retention_are_dropped(owner, project):
    old = SyncBatch.objects.create(project=project, actor=owner, client_batch_id=uuid.uuid4(), digest="x",
                                   response={})
    new = SyncBatch.objects.create(project=project, actor=owner, client_batch_id=uuid.uuid4(), digest="y",
                                   response={})
    SyncBatch.objects.filter(pk=old.pk).update(created_at=timezone.now() - LATER)

    assert tombstones_purge()["sync_batches"] == 1
    assert list(SyncBatch.objects.values_list("pk", flat=True)) == [new.pk]


@pytest.mark.django_db
def test_the_purge_command_reports_what_it_removed(owner, project, capsys):
    task = task_create(actor=owner, project=project, name="Old")
    task_delete(actor=owner, task=task)
    _age(WorkItem.all_objects.filter(pk=task.pk))

    assert main(["purge"]) == 0
    assert "1 tasks" in capsys.readouterr().out
    assert not WorkItem.all_objects.filter(pk=task.pk).exists()
