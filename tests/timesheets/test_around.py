"""Time entries where they meet the rest of the workspace: the demo, tombstone retention and the admin site."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from keelplan.changelog.models import ChangeEvent
from keelplan.demo import DEMO_PROJECT_IDENTIFIER, TIME_LOGGED, demo_load
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_delete
from keelplan.portfolio.models import Project
from keelplan.portfolio.services import project_delete
from keelplan.sync.retention import tombstones_purge
from keelplan.timesheets.models import TimeEntry
from keelplan.timesheets.selectors import minutes_spent, time_entry_list
from keelplan.timesheets.services import time_entry_create, time_entry_delete

pytestmark = pytest.mark.django_db
LONG_AGO = dt.timedelta(days=400)


def test_the_demo_logs_its_first_two_weeks_through_the_service():
    demo_load()
    project = Project.objects.get(identifier=DEMO_PROJECT_IDENTIFIER)
    entries = TimeEntry.objects.filter(project=project)
    assert entries.count() == len(TIME_LOGGED)
    assert set(entries.values_list("activity__name", flat=True)) >= {"Development", "Specification", "Management"}
    logged = set(ChangeEvent.objects.filter(entity="time_entry", action="created").values_list("entity_id", flat=True))
    assert logged == set(entries.values_list("pk", flat=True))
    tom = get_user_model().objects.get(username="tom")
    assert ChangeEvent.objects.get(entity="time_entry", entity_id=entries.get(user=tom).pk).actor.username == "marcus"
    survey = WorkItem.objects.get(project=project, name="Measured survey of Level 3")
    assert minutes_spent([survey.pk])[survey.pk] == 450 + 450 + 240 + 180
    lena = get_user_model().objects.get(username="lena")   # the client's Viewer: nobody's time but her own
    assert not time_entry_list(actor=lena).exists()
    assert time_entry_list(actor=tom).count() == len(TIME_LOGGED)


def _age(queryset) -> None:
    queryset.update(deleted_at=timezone.now() - LONG_AGO)


def test_old_deleted_entries_are_purged_and_a_purged_work_items_time_stays_on_the_project(owner, project, tasks):
    kept = time_entry_create(actor=owner, project=project, work_item=tasks[0], spent_on=dt.date(2026, 3, 2),
                             minutes=60)
    gone = time_entry_create(actor=owner, project=project, spent_on=dt.date(2026, 3, 2), minutes=60)
    recent = time_entry_create(actor=owner, project=project, spent_on=dt.date(2026, 3, 2), minutes=60)
    time_entry_delete(actor=owner, entry=gone)
    time_entry_delete(actor=owner, entry=recent)
    task_delete(actor=owner, task=tasks[0])
    _age(TimeEntry.all_objects.filter(pk=gone.pk))
    _age(WorkItem.all_objects.filter(pk=tasks[0].pk))

    counts = tombstones_purge()

    assert (counts["time_entries"], counts["tasks"]) == (1, 1)
    assert set(TimeEntry.all_objects.values_list("pk", flat=True)) == {kept.pk, recent.pk}
    kept.refresh_from_db()
    assert (kept.deleted_at, kept.work_item_id, kept.minutes) == (None, None, 60)


def test_a_deleted_project_keeps_its_live_time_and_is_not_purged(owner, project):
    time_entry_create(actor=owner, project=project, spent_on=dt.date(2026, 3, 2), minutes=60)
    project_delete(actor=owner, project=project)
    _age(Project.all_objects.filter(pk=project.pk))

    assert tombstones_purge()["projects"] == 0
    assert Project.all_objects.filter(pk=project.pk).exists() and TimeEntry.all_objects.count() == 1


@pytest.mark.parametrize("model", ["timesheets/timeentry", "timesheets/activity"])
def test_the_admin_site_shows_time_but_cannot_write_it(owner, project, model):
    entry = time_entry_create(actor=owner, project=project, spent_on=dt.date(2026, 3, 2), minutes=60)
    root = get_user_model().objects.create_superuser("root", "root@example.com", "root-password-1")
    client = Client()
    client.force_login(root)
    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/{model}/add/").status_code == 403
    pk = entry.pk if model.endswith("timeentry") else entry.activity_id
    assert client.get(f"/admin/{model}/{pk}/change/").status_code == 200
    assert client.post(f"/admin/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
