"""Working-day arithmetic for several calendars at once, vectorised with NumPy.

Conventions (all the engine's date maths rests on them):

* A *day* is an integer: days since 1970-01-01, made relative to the start of a table span.
* An *instant* (a "tick") is a boundary between days: ``2*d`` is the start of day ``d`` and ``2*d + 1`` its end.
  A task of ``D >= 1`` working days occupies whole days, starting at ``2*s`` and finishing at ``2*f + 1``.
  A milestone (``D = 0``) sits at one instant that is the start or the end of a working day, so a milestone
  after a task that finishes on Friday is shown on Friday, and one at the project start on the first day.
* ``rank[c, x]`` is the number of working days of calendar ``c`` before day ``x``; ``work[c, k]`` is the day of
  its ``k``-th working day. Every lookup is one of those two tables, so a whole set of links is moved
  forward or back in a handful of array operations.

>>> import datetime as dt
>>> from keelplan.engine.inputs import Calendar, CalendarException
>>> holiday = CalendarException(dt.date(2026, 1, 7), dt.date(2026, 1, 7))
>>> t = CalendarTable([Calendar("std", exceptions=(holiday,))], lo=day_number(dt.date(2026, 1, 1)), size=40)
>>> import numpy as np
>>> c = np.zeros(1, dtype=np.int64)
>>> start = np.array([t.rel(dt.date(2026, 1, 5))])                  # Monday 5 January
>>> t.date(t.finish_from_start(c, start, np.array([3]))[0])       # 3 working days: Mon, Tue, Thu (Wed is off)
datetime.date(2026, 1, 8)
"""

from __future__ import annotations

import datetime as dt
from array import array

import numpy as np

from keelplan.engine.errors import DateRangeError

EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
MIN_DAY = dt.date(1, 1, 1).toordinal() - EPOCH_ORDINAL
MAX_DAY = dt.date(9999, 12, 31).toordinal() - EPOCH_ORDINAL


def day_number(value: dt.date) -> int:
    return value.toordinal() - EPOCH_ORDINAL


class SpanOverflow(Exception):
    """A lookup fell outside the table span; the scheduler retries with a wider span."""


class CalendarTable:
    """Lookup tables for ``calendars`` over the days ``[lo, lo + size)`` (absolute day numbers).

    Calendar index ``len(calendars)`` is an extra every-day calendar used for the engine's internal
    zero-duration nodes.
    """

    def __init__(self, calendars, *, lo: int, size: int):
        if lo < MIN_DAY or lo + size > MAX_DAY + 1:
            lo = max(lo, MIN_DAY)
            size = min(lo + size, MAX_DAY + 1) - lo
        self.lo = lo
        self.size = size
        days = np.arange(lo, lo + size, dtype=np.int64)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        count = len(calendars) + 1
        working = np.empty((count, size), dtype=bool)
        for c, cal in enumerate(calendars):
            bits = np.array([(cal.working_days >> i) & 1 for i in range(7)], dtype=bool)
            row = bits[weekday]
            for exc in cal.exceptions:
                a = max(day_number(exc.start) - lo, 0)
                b = min(day_number(exc.end) - lo + 1, size)
                if a < b:
                    row[a:b] = exc.working
            working[c] = row
        working[count - 1] = True
        self.working = working
        rank = np.zeros((count, size + 1), dtype=np.int64)
        np.cumsum(working, axis=1, out=rank[:, 1:])
        self.counts = rank[:, -1].copy()
        width = int(self.counts.max()) if count else 0
        work = np.full((count, max(width, 1)), size, dtype=np.int64)
        for c in range(count):
            idx = np.flatnonzero(working[c])
            work[c, : idx.size] = idx
        self.rank_rows = rank
        self.work_rows = [work[c, : self.counts[c]] for c in range(count)]
        self._rank = rank.ravel()
        self._rank_stride = size + 1
        self._work = work.ravel()
        self._work_stride = work.shape[1]
        self.every_day = count - 1

    def scalar_tables(self):
        """Per calendar, ``rank`` and ``work`` as sequences the scalar passes index directly: ``array.array``
        rows (made by one copy each, where Python lists would hold an int object per day), and for the
        every-day calendar, whose tables are the identity, ``range`` objects."""
        every = self.every_day
        ranks = [array("q", row.astype(np.int64).tobytes()) for row in self.rank_rows[:every]]
        works = [array("q", row.astype(np.int64).tobytes()) for row in self.work_rows[:every]]
        return ranks + [range(self.size + 1)], works + [range(self.size)]

    # ------------------------------------------------------------ conversions

    def rel(self, value: dt.date) -> int:
        return day_number(value) - self.lo

    def date(self, rel_day) -> dt.date:
        absolute = int(rel_day) + self.lo
        if not MIN_DAY <= absolute <= MAX_DAY:
            raise DateRangeError("the schedule runs outside the years 1 to 9999")
        return dt.date.fromordinal(absolute + EPOCH_ORDINAL)

    # ------------------------------------------------------------ raw lookups

    def rank(self, c, x):
        """Working days of calendar ``c`` strictly before relative day ``x`` (0 <= x <= size)."""
        if x.size and (x.min() < 0 or x.max() > self.size):
            raise SpanOverflow
        return self._rank[c * self._rank_stride + x]

    def work(self, c, k):
        """The relative day of calendar ``c``'s ``k``-th working day (0-based)."""
        if k.size and (k.min() < 0 or (k >= self.counts[c]).any()):
            raise SpanOverflow
        return self._work[c * self._work_stride + k]

    def is_working(self, c, x):
        return self.rank(c, x + 1) - self.rank(c, x) == 1

    # ------------------------------------------------------------ days

    def next_working(self, c, x):
        """First working day on or after ``x``."""
        return self.work(c, self.rank(c, x))

    def prev_working(self, c, x):
        """Last working day on or before ``x``."""
        return self.work(c, self.rank(c, x + 1) - 1)

    def finish_from_start(self, c, s, d):
        """Finish day of ``d >= 1`` working days starting on working day ``s``."""
        return self.work(c, self.rank(c, s) + d - 1)

    def start_from_finish(self, c, f, d):
        """Start day of ``d >= 1`` working days finishing on working day ``f``."""
        return self.work(c, self.rank(c, f) - d + 1)

    # ------------------------------------------------------------ instants

    def completed(self, c, t):
        """Working days of ``c`` that have ended by instant ``t``: the unit floats are measured in.
        Instants outside the table count as before its first or after its last day."""
        return self._rank_clipped(c, (t + 1) // 2)

    def start_day_at_or_after(self, c, t):
        """First working day whose start is at or after instant ``t``."""
        return self.next_working(c, (t + 1) // 2)

    def finish_day_at_or_after(self, c, t):
        """First working day whose end is at or after instant ``t``."""
        return self.next_working(c, t // 2)

    def finish_day_at_or_before(self, c, t):
        """Last working day whose end is at or before instant ``t``."""
        return self.prev_working(c, (t - 1) // 2)

    def start_day_at_or_before(self, c, t):
        """Last working day whose start is at or before instant ``t``."""
        return self.prev_working(c, t // 2)

    def snap_forward(self, c, t):
        """The first instant at or after ``t`` that is the start or the end of a working day."""
        x = t // 2
        on = self.is_working(c, x)
        odd = (t & 1) == 1
        later = 2 * self.next_working(c, x + odd)
        return np.where(on, t, later)

    def snap_back(self, c, t):
        """The last instant at or before ``t`` that is the start or the end of a working day."""
        x = t // 2
        on = self.is_working(c, x)
        earlier = 2 * self.prev_working(c, x - 1) + 1
        return np.where(on, t, earlier)

    # ------------------------------------------------------------ lags

    def _work_clipped(self, c, k):
        """``2 * work[c, k]`` as an instant; indexes off either end give instants just outside the table."""
        low, high = k < 0, k >= self.counts[c]
        safe = np.where(low | high, 0, k)
        out = 2 * self._work[c * self._work_stride + safe]
        return np.where(low, -2, np.where(high, 2 * self.size, out))

    def lag_forward(self, c, t, lag, elapsed):
        """Move instant ``t`` by ``lag`` days: every day if ``elapsed``, else working days of ``c``.

        A positive working lag ends at the end of the ``lag``-th working day that starts at or after ``t``;
        a negative one (a lead) at the start of the ``-lag``-th working day that ended by ``t``. Results off the
        table come back as instants just outside it (only used where that cannot matter).
        """
        out = t.copy()
        e = elapsed & (lag != 0)
        out[e] = t[e] + 2 * lag[e]
        pos = ~elapsed & (lag > 0)
        if pos.any():
            cp = c[pos]
            out[pos] = self._work_clipped(cp, self._rank_clipped(cp, (t[pos] + 1) // 2) + lag[pos] - 1) + 1
        neg = ~elapsed & (lag < 0)
        if neg.any():
            cn = c[neg]
            out[neg] = self._work_clipped(cn, self._rank_clipped(cn, (t[neg] + 1) // 2) + lag[neg])
        return out

    def lag_backward(self, c, v, lag, elapsed):
        """The latest instant ``u`` with ``lag_forward(u) <= v`` (the backward pass's inverse of a lag)."""
        out = v.copy()
        e = elapsed & (lag != 0)
        out[e] = v[e] - 2 * lag[e]
        pos = ~elapsed & (lag > 0)
        if pos.any():
            cp = c[pos]
            out[pos] = self._work_clipped(cp, self._rank_clipped(cp, (v[pos] + 1) // 2) - lag[pos])
        neg = ~elapsed & (lag < 0)
        if neg.any():
            cn = c[neg]
            out[neg] = self._work_clipped(cn, self._rank_clipped(cn, v[neg] // 2 + 1) - 1 - lag[neg])
        return out

    def _rank_clipped(self, c, x):
        return self._rank[c * self._rank_stride + np.clip(x, 0, self.size)]
