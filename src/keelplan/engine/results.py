"""What ``schedule`` returns: per-task dates and floats, the project finish and the critical path.

Results are kept as columns (NumPy arrays in input order) and turned into :class:`TaskResult` objects only when
asked for, so scheduling a 100,000-task project does not pay for 100,000 objects a caller may never read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from keelplan.engine.calendars import EPOCH_ORDINAL


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The computed schedule of one task. Floats are in working days of the task's calendar, negative
    where a constraint or deadline cannot be met."""

    id: Hashable
    early_start: dt.date
    early_finish: dt.date
    late_start: dt.date
    late_finish: dt.date
    total_float: int
    free_float: int
    is_critical: bool
    is_summary: bool = False
    driving_predecessors: tuple = ()

    def as_dict(self) -> dict:
        return {
            "early_start": self.early_start.isoformat(),
            "early_finish": self.early_finish.isoformat(),
            "late_start": self.late_start.isoformat(),
            "late_finish": self.late_finish.isoformat(),
            "total_float": self.total_float,
            "free_float": self.free_float,
            "is_critical": self.is_critical,
        }


def _date(day: int) -> dt.date:
    return dt.date.fromordinal(int(day) + EPOCH_ORDINAL)


class TaskResults(Mapping):
    """Task id -> :class:`TaskResult`, in input order, built on access."""

    def __init__(self, result: ScheduleResult):
        self._r = result

    def __getitem__(self, task_id) -> TaskResult:
        return self._r.task(task_id)

    def __iter__(self) -> Iterator:
        return iter(self._r.ids)

    def __len__(self) -> int:
        return len(self._r.ids)


class ScheduleResult:
    """The schedule of a whole project.

    ``result[task_id]`` and ``result.tasks`` give :class:`TaskResult` objects; ``result.columns`` gives the raw
    arrays in input order (days since 1970-01-01 for dates) for callers that write many rows at once.
    """

    __slots__ = ("project_start", "project_finish", "critical_path", "ids", "columns", "is_summary", "drivers",
                 "link_driving", "_index")

    def __init__(self, *, project_start: dt.date, project_finish: dt.date, ids: list, columns: dict,
                 is_summary, drivers: dict, critical_path: tuple, index: dict, link_driving=None):
        self.project_start = project_start
        self.project_finish = project_finish
        self.ids = ids
        self.columns = columns
        self.is_summary = is_summary
        self.drivers = drivers
        self.critical_path = critical_path
        self._index = index
        # One flag per input link, in ``ProjectInput.links`` order: whether the link drives its successor.
        self.link_driving = np.zeros(0, dtype=bool) if link_driving is None else link_driving

    @classmethod
    def empty(cls, start: dt.date) -> ScheduleResult:
        empty = np.zeros(0, dtype=np.int64)
        cols = {k: empty for k in ("es", "ef", "ls", "lf", "tf", "ff")}
        cols["crit"] = np.zeros(0, dtype=bool)
        return cls(project_start=start, project_finish=start, ids=[], columns=cols, is_summary=np.zeros(0, bool),
                   drivers={}, critical_path=(), index={})

    @property
    def tasks(self) -> TaskResults:
        return TaskResults(self)

    def task(self, task_id) -> TaskResult:
        i = self._index[task_id]
        c = self.columns
        return TaskResult(
            id=task_id, early_start=_date(c["es"][i]), early_finish=_date(c["ef"][i]), late_start=_date(c["ls"][i]),
            late_finish=_date(c["lf"][i]), total_float=int(c["tf"][i]), free_float=int(c["ff"][i]),
            is_critical=bool(c["crit"][i]), is_summary=bool(self.is_summary[i]),
            driving_predecessors=self.drivers.get(task_id, ()),
        )

    def __getitem__(self, task_id) -> TaskResult:
        return self.task(task_id)

    def __repr__(self) -> str:
        return (f"ScheduleResult({len(self.ids)} tasks, {self.project_start} .. {self.project_finish}, "
                f"critical path of {len(self.critical_path)})")

    def as_dict(self) -> dict:
        """The JSON shape ``keelplan schedule --json`` prints."""
        c = self.columns
        lists = {k: c[k].tolist() for k in ("es", "ef", "ls", "lf", "tf", "ff", "crit")}
        cache: dict[int, str] = {}

        def iso(day: int) -> str:
            text = cache.get(day)
            if text is None:
                text = cache[day] = _date(day).isoformat()
            return text

        keys = ("early_start", "early_finish", "late_start", "late_finish", "total_float", "free_float",
                "is_critical")
        tasks = {str(task_id): dict(zip(keys, row)) for task_id, row in zip(self.ids, zip(
            map(iso, lists["es"]), map(iso, lists["ef"]), map(iso, lists["ls"]), map(iso, lists["lf"]),
            lists["tf"], lists["ff"], lists["crit"]))}
        return {
            "project_start": self.project_start.isoformat(),
            "project_finish": self.project_finish.isoformat(),
            "critical_path": list(self.critical_path),
            "tasks": tasks,
        }
