"""Reads of resources (workspace rows, visible to every signed-in person) and assignments (project-scoped)."""

from __future__ import annotations

from django.db.models import QuerySet

from keelplan.core.errors import NotFound
from keelplan.permissions import project_ids_visible
from keelplan.resources.models import Assignment, Resource


def resource_list(*, actor) -> QuerySet:
    return Resource.objects.all()


def assignment_list(*, actor) -> QuerySet:
    return Assignment.objects.filter(project_id__in=project_ids_visible(actor), work_item__deleted_at__isnull=True
                                     ).select_related("resource")


def assignment_get(*, actor, pk) -> Assignment:
    item = assignment_list(actor=actor).filter(pk=pk).first()
    if item is None:
        raise NotFound("Assignment not found.")
    return item
