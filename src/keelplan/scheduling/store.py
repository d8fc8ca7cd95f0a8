"""Computed schedules as columns: how they are packed into ``ScheduleChunk`` rows and cached per process.

A :class:`Computed` holds one project's computed fields as NumPy arrays aligned with its live task ids in
ascending order. Dates are day numbers since 1970-01-01. It is split into chunks of ``CHUNK_SIZE`` tasks, each
packed as ``ids (int64) | es, ef, ls, lf, tf, ff (int32 each) | crit (uint8)`` -- 37 bytes a task -- so a write
compares packed chunks with the stored ones and rewrites only those that differ.

Each process keeps the latest ``Computed`` of the projects it has read, keyed by project and checked against
``ProjectSchedule.version`` on every use (one indexed query), so a reader never serves a stale value and a warm
read of 100,000 tasks' fields costs a dictionary lookup and an array index.

>>> import numpy as np
>>> c = Computed.from_columns(1, np.array([5, 9]), {k: np.array([1, 2]) for k in FIELDS[:-1]} | {"crit": np.array([True, False])})
>>> decode([encode(c, 0, 2)]).ids.tolist()
[5, 9]
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from keelplan.engine.calendars import EPOCH_ORDINAL

CHUNK_SIZE = 2048
FIELDS = ("es", "ef", "ls", "lf", "tf", "ff", "crit")
INT_FIELDS = FIELDS[:-1]
# Wire/API names of the computed columns.
API_NAMES = {"es": "early_start", "ef": "early_finish", "ls": "late_start", "lf": "late_finish",
             "tf": "total_float", "ff": "free_float", "crit": "is_critical"}
DATE_FIELDS = frozenset({"es", "ef", "ls", "lf"})
BYTES_PER_TASK = 8 + 4 * len(INT_FIELDS) + 1
CACHE_PROJECTS = 64


def day_to_date(day: int) -> dt.date:
    return dt.date.fromordinal(int(day) + EPOCH_ORDINAL)


@dataclass(frozen=True)
class Computed:
    """One project's computed fields, ``version`` as stored in ``ProjectSchedule``."""

    version: int
    ids: np.ndarray            # int64, ascending
    cols: dict                 # field -> array aligned with ids (int32; crit bool)

    @classmethod
    def from_columns(cls, version: int, ids, cols: dict) -> Computed:
        ids = np.asarray(ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        out = {k: np.asarray(cols[k], dtype=np.int32)[order] for k in INT_FIELDS}
        out["crit"] = np.asarray(cols["crit"], dtype=bool)[order]
        return cls(version, ids, out)

    @classmethod
    def empty(cls, version: int = 0) -> Computed:
        return cls(version, np.zeros(0, np.int64), {k: np.zeros(0, np.int32) for k in INT_FIELDS}
                   | {"crit": np.zeros(0, bool)})

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, task_ids) -> tuple[np.ndarray, np.ndarray]:
        """``(found, pos)``: which of ``task_ids`` have computed values, and where."""
        wanted = np.asarray(task_ids, dtype=np.int64)
        if not len(self.ids):
            return np.zeros(len(wanted), bool), np.zeros(len(wanted), np.int64)
        pos = np.searchsorted(self.ids, wanted)
        pos = np.minimum(pos, len(self.ids) - 1)
        return self.ids[pos] == wanted, pos

    def values(self, task_ids) -> dict[int, dict]:
        """API-named Python values per task id (ids with no computed schedule are left out)."""
        wanted = [int(t) for t in task_ids]
        if not len(self.ids) or not wanted:
            return {}
        found, pos = self.positions(wanted)
        lists = {k: self.cols[k][pos].tolist() for k in FIELDS}
        out = {}
        for j, task_id in enumerate(wanted):
            if not found[j]:
                continue
            out[task_id] = {
                "early_start": day_to_date(lists["es"][j]), "early_finish": day_to_date(lists["ef"][j]),
                "late_start": day_to_date(lists["ls"][j]), "late_finish": day_to_date(lists["lf"][j]),
                "total_float": lists["tf"][j], "free_float": lists["ff"][j], "is_critical": bool(lists["crit"][j]),
            }
        return out

    def chunk_count(self) -> int:
        return -(-len(self.ids) // CHUNK_SIZE)


def encode(computed: Computed, number: int, size: int = CHUNK_SIZE) -> bytes:
    lo, hi = number * size, min((number + 1) * size, len(computed.ids))
    parts = [computed.ids[lo:hi].astype("<i8").tobytes()]
    parts += [computed.cols[k][lo:hi].astype("<i4").tobytes() for k in INT_FIELDS]
    parts.append(computed.cols["crit"][lo:hi].astype(np.uint8).tobytes())
    return b"".join(parts)


def decode(chunks: list[bytes], version: int = 0) -> Computed:
    """The ``Computed`` packed in ``chunks`` (in chunk order)."""
    ids, cols = [], {k: [] for k in FIELDS}
    for data in chunks:
        data = bytes(data)
        n, rest = divmod(len(data), BYTES_PER_TASK)
        if rest:
            raise ValueError(f"a schedule chunk of {len(data)} bytes is not a whole number of tasks")
        ids.append(np.frombuffer(data, "<i8", n, 0))
        offset = 8 * n
        for k in INT_FIELDS:
            cols[k].append(np.frombuffer(data, "<i4", n, offset))
            offset += 4 * n
        cols["crit"].append(np.frombuffer(data, np.uint8, n, offset).astype(bool))
    if not ids:
        return Computed.empty(version)
    return Computed(version, np.concatenate(ids).astype(np.int64),
                    {k: np.concatenate(v).astype(bool if k == "crit" else np.int32) for k, v in cols.items()})


class _Cache:
    """A small LRU of per-project values shared by the threads of one process."""

    def __init__(self, limit: int):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def drop(self, key) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


computed_cache = _Cache(CACHE_PROJECTS)
