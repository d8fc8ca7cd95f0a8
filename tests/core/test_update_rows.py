"""update_rows: many edited rows written in few statements, every column type round-tripping, other rows and
other columns untouched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keelplan.core import bulk_insert
from keelplan.core.bulk_insert import update_rows
from keelplan.planning.models import ConstraintType, Status, WorkItem
from keelplan.planning.services import task_create

pytestmark = pytest.mark.django_db


def test_every_kind_of_column_is_written_and_nothing_else(owner, project):
    tasks = [task_create(actor=owner, project=project, name=f"T{n}", duration=1) for n in range(4)]
    parent, untouched = tasks[0], tasks[3]
    closed = Status.objects.exclude(pk=tasks[1].status_id).first()
    stamp = timezone.now() - dt.timedelta(days=3)
    for n, task in enumerate(tasks[1:3], start=1):
        task.name = f"Renamed {n} – ünïcode"
        task.duration = 7 * n
        task.parent = parent
        task.status = closed
        task.constraint_type, task.constraint_date = ConstraintType.SNET, dt.date(2026, 3, n)
        task.percent_complete = Decimal("33.25")
        task.is_milestone = n == 2
        task.deadline = None
        task.updated_at = stamp
        task.lock_version += 1

    update_rows(WorkItem, tasks[1:3], ["name", "duration", "parent", "status", "constraint_type", "constraint_date",
                                       "percent_complete", "is_milestone", "deadline", "updated_at", "lock_version"])

    for n, task in enumerate(tasks[1:3], start=1):
        stored = WorkItem.objects.get(pk=task.pk)
        assert (stored.name, stored.duration, stored.parent_id, stored.status_id) == (
            f"Renamed {n} – ünïcode", 7 * n, parent.pk, closed.pk)
        assert (stored.constraint_type, stored.constraint_date) == (ConstraintType.SNET, dt.date(2026, 3, n))
        assert (stored.percent_complete, stored.is_milestone, stored.deadline) == (Decimal("33.25"), n == 2, None)
        assert (stored.updated_at, stored.lock_version) == (stamp, 1)
        assert stored.description == "" and stored.position == task.position
    assert WorkItem.objects.get(pk=untouched.pk).name == "T3"
    assert WorkItem.objects.get(pk=parent.pk).lock_version == 0


def test_many_rows_go_in_a_statement_per_batch_on_postgresql(owner, project, monkeypatch):
    monkeypatch.setattr(bulk_insert, "UPDATE_BATCH", 3)
    tasks = [task_create(actor=owner, project=project, name=f"T{n}") for n in range(7)]
    for task in tasks:
        task.duration = task.pk + 10

    with CaptureQueriesContext(connection) as queries:
        update_rows(WorkItem, tasks, ["duration"])

    assert {t.pk: t.duration for t in WorkItem.objects.filter(project=project)} == {t.pk: t.pk + 10 for t in tasks}
    if connection.vendor == "postgresql":
        assert [q["sql"].startswith("UPDATE") for q in queries.captured_queries] == [True] * 3


def test_nothing_to_write_runs_no_query(owner, project):
    task = task_create(actor=owner, project=project, name="T")
    with CaptureQueriesContext(connection) as queries:
        update_rows(WorkItem, [], ["duration"])
        update_rows(WorkItem, [task], [])
    assert queries.captured_queries == []
