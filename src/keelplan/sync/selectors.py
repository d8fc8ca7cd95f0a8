"""Reads of the change log: what changed in a project since a client last pulled."""

from __future__ import annotations

from dataclasses import dataclass, field

from keelplan.core.errors import InvalidInput
from keelplan.planning.models import Dependency, WorkItem
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.portfolio.selectors import require_role
from keelplan.resources.models import Assignment
from keelplan.sync.models import ChangeEvent, ChangeStream

SCHEDULE_ENTITY = "schedule"

# Sync collection name -> (change-log entity, model), in the order the feed lists them.
COLLECTIONS = {
    "projects": ("project", Project),
    "tasks": ("work_item", WorkItem),
    "dependencies": ("dependency", Dependency),
    "memberships": ("membership", Membership),
    "task_resources": ("assignment", Assignment),
}


@dataclass
class Delta:
    """Rows changed after ``since`` up to ``timestamp`` (a position in the project's change stream)."""

    timestamp: int
    updated: dict = field(default_factory=dict)   # collection -> queryset of live rows
    deleted: dict = field(default_factory=dict)   # collection -> sorted ids


def sync_pull(*, actor, project: Project, since: int = 0) -> Delta:
    """The project's changes after ``since``; ``since`` 0 means everything. Viewer and above.

    ``timestamp`` is read first, so rows written while the delta is assembled are not skipped by the next
    pull: they are past the timestamp the client will send back.
    """
    require_role(actor, project, Role.VIEWER, action="pull changes")
    timestamp = ChangeStream.objects.filter(project=project).values_list("last_seq", flat=True).first() or 0
    if since < 0:
        raise InvalidInput("Must be zero or a timestamp from an earlier pull.", field="last_pulled_at")
    if since > timestamp:
        raise InvalidInput(f"This project's change log ends at {timestamp}; pull again with 0.",
                           field="last_pulled_at", code="unknown_sync_point")
    delta = Delta(timestamp=timestamp)
    if since == 0:
        for name, (_, model) in COLLECTIONS.items():
            rows = model.objects.filter(pk=project.pk) if model is Project else model.objects.filter(project=project)
            delta.updated[name] = rows.order_by("id")
            delta.deleted[name] = []
        return delta
    events = ChangeEvent.objects.filter(stream__project=project, seq__gt=since, seq__lte=timestamp)
    touched: dict[str, set[int]] = {}
    for entity, entity_id in events.exclude(entity=SCHEDULE_ENTITY).values_list("entity", "entity_id"):
        touched.setdefault(entity, set()).add(entity_id)
    # A computation's event names the tasks whose computed fields changed, as runs of ids.
    for payload in events.filter(entity=SCHEDULE_ENTITY).values_list("changes", flat=True):
        tasks = touched.setdefault("work_item", set())
        for first, last in payload.get("work_items", ()):
            tasks.update(range(first, last + 1))
    for name, (entity, model) in COLLECTIONS.items():
        ids = touched.get(entity, set())
        base = model.all_objects.filter(pk__in=ids)
        if model is not Project:
            base = base.filter(project=project)
        delta.updated[name] = model.objects.filter(pk__in=base.filter(deleted_at__isnull=True).values("pk")).order_by("id")
        delta.deleted[name] = sorted(base.filter(deleted_at__isnull=False).values_list("pk", flat=True))
    return delta
