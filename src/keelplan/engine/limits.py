"""The bounds a schedule's input is held to, defined once: the engine's inputs and file readers and the server's
services all check these numbers.

They are TruePPM's (trueppm-scheduler's engine refuses the same inputs), so a project that one accepts the other
accepts too. Each bound keeps a schedule computable inside the dates Python represents (years 1 to 9999) in a
bounded amount of work; none comes near a real project:

* one task lasts at most :data:`MAX_DURATION_DAYS` working days, and a lead or lag is at most
  :data:`MAX_LAG_DAYS` days either way;
* a date that places work (a planned start, that is a constraint date, or a manual start or finish) and the
  status date lie at most :data:`MAX_PROJECT_SPAN_DAYS` days after the project start; an actual start or finish
  within that many days either side of it;
* the project starts no later than :data:`LATEST_START`: every calendar must find a working day within
  :data:`MAX_CALENDAR_SCAN_DAYS` days of the start, and that search must stay inside the year 9999;
* in trueppm-scheduler's project format, also TruePPM's whole-project bound: the durations of all tasks (the
  longest of each task's estimates), the sizes of all lags, and the furthest planned start, status date or
  actual date, added up, come to at most :data:`MAX_PROJECT_SPAN_DAYS`
  (:func:`project_span_problem`, :func:`start_reach_problem`).

The checks return a sentence saying what is wrong (or None when the value is fine) rather than raising, so the
engine raises its :class:`~keelplan.engine.errors.InvalidInput` and a service its own error type, with the same
words.

>>> import datetime as dt
>>> start = dt.date(2026, 4, 1)
>>> latest_planned_date(start)
datetime.date(3028, 4, 28)
>>> planned_date_problem(start, dt.date(3028, 4, 28)) is None
True
>>> print(planned_date_problem(start, dt.date(3028, 4, 29), what="planned start"))  # doctest: +NORMALIZE_WHITESPACE
is 366001 days after the project start (2026-04-01); the latest planned start the scheduler accepts is
3028-04-28 (366000 days after the start)
>>> print(start_problem(dt.date(9990, 1, 1)))  # doctest: +NORMALIZE_WHITESPACE
is after 9899-10-16, the latest project start the scheduler accepts (a calendar is searched up to 36600 days
ahead for a working day, and dates end with the year 9999)
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

MAX_DURATION_DAYS = 36_525
"""The longest task, in working days (about 100 years)."""

MAX_LAG_DAYS = 36_525
"""The largest lead or lag, in days, either way."""

MAX_LAG_PERCENT = 10_000
"""The largest lag given as a percentage of the predecessor's duration (Keelplan's own unit), either way."""

MAX_CALENDAR_SCAN_DAYS = 366 * 100
"""Every calendar has a working day within this many days of the project start, or it is refused."""

MAX_PROJECT_SPAN_DAYS = 366 * 1000
"""How far from the project start the status date, a planned start and an actual date may lie; in
trueppm-scheduler's format, also the largest sum of all durations and lags plus the furthest of those dates."""

MAX_DEPENDENCIES = 100_000
"""The most dependencies a project in trueppm-scheduler's format may have."""

MAX_CALENDAR_EXCEPTIONS = 100_000
"""The most exception ranges one calendar in trueppm-scheduler's format may have."""

LATEST_START = dt.date.fromordinal(dt.date.max.toordinal() - MAX_CALENDAR_SCAN_DAYS)
"""The latest project start: the last date from which a calendar search of :data:`MAX_CALENDAR_SCAN_DAYS` days
stays inside the year 9999 (16 October 9899)."""


def _shifted(day: dt.date, days: int) -> dt.date:
    """``day`` moved by ``days``, held to the dates Python represents."""
    return dt.date.fromordinal(min(max(day.toordinal() + days, 1), dt.date.max.toordinal()))


def latest_planned_date(start: dt.date) -> dt.date:
    """The latest planned start, manual date or status date a project starting on ``start`` accepts."""
    return _shifted(start, MAX_PROJECT_SPAN_DAYS)


def actual_date_window(start: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last actual start or finish a project starting on ``start`` accepts."""
    return _shifted(start, -MAX_PROJECT_SPAN_DAYS), _shifted(start, MAX_PROJECT_SPAN_DAYS)


def start_problem(start: dt.date) -> str | None:
    """What is wrong with ``start`` as a project start, or None."""
    if start > LATEST_START:
        return (f"is after {LATEST_START.isoformat()}, the latest project start the scheduler accepts (a calendar "
                f"is searched up to {MAX_CALENDAR_SCAN_DAYS} days ahead for a working day, and dates end with the "
                "year 9999)")
    return None


def planned_date_problem(start: dt.date, value: dt.date | None, *, what: str = "date") -> str | None:
    """What is wrong with ``value``, a date that places work (planned start, constraint or manual date) or the
    status date, in a project starting on ``start``; None if it is fine. Any date before the start is fine: the
    start floors the schedule."""
    if value is None:
        return None
    offset = (value - start).days
    if offset > MAX_PROJECT_SPAN_DAYS:
        return (f"is {offset} days after the project start ({start.isoformat()}); the latest {what} the scheduler "
                f"accepts is {latest_planned_date(start).isoformat()} ({MAX_PROJECT_SPAN_DAYS} days after the start)")
    return None


def actual_date_problem(start: dt.date, value: dt.date | None) -> str | None:
    """What is wrong with ``value``, an actual start or finish, in a project starting on ``start``; or None."""
    if value is None:
        return None
    offset = (value - start).days
    if abs(offset) > MAX_PROJECT_SPAN_DAYS:
        first, last = actual_date_window(start)
        side = "after" if offset > 0 else "before"
        return (f"is {abs(offset)} days {side} the project start ({start.isoformat()}); the scheduler accepts "
                f"actual dates from {first.isoformat()} to {last.isoformat()} ({MAX_PROJECT_SPAN_DAYS} days either "
                "side of the start)")
    return None


def estimates_problem(optimistic: int | None, most_likely: int | None, pessimistic: int | None) -> str | None:
    """What is wrong with a three-point estimate (days), or None. Only a complete one is checked, as TruePPM
    checks: it needs optimistic <= most likely <= pessimistic."""
    if optimistic is None or most_likely is None or pessimistic is None:
        return None
    if not optimistic <= most_likely <= pessimistic:
        return (f"the three-point estimate must satisfy optimistic <= most likely <= pessimistic, got "
                f"{optimistic} <= {most_likely} <= {pessimistic} days")
    return None


def velocity_worst_case_days(story_points, samples, sprint_length_days) -> int:
    """TruePPM's upper bound on the working days a scrum task's velocity-sampled duration can reach: sprints
    to deliver ``story_points`` at the mean positive velocity of ``samples``, times four plus ten, times the
    sprint length; 0 when the task would not be sampled that way. Raises ``OverflowError`` when the number of
    sprints is not finite."""
    if not story_points or story_points <= 0 or not sprint_length_days or sprint_length_days <= 0:
        return 0
    positive = [s for s in samples or () if s is not None and s > 0]
    if not positive:
        return 0
    ratio = story_points / (sum(positive) / len(positive))
    if not math.isfinite(ratio):
        raise OverflowError("story points over the mean velocity is not a finite number")
    return (math.ceil(ratio) * 4 + 10) * sprint_length_days


def project_span_problem(total_days: int) -> str | None:
    """What is wrong with a project whose durations, lags and furthest dated shift add up to ``total_days``
    (trueppm-scheduler's whole-project bound), or None."""
    if total_days > MAX_PROJECT_SPAN_DAYS:
        return (f"the project's span (every task's longest duration estimate and every lag, added up, plus the "
                f"furthest planned start, status date or actual date) is {total_days} days, over the maximum of "
                f"{MAX_PROJECT_SPAN_DAYS}")
    return None


def start_reach_problem(start: dt.date, total_days: int) -> str | None:
    """What is wrong with ``start`` for a project whose span is ``total_days`` (see :func:`project_span_problem`),
    or None: on a one-day-a-week calendar, with one calendar search on top, the walk from the start must stay
    inside the year 9999."""
    reach = total_days * 7 + MAX_CALENDAR_SCAN_DAYS
    if (dt.date.max - start).days < reach:
        return (f"{start.isoformat()} is too close to the end of the year 9999 for a span of {total_days} days: "
                f"the scheduler needs {reach} days of calendar after the start (the span at one working day a "
                f"week, plus {MAX_CALENDAR_SCAN_DAYS}); start earlier")
    return None


def calendar_reach_problem(working_days: int, exceptions, start: dt.date) -> str | None:
    """What is wrong with a calendar (a weekday mask, bit 0 = Monday, and exceptions with ``start``, ``end`` and
    ``working``, a later one overriding an earlier one) for a project starting on ``start``: None when it has a
    working day within :data:`MAX_CALENDAR_SCAN_DAYS` days from the start."""
    first = start.toordinal()
    size = min(MAX_CALENDAR_SCAN_DAYS + 1, dt.date.max.toordinal() - first + 1)
    weekday = (np.arange(size) + start.weekday()) % 7
    working = ((working_days >> weekday) & 1).astype(bool)
    for exc in exceptions:
        a = max(exc.start.toordinal() - first, 0)
        b = min(exc.end.toordinal() - first + 1, size)
        if a < b:
            working[a:b] = exc.working
    if not working.any():
        return (f"has no working day within {MAX_CALENDAR_SCAN_DAYS} days of the project start "
                f"({start.isoformat()}); check its working days and exceptions")
    return None


__all__ = [
    "LATEST_START", "MAX_CALENDAR_EXCEPTIONS", "MAX_CALENDAR_SCAN_DAYS", "MAX_DEPENDENCIES", "MAX_DURATION_DAYS",
    "MAX_LAG_DAYS", "MAX_LAG_PERCENT", "MAX_PROJECT_SPAN_DAYS", "actual_date_problem", "actual_date_window",
    "calendar_reach_problem", "estimates_problem", "latest_planned_date", "planned_date_problem",
    "project_span_problem", "start_problem", "start_reach_problem", "velocity_worst_case_days",
]
