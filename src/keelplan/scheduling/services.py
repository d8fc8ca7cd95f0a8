"""Rescheduling: every write that can move dates recomputes its project before the write commits.

How it hangs together:

* Every service records its writes with ``sync.services.change_record``, which tells :func:`changes_recorded`.
  If a change touches a scheduling input (a task's duration, constraint, dates, progress, parent or calendar;
  any link; the project's start, status date or calendar; a calendar in use, or the workspace default calendar
  for a project without one), the project is marked with ``core.transactions.before_commit``. However many
  rows the request wrote, the project is rescheduled once, when the outermost service scope ends, still inside
  its transaction and under the project's write lock.
* :func:`reschedule` brings the process's cached :class:`~keelplan.scheduling.inputs.InputState` up to the
  change log's position, runs the engine, compares the result with the stored schedule and writes only what
  changed: the packed chunks that differ, ``WorkItem.is_critical`` and ``Dependency.is_driving`` where they
  flipped, the project's finish, and one ``schedule`` change event naming the tasks whose computed fields changed
  and the links whose flag flipped (so the sync feed and other processes' caches hear of both).
* An engine error (a cycle through summaries that the graph check did not catch, dates past year 9999) is a
  domain error, so the write that caused it is refused and rolled back with nothing changed.

The caches are filled only after the transaction commits, so a rolled-back write never leaves a trace in them.
"""

from __future__ import annotations

import dataclasses
import time
from functools import partial

import numpy as np
from django.db import transaction
from django.utils import timezone

from keelplan.calendars.models import Calendar, CalendarException
from keelplan.changelog.models import ChangeStream
from keelplan.changelog.services import (
    SCHEDULE_ENTITY, WORKSPACE_STREAM, Change, ChangeAction, change_record, project_write_lock,
)
from keelplan.core.errors import InvalidInput, NotFound
from keelplan.core.transactions import before_commit, write_transaction
from keelplan.engine import errors as engine_errors
from keelplan.engine import schedule as engine_schedule
from keelplan.permissions import Action, require
from keelplan.planning.models import SCHEDULE_INPUT_FIELDS, Dependency, WorkItem
from keelplan.planning.services import cycle_error
from keelplan.portfolio.models import Project
from keelplan.scheduling.inputs import InputState, catch_up, input_cache, load_full, scheduled_input
from keelplan.scheduling.models import ProjectSchedule, ScheduleChunk
from keelplan.scheduling.selectors import load_computed
from keelplan.scheduling.store import API_NAMES, FIELDS, Computed, computed_cache, encode

PROJECT_INPUT_FIELDS = frozenset({"start_date", "status_date", "calendar"})
FLAG_BATCH = 5000


# ---------------------------------------------------------------- when to reschedule

def changes_recorded(project, actor, changes) -> None:
    """``change_record`` listener: mark the projects whose schedule inputs these changes touched."""
    if project is None:
        calendar_ids = _calendars_in(changes)
        if calendar_ids:
            for project_id in _projects_using(calendar_ids):
                schedule_needed(project_id, actor=actor)
        return
    if any(_moves_dates(c) for c in changes):
        schedule_needed(project.pk, actor=actor)


def _moves_dates(change: Change) -> bool:
    if change.entity == "dependency":
        return True
    if change.entity == "work_item":
        return change.action != ChangeAction.UPDATED or bool(SCHEDULE_INPUT_FIELDS & change.changes.keys())
    if change.entity == "project":
        return change.action == ChangeAction.CREATED or bool(PROJECT_INPUT_FIELDS & change.changes.keys())
    return False


def _calendars_in(changes) -> set[int]:
    ids = {c.entity_id for c in changes if c.entity == "calendar" and c.action != ChangeAction.CREATED}
    exception_ids = [c.entity_id for c in changes if c.entity == "calendar_exception"]
    if exception_ids:
        ids.update(CalendarException.all_objects.filter(pk__in=exception_ids).values_list("calendar_id", flat=True))
    return ids


def _projects_using(calendar_ids: set[int]) -> list[int]:
    ids = set(Project.objects.filter(calendar_id__in=calendar_ids).values_list("id", flat=True))
    ids.update(WorkItem.objects.filter(calendar_id__in=calendar_ids, project__deleted_at__isnull=True)
               .values_list("project_id", flat=True).distinct())
    # A project without a calendar works to the workspace default: it moves when the default calendar changes or
    # is deleted (keeping its flag), or another becomes the default (``calendar_set_default`` logs both).
    if Calendar.all_objects.filter(pk__in=calendar_ids, is_default=True).exists():
        ids.update(Project.objects.filter(calendar__isnull=True).values_list("id", flat=True))
    return sorted(ids)


def schedule_needed(project_id: int, *, actor=None) -> None:
    """Reschedule ``project_id`` once, just before the current write scope commits."""
    before_commit(("reschedule", project_id), partial(reschedule, project_id, actor=actor))


# ---------------------------------------------------------------- computing and storing

def _stream_positions(project_id: int) -> tuple[int, int]:
    """The project's stream position (its row locked for the transaction) and the workspace stream's."""
    project_seq = project_write_lock(Project(pk=project_id)).last_seq
    ws_seq = ChangeStream.objects.filter(key=WORKSPACE_STREAM).values_list("last_seq", flat=True).first() or 0
    return project_seq, ws_seq


def _current_inputs(project_id: int, *, seq: int, ws_seq: int, full: bool) -> InputState:
    state = None if full else input_cache.get(project_id)
    if state is None or state.seq > seq or state.ws_seq > ws_seq:
        return load_full(project_id, seq=seq, ws_seq=ws_seq)
    if state.seq == seq and state.ws_seq == ws_seq:
        return state
    return catch_up(state, seq=seq, ws_seq=ws_seq)


def _run_engine(project_input):
    try:
        return engine_schedule(project_input)
    except engine_errors.CyclicDependencyError as exc:
        raise cycle_error(exc.cycle, field="predecessor") from None
    except engine_errors.DateRangeError as exc:
        raise InvalidInput(f"The schedule would run outside the years 1 to 9999 ({exc}).", field="duration",
                           code="date_out_of_range") from None
    except engine_errors.InvalidInput as exc:
        raise InvalidInput(exc.reason, field=exc.field or None, task=exc.task) from None


def compute(state: InputState) -> tuple:
    """Run the engine on ``state``: ``(result, the work items left out of the schedule, each of the state's links'
    driving flag)``. A link to a work item left out drives nothing."""
    project_input, left_out, kept_links = scheduled_input(state)
    result = _run_engine(project_input)
    link_driving = np.asarray(result.link_driving, dtype=bool)
    if kept_links is not None:
        link_driving = np.zeros(len(kept_links), bool)
        link_driving[kept_links] = result.link_driving
    return result, left_out, link_driving


def _stored(project_id: int, row: ProjectSchedule) -> Computed:
    return load_computed(project_id, version=row.version, chunk_count=row.chunk_count, use_cache=True,
                         fill_cache=False)


def _ranges(ids: np.ndarray) -> list[list[int]]:
    """Ascending ids as inclusive ``[first, last]`` runs of consecutive integers."""
    if not len(ids):
        return []
    breaks = np.flatnonzero(np.diff(ids) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(ids) - 1]))
    return [[int(ids[a]), int(ids[b])] for a, b in zip(starts, ends, strict=True)]


def reschedule(project_id: int, *, actor=None, full: bool = False) -> ProjectSchedule | None:
    """Recompute the project's schedule and store what changed. Must run inside a write transaction; takes the
    project's write lock. ``full`` ignores the process's cached inputs and reads everything again."""
    assert transaction.get_connection().in_atomic_block, "reschedule runs inside the write's transaction"
    seq, ws_seq = _stream_positions(project_id)
    project = Project.all_objects.filter(pk=project_id).values_list("deleted_at", "finish_date").first()
    if project is None or project[0] is not None:
        return None
    old_finish = project[1]
    state = _current_inputs(project_id, seq=seq, ws_seq=ws_seq, full=full)

    started = time.perf_counter()
    result, left_out, link_driving = compute(state)
    compute_ms = (time.perf_counter() - started) * 1000

    row, _ = ProjectSchedule.objects.get_or_create(project_id=project_id)
    old = _stored(project_id, row)
    new = Computed.from_columns(row.version, np.asarray(result.ids, dtype=np.int64),
                                {k: result.columns[k] for k in FIELDS})
    found, pos = old.positions(new.ids)
    changed = ~found
    changed_fields = set(FIELDS) if changed.any() else set()
    if len(old):
        for key in FIELDS:
            moved = found & (new.cols[key] != old.cols[key][pos])
            if moved.any():
                changed |= moved
                changed_fields.add(key)
    dropped = len(old) - int(found.sum())
    tasks_changed = bool(changed.any()) or dropped > 0
    # Live work items that left the schedule (a manual item whose dates were cleared): their computed fields
    # are gone, which the schedule event tells the sync feed, and they are no longer critical.
    unplaced = np.setdiff1d(old.ids, new.ids)
    unplaced = unplaced[np.isin(unplaced, np.fromiter(left_out, np.int64, len(left_out)))] if left_out else unplaced[:0]
    flipped = _flipped_links(state, link_driving)
    something_changed = tasks_changed or bool(flipped.any())

    now = timezone.now()
    finish = result.project_finish if len(new) else None
    version = row.version + 1 if something_changed else row.version
    new = Computed(version, new.ids, new.cols)
    if tasks_changed:
        _write_chunks(project_id, old, new)
        _write_critical_flags(new, found, pos, old)
    if len(unplaced):
        WorkItem.objects.filter(pk__in=unplaced.tolist(), is_critical=True).update(is_critical=False)
    flipped_ids = _write_driving_flags(state, link_driving, flipped)
    payload_fields = sorted([API_NAMES[k] for k in changed_fields] + (["is_driving"] if len(flipped_ids) else []))
    if something_changed or finish != old_finish:
        Project.all_objects.filter(pk=project_id).update(finish_date=finish, scheduled_at=now)
        change_record(project=Project(pk=project_id), actor=actor, changes=[Change(
            SCHEDULE_ENTITY, project_id, ChangeAction.UPDATED,
            payload={"finish_date": [old_finish.isoformat() if old_finish else None,
                                     finish.isoformat() if finish else None],
                     "work_items": _ranges(np.union1d(new.ids[changed], unplaced)),
                     "dependencies": _ranges(flipped_ids),
                     "fields": payload_fields},
        )])
        seq += 1

    tf = new.cols["tf"]
    row.version = version
    row.stream_seq = seq
    row.computed_at = now
    row.compute_ms = round(compute_ms, 3)
    row.project_start = result.project_start
    row.project_finish = finish
    row.task_count = len(new)
    row.critical_count = int(new.cols["crit"].sum())
    row.late_count = int((tf < 0).sum())
    row.chunk_count = new.chunk_count()
    fields = ["version", "stream_seq", "computed_at", "compute_ms", "project_start", "project_finish",
              "task_count", "critical_count", "late_count", "chunk_count"]
    # The critical path lists every critical task (tens of thousands in a large project): written only when
    # it changed, which most edits do not.
    path = [int(t) for t in result.critical_path]
    if path != row.critical_path:
        row.critical_path = path
        fields.append("critical_path")
    row.save(update_fields=fields)

    driving = link_driving.copy()
    driving.flags.writeable = False
    state = dataclasses.replace(state, seq=seq, driving=driving)
    transaction.on_commit(partial(_install, project_id, state, new))
    return row


def _write_chunks(project_id: int, old: Computed, new: Computed) -> None:
    count, old_count = new.chunk_count(), old.chunk_count()
    rewrite = [n for n in range(count) if n >= old_count or encode(new, n) != encode(old, n)]
    stale = list(range(count, old_count))
    if rewrite or stale:
        ScheduleChunk.objects.filter(project_id=project_id, number__in=rewrite + stale).delete()
    _insert_chunks([(project_id, n, new.version, encode(new, n)) for n in rewrite])


def _insert_chunks(rows: list[tuple]) -> None:
    """Insert ``(project_id, number, version, data)`` rows. On PostgreSQL the chunks go as binary parameters:
    Django's client-side binding would send each ~75 KB chunk as escaped text, several times slower."""
    if not rows:
        return
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        import psycopg

        table = ScheduleChunk._meta.db_table
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.executemany(f'INSERT INTO "{table}" (project_id, number, version, data) VALUES (%s, %s, %s, %b)',
                               rows)
        return
    ScheduleChunk.objects.bulk_create([ScheduleChunk(project_id=p, number=n, version=v, data=d) for p, n, v, d in rows])


def _write_critical_flags(new: Computed, found, pos, old: Computed) -> None:
    crit = new.cols["crit"]
    # A task new to the schedule (created, or restored with whatever flag it was deleted with) is always written.
    if len(old):
        flipped = np.where(found, crit != old.cols["crit"][pos], True)
    else:
        flipped = np.ones(len(crit), bool)
    ids = new.ids[flipped]
    values = crit[flipped]
    for flag in (True, False):
        chosen = ids[values == flag].tolist()
        for i in range(0, len(chosen), FLAG_BATCH):
            WorkItem.all_objects.filter(pk__in=chosen[i:i + FLAG_BATCH]).update(is_critical=flag)


def _flipped_links(state: InputState, flags: np.ndarray) -> np.ndarray:
    """Per link of ``state``, whether the engine's flag differs from the stored ``is_driving``."""
    if flags.shape != state.driving.shape:
        raise RuntimeError(f"The engine gave {len(flags)} link flags for the {len(state.driving)} links of project "
                           f"{state.project_id}.")
    return flags != state.driving


def _write_driving_flags(state: InputState, flags: np.ndarray, flipped: np.ndarray) -> np.ndarray:
    """Write ``Dependency.is_driving`` where it flipped; returns the ids written, ascending."""
    ids = state.link_ids[flipped]
    values = flags[flipped]
    for flag in (True, False):
        chosen = ids[values == flag].tolist()
        for i in range(0, len(chosen), FLAG_BATCH):
            Dependency.all_objects.filter(pk__in=chosen[i:i + FLAG_BATCH]).update(is_driving=flag)
    return ids


def _install(project_id: int, state: InputState, computed: Computed) -> None:
    """After commit: keep the newest state and schedule for the next write and read in this process."""
    cached = input_cache.get(project_id)
    if cached is None or cached.seq <= state.seq:
        input_cache.put(project_id, state)
    current = computed_cache.get(project_id)
    if current is None or current.version <= computed.version:
        computed_cache.put(project_id, computed)


def forget(project_id: int) -> None:
    input_cache.drop(project_id)
    computed_cache.drop(project_id)


@write_transaction()
def schedule_recompute(*, actor, project: Project) -> ProjectSchedule:
    """Recompute from a fresh read of every input (Scheduler or above): ``POST .../schedule/``."""
    require(actor, Action.SCHEDULE_RECOMPUTE, project)
    row = reschedule(project.pk, actor=actor, full=True)
    if row is None:
        raise NotFound("Project not found.", entity="project")
    return row


def schedule_missing() -> int:
    """Compute the schedule of every live project that has none yet (after an upgrade). Returns how many."""
    count = 0
    for project_id in Project.objects.filter(schedule__isnull=True).values_list("id", flat=True):
        with write_transaction():
            reschedule(project_id)
        count += 1
    return count
