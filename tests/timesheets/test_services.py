"""Logging, changing and deleting time: who may, what is valid, what is logged, and that nothing else moves."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.accounts.models import User
from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import (
    REGISTRY, DomainError, ErrorCode, InvalidInput, NotFound, PermissionDenied, StaleLockVersion,
)
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_create, task_delete
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add, membership_remove, project_delete
from keelplan.scheduling.selectors import computed_fields
from keelplan.sync.selectors import COLLECTION_NAMES, sync_pull
from keelplan.timesheets.models import Activity, TimeEntry
from keelplan.timesheets.services import (
    MAX_COMMENT, MAX_MINUTES, TIME_ENTRY_ENTITY, activity_update, default_activity, time_entry_create,
    time_entry_delete, time_entry_update,
)

from conftest import make_project, make_user

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 2)


def log(actor, project, **kwargs):
    kwargs.setdefault("spent_on", DAY)
    kwargs.setdefault("minutes", 90)
    return time_entry_create(actor=actor, project=project, **kwargs)


def events_of(entry) -> list[tuple]:
    return list(ChangeEvent.objects.filter(entity=TIME_ENTRY_ENTITY, entity_id=entry.pk).order_by("seq")
                .values_list("stream__project_id", "action", "changes"))


# ---------------------------------------------------------------- happy paths

def test_a_member_logs_their_own_time_as_the_default_activity(project, members, tasks):
    member = members["member"]
    entry = log(member, project, work_item=tasks[0], comment="Measured the north wing.")
    entry.refresh_from_db()
    development = Activity.objects.get(name="Development")
    assert (entry.project, entry.work_item, entry.user, entry.activity) == (project, tasks[0], member, development)
    assert (entry.spent_on, entry.minutes, entry.comment, entry.lock_version) == (
        DAY, 90, "Measured the north wing.", 0)
    [(stream_project, action, changes)] = events_of(entry)
    assert (stream_project, action) == (project.pk, "created")
    assert changes == {"project": [None, project.pk], "work_item": [None, tasks[0].pk], "user": [None, member.pk],
                       "activity": [None, development.pk], "spent_on": [None, "2026-03-02"], "minutes": [None, 90],
                       "comment": [None, "Measured the north wing."]}


def test_time_may_be_logged_on_the_project_as_a_whole_with_a_date_given_as_text(project, members):
    entry = log(members["scheduler"], project, spent_on="2026-03-03", minutes=MAX_MINUTES, comment=None)
    entry.refresh_from_db()
    assert (entry.work_item, entry.spent_on, entry.minutes, entry.comment) == (None, dt.date(2026, 3, 3), 1440, "")


def test_an_admin_logs_for_a_member_as_a_chosen_activity(project, members, tasks):
    testing = Activity.objects.get(name="Testing")
    entry = log(members["admin"], project, user=members["member"], work_item=tasks[1], activity=testing, minutes=1)
    assert (entry.user, entry.activity, entry.minutes) == (members["member"], testing, 1)
    assert ChangeEvent.objects.get(entity=TIME_ENTRY_ENTITY, entity_id=entry.pk).actor == members["admin"]


def test_a_group_member_may_be_logged_for(owner, project, members):
    from keelplan.accounts.services import group_create, group_member_add
    from keelplan.portfolio.services import membership_add as add

    crew = group_create(actor=owner, name="Crew")
    worker = make_user("worker")
    group_member_add(actor=owner, group=crew, user=worker)
    add(actor=owner, project=project, group=crew, role=Role.MEMBER)
    assert log(members["admin"], project, user=worker).user == worker
    assert log(worker, project).user == worker


def test_an_update_changes_what_it_names_bumps_the_lock_version_and_logs_the_difference(project, members, tasks):
    member = members["member"]
    entry = log(member, project, work_item=tasks[0])
    support = Activity.objects.get(name="Support")
    entry = time_entry_update(actor=member, entry=entry, lock_version=0, minutes=120, comment="More",
                              activity=support, work_item=tasks[1], spent_on="2026-03-04")
    entry.refresh_from_db()
    assert (entry.minutes, entry.comment, entry.activity, entry.work_item, entry.spent_on, entry.lock_version) == (
        120, "More", support, tasks[1], dt.date(2026, 3, 4), 1)
    _, action, changes = events_of(entry)[-1]
    assert action == "updated"
    assert changes == {"minutes": [90, 120], "comment": ["", "More"],
                       "activity": [Activity.objects.get(name="Development").pk, support.pk],
                       "work_item": [tasks[0].pk, tasks[1].pk], "spent_on": ["2026-03-02", "2026-03-04"]}
    entry = time_entry_update(actor=member, entry=entry, work_item=None)
    assert entry.work_item is None and entry.lock_version == 2


def test_an_update_that_changes_nothing_writes_nothing(project, members, unchanged):
    entry = log(members["member"], project, comment="Same")
    with unchanged():
        same = time_entry_update(actor=members["member"], entry=entry, minutes=90, comment="Same", spent_on=DAY)
    assert same.lock_version == 0


def test_a_delete_is_soft_and_logged(project, members):
    entry = log(members["member"], project)
    time_entry_delete(actor=members["member"], entry=entry)
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()
    gone = TimeEntry.all_objects.get(pk=entry.pk)
    assert gone.deleted_at is not None and gone.lock_version == 1
    assert [action for _, action, _ in events_of(entry)] == ["created", "deleted"]
    with pytest.raises(NotFound):
        time_entry_delete(actor=members["member"], entry=entry)
    with pytest.raises(NotFound):
        time_entry_update(actor=members["member"], entry=entry, minutes=5)


def test_an_admin_changes_gives_away_and_deletes_anyones_entry(project, members):
    entry = log(members["member"], project)
    entry = time_entry_update(actor=members["admin"], entry=entry, minutes=30, user=members["scheduler"])
    assert (entry.minutes, entry.user) == (30, members["scheduler"])
    entry = time_entry_update(actor=members["admin"], entry=entry, user=members["admin"])
    assert entry.user == members["admin"]
    time_entry_delete(actor=members["admin"], entry=log(members["scheduler"], project))


def test_a_workspace_administrator_logs_in_any_project(project, members):
    keeper = make_user("keeper", workspace_admin=True)
    assert log(keeper, project).user == keeper
    assert log(keeper, project, user=members["viewer"]).user == members["viewer"]


# ---------------------------------------------------------------- bad input: the field named, nothing written

@pytest.mark.parametrize("kwargs, field, code", [
    ({"minutes": 0}, "minutes", "out_of_range"),
    ({"minutes": MAX_MINUTES + 1}, "minutes", "out_of_range"),
    ({"minutes": -30}, "minutes", "out_of_range"),
    ({"minutes": "90"}, "minutes", "invalid_type"),
    ({"minutes": 1.5}, "minutes", "invalid_type"),
    ({"minutes": True}, "minutes", "invalid_type"),
    ({"minutes": None}, "minutes", "null"),
    ({"spent_on": None}, "spent_on", "null"),
    ({"spent_on": "2026-02-30"}, "spent_on", "invalid_date"),
    ({"spent_on": "02/03/2026"}, "spent_on", "invalid_date"),
    ({"spent_on": dt.datetime(2026, 3, 2, 9)}, "spent_on", "invalid_type"),
    ({"spent_on": 20260302}, "spent_on", "invalid_type"),
    ({"comment": "x" * (MAX_COMMENT + 1)}, "comment", "too_long"),
    ({"comment": 5}, "comment", "invalid_type"),
    ({"comment": "a\x00b"}, "comment", "invalid"),
    ({"activity": "Development"}, "activity", "invalid_type"),
    ({"work_item": 5}, "work_item", "invalid_type"),
    ({"user": "tom"}, "user", "invalid_type"),
])
def test_bad_values_are_refused_naming_the_field_and_write_nothing(project, members, unchanged, kwargs, field, code):
    with unchanged(), pytest.raises(InvalidInput) as caught:
        log(members["member"], project, **kwargs)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert set(REGISTRY[ErrorCode(code)].params) <= set(caught.value.params)


def test_a_project_that_is_not_one_is_refused(members, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as caught:
        time_entry_create(actor=members["member"], project="apollo", spent_on=DAY, minutes=5)
    assert (caught.value.field, caught.value.code) == ("project", "invalid_type")


@pytest.mark.parametrize("kwargs, field, code", [
    ({"minutes": 0}, "minutes", "out_of_range"),
    ({"minutes": None}, "minutes", "null"),
    ({"spent_on": "tomorrow"}, "spent_on", "invalid_date"),
    ({"user": None}, "user", "null"),
    ({"activity": None}, "activity", "null"),
    ({"comment": "x" * (MAX_COMMENT + 1)}, "comment", "too_long"),
    ({"hours": 2}, "hours", "unknown_field"),
    ({"project": "elsewhere"}, "project", "not_allowed"),
])
def test_bad_updates_are_refused_naming_the_field_and_write_nothing(project, members, unchanged, kwargs, field,
                                                                     code):
    entry = log(members["member"], project)
    also = {"comment": "changed"} if "comment" not in kwargs else {"minutes": 60}
    with unchanged(), pytest.raises(InvalidInput) as caught:
        time_entry_update(actor=members["member"], entry=entry, **also, **kwargs)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_a_work_item_of_another_project_is_refused(owner, project, members, unchanged):
    elsewhere = make_project(owner, name="Elsewhere")
    membership_add(actor=owner, project=elsewhere, user=members["member"], role=Role.MEMBER)
    theirs = task_create(actor=owner, project=elsewhere, name="Not here")
    with unchanged(), pytest.raises(InvalidInput) as caught:
        log(members["member"], project, work_item=theirs)
    assert (caught.value.field, caught.value.code, caught.value.message) == (
        "work_item", "invalid_reference", "The work item belongs to another project.")


def test_a_work_item_the_actor_cannot_see_reads_like_a_deleted_one(owner, project, members, tasks, unchanged):
    """An unseen project's work item and a deleted work item get the same words: existence does not leak."""
    hidden = task_create(actor=owner, project=make_project(owner, name="Hidden"), name="Secret")
    stale = tasks[1]   # read before its delete, so the instance still looks live
    task_delete(actor=owner, task=stale)
    deleted = WorkItem.all_objects.get(pk=stale.pk)
    entry = log(members["member"], project, work_item=tasks[0])
    answers = set()
    with unchanged():
        for item in (hidden, stale, deleted):
            for call in (lambda i: log(members["member"], project, work_item=i),
                         lambda i: time_entry_update(actor=members["member"], entry=entry, work_item=i)):
                with pytest.raises(InvalidInput) as caught:
                    call(item)
                error = caught.value
                answers.add((error.field, error.code, error.message, tuple(sorted(error.params.items()))))
    assert answers == {("work_item", "invalid_reference", "No such work item.", (("entity", "work item"),))}


def test_an_inactive_activity_is_refused_but_stays_on_entries_that_have_it(owner, project, members, unchanged):
    testing = Activity.objects.get(name="Testing")
    entry = log(members["member"], project, activity=testing)
    activity_update(actor=owner, activity=testing, is_active=False)
    with unchanged(), pytest.raises(InvalidInput) as caught:
        log(members["member"], project, activity=testing)
    assert (caught.value.field, caught.value.code, caught.value.params) == (
        "activity", "invalid_reference", {"entity": "activity"})
    other = log(members["member"], project)
    with unchanged(), pytest.raises(InvalidInput):
        time_entry_update(actor=members["member"], entry=other, activity=testing)
    entry = time_entry_update(actor=members["member"], entry=entry, minutes=15)
    assert (entry.activity, entry.minutes) == (testing, 15)


def test_with_no_activity_in_use_time_cannot_be_logged(owner, project, members, unchanged):
    default = default_activity()
    activity_update(actor=owner, activity=default, is_default=False)
    Activity.objects.update(is_active=False)
    assert default_activity() is None
    with unchanged(), pytest.raises(InvalidInput) as caught:
        log(members["member"], project)
    assert (caught.value.field, caught.value.code) == ("activity", "required")


def test_a_stale_lock_version_changes_nothing(project, members, unchanged):
    entry = log(members["member"], project)
    time_entry_update(actor=members["member"], entry=entry, minutes=45)
    with unchanged(), pytest.raises(StaleLockVersion) as caught:
        time_entry_update(actor=members["member"], entry=entry, lock_version=0, minutes=60)
    assert (caught.value.code, caught.value.field, caught.value.params) == (
        "stale_lock_version", "lock_version", {"current_lock_version": 1})
    assert time_entry_update(actor=members["member"], entry=entry, lock_version=1, minutes=60).lock_version == 2


# ---------------------------------------------------------------- attacks: refused, and the data as it was

def test_a_non_member_cannot_log_into_a_project_and_is_told_it_does_not_exist(project, outsider, tasks, unchanged):
    with unchanged(), pytest.raises(NotFound) as caught:
        log(outsider, project, work_item=tasks[0])
    assert caught.value.code == "not_found"
    with unchanged(), pytest.raises(NotFound):
        log(outsider, project, minutes=0)   # bad values too: the project's existence comes first


def test_a_non_member_cannot_touch_an_entry(project, members, outsider, unchanged):
    entry = log(members["member"], project)
    with unchanged():
        with pytest.raises(NotFound):
            time_entry_update(actor=outsider, entry=entry, minutes=1)
        with pytest.raises(NotFound):
            time_entry_delete(actor=outsider, entry=entry)


def test_a_viewer_may_not_log_time(project, members, unchanged):
    with unchanged(), pytest.raises(PermissionDenied) as caught:
        log(members["viewer"], project)
    assert caught.value.message == "Your role (Viewer) may not log time; it needs Member or above."


def test_a_viewer_cannot_change_their_own_entry_and_is_not_told_of_others(project, members, unchanged):
    own = log(members["admin"], project, user=members["viewer"])
    other = log(members["member"], project)
    with unchanged():
        with pytest.raises(PermissionDenied):
            time_entry_update(actor=members["viewer"], entry=own, minutes=1)
        with pytest.raises(PermissionDenied):
            time_entry_delete(actor=members["viewer"], entry=own)
        with pytest.raises(NotFound):
            time_entry_update(actor=members["viewer"], entry=other, minutes=1)
        with pytest.raises(NotFound):
            time_entry_delete(actor=members["viewer"], entry=other)


@pytest.mark.parametrize("role", ["member", "scheduler"])
def test_below_admin_nobody_changes_another_persons_entry(project, members, unchanged, role):
    entry = log(members["admin"], project, user=members["viewer" if role == "member" else "member"])
    with unchanged():
        with pytest.raises(PermissionDenied) as caught:
            time_entry_update(actor=members[role], entry=entry, minutes=1)
        assert "may not log or change other people's time; it needs Admin" in caught.value.message
        with pytest.raises(PermissionDenied):
            time_entry_update(actor=members[role], entry=entry, user=members[role])
        with pytest.raises(PermissionDenied):
            time_entry_delete(actor=members[role], entry=entry)


def test_a_member_cannot_log_for_someone_else_or_give_their_entry_away(project, members, unchanged):
    own = log(members["member"], project)
    with unchanged():
        with pytest.raises(PermissionDenied):
            log(members["member"], project, user=members["scheduler"])
        with pytest.raises(PermissionDenied):
            time_entry_update(actor=members["member"], entry=own, user=members["scheduler"])


def test_an_admin_cannot_log_for_a_non_member_or_an_inactive_member(project, members, outsider, unchanged):
    with unchanged(), pytest.raises(InvalidInput) as caught:
        log(members["admin"], project, user=outsider)
    assert (caught.value.field, caught.value.code) == ("user", "not_a_member")
    entry = log(members["admin"], project, user=members["member"])
    with unchanged(), pytest.raises(InvalidInput) as caught:
        time_entry_update(actor=members["admin"], entry=entry, user=outsider)
    assert (caught.value.field, caught.value.code) == ("user", "not_a_member")
    User.objects.filter(pk=members["scheduler"].pk).update(is_active=False)
    with unchanged(), pytest.raises(InvalidInput) as caught:
        log(members["admin"], project, user=User.objects.get(pk=members["scheduler"].pk))
    assert (caught.value.field, caught.value.code) == ("user", "invalid_reference")


def test_a_former_member_cannot_be_logged_for(owner, project, members, unchanged):
    membership_remove(actor=owner, membership=members["member"].memberships.get(project=project))
    with unchanged(), pytest.raises(InvalidInput) as caught:
        log(members["admin"], project, user=members["member"])
    assert caught.value.code == "not_a_member"
    with unchanged(), pytest.raises(NotFound):
        log(members["member"], project)


def test_nobody_logs_into_a_deleted_project(owner, project, members, unchanged):
    entry = log(members["member"], project)
    project_delete(actor=owner, project=project)
    with unchanged():
        with pytest.raises(NotFound):
            log(members["member"], project)
        with pytest.raises(NotFound):
            time_entry_update(actor=owner, entry=entry, minutes=1)


def test_anonymous_callers_are_told_nothing(project, members, unchanged):
    from django.contrib.auth.models import AnonymousUser

    entry = log(members["member"], project)
    with unchanged():
        with pytest.raises(NotFound):
            log(AnonymousUser(), project)
        with pytest.raises(NotFound):
            time_entry_delete(actor=AnonymousUser(), entry=entry)


# ---------------------------------------------------------------- the change log, the scheduler, offline sync

def test_time_is_logged_in_the_projects_stream_and_moves_no_date(project, members, tasks):
    before = computed_fields(project.pk, [t.pk for t in tasks])
    schedules = ChangeEvent.objects.filter(entity="schedule").count()
    entry = log(members["member"], project, work_item=tasks[0], minutes=MAX_MINUTES)
    time_entry_update(actor=members["member"], entry=entry, minutes=30, spent_on="2026-12-31")
    time_entry_delete(actor=members["member"], entry=entry)
    assert [(p, a) for p, a, _ in events_of(entry)] == [(project.pk, "created"), (project.pk, "updated"),
                                                      (project.pk, "deleted")]
    assert ChangeEvent.objects.filter(entity="schedule").count() == schedules
    assert computed_fields(project.pk, [t.pk for t in tasks]) == before


def test_the_sync_feed_never_shows_time(owner, project, members, tasks):
    first = sync_pull(actor=owner, project=project)
    entry = log(members["member"], project, work_item=tasks[0])
    full = sync_pull(actor=owner, project=project)
    assert {name: list(full.collections[name].rows.values_list("pk", flat=True)) for name in COLLECTION_NAMES} == {
        name: list(first.collections[name].rows.values_list("pk", flat=True)) for name in COLLECTION_NAMES}
    time_entry_update(actor=members["member"], entry=entry, minutes=10)
    time_entry_delete(actor=members["member"], entry=entry)
    later = sync_pull(actor=owner, project=project, since=first.timestamp)
    assert later.timestamp > first.timestamp   # the events are in the stream...
    for name in COLLECTION_NAMES:                # ...and in no collection
        assert not later.collections[name].rows.exists() and later.collections[name].deleted == [], name


# ---------------------------------------------------------------- every field, every bad value

BAD_VALUES = {"none": None, "empty": "", "blank": "   ", "too_long": "x" * 100_001, "nul": "a\x00b",
              "object": object(), "list": [1], "dict": {"a": 1}, "true": True, "float": 1.5, "negative": -1,
              "huge": 2**70, "bad_date": "2026-02-30"}
ALWAYS_REFUSED = {"too_long", "nul", "object", "list", "dict", "huge", "true", "float", "negative"}


def test_every_field_refuses_bad_values_with_a_registered_code(project, members, tasks):
    """The sweep tests/test_service_inputs.py runs over the other services, for time entries: every bad value is
    a domain error with its code's parameters, or accepted where it means something (None: the default), and
    a refused one writes nothing."""
    member = members["member"]
    entry = log(member, project)
    problems = []
    fields = ("spent_on", "minutes", "comment", "activity", "work_item", "user")
    calls = [(f"create.{f}", lambda v, f=f: log(member, project, **{f: v})) for f in fields]
    calls += [(f"update.{f}", lambda v, f=f: time_entry_update(actor=member, entry=entry, **{f: v})) for f in fields]
    for name, call in calls:
        for label, value in BAD_VALUES.items():
            events = ChangeEvent.objects.count()
            try:
                call(value)
            except DomainError as exc:
                missing = set(REGISTRY[ErrorCode(exc.code)].params) - set(exc.params)
                if missing or not exc.field:
                    problems.append(f"{name}={label}: {exc.code} field={exc.field} lacks {sorted(missing)}")
                if ChangeEvent.objects.count() != events:
                    problems.append(f"{name}={label}: refused but logged")
                continue
            except Exception as exc:  # noqa: BLE001 -- the point is that nothing else escapes
                problems.append(f"{name}={label}: {type(exc).__name__}: {exc}"[:200])
                continue
            if label in ALWAYS_REFUSED:
                problems.append(f"{name}={label}: accepted")
            entry.refresh_from_db()
    assert problems == []
