"""A project's stored inputs as the engine's ``ProjectInput``, kept warm per process and caught up from the
change log.

Reading 100,000 tasks and 200,000 links and building engine objects for them takes seconds, so each process
keeps an :class:`InputState` per project: the engine objects plus the change-stream positions they reflect
(the project's stream, and the workspace stream for calendars). Before scheduling, the state is brought up to
date by re-reading only the rows named by change events recorded after those positions -- events written by
any process, since the change log is shared. Because events are numbered in commit order and a state is
installed in the cache only after its transaction commits, a state at position ``n`` is a faithful copy of
the stored inputs at ``n``. If too much changed, or nothing is cached, the inputs are read in full. The cache
shares a byte budget with the computed schedules' (``store._Budget``); a state's size is estimated per row.

A state also carries each live link's stored ``Dependency.is_driving``, the one computed output kept on the link
rows: a reschedule compares the engine's flags with them and writes only the flips, without reading 200,000
rows first. They are caught up the same way, from the links the scheduler's own events name as flipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
from django.db.models.fields.json import KeyTransform

from keelplan.calendars.models import Calendar, CalendarException
from keelplan.changelog.models import ChangeEvent
from keelplan.changelog.services import SCHEDULE_ENTITY
from keelplan.engine import inputs as engine
from keelplan.planning.models import Dependency, SchedulingMode, WorkItem
from keelplan.portfolio.models import Project
from keelplan.scheduling.store import _Cache

# The engine calendar of a project without one: the workspace default calendar's mask and exceptions.
DEFAULT_CALENDAR = "default"
# Above this share of the project's rows changed since the cached state, reading everything is cheaper.
FULL_RELOAD_SHARE = 0.25
ID_BATCH = 5000

TASK_COLUMNS = ("id", "parent_id", "duration", "scheduling_mode", "manual_start", "manual_finish", "constraint_type",
                "constraint_date", "deadline", "calendar_id", "percent_complete", "actual_start", "actual_finish")
LINK_COLUMNS = ("id", "predecessor_id", "successor_id", "dep_type", "lag", "lag_unit", "is_driving")
CALENDAR_ENTITIES = ("calendar", "calendar_exception")
# Stored codes to engine enum members: passing members spares the engine an enum lookup per row.
CONSTRAINTS = {c.value: c for c in engine.ConstraintType}
LINK_TYPES = {t.value: t for t in engine.LinkType}
LAG_UNITS = {u.value: u for u in engine.LagUnit}


@dataclass(frozen=True)
class InputState:
    """The engine's view of one project at change-stream position ``seq`` (and workspace position ``ws_seq``).

    Never mutated: catching up builds a new state, so a transaction that rolls back leaves the cached one intact.
    """

    project_id: int
    seq: int
    ws_seq: int
    start: dt.date
    status_date: dt.date | None
    calendar_id: int | None
    tasks: dict            # work item id -> engine.Task
    links: dict            # dependency id -> engine.Link
    calendars: dict        # calendar id -> engine.Calendar (those the project uses, plus DEFAULT_CALENDAR)
    project_input: engine.ProjectInput
    # The ids of ``links`` in their order, which is ``project_input.links``' order and ascending (a full read
    # lists them by id; catching up appends only ids above the last, or rebuilds in id order), and each one's
    # stored ``is_driving``. Read-only arrays, shared between states.
    link_ids: np.ndarray = field(default=None, compare=False, repr=False)
    driving: np.ndarray = field(default=None, compare=False, repr=False)
    # The workspace default calendar whose mask and exceptions ``calendars[DEFAULT_CALENDAR]`` holds (None: there
    # was none, and it is Monday to Friday).
    default_calendar_id: int | None = None
    # Manually scheduled work items with no dates: they take no part in the schedule (``scheduled_input``).
    undated: frozenset = frozenset()


# Bytes an InputState holds per task and per link: the engine objects, their places in the state's dicts and
# the input's tuples, and the input's NumPy columns (25 and 40 bytes), measured with tracemalloc on 20,000
# and 100,000 tasks, plus a link's id and stored flag (9 bytes); a calendar exception is a few small objects.
BYTES_PER_TASK = 320
BYTES_PER_LINK = 279
BYTES_PER_CALENDAR_EXCEPTION = 200
STATE_OVERHEAD = 4096


def input_state_bytes(state: InputState) -> int:
    """An estimate of the bytes ``state`` holds, cheap enough to take on every cache put."""
    exceptions = sum(len(c.exceptions) for c in state.calendars.values())
    return (STATE_OVERHEAD + BYTES_PER_TASK * len(state.tasks) + BYTES_PER_LINK * len(state.links)
            + BYTES_PER_CALENDAR_EXCEPTION * exceptions)


input_cache = _Cache(16, size=input_state_bytes)


def _batches(ids: Iterable[int]):
    ids = sorted(ids)
    for i in range(0, len(ids), ID_BATCH):
        yield ids[i:i + ID_BATCH]


def _task(row) -> engine.Task:
    (pk, parent, duration, mode, manual_start, manual_finish, constraint, constraint_date, deadline, calendar,
     percent, actual_start, actual_finish) = row
    manual = mode == SchedulingMode.MANUAL and manual_start is not None
    return engine.Task(
        id=pk, duration=duration, parent=parent, calendar=calendar,
        constraint=CONSTRAINTS.get(constraint, constraint), constraint_date=constraint_date, deadline=deadline,
        manual_start=manual_start if manual else None, manual_finish=(manual_finish or manual_start) if manual else None,
        percent_complete=float(percent), actual_start=actual_start, actual_finish=actual_finish,
    )


def _undated(row) -> bool:
    """A manually scheduled work item with no dates (``TASK_COLUMNS`` row)."""
    return row[3] == SchedulingMode.MANUAL and row[4] is None


def _link(row) -> engine.Link:
    _, pred, succ, dep_type, lag, lag_unit, _ = row
    return engine.Link(predecessor=pred, successor=succ, type=LINK_TYPES.get(dep_type, dep_type), lag=lag,
                       lag_unit=LAG_UNITS.get(lag_unit, lag_unit))


def default_calendar_row() -> tuple[int, int] | None:
    """``(id, working_days)`` of the live workspace default calendar, if there is one."""
    return (Calendar.objects.filter(is_default=True, project__isnull=True).order_by("id")
            .values_list("id", "working_days").first())


def engine_calendars(ids: Iterable[int]) -> tuple[dict, int | None]:
    """Engine calendars for the given ids, with their live exceptions, plus ``DEFAULT_CALENDAR``: the workspace
    default calendar's mask and exceptions (Monday to Friday when there is none); and that calendar's id."""
    ids = {i for i in ids if i is not None}
    default = default_calendar_row()
    read = ids | ({default[0]} if default else set())
    exceptions: dict[int, list] = {}
    if read:
        for cal_id, start, end, working in (CalendarException.objects.filter(calendar_id__in=read)
                                            .order_by("start", "id").values_list("calendar_id", "start", "end",
                                                                                 "is_working")):
            exceptions.setdefault(cal_id, []).append(engine.CalendarException(start, end, working))
    if default is None:
        out = {DEFAULT_CALENDAR: engine.Calendar(DEFAULT_CALENDAR)}
    else:
        out = {DEFAULT_CALENDAR: engine.Calendar(DEFAULT_CALENDAR, working_days=default[1],
                                                 exceptions=tuple(exceptions.get(default[0], ())))}
    if ids:
        for cal_id, mask in Calendar.all_objects.filter(pk__in=ids).values_list("id", "working_days"):
            out[cal_id] = engine.Calendar(cal_id, working_days=mask, exceptions=tuple(exceptions.get(cal_id, ())))
    return out, default[0] if default else None


def _project_input(start, status_date, calendar_id, tasks: dict, links: dict, calendars: dict) -> engine.ProjectInput:
    default = calendar_id if calendar_id in calendars else DEFAULT_CALENDAR
    return engine.ProjectInput(start=start, status_date=status_date, tasks=tuple(tasks.values()),
                               links=tuple(links.values()), calendars=tuple(calendars.values()), calendar=default)


def _project_row(project_id: int):
    return Project.all_objects.filter(pk=project_id).values_list("start_date", "status_date", "calendar_id").get()


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def load_full(project_id: int, *, seq: int, ws_seq: int) -> InputState:
    """Read every live task and link of the project."""
    start, status_date, calendar_id = _project_row(project_id)
    tasks, undated = {}, set()
    for row in WorkItem.objects.filter(project_id=project_id).order_by("id").values_list(*TASK_COLUMNS):
        tasks[row[0]] = _task(row)
        if _undated(row):
            undated.add(row[0])
    rows = list(Dependency.objects.filter(project_id=project_id).order_by("id").values_list(*LINK_COLUMNS))
    links = {row[0]: _link(row) for row in rows}
    link_ids = _frozen(np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)))
    driving = _frozen(np.fromiter((row[-1] for row in rows), dtype=bool, count=len(rows)))
    del rows
    used = {calendar_id} | {t.calendar for t in tasks.values() if t.calendar is not None}
    calendars, default_id = engine_calendars(used)
    return InputState(project_id, seq, ws_seq, start, status_date, calendar_id, tasks, links, calendars,
                      _project_input(start, status_date, calendar_id, tasks, links, calendars), link_ids, driving,
                      default_id, frozenset(undated))


def _touched_calendars(since: int, until: int) -> set[int]:
    events = list(ChangeEvent.objects.filter(stream__key="workspace", seq__gt=since, seq__lte=until,
                                             entity__in=CALENDAR_ENTITIES).values_list("entity", "entity_id"))
    ids = {i for entity, i in events if entity == "calendar"}
    exception_ids = [i for entity, i in events if entity == "calendar_exception"]
    for batch in _batches(exception_ids):
        ids.update(CalendarException.all_objects.filter(pk__in=batch).values_list("calendar_id", flat=True))
    return ids


def _link_key(link: engine.Link) -> tuple:
    return (link.predecessor, link.successor, link.type)


@dataclass
class _Patch:
    """The rows a catch-up re-read, as a new id-ordered dict and as the change ``ProjectInput.evolve`` takes.

    ``in_place`` is false when evolving would not list rows in the order a full read does (a restored row
    belongs before the last one; a link whose ends or type changed would move to the end): then the input is
    rebuilt from the dict instead, so ties (in the critical path, say) resolve exactly as after a full read.
    """

    rows: dict
    upserts: list
    removals: list
    in_place: bool = True


def _patch(rows: dict, live: dict, touched: set[int], *, key=None) -> _Patch:
    out = dict(rows)
    last = next(reversed(rows), None)
    patch = _Patch(out, [], [])
    for row_id in sorted(touched):
        old, new = rows.get(row_id), live.get(row_id)
        if old is not None and (new is None or (key is not None and key(old) != key(new))):
            patch.removals.append(key(old) if key else row_id)
            if new is not None:
                patch.in_place = False
        if new is None:
            out.pop(row_id, None)
            continue
        if old is None and last is not None and row_id < last:
            patch.in_place = False
        out[row_id] = new
        patch.upserts.append(new)
    if not patch.in_place:
        patch.rows = dict(sorted(out.items()))
    return patch


def _runs_size(runs) -> int:
    return sum(last - first + 1 for first, last in runs)


def catch_up(state: InputState, *, seq: int, ws_seq: int) -> InputState:
    """``state`` brought forward to ``seq``/``ws_seq`` by re-reading the rows changed after its positions."""
    pid = state.project_id
    task_ids: set[int] = set()
    link_ids: set[int] = set()
    flipped_runs: list = []   # links whose is_driving a computation rewrote, as [first, last] runs of ids
    if seq > state.seq:
        events = ChangeEvent.objects.filter(stream__project_id=pid, seq__gt=state.seq, seq__lte=seq)
        for entity, entity_id in (events.filter(entity__in=("work_item", "dependency"))
                                  .values_list("entity", "entity_id")):
            (task_ids if entity == "work_item" else link_ids).add(entity_id)
        for runs in (events.filter(entity=SCHEDULE_ENTITY).annotate(links=KeyTransform("dependencies", "changes"))
                     .values_list("links", flat=True)):
            flipped_runs.extend(runs or ())
    size = len(state.tasks) + len(state.links)
    if len(task_ids) + len(link_ids) + _runs_size(flipped_runs) > max(2000, FULL_RELOAD_SHARE * size):
        return load_full(pid, seq=seq, ws_seq=ws_seq)

    start, status_date, calendar_id = _project_row(pid)
    task_patch = link_patch = None
    undated = state.undated
    if task_ids:
        live, now_undated = {}, set()
        for batch in _batches(task_ids):
            for row in WorkItem.objects.filter(pk__in=batch, project_id=pid).values_list(*TASK_COLUMNS):
                live[row[0]] = _task(row)
                if _undated(row):
                    now_undated.add(row[0])
        task_patch = _patch(state.tasks, live, task_ids)
        if undated or now_undated:
            undated = frozenset((undated - task_ids) | now_undated)
    flags: dict[int, bool] = {}
    if link_ids or flipped_runs:
        live = {}
        flipped = {i for first, last in flipped_runs for i in range(first, last + 1)}
        for batch in _batches(link_ids | flipped):
            for row in Dependency.objects.filter(pk__in=batch, project_id=pid).values_list(*LINK_COLUMNS):
                flags[row[0]] = row[-1]
                if row[0] in link_ids:
                    live[row[0]] = _link(row)
        if link_ids:
            link_patch = _patch(state.links, live, link_ids, key=_link_key)
    tasks = task_patch.rows if task_patch else state.tasks
    links = link_patch.rows if link_patch else state.links

    calendars, default_id = state.calendars, state.default_calendar_id
    needed = {calendar_id} | {tasks[t].calendar for t in task_ids if t in tasks}
    needed.discard(None)
    stale = _touched_calendars(state.ws_seq, ws_seq) if ws_seq > state.ws_seq else set()
    # The default calendar moved if the one the state copied changed, or another became the default (which logs
    # a change of that calendar, so a state with no calendar changes since needs no look).
    default_moved = bool(stale) and (default_id in stale or (default_calendar_row() or (None,))[0] != default_id)
    if (needed - calendars.keys()) or (stale & calendars.keys()) or default_moved:
        used = {calendar_id} | {t.calendar for t in tasks.values() if t.calendar is not None}
        calendars, default_id = engine_calendars(used)

    settings_changed = (start, status_date, calendar_id) != (state.start, state.status_date, state.calendar_id)
    if not (task_patch or link_patch or calendars is not state.calendars or settings_changed):
        project_input = state.project_input
    elif (task_patch and not task_patch.in_place) or (link_patch and not link_patch.in_place):
        project_input = _project_input(start, status_date, calendar_id, tasks, links, calendars)
    else:
        # The common case: a few rows changed. Evolving costs milliseconds where a rebuild validates everything.
        changes = {"start": start, "status_date": status_date,
                   "calendar": calendar_id if calendar_id in calendars else DEFAULT_CALENDAR}
        if calendars is not state.calendars:
            changes["calendars"] = tuple(calendars.values())
        project_input = state.project_input.evolve(
            tasks=task_patch.upserts if task_patch else (), remove_tasks=task_patch.removals if task_patch else (),
            links=link_patch.upserts if link_patch else (), remove_links=link_patch.removals if link_patch else (),
            **changes)
    link_order, driving = _stored_flags(state, link_patch, link_ids, flags)
    return replace(state, seq=seq, ws_seq=ws_seq, start=start, status_date=status_date, calendar_id=calendar_id,
                   tasks=tasks, links=links, calendars=calendars, project_input=project_input, link_ids=link_order,
                   driving=driving, default_calendar_id=default_id, undated=undated)


def _stored_flags(state: InputState, patch: _Patch | None, touched: set[int],
                  flags: dict[int, bool]) -> tuple[np.ndarray, np.ndarray]:
    """The ids of the links after ``patch`` (which re-read the ``touched`` ones; ``state``'s links without a
    patch) in their order, and their stored is_driving: ``state``'s carried over, ``flags`` (rows just re-read)
    replacing them."""
    ids, driving = state.link_ids, state.driving
    if patch is not None and patch.in_place:
        # Kept rows kept their places, removed ones left and new ones (ids above the last) came at the end: a
        # few array operations instead of a pass over every link.
        removed = sorted(i for i in touched if i in state.links and i not in patch.rows)
        added = sorted(i for i in touched if i not in state.links and i in patch.rows)
        if removed:
            _, at = _positions(ids, np.array(removed, dtype=np.int64))
            ids, driving = np.delete(ids, at), np.delete(driving, at)
        if added:
            ids = np.concatenate((ids, np.array(added, dtype=np.int64)))
            driving = np.concatenate((driving, np.zeros(len(added), bool)))
    elif patch is not None:
        new_ids = np.fromiter(patch.rows, dtype=np.int64, count=len(patch.rows))
        driving = _aligned(ids, driving, new_ids)
        ids = new_ids
    if flags:
        driving = driving if driving.flags.writeable else driving.copy()
        keys = np.fromiter(flags, dtype=np.int64, count=len(flags))
        values = np.fromiter(flags.values(), dtype=bool, count=len(flags))
        found, pos = _positions(ids, keys)
        driving[pos[found]] = values[found]
    return (_frozen(ids) if ids.flags.writeable else ids), (_frozen(driving) if driving.flags.writeable else driving)


def _positions(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(found, pos)``: which of ``wanted`` are in the ascending ``ids``, and where."""
    if not len(ids):
        return np.zeros(len(wanted), bool), np.zeros(len(wanted), np.int64)
    pos = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return ids[pos] == wanted, pos


def _aligned(old_ids: np.ndarray, old_flags: np.ndarray, new_ids: np.ndarray) -> np.ndarray:
    """``old_flags`` moved to the positions of ``new_ids``; false for an id that was not there."""
    found, pos = _positions(old_ids, new_ids)
    return np.where(found, old_flags[pos] if len(old_flags) else False, False)


def unscheduled(state: InputState) -> frozenset:
    """The work items that take no part in the schedule: undated manual ones without children, and then any
    undated manual parent all of whose children are out (a parent with a child in the schedule is a summary)."""
    if not state.undated:
        return frozenset()
    out: frozenset = frozenset()
    while True:
        parents = {t.parent for i, t in state.tasks.items() if t.parent is not None and i not in out}
        grown = state.undated - parents
        if grown == out:
            return out
        out = grown


def scheduled_input(state: InputState) -> tuple[engine.ProjectInput, frozenset, np.ndarray | None]:
    """What the engine schedules: ``(input, the work items left out, which of the state's links are kept)``. In
    the common case nothing is left out, and the state's own input is used as it is (``None`` for the links:
    all kept)."""
    out = unscheduled(state)
    if not out:
        return state.project_input, out, None
    kept = np.fromiter((link.predecessor not in out and link.successor not in out for link in state.links.values()),
                       dtype=bool, count=len(state.links))
    tasks = {i: t for i, t in state.tasks.items() if i not in out}
    links = {i: link for (i, link), keep in zip(state.links.items(), kept, strict=True) if keep}
    return (_project_input(state.start, state.status_date, state.calendar_id, tasks, links, state.calendars), out,
            kept)
