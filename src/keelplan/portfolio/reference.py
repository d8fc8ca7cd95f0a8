"""Reference data of projects: companies, project types and project statuses; their writes and their reads.

All three are workspace rows: written by workspace administrators only, read by everyone signed in, logged in
the workspace stream. Every write runs in ``write_transaction`` and locks the workspace stream before it checks
uniqueness or defaults, so concurrent writers cannot both pass a check.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, locked_stream, row_save_changes, snapshot,
)
from keelplan.core.errors import Conflict, ErrorCode, NotFound
from keelplan.core.models import MAX_POSITION, check_lock_version, get_or_404, next_position, save_unique
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Boolean, Choice, Fields, Integer, Text
from keelplan.core.workspace import is_signed_in, require_workspace_admin
from keelplan.customfields.models import AppliesTo
from keelplan.customfields.services import custom_values_clean, custom_values_write
from keelplan.portfolio.models import Company, Project, ProjectStatus, ProjectStatusCode, ProjectType
from keelplan.timesheets.models import Activity
from keelplan.portfolio.people import company_people_count

MAX_DESCRIPTION = 100_000

COMPANY_FIELDS = ("name", "description", "is_corporate", "is_active")
PROJECT_TYPE_FIELDS = ("name", "position", "is_default", "allows_association")
PROJECT_STATUS_FIELDS = ("code", "name", "position")
COMPANY_INPUT = Fields(name=Text(255), description=Text(MAX_DESCRIPTION, blank=True, strip=False),
                       is_corporate=Boolean(), is_active=Boolean())
PROJECT_TYPE_INPUT = Fields(name=Text(255), position=Integer(0, MAX_POSITION), is_default=Boolean(),
                            allows_association=Boolean())
PROJECT_STATUS_INPUT = Fields(code=Choice(ProjectStatusCode), name=Text(100), position=Integer(0, MAX_POSITION))
assert set(COMPANY_INPUT) == set(COMPANY_FIELDS) and set(PROJECT_TYPE_INPUT) == set(PROJECT_TYPE_FIELDS)
assert set(PROJECT_STATUS_INPUT) == set(PROJECT_STATUS_FIELDS)






def _name_taken(queryset: QuerySet, name: str, label: str) -> None:
    if queryset.filter(name__iexact=name).exists():
        raise Conflict(f"A {label} named {name!r} exists already.", field="name", code=ErrorCode.DUPLICATE_NAME)


def _projects_using(field: str, row) -> int:
    """Live projects referring to ``row`` through ``field``."""
    return Project.objects.filter(**{field: row}).count()


def _in_use(label: str, used: int) -> Conflict:
    return Conflict(f"The {label} is used by {used} project(s); change them first.", code=ErrorCode.IN_USE,
                    reference_count=used)


# ---------------------------------------------------------------- companies

@write_transaction()
def company_create(*, actor, name: str, **fields) -> Company:
    """A company (workspace administrators); ``name`` unique among live companies, ignoring case."""
    require_workspace_admin(actor, action="create companies")
    values = COMPANY_INPUT.clean({"name": name, **fields})
    locked_stream(None)
    _name_taken(Company.objects.all(), values["name"], "company")
    company = Company(created_by=actor, **values)
    save_unique(company)
    change_record(project=None, actor=actor, changes=[
        Change("company", company.pk, ChangeAction.CREATED, diff({}, snapshot(company, COMPANY_FIELDS)))])
    return company


@write_transaction()
def company_update(*, actor, company: Company, lock_version: int | None = None, custom_fields: dict | None = None,
                   **fields) -> Company:
    """Change a company (workspace administrators); ``custom_fields`` (``{field id: value}``, ``None`` clears one)
    are checked against the company fields and written with it."""
    require_workspace_admin(actor, action="change companies")
    values = COMPANY_INPUT.clean(fields)
    custom = (custom_values_clean(entity=AppliesTo.COMPANY, project=None, values=custom_fields, for_create=False)
              if custom_fields is not None else {})
    locked_stream(None)
    company = Company.objects.select_for_update().filter(pk=company.pk).first()
    if company is None:
        raise NotFound("No such company.", entity="company")
    check_lock_version(company, lock_version)
    if "name" in values:
        _name_taken(Company.objects.exclude(pk=company.pk), values["name"], "company")
    before = snapshot(company, COMPANY_FIELDS)
    for key, value in values.items():
        setattr(company, key, value)
    try:
        with transaction.atomic():
            row_save_changes(company, before, COMPANY_FIELDS, entity="company", project=None, actor=actor)
    except IntegrityError:
        raise Conflict("The name is already taken.", field="name", code=ErrorCode.DUPLICATE_NAME) from None
    custom_values_write(actor=actor, entity=AppliesTo.COMPANY, obj_id=company.pk, project=None, cleaned=custom)
    return company


@write_transaction()
def company_delete(*, actor, company: Company) -> None:
    """Soft-delete a company no live project and no person belongs to; its own activities are retired with it
    (they stay on the time logged as them)."""
    require_workspace_admin(actor, action="delete companies")
    locked_stream(None)
    used = _projects_using("company", company)
    if used:
        raise _in_use("company", used)
    people = company_people_count(company)
    if people:
        raise Conflict(f"{people} person(s) belong to the company; move them to another first.",
                       code=ErrorCode.IN_USE, reference_count=people)
    activities = list(Activity.objects.filter(company_id=company.pk))
    if any(a.is_default for a in activities):
        raise Conflict("The company's activity is the workspace's default activity; make another one the default "
                       "first.", code=ErrorCode.IN_USE, reference_count=1)
    if not Company.objects.filter(pk=company.pk).soft_delete():
        raise NotFound("No such company.", entity="company")
    retired = [a for a in activities if a.is_active]
    Activity.objects.filter(pk__in=[a.pk for a in retired]).update(is_active=False)
    change_record(project=None, actor=actor, changes=[
        Change("company", company.pk, ChangeAction.DELETED),
        *[Change("activity", a.pk, ChangeAction.UPDATED, {"is_active": [True, False]}) for a in retired]])


def company_list(*, actor) -> QuerySet:
    """Live companies, for anyone signed in."""
    return Company.objects.all() if is_signed_in(actor) else Company.objects.none()


def company_get(*, actor, company_id) -> Company:
    return get_or_404(company_list(actor=actor), company_id, entity="company")


# ---------------------------------------------------------------- project types

def _clear_default_types(*, keep_pk=None) -> list[Change]:
    changes = []
    for row in ProjectType.objects.filter(is_default=True).exclude(pk=keep_pk):
        row.is_default, row.updated_at = False, timezone.now()
        row.save()
        changes.append(Change("project_type", row.pk, ChangeAction.UPDATED, {"is_default": [True, False]}))
    return changes


@write_transaction()
def project_type_create(*, actor, name: str, **fields) -> ProjectType:
    """A project type (workspace administrators). ``is_default`` makes it the one default; the first type is
    the default whatever is given. Without ``position`` it goes last."""
    require_workspace_admin(actor, action="create project types")
    values = PROJECT_TYPE_INPUT.clean({"name": name, **fields})
    locked_stream(None)
    _name_taken(ProjectType.objects.all(), values["name"], "project type")
    row = ProjectType(**values)
    if "position" not in values:
        row.position = next_position(ProjectType.objects)
    if not ProjectType.objects.filter(is_default=True).exists():
        row.is_default = True
    cleared = _clear_default_types() if row.is_default else []
    save_unique(row)
    change_record(project=None, actor=actor, changes=[
        Change("project_type", row.pk, ChangeAction.CREATED, diff({}, snapshot(row, PROJECT_TYPE_FIELDS))), *cleared])
    return row


@write_transaction()
def project_type_update(*, actor, project_type: ProjectType, **fields) -> ProjectType:
    """Change a project type. Making it the default unmarks the old one; the default cannot be unmarked itself."""
    require_workspace_admin(actor, action="change project types")
    values = PROJECT_TYPE_INPUT.clean(fields)
    locked_stream(None)
    row = ProjectType.objects.filter(pk=project_type.pk).first()
    if row is None:
        raise NotFound("No such project type.", entity="project type")
    if "name" in values:
        _name_taken(ProjectType.objects.exclude(pk=row.pk), values["name"], "project type")
    if values.get("is_default") is False and row.is_default:
        raise Conflict("Exactly one project type is the default: make another one the default instead.",
                       field="is_default", code=ErrorCode.CONFLICT)
    before = snapshot(row, PROJECT_TYPE_FIELDS)
    for key, value in values.items():
        setattr(row, key, value)
    changes = diff(before, snapshot(row, PROJECT_TYPE_FIELDS))
    if not changes:
        return row
    cleared = _clear_default_types(keep_pk=row.pk) if "is_default" in changes else []
    row.updated_at = timezone.now()
    save_unique(row)
    change_record(project=None, actor=actor, changes=[Change("project_type", row.pk, ChangeAction.UPDATED, changes),
                                                      *cleared])
    return row


@write_transaction()
def project_type_delete(*, actor, project_type: ProjectType) -> None:
    """Delete a project type that is not the default and no live project has (deleted projects lose it)."""
    require_workspace_admin(actor, action="delete project types")
    locked_stream(None)
    row = ProjectType.objects.filter(pk=project_type.pk).first()
    if row is None:
        raise NotFound("No such project type.", entity="project type")
    if row.is_default:
        raise Conflict("The default project type cannot be deleted: make another one the default first.",
                       field="is_default", code=ErrorCode.CONFLICT)
    used = _projects_using("project_type", row)
    if used:
        raise _in_use("project type", used)
    pk = row.pk
    row.delete()
    change_record(project=None, actor=actor, changes=[Change("project_type", pk, ChangeAction.DELETED)])


def project_type_list(*, actor) -> QuerySet:
    return ProjectType.objects.all() if is_signed_in(actor) else ProjectType.objects.none()


def project_type_get(*, actor, project_type_id) -> ProjectType:
    return get_or_404(project_type_list(actor=actor), project_type_id, entity="project type")


# ---------------------------------------------------------------- project statuses

def _check_status_free(values: dict, *, exclude_pk=None) -> None:
    others = ProjectStatus.objects.exclude(pk=exclude_pk)
    if "code" in values and others.filter(code=values["code"]).exists():
        raise Conflict(f"A project status with the code {values['code']!r} exists already.", field="code",
                       code=ErrorCode.DUPLICATE_IDENTIFIER)
    if "name" in values:
        _name_taken(others, values["name"], "project status")


@write_transaction()
def project_status_create(*, actor, code: str, name: str, position: int | None = None) -> ProjectStatus:
    """A project status (workspace administrators) for one of the six codes none has yet."""
    require_workspace_admin(actor, action="create project statuses")
    values = PROJECT_STATUS_INPUT.clean({"code": code, "name": name,
                                         **({} if position is None else {"position": position})})
    locked_stream(None)
    _check_status_free(values)
    row = ProjectStatus(**values)
    if position is None:
        row.position = next_position(ProjectStatus.objects)
    save_unique(row, field="code")
    change_record(project=None, actor=actor, changes=[
        Change("project_status", row.pk, ChangeAction.CREATED, diff({}, snapshot(row, PROJECT_STATUS_FIELDS)))])
    return row


@write_transaction()
def project_status_update(*, actor, project_status: ProjectStatus, **fields) -> ProjectStatus:
    """Rename or move a project status; its code stays (``code`` is refused unless unchanged)."""
    require_workspace_admin(actor, action="change project statuses")
    values = PROJECT_STATUS_INPUT.clean(fields)
    locked_stream(None)
    row = ProjectStatus.objects.filter(pk=project_status.pk).first()
    if row is None:
        raise NotFound("No such project status.", entity="project status")
    if "code" in values and values["code"] != row.code:
        raise Conflict("A project status keeps its code; create one with the new code instead.", field="code",
                       code=ErrorCode.CONFLICT)
    _check_status_free(values, exclude_pk=row.pk)
    before = snapshot(row, PROJECT_STATUS_FIELDS)
    for key, value in values.items():
        setattr(row, key, value)
    changes = diff(before, snapshot(row, PROJECT_STATUS_FIELDS))
    if changes:
        save_unique(row)
        change_record(project=None, actor=actor, changes=[
            Change("project_status", row.pk, ChangeAction.UPDATED, changes)])
    return row


@write_transaction()
def project_status_delete(*, actor, project_status: ProjectStatus) -> None:
    """Delete a project status no live project reports (deleted projects lose it)."""
    require_workspace_admin(actor, action="delete project statuses")
    locked_stream(None)
    row = ProjectStatus.objects.filter(pk=project_status.pk).first()
    if row is None:
        raise NotFound("No such project status.", entity="project status")
    used = _projects_using("status", row)
    if used:
        raise _in_use("project status", used)
    pk = row.pk
    row.delete()
    change_record(project=None, actor=actor, changes=[Change("project_status", pk, ChangeAction.DELETED)])


def project_status_list(*, actor) -> QuerySet:
    return ProjectStatus.objects.all() if is_signed_in(actor) else ProjectStatus.objects.none()


def project_status_get(*, actor, project_status_id) -> ProjectStatus:
    """By id, or by code (``on_track``), as OpenProject v3 addresses them."""
    rows = project_status_list(actor=actor)
    if isinstance(project_status_id, str) and project_status_id in ProjectStatusCode.values:
        row = rows.filter(code=project_status_id).first()
        if row is None:
            raise NotFound("No such project status.", entity="project status")
        return row
    return get_or_404(rows, project_status_id, entity="project status")
