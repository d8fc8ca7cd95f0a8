"""Computed schedules as columns: how they are packed into ``ScheduleChunk`` rows and cached per process.

A :class:`Computed` holds one project's computed fields as NumPy arrays aligned with its live task ids in
ascending order. Dates are day numbers since 1970-01-01. It is split into chunks of ``CHUNK_SIZE`` tasks, each
packed as ``ids (int64) | es, ef, ls, lf, tf, ff (int32 each) | crit (uint8)`` -- 37 bytes a task -- so a write
compares packed chunks with the stored ones and rewrites only those that differ.

Each process keeps the latest ``Computed`` of the projects it has read, keyed by project and checked against
``ProjectSchedule.version`` on every use (one indexed query), so a reader never serves a stale value and a warm
read of 100,000 tasks' fields costs a dictionary lookup and an array index. The cache, with the input cache of
``scheduling.inputs``, is bounded by an estimate of the bytes it holds (:class:`_Budget`), not only by count.

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
from django.conf import settings

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
# The dataclass, its dict and eight array headers around the columns (measured with tracemalloc).
COMPUTED_OVERHEAD = 1500


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


class _Budget:
    """The bytes the scheduling caches of one process may hold together (``KEELPLAN_SCHEDULE_CACHE_MB``).

    A count of projects bounds nothing useful when one project is 100 tasks and the next 100,000, so every
    cached value carries an estimate of its size, and putting one evicts the least recently used values of
    any cache sharing the budget until the total fits again. A value larger than the whole budget is not
    cached: keeping it would evict everything else and still break the bound. The estimates are cheap sums
    (array ``nbytes`` and per-row constants measured with ``tracemalloc``), never a walk of the objects.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.order: OrderedDict = OrderedDict()   # (cache, key) -> estimated bytes, least recently used first
        self.held = 0

    @staticmethod
    def limit() -> int:
        """The bound in bytes; 0 for none. Read on every put so a changed setting (or a test's) applies at once."""
        return int(float(getattr(settings, "KEELPLAN_SCHEDULE_CACHE_MB", 0) or 0) * 2**20)


schedule_cache_budget = _Budget()


class _Cache:
    """A small LRU of per-project values shared by the threads of one process, bounded by count and by the
    bytes of the budget it shares (``size`` estimates a value's bytes)."""

    def __init__(self, limit: int, *, size=None, budget: _Budget = schedule_cache_budget):
        self._items: OrderedDict = OrderedDict()
        self._budget = budget
        self._lock = budget.lock
        self._limit = limit
        self._size = size or (lambda value: 0)

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                self._budget.order.move_to_end((self, key))
            return value

    def put(self, key, value) -> None:
        size = self._size(value)
        limit = self._budget.limit()
        with self._lock:
            self._forget(key)
            if limit and size > limit:
                return
            self._items[key] = value
            self._budget.order[(self, key)] = size
            self._budget.held += size
            while len(self._items) > self._limit:
                self._forget(next(iter(self._items)))
            while limit and self._budget.held > limit:
                cache, oldest = next(iter(self._budget.order))
                cache._forget(oldest)

    def _forget(self, key) -> None:
        # Callers hold the budget's lock.
        if self._items.pop(key, None) is not None:
            self._budget.held -= self._budget.order.pop((self, key))

    def drop(self, key) -> None:
        with self._lock:
            self._forget(key)

    def clear(self) -> None:
        with self._lock:
            for key in list(self._items):
                self._forget(key)

    def held_bytes(self) -> int:
        """The estimated bytes this cache holds now."""
        with self._lock:
            return sum(self._budget.order[(self, key)] for key in self._items)

    def keys(self) -> list:
        """Cached keys, least recently used first."""
        with self._lock:
            return list(self._items)


def computed_bytes(computed: Computed) -> int:
    """Estimated bytes held by a cached ``Computed``: its arrays plus the objects around them."""
    return computed.ids.nbytes + sum(col.nbytes for col in computed.cols.values()) + COMPUTED_OVERHEAD


computed_cache = _Cache(CACHE_PROJECTS, size=computed_bytes)
