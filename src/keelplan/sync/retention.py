"""Tombstone retention: soft-deleted rows are kept for the sync feed for ``KEELPLAN_TOMBSTONE_RETENTION_DAYS``,
then removed for good by ``tombstones_purge`` (the ``keelplan purge`` command; run it daily).

A sync client whose last pull is older than the retention is refused (``sync_point_resolve``) before it could
miss a purged deletion, so purging never leaves a client with a row the server has forgotten.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from keelplan.calendars.models import Calendar, CalendarException
from keelplan.planning.models import Dependency, WorkItem
from keelplan.portfolio.models import Membership, Project
from keelplan.resources.models import Assignment, Resource
from keelplan.sync.models import SyncBatch
from keelplan.timesheets.models import TimeEntry


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=settings.KEELPLAN_TOMBSTONE_RETENTION_DAYS)


def tombstones_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete for good the rows soft-deleted before the retention cutoff, and the stored answers of push batches
    older than it. Returns how many rows of each kind went. Rows a kept row still refers to stay (a deleted
    calendar a deleted task still names waits for that task)."""
    cutoff = retention_cutoff(now)
    old = Q(deleted_at__lt=cutoff)
    counts: dict[str, int] = {}
    with transaction.atomic():
        # Deleted time entries are in no sync collection, but their tombstones would keep a project from going.
        counts["time_entries"] = _delete(TimeEntry.all_objects.filter(old))
        counts["task_resources"] = _delete(Assignment.all_objects.filter(old))
        counts["dependencies"] = _delete(Dependency.all_objects.filter(old))
        counts["tasks"] = _purge_tree(WorkItem, old)
        counts["memberships"] = _delete(Membership.all_objects.filter(old))
        counts["resources"] = _purge_unreferenced(Resource, old)
        counts["calendar_exceptions"] = _delete(CalendarException.all_objects.filter(old))
        counts["calendars"] = _purge_unreferenced(Calendar, old)
        counts["sync_batches"] = _delete(SyncBatch.objects.filter(created_at__lt=cutoff))
    counts["projects"] = _purge_projects(old)
    return counts


def _purge_tree(model, old: Q) -> int:
    """Leaves first: a row's ``parent`` protects it, and a deleted subtree goes in one piece."""
    total = 0
    while True:
        parents = model.all_objects.filter(parent_id__isnull=False).values("parent_id")
        leaves = model.all_objects.filter(old).exclude(pk__in=parents)
        done = _delete(leaves)
        if not done:
            return total
        total += done


def _delete(queryset) -> int:
    """Delete ``queryset``'s rows (and what cascades from them); how many of its own model went."""
    _, per_model = queryset.delete()
    return per_model.get(queryset.model._meta.label, 0)


def _purge_unreferenced(model, old: Q) -> int:
    total = 0
    for row in model.all_objects.filter(old):
        try:
            with transaction.atomic():
                row.delete()
            total += 1
        except ProtectedError:
            continue
    return total


def _purge_projects(old: Q) -> int:
    """A deleted project goes with everything in it (its change log too); one that a kept row still refers
    to (a subproject) waits."""
    total = 0
    for project in Project.all_objects.filter(old).order_by("-pk"):
        try:
            with transaction.atomic():
                WorkItem.all_objects.filter(project=project).update(parent=None)
                project.delete()
            total += 1
        except ProtectedError:
            continue
    return total


__all__ = ["retention_cutoff", "tombstones_purge"]
