"""Reads of computed schedules: per-task computed fields and the project summary.

Every read checks ``ProjectSchedule.version`` (one indexed query per project per request) and serves the
process's cached columns when they match, reading only the chunks written since otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from keelplan.permissions import Action, require
from keelplan.portfolio.models import Project
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
