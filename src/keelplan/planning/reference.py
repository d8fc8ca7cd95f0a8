"""Reference data of work items: the workspace's statuses, types, priorities and colour palette, each project's
versions and categories, and which types a project enables; their writes and their reads.

Workspace rows are written by workspace administrators only and read by everyone signed in; they are logged in
the workspace stream. Versions and categories are project rows: written by the project's Admins (and above),
read by those who may see the project (anyone else is told the row does not exist), logged in the project's
stream. Every write runs in ``write_transaction`` and serialises with the other writers of its stream before it
checks uniqueness or defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from keelplan.accounts.models import User
from keelplan.changelog.services import (
    Change, ChangeAction, change_record, diff, locked_stream, project_write_lock, row_save_changes, snapshot,
)
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput, NotFound, PermissionDenied
from keelplan.core.models import MAX_POSITION, check_lock_version, get_or_404, next_position, save_unique
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import Boolean, Choice, Date, Field, Fields, Integer, Reference, Text
from keelplan.core.workspace import is_signed_in, is_workspace_admin, require_workspace_admin
from keelplan.permissions import Action, can, members_among, projects_visible, require
from keelplan.planning.models import (
    HEX_COLOR_PATTERN, Category, Color, Priority, ProjectWorkItemType, Status, Version, VersionSharing, VersionStatus,
    WorkItem, WorkItemType,
)
from keelplan.portfolio.models import Project

MAX_DESCRIPTION = 100_000
_HEX = re.compile(HEX_COLOR_PATTERN)

STATUS_FIELDS = ("code", "name", "position", "color", "is_closed", "is_default", "is_readonly", "default_done_ratio",
                 "excluded_from_totals")
TYPE_FIELDS = ("code", "name", "position", "color", "is_milestone", "is_default")
PRIORITY_FIELDS = ("code", "name", "position", "color", "is_default", "is_active")
COLOR_FIELDS = ("name", "hexcode", "position")
VERSION_FIELDS = ("name", "description", "start_date", "end_date", "status", "sharing")
CATEGORY_FIELDS = ("name", "default_assignee")
ENABLING_FIELDS = ("project", "type")


class ColorValue(Field):
    """A colour: ``#RRGGBB`` text in any letter case (kept in upper case), or a palette ``Color`` (its hexcode)."""

    def convert(self, value, *, field: str) -> str:
        if isinstance(value, Color):
            if value.pk is None:
                raise InvalidInput("Must be a colour.", field=field, code=ErrorCode.INVALID_TYPE, expected="string")
            return value.hexcode
        if not isinstance(value, str):
            raise InvalidInput("Must be text.", field=field, code=ErrorCode.INVALID_TYPE, expected="string")
        value = value.strip()
        if not _HEX.fullmatch(value):
            raise InvalidInput("Must look like #RRGGBB.", field=field, code=ErrorCode.INVALID_FORMAT,
                               pattern="#RRGGBB")
        return value.upper()


_CODE = Text(40, pattern=r"[A-Za-z0-9_-]+", pattern_name="letters, digits, '-' and '_'")
_POSITION = Integer(0, MAX_POSITION)
STATUS_INPUT = Fields(
    code=_CODE, name=Text(100), position=_POSITION, color=ColorValue(), is_closed=Boolean(), is_default=Boolean(),
    is_readonly=Boolean(), default_done_ratio=Integer(0, 100, null=True), excluded_from_totals=Boolean(),
)
TYPE_INPUT = Fields(code=_CODE, name=Text(100), position=_POSITION, color=ColorValue(), is_milestone=Boolean(),
                    is_default=Boolean())
PRIORITY_INPUT = Fields(code=_CODE, name=Text(100), position=_POSITION, color=ColorValue(), is_default=Boolean(),
                        is_active=Boolean())
COLOR_INPUT = Fields(name=Text(100), hexcode=ColorValue(), position=_POSITION)
VERSION_INPUT = Fields(
    name=Text(255), description=Text(MAX_DESCRIPTION, blank=True, strip=False), start_date=Date(null=True),
    end_date=Date(null=True), status=Choice(VersionStatus), sharing=Choice(VersionSharing),
)
CATEGORY_INPUT = Fields(name=Text(255), default_assignee=Reference(User, null=True, entity="person"))
assert set(STATUS_INPUT) == set(STATUS_FIELDS) and set(TYPE_INPUT) == set(TYPE_FIELDS)
assert set(PRIORITY_INPUT) == set(PRIORITY_FIELDS) and set(COLOR_INPUT) == set(COLOR_FIELDS)
assert set(VERSION_INPUT) == set(VERSION_FIELDS) and set(CATEGORY_INPUT) == set(CATEGORY_FIELDS)






def reference_count(row: models.Model) -> int:
    """How many rows refer to ``row`` through a foreign key, soft-deleted ones included (they may be restored, and
    a protected key would refuse the delete anyway). A many-to-many relation counts through its table's rows,
    which refer to ``row`` by a foreign key like any other."""
    total = 0
    for relation in row._meta.get_fields(include_hidden=True):
        if relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one):
            total += relation.related_model._base_manager.filter(**{relation.field.name: row}).count()
    return total


# ---------------------------------------------------------------- statuses, types, priorities

@dataclass(frozen=True)
class _Kind:
    """What the three workspace lists of work item values share: a model, its fields and their input, its name
    in the change log and in messages, and how a code is made from a name (statuses: ``IN_PROGRESS``)."""

    model: type[models.Model]
    entity: str
    label: str
    fields: tuple[str, ...]
    input: Fields
    upper_codes: bool


STATUS = _Kind(Status, "status", "status", STATUS_FIELDS, STATUS_INPUT, True)
WORK_ITEM_TYPE = _Kind(WorkItemType, "work_item_type", "work item type", TYPE_FIELDS, TYPE_INPUT, False)
PRIORITY = _Kind(Priority, "priority", "priority", PRIORITY_FIELDS, PRIORITY_INPUT, False)


def _code_from(kind: _Kind, name: str) -> str:
    """A free code made from ``name`` (``In progress`` -> ``IN_PROGRESS`` / ``in_progress``)."""
    base = slugify(name).replace("-", "_").strip("_")[:34] or kind.entity
    base = base.upper() if kind.upper_codes else base
    candidate, n = base, 1
    while kind.model.objects.filter(code__iexact=candidate).exists():
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def _check_unique_values(kind: _Kind, values: dict, *, exclude_pk=None) -> None:
    others = kind.model.objects.exclude(pk=exclude_pk)
    if "name" in values and others.filter(name__iexact=values["name"]).exists():
        raise Conflict(f"A {kind.label} named {values['name']!r} exists already.", field="name",
                       code=ErrorCode.DUPLICATE_NAME)
    if "code" in values and others.filter(code__iexact=values["code"]).exists():
        raise Conflict(f"A {kind.label} with the code {values['code']!r} exists already.", field="code",
                       code=ErrorCode.DUPLICATE_IDENTIFIER)


def _clear_defaults(model, *, entity: str, keep_pk=None) -> list[Change]:
    """Unmark every default row but ``keep_pk``; the changes to log."""
    changes = []
    for row in model.objects.filter(is_default=True).exclude(pk=keep_pk):
        row.is_default = False
        if hasattr(row, "updated_at"):
            row.updated_at = timezone.now()
        row.save()
        changes.append(Change(entity, row.pk, ChangeAction.UPDATED, {"is_default": [True, False]}))
    return changes


def _check_priority_active(row, values: dict) -> None:
    if isinstance(row, Priority) and row.is_default and not row.is_active:
        field = "is_active" if "is_active" in values else "is_default"
        raise InvalidInput("The default priority must be active.", field=field, code=ErrorCode.NOT_ALLOWED)


def _value_create(kind: _Kind, *, actor, name, fields: dict):
    require_workspace_admin(actor, action=f"create a {kind.label}")
    values = kind.input.clean({"name": name, **fields})
    locked_stream(None)
    values.setdefault("code", _code_from(kind, values["name"]))
    _check_unique_values(kind, values)
    row = kind.model(**values)
    if "position" not in values:
        row.position = next_position(kind.model.objects)
    if not kind.model.objects.filter(is_default=True).exists():
        row.is_default = True   # the first row, or the first since the default went: someone must be it
    _check_priority_active(row, values)
    cleared = _clear_defaults(kind.model, entity=kind.entity) if row.is_default else []
    save_unique(row)
    change_record(project=None, actor=actor, changes=[
        Change(kind.entity, row.pk, ChangeAction.CREATED, diff({}, snapshot(row, kind.fields))), *cleared,
    ])
    return row


def _value_update(kind: _Kind, *, actor, row, fields: dict):
    require_workspace_admin(actor, action=f"change a {kind.label}")
    values = kind.input.clean(fields)
    locked_stream(None)
    row = kind.model.objects.filter(pk=row.pk).first()
    if row is None:
        raise NotFound(f"No such {kind.label}.", entity=kind.label)
    _check_unique_values(kind, values, exclude_pk=row.pk)
    if values.get("is_default") is False and row.is_default:
        raise Conflict(f"Exactly one {kind.label} is the default: make another one the default instead.",
                       field="is_default", code=ErrorCode.CONFLICT)
    before = snapshot(row, kind.fields)
    for key, value in values.items():
        setattr(row, key, value)
    _check_priority_active(row, values)
    changes = diff(before, snapshot(row, kind.fields))
    if not changes:
        return row
    cleared = _clear_defaults(kind.model, entity=kind.entity, keep_pk=row.pk) if "is_default" in changes else []
    if hasattr(row, "updated_at"):
        row.updated_at = timezone.now()
    save_unique(row)
    change_record(project=None, actor=actor, changes=[Change(kind.entity, row.pk, ChangeAction.UPDATED, changes),
                                                      *cleared])
    return row


def _value_delete(kind: _Kind, *, actor, row) -> None:
    require_workspace_admin(actor, action=f"delete a {kind.label}")
    locked_stream(None)
    row = kind.model.objects.filter(pk=row.pk).first()
    if row is None:
        raise NotFound(f"No such {kind.label}.", entity=kind.label)
    if row.is_default:
        raise Conflict(f"The default {kind.label} cannot be deleted: make another one the default first.",
                       field="is_default", code=ErrorCode.CONFLICT)
    used = reference_count(row)
    if used:
        raise Conflict(f"The {kind.label} is in use ({used} reference(s): work items, deleted ones included, or "
                       "settings); move them off it first.", code=ErrorCode.IN_USE, reference_count=used)
    pk = row.pk
    row.delete()
    change_record(project=None, actor=actor, changes=[Change(kind.entity, pk, ChangeAction.DELETED)])


@write_transaction()
def status_create(*, actor, name: str, **fields) -> Status:
    """A status (workspace administrators). Without ``code`` one is made from the name; without ``position`` it
    goes last. ``is_default`` makes it the one default; the first status is the default whatever is given."""
    return _value_create(STATUS, actor=actor, name=name, fields=fields)


@write_transaction()
def status_update(*, actor, status: Status, **fields) -> Status:
    """Change a status. Making it the default unmarks the old one; the default cannot be unmarked itself."""
    return _value_update(STATUS, actor=actor, row=status, fields=fields)


@write_transaction()
def status_delete(*, actor, status: Status) -> None:
    """Delete a status no work item (deleted ones included) uses; not the default."""
    _value_delete(STATUS, actor=actor, row=status)


@write_transaction()
def work_item_type_create(*, actor, name: str, **fields) -> WorkItemType:
    """A work item type (workspace administrators); as ``status_create``."""
    return _value_create(WORK_ITEM_TYPE, actor=actor, name=name, fields=fields)


@write_transaction()
def work_item_type_update(*, actor, type: WorkItemType, **fields) -> WorkItemType:  # noqa: A002 (the domain's word)
    return _value_update(WORK_ITEM_TYPE, actor=actor, row=type, fields=fields)


@write_transaction()
def work_item_type_delete(*, actor, type: WorkItemType) -> None:  # noqa: A002
    """Delete a type no work item, project enabling or custom field uses; not the default."""
    _value_delete(WORK_ITEM_TYPE, actor=actor, row=type)


@write_transaction()
def priority_create(*, actor, name: str, **fields) -> Priority:
    """A priority (workspace administrators); as ``status_create``. The default must be active."""
    return _value_create(PRIORITY, actor=actor, name=name, fields=fields)


@write_transaction()
def priority_update(*, actor, priority: Priority, **fields) -> Priority:
    return _value_update(PRIORITY, actor=actor, row=priority, fields=fields)


@write_transaction()
def priority_delete(*, actor, priority: Priority) -> None:
    _value_delete(PRIORITY, actor=actor, row=priority)


# ---------------------------------------------------------------- the colour palette

_PAINTED = ((Status, "status"), (WorkItemType, "work_item_type"), (Priority, "priority"))


def color_use_count(hexcode: str) -> int:
    """Statuses, types and priorities painted with ``hexcode``."""
    return sum(model.objects.filter(color__iexact=hexcode).count() for model, _ in _PAINTED)


def _check_color_free(values: dict, *, exclude_pk=None) -> None:
    others = Color.objects.exclude(pk=exclude_pk)
    if "name" in values and others.filter(name__iexact=values["name"]).exists():
        raise Conflict(f"A colour named {values['name']!r} exists already.", field="name",
                       code=ErrorCode.DUPLICATE_NAME)
    if "hexcode" in values and others.filter(hexcode__iexact=values["hexcode"]).exists():
        raise Conflict(f"The palette has {values['hexcode']} already.", field="hexcode", code=ErrorCode.DUPLICATE_NAME)


@write_transaction()
def color_create(*, actor, name: str, hexcode: str, position: int | None = None) -> Color:
    """Add a colour to the palette (workspace administrators); without ``position`` it goes last."""
    require_workspace_admin(actor, action="change the colour palette")
    values = COLOR_INPUT.clean({"name": name, "hexcode": hexcode, **({} if position is None else
                                                                     {"position": position})})
    locked_stream(None)
    _check_color_free(values)
    color = Color(**values)
    if position is None:
        color.position = next_position(Color.objects)
    save_unique(color)
    change_record(project=None, actor=actor, changes=[
        Change("color", color.pk, ChangeAction.CREATED, diff({}, snapshot(color, COLOR_FIELDS)))])
    return color


@write_transaction()
def color_update(*, actor, color: Color, **fields) -> Color:
    """Change a colour. A new hexcode repaints the statuses, types and priorities painted with the old one."""
    require_workspace_admin(actor, action="change the colour palette")
    values = COLOR_INPUT.clean(fields)
    locked_stream(None)
    color = Color.objects.filter(pk=color.pk).first()
    if color is None:
        raise NotFound("No such colour.", entity="colour")
    _check_color_free(values, exclude_pk=color.pk)
    before = snapshot(color, COLOR_FIELDS)
    for key, value in values.items():
        setattr(color, key, value)
    changes = diff(before, snapshot(color, COLOR_FIELDS))
    if not changes:
        return color
    events = [Change("color", color.pk, ChangeAction.UPDATED, changes)]
    if "hexcode" in changes:
        old, new = changes["hexcode"]
        for model, entity in _PAINTED:
            for row in model.objects.filter(color__iexact=old):
                events.append(Change(entity, row.pk, ChangeAction.UPDATED, {"color": [row.color, new]}))
                row.color = new
                if hasattr(row, "updated_at"):
                    row.updated_at = timezone.now()
                row.save()
    color.updated_at = timezone.now()
    save_unique(color)
    change_record(project=None, actor=actor, changes=events)
    return color


@write_transaction()
def color_delete(*, actor, color: Color) -> None:
    """Remove a colour no status, type or priority is painted with."""
    require_workspace_admin(actor, action="change the colour palette")
    locked_stream(None)
    color = Color.objects.filter(pk=color.pk).first()
    if color is None:
        raise NotFound("No such colour.", entity="colour")
    used = color_use_count(color.hexcode)
    if used:
        raise Conflict(f"{used} status(es), type(s) or priorit(ies) are painted with this colour.",
                       code=ErrorCode.IN_USE, reference_count=used)
    pk = color.pk
    color.delete()
    change_record(project=None, actor=actor, changes=[Change("color", pk, ChangeAction.DELETED)])


# ---------------------------------------------------------------- workspace reads

def _workspace_rows(actor, model) -> QuerySet:
    return model.objects.all() if is_signed_in(actor) else model.objects.none()


def status_list(*, actor) -> QuerySet:
    """Every status, by position, for anyone signed in."""
    return _workspace_rows(actor, Status)


def status_get(*, actor, status_id) -> Status:
    return get_or_404(status_list(actor=actor), status_id, entity="status")


def work_item_type_list(*, actor) -> QuerySet:
    return _workspace_rows(actor, WorkItemType)


def work_item_type_get(*, actor, type_id) -> WorkItemType:
    return get_or_404(work_item_type_list(actor=actor), type_id, entity="work item type")


def priority_list(*, actor, active_only: bool = False) -> QuerySet:
    rows = _workspace_rows(actor, Priority)
    return rows.filter(is_active=True) if active_only else rows


def priority_get(*, actor, priority_id) -> Priority:
    return get_or_404(priority_list(actor=actor), priority_id, entity="priority")


def color_list(*, actor) -> QuerySet:
    return _workspace_rows(actor, Color)


def color_get(*, actor, color_id) -> Color:
    return get_or_404(color_list(actor=actor), color_id, entity="colour")


def colors_by_hexcode() -> dict[str, Color]:
    """The palette keyed by upper-case hexcode: how a dialect finds the colour row of a status, type or priority."""
    return {c.hexcode.upper(): c for c in Color.objects.all()}


# ---------------------------------------------------------------- types enabled in a project

def types_enabled(project: Project) -> QuerySet:
    """The types ``project``'s work items may have: those it enables, or every type if it enables none."""
    chosen = ProjectWorkItemType.objects.filter(project_id=project.pk).values("type_id")
    if ProjectWorkItemType.objects.filter(project_id=project.pk).exists():
        return WorkItemType.objects.filter(pk__in=chosen)
    return WorkItemType.objects.all()


def default_type_for(project: Project) -> WorkItemType | None:
    """The workspace default type if ``project`` enables it, else the first type it enables."""
    enabled = types_enabled(project)
    return enabled.filter(is_default=True).first() or enabled.order_by("position", "id").first()


def require_enabled_type(type: WorkItemType, project: Project, *, field: str = "type") -> None:  # noqa: A002
    """InvalidInput naming ``field`` unless ``type`` is enabled in ``project``."""
    if not types_enabled(project).filter(pk=type.pk).exists():
        raise InvalidInput(f"The type {type.name!r} is not enabled in this project.", field=field,
                           code=ErrorCode.INVALID_REFERENCE, entity="work item type")


@write_transaction()
def project_types_set(*, actor, project: Project, types: list) -> list[WorkItemType]:
    """Enable exactly ``types`` in ``project`` (Admin or above); an empty list enables every type. A type its
    live work items have cannot be left out."""
    require(actor, Action.PROJECT_UPDATE, project)
    if not isinstance(types, (list, tuple)):
        raise InvalidInput("Must be a list of work item types.", field="types", code=ErrorCode.INVALID_TYPE,
                           expected="list")
    reference = Reference(WorkItemType, entity="work item type")
    wanted = {reference.clean(t, field="types").pk: t for t in types}
    project_write_lock(project)
    current = dict(ProjectWorkItemType.objects.filter(project_id=project.pk).values_list("type_id", "id"))
    if wanted:
        left_out = WorkItem.objects.filter(project_id=project.pk).exclude(type_id__in=list(wanted))
        used = left_out.count()
        if used:
            raise Conflict(f"{used} work item(s) of this project have a type the list leaves out.", field="types",
                           code=ErrorCode.IN_USE, reference_count=used)
    changes = []
    for type_id, link_id in current.items():
        if type_id not in wanted:
            changes.append(Change("project_work_item_type", link_id, ChangeAction.DELETED))
    ProjectWorkItemType.objects.filter(project_id=project.pk).exclude(type_id__in=list(wanted)).delete()
    for type_id in sorted(set(wanted) - set(current)):
        link = ProjectWorkItemType.objects.create(project_id=project.pk, type_id=type_id)
        changes.append(Change("project_work_item_type", link.pk, ChangeAction.CREATED,
                              diff({}, snapshot(link, ENABLING_FIELDS))))
    change_record(project=project, actor=actor, changes=changes)
    return list(types_enabled(project))


# ---------------------------------------------------------------- versions

def _descendant_ids(root_ids: set[int]) -> set[int]:
    found, frontier = set(root_ids), set(root_ids)
    while frontier:
        frontier = set(Project.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - found
        found |= frontier
    return found


def _ancestor_ids(project: Project) -> list[int]:
    """The ids above ``project``, nearest first."""
    ids, parent_id = [], project.parent_id
    while parent_id is not None and parent_id not in ids:
        ids.append(parent_id)
        parent_id = Project.all_objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return ids


def _root_of(project: Project) -> Project:
    ancestors = _ancestor_ids(project)
    return Project.all_objects.get(pk=ancestors[-1]) if ancestors else project


def projects_sharing(version: Version) -> set[int] | None:
    """The ids of the live projects whose work items may use ``version`` (None: every project)."""
    project, sharing = version.project, version.sharing
    if sharing == VersionSharing.SYSTEM:
        return None
    if sharing == VersionSharing.DESCENDANTS:
        return _descendant_ids({project.pk})
    if sharing == VersionSharing.HIERARCHY:
        return _descendant_ids({project.pk}) | set(_ancestor_ids(project))
    if sharing == VersionSharing.TREE:
        return _descendant_ids({_root_of(project).pk})
    return {project.pk}


def versions_shared_with(project: Project) -> QuerySet:
    """The live versions ``project``'s work items may use: its own, and those other live projects share with it."""
    ancestors = _ancestor_ids(project)
    root = ancestors[-1] if ancestors else project.pk
    below = _descendant_ids({project.pk}) - {project.pk}
    shared = (Q(project_id=project.pk) | Q(sharing=VersionSharing.SYSTEM)
              | Q(sharing__in=(VersionSharing.DESCENDANTS, VersionSharing.HIERARCHY), project_id__in=ancestors)
              | Q(sharing=VersionSharing.HIERARCHY, project_id__in=below)
              | Q(sharing=VersionSharing.TREE, project_id__in=_descendant_ids({root})))
    return Version.objects.filter(shared, project__deleted_at__isnull=True).select_related("project")


def versions_assignable(project: Project) -> QuerySet:
    """The versions a work item of ``project`` may be put in: shared with it and open."""
    return versions_shared_with(project).filter(status=VersionStatus.OPEN)


def require_assignable_version(version: Version | None, project: Project, *, field: str = "version") -> None:
    """InvalidInput naming ``field`` unless ``version`` is None, or shared with ``project`` and open. (Check it
    when a work item's version changes: a work item may stay in a version locked or closed since.)"""
    if version is None:
        return
    status = versions_shared_with(project).filter(pk=version.pk).values_list("status", flat=True).first()
    if status is None:
        raise InvalidInput("No such version here: it does not exist or is not shared with this project.",
                           field=field, code=ErrorCode.INVALID_REFERENCE, entity="version")
    if status != VersionStatus.OPEN:
        raise InvalidInput(f"The version is {status}: it takes no further work items.", field=field,
                           code=ErrorCode.INVALID)


def _check_version(actor, version: Version, changed: set[str]) -> None:
    if version.start_date and version.end_date and version.end_date < version.start_date:
        raise InvalidInput("The end date cannot be before the start date.", field="end_date",
                           code=ErrorCode.FINISH_BEFORE_START)
    if "name" in changed and Version.objects.filter(project_id=version.project_id, name__iexact=version.name) \
            .exclude(pk=version.pk).exists():
        raise Conflict(f"The project has a version named {version.name!r} already.", field="name",
                       code=ErrorCode.DUPLICATE_NAME)
    if "sharing" not in changed:
        return
    if version.sharing == VersionSharing.SYSTEM and not is_workspace_admin(actor):
        raise PermissionDenied("Only a workspace administrator may share a version with every project.",
                               field="sharing")
    if version.sharing == VersionSharing.TREE:
        root = _root_of(version.project)
        if root.pk != version.project_id and not can(actor, Action.PROJECT_UPDATE, root):
            raise PermissionDenied("Only an Admin of the top project may share a version with the whole tree.",
                                   field="sharing")


def _unshare(actor, version: Version) -> None:
    """Take ``version`` off the live work items of projects it is no longer shared with, logging each in its
    project's stream."""
    shared = projects_sharing(version)
    if shared is None:
        return
    moved: dict[int, list[int]] = {}
    for pk, project_id in (WorkItem.objects.filter(version=version).exclude(project_id__in=shared)
                           .values_list("id", "project_id")):
        moved.setdefault(project_id, []).append(pk)
    now = timezone.now()
    for project_id, ids in sorted(moved.items()):
        project = Project.objects.get(pk=project_id)
        project_write_lock(project)
        WorkItem.objects.filter(pk__in=ids).update(version=None, updated_at=now, lock_version=F("lock_version") + 1)
        change_record(project=project, actor=actor, changes=[
            Change("work_item", pk, ChangeAction.UPDATED, {"version": [version.pk, None]}) for pk in ids])


@write_transaction()
def work_item_versions_recheck(*, actor, project: Project) -> int:
    """Take off the live work items of ``project`` and its subprojects every version that no longer reaches
    them, each logged in its project's stream; how many were taken off. For ``project_update`` to call after a
    parent change (whose role check covers this consequence): a version shared with a hierarchy or tree may not
    reach a project that moved out of it."""
    moved = 0
    for project_id in sorted(_descendant_ids({project.pk})):
        subject = Project.objects.get(pk=project_id)
        allowed = versions_shared_with(subject).values("pk")
        rows = list(WorkItem.objects.filter(project_id=project_id, version__isnull=False)
                    .exclude(version_id__in=allowed).values_list("id", "version_id"))
        if not rows:
            continue
        project_write_lock(subject)
        WorkItem.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            version=None, updated_at=timezone.now(), lock_version=F("lock_version") + 1)
        change_record(project=subject, actor=actor, changes=[
            Change("work_item", pk, ChangeAction.UPDATED, {"version": [version_id, None]}) for pk, version_id in rows])
        moved += len(rows)
    return moved


def _require_project_admin(actor, project: Project) -> None:
    require(actor, Action.PROJECT_UPDATE, project)


@write_transaction()
def version_create(*, actor, project: Project, name: str, **fields) -> Version:
    """A version of ``project`` (its Admins and above). Sharing with the whole tree needs Admin in the top
    project; with every project, a workspace administrator."""
    _require_project_admin(actor, project)
    values = VERSION_INPUT.clean({"name": name, **fields})
    project_write_lock(project)
    version = Version(project=project, created_by=actor, **values)
    _check_version(actor, version, set(values))
    save_unique(version)
    change_record(project=project, actor=actor, changes=[
        Change("version", version.pk, ChangeAction.CREATED, diff({}, snapshot(version, VERSION_FIELDS)))])
    return version


@write_transaction()
def version_update(*, actor, version: Version, lock_version: int | None = None, **fields) -> Version:
    """Change a version. Narrower sharing takes it off the work items of the projects left out."""
    project = version.project
    _require_project_admin(actor, project)
    values = VERSION_INPUT.clean(fields)
    project_write_lock(project)
    version = Version.objects.select_for_update().filter(pk=version.pk).select_related("project").first()
    if version is None:
        raise NotFound("No such version.", entity="version")
    check_lock_version(version, lock_version)
    before = snapshot(version, VERSION_FIELDS)
    for key, value in values.items():
        setattr(version, key, value)
    changed = set(diff(before, snapshot(version, VERSION_FIELDS)))
    _check_version(actor, version, changed)
    try:
        with transaction.atomic():
            row_save_changes(version, before, VERSION_FIELDS, entity="version", project=project, actor=actor)
    except IntegrityError:
        raise Conflict("The name is already taken.", field="name", code=ErrorCode.DUPLICATE_NAME) from None
    if "sharing" in changed:
        _unshare(actor, version)
    return version


@write_transaction()
def version_delete(*, actor, version: Version) -> None:
    """Soft-delete a version no live work item is in (its Admins and above)."""
    project = version.project
    _require_project_admin(actor, project)
    project_write_lock(project)
    used = WorkItem.objects.filter(version_id=version.pk, project__deleted_at__isnull=True).count()
    if used:
        raise Conflict(f"{used} work item(s) are in this version; move them out of it first.", code=ErrorCode.IN_USE,
                       reference_count=used)
    if not Version.objects.filter(pk=version.pk).soft_delete():
        raise NotFound("No such version.", entity="version")
    change_record(project=project, actor=actor, changes=[Change("version", version.pk, ChangeAction.DELETED)])


def version_list(*, actor, project: Project) -> QuerySet:
    """The versions ``project`` uses (its own and those shared with it), for those who may see the project."""
    require(actor, Action.PROJECT_VIEW, project)
    return versions_shared_with(project)


def versions_visible(*, actor) -> QuerySet:
    """Every live version the actor may see (OpenProject's rule, as ``version_get`` applies it to one): those of
    the live projects they may see, and those shared with one of them (with every project, down to a subproject,
    up and down a hierarchy, or across a tree). One read of the project tree, whatever the number of versions."""
    live = Version.objects.filter(project__deleted_at__isnull=True).select_related("project").order_by("id")
    if not is_signed_in(actor):
        return live.none()
    visible = set(projects_visible(actor).values_list("id", flat=True))
    parent_of = dict(Project.objects.values_list("id", "parent_id"))
    above: set[int] = set()     # ancestors of a visible project
    roots: set[int] = set()     # the top of each tree a visible project is in
    for pk in visible:
        node, seen = pk, {pk}
        while parent_of.get(node) is not None and parent_of[node] not in seen:
            node = parent_of[node]
            seen.add(node)
            above.add(node)
        roots.add(node)
    children: dict[int, list[int]] = {}
    for pk, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(pk)

    def below(tops) -> set[int]:
        found, frontier = set(tops), list(tops)
        while frontier:
            frontier = [child for pk in frontier for child in children.get(pk, ()) if child not in found]
            found.update(frontier)
        return found

    under_visible = below(visible) - visible
    return live.filter(
        Q(project_id__in=visible) | Q(sharing=VersionSharing.SYSTEM)
        | Q(sharing__in=(VersionSharing.DESCENDANTS, VersionSharing.HIERARCHY), project_id__in=above)
        | Q(sharing=VersionSharing.HIERARCHY, project_id__in=under_visible)
        | Q(sharing=VersionSharing.TREE, project_id__in=below(roots)))


def version_get(*, actor, version_id) -> Version:
    """A live version of a live project, if the actor may see that project or one it is shared with."""
    version = get_or_404(Version.objects.filter(project__deleted_at__isnull=True).select_related("project"),
                          version_id, entity="version")
    if can(actor, Action.PROJECT_VIEW, version.project):
        return version
    if version.sharing != VersionSharing.NONE and is_signed_in(actor):
        shared = projects_sharing(version)
        if shared is None or projects_visible(actor).filter(pk__in=shared).exists():
            return version
    raise NotFound("No such version.", entity="version")


# ---------------------------------------------------------------- categories

def _check_category(category: Category, changed: set[str]) -> None:
    if "name" in changed and Category.objects.filter(project_id=category.project_id, name__iexact=category.name) \
            .exclude(pk=category.pk).exists():
        raise Conflict(f"The project has a category named {category.name!r} already.", field="name",
                       code=ErrorCode.DUPLICATE_NAME)
    assignee = category.default_assignee
    if "default_assignee" in changed and assignee is not None and not members_among(category.project_id,
                                                                                     [assignee.pk]):
        raise InvalidInput("The default assignee must be a member of the project.", field="default_assignee",
                           code=ErrorCode.NOT_A_MEMBER)


def require_usable_category(category: Category | None, project: Project, *, field: str = "category") -> None:
    """InvalidInput naming ``field`` unless ``category`` is None or a live category of ``project``."""
    if category is not None and not Category.objects.filter(pk=category.pk, project_id=project.pk).exists():
        raise InvalidInput("No such category in this project.", field=field, code=ErrorCode.INVALID_REFERENCE,
                           entity="category")


@write_transaction()
def category_create(*, actor, project: Project, name: str, default_assignee=None) -> Category:
    """A category of ``project`` (its Admins and above); ``default_assignee``, if given, is someone a work item
    of the project may be assigned to (a member, directly or through a group)."""
    _require_project_admin(actor, project)
    values = CATEGORY_INPUT.clean({"name": name, "default_assignee": default_assignee})
    project_write_lock(project)
    category = Category(project=project, **values)
    _check_category(category, set(values))
    save_unique(category)
    change_record(project=project, actor=actor, changes=[
        Change("category", category.pk, ChangeAction.CREATED, diff({}, snapshot(category, CATEGORY_FIELDS)))])
    return category


@write_transaction()
def category_update(*, actor, category: Category, lock_version: int | None = None, **fields) -> Category:
    project = category.project
    _require_project_admin(actor, project)
    values = CATEGORY_INPUT.clean(fields)
    project_write_lock(project)
    category = Category.objects.select_for_update().filter(pk=category.pk).first()
    if category is None:
        raise NotFound("No such category.", entity="category")
    check_lock_version(category, lock_version)
    before = snapshot(category, CATEGORY_FIELDS)
    for key, value in values.items():
        setattr(category, key, value)
    _check_category(category, set(diff(before, snapshot(category, CATEGORY_FIELDS))))
    try:
        with transaction.atomic():
            row_save_changes(category, before, CATEGORY_FIELDS, entity="category", project=project, actor=actor)
    except IntegrityError:
        raise Conflict("The name is already taken.", field="name", code=ErrorCode.DUPLICATE_NAME) from None
    return category


@write_transaction()
def category_delete(*, actor, category: Category, reassign_to: Category | None = None) -> None:
    """Soft-delete a category (its Admins and above). Its live work items move to ``reassign_to`` (another live
    category of the project) or to none, each logged as a change of the work item."""
    project = category.project
    _require_project_admin(actor, project)
    if reassign_to is not None:
        require_usable_category(reassign_to, project, field="reassign_to")
        if reassign_to.pk == category.pk:
            raise InvalidInput("A category cannot take over its own work items.", field="reassign_to")
    project_write_lock(project)
    if not Category.objects.filter(pk=category.pk).exists():
        raise NotFound("No such category.", entity="category")
    target = reassign_to.pk if reassign_to is not None else None
    ids = list(WorkItem.objects.filter(category_id=category.pk, project_id=project.pk).values_list("id", flat=True))
    now = timezone.now()
    WorkItem.objects.filter(pk__in=ids).update(category_id=target, updated_at=now, lock_version=F("lock_version") + 1)
    Category.objects.filter(pk=category.pk).soft_delete(at=now)
    change_record(project=project, actor=actor, changes=[
        *(Change("work_item", pk, ChangeAction.UPDATED, {"category": [category.pk, target]}) for pk in ids),
        Change("category", category.pk, ChangeAction.DELETED),
    ])


def category_list(*, actor, project: Project) -> QuerySet:
    """``project``'s live categories, for those who may see the project."""
    require(actor, Action.PROJECT_VIEW, project)
    return Category.objects.filter(project=project).select_related("default_assignee")


def category_get(*, actor, category_id) -> Category:
    category = get_or_404(Category.objects.filter(project__deleted_at__isnull=True).select_related("project"),
                           category_id, entity="category")
    if not can(actor, Action.PROJECT_VIEW, category.project):
        raise NotFound("No such category.", entity="category")
    return category
