"""Validated, immutable inputs of the scheduling engine.

Everything is plain data: ``ProjectInput`` holds the project start, optional status date, the calendars,
the tasks and the links. Construction checks each value and raises :class:`~keelplan.engine.errors.InvalidInput`
(or :class:`~keelplan.engine.errors.UnknownTaskError`) naming the task and field, so ``schedule`` only ever sees
consistent data.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from keelplan.engine.errors import InvalidInput, UnknownTaskError

MAX_DURATION = 36525
MAX_LAG_DAYS = 36525
MAX_LAG_PERCENT = 10000
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
        if self.id is None:
            raise InvalidInput("a task id is required", field="id")
        _int(self.duration, task=self.id, field="duration", low=0, high=MAX_DURATION)
        try:
            object.__setattr__(self, "constraint", ConstraintType(self.constraint))
        except ValueError:
            raise InvalidInput(f"unknown constraint {self.constraint!r}", task=self.id, field="constraint") from None
        for name in ("constraint_date", "deadline", "manual_start", "manual_finish", "actual_start", "actual_finish"):
            _date(getattr(self, name), task=self.id, field=name)
        if self.constraint in DATED and self.constraint_date is None:
            raise InvalidInput(f"a {self.constraint.value} constraint needs a date", task=self.id,
                               field="constraint_date")
        if (self.manual_start is None) != (self.manual_finish is None):
            raise InvalidInput("manual scheduling needs both manual_start and manual_finish", task=self.id,
                               field="manual_finish" if self.manual_finish is None else "manual_start")
        if self.manual_start is not None and self.manual_finish < self.manual_start:
            raise InvalidInput("manual_finish is before manual_start", task=self.id, field="manual_finish")
        pct = self.percent_complete
        if isinstance(pct, bool) or not isinstance(pct, (int, float)) or pct != pct or not 0 <= pct <= 100:
            raise InvalidInput("must be a number from 0 to 100", task=self.id, field="percent_complete")
        if self.actual_finish is not None and self.actual_start is None:
            raise InvalidInput("an actual finish needs an actual start", task=self.id, field="actual_start")
        if self.actual_finish is not None and self.actual_finish < self.actual_start:
            raise InvalidInput("actual_finish is before actual_start", task=self.id, field="actual_finish")

    @property
    def is_complete(self) -> bool:
        return self.actual_finish is not None

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
        try:
            object.__setattr__(self, "type", LinkType(self.type))
        except ValueError:
            raise InvalidInput(f"unknown link type {self.type!r}", task=self.successor, field="type") from None
        try:
            object.__setattr__(self, "lag_unit", LagUnit(self.lag_unit))
        except ValueError:
            raise InvalidInput(f"unknown lag unit {self.lag_unit!r}", task=self.successor, field="lag_unit") from None
        limit = MAX_LAG_PERCENT if self.lag_unit is LagUnit.PERCENT else MAX_LAG_DAYS
        _int(self.lag, task=self.successor, field="lag", low=-limit, high=limit)
        if self.predecessor == self.successor:
            raise InvalidInput("a task cannot depend on itself", task=self.successor, field="predecessor")


@dataclass(frozen=True, slots=True)
class ProjectInput:
    """A whole project to schedule.

    ``calendar`` names the default calendar (one of ``calendars``); with no calendars given, a Monday-to-Friday
    calendar with no holidays is used. ``status_date`` is the first day remaining work may be scheduled on.
    """

    start: dt.date
    tasks: tuple[Task, ...]
    links: tuple[Link, ...] = ()
    calendars: tuple[Calendar, ...] = ()
    calendar: Hashable | None = None
    status_date: dt.date | None = None
    _index: dict = field(default=None, init=False, repr=False, compare=False)
    # Link ends as task positions, and the link columns, gathered while validating (the engine reads these).
    _link_columns: tuple = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        _date(self.start, field="start", optional=False)
        _date(self.status_date, field="status_date")
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "links", tuple(self.links))
        calendars = tuple(self.calendars) or (Calendar("default"),)
        object.__setattr__(self, "calendars", calendars)
        cal_ids = set()
        for cal in calendars:
            if not isinstance(cal, Calendar):
                raise InvalidInput("calendars must be Calendar values", field="calendars")
            if cal.id in cal_ids:
                raise InvalidInput(f"calendar {cal.id!r} is given twice", field="calendars")
            cal_ids.add(cal.id)
        if self.calendar is None:
            object.__setattr__(self, "calendar", calendars[0].id)
        elif self.calendar not in cal_ids:
            raise UnknownTaskError(f"unknown default calendar {self.calendar!r}", field="calendar")
        index: dict = {}
        for i, task in enumerate(self.tasks):
            if not isinstance(task, Task):
                raise InvalidInput("tasks must be Task values", field="tasks")
            if task.id in index:
                raise InvalidInput("the task id is used twice", task=task.id, field="id")
            index[task.id] = i
        for task in self.tasks:
            if task.parent is not None and task.parent not in index:
                raise UnknownTaskError(f"unknown parent {task.parent!r}", task=task.id, field="parent")
            if task.calendar is not None and task.calendar not in cal_ids:
                raise UnknownTaskError(f"unknown calendar {task.calendar!r}", task=task.id, field="calendar")
        seen = set()
        preds, succs, kinds, lags, units = [], [], [], [], []
        for link in self.links:
            if not isinstance(link, Link):
                raise InvalidInput("links must be Link values", field="links")
            p = index.get(link.predecessor)
            if p is None:
                raise UnknownTaskError(f"unknown predecessor {link.predecessor!r}", task=link.successor,
                                       field="predecessor")
            s = index.get(link.successor)
            if s is None:
                raise UnknownTaskError(f"unknown successor {link.successor!r}", task=link.predecessor,
                                       field="successor")
            key = (p, s, link.type)
            if key in seen:
                raise InvalidInput(f"the {link.type.value} link from {link.predecessor!r} is given twice",
                                   task=link.successor, field="predecessor")
            seen.add(key)
            preds.append(p)
            succs.append(s)
            kinds.append(link.type)
            lags.append(link.lag)
            units.append(link.lag_unit)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_link_columns", (preds, succs, kinds, lags, units))

    def task_index(self, task_id) -> int:
        return self._index[task_id]

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
