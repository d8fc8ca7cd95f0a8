"""TruePPM's 26 bad conformance inputs are refused: by the engine (reading, then scheduling) and by
``keelplan schedule FILE``, each with the error that names where the problem is.

The vectors are TruePPM's own (``data/trueppm-conformance``, Apache-2.0): ``invalid/`` parse but break a rule of
the scheduler, ``parse_rejects/`` are not valid project files at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from keelplan.cli import main
from keelplan.engine import CyclicDependencyError, DateRangeError, InvalidInput, SchedulingError, schedule
from keelplan.engine.formats import ProjectFormatError, load_project

VECTORS = Path(__file__).parent / "data" / "trueppm-conformance"

# file -> (error type, task named, field named, words of the message). A task or field of None: the problem is
# not one task's or one field's, and none is named.
REFUSALS = {
    "invalid/actual_finish_over_span.json":
        (InvalidInput, "A", "actual_finish", "366000 days either side of the start"),
    "invalid/actual_start_after_finish.json":
        (InvalidInput, "A", "actual_finish", "actual_finish is before actual_start"),
    "invalid/blanket_exceptions.json":
        (InvalidInput, None, "calendar.exceptions", "no working day within 36600 days of the project start"),
    "invalid/cycle.json":
        (CyclicDependencyError, None, None, "Cyclic dependency: A -> B -> C -> A"),
    "invalid/duplicate_edge.json":
        (InvalidInput, "B", "dependencies[1]", "a second dependency from 'A' to 'B'"),
    "invalid/duplicate_task_id.json":
        (ProjectFormatError, "A", "id", "used twice"),
    "invalid/duration_over_max.json":
        (InvalidInput, "A", "duration", "between 0 and 36525, got 36526"),
    "invalid/far_future_start.json":
        (InvalidInput, None, "start_date", "9990-01-01 is too close to the end of the year 9999"),
    "invalid/fractional_duration.json":
        (ProjectFormatError, "A", "duration", "not a whole number of days"),
    "invalid/fractional_lag.json":
        (ProjectFormatError, "B", "dependencies[0].lag", "not a whole number of days"),
    "invalid/inverted_exception_range.json":
        (ProjectFormatError, None, "calendar.exceptions[0].end", "ends (2026-04-05) before it starts (2026-04-10)"),
    # One working day, then none until the end of the year 9999: the first task cannot finish. TruePPM finds it
    # while scheduling too ("no working day within 36600 days"); Keelplan's engine when the dates run out.
    "invalid/isolated_working_day_then_blanket.json":
        (DateRangeError, None, None, "the schedule runs outside the years 1 to 9999"),
    "invalid/lag_over_max.json":
        (InvalidInput, "B", "lag", "between -36525 and 36525, got 36526"),
    "invalid/negative_duration.json":
        (ProjectFormatError, "A", "duration", "cannot be negative"),
    "invalid/pert_ordering_inconsistent.json":
        (InvalidInput, "A", "most_likely_duration", "optimistic <= most likely <= pessimistic, got 2 <= 10 <= 5"),
    "invalid/planned_start_over_span.json":
        (InvalidInput, "A", "planned_start", "the latest planned start the scheduler accepts is 3028-04-28"),
    "invalid/project_span_over_max.json":
        (InvalidInput, None, None, "span (every task's longest duration estimate and every lag, added up, plus the "
                                   "furthest planned start, status date or actual date) is 401775 days, over the "
                                   "maximum of 366000"),
    "invalid/status_date_over_span.json":
        (InvalidInput, None, "status_date", "the latest status date the scheduler accepts is 3028-04-28"),
    "invalid/unknown_dependency_task.json":
        (ProjectFormatError, "GHOST", "dependencies[0].successor_id", "unknown task 'GHOST'"),
    "invalid/working_days_high_bit.json":
        (ProjectFormatError, None, "calendar.working_days", "from 1 to 127 (Mon=1 ... Sun=64), got 200"),
    "invalid/zero_working_days.json":
        (ProjectFormatError, None, "calendar.working_days", "no working days"),
    "parse_rejects/date_compact_calendar_exception.json":
        (ProjectFormatError, None, "calendar.exceptions[0].start", 'YYYY-MM-DD, got "20260406"'),
    "parse_rejects/date_compact_start_date.json":
        (ProjectFormatError, None, "start_date", 'YYYY-MM-DD, got "20260401"'),
    "parse_rejects/date_ordinal_status_date.json":
        (ProjectFormatError, None, "status_date", 'YYYY-MM-DD, got "2026-092"'),
    "parse_rejects/date_weekdate_planned_start.json":
        (ProjectFormatError, "A", "planned_start", 'YYYY-MM-DD, got "2026-W15-2"'),
    "parse_rejects/sprint_length_days_non_numeric.json":
        (ProjectFormatError, None, "sprint_length_days", 'expected a whole number, got "abc"'),
}


def test_every_bad_vector_is_listed():
    on_disk = {f"{folder}/{path.name}" for folder in ("invalid", "parse_rejects")
               for path in (VECTORS / folder).glob("*.json")}
    assert on_disk == set(REFUSALS)
    assert sum(name.startswith("invalid/") for name in on_disk) == 21
    assert sum(name.startswith("parse_rejects/") for name in on_disk) == 5


def _refusal(name: str) -> SchedulingError:
    with pytest.raises(SchedulingError) as caught:
        schedule(load_project((VECTORS / name).read_bytes()))
    return caught.value


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_the_engine_refuses_naming_the_task_and_field(name):
    kind, task, field, words = REFUSALS[name]
    exc = _refusal(name)
    assert type(exc) is kind
    assert words in str(exc)
    if isinstance(exc, InvalidInput):
        assert (exc.task, exc.field) == (task, field)
        if task is not None:
            assert f"task {task!r}" in str(exc)
        if field is not None:
            assert f"field {field!r}" in str(exc)


@pytest.mark.parametrize("name", sorted(n for n in REFUSALS if n.startswith("parse_rejects/")))
def test_parse_rejects_fail_while_reading(name):
    with pytest.raises(ProjectFormatError):
        load_project((VECTORS / name).read_bytes())


def test_the_limits_are_found_while_reading_before_any_scheduling():
    """The refusals of TruePPM's limits come from reading the file: ``load_project`` alone refuses them (the
    actual finish too, now that a finish alone is accepted)."""
    for stem in ("duplicate_edge", "far_future_start", "pert_ordering_inconsistent", "planned_start_over_span",
                 "project_span_over_max", "status_date_over_span", "actual_finish_over_span"):
        with pytest.raises(InvalidInput):
            load_project((VECTORS / "invalid" / f"{stem}.json").read_bytes())


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_the_schedule_command_refuses_with_one_line_on_stderr(name):
    """A real ``keelplan schedule FILE`` process: status 1, the message on stderr, nothing on stdout."""
    _, task, field, words = REFUSALS[name]
    args = ["schedule", str(VECTORS / name)] + (["--json"] if name.startswith("invalid/") else [])
    done = subprocess.run([sys.executable, "-m", "keelplan.cli", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("keelplan schedule: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert words in done.stderr
    if task is not None:
        assert f"task {task!r}" in done.stderr
    if field is not None:
        assert f"field {field!r}" in done.stderr


def test_the_schedule_command_in_process_matches(capsys):
    """The same refusals through ``main()``, as a caller embedding the command sees them."""
    for name, (_, _, field, words) in REFUSALS.items():
        assert main(["schedule", str(VECTORS / name)]) == 1, name
        out, err = capsys.readouterr()
        assert out == "" and words in err and (field is None or f"field {field!r}" in err), name
