"""Writes for resources (workspace rows: workspace administrators only, which is also who links a resource to a
person and so lets that person edit the tasks it is assigned to) and assignments (Scheduler+ in the work item's
project)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from keelplan.calendars.selectors import require_usable_calendar
from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, project_write_lock, row_save_changes, snapshot,
)
from keelplan.core.errors import Conflict, InvalidInput, NotFound
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import require_decimal, require_text
from keelplan.core.workspace import require_workspace_admin
from keelplan.portfolio.models import Project, Role
from keelplan.portfolio.selectors import require_role, role_in
from keelplan.resources.models import MAX_UNITS, MIN_UNITS, Assignment, Resource

RESOURCE_FIELDS = ("name", "email", "job_role", "user", "calendar", "max_units")
ASSIGNMENT_FIELDS = ("work_item", "resource", "units")


def _units(value, field: str) -> Decimal:
    return require_decimal(value, field=field, low=MIN_UNITS, high=MAX_UNITS)


def _validate_resource(resource: Resource) -> None:
    resource.name = require_text(resource.name, field="name", max_length=255)
    resource.email = require_text(resource.email or "", field="email", max_length=254, allow_blank=True)
    if resource.email:
        try:
            validate_email(resource.email)
        except DjangoValidationError:
            raise InvalidInput("Enter a valid e-mail address.", field="email") from None
    resource.job_role = require_text(resource.job_role or "", field="job_role", max_length=120, allow_blank=True)
    resource.max_units = _units(resource.max_units, "max_units")
    require_usable_calendar(resource.calendar, None)  # a workspace row: shared calendars only


@write_transaction()
def resource_create(*, actor, name: str, **fields) -> Resource:
    require_workspace_admin(actor, action="create resources")
    unknown = set(fields) - set(RESOURCE_FIELDS)
    if unknown:
        raise InvalidInput("Unknown field.", field=sorted(unknown)[0])
    resource = Resource(name=name, created_by=actor, **fields)
    _validate_resource(resource)
    resource.save()
    change_record(project=None, actor=actor, changes=[
        Change("resource", resource.pk, ChangeAction.CREATED, diff({}, snapshot(resource, RESOURCE_FIELDS)))
    ])
    return resource


@write_transaction()
def resource_update(*, actor, resource: Resource, lock_version: int | None = None, **fields) -> Resource:
    require_workspace_admin(actor, action="change resources")
    unknown = set(fields) - set(RESOURCE_FIELDS)
    if unknown:
        raise InvalidInput("Unknown field.", field=sorted(unknown)[0])
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    check_lock_version(resource, lock_version)
    before = snapshot(resource, RESOURCE_FIELDS)
    for key, value in fields.items():
        setattr(resource, key, value)
    _validate_resource(resource)
    row_save_changes(resource, before, RESOURCE_FIELDS, entity="resource", project=None, actor=actor)
    return resource


@write_transaction()
def resource_delete(*, actor, resource: Resource) -> None:
    """Soft-delete a resource and its assignments."""
    require_workspace_admin(actor, action="delete resources")
    now = timezone.now()
    by_project: dict[int, list[int]] = {}
    for pk, project_id in Assignment.objects.filter(resource=resource).values_list("id", "project_id"):
        by_project.setdefault(project_id, []).append(pk)
    Assignment.objects.filter(resource=resource).soft_delete(at=now)
    Resource.objects.filter(pk=resource.pk).soft_delete(at=now)
    change_record(project=None, actor=actor, changes=[Change("resource", resource.pk, ChangeAction.DELETED)])
    for project in Project.all_objects.filter(pk__in=by_project):
        change_record(project=project, actor=actor,
                      changes=[Change("assignment", pk, ChangeAction.DELETED) for pk in by_project[project.pk]])


@write_transaction()
def assignment_create(*, actor, work_item, resource: Resource, units=Decimal("1.00")) -> Assignment:
    """Assign a resource to a work item (Scheduler or above in its project)."""
    if work_item is None or work_item.is_deleted or role_in(actor, work_item.project) is None:
        raise InvalidInput("The task does not exist.", field="task")
    project = work_item.project
    require_role(actor, project, Role.SCHEDULER, action="assign resources")
    if resource is None or resource.is_deleted:
        raise InvalidInput("The resource does not exist.", field="resource")
    units = _units(units, "units")
    project_write_lock(project)
    if Assignment.objects.filter(work_item=work_item, resource=resource).exists():
        raise Conflict("This resource is already assigned to the task.", field="resource", code="duplicate_assignment")
    assignment = Assignment(project=project, work_item=work_item, resource=resource, units=units)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise Conflict("This resource is already assigned to the task.", field="resource",
                       code="duplicate_assignment") from None
    change_record(project=project, actor=actor, changes=[
        Change("assignment", assignment.pk, ChangeAction.CREATED, diff({}, snapshot(assignment, ASSIGNMENT_FIELDS)))
    ])
    return assignment


@write_transaction()
def assignment_update(*, actor, assignment: Assignment, lock_version: int | None = None, units=None) -> Assignment:
    project = assignment.project
    require_role(actor, project, Role.SCHEDULER, action="assign resources")
    project_write_lock(project)
    assignment = Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
    if assignment is None:
        raise NotFound("Assignment not found.")
    check_lock_version(assignment, lock_version)
    if units is None:
        return assignment
    before = snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.units = _units(units, "units")
    row_save_changes(assignment, before, ASSIGNMENT_FIELDS, entity="assignment", project=project, actor=actor)
    return assignment


@write_transaction()
def assignment_delete(*, actor, assignment: Assignment) -> None:
    project = assignment.project
    require_role(actor, project, Role.SCHEDULER, action="assign resources")
    project_write_lock(project)
    if not Assignment.objects.filter(pk=assignment.pk).soft_delete():
        raise NotFound("Assignment not found.")
    change_record(project=project, actor=actor, changes=[Change("assignment", assignment.pk, ChangeAction.DELETED)])
