"""Writes of time entries (project rows), activities (reference rows) and the specific activities a project or a
company chooses: rights, cleaning, rules, change log.

Who may do what is ``keelplan.permissions``: a Member logs, changes and deletes their own time (``TIME_LOG``); an
Admin also logs for another member and changes anyone's (``TIME_MANAGE``); activities, and a company's specific
activities, are written by workspace administrators (``WORKSPACE_MANAGE``); a project's specific activities by
those who change its settings (``PROJECT_UPDATE``). An entry is logged as an activity its project offers
(``selectors.activities_offered``).

Entries are logged in their project's stream as ``time_entry`` events, activities in the workspace stream as
``activity`` events. Specific activities are ``specific_activities`` events whose ``entity_id`` is the owner's id:
a project's in the project's stream, a company's in the workspace stream; each names what changed,
``activities`` (the ids held, before and after, sorted) or ``is_enabled``. Time moves no date: the scheduler
ignores all of them, and none is in an offline-sync collection.
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
from keelplan.portfolio.models import Company, Project
from keelplan.timesheets.models import MAX_MINUTES, Activity, ActivitySelection, TimeEntry
from keelplan.timesheets.selectors import activities_offered, selection_owner, specific_activities

MAX_COMMENT = 10_000
TIME_ENTRY_ENTITY = "time_entry"          # change-log entity name
ACTIVITY_ENTITY = "activity"
SPECIFIC_ACTIVITIES_ENTITY = "specific_activities"
TIME_ENTRY_FIELDS = ("project", "work_item", "user", "activity", "spent_on", "minutes", "comment")
ACTIVITY_FIELDS = ("name", "company", "position", "is_default", "is_active")
# Every writable field of a time entry and how its values are read. ``project`` is given to a create only.
TIME_ENTRY_INPUT = Fields(
    spent_on=Date(), minutes=Integer(1, MAX_MINUTES), comment=Text(MAX_COMMENT, blank=True, strip=False),
    activity=Reference(Activity, null=True, entity="activity"),
    work_item=Reference(WorkItem, null=True, entity="work item"), user=Reference(User, null=True, entity="person"),
)
# ``company`` is given to a create only.
ACTIVITY_INPUT = Fields(name=Text(100), company=Reference(Company, null=True, entity="company"),
                        position=Integer(0, MAX_POSITION), is_default=Boolean(), is_active=Boolean())
assert set(ACTIVITY_INPUT) == set(ACTIVITY_FIELDS)
assert set(TIME_ENTRY_INPUT) == set(TIME_ENTRY_FIELDS) - {"project"}


# ---------------------------------------------------------------- activities

def default_activity(project: Project | None = None) -> Activity | None:
    """What an entry logged in ``project`` without an activity is logged as: the default activity if the project
    offers it, else the first it offers; None when it offers none. Without a project: among the active
    workspace-wide activities."""
    offered = (activities_offered(project) if project is not None
               else Activity.objects.filter(is_active=True, company__isnull=True))
    return offered.filter(is_default=True).first() or offered.order_by("position", "id").first()


def _check_activity(row: Activity, values: dict, *, exclude_pk=None) -> None:
    if "name" in values and (Activity.objects.exclude(pk=exclude_pk)
                             .filter(company_id=row.company_id, name__iexact=values["name"]).exists()):
        where = "this company" if row.company_id is not None else "the workspace-wide activities"
        raise Conflict(f"An activity named {values['name']!r} exists already in {where}.", field="name",
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
                    is_active: bool = True, company: Company | None = None) -> Activity:
    """An activity (workspace administrators): workspace-wide, or ``company``'s own (a live company; it never
    changes afterwards). Without ``position`` it goes last; ``is_default`` makes it the one default, which must be
    active. Names are unique ignoring case among the company's activities, or among the workspace-wide ones."""
    require(actor, Action.WORKSPACE_MANAGE)
    given = {"name": name, "is_default": is_default, "is_active": is_active, "company": company}
    if position is not None:
        given["position"] = position
    values = ACTIVITY_INPUT.clean(given)
    locked_stream(None)   # one writer of workspace rows at a time: the name and default checks stay true
    if values["company"] is not None and not Company.objects.filter(pk=values["company"].pk).exists():
        raise InvalidInput("No such company.", field="company", code=ErrorCode.INVALID_REFERENCE, entity="company")
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
    """Change an activity's ``name``, ``position``, ``is_default`` or ``is_active`` (workspace administrators); its
    ``company`` never changes. Making it the default unmarks the previous one; unmarking it leaves no default
    (entries then default to the first activity their project offers). An inactive activity stays on the entries
    that have it."""
    require(actor, Action.WORKSPACE_MANAGE)
    if "company" in fields:
        raise InvalidInput("An activity's company cannot change; add an activity to the other company instead.",
                           field="company", code=ErrorCode.NOT_ALLOWED)
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


def _require_offered_activity(project: Project, activity: Activity) -> None:
    """``activity`` is one ``project`` offers (``activities_offered``); else the refusal says why not."""
    if activities_offered(project).filter(pk=activity.pk).exists():
        return
    row = Activity.objects.filter(pk=activity.pk).values("name", "is_active", "company_id").first()
    if row is None:
        message = "No such activity."
    elif not row["is_active"]:
        message = f"The activity {row['name']!r} is no longer in use."
    elif row["company_id"] not in (None, Project.all_objects.filter(pk=project.pk)
                                   .values_list("company_id", flat=True).first()):
        message = f"The activity {row['name']!r} belongs to another company."
    else:
        message = f"The activity {row['name']!r} is not one of this project's activities."
    raise InvalidInput(message, field="activity", code=ErrorCode.INVALID_REFERENCE, entity="activity")


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
    ``activity`` must be one the project offers (``activities_offered``); it defaults to
    ``default_activity(project)``. ``comment`` None is empty text.
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
        kind = default_activity(project)
        if kind is None:
            raise InvalidInput("This project offers no activity to log time as: a workspace administrator must add "
                               "one, or the project's specific activities must include an active one.",
                               field="activity", code=ErrorCode.REQUIRED)
    else:
        _require_offered_activity(project, kind)
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
    A new ``activity`` must be one the project offers. A stale ``lock_version`` is refused; a write that changes
    nothing writes nothing."""
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
        _require_offered_activity(row.project, values["activity"])
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


# ---------------------------------------------------------------- specific activities

def _owner_for_write(actor, owner) -> Project | Company:
    """``owner`` (a project or a company) read again, once ``actor`` may choose its specific activities: a
    project's need ``PROJECT_UPDATE`` in it (who cannot see it is told it does not exist), a company's a
    workspace administrator."""
    selection_owner(owner)   # refuses anything but a saved project or company
    if isinstance(owner, Project):
        row = Project.objects.filter(pk=owner.pk).first()
        if row is None:
            raise NotFound("Project not found.", entity="project")
        require(actor, Action.PROJECT_UPDATE, row)
        return row
    require(actor, Action.WORKSPACE_MANAGE)
    row = Company.objects.filter(pk=owner.pk).first()
    if row is None:
        raise NotFound("No such company.", entity="company")
    return row


def _locked_owner_company(owner: Project | Company) -> int | None:
    """Serialise writers of ``owner``'s selection (a project's stream, which ``project_update`` takes too, or the
    workspace stream), then the id of the company whose activities ``owner`` may choose, as it is now."""
    if isinstance(owner, Project):
        project_write_lock(owner)
        return Project.objects.filter(pk=owner.pk).values_list("company_id", flat=True).first()
    locked_stream(None)
    return owner.pk


def _usable_activity(owner: Project | Company, company_id: int | None, activity) -> Activity:
    """``activity`` read again, if ``owner`` may choose it: a workspace-wide activity, or one of ``company_id``'s."""
    Reference(Activity, entity="activity").clean(activity, field="activity")
    row = Activity.objects.filter(pk=activity.pk).first()
    if row is None:
        raise InvalidInput("No such activity.", field="activity", code=ErrorCode.INVALID_REFERENCE, entity="activity")
    if row.company_id is not None and row.company_id != company_id:
        where = "company" if isinstance(owner, Company) else ("project's company" if company_id is not None
                                                              else "project, which belongs to no company")
        raise InvalidInput(f"The activity {row.name!r} belongs to another company than this {where}.",
                           field="activity", code=ErrorCode.INVALID_REFERENCE, entity="activity")
    return row


def _held(selection: ActivitySelection | None) -> list[int]:
    return sorted(selection.activities.values_list("pk", flat=True)) if selection is not None else []


def _record_selection(actor, owner: Project | Company, changes: dict) -> None:
    change_record(project=owner if isinstance(owner, Project) else None, actor=actor, changes=[
        Change(SPECIFIC_ACTIVITIES_ENTITY, owner.pk, ChangeAction.UPDATED, changes)])


@write_transaction()
def specific_activity_attach(*, actor, owner: Project | Company, activity: Activity) -> tuple[bool, list[Activity]]:
    """Add ``activity`` to the specific activities of ``owner`` (a project or a subproject: Admin or above; a
    company: workspace administrators). It must be usable there: workspace-wide, or of the company (of the
    project's company, for a project). Attaching one already there is a conflict. Returns what
    ``selectors.specific_activities`` then reads."""
    owner = _owner_for_write(actor, owner)
    company_id = _locked_owner_company(owner)
    kind = _usable_activity(owner, company_id, activity)
    selection, _ = ActivitySelection.objects.get_or_create(**selection_owner(owner))
    held = _held(selection)
    if kind.pk in held:
        raise Conflict(f"The activity {kind.name!r} is already one of the specific activities here.",
                       field="activity", code=ErrorCode.DUPLICATE_ASSIGNMENT)
    selection.activities.add(kind)
    _record_selection(actor, owner, {"activities": [held, sorted([*held, kind.pk])]})
    return specific_activities(owner)


@write_transaction()
def specific_activity_detach(*, actor, owner: Project | Company, activity: Activity) -> tuple[bool, list[Activity]]:
    """Take ``activity`` out of ``owner``'s specific activities (rights as ``specific_activity_attach``); one not
    there is not found. With none left, the owner falls back to what it offers without a selection."""
    owner = _owner_for_write(actor, owner)
    _locked_owner_company(owner)
    Reference(Activity, entity="activity").clean(activity, field="activity")
    selection = ActivitySelection.objects.filter(**selection_owner(owner)).first()
    held = _held(selection)
    if activity.pk not in held:
        raise NotFound("No such specific activity.", entity="specific activity")
    selection.activities.remove(activity.pk)
    _record_selection(actor, owner, {"activities": [held, [pk for pk in held if pk != activity.pk]]})
    return specific_activities(owner)


@write_transaction()
def specific_activities_set_enabled(*, actor, owner: Project | Company, enabled: bool) -> tuple[bool, list[Activity]]:
    """Switch ``owner``'s specific activities on or off (rights as ``specific_activity_attach``); off, the owner
    offers what it would without a selection, and keeps its activities for when they are switched on again.
    A switch to the current state writes nothing."""
    owner = _owner_for_write(actor, owner)
    enabled = Boolean().clean(enabled, field="enabled")
    _locked_owner_company(owner)
    selection = ActivitySelection.objects.filter(**selection_owner(owner)).first()
    was = selection.is_enabled if selection is not None else True
    if was != enabled:
        if selection is None:
            ActivitySelection.objects.create(**selection_owner(owner), is_enabled=enabled)
        else:
            ActivitySelection.objects.filter(pk=selection.pk).update(is_enabled=enabled)
        _record_selection(actor, owner, {"is_enabled": [was, enabled]})
    return specific_activities(owner)


__all__ = [
    "ACTIVITY_ENTITY", "ACTIVITY_FIELDS", "ACTIVITY_INPUT", "MAX_COMMENT", "MAX_MINUTES", "SPECIFIC_ACTIVITIES_ENTITY",
    "TIME_ENTRY_ENTITY", "TIME_ENTRY_FIELDS", "TIME_ENTRY_INPUT", "activity_create", "activity_update",
    "default_activity", "specific_activities_set_enabled", "specific_activity_attach", "specific_activity_detach",
    "time_entry_create", "time_entry_delete", "time_entry_update",
]
