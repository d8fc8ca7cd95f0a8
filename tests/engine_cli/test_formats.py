"""Reading project JSON (Keelplan's format and trueppm-scheduler's) strictly, and writing schedules."""

from __future__ import annotations

import datetime as dt
import json
from datetime import timedelta

import pytest
import trueppm_scheduler as tp

from keelplan.engine import ConstraintType, InvalidInput, LagUnit, LinkType, schedule
from keelplan.engine.formats import (
    KEELPLAN, TRUEPPM, ProjectFormatError, detect_format, load_project, schedule_to_dict, schedule_to_json,
)

FULL = {
    "start": "2026-01-05", "status_date": "2026-01-05", "calendar": "std",
    "calendars": [
        {"id": "std", "working_days": 31, "exceptions": [{"start": "2026-01-19", "end": "2026-01-20"}]},
        {"id": "six", "working_days": 63, "exceptions": [{"start": "2026-01-10", "end": "2026-01-10",
                                                           "working": False}]},
    ],
    "tasks": [
        {"id": "S", "name": "Phase"},
        {"id": "A", "name": "Design", "duration": 3, "parent": "S", "calendar": "six"},
        {"id": "B", "duration": 2, "parent": "S", "constraint": "SNET", "constraint_date": "2026-01-08",
         "deadline": "2026-02-01", "percent_complete": 0},
        {"id": "M", "duration": 0},
    ],
    "links": [{"predecessor": "A", "successor": "B", "type": "SS", "lag": 1, "lag_unit": "ed"},
              {"predecessor": "S", "successor": "M"}],
}
FULL["tasks"][0]["duration"] = 0


def doc(**changes):
    d = json.loads(json.dumps(FULL))
    d.update(changes)
    return json.dumps(d)


def with_task(index, **fields):
    d = json.loads(json.dumps(FULL))
    d["tasks"][index].update(fields)
    for key, value in list(d["tasks"][index].items()):
        if value is ...:
            del d["tasks"][index][key]
    return json.dumps(d)


def refused(text) -> ProjectFormatError | InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        load_project(text)
    return exc.value


# ------------------------------------------------------------------ Keelplan's format


def test_keelplan_format_converts_every_field():
    p = load_project(doc())
    assert p.start == dt.date(2026, 1, 5) and p.status_date == dt.date(2026, 1, 5) and p.calendar == "std"
    assert [c.id for c in p.calendars] == ["std", "six"]
    std, six = p.calendars
    assert std.exceptions[0].start == dt.date(2026, 1, 19) and std.exceptions[0].end == dt.date(2026, 1, 20)
    assert not std.exceptions[0].working and six.working_days == 63
    a, b = p.tasks[1], p.tasks[2]
    assert (a.name, a.duration, a.parent, a.calendar) == ("Design", 3, "S", "six")
    assert b.constraint is ConstraintType.SNET and b.constraint_date == dt.date(2026, 1, 8)
    assert b.deadline == dt.date(2026, 2, 1)
    link = p.links[0]
    assert (link.type, link.lag, link.lag_unit) == (LinkType.SS, 1, LagUnit.ELAPSED_DAYS)
    assert p.links[1].type is LinkType.FS and p.links[1].lag_unit is LagUnit.WORKING_DAYS
    r = schedule(p)
    assert r["A"].early_start == dt.date(2026, 1, 5)


def test_minimal_keelplan_document_uses_the_defaults():
    p = load_project('{"start": "2026-01-05", "tasks": [{"id": "A", "duration": 1}]}')
    assert p.calendars[0].working_days == 31 and p.links == () and p.tasks[0].constraint is ConstraintType.ASAP


def test_null_means_absent_for_optional_fields():
    p = load_project(with_task(2, deadline=None, constraint=None, constraint_date=None))
    assert p.tasks[2].deadline is None and p.tasks[2].constraint is ConstraintType.ASAP


@pytest.mark.parametrize("text, task, field, words", [
    (with_task(1, duration=2.5), "A", "duration", "whole number"),
    (with_task(1, duration="3"), "A", "duration", "whole number"),
    (with_task(1, duration=True), "A", "duration", "whole number"),
    (with_task(1, duration=-1), "A", "duration", "negative"),
    (with_task(1, duration=...), "A", "duration", "required"),
    (with_task(2, constraint_date="2026-1-8"), "B", "constraint_date", "YYYY-MM-DD"),
    (with_task(2, constraint_date="20260108"), "B", "constraint_date", "YYYY-MM-DD"),
    (with_task(2, constraint_date="2026-02-30"), "B", "constraint_date", "not a real date"),
    (with_task(2, deadline="2026-01-08T00:00:00"), "B", "deadline", "YYYY-MM-DD"),
    (with_task(2, constraint="Snet"), "B", "constraint", "one of"),
    (with_task(2, constraint="FNLT", constraint_date=None), "B", "constraint_date", "needs a date"),
    (with_task(2, percent_complete=101), "B", "percent_complete", "0 to 100"),
    (with_task(2, percent_complete="50"), "B", "percent_complete", "number"),
    (with_task(1, calendar="nope"), "A", "calendar", "unknown calendar"),
    (with_task(1, parent="nope"), "A", "parent", "unknown parent"),
    (with_task(1, colour="red"), "A", "colour", "unknown key"),
    (with_task(1, id=7), None, "tasks[1].id", "string"),
    (with_task(1, id="B"), "B", "id", "used twice"),
    (with_task(1, manual_start="2026-01-06"), "A", "manual_finish", "both"),
])
def test_keelplan_format_refusals_name_the_task_and_field(text, task, field, words):
    exc = refused(text)
    assert exc.task == task
    assert exc.field == field
    assert words in str(exc)
    if task is not None:
        assert f"task {task!r}" in str(exc)


@pytest.mark.parametrize("links, field, words", [
    ([{"predecessor": "A", "successor": "B", "lag": 1.5}], "links[0].lag", "whole number"),
    ([{"predecessor": "A", "successor": "B", "type": "XX"}], "links[0].type", "one of FS, SS, FF, SF"),
    ([{"predecessor": "A", "successor": "B", "lag_unit": "d"}], "links[0].lag_unit", "one of wd, ed, pct"),
    ([{"predecessor": "A", "successor": "Q"}], "links[0].successor", "unknown task 'Q'"),
    ([{"predecessor": "A"}], "links[0].successor", "required"),
    ([{"predecessor": "A", "successor": "B", "weight": 1}], "links[0].weight", "unknown key"),
    (["A->B"], "links[0]", "JSON object"),
    ([{"predecessor": "A", "successor": "B"}, {"predecessor": "A", "successor": "B"}], "predecessor",
     "given twice"),
])
def test_link_refusals_name_the_field(links, field, words):
    exc = refused(doc(links=links))
    assert exc.field == field and words in str(exc)


@pytest.mark.parametrize("text, words", [
    ('{"start": "2026-01-05", "tasks": [{"id": "A", "duration": NaN}]}', "NaN is not allowed"),
    ('{"start": "2026-01-05", "tasks": [{"id": "A", "duration": Infinity}]}', "Infinity is not allowed"),
    ('{"start": "2026-01-05", "tasks": [{"id": "A", "duration": 1e400}]}', "out of range"),
    ('{"start": "2026-01-05", "tasks": [{"id": "A", "duration": 1, "duration": 2}]}',
     "'duration' appears twice"),
    ('{"start": "2026-01-05", "start": "2026-01-06", "tasks": []}', "'start' appears twice"),
    ('{"start": "2026-01-05", "tasks": [', "not valid JSON"),
    ('[1, 2]', "must be a JSON object"),
    ('{"tasks": []}', "cannot tell the format"),
    ('{"start": "2026-01-05", "start_date": "2026-01-05", "tasks": []}', "use one"),
    ('{"start": "2026-01-05"}', "required"),
    ('{"start": "2026-01-05", "tasks": {}}', "expected a list"),
    ('{"start": "2026-01-05", "tasks": [], "owner": "x"}', "unknown key"),
    (b'{"start": "2026-01-05", "tasks": [{"id": "\xff", "duration": 1}]}', "not UTF-8"),
])
def test_strict_json(text, words):
    assert words in str(refused(text))


@pytest.mark.parametrize("calendars, field, words", [
    ([{"id": "std", "working_days": 0}], "calendars[0].working_days", "1 to 127"),
    ([{"id": "std", "working_days": 128}], "calendars[0].working_days", "1 to 127"),
    ([{"id": "std", "exceptions": [{"start": "2026-01-09", "end": "2026-01-08"}]}],
     "calendars[0].exceptions[0].end", "before it starts"),
    ([{"id": "std", "exceptions": [{"start": "2026-01-09"}]}], "calendars[0].exceptions[0].end", "required"),
    ([{"id": "std"}, {"id": "std"}], "calendars[1].id", "given twice"),
])
def test_calendar_refusals(calendars, field, words):
    exc = refused(doc(calendars=calendars, calendar=None, tasks=[{"id": "A", "duration": 1}], links=[]))
    assert exc.field == field and words in str(exc)


def test_unknown_default_calendar():
    exc = refused(doc(calendar="nope"))
    assert exc.field == "calendar" and "unknown calendar 'nope'" in str(exc)


def test_a_working_exception_makes_a_saturday_work():
    text = json.dumps({"start": "2026-01-09", "calendars": [
        {"id": "c", "exceptions": [{"start": "2026-01-10", "end": "2026-01-10", "working": True}]}],
        "tasks": [{"id": "A", "duration": 2}]})
    assert schedule(load_project(text))["A"].early_finish == dt.date(2026, 1, 10)


# ------------------------------------------------------------------ trueppm-scheduler's format


def trueppm_project(**kw):
    cal = tp.Calendar(working_days=31, exceptions=[tp.DateRange(dt.date(2026, 1, 19), dt.date(2026, 1, 19))])
    tasks = [tp.Task(id="A", name="Design", duration=timedelta(days=3)),
             tp.Task(id="B", name="Build", duration=timedelta(days=2), planned_start=dt.date(2026, 1, 12),
                     percent_complete=0.0),
             tp.Task(id="M", name="Done", duration=timedelta(0))]
    deps = [tp.Dependency("A", "B", tp.DependencyType.SS, timedelta(days=-1)),
            tp.Dependency("B", "M", tp.DependencyType.FS, timedelta(days=2))]
    args = dict(id="p", name="P", start_date=dt.date(2026, 1, 5), tasks=tasks, dependencies=deps, calendar=cal,
                status_date=dt.date(2026, 1, 5))
    args.update(kw)
    return tp.Project(**args)


def test_trueppm_to_json_output_converts():
    text = trueppm_project().to_json()
    assert detect_format(json.loads(text)) == TRUEPPM
    p = load_project(text)
    assert p.start == dt.date(2026, 1, 5) and p.status_date == dt.date(2026, 1, 5)
    assert p.calendars[0].exceptions[0].start == dt.date(2026, 1, 19)
    assert [(t.id, t.name, t.duration) for t in p.tasks] == [("A", "Design", 3), ("B", "Build", 2), ("M", "Done", 0)]
    b = p.tasks[1]
    assert b.constraint is ConstraintType.SNET and b.constraint_date == dt.date(2026, 1, 12)
    assert p.tasks[0].constraint is ConstraintType.ASAP
    ss, fs = p.links
    assert (ss.type, ss.lag, ss.lag_unit) == (LinkType.SS, -1, LagUnit.ELAPSED_DAYS)
    assert (fs.type, fs.lag, fs.lag_unit) == (LinkType.FS, 2, LagUnit.ELAPSED_DAYS)
    ours, theirs = schedule(p), tp.schedule(trueppm_project())
    for t in theirs.tasks:
        assert (ours[t.id].early_start, ours[t.id].early_finish) == (t.early_start, t.early_finish)
    assert ours.project_finish == theirs.project_finish


def test_trueppm_per_task_calendars_registry():
    six = tp.Calendar(working_days=63)
    project = trueppm_project(calendars={"six": six})
    project.tasks[0].calendar_id = "six"
    p = load_project(project.to_json())
    assert p.tasks[0].calendar == "six" and p.calendar not in ("six",)
    assert {c.id: c.working_days for c in p.calendars}["six"] == 63
    ours, theirs = schedule(p), tp.schedule(project)
    assert ours["A"].early_finish == {t.id: t for t in theirs.tasks}["A"].early_finish == dt.date(2026, 1, 7)


def test_trueppm_calendar_id_is_ignored_without_a_registry_like_trueppm():
    project = trueppm_project()
    project.tasks[0].calendar_id = "whatever"
    assert load_project(project.to_json()).tasks[0].calendar is None


def trueppm_doc(mutate):
    d = json.loads(trueppm_project().to_json())
    mutate(d)
    return json.dumps(d)


@pytest.mark.parametrize("mutate, task, field, words", [
    (lambda d: d["tasks"][0].update(duration=3600.0), "A", "duration", "not a whole number of days"),
    (lambda d: d["tasks"][0].update(duration=86400.5), "A", "duration", "sub-day"),
    (lambda d: d["tasks"][0].update(duration=-86400), "A", "duration", "negative"),
    (lambda d: d["tasks"][0].update(duration="259200"), "A", "duration", "number of seconds"),
    (lambda d: d["tasks"][1].update(planned_start="2026-01-12T00:00"), "B", "planned_start", "YYYY-MM-DD"),
    (lambda d: d["tasks"][1].update(is_critical="no"), "B", "is_critical", "true or false"),
    (lambda d: d["tasks"][1].update(calendar_id=3), "B", "calendar_id", "string"),
    (lambda d: d["tasks"][1].update(extra=1), "B", "extra", "unknown key"),
    (lambda d: d["dependencies"][0].update(lag=43200.0), "B", "dependencies[0].lag", "sub-day"),
    (lambda d: d["dependencies"][0].update(dep_type="XS"), "B", "dependencies[0].dep_type", "one of"),
    (lambda d: d["dependencies"][0].update(successor_id="Q"), "Q", "dependencies[0].successor_id", "unknown task"),
    (lambda d: d["calendar"].update(working_days=0), None, "calendar.working_days", "no working days"),
    (lambda d: d["calendar"]["exceptions"][0].update(end="2026-01-18"), None, "calendar.exceptions[0].end",
     "before it starts"),
    (lambda d: d.update(calendars={"six": {"working_days": 63}}) or d["tasks"][0].update(calendar_id="x"),
     "A", "calendar_id", "unknown calendar"),
    (lambda d: d.update(start_date="2026/01/05"), None, "start_date", "YYYY-MM-DD"),
])
def test_trueppm_refusals_name_the_task_and_field(mutate, task, field, words):
    exc = refused(trueppm_doc(mutate))
    assert exc.task == task and exc.field == field and words in str(exc)


def test_trueppm_duplicate_keys_and_nan_are_refused():
    text = trueppm_project().to_json()
    assert "appears twice" in str(refused(text.replace('"name": "P"', '"name": "P", "name": "Q"')))
    assert "NaN" in str(refused(text.replace('"percent_complete": 0.0', '"percent_complete": NaN', 1)))


# ------------------------------------------------------------------ detection and output


def test_detection():
    assert detect_format({"start": "2026-01-05"}) == KEELPLAN
    assert detect_format({"start_date": "2026-01-05"}) == TRUEPPM
    with pytest.raises(ValueError, match="unknown project format"):
        load_project('{"start": "2026-01-05", "tasks": []}', format="nonsense")
    assert load_project('{"start_date": "2026-01-05"}', format=TRUEPPM).tasks == ()


def test_schedule_json_shape():
    r = schedule(load_project(doc()))
    d = schedule_to_dict(r)
    assert set(d) >= {"project_finish", "critical_path", "tasks"}
    assert list(d["tasks"]) == ["S", "A", "B", "M"]
    assert set(d["tasks"]["A"]) == {"early_start", "early_finish", "late_start", "late_finish", "total_float",
                                    "free_float", "is_critical"}
    assert d["project_finish"] == r.project_finish.isoformat()
    assert d["critical_path"] == list(r.critical_path)
    assert json.loads(schedule_to_json(r)) == d
