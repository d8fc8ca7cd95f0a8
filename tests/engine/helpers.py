"""Small builders shared by the engine tests (no Django, no database)."""

from __future__ import annotations

import datetime as dt

from keelplan.engine import (
    Calendar,
    CalendarException,
    Link,
    ProjectInput,
    Task,
    schedule,
)

D = dt.date
MON = D(2026, 1, 5)  # January 2026: Mon 5 .. Fri 9, Sat 10, Sun 11, Mon 12 .. Fri 16, Mon 19 .. Fri 23
STD = Calendar("std")                                   # Monday to Friday
SIX = Calendar("six", working_days=0b0111111)           # Monday to Saturday
SEVEN = Calendar("seven", working_days=0b1111111)       # every day


def holiday(day: dt.date) -> CalendarException:
    return CalendarException(day, day)


def run(tasks, links=(), *, start=MON, calendars=(STD, SIX, SEVEN), **kwargs):
    """Schedule ``tasks``/``links`` (Task/Link values or tuples) with the std calendar as default."""
    tasks = [t if isinstance(t, Task) else Task(*t) for t in tasks]
    links = [lk if isinstance(lk, Link) else Link(*lk) for lk in links]
    return schedule(ProjectInput(start=start, tasks=tasks, links=links, calendars=calendars, **kwargs))


def dates(result, task_id):
    r = result[task_id]
    return r.early_start, r.early_finish


def late(result, task_id):
    r = result[task_id]
    return r.late_start, r.late_finish
