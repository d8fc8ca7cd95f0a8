"""The workspace default calendar: what a project without a calendar works to. Changing its mask or exceptions,
choosing another default, or deleting it reschedules the projects that rely on it, whatever each process had
cached. Projects start on Monday 5 January 2026 (``conftest.make_project``)."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.calendars.models import MONDAY_TO_FRIDAY, Calendar
from keelplan.calendars.services import calendar_create, calendar_delete, calendar_set_default, calendar_update
from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import InvalidInput, PermissionDenied
from keelplan.planning.services import task_create, task_update
from keelplan.portfolio.services import project_update
from keelplan.scheduling.inputs import DEFAULT_CALENDAR, catch_up, input_cache, load_full
from keelplan.scheduling.selectors import computed_fields

from conftest import make_project, make_user
from scheduling.test_consistency import assert_stored_equals_fresh, positions

D = dt.date
MONDAY_TO_SATURDAY = 0b0111111


def dates(task) -> tuple:
    values = computed_fields(task.project_id, [task.pk])[task.pk]
    return values["early_start"], values["early_finish"]


def holiday(day: dt.date) -> list[dict]:
    return [{"start": day, "end": day, "description": "Closed"}]


@pytest.fixture
def keeper(db):
    """A workspace administrator, who alone may write the workspace's calendars."""
    return make_user("keeper", workspace_admin=True)


@pytest.fixture
def boss(db):
    """An ordinary person who owns the projects below."""
    return make_user("boss")


@pytest.fixture
def standard(keeper) -> Calendar:
    """The workspace default, chosen by the administrator (a fresh workspace has none: Monday to Friday)."""
    return calendar_set_default(actor=keeper, calendar=calendar_create(actor=keeper, name="Standard"))


@pytest.fixture
def plain(boss):
    """A project without a calendar, and its one task of 3 days: Monday 5 to Wednesday 7 January."""
    project = make_project(boss, name="Plain")
    return project, task_create(actor=boss, project=project, name="Dig", duration=3)


def test_a_fresh_workspace_has_no_default_and_schedules_monday_to_friday(db, plain):
    assert Calendar.workspace_default() is None
    _, task = plain
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 7))


def test_the_chosen_default_is_the_one_default(standard):
    assert (standard.name, standard.working_days, standard.project_id) == ("Standard", MONDAY_TO_FRIDAY, None)
    assert Calendar.objects.filter(is_default=True).count() == 1
    assert Calendar.workspace_default() == standard


def test_a_project_without_a_calendar_moves_when_the_default_gains_a_holiday(keeper, boss, standard, plain):
    project, task = plain
    own = calendar_create(actor=keeper, name="Own week")
    other = make_project(boss, name="Own calendar", calendar=own)
    other_task = task_create(actor=boss, project=other, name="Lay", duration=3)
    assert dates(task) == dates(other_task) == (D(2026, 1, 5), D(2026, 1, 7))

    calendar_update(actor=keeper, calendar=standard, exceptions=holiday(D(2026, 1, 6)))
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 8))
    assert dates(other_task) == (D(2026, 1, 5), D(2026, 1, 7)), "a project with its own calendar stays"
    assert_stored_equals_fresh(project.pk)
    assert_stored_equals_fresh(other.pk)


def test_a_task_without_a_calendar_follows_the_default_only_through_its_project(keeper, boss, standard):
    seven = calendar_create(actor=keeper, name="Seven days", working_days=0b1111111)
    project = make_project(boss, name="Site", calendar=seven)
    task = task_create(actor=boss, project=project, name="Pour", duration=7)
    calendar_update(actor=keeper, calendar=standard, working_days=0b0000001)
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 11))
    project_update(actor=boss, project=project, calendar=None)
    # Mondays only, from Monday 5 January: the seventh is 16 February.
    assert dates(task) == (D(2026, 1, 5), D(2026, 2, 16))


def test_a_new_mask_on_the_default_reschedules(keeper, standard, plain):
    project, task = plain
    calendar_update(actor=keeper, calendar=standard, working_days=0b1010101)   # Mon, Wed, Fri, Sun
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 9))
    assert_stored_equals_fresh(project.pk)


def test_choosing_another_default_reschedules_and_is_logged(keeper, standard, plain):
    project, task = plain
    six = calendar_create(actor=keeper, name="Six days", working_days=MONDAY_TO_SATURDAY,
                          exceptions=holiday(D(2026, 1, 5)))
    before = ChangeEvent.objects.filter(stream__key="workspace").count()
    calendar_set_default(actor=keeper, calendar=six)
    assert list(Calendar.objects.filter(is_default=True)) == [six]
    assert dates(task) == (D(2026, 1, 6), D(2026, 1, 8))
    events = ChangeEvent.objects.filter(stream__key="workspace").order_by("seq")[before:]
    assert {(e.entity_id, tuple(e.changes["is_default"])) for e in events} == {
        (standard.pk, (True, False)), (six.pk, (False, True))}
    standard.refresh_from_db()   # made default (version 1), then not (2)
    assert standard.lock_version == 2 and Calendar.objects.get(pk=six.pk).lock_version == 1

    calendar_set_default(actor=keeper, calendar=standard)
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 7))
    assert_stored_equals_fresh(project.pk)


def test_deleting_the_default_falls_back_to_monday_to_friday(keeper, standard, plain):
    project, task = plain
    calendar_update(actor=keeper, calendar=standard, exceptions=holiday(D(2026, 1, 5)))
    assert dates(task) == (D(2026, 1, 6), D(2026, 1, 8))
    calendar_delete(actor=keeper, calendar=standard)
    assert Calendar.workspace_default() is None
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 7))
    assert_stored_equals_fresh(project.pk)
    # A new default can be chosen although the deleted one kept its flag.
    fresh = calendar_create(actor=keeper, name="New standard", exceptions=holiday(D(2026, 1, 7)))
    calendar_set_default(actor=keeper, calendar=fresh)
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 8))
    assert not Calendar.all_objects.filter(pk=standard.pk, is_default=True).exists()


def test_a_process_whose_cache_predates_the_change_catches_up(keeper, standard, plain,
                                                               django_capture_on_commit_callbacks):
    project, task = plain
    with django_capture_on_commit_callbacks(execute=True):
        task_update(actor=boss_of(project), task=task, duration=4)
    stale = input_cache.get(project.pk)
    assert stale is not None and stale.default_calendar_id == standard.pk
    six = calendar_create(actor=keeper, name="Six days", working_days=MONDAY_TO_SATURDAY)
    with django_capture_on_commit_callbacks(execute=True):
        calendar_set_default(actor=keeper, calendar=six)
    # Another process saw nothing since ``stale`` and now handles an edit of the project.
    input_cache.put(project.pk, stale)
    with django_capture_on_commit_callbacks(execute=True):
        task_update(actor=boss_of(project), task=task, duration=6)
    assert dates(task) == (D(2026, 1, 5), D(2026, 1, 10)), "Saturday works on the new default"
    assert input_cache.get(project.pk).default_calendar_id == six.pk
    assert_stored_equals_fresh(project.pk)


def test_catching_up_reads_the_new_default_as_a_full_read_does(keeper, standard, plain):
    project, _ = plain
    seq, ws = positions(project.pk)
    old = load_full(project.pk, seq=seq, ws_seq=ws)
    assert old.calendars[DEFAULT_CALENDAR].exceptions == ()
    calendar_update(actor=keeper, calendar=standard, exceptions=holiday(D(2026, 1, 6)))
    seq, ws = positions(project.pk)
    caught_up, full = catch_up(old, seq=seq, ws_seq=ws), load_full(project.pk, seq=seq, ws_seq=ws)
    assert caught_up.calendars == full.calendars
    assert caught_up.calendars[DEFAULT_CALENDAR].exceptions != ()
    six = calendar_create(actor=keeper, name="Six days", working_days=MONDAY_TO_SATURDAY)
    calendar_set_default(actor=keeper, calendar=six)
    seq, ws = positions(project.pk)
    again = catch_up(caught_up, seq=seq, ws_seq=ws)
    assert again.calendars == load_full(project.pk, seq=seq, ws_seq=ws).calendars
    assert (again.default_calendar_id, again.calendars[DEFAULT_CALENDAR].working_days) == (six.pk,
                                                                                          MONDAY_TO_SATURDAY)


def test_an_unrelated_calendar_change_reads_no_new_default(keeper, standard, plain):
    project, _ = plain
    seq, ws = positions(project.pk)
    old = load_full(project.pk, seq=seq, ws_seq=ws)
    other = calendar_create(actor=keeper, name="Elsewhere")
    calendar_update(actor=keeper, calendar=other, exceptions=holiday(D(2026, 1, 6)))
    seq, ws = positions(project.pk)
    assert catch_up(old, seq=seq, ws_seq=ws).calendars is old.calendars


@pytest.mark.parametrize("who", ["ordinary user", "project owner"])
def test_only_a_workspace_administrator_chooses_the_default(keeper, boss, standard, who):
    six = calendar_create(actor=keeper, name="Six days", working_days=MONDAY_TO_SATURDAY)
    actor = make_user("someone") if who == "ordinary user" else boss
    if who == "project owner":
        make_project(boss, name="Owned")
    events = ChangeEvent.objects.count()
    with pytest.raises(PermissionDenied):
        calendar_set_default(actor=actor, calendar=six)
    assert list(Calendar.objects.filter(is_default=True)) == [standard]
    assert ChangeEvent.objects.count() == events


def test_a_projects_own_or_a_deleted_calendar_cannot_be_the_default(keeper, boss, standard):
    project = make_project(boss, name="Own")
    own = calendar_create(actor=boss, name="Ours", project=project)
    with pytest.raises(InvalidInput) as refused:
        calendar_set_default(actor=keeper, calendar=own)
    assert (refused.value.field, refused.value.code) == ("calendar", "invalid")
    gone = calendar_create(actor=keeper, name="Gone")
    calendar_delete(actor=keeper, calendar=gone)
    with pytest.raises(InvalidInput) as refused:
        calendar_set_default(actor=keeper, calendar=gone)
    assert (refused.value.field, refused.value.code) == ("calendar", "invalid_reference")
    assert list(Calendar.objects.filter(is_default=True)) == [standard]


def test_choosing_the_current_default_again_writes_nothing(keeper, standard):
    events = ChangeEvent.objects.count()
    assert calendar_set_default(actor=keeper, calendar=standard) == standard
    assert ChangeEvent.objects.count() == events
    standard.refresh_from_db()
    assert standard.lock_version == 1   # the one write that made it the default


def boss_of(project):
    return project.created_by
