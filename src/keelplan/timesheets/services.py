"""Writes of time entries (project rows) and activities (workspace rows): rights, cleaning, rules, change log.

Who may do what is ``keelplan.permissions``: a Member logs, changes and deletes their own time (``TIME_LOG``); an
Admin also logs for another member and changes anyone's (``TIME_MANAGE``); activities are written by workspace
administrators (``WORKSPACE_MANAGE``). Entries are logged in their project's stream as ``time_entry`` events,
activities in the workspace stream as ``activity`` events. Time moves no date: the scheduler ignores both, and
neither is in an offline-sync collection.
"""

from __future__ import annotations

from django.utils import timezone

from keelplan.accounts.models import User
from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, locked_stream, project_write_lock, row_save_changes, snapshot,
)
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from keelplan.core.models import MAX_POSITION, check_lock_version, next_position, save_unique
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Boolean, Date, Fields, Integer, Reference, Text
from keelplan.permissions import Action, ProjectAccess, members_among, require, role_in
from keelplan.planning.models import WorkItem
from keelplan.portfolio.models import Project
from keelplan.timesheets.models import MAX_MINUTES, Activity, TimeEntry

MAX_COMMENT = 10_000
TIME_ENTRY_ENTITY = "time_entry"          # change-log entity name
ACTIVITY_ENTITY = "activity"
TIME_ENTRY_FIELDS = ("project", "work_item", "user", "activity", "spent_on", "minutes", "comment")
ACTIVITY_FIELDS = ("name", "position", "is_default", "is_active")
# Every writable field of a time entry and how its values are read. ``project`` is given to a create only.
TIME_ENTRY_INPUT = Fields(
    spent_on=Date(), minutes=Integer(1, MAX_MINUTES), comment=Text(MAX_COMMENT, blank=True, strip=False),
    activity=Reference(Activity, null=True, entity="activity"),
    work_item=Reference(WorkItem, null=True, entity="work item"), user=Reference(User, null=True, entity="person"),
)
ACTIVITY_INPUT = Fields(name=Text(100), position=Integer(0, MAX_POSITION), is_default=Boolean(), is_active=Boolean())
assert set(ACTIVITY_INPUT) == set(ACTIVITY_FIELDS)
assert set(TIME_ENTRY_INPUT) == set(TIME_ENTRY_FIELDS) - {"project"}


# ---------------------------------------------------------------- activities

def default_activity() -> Activity | None:
    """What an entry logged without an activity is logged as: the default activity, else the first active one;
    None when no activity is active."""
    active = Activity.objects.filter(is_active=True)
    return active.filter(is_default=True).first() or active.order_by("position", "id").first()


def _check_activity(row: Activity, values: dict, *, exclude_pk=None) -> None:
    if "name" in values and Activity.objects.exclude(pk=exclude_pk).filter(name__iexact=values["name"]).exists():
        raise Conflict(f"An activity named {values['name']!r} exists already.", field="name",
                       code=ErrorCode.DUPLICATE_NAME)
    if row.is_default and not row.is_active:
        field = "is_active" if "is_active" in values else "is_default"
        raise InvalidInput("The default activity must be active.", field=field, code=ErrorCode.NOT_ALLOWED)


def _clear_default_activity(*, keep_pk=None) -> list[Change]:
    """Unmark the default activity (unless it is ``keep_pk``); the changes to log."""
    changes = []
    for row in Activity.objects.filter(is_default=True).exclude(pk=keep_pk):
        row.is_default = False
        row.save(update_fields=["is_default"])
        changes.append(Change(ACTIVITY_ENTITY, row.pk, ChangeAction.UPDATED, {"is_default": [True, False]}))
    return changes


@write_transaction()
def activity_create(*, actor, name: str, position: int | None = None, is_default: bool = False,
                    is_active: bool = True) -> Activity:
    """An activity (workspace administrators). Without ``position`` it goes last; ``is_default`` makes it the one
    default, which must be active. Names are unique, ignoring case."""
    require(actor, Action.WORKSPACE_MANAGE)
    given = {"name": name, "is_default": is_default, "is_active": is_active}
    if position is not None:
        given["position"] = position
    values = ACTIVITY_INPUT.clean(given)
    locked_stream(None)   # one writer of workspace rows at a time: the name and default checks stay true
    row = Activity(**values)
    if position is None:
        row.position = next_position(Activity.objects)
    _check_activity(row, values)
    cleared = _clear_default_activity() if row.is_default else []
    save_unique(row)
    change_record(project=None, actor=actor, changes=[
        Change(ACTIVITY_ENTITY, row.pk, ChangeAction.CREATED, diff({}, snapshot(row, ACTIVITY_FIELDS))), *cleared,
    ])
    return row


@write_transaction()
def activity_update(*, actor, activity: Activity, **fields) -> Activity:
    """Change an activity's ``name``, ``position``, ``is_default`` or ``is_active`` (workspace administrators).
    Making it the default unmarks the previous one; unmarking it leaves no default (entries then default to the
    first active activity). An inactive activity stays on the entries that have it."""
    require(actor, Action.WORKSPACE_MANAGE)
    values = ACTIVITY_INPUT.clean(fields)
    locked_stream(None)
    row = Activity.objects.filter(pk=getattr(activity, "pk", None)).first() if isinstance(activity, Activity) else None
    if row is None:
        raise NotFound("No such activity.", entity="activity")
    before = snapshot(row, ACTIVITY_FIELDS)
    for key, value in values.items():
        setattr(row, key, value)
    _check_activity(row, values, exclude_pk=row.pk)
    changes = diff(before, snapshot(row, ACTIVITY_FIELDS))
    if not changes:
        return row
    cleared = _clear_default_activity(keep_pk=row.pk) if changes.get("is_default") == [False, True] else []
    save_unique(row)
    change_record(project=None, actor=actor, changes=[Change(ACTIVITY_ENTITY, row.pk, ChangeAction.UPDATED, changes),
                                                      *cleared])
    return row


# ---------------------------------------------------------------- time entries

def _not_found_work_item() -> InvalidInput:
    # The same words for a missing, deleted and unseen work item: existence never leaks.
    return InvalidInput("No such work item.", field="work_item", code=ErrorCode.INVALID_REFERENCE, entity="work item")


def _require_work_item_of(actor, access: ProjectAccess, item: WorkItem | None) -> None:
    """``item`` (if any) is a live work item of the access's project."""
    if item is None:
        return
    project_id = WorkItem.objects.filter(pk=item.pk).values_list("project_id", flat=True).first()
    if project_id is None:
        raise _not_found_work_item()
    if project_id != access.project.pk:
        if role_in(actor, project_id) is None:
            raise _not_found_work_item()
        raise InvalidInput("The work item belongs to another project.", field="work_item",
                           code=ErrorCode.INVALID_REFERENCE, entity="work item")


def _require_usable_activity(activity: Activity) -> None:
    if not Activity.objects.filter(pk=activity.pk, is_active=True).exists():
        raise InvalidInput(f"The activity {activity.name!r} is no longer in use.", field="activity",
                           code=ErrorCode.INVALID_REFERENCE, entity="activity")


def _require_loggable_for(actor, access: ProjectAccess, person: User) -> None:
    """Time for ``person`` other than the actor needs ``TIME_MANAGE``, and ``person`` an active member."""
    if person.pk == actor.pk:
        return
    access.require(Action.TIME_MANAGE, access.project)
    project_write_lock(access.project)   # membership changes take it too: the member stays one until we commit
    if not person.is_active or not User.objects.filter(pk=person.pk, is_active=True).exists():
        raise InvalidInput("No such active user.", field="user", code=ErrorCode.INVALID_REFERENCE, entity="person")
    if not members_among(access.project, [person.pk]):
        raise InvalidInput("Time can only be logged for a member of the project.", field="user",
                           code=ErrorCode.NOT_A_MEMBER)


@write_transaction()
def time_entry_create(*, actor, project, spent_on, minutes, user=None, work_item=None, activity=None,
                      comment: str = "") -> TimeEntry:
    """Log ``minutes`` (1 to a day's) spent on ``spent_on`` in ``project``, on one of its work items or none.

    The actor needs ``TIME_LOG`` in the project (one who cannot see it is told it does not exist). ``user``
    defaults to the actor; logging for someone else needs ``TIME_MANAGE``, and that person an active member.
    ``activity`` defaults to ``default_activity()`` and must be active. ``comment`` None is empty text.
    """
    if not isinstance(project, Project) or project.pk is None:
        raise InvalidInput("Must be a project.", field="project", code=ErrorCode.INVALID_TYPE, expected="project")
    access = ProjectAccess(actor, project)
    access.require(Action.TIME_LOG, project)
    values = TIME_ENTRY_INPUT.clean({"spent_on": spent_on, "minutes": minutes, "comment": comment,
                                     "activity": activity, "work_item": work_item, "user": user})
    person = values["user"] or actor
    _require_loggable_for(actor, access, person)
    _require_work_item_of(actor, access, values["work_item"])
    kind = values["activity"]
    if kind is None:
        kind = default_activity()
        if kind is None:
            raise InvalidInput("No activity is in use: a workspace administrator must add one first.",
                               field="activity", code=ErrorCode.REQUIRED)
    else:
        _require_usable_activity(kind)
    entry = TimeEntry(project=project, work_item=values["work_item"], user=person, activity=kind,
                      spent_on=values["spent_on"], minutes=values["minutes"], comment=values["comment"])
    entry.save()
    change_record(project=project, actor=actor, changes=[
        Change(TIME_ENTRY_ENTITY, entry.pk, ChangeAction.CREATED, diff({}, snapshot(entry, TIME_ENTRY_FIELDS)))
    ])
    return entry


def _locked_entry(actor, entry) -> tuple[TimeEntry, ProjectAccess]:
    """The live entry, locked for the transaction, and the actor's access to its project, once the actor may see
    it (``NotFound`` otherwise: a non-member, or a Viewer asking for someone else's entry, learns nothing)."""
    row = None
    if isinstance(entry, TimeEntry) and entry.pk is not None:
        row = (TimeEntry.objects.select_for_update(of=("self",)).select_related("project")
               .filter(pk=entry.pk).first())
    access = ProjectAccess(actor, row.project) if row is not None else None
    if access is None or not access.can(Action.TIME_VIEW, row):
        raise NotFound("No such time entry.", entity="time entry")
    return row, access


@write_transaction()
def time_entry_update(*, actor, entry: TimeEntry, lock_version: int | None = None, **fields) -> TimeEntry:
    """Change an entry's ``spent_on``, ``minutes``, ``comment``, ``activity``, ``work_item`` or ``user``: the
    actor's own entry with ``TIME_LOG``, anyone's with ``TIME_MANAGE`` (also needed to give it to someone else).
    A stale ``lock_version`` is refused; a write that changes nothing writes nothing."""
    if "project" in fields:
        raise InvalidInput("A time entry's project cannot change; delete it and log it in the other project.",
                           field="project", code=ErrorCode.NOT_ALLOWED)
    row, access = _locked_entry(actor, entry)
    access.require(Action.TIME_LOG, row)
    check_lock_version(row, lock_version)
    values = TIME_ENTRY_INPUT.clean(fields)
    for key in ("user", "activity"):   # a create fills these in when absent; an entry always has both
        if key in values and values[key] is None:
            raise InvalidInput("May not be empty.", field=key, code=ErrorCode.NULL)
    if "user" in values and values["user"].pk != row.user_id:
        _require_loggable_for(actor, access, values["user"])
    if values.get("work_item") is not None and values["work_item"].pk != row.work_item_id:
        _require_work_item_of(actor, access, values["work_item"])
    if "activity" in values and values["activity"].pk != row.activity_id:
        _require_usable_activity(values["activity"])
    before = snapshot(row, TIME_ENTRY_FIELDS)
    for key, value in values.items():
        setattr(row, key, value)
    row_save_changes(row, before, TIME_ENTRY_FIELDS, entity=TIME_ENTRY_ENTITY, project=row.project, actor=actor)
    return row


@write_transaction()
def time_entry_delete(*, actor, entry: TimeEntry) -> None:
    """Soft-delete an entry: the actor's own with ``TIME_LOG``, anyone's with ``TIME_MANAGE``."""
    row, access = _locked_entry(actor, entry)
    access.require(Action.TIME_LOG, row)
    TimeEntry.objects.filter(pk=row.pk).soft_delete(at=timezone.now())
    change_record(project=row.project, actor=actor, changes=[Change(TIME_ENTRY_ENTITY, row.pk, ChangeAction.DELETED)])


__all__ = [
    "ACTIVITY_ENTITY", "ACTIVITY_FIELDS", "ACTIVITY_INPUT", "MAX_COMMENT", "MAX_MINUTES", "TIME_ENTRY_ENTITY",
    "TIME_ENTRY_FIELDS", "TIME_ENTRY_INPUT", "activity_create", "activity_update", "default_activity",
    "time_entry_create", "time_entry_delete", "time_entry_update",
]
