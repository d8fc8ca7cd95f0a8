"""Writes for resources (workspace rows: workspace administrators only, which is also who links a resource to a
person and so lets that person edit the tasks it is assigned to) and assignments (Scheduler+ in the work item's
project)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from keelplan.accounts.models import User
from keelplan.calendars.models import Calendar
from keelplan.calendars.selectors import require_usable_calendar
from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, project_write_lock, row_save_changes, snapshot,
)
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Fields, Number, Reference, Text
from keelplan.core.workspace import require_workspace_admin
from keelplan.permissions import Action, ProjectAccess, require
from keelplan.portfolio.models import Project
from keelplan.resources.models import MAX_UNITS, MIN_UNITS, Assignment, Resource

RESOURCE_FIELDS = ("name", "email", "job_role", "user", "calendar", "max_units")
ASSIGNMENT_FIELDS = ("work_item", "resource", "units")


RESOURCE_INPUT = Fields(
    name=Text(255), email=Text(254, blank=True), job_role=Text(120, blank=True),
    user=Reference(User, null=True, entity="person"), calendar=Reference(Calendar, null=True),
    max_units=Number(MIN_UNITS, MAX_UNITS),
)
assert set(RESOURCE_INPUT) == set(RESOURCE_FIELDS)
UNITS_INPUT = Number(MIN_UNITS, MAX_UNITS)


def _units(value, field: str) -> Decimal:
    return UNITS_INPUT.clean(value, field=field)


def _validate_resource(resource: Resource) -> None:
    """The rules beyond each value's own: the e-mail's form and a calendar every project may use."""
    if resource.email:
        try:
            validate_email(resource.email)
        except DjangoValidationError:
            raise InvalidInput("Enter a valid e-mail address.", field="email", code=ErrorCode.INVALID_FORMAT,
                               pattern="e-mail") from None
    require_usable_calendar(resource.calendar, None)  # a workspace row: shared calendars only


@write_transaction()
def resource_create(*, actor, name: str, **fields) -> Resource:
    require_workspace_admin(actor, action="create resources")
    fields = RESOURCE_INPUT.clean({"name": name, **fields})
    resource = Resource(created_by=actor, **fields)
    _validate_resource(resource)
    resource.save()
    change_record(project=None, actor=actor, changes=[
        Change("resource", resource.pk, ChangeAction.CREATED, diff({}, snapshot(resource, RESOURCE_FIELDS)))
    ])
    return resource


@write_transaction()
def resource_update(*, actor, resource: Resource, lock_version: int | None = None, **fields) -> Resource:
    require_workspace_admin(actor, action="change resources")
    fields = RESOURCE_INPUT.clean(fields)
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
    access = ProjectAccess(actor, work_item.project) if work_item is not None and not work_item.is_deleted else None
    if access is None or not access.visible:
        raise InvalidInput("The work item does not exist.", field="task", code=ErrorCode.INVALID_REFERENCE,
                           entity="work item")
    project = work_item.project
    access.require(Action.ASSIGNMENT_MANAGE, project)
    if not isinstance(resource, Resource) or resource.is_deleted:
        raise InvalidInput("The resource does not exist.", field="resource", code=ErrorCode.INVALID_REFERENCE,
                           entity="resource")
    units = _units(units, "units")
    project_write_lock(project)
    if Assignment.objects.filter(work_item=work_item, resource=resource).exists():
        raise Conflict("This resource is already assigned to the task.", field="resource", code=ErrorCode.DUPLICATE_ASSIGNMENT)
    assignment = Assignment(project=project, work_item=work_item, resource=resource, units=units)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise Conflict("This resource is already assigned to the task.", field="resource",
                       code=ErrorCode.DUPLICATE_ASSIGNMENT) from None
    change_record(project=project, actor=actor, changes=[
        Change("assignment", assignment.pk, ChangeAction.CREATED, diff({}, snapshot(assignment, ASSIGNMENT_FIELDS)))
    ])
    return assignment


@write_transaction()
def assignment_update(*, actor, assignment: Assignment, lock_version: int | None = None, units=None) -> Assignment:
    project = assignment.project
    require(actor, Action.ASSIGNMENT_MANAGE, project)
    project_write_lock(project)
    assignment = Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
    if assignment is None:
        raise NotFound("Assignment not found.", entity="assignment")
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
    require(actor, Action.ASSIGNMENT_MANAGE, project)
    project_write_lock(project)
    if not Assignment.objects.filter(pk=assignment.pk).soft_delete():
        raise NotFound("Assignment not found.", entity="assignment")
    change_record(project=project, actor=actor, changes=[Change("assignment", assignment.pk, ChangeAction.DELETED)])
