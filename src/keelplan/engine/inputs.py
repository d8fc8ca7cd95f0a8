"""Validated, immutable inputs of the scheduling engine.

Everything is plain data: ``ProjectInput`` holds the project start, optional status date, the calendars,
the tasks and the links. Construction checks each value and raises :class:`~keelplan.engine.errors.InvalidInput`
(or :class:`~keelplan.engine.errors.UnknownTaskError`) naming the task and field, so ``schedule`` only ever sees
consistent data. ``ProjectInput.evolve`` makes a changed copy, checking only what changed.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import attrgetter
from typing import NamedTuple

import numpy as np

from keelplan.engine.errors import InvalidInput, UnknownTaskError
from keelplan.engine.limits import MAX_DURATION_DAYS as MAX_DURATION
from keelplan.engine.limits import MAX_LAG_DAYS, MAX_LAG_PERCENT

MONDAY_TO_FRIDAY = 0b0011111


class LinkType(str, enum.Enum):
    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


class LagUnit(str, enum.Enum):
    """``WORKING_DAYS`` count on the successor's calendar; ``ELAPSED_DAYS`` count every day;
    ``PERCENT`` is a share of the predecessor's duration, in working days (rounded half up)."""

    WORKING_DAYS = "wd"
    ELAPSED_DAYS = "ed"
    PERCENT = "pct"


class ConstraintType(str, enum.Enum):
    ASAP = "ASAP"
    ALAP = "ALAP"
    MSO = "MSO"
    MFO = "MFO"
    SNET = "SNET"
    SNLT = "SNLT"
    FNET = "FNET"
    FNLT = "FNLT"


DATED = frozenset({ConstraintType.MSO, ConstraintType.MFO, ConstraintType.SNET, ConstraintType.SNLT,
                   ConstraintType.FNET, ConstraintType.FNLT})
_DATE_FIELDS = ("constraint_date", "deadline", "manual_start", "manual_finish", "actual_start", "actual_finish")

# Value -> member: the lookup ``Enum(value)`` makes, without the cost of calling the enum class (a member, being
# a str equal to its value, finds itself).
_LINK_TYPE_OF = {member.value: member for member in LinkType}
_LAG_UNIT_OF = {member.value: member for member in LagUnit}
_CONSTRAINT_OF = {member.value: member for member in ConstraintType}


def _member(members: dict, value):
    """The member of an enum named by ``value`` (the member itself or its value), or None."""
    try:
        return members.get(value)
    except TypeError:  # unhashable, so no member's value
        return None


def _link_type(value, *, task) -> LinkType:
    kind = _member(_LINK_TYPE_OF, value)
    if kind is None:
        raise InvalidInput(f"unknown link type {value!r}", task=task, field="type")
    return kind


def _date(value, *, task=None, field: str, optional: bool = True):
    if value is None:
        if optional:
            return None
        raise InvalidInput("a date is required", task=task, field=field)
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(f"expected a date, got {type(value).__name__}", task=task, field=field)
    return value


def _int(value, *, task=None, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"expected a whole number, got {value!r}", task=task, field=field)
    if not low <= value <= high:
        raise InvalidInput(f"must be between {low} and {high}, got {value}", task=task, field=field)
    return value


@dataclass(frozen=True, slots=True)
class CalendarException:
    """An inclusive date range that is non-working, or working when ``working`` is true."""

    start: dt.date
    end: dt.date
    working: bool = False

    def __post_init__(self):
        _date(self.start, field="exceptions.start", optional=False)
        _date(self.end, field="exceptions.end", optional=False)
        if self.end < self.start:
            raise InvalidInput(f"exception ends ({self.end}) before it starts ({self.start})", field="exceptions")


@dataclass(frozen=True, slots=True)
class Calendar:
    """Working days: a weekly mask (bit 0 = Monday ... bit 6 = Sunday) and dated exceptions.

    >>> Calendar("std").working_days
    31
    """

    id: Hashable
    working_days: int = MONDAY_TO_FRIDAY
    exceptions: tuple[CalendarException, ...] = ()

    def __post_init__(self):
        _int(self.working_days, field="working_days", low=1, high=0b1111111)
        object.__setattr__(self, "exceptions", tuple(self.exceptions))
        for exc in self.exceptions:
            if not isinstance(exc, CalendarException):
                raise InvalidInput("exceptions must be CalendarException values", field="exceptions")


@dataclass(frozen=True, slots=True)
class Task:
    """One activity. ``duration`` is in whole working days of its calendar (0 = milestone).

    A task with children (other tasks naming it as ``parent``) is a summary: its own duration, constraint
    and progress are ignored and its dates roll up from its children.
    """

    id: Hashable
    duration: int = 1
    calendar: Hashable | None = None
    parent: Hashable | None = None
    constraint: ConstraintType = ConstraintType.ASAP
    constraint_date: dt.date | None = None
    deadline: dt.date | None = None
    manual_start: dt.date | None = None
    manual_finish: dt.date | None = None
    percent_complete: float = 0.0
    actual_start: dt.date | None = None
    actual_finish: dt.date | None = None
    name: str = ""

    def __post_init__(self):
        # Each check has a fast path for the common case (projects hold 100,000 tasks); anything else takes the
        # full check, which raises or accepts exactly as it always did.
        if self.id is None:
            raise InvalidInput("a task id is required", field="id")
        if self.duration.__class__ is not int or not 0 <= self.duration <= MAX_DURATION:
            _int(self.duration, task=self.id, field="duration", low=0, high=MAX_DURATION)
        if self.constraint.__class__ is not ConstraintType:
            constraint = _member(_CONSTRAINT_OF, self.constraint)
            if constraint is None:
                raise InvalidInput(f"unknown constraint {self.constraint!r}", task=self.id, field="constraint")
            object.__setattr__(self, "constraint", constraint)
        if not (self.constraint_date is None and self.deadline is None and self.manual_start is None
                and self.manual_finish is None and self.actual_start is None and self.actual_finish is None):
            for name in _DATE_FIELDS:
                _date(getattr(self, name), task=self.id, field=name)
        if self.constraint is not ConstraintType.ASAP and self.constraint in DATED and self.constraint_date is None:
            raise InvalidInput(f"a {self.constraint.value} constraint needs a date", task=self.id,
                               field="constraint_date")
        if (self.manual_start is None) != (self.manual_finish is None):
            raise InvalidInput("manual scheduling needs both manual_start and manual_finish", task=self.id,
                               field="manual_finish" if self.manual_finish is None else "manual_start")
        if self.manual_start is not None and self.manual_finish < self.manual_start:
            raise InvalidInput("manual_finish is before manual_start", task=self.id, field="manual_finish")
        pct = self.percent_complete
        plainly_fine = (pct.__class__ is float or pct.__class__ is int) and 0 <= pct <= 100
        if not plainly_fine and (isinstance(pct, bool) or not isinstance(pct, (int, float)) or pct != pct
                                 or not 0 <= pct <= 100):
            raise InvalidInput("must be a number from 0 to 100", task=self.id, field="percent_complete")
        # An actual finish without an actual start is accepted, as TruePPM accepts it: the task is complete and
        # when it started was not recorded.
        if self.actual_finish is not None and self.actual_start is not None and self.actual_finish < self.actual_start:
            raise InvalidInput("actual_finish is before actual_start", task=self.id, field="actual_finish")

    @property
    def is_complete(self) -> bool:
        """Finished, as TruePPM reads it: an actual finish, or 100 % complete."""
        return self.actual_finish is not None or self.percent_complete >= 100

    @property
    def is_started(self) -> bool:
        return self.actual_start is not None


@dataclass(frozen=True, slots=True)
class Link:
    """``predecessor -> successor`` of ``type`` with ``lag`` in ``lag_unit`` (negative = lead)."""

    predecessor: Hashable
    successor: Hashable
    type: LinkType = LinkType.FS
    lag: int = 0
    lag_unit: LagUnit = LagUnit.WORKING_DAYS

    def __post_init__(self):
        if self.type.__class__ is not LinkType:
            object.__setattr__(self, "type", _link_type(self.type, task=self.successor))
        if self.lag_unit.__class__ is not LagUnit:
            unit = _member(_LAG_UNIT_OF, self.lag_unit)
            if unit is None:
                raise InvalidInput(f"unknown lag unit {self.lag_unit!r}", task=self.successor, field="lag_unit")
            object.__setattr__(self, "lag_unit", unit)
        limit = MAX_LAG_PERCENT if self.lag_unit is LagUnit.PERCENT else MAX_LAG_DAYS
        if self.lag.__class__ is not int or not -limit <= self.lag <= limit:
            _int(self.lag, task=self.successor, field="lag", low=-limit, high=limit)
        if self.predecessor == self.successor:
            raise InvalidInput("a task cannot depend on itself", task=self.successor, field="predecessor")


# ------------------------------------------------------------------ the project and its gathered columns

# The engine's integer code of a link type or lag unit is its position in these tuples.
LINK_TYPES = (LinkType.FS, LinkType.SS, LinkType.FF, LinkType.SF)
LAG_UNITS = (LagUnit.WORKING_DAYS, LagUnit.ELAPSED_DAYS, LagUnit.PERCENT)
_TYPE_CODE = {kind: code for code, kind in enumerate(LINK_TYPES)}
_UNIT_CODE = {unit: code for code, unit in enumerate(LAG_UNITS)}

_task_id = attrgetter("id")
_parent_of = attrgetter("parent")
_calendar_of = attrgetter("calendar")
_duration_of = attrgetter("duration")
_predecessor_of = attrgetter("predecessor")
_successor_of = attrgetter("successor")
_type_of = attrgetter("type")
_lag_of = attrgetter("lag")
_unit_of = attrgetter("lag_unit")


class _TaskIndex(Mapping):
    """Task id -> position in ``ProjectInput.tasks``, made so that evolve() never copies or rewrites a dict
    of every task: ``base`` (never changed once built, so inputs evolved from one another share it) maps ids to
    positions in an earlier task list, ``moved`` maps those positions to the current ones (negative for a task
    that is gone; None when none moved), and ``added`` holds the ids appended since."""

    __slots__ = ("_added", "_base", "_moved", "_size")

    def __init__(self, base: dict, moved: np.ndarray | None, added: dict, size: int):
        self._base, self._moved, self._added, self._size = base, moved, added, size

    @classmethod
    def of(cls, tasks: tuple) -> _TaskIndex:
        return cls(dict(zip(map(_task_id, tasks), range(len(tasks)))), None, {}, len(tasks))

    def get(self, task_id, default=None):
        k = self._added.get(task_id)
        if k is not None:
            return k
        k = self._base.get(task_id)
        if k is None:
            return default
        if self._moved is not None:
            k = int(self._moved[k])
            if k < 0:
                return default
        return k

    def __getitem__(self, task_id) -> int:
        k = self.get(task_id)
        if k is None:
            raise KeyError(task_id)
        return k

    def __contains__(self, task_id) -> bool:
        return self.get(task_id) is not None

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        moved = self._moved
        yield from (task_id for task_id, k in self._base.items() if moved is None or moved[k] >= 0)
        yield from self._added

    def evolved(self, step: np.ndarray | None, new_ids: dict, tasks: tuple) -> _TaskIndex:
        """The index of ``tasks``: this one's tasks moved by ``step`` (old position -> new one, negative for a
        task that is gone; None when none moved), then ``new_ids`` (id -> position) appended."""
        moved, added = self._moved, self._added
        if step is not None:
            moved = _frozen(step if moved is None else np.where(moved >= 0, step[np.maximum(moved, 0)], -2))
            now = step[np.fromiter(added.values(), dtype=np.int64, count=len(added))].tolist()
            added = {task_id: k for task_id, k in zip(added, now) if k >= 0}
        if new_ids:
            added = {**added, **new_ids}
        # Ids of removed tasks stay in the base dict, and lookups get slower as ``added`` grows: past a point,
        # one fresh dict (a cost like a constructor's, paid once per many edits) is the better deal.
        stale = len(self._base) - (len(tasks) - len(added))
        if stale + len(added) > len(tasks) // 8 + 64:
            return _TaskIndex.of(tasks)
        return _TaskIndex(self._base, moved, added, len(tasks))


class _TaskColumns(NamedTuple):
    """What the engine reads of every task, as read-only NumPy arrays in input order."""

    parent: np.ndarray    # position of the parent task, -1 for none
    duration: np.ndarray
    calendar: np.ndarray  # position in ``ProjectInput.calendars``, -1 for the project's default calendar
    plain: np.ndarray     # no dates, progress or ALAP: its links alone place it


class _LinkColumns(NamedTuple):
    """Every link as read-only NumPy arrays in input order: ends as task positions, type and unit as codes."""

    pred: np.ndarray
    succ: np.ndarray
    type: np.ndarray      # position in LINK_TYPES
    lag: np.ndarray
    unit: np.ndarray      # position in LAG_UNITS


def _frozen(array: np.ndarray) -> np.ndarray:
    # Columns are shared between a ProjectInput and the ones evolve() makes from it, so nobody may write them.
    array.flags.writeable = False
    return array


def _column(values, count: int, dtype=np.int64) -> np.ndarray:
    return _frozen(np.fromiter(values, dtype=dtype, count=count))


def _is_plain(task: Task) -> bool:
    return (task.constraint_date is None and task.deadline is None and task.manual_start is None
            and task.actual_start is None and task.actual_finish is None and not task.percent_complete
            and task.constraint is not ConstraintType.ALAP)


def _link_keys(pred: np.ndarray, succ: np.ndarray, kind: np.ndarray, task_count: int) -> np.ndarray:
    """One integer per link for its (predecessor, successor, type) key."""
    return (pred * task_count + succ) * len(LINK_TYPES) + kind


def _find_links(columns: _LinkColumns, wanted: list[tuple[int, int, int]], task_count: int) -> list[int | None]:
    """The row of each (predecessor position, successor position, type code) key in ``columns``, or None."""
    if len(wanted) <= 8:  # a few keys: look among each predecessor's links only
        rows: list[int | None] = []
        for p, s, k in wanted:
            found = [r for r in np.flatnonzero(columns.pred == p).tolist()
                     if columns.succ[r] == s and columns.type[r] == k]
            rows.append(found[0] if found else None)
        return rows
    keys = _link_keys(columns.pred, columns.succ, columns.type, task_count)
    codes = [(p * task_count + s) * len(LINK_TYPES) + k for p, s, k in wanted]
    hits = np.flatnonzero(np.isin(keys, np.array(codes, dtype=np.int64)))
    at = dict(zip(keys[hits].tolist(), hits.tolist()))
    return [at.get(code) for code in codes]


def _without(values: tuple, positions, keep: np.ndarray) -> list:
    """``values`` as a list without the items at ``positions`` (``keep`` is false there)."""
    if len(positions) > 16:
        return list(compress(values, keep.tolist()))
    out = list(values)
    for k in sorted(positions, reverse=True):  # a few deletions move less memory than one filtered copy
        del out[k]
    return out


def _patched(values, replaced: dict, appended: list) -> tuple:
    """``values`` (a tuple, or a list that may be changed) with ``replaced`` (position -> value) set and
    ``appended`` added at the end, as a tuple."""
    if not replaced and isinstance(values, tuple):
        return values + tuple(appended) if appended else values
    values = list(values) if isinstance(values, tuple) else values
    for k, value in replaced.items():
        values[k] = value
    values.extend(appended)
    return tuple(values)


def _patched_column(column: np.ndarray, updates: dict) -> np.ndarray:
    """``column`` with ``updates`` (position -> value) applied, positions past its end appended (they follow on
    from it, in order); the same array when nothing changes."""
    size = column.size
    appended = [value for k, value in updates.items() if k >= size]
    changed = [(k, value) for k, value in updates.items() if k < size and column[k] != value]
    if not appended and not changed:
        return column
    out = np.concatenate([column, np.array(appended, dtype=column.dtype)]) if appended else column.copy()
    for k, value in changed:
        out[k] = value
    return _frozen(out)


def _calendar_positions(calendars: tuple) -> dict:
    positions: dict = {}
    for i, cal in enumerate(calendars):
        if not isinstance(cal, Calendar):
            raise InvalidInput("calendars must be Calendar values", field="calendars")
        if cal.id in positions:
            raise InvalidInput(f"calendar {cal.id!r} is given twice", field="calendars")
        positions[cal.id] = i
    return positions


def _default_calendar(calendar, calendars: tuple, positions: dict):
    if calendar is None:
        return calendars[0].id
    if calendar not in positions:
        raise UnknownTaskError(f"unknown default calendar {calendar!r}", field="calendar")
    return calendar


# Validation of many tasks or links runs in bulk; when the bulk check finds a problem, the plain loops below
# find the first one and report it, so the error is the same whichever way it was found.

def _index_tasks(tasks: tuple) -> dict:
    if all(map(isinstance, tasks, repeat(Task))):
        index = dict(zip(map(_task_id, tasks), range(len(tasks))))
        if len(index) == len(tasks):
            return index
    index = {}
    for i, task in enumerate(tasks):
        if not isinstance(task, Task):
            raise InvalidInput("tasks must be Task values", field="tasks")
        if task.id in index:
            raise InvalidInput("the task id is used twice", task=task.id, field="id")
        index[task.id] = i
    raise AssertionError("unreachable: the bulk check found a problem")


def _raise_task_reference_error(tasks, index: dict, cal_positions: dict):
    for task in tasks:
        if task.parent is not None and task.parent not in index:
            raise UnknownTaskError(f"unknown parent {task.parent!r}", task=task.id, field="parent")
        if task.calendar is not None and task.calendar not in cal_positions:
            raise UnknownTaskError(f"unknown calendar {task.calendar!r}", task=task.id, field="calendar")
    raise AssertionError("unreachable: the bulk check found a problem")


def _task_columns(tasks: tuple, index: dict, cal_positions: dict) -> _TaskColumns:
    n = len(tasks)
    parent_ids = list(map(_parent_of, tasks))
    # None is never a task id, so a parent of None and an unknown parent both come back as -2 here.
    parent = np.fromiter(map(index.get, parent_ids, repeat(-2)), dtype=np.int64, count=n)
    missing = parent == -2
    calendar_pos = dict(cal_positions)
    calendar_pos[None] = -1  # a task without a calendar uses the project's default, whatever the calendar ids
    calendar = np.fromiter(map(calendar_pos.get, map(_calendar_of, tasks), repeat(-2)), dtype=np.int64, count=n)
    if int(missing.sum()) != parent_ids.count(None) or (calendar == -2).any():
        _raise_task_reference_error(tasks, index, cal_positions)
    parent[missing] = -1
    return _TaskColumns(parent=_frozen(parent), duration=_column(map(_duration_of, tasks), n),
                        calendar=_frozen(calendar), plain=_column(map(_is_plain, tasks), n, bool))


def _link_ends(link: Link, index) -> tuple[int, int]:
    """The positions of a link's predecessor and successor in ``index``; an unknown end is an error naming it."""
    p = index.get(link.predecessor)
    if p is None:
        raise UnknownTaskError(f"unknown predecessor {link.predecessor!r}", task=link.successor, field="predecessor")
    s = index.get(link.successor)
    if s is None:
        raise UnknownTaskError(f"unknown successor {link.successor!r}", task=link.predecessor, field="successor")
    return p, s


def _raise_link_error(links, index: dict):
    seen = set()
    for link in links:
        if not isinstance(link, Link):
            raise InvalidInput("links must be Link values", field="links")
        p, s = _link_ends(link, index)
        key = (p, s, link.type)
        if key in seen:
            raise InvalidInput(f"the {link.type.value} link from {link.predecessor!r} is given twice",
                               task=link.successor, field="predecessor")
        seen.add(key)
    raise AssertionError("unreachable: the bulk check found a problem")


def _link_columns(links: tuple, index: dict) -> _LinkColumns:
    m = len(links)
    if not all(map(isinstance, links, repeat(Link))):
        _raise_link_error(links, index)
    pred = np.fromiter(map(index.get, map(_predecessor_of, links), repeat(-1)), dtype=np.int64, count=m)
    succ = np.fromiter(map(index.get, map(_successor_of, links), repeat(-1)), dtype=np.int64, count=m)
    kind = np.fromiter(map(_TYPE_CODE.__getitem__, map(_type_of, links)), dtype=np.int64, count=m)
    if m and (min(pred.min(), succ.min()) < 0 or np.unique(_link_keys(pred, succ, kind, len(index))).size < m):
        _raise_link_error(links, index)
    return _LinkColumns(pred=_frozen(pred), succ=_frozen(succ), type=_frozen(kind), lag=_column(map(_lag_of, links), m),
                        unit=_column(map(_UNIT_CODE.__getitem__, map(_unit_of, links)), m))


@dataclass(frozen=True, slots=True)
class ProjectInput:
    """A whole project to schedule.

    ``calendar`` names the default calendar (one of ``calendars``); with no calendars given, a Monday-to-Friday
    calendar with no holidays is used. ``status_date`` is the first day remaining work may be scheduled on.

    While validating, the input gathers what the engine reads of every task and link into NumPy columns;
    :meth:`evolve` patches those columns instead of gathering them again, so a small edit of a big project
    costs little.
    """

    start: dt.date
    tasks: tuple[Task, ...]
    links: tuple[Link, ...] = ()
    calendars: tuple[Calendar, ...] = ()
    calendar: Hashable | None = None
    status_date: dt.date | None = None
    _index: _TaskIndex = field(default=None, init=False, repr=False, compare=False)
    _task_columns: _TaskColumns = field(default=None, init=False, repr=False, compare=False)
    _link_columns: _LinkColumns = field(default=None, init=False, repr=False, compare=False)
    # [the rank of each task's id among all ids, or None until asked for]: shared by the inputs evolve() derives
    # while the ids stay the same, so repeated scheduling of an edited project sorts its ids once.
    _id_ranks: list = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        _date(self.start, field="start", optional=False)
        _date(self.status_date, field="status_date")
        tasks, links = tuple(self.tasks), tuple(self.links)
        object.__setattr__(self, "tasks", tasks)
        object.__setattr__(self, "links", links)
        calendars = tuple(self.calendars) or (Calendar("default"),)
        object.__setattr__(self, "calendars", calendars)
        cal_positions = _calendar_positions(calendars)
        object.__setattr__(self, "calendar", _default_calendar(self.calendar, calendars, cal_positions))
        index = _index_tasks(tasks)
        object.__setattr__(self, "_index", _TaskIndex(index, None, {}, len(tasks)))
        object.__setattr__(self, "_task_columns", _task_columns(tasks, index, cal_positions))
        object.__setattr__(self, "_link_columns", _link_columns(links, index))
        object.__setattr__(self, "_id_ranks", [None])

    def task_index(self, task_id) -> int:
        return self._index[task_id]

    def id_ranks(self) -> np.ndarray:
        """Per task (in input order), the rank of its id among all the ids: 0 for the least. Ids of one type
        compare as that type; ids of mixed types by type name, then text."""
        ranks = self._id_ranks[0]
        if ranks is None:
            ids = list(map(_task_id, self.tasks))
            column = np.asarray(ids) if ids else np.zeros(0, dtype=np.int64)
            if column.ndim == 1 and column.dtype.kind in "iuUSf":
                order = np.argsort(column, kind="stable")
            else:
                try:
                    order = sorted(range(len(ids)), key=ids.__getitem__)
                except TypeError:
                    order = sorted(range(len(ids)), key=lambda i: (type(ids[i]).__name__, str(ids[i])))
            ranks = np.empty(len(ids), dtype=np.int64)
            ranks[order] = np.arange(len(ids))
            self._id_ranks[0] = _frozen(ranks)
        return ranks

    @classmethod
    def build(cls, *, start, tasks: Iterable, links: Iterable = (), calendars: Iterable = (), **kwargs) -> ProjectInput:
        """Build from plain dicts or dataclass instances."""
        def make(kind, value):
            return value if isinstance(value, kind) else kind(**value)

        cals = []
        for cal in calendars:
            if isinstance(cal, dict):
                cal = dict(cal)
                cal["exceptions"] = tuple(make(CalendarException, e) for e in cal.get("exceptions", ()))
            cals.append(make(Calendar, cal))
        return cls(start=start, tasks=tuple(make(Task, t) for t in tasks), links=tuple(make(Link, lk) for lk in links),
                   calendars=tuple(cals), **kwargs)

    # ------------------------------------------------------------------ edits

    def evolve(self, *, tasks: Iterable = (), remove_tasks: Iterable = (), links: Iterable = (),
               remove_links: Iterable = (), calendars: Iterable | None = None, **fields) -> ProjectInput:
        """A new input with a change applied: equal to building one from scratch with the changed lists, and
        validated the same way, but checking only what changed (unchanged tasks and links are not looked at
        again), so its cost grows with the change plus a few copies of arrays and of the task and link tuples.

        * ``tasks``: Task values; one with the id of an existing task replaces it in its place, one with a new
          id is appended.
        * ``remove_tasks``: ids of tasks to drop (later tasks move up). Removing an id that is not there raises
          :class:`~keelplan.engine.errors.UnknownTaskError`, and so does leaving a link, or a child's ``parent``,
          pointing at a dropped task.
        * ``links``: Link values; one with the (predecessor, successor, type) of an existing link replaces it
          in its place, others are appended.
        * ``remove_links``: (predecessor, successor, type) keys, the type as a ``LinkType`` or its string.
          Removing a key that is not there raises :class:`~keelplan.engine.errors.InvalidInput`.
        * ``calendars`` (a whole new sequence), and the fields ``start``, ``status_date`` and ``calendar``,
          replace the old values when given; ``calendar=None`` means the first calendar, as in the constructor.

        Removals are applied before additions, so an id or key that is both removed and given ends up at the
        end. Other errors are the constructor's, with the same type and message for the task or link at fault
        (with several faults, which one is reported may differ). On an error, nothing has changed.

        >>> import datetime as dt
        >>> p = ProjectInput(start=dt.date(2026, 1, 5), tasks=[Task("A", 3), Task("B", 2)], links=[Link("A", "B")])
        >>> q = p.evolve(tasks=[Task("B", 4), Task("C", 1)], links=[Link("B", "C", "SS")], remove_links=[("A", "B", "FS")])
        >>> [(t.id, t.duration) for t in q.tasks], [(lk.predecessor, lk.successor, lk.type.value) for lk in q.links]
        ([('A', 3), ('B', 4), ('C', 1)], [('B', 'C', 'SS')])
        >>> q == ProjectInput(start=p.start, tasks=q.tasks, links=q.links)
        True
        """
        unexpected = fields.keys() - {"start", "status_date", "calendar"}
        if unexpected:
            raise TypeError(f"evolve() got unexpected keyword arguments: {', '.join(sorted(unexpected))}")
        start = fields.get("start", self.start)
        status_date = fields.get("status_date", self.status_date)
        _date(start, field="start", optional=False)
        _date(status_date, field="status_date")
        if calendars is None:
            cals = self.calendars
            cal_positions = {cal.id: i for i, cal in enumerate(cals)}
            moved_calendars = None
        else:
            cals = tuple(calendars) or (Calendar("default"),)
            cal_positions = _calendar_positions(cals)
            # Old calendar position -> new one, -2 for a calendar that is gone.
            moved_calendars = np.array([cal_positions.get(cal.id, -2) for cal in self.calendars], dtype=np.int64)
        calendar = _default_calendar(fields.get("calendar", self.calendar), cals, cal_positions)
        new_tasks, index, task_columns, moved = self._evolve_tasks(tuple(tasks), tuple(remove_tasks), cal_positions,
                                                                   moved_calendars)
        new_links, link_columns = self._evolve_links(tuple(links), tuple(remove_links), index, moved)
        out = object.__new__(ProjectInput)
        # Tasks replaced in place keep their ids (and none was added or removed): the id ranks still hold.
        same_ids = not remove_tasks and len(new_tasks) == len(self.tasks)
        for name, value in (("start", start), ("tasks", new_tasks), ("links", new_links), ("calendars", cals),
                            ("calendar", calendar), ("status_date", status_date), ("_index", index),
                            ("_task_columns", task_columns), ("_link_columns", link_columns),
                            ("_id_ranks", self._id_ranks if same_ids else [None])):
            object.__setattr__(out, name, value)
        return out

    def _evolve_tasks(self, given: tuple, removed: tuple, cal_positions: dict, moved_calendars):
        """The new tasks, id index and task columns, and old position -> new position (-2 for a task that is
        gone; None when no task moved)."""
        old, index, cols = self.tasks, self._index, self._task_columns
        for task in given:
            if not isinstance(task, Task):
                raise InvalidInput("tasks must be Task values", field="tasks")
        gone: dict[int, None] = {}
        for task_id in removed:
            k = index.get(task_id)
            if k is None or k in gone:
                raise UnknownTaskError(f"there is no task {task_id!r} to remove", task=task_id, field="id")
            gone[k] = None
        if not given and not gone and moved_calendars is None:
            return old, index, cols, None
        task_list, step = old, None
        if gone:
            keep = np.ones(len(old), dtype=bool)
            keep[list(gone)] = False
            task_list = _without(old, gone, keep)
            step = np.full(len(old), -2, dtype=np.int64)  # old position -> new one, -2 for a task that is gone
            step[keep] = np.arange(len(task_list))
            cols = _TaskColumns(*(_frozen(column[keep]) for column in cols))
        count = len(task_list)
        changed: dict[int, Task] = {}  # position -> task, for replaced and appended tasks
        new_ids: dict = {}             # id -> position, for appended tasks
        for task in given:
            k = new_ids.get(task.id)
            if k is None:
                k = index.get(task.id)
                if k is not None and step is not None:
                    k = int(step[k]) if step[k] >= 0 else None
            if k is None:
                k = new_ids[task.id] = count + len(new_ids)
            elif k in changed:
                raise InvalidInput("the task id is used twice", task=task.id, field="id")
            changed[k] = task
        new_tasks = _patched(task_list, {k: t for k, t in changed.items() if k < count},
                             [t for k, t in changed.items() if k >= count])
        index = index.evolved(step, new_ids, new_tasks)
        moved = None
        parent, calendar = cols.parent, cols.calendar
        if gone:
            moved = step.copy()
            for k in gone:  # an id removed and given again now sits at the end
                moved[k] = new_ids.get(old[k].id, -2)
            parent = _frozen(np.where(parent >= 0, moved[parent], -1))
        if moved_calendars is not None:
            calendar = _frozen(np.where(calendar >= 0, moved_calendars[calendar], -1))
        parent = _patched_column(parent, {k: -1 if t.parent is None else index.get(t.parent, -2)
                                          for k, t in changed.items()})
        calendar = _patched_column(calendar, {k: -1 if t.calendar is None else cal_positions.get(t.calendar, -2)
                                              for k, t in changed.items()})
        duration = _patched_column(cols.duration, {k: t.duration for k, t in changed.items()})
        plain = _patched_column(cols.plain, {k: _is_plain(t) for k, t in changed.items()})
        # An unknown parent or calendar: on a changed task, or on any task when tasks or calendars went away.
        suspects = np.array(sorted(changed), dtype=np.int64)
        if gone or moved_calendars is not None:
            suspects = np.arange(len(new_tasks))
        bad = suspects[(parent[suspects] == -2) | (calendar[suspects] == -2)]
        if bad.size:
            k = int(bad[0])
            task = new_tasks[k]
            if parent[k] == -2:
                raise UnknownTaskError(f"unknown parent {task.parent!r}", task=task.id, field="parent")
            raise UnknownTaskError(f"unknown calendar {task.calendar!r}", task=task.id, field="calendar")
        return new_tasks, index, _TaskColumns(parent, duration, calendar, plain), moved

    def _evolve_links(self, given: tuple, removed: tuple, index: _TaskIndex, moved):
        """The new links and link columns, given the new id index and where the old tasks moved to."""
        old, cols = self.links, self._link_columns
        for link in given:
            if not isinstance(link, Link):
                raise InvalidInput("links must be Link values", field="links")
        link_list = old
        if removed:
            wanted, named = [], []
            for key in removed:
                try:
                    pred, succ, kind = key
                except (TypeError, ValueError):
                    raise InvalidInput(f"a link key is (predecessor, successor, type), got {key!r}",
                                       field="links") from None
                kind = _link_type(kind, task=succ)
                p, s = self._index.get(pred), self._index.get(succ)
                wanted.append((-1, -1, -1) if p is None or s is None else (p, s, _TYPE_CODE[kind]))
                named.append((pred, succ, kind))
            drop: dict[int, None] = {}
            for row, (pred, succ, kind) in zip(_find_links(cols, wanted, len(self.tasks)), named):
                if row is None or row in drop:
                    raise InvalidInput(f"there is no {kind.value} link from {pred!r} to remove", task=succ,
                                       field="predecessor")
                drop[row] = None
            keep = np.ones(len(old), dtype=bool)
            keep[list(drop)] = False
            link_list = _without(old, drop, keep)
            cols = _LinkColumns(*(_frozen(column[keep]) for column in cols))
        if moved is not None:
            pred, succ = moved[cols.pred], moved[cols.succ]
            bad = np.flatnonzero((pred < 0) | (succ < 0))
            if bad.size:
                link = link_list[bad[0]]
                if pred[bad[0]] < 0:
                    raise UnknownTaskError(f"unknown predecessor {link.predecessor!r}", task=link.successor,
                                           field="predecessor")
                raise UnknownTaskError(f"unknown successor {link.successor!r}", task=link.predecessor,
                                       field="successor")
            cols = cols._replace(pred=_frozen(pred), succ=_frozen(succ))
        if not given:
            return tuple(link_list), cols
        count = len(index)
        keys: dict[tuple, Link] = {}
        for link in given:
            p, s = _link_ends(link, index)
            key = (p, s, _TYPE_CODE[link.type])
            if key in keys:
                raise InvalidInput(f"the {link.type.value} link from {link.predecessor!r} is given twice",
                                   task=link.successor, field="predecessor")
            keys[key] = link
        rows = _find_links(cols, list(keys), count)
        changed: dict[int, tuple] = {}  # row -> (key, link), for replaced and appended links
        end = len(link_list)
        for row, (key, link) in zip(rows, keys.items()):
            if row is None:
                row, end = end, end + 1
            changed[row] = (key, link)
        new_links = _patched(link_list, {k: link for k, (_, link) in changed.items() if k < len(link_list)},
                             [link for k, (_, link) in changed.items() if k >= len(link_list)])
        columns = _LinkColumns(
            pred=_patched_column(cols.pred, {k: key[0] for k, (key, _) in changed.items()}),
            succ=_patched_column(cols.succ, {k: key[1] for k, (key, _) in changed.items()}),
            type=_patched_column(cols.type, {k: key[2] for k, (key, _) in changed.items()}),
            lag=_patched_column(cols.lag, {k: link.lag for k, (_, link) in changed.items()}),
            unit=_patched_column(cols.unit, {k: _UNIT_CODE[link.lag_unit] for k, (_, link) in changed.items()}),
        )
        return new_links, columns
