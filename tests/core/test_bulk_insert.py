"""insert_rows: rows as dicts get their ids and the model's defaults, JSON columns round-trip, and a constraint
violation is Django's IntegrityError on every database (COPY on PostgreSQL, bulk_create elsewhere)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from keelplan.core import bulk_insert
from keelplan.core.bulk_insert import insert_rows
from keelplan.planning.models import Dependency, Priority, Status, WorkItem, WorkItemType
from keelplan.planning.services import task_create
from keelplan.changelog.models import ChangeEvent, ChangeStream

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["copy", "insert"])
def way(request, monkeypatch):
    """Every test twice: with COPY for any number of rows (on PostgreSQL), and with plain INSERTs."""
    monkeypatch.setattr(bulk_insert, "COPY_FROM", 1 if request.param == "copy" else 10**9)
    return request.param


def task_row(project, owner, name, **values):
    return {"project_id": project.pk, "author_id": owner.pk, "name": name, "status_id": Status.objects.first().pk,
            "type_id": WorkItemType.objects.first().pk, "priority_id": Priority.objects.first().pk, **values}


def test_rows_get_ids_and_defaults(owner, project):
    rows = [task_row(project, owner, "One"), task_row(project, owner, "Two", duration=4, deadline=dt.date(2026, 5, 1),
                                                      percent_complete=Decimal("12.50"))]
    insert_rows(WorkItem, rows)
    one, two = (WorkItem.objects.get(pk=row["id"]) for row in rows)
    assert (one.name, one.duration, one.lock_version, one.deleted_at, one.is_milestone) == ("One", 1, 0, None, False)
    assert isinstance(one.uid, uuid.UUID) and one.uid != two.uid
    assert one.created_at <= timezone.now()
    assert (two.duration, two.deadline, two.percent_complete) == (4, dt.date(2026, 5, 1), Decimal("12.50"))
    assert rows[1]["id"] > rows[0]["id"]


def test_foreign_keys_between_inserted_rows_and_json_columns(owner, project):
    a, b = task_create(actor=owner, project=project, name="A"), task_create(actor=owner, project=project, name="B")
    links = [{"project_id": project.pk, "predecessor_id": a.pk, "successor_id": b.pk, "dep_type": "SS", "lag": -2}]
    insert_rows(Dependency, links)
    assert Dependency.objects.get(pk=links[0]["id"]).lag == -2
    stream = ChangeStream.objects.get(project=project)
    events = [{"stream_id": stream.pk, "seq": 10_000 + n, "entity": "x", "entity_id": n, "action": "created",
               "changes": {"name": [None, "é \"quoted\""], "n": [1, 2.5]}} for n in range(3)]
    insert_rows(ChangeEvent, events)
    assert ChangeEvent.objects.get(pk=events[2]["id"]).changes == {"name": [None, "é \"quoted\""], "n": [1, 2.5]}


def test_a_violated_constraint_is_an_integrity_error(owner, project):
    taken = task_create(actor=owner, project=project, name="Taken").uid
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(WorkItem, [task_row(project, owner, "Clash", uid=taken)])
    assert WorkItem.objects.filter(name="Clash").count() == 0


def test_no_rows_is_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_rows(WorkItem, [])
