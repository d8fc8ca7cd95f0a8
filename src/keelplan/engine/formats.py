"""Projects as JSON: Keelplan's own project format and trueppm-scheduler's, read strictly; schedules written.

:func:`load_project` reads either format (told apart by their keys, see :func:`detect_format`) and returns a
:class:`~keelplan.engine.inputs.ProjectInput`; :func:`schedule_to_json` writes what ``keelplan schedule --json``
prints. Every refusal is an :class:`~keelplan.engine.errors.InvalidInput` (a :class:`ProjectFormatError` for
problems found while reading) whose message names the task and field.

Keelplan's project format
-------------------------

One JSON object::

    {
      "start": "2026-01-05",                  required: the project start, YYYY-MM-DD
      "status_date": "2026-02-02",            optional: remaining work is not scheduled before it
      "calendar": "std",                      optional: the default calendar (an id from "calendars")
      "calendars": [                          optional: without it, Monday to Friday with no holidays
        {"id": "std",                         required, a string
         "working_days": 31,                  optional bitmask, Mon=1 Tue=2 Wed=4 Thu=8 Fri=16 Sat=32 Sun=64;
                                              default 31 (Monday to Friday)
         "exceptions": [                      optional inclusive date ranges, non-working unless "working"
           {"start": "2026-12-24", "end": "2026-12-26", "working": false}]}
      ],
      "tasks": [                              required
        {"id": "A",                           required, a non-empty string, unique
         "name": "Design",                    optional
         "duration": 5,                       required: whole working days of the task's calendar, 0 = milestone
         "calendar": "std",                   optional: a calendar id
         "parent": "S",                       optional: the summary task it belongs to
         "constraint": "SNET",                optional: ASAP ALAP MSO MFO SNET SNLT FNET FNLT (default ASAP)
         "constraint_date": "2026-01-12",     required by every constraint but ASAP and ALAP
         "deadline": "2026-03-01",
         "manual_start": ..., "manual_finish": ...,   both or neither: a manually scheduled task
         "percent_complete": 40,              a number from 0 to 100
         "actual_start": ..., "actual_finish": ...}
      ],
      "links": [                              optional
        {"predecessor": "A", "successor": "B",   required task ids
         "type": "FS",                        optional: FS SS FF SF (default FS)
         "lag": 2,                            optional whole number, negative for a lead (default 0)
         "lag_unit": "wd"}                    optional: "wd" working days of the successor's calendar (default),
                                              "ed" elapsed days, "pct" percent of the predecessor's duration
      ]
    }

An optional field may also be ``null``, which means the same as leaving it out. Anything else is refused:
keys the format does not define, duplicate keys in one object, ``NaN`` and ``Infinity``, dates not written
exactly ``YYYY-MM-DD``, fractional durations and lags, and values of the wrong JSON type. Dates are held to the
bounds of :mod:`keelplan.engine.limits`: the start no later than ``LATEST_START``; the status date, constraint
dates and manual dates at most ``MAX_PROJECT_SPAN_DAYS`` after the start, actual dates within that many days
either side of it; and every calendar needs a working day within ``MAX_CALENDAR_SCAN_DAYS`` of the start.

trueppm-scheduler's project format
----------------------------------

The output of ``trueppm_scheduler.Project.to_json()`` (version 0.4): ``{"id", "name", "start_date", "tasks",
"dependencies", "calendar", "status_date", "calendars", "velocity_samples", "sprint_length_days"}`` with

* tasks ``{"id", "name", "duration", "planned_start", "percent_complete", "actual_start", "actual_finish",
  "calendar_id", ...}``. ``duration`` is in **seconds** and must be whole days (working days);
  ``planned_start`` acts as a start-no-earlier-than constraint; an ``actual_finish`` needs no ``actual_start``.
  The computed fields (``early_start``, ``total_float``, ``is_critical``, ...) and those only Monte Carlo or
  display use (``planned_finish``, the PERT durations, ``delivery_mode``, ``story_points``,
  ``milestone_at_day_end``, ``live_day_end_on``) are checked as trueppm-scheduler checks them and otherwise
  ignored, as its CPM ignores them;
* dependencies ``{"predecessor_id", "successor_id", "dep_type", "lag"}``, ``lag`` in seconds of **elapsed**
  (calendar) days, whole days only; at most one dependency per (predecessor, successor) pair, whatever its type;
* ``calendar`` ``{"working_days", "exceptions": [{"start", "end"}], "hours_per_day", "timezone"}`` for the
  project, and ``calendars`` an optional ``{id: calendar}`` registry that tasks' ``calendar_id`` refers to
  (ignored when empty, as trueppm-scheduler does).

Everything trueppm-scheduler refuses is refused, with its limits (:mod:`keelplan.engine.limits`): besides the
date bounds of Keelplan's format, a three-point estimate must satisfy optimistic <= most likely <= pessimistic,
and the whole project's span (every task's longest estimate and every lag added up, plus the furthest planned
start, status date or actual date) is at most ``MAX_PROJECT_SPAN_DAYS`` and must fit, at one working day a week,
before the end of the year 9999.

>>> p = load_project('{"start": "2026-01-05", "tasks": [{"id": "A", "duration": 3}, {"id": "B", "duration": 2}],'
...                  ' "links": [{"predecessor": "A", "successor": "B"}]}')
>>> from keelplan.engine import schedule
>>> schedule(p).project_finish
datetime.date(2026, 1, 9)
>>> load_project('{"start": "2026-01-05", "tasks": [{"id": "A", "duration": 2.5}]}')
Traceback (most recent call last):
...
keelplan.engine.formats.ProjectFormatError: task 'A', field 'duration': expected a whole number, got 2.5
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from itertools import repeat
from operator import attrgetter

import numpy as np
import orjson

from keelplan.engine import limits
from keelplan.engine.errors import InvalidInput
from keelplan.engine.inputs import (
    Calendar, CalendarException, ConstraintType, LagUnit, Link, LinkType, ProjectInput, Task,
)
from keelplan.engine.results import ScheduleResult

KEELPLAN = "keelplan"
TRUEPPM = "trueppm"
SECONDS_PER_DAY = 86400

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ProjectFormatError(InvalidInput):
    """A project document that cannot be read: bad JSON, a missing or unknown key, or a value of the wrong
    type or shape. ``task`` and ``field`` name where, when known."""


# ------------------------------------------------------------------ strict JSON


def _reject_constant(token: str):
    raise ProjectFormatError(f"{token} is not allowed in a project document")


def _no_duplicate_keys(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ProjectFormatError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses to infinity without going through parse_constant
        raise ProjectFormatError(f"the number {text} is out of range")
    return value


def parse_json(text: str | bytes):
    """Parse ``text`` as strict JSON: no ``NaN``/``Infinity``, no duplicate keys, no out-of-range numbers.

    orjson reads it first (it refuses ``NaN``, ``Infinity`` and numbers out of range itself). It keeps the last
    of two equal keys in one object without a word, so the keys the text holds are counted too (``":``, which
    only ends a key when no string holds an escaped quote before a colon); any doubt, and any document orjson
    refuses, goes to the standard library's parser, which finds the exact fault."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _parse_json_exactly(text)
    if isinstance(text, str):
        keys, doubt = text.count('":'), '\\":' in text
    else:
        keys, doubt = bytes(text).count(b'":'), b'\\":' in text
    if doubt or keys != _pairs(doc):
        return _parse_json_exactly(text)
    return doc


def _pairs(value) -> int:
    """The key-value pairs of the objects in ``value`` (in a long list of objects, of those objects only, not
    of objects nested in them: an undercount only sends the document to the exact parser)."""
    if value.__class__ is dict:
        return len(value) + sum(_pairs(v) for v in value.values() if v.__class__ is dict or v.__class__ is list)
    if value.__class__ is list:
        if len(value) > 1000:
            return sum(map(len, [v for v in value if v.__class__ is dict]))
        return sum(_pairs(v) for v in value if v.__class__ is dict or v.__class__ is list)
    return 0


def _parse_json_exactly(text: str | bytes):
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ProjectFormatError(f"the document is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys,
                          parse_float=_float)
    except json.JSONDecodeError as exc:
        raise ProjectFormatError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ProjectFormatError("not valid JSON: nested too deeply") from None


# ------------------------------------------------------------------ field readers


class _Reader:
    """Typed access to one JSON object, with errors naming the task (or other owner) and field."""

    def __init__(self, obj, *, allowed: frozenset, what: str, task=None, prefix: str = ""):
        self.task = task
        self.prefix = prefix
        if not isinstance(obj, dict):
            raise ProjectFormatError(f"{what} must be a JSON object, got {_kind(obj)}", task=task,
                                     field=prefix.rstrip(".") or None)
        unknown = [k for k in obj if k not in allowed]
        if unknown:
            raise ProjectFormatError(f"unknown key in {what} (allowed: {', '.join(sorted(allowed))})", task=task,
                                     field=prefix + unknown[0])
        self.obj = obj

    def fail(self, name: str, message: str):
        raise ProjectFormatError(message, task=self.task, field=self.prefix + name)

    def raw(self, name: str, required: bool):
        value = self.obj.get(name)
        if value is None and required:
            self.fail(name, "is required" if name not in self.obj else "is required and cannot be null")
        return value

    def string(self, name: str, *, required: bool = False, nonempty: bool = False):
        value = self.raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, f"expected a string, got {_kind(value)}")
        if nonempty and not value.strip():
            self.fail(name, "cannot be empty")
        return value

    def whole(self, name: str, *, required: bool = False, default=None):
        value = self.raw(name, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"expected a whole number, got {_show(value)}")
        return value

    def number(self, name: str, *, required: bool = False, default=None):
        value = self.raw(name, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            self.fail(name, f"expected a number, got {_show(value)}")
        return value

    def boolean(self, name: str, *, default=None):
        value = self.raw(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, f"expected true or false, got {_show(value)}")
        return value

    def date(self, name: str, *, required: bool = False):
        value = self.raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.fail(name, f"expected a date written YYYY-MM-DD, got {_show(value)}")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(name, f"{value!r} is not a real date")

    def array(self, name: str, *, required: bool = False) -> list:
        value = self.raw(name, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(name, f"expected a list, got {_kind(value)}")
        return value

    def choice(self, name: str, options, *, default=None):
        value = self.raw(name, False)
        if value is None:
            return default
        if not isinstance(value, str) or value not in options:
            self.fail(name, f"expected one of {', '.join(options)}, got {_show(value)}")
        return value

    def seconds_as_days(self, name: str, *, required: bool = False, default=None, signed: bool = False):
        """A trueppm-scheduler duration or lag: seconds, whole days only."""
        value = self.raw(name, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            self.fail(name, f"expected a number of seconds, got {_show(value)}")
        if value % SECONDS_PER_DAY:
            self.fail(name, f"{_show(value)} seconds is not a whole number of days (86400 seconds each); "
                            "sub-day values are not supported")
        if value < 0 and not signed:
            self.fail(name, f"cannot be negative, got {_show(value)}")
        return int(value // SECONDS_PER_DAY)


def _finite(value) -> bool:
    """A number that is not infinite or NaN (an integer always is, however long: math.isfinite would overflow)."""
    return isinstance(value, int) or math.isfinite(value)


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _show(value) -> str:
    if isinstance(value, (dict, list)):
        return _kind(value)
    return json.dumps(value)


def _task_label(obj, position: int):
    """The task id for error messages: the id when it is a usable string, else the task's position."""
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and obj["id"]:
        return obj["id"]
    return None


def _within(problem: str | None, *, task=None, field: str | None) -> None:
    """Refuse a value :mod:`keelplan.engine.limits` found a ``problem`` with."""
    if problem is not None:
        raise InvalidInput(problem, task=task, field=field)


def _check_calendar_reach(calendar: Calendar, start: dt.date, field: str) -> None:
    _within(limits.calendar_reach_problem(calendar.working_days, calendar.exceptions, start),
            field=field if calendar.exceptions else field.replace("exceptions", "working_days"))


def _unique_ids(ids: list, field: str):
    seen = set()
    for task_id in ids:
        if task_id in seen:
            raise ProjectFormatError("the task id is used twice", task=task_id, field=field)
        seen.add(task_id)


# ------------------------------------------------------------------ detection and entry points


def detect_format(doc) -> str:
    """``"keelplan"`` for a document with ``start``, ``"trueppm"`` for one with ``start_date``."""
    if not isinstance(doc, dict):
        raise ProjectFormatError(f"a project document must be a JSON object, got {_kind(doc)}")
    if "start" in doc and "start_date" in doc:
        raise ProjectFormatError("the document has both 'start' (Keelplan format) and 'start_date' "
                                 "(trueppm-scheduler format); use one", field="start")
    if "start" in doc:
        return KEELPLAN
    if "start_date" in doc:
        return TRUEPPM
    raise ProjectFormatError("cannot tell the format: a Keelplan project has 'start', a trueppm-scheduler "
                             "project has 'start_date'", field="start")


def load_project(text: str | bytes, *, format: str | None = None) -> ProjectInput:
    """Read a project document in either format (auto-detected unless ``format`` is given)."""
    doc = parse_json(text)
    kind = format or detect_format(doc)
    if kind == KEELPLAN:
        return project_from_keelplan(doc)
    if kind == TRUEPPM:
        return project_from_trueppm(doc)
    raise ValueError(f"unknown project format {format!r}")


def schedule_to_dict(result: ScheduleResult, project: ProjectInput | None = None) -> dict:
    """The ``--json`` shape: ``project_start``, ``project_finish``, ``critical_path`` (every critical task, in
    order) and ``tasks`` keyed by id, each with early/late start and finish, total and free float and
    ``is_critical``; given the ``project``, also ``driving_links``: ``[predecessor, successor, type]`` of each
    link that drives its successor, in the project's link order."""
    out = result.as_dict()
    if project is not None:
        out["driving_links"] = [[lk.predecessor, lk.successor, lk.type.value]
                                for lk, driving in zip(project.links, result.link_driving.tolist()) if driving]
    return out


def schedule_to_json(result: ScheduleResult, project: ProjectInput | None = None, *, indent: int | None = 2) -> str:
    data = schedule_to_dict(result, project)
    if indent not in (2, None):
        return json.dumps(data, indent=indent)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 if indent == 2 else 0).decode()


# ------------------------------------------------------------------ Keelplan's format

_K_PROJECT = frozenset({"start", "status_date", "calendar", "calendars", "tasks", "links", "name"})
_K_CALENDAR = frozenset({"id", "working_days", "exceptions", "name"})
_K_EXCEPTION = frozenset({"start", "end", "working", "name"})
_K_TASK = frozenset({"id", "name", "duration", "calendar", "parent", "constraint", "constraint_date", "deadline",
                     "manual_start", "manual_finish", "percent_complete", "actual_start", "actual_finish"})
_K_LINK = frozenset({"predecessor", "successor", "type", "lag", "lag_unit"})
_CONSTRAINTS = tuple(c.value for c in ConstraintType)
_LINK_TYPES = tuple(t.value for t in LinkType)
_LAG_UNITS = tuple(u.value for u in LagUnit)


def project_from_keelplan(doc) -> ProjectInput:
    """Convert a parsed Keelplan project document (see the module docstring) to a ``ProjectInput``."""
    top = _Reader(doc, allowed=_K_PROJECT, what="the project")
    top.string("name")
    start = top.date("start", required=True)
    _within(limits.start_problem(start), field="start")
    status_date = top.date("status_date")
    _within(limits.planned_date_problem(start, status_date, what="status date"), field="status_date")
    default_cal = top.string("calendar", nonempty=True)
    calendars = [_keelplan_calendar(c, k) for k, c in enumerate(top.array("calendars"))]
    for k, cal in enumerate(calendars):
        _check_calendar_reach(cal, start, f"calendars[{k}].exceptions")
    cal_ids = [c.id for c in calendars]
    for k, cid in enumerate(cal_ids):
        if cid in cal_ids[:k]:
            raise ProjectFormatError(f"calendar {cid!r} is given twice", field=f"calendars[{k}].id")
    if default_cal is not None and default_cal not in cal_ids:
        raise ProjectFormatError(f"unknown calendar {default_cal!r}", field="calendar")
    raw_tasks = top.array("tasks", required=True)
    tasks = [_keelplan_task(t, k, cal_ids) for k, t in enumerate(raw_tasks)]
    _unique_ids([t.id for t in tasks], "id")
    ids = {t.id for t in tasks}
    for t in tasks:
        if not _is_undated(t):
            _check_task_dates(t, start)
        if t.parent is not None and t.parent not in ids:
            raise ProjectFormatError(f"unknown parent {t.parent!r}", task=t.id, field="parent")
    links = [_keelplan_link(lk, k, ids) for k, lk in enumerate(top.array("links"))]
    return ProjectInput(start=start, status_date=status_date, calendars=tuple(calendars), calendar=default_cal,
                        tasks=tuple(tasks), links=tuple(links))


def _is_undated(task: Task) -> bool:
    return (task.constraint_date is None and task.manual_start is None and task.actual_start is None
            and task.actual_finish is None)


def _check_task_dates(task: Task, start: dt.date, *, planned: tuple = ("constraint date", "constraint_date")) -> None:
    """Refuse a task's dates that lie further from the project ``start`` than the scheduler accepts.
    ``planned`` names the constraint date, in words and as a field."""
    for name, field, value in (planned + (task.constraint_date,),
                               ("manual start", "manual_start", task.manual_start),
                               ("manual finish", "manual_finish", task.manual_finish)):
        _within(limits.planned_date_problem(start, value, what=name), task=task.id, field=field)
    for field in ("actual_start", "actual_finish"):
        _within(limits.actual_date_problem(start, getattr(task, field)), task=task.id, field=field)


def _keelplan_calendar(obj, k: int) -> Calendar:
    label = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None
    where = f"calendars[{k}]" + (f" ({label!r})" if label else "")
    r = _Reader(obj, allowed=_K_CALENDAR, what=f"calendar {where}", prefix=f"calendars[{k}].")
    cid = r.string("id", required=True, nonempty=True)
    r.string("name")
    mask = r.whole("working_days", default=31)
    if not 1 <= mask <= 127:
        r.fail("working_days", f"expected a weekday bitmask from 1 to 127 (Mon=1 ... Sun=64), got {mask}")
    exceptions = []
    for j, e in enumerate(r.array("exceptions")):
        er = _Reader(e, allowed=_K_EXCEPTION, what=f"an exception of calendar {cid!r}",
                     prefix=f"calendars[{k}].exceptions[{j}].")
        er.string("name")
        s, f = er.date("start", required=True), er.date("end", required=True)
        if f < s:
            er.fail("end", f"the exception ends ({f}) before it starts ({s})")
        exceptions.append(CalendarException(s, f, er.boolean("working", default=False)))
    return Calendar(cid, mask, tuple(exceptions))


def _keelplan_task(obj, k: int, cal_ids: list) -> Task:
    label = _task_label(obj, k)
    r = _Reader(obj, allowed=_K_TASK, what=f"task {label!r}" if label else f"tasks[{k}]", task=label,
                prefix="" if label else f"tasks[{k}].")
    task_id = r.string("id", required=True, nonempty=True)
    name = r.string("name") or ""
    duration = r.whole("duration", required=True)
    if duration < 0:
        r.fail("duration", f"cannot be negative, got {duration}")
    calendar = r.string("calendar", nonempty=True)
    if calendar is not None and calendar not in cal_ids:
        r.fail("calendar", f"unknown calendar {calendar!r}")
    parent = r.string("parent", nonempty=True)
    constraint = r.choice("constraint", _CONSTRAINTS, default="ASAP")
    fields = {name_: r.date(name_) for name_ in ("constraint_date", "deadline", "manual_start", "manual_finish",
                                                  "actual_start", "actual_finish")}
    pct = r.number("percent_complete", default=0.0)
    if not 0 <= pct <= 100:
        r.fail("percent_complete", f"must be from 0 to 100, got {_show(pct)}")
    return Task(task_id, duration, calendar=calendar, parent=parent, constraint=ConstraintType(constraint),
                percent_complete=float(pct), name=name, **fields)


def _keelplan_link(obj, k: int, ids: set) -> Link:
    succ = obj.get("successor") if isinstance(obj, dict) and isinstance(obj.get("successor"), str) else None
    r = _Reader(obj, allowed=_K_LINK, what=f"links[{k}]", task=succ, prefix=f"links[{k}].")
    pred = r.string("predecessor", required=True, nonempty=True)
    succ = r.string("successor", required=True, nonempty=True)
    for name, value in (("predecessor", pred), ("successor", succ)):
        if value not in ids:
            r.fail(name, f"unknown task {value!r}")
    kind = r.choice("type", _LINK_TYPES, default="FS")
    lag = r.whole("lag", default=0)
    unit = r.choice("lag_unit", _LAG_UNITS, default="wd")
    return Link(pred, succ, LinkType(kind), lag, LagUnit(unit))


# ------------------------------------------------------------------ trueppm-scheduler's format

_T_PROJECT = frozenset({"id", "name", "start_date", "tasks", "dependencies", "calendar", "velocity_samples",
                        "sprint_length_days", "status_date", "calendars"})
_T_CALENDAR = frozenset({"working_days", "exceptions", "hours_per_day", "timezone"})
_T_RANGE = frozenset({"start", "end"})
_T_TASK = frozenset({"id", "name", "duration", "planned_start", "planned_finish", "early_start", "early_finish",
                     "late_start", "late_finish", "total_float", "free_float", "is_critical", "percent_complete",
                     "actual_start", "actual_finish", "optimistic_duration", "most_likely_duration",
                     "pessimistic_duration", "delivery_mode", "story_points", "calendar_id", "scheduled_start",
                     "milestone_at_day_end", "live_day_end_on"})
_T_DEPENDENCY = frozenset({"predecessor_id", "successor_id", "dep_type", "lag"})
_T_ESTIMATES = ("optimistic_duration", "most_likely_duration", "pessimistic_duration")
_T_DELIVERY_MODES = ("waterfall", "scrum")
_PROJECT_CALENDAR = "project"


def project_from_trueppm(doc) -> ProjectInput:
    """Convert a parsed trueppm-scheduler ``Project.to_json()`` document to a ``ProjectInput``, refusing what
    trueppm-scheduler refuses."""
    top = _Reader(doc, allowed=_T_PROJECT, what="the project")
    top.string("id")
    top.string("name")
    start = top.date("start_date", required=True)
    status_date = top.date("status_date")
    _within(limits.planned_date_problem(start, status_date, what="status date"), field="status_date")
    samples = top.array("velocity_samples")
    for j, sample in enumerate(samples):
        if sample is not None and (isinstance(sample, bool) or not isinstance(sample, (int, float))):
            top.fail(f"velocity_samples[{j}]", f"expected a number, got {_show(sample)}")
    sprint_length = top.whole("sprint_length_days")
    registry = top.raw("calendars", False)
    if registry is not None and not isinstance(registry, dict):
        top.fail("calendars", f"expected an object mapping calendar ids to calendars, got {_kind(registry)}")
    registry = registry or {}
    project_cal_id = _PROJECT_CALENDAR
    while project_cal_id in registry:
        project_cal_id += "_"
    project_cal = doc.get("calendar")
    calendars = [_trueppm_calendar({} if project_cal is None else project_cal, project_cal_id, "calendar.", start)]
    calendars += [_trueppm_calendar(c, cid, f"calendars.{cid}.", start) for cid, c in registry.items()]
    tasks, span = [], 0
    # The furthest a planned start, the status date or an actual date shifts work: counted once in the span.
    furthest = max(0, (status_date - start).days) if status_date is not None else 0
    agile = (samples, sprint_length)
    cal_ids = set(registry)
    raw_tasks = top.array("tasks")
    every = _plain_trueppm_tasks(raw_tasks, cal_ids, start)
    if every is not None:  # every task plain (the usual large file): read column by column
        tasks, span, shift = every
        furthest = max(furthest, shift)
        raw_tasks = ()
    for k, t in enumerate(raw_tasks):
        plain = _plain_trueppm_task(t, cal_ids, start)
        if plain is not None:
            tasks.append(plain)
            span += plain.duration
            if plain.constraint_date is not None and (plain.constraint_date - start).days > furthest:
                furthest = (plain.constraint_date - start).days
            continue
        task, longest, shift = _trueppm_task(t, k, cal_ids, start, agile)
        tasks.append(task)
        span += longest
        if shift > furthest:
            furthest = shift
    _unique_ids([t.id for t in tasks], "id")
    ids = {t.id for t in tasks}
    raw_links = top.array("dependencies")
    if len(raw_links) > limits.MAX_DEPENDENCIES:
        top.fail("dependencies", f"{len(raw_links)} dependencies are more than trueppm-scheduler schedules "
                                 f"({limits.MAX_DEPENDENCIES})")
    links, pairs = [], {}
    every = _plain_trueppm_dependencies(raw_links, ids)
    if every is not None and len(set(zip(map(_PREDECESSOR, every), map(_SUCCESSOR, every)))) == len(every):
        # every dependency plain, and no two between the same tasks (the usual large file): taken as read
        links, raw_links = every, ()
        span += sum(map(abs, map(_LAG, every)))
    for k, d in enumerate(raw_links):
        link = every[k] if every is not None else _plain_trueppm_dependency(d, ids) or _trueppm_dependency(d, k, ids)
        first = pairs.setdefault((link.predecessor, link.successor), k)
        if first != k:
            raise InvalidInput(f"a second dependency from {link.predecessor!r} to {link.successor!r} (the first is "
                               f"dependencies[{first}]); trueppm-scheduler takes one dependency per pair of tasks",
                               task=link.successor, field=f"dependencies[{k}]")
        links.append(link)
        span += abs(link.lag)
    span += furthest
    _within(limits.project_span_problem(span), field=None)
    _within(limits.start_reach_problem(start, span), field="start_date")
    return ProjectInput(start=start, status_date=status_date, calendars=tuple(calendars), calendar=project_cal_id,
                        tasks=tuple(tasks), links=tuple(links))


def _trueppm_calendar(obj, cid: str, prefix: str, start: dt.date) -> Calendar:
    r = _Reader(obj, allowed=_T_CALENDAR, what=f"calendar {prefix.rstrip('.')}", prefix=prefix)
    mask = r.whole("working_days", default=31)
    if mask == 0:
        r.fail("working_days", "a calendar with no working days cannot schedule anything")
    if not 1 <= mask <= 127:
        r.fail("working_days", f"expected a weekday bitmask from 1 to 127 (Mon=1 ... Sun=64), got {mask}")
    r.number("hours_per_day")
    r.string("timezone")
    raw = r.array("exceptions")
    if len(raw) > limits.MAX_CALENDAR_EXCEPTIONS:
        r.fail("exceptions", f"{len(raw)} exception ranges are more than trueppm-scheduler accepts "
                             f"({limits.MAX_CALENDAR_EXCEPTIONS})")
    exceptions = []
    for j, e in enumerate(raw):
        er = _Reader(e, allowed=_T_RANGE, what=f"an exception of {prefix.rstrip('.')}",
                     prefix=f"{prefix}exceptions[{j}].")
        s, f = er.date("start", required=True), er.date("end", required=True)
        if f < s:
            er.fail("end", f"the exception ends ({f}) before it starts ({s})")
        exceptions.append(CalendarException(s, f))
    calendar = Calendar(cid, mask, tuple(exceptions))
    _check_calendar_reach(calendar, start, f"{prefix}exceptions")
    return calendar


# Task fields that, when set, take the full reader below (rare in a plain file, or needing more checks).
_T_NOT_PLAIN = ("actual_start", "actual_finish", "optimistic_duration", "most_likely_duration",
                "pessimistic_duration", "delivery_mode", "story_points", "planned_finish", "early_start",
                "early_finish", "late_start", "late_finish", "scheduled_start", "live_day_end_on")
_MAX_DURATION_SECONDS = limits.MAX_DURATION_DAYS * SECONDS_PER_DAY
_NUMBER = (int, float)


def _plain_trueppm_task(obj, registry: set, start: dt.date) -> Task | None:
    """The task of a plain task object (no dates but a planned start, no estimates or agile fields), every
    value checked as the full reader checks it; ``None`` for anything else, which the full reader then reads
    (and names what is wrong). Most tasks of a large file are plain, and this is several times faster."""
    if obj.__class__ is not dict or not obj.keys() <= _T_TASK:
        return None
    get = obj.get
    for field in _T_NOT_PLAIN:
        if get(field) is not None:
            return None
    task_id, name, seconds = get("id"), get("name"), get("duration")
    if task_id.__class__ is not str or not task_id.strip() or (name is not None and name.__class__ is not str):
        return None
    if seconds.__class__ not in _NUMBER or not 0 <= seconds <= _MAX_DURATION_SECONDS or seconds % SECONDS_PER_DAY:
        return None
    for field in ("total_float", "free_float"):
        value = get(field)
        if value is not None and (value.__class__ not in _NUMBER or not _finite(value)):
            return None
    for field in ("is_critical", "milestone_at_day_end"):
        value = get(field)
        if value is not None and value.__class__ is not bool:
            return None
    pct = get("percent_complete")
    if pct is None:
        pct = 0.0
    elif pct.__class__ not in _NUMBER or not 0 <= pct <= 100:
        return None
    calendar = get("calendar_id")
    if calendar is not None:
        if calendar.__class__ is not str or (registry and calendar not in registry):
            return None
        if not registry:
            calendar = None  # trueppm-scheduler ignores calendar_id without a calendars registry
    planned = get("planned_start")
    if planned is not None:
        planned = _planned_start(planned, start)
        if planned is None:
            return None
    # (positional: Task's fields in order, the dates other than a planned start empty; a third quicker than
    # keywords)
    return Task(task_id, int(seconds // SECONDS_PER_DAY), calendar, None,
                ConstraintType.ASAP if planned is None else ConstraintType.SNET, planned, None, None, None,
                float(pct), None, None, name or "")


def _planned_start(value, start: dt.date) -> dt.date | None:
    """A planned start written right and within the scheduler's span of ``start``; ``None`` otherwise."""
    if value.__class__ is not str or not _DATE.fullmatch(value):
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if limits.planned_date_problem(start, day) is None else None


_T_LINK_TYPE = {t.value: t for t in LinkType}
_PREDECESSOR, _SUCCESSOR, _LAG = attrgetter("predecessor"), attrgetter("successor"), attrgetter("lag")
_NONE = type(None)
_MAX_LAG_SECONDS = limits.MAX_LAG_DAYS * SECONDS_PER_DAY


def _column(rows: list, field: str) -> list:
    return list(map(dict.get, rows, repeat(field)))


def _types(values: list) -> set:
    return set(map(type, values))


def _floats(values: list) -> np.ndarray | None:
    """The numbers as floats; ``None`` for one too large for a float (an integer of hundreds of digits)."""
    try:
        return np.array(values, dtype=float)
    except OverflowError:
        return None


def _plain_trueppm_tasks(raw: list, registry: set, start: dt.date) -> tuple[list[Task], int, int] | None:
    """:func:`_plain_trueppm_task` for a whole list at once, column by column (a third of the time for a large
    file), with the sum of their durations and the furthest a planned start lies after ``start`` (days);
    ``None`` unless every task is plain, when the list is read one task at a time."""
    n = len(raw)
    if n < 1000 or _types(raw) != {dict} or not all(map(_T_TASK.issuperset, raw)):
        return None
    for field in _T_NOT_PLAIN:
        if _column(raw, field).count(None) != n:
            return None
    ids, names, seconds = _column(raw, "id"), _column(raw, "name"), _column(raw, "duration")
    if _types(ids) != {str} or not all(map(str.strip, ids)) or not _types(names) <= {str, _NONE} \
            or not _types(seconds) <= {int, float}:
        return None
    duration = _floats(seconds)
    if duration is None or not ((duration >= 0) & (duration <= _MAX_DURATION_SECONDS) & (duration % SECONDS_PER_DAY == 0)).all():
        return None
    for field in ("total_float", "free_float"):
        values = [v for v in _column(raw, field) if v is not None]
        floats = _floats(values) if _types(values) <= {int, float} else None
        if floats is None or not np.isfinite(floats).all():
            return None
    for field in ("is_critical", "milestone_at_day_end"):
        if not _types(_column(raw, field)) <= {bool, _NONE}:
            return None
    pcts = _column(raw, "percent_complete")
    given = [v for v in pcts if v is not None]
    if not _types(given) <= {int, float} or not all(0 <= v <= 100 for v in given):
        return None
    calendars = _column(raw, "calendar_id")
    named = {c for c in calendars if c is not None}
    if not _types(list(named)) <= {str} or (registry and not named <= registry):
        return None
    if not registry:
        calendars = repeat(None)  # trueppm-scheduler ignores calendar_id without a calendars registry
    planned = _column(raw, "planned_start")
    constraints, shift = repeat(ConstraintType.ASAP), 0
    if planned.count(None) != n:
        planned = [None if v is None else _planned_start(v, start) or False for v in planned]
        if False in planned:
            return None
        constraints = [ConstraintType.ASAP if v is None else ConstraintType.SNET for v in planned]
        shift = max(0, max((v - start).days for v in planned if v is not None))
    days = (duration // SECONDS_PER_DAY).astype(np.int64)
    pct = [0.0 if v is None else float(v) for v in pcts]
    tasks = list(map(Task, ids, days.tolist(), calendars, repeat(None), constraints, planned, repeat(None),
                     repeat(None), repeat(None), pct, repeat(None), repeat(None), [name or "" for name in names]))
    return tasks, int(days.sum()), shift


def _plain_trueppm_dependencies(raw: list, ids: set) -> list[Link] | None:
    """:func:`_plain_trueppm_dependency` for a whole list at once; ``None`` unless every dependency is plain."""
    if len(raw) < 1000 or _types(raw) != {dict} or not all(map(_T_DEPENDENCY.issuperset, raw)):
        return None
    preds, succs = _column(raw, "predecessor_id"), _column(raw, "successor_id")
    kinds, lags = _column(raw, "dep_type"), _column(raw, "lag")
    if _types(preds) != {str} or _types(succs) != {str} or not ids.issuperset(preds) or not ids.issuperset(succs):
        return None
    if not _types(kinds) <= {str} or not _types(lags) <= {int, float}:
        return None
    types = list(map(_T_LINK_TYPE.get, kinds))
    seconds = _floats(lags)
    if None in types or seconds is None or not ((np.abs(seconds) <= _MAX_LAG_SECONDS) & (seconds % SECONDS_PER_DAY == 0)).all():
        return None
    days = (seconds // SECONDS_PER_DAY).astype(np.int64).tolist()
    return list(map(Link, preds, succs, types, days, repeat(LagUnit.ELAPSED_DAYS)))


def _plain_trueppm_dependency(obj, ids: set) -> Link | None:
    """The link of a dependency object whose every value is right; ``None`` otherwise (the full reader then
    names what is wrong)."""
    if obj.__class__ is not dict or not obj.keys() <= _T_DEPENDENCY:
        return None
    pred, succ, kind, lag = obj.get("predecessor_id"), obj.get("successor_id"), obj.get("dep_type"), obj.get("lag")
    if pred.__class__ is not str or succ.__class__ is not str or pred not in ids or succ not in ids \
            or not pred.strip() or not succ.strip():
        return None
    if kind is None:
        link_type = LinkType.FS
    elif kind.__class__ is not str or (link_type := _T_LINK_TYPE.get(kind)) is None:
        return None
    if lag is None:
        lag = 0
    elif lag.__class__ not in _NUMBER or not _finite(lag) or lag % SECONDS_PER_DAY:
        return None
    return Link(pred, succ, link_type, int(lag // SECONDS_PER_DAY), LagUnit.ELAPSED_DAYS)


def _trueppm_task(obj, k: int, registry: set, start: dt.date, agile: tuple) -> tuple[Task, int, int]:
    """The task; its longest duration in working days (the most any of its estimates can reach, with the
    project's ``agile`` velocity samples and sprint length for a scrum task); and how far its planned start or
    actual dates lie from the ``start``, in days. Both count towards the project's span."""
    label = _task_label(obj, k)
    r = _Reader(obj, allowed=_T_TASK, what=f"task {label!r}" if label else f"tasks[{k}]", task=label,
                prefix="" if label else f"tasks[{k}].")
    task_id = r.string("id", required=True, nonempty=True)
    name = r.string("name") or ""
    duration = r.seconds_as_days("duration", required=True)
    longest = duration
    if obj.get("optimistic_duration") is not None or obj.get("most_likely_duration") is not None \
            or obj.get("pessimistic_duration") is not None:
        estimates = []
        for field in _T_ESTIMATES:
            days = r.seconds_as_days(field)
            if days is not None and days > limits.MAX_DURATION_DAYS:
                r.fail(field, f"must be at most {limits.MAX_DURATION_DAYS} days, got {days}")
            estimates.append(days)
        _within(limits.estimates_problem(*estimates), task=task_id, field="most_likely_duration")
        longest = max([duration] + [days for days in estimates if days is not None])
    for ignored in ("total_float", "free_float"):
        r.number(ignored)
    for ignored in ("planned_finish", "early_start", "early_finish", "late_start", "late_finish",
                    "scheduled_start", "live_day_end_on"):
        r.date(ignored)
    r.boolean("is_critical")
    r.boolean("milestone_at_day_end")
    delivery_mode = r.choice("delivery_mode", _T_DELIVERY_MODES)
    story_points = r.number("story_points")
    pct = r.number("percent_complete", default=0.0)
    if not 0 <= pct <= 100:
        r.fail("percent_complete", f"must be from 0 to 100, got {_show(pct)}")
    calendar = r.string("calendar_id")
    if calendar is not None:
        if not registry:
            calendar = None  # trueppm-scheduler ignores calendar_id without a calendars registry
        elif calendar not in registry:
            r.fail("calendar_id", f"unknown calendar {calendar!r} (not in the project's calendars)")
    planned_start = r.date("planned_start")
    actual_start, actual_finish = r.date("actual_start"), r.date("actual_finish")
    task = Task(task_id, duration, calendar=calendar, name=name, percent_complete=float(pct),
                constraint=ConstraintType.SNET if planned_start else ConstraintType.ASAP,
                constraint_date=planned_start, actual_start=actual_start, actual_finish=actual_finish)
    shift = 0
    if planned_start is not None or actual_start is not None or actual_finish is not None:
        _check_task_dates(task, start, planned=("planned start", "planned_start"))
        shift = max([0, (planned_start - start).days if planned_start is not None else 0]
                    + [abs((actual - start).days) for actual in (actual_start, actual_finish) if actual is not None])
    if delivery_mode == "scrum":
        try:
            longest = max(longest, limits.velocity_worst_case_days(story_points, *agile))
        except OverflowError:
            r.fail("story_points", f"{_show(story_points)} story points over the team's mean velocity is too large "
                                   "a number of sprints to bound")
    return task, longest, shift


def _trueppm_dependency(obj, k: int, ids: set) -> Link:
    succ = obj.get("successor_id") if isinstance(obj, dict) and isinstance(obj.get("successor_id"), str) else None
    r = _Reader(obj, allowed=_T_DEPENDENCY, what=f"dependencies[{k}]", task=succ, prefix=f"dependencies[{k}].")
    pred = r.string("predecessor_id", required=True, nonempty=True)
    succ = r.string("successor_id", required=True, nonempty=True)
    for name, value in (("predecessor_id", pred), ("successor_id", succ)):
        if value not in ids:
            r.fail(name, f"unknown task {value!r}")
    kind = r.choice("dep_type", _LINK_TYPES, default="FS")
    lag = r.seconds_as_days("lag", default=0, signed=True)
    return Link(pred, succ, LinkType(kind), lag, LagUnit.ELAPSED_DAYS)
