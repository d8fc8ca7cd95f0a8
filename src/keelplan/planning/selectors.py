"""Permission-filtered reads of work items and dependencies: only rows of live projects the actor belongs to."""

from __future__ import annotations

from django.db.models import QuerySet

from keelplan.core.errors import NotFound
from keelplan.permissions import project_ids_visible
from keelplan.planning.models import Dependency, WorkItem


def work_item_list(*, actor) -> QuerySet:
    return WorkItem.objects.filter(project_id__in=project_ids_visible(actor)).select_related(
        "status", "type", "priority"
    )


def work_item_get(*, actor, pk) -> WorkItem:
    item = work_item_list(actor=actor).filter(pk=pk).first()
    if item is None:
        raise NotFound("Task not found.")
    return item


def dependency_list(*, actor) -> QuerySet:
    return Dependency.objects.filter(project_id__in=project_ids_visible(actor))


def dependency_get(*, actor, pk) -> Dependency:
    item = dependency_list(actor=actor).filter(pk=pk).first()
    if item is None:
        raise NotFound("Dependency not found.")
    return item
