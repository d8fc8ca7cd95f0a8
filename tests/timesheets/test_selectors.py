"""Who sees which time entries (one query, whatever the rows), single reads, and the minutes spent per work item."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from keelplan.core.errors import NotFound
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add, membership_remove, project_delete
from keelplan.timesheets.services import time_entry_create, time_entry_delete
from keelplan.timesheets.selectors import minutes_spent, time_entry_get, time_entry_list

from conftest import make_project, make_user

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 2)


def log(actor, project, minutes=60, **kwargs):
    return time_entry_create(actor=actor, project=project, spent_on=DAY, minutes=minutes, **kwargs)


@pytest.fixture
def logged(owner, project, members, tasks):
    """Entries of the member, of the viewer (logged for them by the Admin) and of the Admin, and one entry in a
    project the others do not belong to."""
    elsewhere = make_project(owner, name="Elsewhere")
    return {
        "member": log(members["member"], project, work_item=tasks[0]),
        "viewer": log(members["admin"], project, user=members["viewer"]),
        "admin": log(members["admin"], project, work_item=tasks[0], minutes=30),
        "elsewhere": log(owner, elsewhere),
    }


def seen(actor) -> set[int]:
    return set(time_entry_list(actor=actor).values_list("pk", flat=True))


def ids(logged, *keys) -> set[int]:
    return {logged[key].pk for key in keys}


@pytest.mark.parametrize("role", ["member", "scheduler", "admin"])
def test_a_member_and_above_sees_every_entry_of_the_project(members, logged, role):
    assert seen(members[role]) == ids(logged, "member", "viewer", "admin")


def test_a_viewer_sees_only_their_own(members, logged):
    assert seen(members["viewer"]) == ids(logged, "viewer")
    assert time_entry_get(actor=members["viewer"], pk=logged["viewer"].pk) == logged["viewer"]
    for key in ("member", "admin", "elsewhere"):
        with pytest.raises(NotFound) as caught:
            time_entry_get(actor=members["viewer"], pk=logged[key].pk)
        assert caught.value.params == {"entity": "time entry"}


def test_a_non_member_and_an_anonymous_caller_see_none(outsider, logged):
    assert seen(outsider) == set() and seen(AnonymousUser()) == set()
    with pytest.raises(NotFound):
        time_entry_get(actor=outsider, pk=logged["member"].pk)


def test_a_workspace_administrator_sees_everything(owner, logged):
    assert seen(owner) == ids(logged, "member", "viewer", "admin", "elsewhere")


def test_a_public_project_shows_strangers_nothing_of_others_time(owner, project, logged):
    from keelplan.portfolio.services import project_update

    project_update(actor=owner, project=project, is_public=True)
    assert seen(make_user("passer-by")) == set()


def test_a_former_member_no_longer_sees_even_their_own(owner, project, members, logged):
    membership_remove(actor=owner, membership=members["member"].memberships.get(project=project))
    assert seen(members["member"]) == set()
    membership_add(actor=owner, project=project, user=members["member"], role=Role.VIEWER)
    assert seen(members["member"]) == ids(logged, "member")


def test_deleted_entries_and_entries_of_deleted_projects_are_gone(owner, project, members, logged):
    time_entry_delete(actor=members["member"], entry=logged["member"])
    assert seen(members["admin"]) == ids(logged, "viewer", "admin")
    with pytest.raises(NotFound):
        time_entry_get(actor=members["admin"], pk=logged["member"].pk)
    project_delete(actor=owner, project=project)
    assert seen(members["admin"]) == set()
    assert seen(owner) == ids(logged, "elsewhere")


@pytest.mark.parametrize("pk", [0, -1, "abc", "1.0", " 1", None, True, 2**64, "99999999999999999999999"])
def test_an_id_that_names_nothing_is_not_found(owner, logged, pk):
    with pytest.raises(NotFound):
        time_entry_get(actor=owner, pk=pk)


def test_ids_as_text_are_read(owner, logged):
    assert time_entry_get(actor=owner, pk=str(logged["member"].pk)) == logged["member"]


def test_the_list_is_one_query_with_everything_a_dialect_shows(members, logged, django_assert_num_queries):
    for actor in (members["member"], members["viewer"]):
        with django_assert_num_queries(1):
            rows = list(time_entry_list(actor=actor))
            shown = [(e.project.name, e.work_item.name if e.work_item else None, e.user.username, e.activity.name)
                     for e in rows]
        assert shown


def test_the_list_is_ordered_by_day_then_id(members, project):
    late = log(members["member"], project)
    early = time_entry_create(actor=members["member"], project=project, spent_on=DAY - dt.timedelta(days=1),
                              minutes=5)
    assert list(time_entry_list(actor=members["member"]).values_list("pk", flat=True)) == [early.pk, late.pk]


def test_minutes_spent_sums_live_entries_per_work_item_in_one_query(members, tasks, logged,
                                                                     django_assert_num_queries):
    time_entry_delete(actor=members["admin"], entry=log(members["admin"], tasks[0].project, work_item=tasks[0]))
    with django_assert_num_queries(1):
        spent = minutes_spent([tasks[0].pk, tasks[1].pk])
    assert spent == {tasks[0].pk: 90, tasks[1].pk: 0}
    with django_assert_num_queries(0):
        assert minutes_spent([]) == {}
