"""Writes for working calendars and their exceptions: shared calendars by workspace administrators, a project's
own calendars by that project's Admins and Owners."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from keelplan.calendars.models import ALL_DAYS, MONDAY_TO_FRIDAY, Calendar, CalendarException
from keelplan.changelog.services import Change, ChangeAction, change_record, diff, snapshot
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput
from keelplan.core.models import check_lock_version
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Fields, Integer, Number, Reference, Text, require_text, require_time_zone
from keelplan.core.workspace import require_workspace_admin
from keelplan.permissions import Action, require
from keelplan.portfolio.models import Project

CALENDAR_FIELDS = ("name", "working_days", "hours_per_day", "timezone")
EXCEPTION_FIELDS = ("calendar", "start", "end", "description", "is_working")
MAX_EXCEPTIONS = 5000


CALENDAR_INPUT = Fields(
    name=Text(255), working_days=Integer(1, ALL_DAYS), hours_per_day=Number("0.5", 24), timezone=Text(64),
)
assert set(CALENDAR_INPUT) == set(CALENDAR_FIELDS)


def _clean(fields: dict) -> dict:
    if "timezone" in fields and fields["timezone"] in (None, ""):
        fields["timezone"] = "UTC"
    return CALENDAR_INPUT.clean(fields)


def _validate(calendar: Calendar) -> None:
    """The rules beyond each value's own: a time zone that exists."""
    require_time_zone(calendar.timezone, field="timezone")


def _require_writer(actor, calendar: Calendar, *, action: str) -> None:
    """A shared calendar is written by workspace administrators; a project's own by its Admins and Owners
    (a non-member of that project is told it does not exist)."""
    if calendar.project_id is None:
        require_workspace_admin(actor, action=f"{action} shared calendars")
    else:
        require(actor, Action.PROJECT_CALENDAR_MANAGE, calendar.project)


def _clean_exceptions(rows) -> list[dict]:
    if not isinstance(rows, list):
        raise InvalidInput("Must be a list.", field="exceptions", code=ErrorCode.INVALID_TYPE, expected="list")
    if len(rows) > MAX_EXCEPTIONS:
        raise InvalidInput(f"At most {MAX_EXCEPTIONS} exceptions.", field="exceptions", code=ErrorCode.TOO_MANY,
                           max_count=MAX_EXCEPTIONS)
    cleaned = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(f"Exception {i}: must be an object.", field="exceptions", code=ErrorCode.INVALID_TYPE,
                               expected="object")
        start, end = row.get("start"), row.get("end") or row.get("start")
        if not isinstance(start, dt.date):
            raise InvalidInput(f"Exception {i}: a start date is required.", field="exceptions",
                               code=ErrorCode.REQUIRED)
        if not isinstance(end, dt.date) or end < start:
            raise InvalidInput(f"Exception {i}: the end cannot be before the start.", field="exceptions",
                               code=ErrorCode.FINISH_BEFORE_START)
        description = require_text(row.get("description", ""), field="exceptions", max_length=255, allow_blank=True)
        cleaned.append({"start": start, "end": end, "description": description,
                        "is_working": bool(row.get("is_working", False))})
    return cleaned


def _replace_exceptions(calendar: Calendar, rows: list[dict]) -> list[Change]:
    now = timezone.now()
    old_ids = list(CalendarException.objects.filter(calendar=calendar).values_list("id", flat=True))
    CalendarException.objects.filter(pk__in=old_ids).soft_delete(at=now)
    created = CalendarException.objects.bulk_create([CalendarException(calendar=calendar, **row) for row in rows])
    changes = [Change("calendar_exception", i, ChangeAction.DELETED) for i in old_ids]
    for exc in created:
        if exc.pk is None:  # backends without RETURNING on bulk insert
            exc = CalendarException.objects.filter(calendar=calendar, start=exc.start, end=exc.end).last()
        changes.append(Change("calendar_exception", exc.pk, ChangeAction.CREATED,
                              diff({}, snapshot(exc, EXCEPTION_FIELDS))))
    return changes


@write_transaction()
def calendar_create(
    *, actor, name: str, working_days: int = MONDAY_TO_FRIDAY, hours_per_day=Decimal(8), timezone: str = "UTC",
    exceptions: list[dict] | None = None, project: Project | None = None,
) -> Calendar:
    """A shared calendar (``project`` None: workspace administrators) or one of ``project``'s own (its Admins)."""
    project = Reference(Project, null=True).clean(project, field="project")
    values = _clean({"name": name, "working_days": working_days, "hours_per_day": hours_per_day,
                     "timezone": timezone})
    calendar = Calendar(**values, project=project, created_by=actor)
    _require_writer(actor, calendar, action="create")
    _validate(calendar)
    rows = _clean_exceptions(exceptions or [])
    calendar.save()
    changes = [Change("calendar", calendar.pk, ChangeAction.CREATED, diff({}, snapshot(calendar, CALENDAR_FIELDS)))]
    changes += _replace_exceptions(calendar, rows)
    change_record(project=None, actor=actor, changes=changes)
    return calendar


@write_transaction()
def calendar_update(*, actor, calendar: Calendar, lock_version: int | None = None, exceptions=None, **fields) -> Calendar:
    """Change a calendar; ``exceptions``, when given, replaces the whole exception list."""
    fields = _clean(fields)
    _require_writer(actor, calendar, action="change")
    calendar = Calendar.objects.select_for_update().get(pk=calendar.pk)
    check_lock_version(calendar, lock_version)
    before = snapshot(calendar, CALENDAR_FIELDS)
    for key, value in fields.items():
        setattr(calendar, key, value)
    _validate(calendar)
    rows = _clean_exceptions(exceptions) if exceptions is not None else None
    changes = []
    own = diff(before, snapshot(calendar, CALENDAR_FIELDS))
    if rows is not None:
        changes += _replace_exceptions(calendar, rows)
    if own or changes:
        calendar.lock_version += 1
        calendar.updated_at = timezone.now()
        calendar.save()
        changes.insert(0, Change("calendar", calendar.pk, ChangeAction.UPDATED, own))
        change_record(project=None, actor=actor, changes=changes)
    return calendar


def calendar_reference_count(calendar: Calendar) -> int:
    """Live projects, tasks and resources using the calendar (a project's own calendar: only its own rows)."""
    return (calendar.projects.filter(deleted_at__isnull=True).count()
            + calendar.work_items.filter(deleted_at__isnull=True, project__deleted_at__isnull=True).count()
            + calendar.resources.filter(deleted_at__isnull=True).count())


@write_transaction()
def calendar_delete(*, actor, calendar: Calendar) -> None:
    """Soft-delete a calendar no live project, task or resource uses (409 ``calendar_in_use`` otherwise)."""
    _require_writer(actor, calendar, action="delete")
    Calendar.objects.select_for_update().filter(pk=calendar.pk).first()
    used = calendar_reference_count(calendar)
    if used:
        raise Conflict(f"The calendar is used by {used} project(s), task(s) or resource(s).", code=ErrorCode.CALENDAR_IN_USE,
                       reference_count=used)
    Calendar.objects.filter(pk=calendar.pk).soft_delete()
    change_record(project=None, actor=actor, changes=[Change("calendar", calendar.pk, ChangeAction.DELETED)])


@write_transaction()
def calendar_set_default(*, actor, calendar: Calendar) -> Calendar:
    """Make a live shared calendar the workspace default (workspace administrators): what projects without a
    calendar, and their tasks without one, work to. The old default stops being it; both are logged, so the
    scheduler reschedules the projects relying on the default."""
    require_workspace_admin(actor, action="choose the default calendar")
    calendar = Calendar.objects.select_for_update().filter(pk=calendar.pk).first()
    if calendar is None:
        raise InvalidInput("No such calendar.", field="calendar", code=ErrorCode.INVALID_REFERENCE, entity="calendar")
    if calendar.project_id is not None:
        raise InvalidInput("A project's own calendar cannot be the workspace default; choose a shared one.",
                           field="calendar", code=ErrorCode.INVALID)
    if calendar.is_default:
        return calendar
    now = timezone.now()
    changes = []
    # Deleted rows too: a deleted default keeps its flag, and must not come back as a second default on restore.
    for old in Calendar.all_objects.select_for_update().filter(is_default=True):
        Calendar.all_objects.filter(pk=old.pk).update(is_default=False, updated_at=now,
                                                      lock_version=old.lock_version + 1)
        changes.append(Change("calendar", old.pk, ChangeAction.UPDATED, {"is_default": [True, False]}))
    calendar.is_default, calendar.updated_at, calendar.lock_version = True, now, calendar.lock_version + 1
    calendar.save(update_fields=["is_default", "updated_at", "lock_version"])
    changes.append(Change("calendar", calendar.pk, ChangeAction.UPDATED, {"is_default": [False, True]}))
    change_record(project=None, actor=actor, changes=changes)
    return calendar
