"""Reads of computed schedules: per-task computed fields and the project summary.

Every read checks ``ProjectSchedule.version`` (one indexed query per project per request) and serves the
process's cached columns when they match, reading only the chunks written since otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
from django.db import transaction

from keelplan.engine.calendars import CalendarTable, day_number
from keelplan.permissions import Action, require
from keelplan.portfolio.models import Project
from keelplan.scheduling.inputs import DEFAULT_CALENDAR, engine_calendars
from keelplan.scheduling.models import ProjectSchedule, ScheduleChunk
from keelplan.scheduling.store import CHUNK_SIZE, Computed, computed_cache, decode, encode


def load_computed(project_id: int, *, version: int, chunk_count: int, use_cache: bool = True,
                  fill_cache: bool = True) -> Computed:
    """The stored schedule at ``version``: from the cache, topped up with the chunks written after it."""
    cached = computed_cache.get(project_id) if use_cache else None
    if cached is not None and cached.version == version:
        return cached
    chunks = ScheduleChunk.objects.filter(project_id=project_id, number__lt=chunk_count)
    parts = None
    if cached is not None and cached.version < version:
        # A chunk not rewritten since the cached version is the cached copy's; read only the others. (If the
        # cached copy lacks a chunk nobody rewrote, something is off: read everything.)
        fresh = dict(chunks.filter(version__gt=cached.version).values_list("number", "data"))
        if all(n in fresh or n * CHUNK_SIZE < len(cached.ids) for n in range(chunk_count)):
            parts = [fresh[n] if n in fresh else encode(cached, n) for n in range(chunk_count)]
    if parts is None:
        parts = list(chunks.order_by("number").values_list("data", flat=True))
    computed = decode(parts, version)
    # Only what is committed may be cached: a reader inside a transaction may see its own uncommitted writes.
    if fill_cache and not transaction.get_connection().in_atomic_block:
        current = computed_cache.get(project_id)
        if current is None or current.version <= version:
            computed_cache.put(project_id, computed)
    return computed


def current_computed(project_id: int) -> Computed:
    row = ProjectSchedule.objects.filter(project_id=project_id).values_list("version", "chunk_count").first()
    if row is None:
        return Computed.empty()
    return load_computed(project_id, version=row[0], chunk_count=row[1])


def computed_fields(project_id: int, task_ids: Iterable[int]) -> dict[int, dict]:
    """The seven computed fields (``early_start`` ... ``is_critical``) of each task id that has them."""
    return current_computed(project_id).values(list(task_ids))


class ScheduleReader:
    """Computed fields for the tasks one response renders: one version check per project per response, and one
    vectorised lookup for a whole page when ``prefetch`` is told its rows first."""

    def __init__(self):
        self._projects: dict[int, Computed] = {}
        self._values: dict[int, dict | None] = {}

    def _computed(self, project_id: int) -> Computed:
        computed = self._projects.get(project_id)
        if computed is None:
            computed = self._projects[project_id] = current_computed(project_id)
        return computed

    def prefetch(self, rows: Iterable[tuple[int, int]]) -> None:
        """Look up ``(project_id, task_id)`` pairs in one go per project."""
        by_project: dict[int, list[int]] = {}
        for project_id, task_id in rows:
            by_project.setdefault(project_id, []).append(task_id)
        for project_id, task_ids in by_project.items():
            found = self._computed(project_id).values(task_ids)
            for task_id in task_ids:
                self._values[task_id] = found.get(task_id)

    def fields(self, project_id: int, task_id: int) -> dict | None:
        if task_id not in self._values:
            self._values[task_id] = self._computed(project_id).values([task_id]).get(task_id)
        return self._values[task_id]


def schedule_summary(project: Project) -> dict:
    """The project-level figures of the latest computation, JSON-ready."""
    row = ProjectSchedule.objects.filter(project_id=project.pk).first()
    if row is None:
        return {"project": project.pk, "version": 0, "computed_at": None, "compute_ms": None,
                "project_start": project.start_date.isoformat(), "project_finish": None, "critical_path": [],
                "task_count": 0, "critical_count": 0, "late_count": 0}
    return {
        "project": project.pk,
        "version": row.version,
        "computed_at": row.computed_at.isoformat().replace("+00:00", "Z") if row.computed_at else None,
        "compute_ms": row.compute_ms,
        "project_start": row.project_start.isoformat() if row.project_start else project.start_date.isoformat(),
        "project_finish": row.project_finish.isoformat() if row.project_finish else None,
        "critical_path": list(row.critical_path),
        "task_count": row.task_count,
        "critical_count": row.critical_count,
        "late_count": row.late_count,
    }


def schedule_get(*, actor, project: Project) -> dict:
    """The schedule summary, for Viewers and above."""
    require(actor, Action.PROJECT_VIEW, project)
    return schedule_summary(project)


class WorkingDays:
    """Working-day arithmetic on the calendars of one project, for dialects that speak in durations (OpenProject:
    a manual work package's ``duration`` is the working days from its start to its due date, both counted).

    A work item works to its own calendar, else the project's, else the workspace default (Monday to Friday when
    there is none), as the scheduler does. Calendars are read once per object.
    """

    def __init__(self, project: Project):
        self.project_calendar = project.calendar_id
        self._calendars: dict = {}

    def _calendar(self, calendar_id):
        key = calendar_id or self.project_calendar or DEFAULT_CALENDAR
        if key not in self._calendars:
            found, _ = engine_calendars({key} if key != DEFAULT_CALENDAR else set())
            self._calendars[key] = found.get(key, found[DEFAULT_CALENDAR])
        return self._calendars[key]

    def _table(self, calendar_id, first: dt.date, days: int):
        return CalendarTable([self._calendar(calendar_id)], lo=day_number(first), size=max(days, 1) + 1)

    def count(self, start: dt.date, finish: dt.date, calendar_id=None) -> int:
        """Working days from ``start`` to ``finish``, both included (0 when ``finish`` is before ``start``)."""
        if finish < start:
            return 0
        table = self._table(calendar_id, start, (finish - start).days + 1)
        return int(table.rank_rows[0][(finish - start).days + 1])

    def finish(self, start: dt.date, days: int, calendar_id=None) -> dt.date:
        """The day the ``days``-th working day from ``start`` (counted if it is one) falls on; ``start`` itself
        for ``days`` below 1."""
        if days < 1:
            return start
        # Even a calendar with one working day a week fits ``days`` of them in 7 * days calendar days (plus the
        # exceptions, hence the margin); a calendar without working days has no such day: the start is given.
        span = 7 * days + 400
        table = self._table(calendar_id, start, span)
        ranks = table.rank_rows[0]
        if ranks[-1] < days:
            return start
        return start + dt.timedelta(days=int(np.searchsorted(ranks, days)) - 1)

    def start(self, finish: dt.date, days: int, calendar_id=None) -> dt.date:
        """The day ``days`` working days before ``finish`` begin, ``finish`` counted if it is a working day;
        ``finish`` itself for ``days`` below 1 or a calendar without that many working days."""
        if days < 1:
            return finish
        span = 7 * days + 400
        first = finish - dt.timedelta(days=span - 1)
        table = self._table(calendar_id, first, span)
        ranks = table.rank_rows[0]            # ranks[k]: working days before day first + k
        total = ranks[span]
        if total < days:
            return finish
        # The last day x with (working days in [x, finish]) >= days: total - ranks[x] >= days.
        x = int(np.searchsorted(ranks, total - days, side="right")) - 1
        return first + dt.timedelta(days=x)
