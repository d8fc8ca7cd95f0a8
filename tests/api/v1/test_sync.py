"""GET /api/v1/projects/{id}/sync/: the pull side of offline sync, read from the change log."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import client_for, make_project
from keelplan.calendars.models import Calendar
from keelplan.calendars.services import calendar_create, calendar_update
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import dependency_create, task_create, task_delete, task_restore, task_update
from keelplan.portfolio.models import Membership, Role
from keelplan.portfolio.services import membership_change_role, membership_remove
from keelplan.resources.models import Assignment, Resource
from keelplan.resources.services import assignment_create, resource_create, resource_delete, resource_update
from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.sync.models import SyncBatch

ORDER = ["projects", "tasks", "dependencies", "calendars", "memberships", "resources", "task_resources"]
COLLECTIONS = set(ORDER)


def pull(client, project, **params):
    return client.get(f"/api/v1/projects/{project.pk}/sync/", params)


def ids(body, collection, key="updated"):
    return sorted(row["id"] if isinstance(row, dict) else row for row in body["changes"][collection][key])


@pytest.mark.django_db
def test_a_first_pull_returns_every_live_row_and_a_timestamp(api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    b = task_create(actor=owner, project=project, name="B")
    dependency_create(actor=owner, predecessor=a, successor=b)
    body = pull(api, project).json()
    assert set(body["changes"]) == COLLECTIONS
    assert ids(body, "tasks") == [a.pk, b.pk]
    assert ids(body, "projects") == [project.pk]
    assert len(body["changes"]["dependencies"]["updated"]) == 1
    assert all(body["changes"][c]["created"] == [] and body["changes"][c]["deleted"] == [] for c in COLLECTIONS)
    assert body["timestamp"] > 0


@pytest.mark.django_db
def test_a_delta_pull_returns_only_what_changed_since_with_deletions_as_ids(api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    b = task_create(actor=owner, project=project, name="B")
    untouched = task_create(actor=owner, project=project, name="Untouched")
    first = pull(api, project).json()
    task_update(actor=owner, task=b, name="B renamed")
    task_delete(actor=owner, task=a)
    body = pull(api, project, last_pulled_at=first["timestamp"]).json()
    assert ids(body, "tasks") == [b.pk]
    assert body["changes"]["tasks"]["updated"][0]["name"] == "B renamed"
    assert ids(body, "tasks", "deleted") == [a.pk]
    assert untouched.pk not in ids(body, "tasks")
    assert body["timestamp"] > first["timestamp"]
    again = pull(api, project, since=body["timestamp"]).json()  # `since` is an alias
    assert all(not again["changes"][c]["updated"] and not again["changes"][c]["deleted"] for c in COLLECTIONS)
    assert again["timestamp"] == body["timestamp"]


@pytest.mark.django_db
def test_tasks_the_scheduler_moved_are_in_the_delta_with_their_new_dates(api, project, owner):
    a = task_create(actor=owner, project=project, name="A", duration=2)
    b = task_create(actor=owner, project=project, name="B", duration=1)
    c = task_create(actor=owner, project=project, name="C", duration=9)  # sets the finish; never moves
    dependency_create(actor=owner, predecessor=a, successor=b, lag=0, lag_unit="wd")
    first = pull(api, project).json()
    task_update(actor=owner, task=a, duration=4)  # B moves though nobody wrote B
    body = pull(api, project, last_pulled_at=first["timestamp"]).json()
    assert ids(body, "tasks") == [a.pk, b.pk]
    moved = {row["id"]: row for row in body["changes"]["tasks"]["updated"]}
    assert (moved[b.pk]["early_start"], moved[b.pk]["total_float"]) == ("2026-01-09", 4)
    assert c.pk not in moved


@pytest.mark.django_db
def test_a_viewer_may_pull_and_a_non_member_gets_404(project, members, outsider):
    assert pull(client_for(members["viewer"]), project).status_code == 200
    response = pull(client_for(outsider), project)
    assert response.status_code == 404


@pytest.mark.django_db
def test_pulling_needs_a_token(project):
    assert pull(APIClient(), project).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "99999999999999999999"])
def test_a_bad_last_pulled_at_is_a_400_naming_it(api, project, value):
    response = pull(api, project, last_pulled_at=value)
    assert response.status_code == 400
    assert "last_pulled_at" in response.json()


@pytest.mark.django_db
def test_a_timestamp_from_the_future_is_refused_with_a_code(api, project):
    now = pull(api, project).json()["timestamp"]
    response = pull(api, project, last_pulled_at=now + 10)
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_sync_point"


# ---------------------------------------------------------------- helpers for paged pulls and replicas

def pulled(client, project, **params) -> dict:
    """One page (a 200 answer's body)."""
    response = pull(client, project, **params)
    assert response.status_code == 200, response.json()
    return response.json()


def pull_pages(client, project, page_size, **params) -> list[dict]:
    """Every page of one pull, following next_cursor."""
    pages = [pulled(client, project, page_size=page_size, **params)]
    while pages[-1]["next_cursor"]:
        pages.append(pulled(client, project, page_size=page_size, cursor=pages[-1]["next_cursor"]))
    return pages


def listed(pages, key="updated") -> list[tuple[str, int]]:
    """(collection, id) of every row the pages list under ``key``, in the order they were listed."""
    return [(c, row["id"] if isinstance(row, dict) else row)
            for page in pages for c in ORDER for row in page["changes"][c][key]]


def server_rows(client, project) -> dict:
    """The live rows a fresh full pull gives, by collection and id."""
    body = pulled(client, project, page_size=5000)
    assert body["has_more"] is False
    return {c: {row["id"]: row for row in part["updated"]} for c, part in body["changes"].items()}


def replica_apply(replica: dict, pages) -> None:
    """What a client does with pulled pages: upsert ``updated`` rows, remove ``deleted`` ids."""
    for page in pages:
        for c, part in page["changes"].items():
            for row in part["updated"]:
                replica[c][row["id"]] = row
            for pk in part["deleted"]:
                replica[c].pop(pk, None)


def differences(replica: dict, server: dict) -> list:
    """Where a replica differs from the server's rows: (collection, id, what), ``what`` being "missing",
    "extra" or ``{field: (replica value, server value)}``."""
    out = []
    for c in sorted(set(replica) | set(server)):
        mine, theirs = replica.get(c, {}), server.get(c, {})
        for pk in sorted(set(mine) | set(theirs)):
            if pk not in mine:
                out.append((c, pk, "missing"))
            elif pk not in theirs:
                out.append((c, pk, "extra"))
            elif mine[pk] != theirs[pk]:
                out.append((c, pk, {k: (mine[pk].get(k), v) for k, v in theirs[pk].items() if mine[pk].get(k) != v}))
    return out


def names(pages) -> dict[int, str]:
    return {row["id"]: row["name"] for page in pages for row in page["changes"]["tasks"]["updated"]}


def nothing_listed(body, collections=COLLECTIONS) -> bool:
    return all(not body["changes"][c]["updated"] and not body["changes"][c]["deleted"] for c in collections)


def make_workspace_and_project_rows(owner, project):
    """Tasks (one deleted), links, a calendar with an exception, resources (one deleted), assignments."""
    tasks = [task_create(actor=owner, project=project, name=f"T{n}", duration=1) for n in range(5)]
    gone = task_create(actor=owner, project=project, name="Gone", duration=1)
    dependency_create(actor=owner, predecessor=tasks[0], successor=tasks[1])
    dependency_create(actor=owner, predecessor=tasks[1], successor=tasks[2])
    dependency_create(actor=owner, predecessor=gone, successor=tasks[3])
    task_delete(actor=owner, task=gone)
    calendar_create(actor=owner, name="Site", exceptions=[
        {"start": dt.date(2026, 12, 24), "end": dt.date(2026, 12, 26), "description": "Christmas"}])
    crane, digger = resource_create(actor=owner, name="Crane"), resource_create(actor=owner, name="Digger")
    resource_delete(actor=owner, resource=resource_create(actor=owner, name="Scrapped"))
    assignment_create(actor=owner, work_item=tasks[0], resource=crane)
    assignment_create(actor=owner, work_item=tasks[4], resource=digger)
    return tasks


def live_ids(project) -> list[tuple[str, int]]:
    """(collection, id) of every live row a full pull of ``project`` must list, in the pull's order."""
    scopes = [
        ("projects", [project.pk]),
        ("tasks", WorkItem.objects.filter(project=project)),
        ("dependencies", Dependency.objects.filter(project=project)),
        ("calendars", Calendar.objects.all()),
        ("memberships", Membership.objects.filter(project=project)),
        ("resources", Resource.objects.all()),
        ("task_resources", Assignment.objects.filter(project=project)),
    ]
    return [(c, pk) for c, rows in scopes
            for pk in (rows if isinstance(rows, list) else rows.order_by("pk").values_list("pk", flat=True))]


# ---------------------------------------------------------------- paging

@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [1, 2, 7, 18, 19])
def test_paging_a_full_pull_lists_every_live_row_exactly_once_in_collection_and_id_order(
        api, project, owner, members, page_size):
    make_workspace_and_project_rows(owner, project)
    other = make_project(owner, name="Other")
    task_create(actor=owner, project=other, name="Elsewhere")
    expected = live_ids(project)
    assert len(expected) == 18  # 1 project, 5 tasks, 2 links, 1 calendar, 5 members, 2 resources, 2 assignments

    pages = pull_pages(api, project, page_size)

    assert listed(pages) == expected
    assert listed(pages, "deleted") == []
    assert len(pages) == -(-len(expected) // page_size)  # no empty trailing page
    assert all(len(listed([p])) == page_size for p in pages[:-1])
    assert {p["timestamp"] for p in pages} == {pages[0]["timestamp"]}
    assert all(p["has_more"] is True and isinstance(p["next_cursor"], str) for p in pages[:-1])
    assert (pages[-1]["next_cursor"], pages[-1]["has_more"]) == (None, False)


@pytest.mark.django_db
def test_paging_a_delta_pull_lists_each_changed_row_once_with_deletions_sharing_the_page_budget(api, project, owner):
    tasks = [task_create(actor=owner, project=project, name=f"T{n}", duration=1) for n in range(6)]
    since = pulled(api, project)["timestamp"]
    for task in tasks[:4]:
        task_update(actor=owner, task=task, name=f"{task.name}!")
    task_delete(actor=owner, task=tasks[1])
    task_delete(actor=owner, task=tasks[4])

    pages = pull_pages(api, project, 2, last_pulled_at=since)

    assert [len(listed([p])) + len(listed([p], "deleted")) for p in pages] == [2, 2, 2]
    # The deletions rescheduled the project, so its row (scheduled_at) comes first.
    assert listed(pages) == [("projects", project.pk), ("tasks", tasks[0].pk), ("tasks", tasks[2].pk),
                             ("tasks", tasks[3].pk)]
    assert listed(pages, "deleted") == [("tasks", tasks[1].pk), ("tasks", tasks[4].pk)]
    assert names(pages) == {tasks[0].pk: "T0!", tasks[2].pk: "T2!", tasks[3].pk: "T3!"}
    assert {p["timestamp"] for p in pages} == {pages[0]["timestamp"]}
    assert pages[0]["timestamp"] > since
    assert (pages[-1]["next_cursor"], pages[-1]["has_more"]) == (None, False)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0", "5001", "x", "-1", "2.5"])
def test_a_page_size_out_of_range_or_not_a_number_is_a_400_naming_page_size(api, project, value):
    response = pull(api, project, page_size=value)
    assert response.status_code == 400
    [message] = response.json()["page_size"]
    assert message in ("Must be between 1 and 5000.", "A whole number is required.")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "value"), [("page_size", "0"), ("page_size", "x"), ("last_pulled_at", "-1")])
def test_a_bad_pull_parameter_is_answered_with_a_code_like_every_other_400(api, project, name, value):
    body = pull(api, project, **{name: value}).json()
    assert name in body
    assert "code" in body and "detail" in body


@pytest.mark.django_db
def test_the_page_size_bounds_themselves_are_accepted(api, project, owner):
    task = task_create(actor=owner, project=project, name="A")
    everything = live_ids(project)
    assert len(everything) == 3  # the project, the task, the owner's membership
    smallest = pulled(api, project, page_size="1")
    assert (listed([smallest]), smallest["has_more"]) == ([("projects", project.pk)], True)
    largest = pulled(api, project, page_size="5000")
    assert (listed([largest]), largest["has_more"]) == (everything, False)
    assert ("tasks", task.pk) in everything


@pytest.mark.django_db
@pytest.mark.parametrize("start", ["full", "delta"])
def test_writes_made_while_paging_are_in_a_later_page_or_the_next_pull_and_nothing_is_missed(
        api, project, owner, start):

    tasks = [task_create(actor=owner, project=project, name=f"T{n}", duration=1) for n in range(6)]
    replica = {c: {} for c in COLLECTIONS}
    since = 0
    if start == "delta":
        first = pull_pages(api, project, 5000)
        replica_apply(replica, first)
        since = first[0]["timestamp"]
        for task in tasks:  # every task is in the delta below
            task_update(actor=owner, task=task, name=f"{task.name}*")
    base = {t.pk: WorkItem.objects.get(pk=t.pk).name for t in tasks}
    page1 = pulled(api, project, page_size=2, last_pulled_at=since)
    returned = {pk for c, pk in listed([page1]) if c == "tasks"}
    assert tasks[0].pk in returned and not returned & {t.pk for t in tasks[3:]}
    stamp = page1["timestamp"]

    added = task_create(actor=owner, project=project, name="Added", duration=1)
    task_update(actor=owner, task=tasks[0], name="Seen, then renamed")
    task_update(actor=owner, task=tasks[3], name="Renamed before its page")
    task_delete(actor=owner, task=tasks[4])

    rest = [page1]
    while rest[-1]["next_cursor"]:
        rest.append(pulled(api, project, page_size=2, cursor=rest[-1]["next_cursor"]))
    rest = rest[1:]
    assert {p["timestamp"] for p in rest} == {stamp}
    later = names(rest)
    assert later[tasks[3].pk] == "Renamed before its page"
    assert tasks[4].pk not in later
    assert tasks[0].pk not in later
    assert later[tasks[5].pk] == base[tasks[5].pk]
    replica_apply(replica, [page1, *rest])

    after = pull_pages(api, project, 2, last_pulled_at=stamp)
    assert {p["timestamp"] for p in after} == {after[0]["timestamp"]}
    assert after[0]["timestamp"] > stamp
    assert [pk for c, pk in listed(after) if c == "tasks"] == [tasks[0].pk, tasks[3].pk, added.pk]
    assert names(after) == {tasks[0].pk: "Seen, then renamed", tasks[3].pk: "Renamed before its page",
                            added.pk: "Added"}
    assert [pk for c, pk in listed(after, "deleted") if c == "tasks"] == [tasks[4].pk]
    replica_apply(replica, after)
    assert differences(replica, server_rows(api, project)) == []


# ---------------------------------------------------------------- calendars and resources (workspace rows)

def single(client, project, since) -> dict:
    """A delta pull that fits one page."""
    body = pulled(client, project, last_pulled_at=since)
    assert body["has_more"] is False
    return body


@pytest.mark.django_db
def test_a_full_pull_lists_calendars_with_their_exceptions_and_live_resources(api, project, owner):
    site = calendar_create(actor=owner, name="Site", working_days=31, exceptions=[
        {"start": dt.date(2026, 12, 24), "end": dt.date(2026, 12, 26), "description": "Christmas"}])
    crane = resource_create(actor=owner, name="Crane", max_units="2.00")
    scrapped = resource_create(actor=owner, name="Scrapped")
    resource_delete(actor=owner, resource=scrapped)

    body = pulled(api, project)

    [calendar] = body["changes"]["calendars"]["updated"]
    assert (calendar["id"], calendar["name"], calendar["working_days"]) == (site.pk, "Site", 31)
    assert [(e["exc_start"], e["exc_end"], e["description"]) for e in calendar["exceptions"]] == [
        ("2026-12-24", "2026-12-26", "Christmas")]
    assert [(r["id"], r["name"], r["max_units"]) for r in body["changes"]["resources"]["updated"]] == [
        (crane.pk, "Crane", "2.00")]
    assert body["changes"]["resources"]["deleted"] == []


@pytest.mark.django_db
def test_calendar_writes_are_in_the_next_delta_and_only_the_calendar_written(api, project, owner):
    untouched = calendar_create(actor=owner, name="Untouched")
    since = pulled(api, project)["timestamp"]

    site = calendar_create(actor=owner, name="Site", exceptions=[
        {"start": dt.date(2026, 5, 1), "end": dt.date(2026, 5, 1), "description": "May Day"}])
    body = single(api, project, since)
    assert ids(body, "calendars") == [site.pk]
    assert [e["description"] for e in body["changes"]["calendars"]["updated"][0]["exceptions"]] == ["May Day"]

    since = body["timestamp"]
    calendar_update(actor=owner, calendar=site, exceptions=[
        {"start": dt.date(2026, 8, 3), "end": dt.date(2026, 8, 14), "description": "Shutdown"}])
    body = single(api, project, since)
    assert ids(body, "calendars") == [site.pk]
    [row] = body["changes"]["calendars"]["updated"]
    assert [(e["exc_start"], e["exc_end"], e["description"]) for e in row["exceptions"]] == [
        ("2026-08-03", "2026-08-14", "Shutdown")]

    since = body["timestamp"]
    calendar_update(actor=owner, calendar=untouched, name="Renamed", working_days=63)
    body = single(api, project, since)
    assert [(r["id"], r["name"], r["working_days"]) for r in body["changes"]["calendars"]["updated"]] == [
        (untouched.pk, "Renamed", 63)]
    assert body["changes"]["calendars"]["deleted"] == []
    assert nothing_listed(body, COLLECTIONS - {"calendars"})


@pytest.mark.django_db
def test_resource_writes_are_in_the_next_delta_and_a_deleted_resource_is_listed_by_id(api, project, owner):
    kept = resource_create(actor=owner, name="Kept")
    since = pulled(api, project)["timestamp"]

    crane = resource_create(actor=owner, name="Crane")
    body = single(api, project, since)
    assert [(r["id"], r["name"]) for r in body["changes"]["resources"]["updated"]] == [(crane.pk, "Crane")]

    since = body["timestamp"]
    resource_update(actor=owner, resource=kept, job_role="Operator")
    body = single(api, project, since)
    assert [(r["id"], r["job_role"]) for r in body["changes"]["resources"]["updated"]] == [(kept.pk, "Operator")]
    assert body["changes"]["resources"]["deleted"] == []

    since = body["timestamp"]
    resource_delete(actor=owner, resource=crane)
    body = single(api, project, since)
    assert ids(body, "resources") == []
    assert ids(body, "resources", "deleted") == [crane.pk]
    assert nothing_listed(body, COLLECTIONS - {"resources"})


@pytest.mark.django_db
def test_a_delta_lists_no_workspace_rows_when_no_calendar_or_resource_changed(api, project, owner):
    calendar_create(actor=owner, name="Site")
    resource_create(actor=owner, name="Crane")
    task = task_create(actor=owner, project=project, name="A")
    since = pulled(api, project)["timestamp"]
    task_update(actor=owner, task=task, name="A2")

    body = single(api, project, since)

    assert ids(body, "tasks") == [task.pk]
    assert nothing_listed(body, {"calendars", "resources"})


@pytest.mark.django_db
def test_a_pull_appends_a_sync_mark_only_when_the_workspace_moved(api, project, owner):
    def marks():
        return list(ChangeEvent.objects.filter(stream__project=project, entity="sync_mark")
                    .order_by("seq").values_list("seq", "changes"))

    first = pulled(api, project)["timestamp"]
    assert pulled(api, project)["timestamp"] == first
    assert marks() == []  # the workspace has not moved since the project was made

    crane = resource_create(actor=owner, name="Crane")
    workspace = ChangeStream.objects.get(key="workspace").last_seq
    second = pulled(api, project, last_pulled_at=first)
    assert second["timestamp"] == first + 1
    assert marks() == [(first + 1, {"workspace_seq": workspace})]
    assert ids(second, "resources") == [crane.pk]

    again = pulled(api, project, last_pulled_at=second["timestamp"])
    assert again["timestamp"] == second["timestamp"]
    assert nothing_listed(again)
    assert pulled(api, project)["timestamp"] == second["timestamp"]
    assert len(marks()) == 1


@pytest.mark.django_db
def test_a_workspace_write_made_while_paging_a_delta_is_left_to_the_next_pull(api, project, owner):
    tasks = [task_create(actor=owner, project=project, name=f"T{n}") for n in range(3)]
    since = pulled(api, project)["timestamp"]
    for task in tasks:
        task_update(actor=owner, task=task, name=f"{task.name}!")
    page1 = pulled(api, project, page_size=1, last_pulled_at=since)
    crane = resource_create(actor=owner, name="Crane")  # the workspace moves after the pull started
    pages = [page1]
    while pages[-1]["next_cursor"]:
        pages.append(pulled(api, project, page_size=1, cursor=pages[-1]["next_cursor"]))
    assert listed(pages) == [("tasks", t.pk) for t in tasks]
    assert {p["timestamp"] for p in pages} == {page1["timestamp"]}

    body = single(api, project, page1["timestamp"])
    assert ids(body, "resources") == [crane.pk]
    assert nothing_listed(body, COLLECTIONS - {"resources"})


@pytest.mark.django_db
def test_a_workspace_write_made_while_paging_a_full_pull_is_in_the_next_pull(api, project, owner):
    for n in range(3):
        task_create(actor=owner, project=project, name=f"T{n}")
    page1 = pulled(api, project, page_size=1)
    crane = resource_create(actor=owner, name="Crane")
    pages = [page1]
    while pages[-1]["next_cursor"]:
        pages.append(pulled(api, project, page_size=1, cursor=pages[-1]["next_cursor"]))
    assert {p["timestamp"] for p in pages} == {page1["timestamp"]}

    body = single(api, project, page1["timestamp"])
    assert ids(body, "resources") == [crane.pk]


# ---------------------------------------------------------------- tombstones and restores

@pytest.mark.django_db
def test_a_deleted_task_is_listed_with_its_links_and_assignments_and_a_restored_one_comes_back(
        api, project, owner):

    a = task_create(actor=owner, project=project, name="A", duration=1)
    b = task_create(actor=owner, project=project, name="B", duration=1)
    child = task_create(actor=owner, project=project, name="B.1", duration=1, parent=b)
    other = task_create(actor=owner, project=project, name="Other", duration=1)
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    kept_link = dependency_create(actor=owner, predecessor=a, successor=other)
    crane = resource_create(actor=owner, name="Crane")
    booking = assignment_create(actor=owner, work_item=child, resource=crane)
    kept_booking = assignment_create(actor=owner, work_item=a, resource=crane)
    since = pulled(api, project)["timestamp"]

    task_delete(actor=owner, task=b)
    body = single(api, project, since)
    assert ids(body, "tasks", "deleted") == sorted([b.pk, child.pk])
    assert ids(body, "dependencies", "deleted") == [link.pk]
    assert ids(body, "task_resources", "deleted") == [booking.pk]
    assert not {b.pk, child.pk} & set(ids(body, "tasks"))
    assert kept_link.pk not in ids(body, "dependencies") and kept_booking.pk not in ids(body, "task_resources")

    since = body["timestamp"]
    task_restore(actor=owner, task_id=b.pk)
    body = single(api, project, since)
    assert {b.pk, child.pk} <= set(ids(body, "tasks"))
    assert {row["id"]: row["name"] for row in body["changes"]["tasks"]["updated"]}[child.pk] == "B.1"
    assert ids(body, "tasks", "deleted") == []
    assert ids(body, "dependencies") == [link.pk]
    assert ids(body, "task_resources") == [booking.pk]
    assert all(not body["changes"][c]["deleted"] for c in COLLECTIONS)


@pytest.mark.django_db
def test_a_full_pull_lists_no_tombstones(api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    gone = task_create(actor=owner, project=project, name="Gone")
    task_delete(actor=owner, task=gone)
    body = pulled(api, project)
    assert ids(body, "tasks") == [a.pk]
    assert all(body["changes"][c]["deleted"] == [] for c in COLLECTIONS)


# ---------------------------------------------------------------- tombstone retention

def age_events(days, **filters) -> int:
    """Move change events back in time, as if they had been written ``days`` ago."""
    return ChangeEvent.objects.filter(**filters).update(created_at=timezone.now() - dt.timedelta(days=days))


def assert_expired(response) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "sync_point_expired"
    assert body["last_pulled_at"] == [body["detail"]]
    assert "last_pulled_at=0" in body["detail"] and "90-day" in body["detail"]


@pytest.mark.django_db
def test_a_timestamp_whose_next_change_is_older_than_the_retention_must_pull_everything_again(
        api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    since = pulled(api, project)["timestamp"]
    task_delete(actor=owner, task=a)
    assert age_events(91, stream__project=project, seq__gt=since) >= 1

    assert_expired(pull(api, project, last_pulled_at=since))
    everything = pulled(api, project, last_pulled_at=0)
    assert ids(everything, "tasks") == [] and ids(everything, "projects") == [project.pk]


@pytest.mark.django_db
def test_a_change_just_inside_the_retention_is_still_served(api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    since = pulled(api, project)["timestamp"]
    task_delete(actor=owner, task=a)
    age_events(89, stream__project=project, seq__gt=since)

    body = single(api, project, since)
    assert ids(body, "tasks", "deleted") == [a.pk]


@pytest.mark.django_db
def test_the_retention_period_comes_from_the_setting(api, project, owner, settings):
    settings.KEELPLAN_TOMBSTONE_RETENTION_DAYS = 2
    a = task_create(actor=owner, project=project, name="A")
    since = pulled(api, project)["timestamp"]
    task_update(actor=owner, task=a, name="A2")
    age_events(1, stream__project=project, seq__gt=since)
    assert ids(single(api, project, since), "tasks") == [a.pk]

    age_events(3, stream__project=project, seq__gt=since)
    response = pull(api, project, last_pulled_at=since)
    assert response.status_code == 400
    assert response.json()["code"] == "sync_point_expired"
    assert "2-day" in response.json()["detail"]


@pytest.mark.django_db
def test_a_quiet_project_is_served_however_old_the_timestamp(api, project, owner):
    task = task_create(actor=owner, project=project, name="A")
    since = pulled(api, project)["timestamp"]
    age_events(400, stream__project=project)  # everything up to and including the client's pull is old
    age_events(400, stream__key="workspace")

    body = single(api, project, since)
    assert body["timestamp"] == since
    assert nothing_listed(body)
    task_update(actor=owner, task=task, name="A2")  # a fresh change after the old timestamp
    assert ids(single(api, project, since), "tasks") == [task.pk]


@pytest.mark.django_db
def test_an_old_workspace_change_after_the_timestamp_expires_it_too(api, project, owner):
    crane = resource_create(actor=owner, name="Crane")
    since = pulled(api, project)["timestamp"]
    resource_delete(actor=owner, resource=crane)
    assert age_events(91, stream__key="workspace", entity="resource", action="deleted") == 1

    assert_expired(pull(api, project, last_pulled_at=since))


@pytest.mark.django_db
def test_a_push_from_an_expired_timestamp_is_refused_and_applies_nothing(api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    b = task_create(actor=owner, project=project, name="B")
    since = pulled(api, project)["timestamp"]
    task_update(actor=owner, task=b, name="B2")
    age_events(91, stream__project=project, seq__gt=since)
    last_seq = ChangeStream.objects.get(project=project).last_seq
    batch = {"client_batch_id": str(uuid.uuid4()), "last_pulled_at": since, "changes": {"tasks": {
        "created": [{"uid": str(uuid.uuid4()), "name": "Offline"}],
        "updated": [{"id": a.pk, "name": "A offline"}],
        "deleted": [b.pk]}}}

    response = api.post(f"/api/v1/projects/{project.pk}/sync/", batch, format="json")

    assert_expired(response)
    assert sorted(WorkItem.objects.filter(project=project).values_list("name", flat=True)) == ["A", "B2"]
    assert ChangeStream.objects.get(project=project).last_seq == last_seq
    assert not SyncBatch.objects.exists()


# ---------------------------------------------------------------- cursors

@pytest.mark.django_db
def test_a_tampered_cursor_is_refused(api, project, owner):
    for n in range(3):
        task_create(actor=owner, project=project, name=f"T{n}")
    cursor = pulled(api, project, page_size=1)["next_cursor"]
    head, _, signature = cursor.rpartition(":")
    tampered = f"{head}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"

    for bad in (tampered, cursor[1:], "not-a-cursor"):
        response = pull(api, project, page_size=1, cursor=bad)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_cursor"
        assert list(response.json()["cursor"]) == [response.json()["detail"]]


@pytest.mark.django_db
def test_a_cursor_from_another_projects_pull_is_refused(api, project, owner):
    other = make_project(owner, name="Other")
    for n in range(3):
        task_create(actor=owner, project=other, name=f"T{n}")
    cursor = pulled(api, other, page_size=1)["next_cursor"]
    assert cursor

    response = pull(api, project, page_size=1, cursor=cursor)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert response.json()["cursor"] == ["This cursor belongs to another project's pull."]


# ---------------------------------------------------------------- computed schedule changes

@pytest.mark.django_db
def test_tasks_moved_by_one_edit_are_paged_through_the_schedule_runs_each_exactly_once(api, project, owner):
    """Successors of P in blocks of consecutive ids, separated by tasks the edit does not move, so the schedule
    event names several runs and small pages start and end inside them."""
    task_create(actor=owner, project=project, name="Anchor", duration=60)  # sets the finish; never moves
    blocks, still = [], []
    for block in range(3):
        blocks.append([task_create(actor=owner, project=project, name=f"S{block}.{n}", duration=1) for n in range(4)])
        still.append(task_create(actor=owner, project=project, name=f"U{block}", duration=1))
    p = task_create(actor=owner, project=project, name="P", duration=2)
    moved = [t for block in blocks for t in block]
    for successor in moved:
        dependency_create(actor=owner, predecessor=p, successor=successor, lag=0, lag_unit="wd")
    since = pulled(api, project)["timestamp"]

    task_update(actor=owner, task=p, duration=5)
    pages = pull_pages(api, project, 3, last_pulled_at=since)

    listed_tasks = [pk for c, pk in listed(pages) if c == "tasks"]
    assert listed_tasks == sorted([t.pk for t in moved] + [p.pk])
    assert [c for c, _ in listed(pages)] == ["projects"] + ["tasks"] * len(listed_tasks)
    assert listed(pages, "deleted") == []
    assert len(pages) == -(-(len(listed_tasks) + 1) // 3)
    rows = {row["id"]: row for page in pages for row in page["changes"]["tasks"]["updated"]}
    assert {rows[t.pk]["early_start"] for t in moved} == {"2026-01-12"}  # P: Mon 5 .. Fri 9
    assert rows[p.pk]["duration"] == 5


# ---------------------------------------------------------------- permissions

@pytest.mark.django_db
def test_a_viewer_pulls_the_same_rows_as_the_owner(api, project, owner, members):
    a = task_create(actor=owner, project=project, name="A")
    as_viewer = pulled(client_for(members["viewer"]), project)
    as_owner = pulled(api, project)
    assert ids(as_viewer, "tasks") == [a.pk]
    assert as_viewer["changes"]["tasks"] == as_owner["changes"]["tasks"]
    assert as_viewer["changes"]["projects"]["updated"][0]["my_role_label"] == "Viewer"


@pytest.mark.django_db
def test_a_non_member_learns_nothing_about_the_project(project, owner, outsider):
    task_create(actor=owner, project=project, name="Secret")
    response = pull(client_for(outsider), project)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "Secret" not in response.content.decode()


@pytest.mark.django_db
def test_a_member_removed_while_paging_cannot_fetch_the_next_page(project, owner, members):
    for n in range(3):
        task_create(actor=owner, project=project, name=f"T{n}")
    viewer = client_for(members["viewer"])
    cursor = pulled(viewer, project, page_size=1)["next_cursor"]
    membership_remove(actor=owner, membership=Membership.objects.get(project=project, user=members["viewer"]))
    response = pull(viewer, project, page_size=1, cursor=cursor)
    assert response.status_code == 404
    assert "T1" not in response.content.decode()


# ---------------------------------------------------------------- rows whose rendering changed without their own event

@pytest.mark.django_db
def test_a_delta_lists_the_project_when_the_scheduler_moved_its_finish(api, project, owner):
    a = task_create(actor=owner, project=project, name="A", duration=2)
    first = pulled(api, project)
    assert first["changes"]["projects"]["updated"][0]["finish_date"] == "2026-01-06"

    task_update(actor=owner, task=a, duration=5)
    body = single(api, project, first["timestamp"])

    assert ids(body, "tasks") == [a.pk]
    assert [row["finish_date"] for row in body["changes"]["projects"]["updated"]] == ["2026-01-09"]


@pytest.mark.django_db
def test_a_delta_lists_the_project_with_its_new_scheduled_at_when_a_computation_moved_tasks(api, project, owner):
    anchor = task_create(actor=owner, project=project, name="Anchor", duration=10)  # sets the finish
    short = task_create(actor=owner, project=project, name="Short", duration=1)
    since = pulled(api, project)["timestamp"]

    task_update(actor=owner, task=short, duration=3)  # Short's dates and float move; the finish does not
    body = single(api, project, since)

    assert ids(body, "tasks") == [short.pk]
    assert anchor.pk not in ids(body, "tasks")
    fetched = api.get(f"/api/v1/projects/{project.pk}/").json()
    assert [row["scheduled_at"] for row in body["changes"]["projects"]["updated"]] == [fetched["scheduled_at"]]


@pytest.mark.django_db
def test_a_delta_lists_a_parent_whose_is_summary_changed_when_a_child_was_added_or_moved_out(api, project, owner):
    parent = task_create(actor=owner, project=project, name="Parent", duration=2)
    since = pulled(api, project)["timestamp"]

    child = task_create(actor=owner, project=project, name="Child", duration=2, parent=parent)
    body = single(api, project, since)
    rows = {row["id"]: row for row in body["changes"]["tasks"]["updated"]}
    assert child.pk in rows
    assert parent.pk in rows and rows[parent.pk]["is_summary"] is True

    task_update(actor=owner, task=child, parent=None)
    body = single(api, project, body["timestamp"])
    rows = {row["id"]: row for row in body["changes"]["tasks"]["updated"]}
    assert parent.pk in rows and rows[parent.pk]["is_summary"] is False


@pytest.mark.django_db
def test_a_delta_lists_assignments_whose_resource_was_renamed(api, project, owner):
    a = task_create(actor=owner, project=project, name="A")
    crane = resource_create(actor=owner, name="Crane")
    booking = assignment_create(actor=owner, work_item=a, resource=crane)
    since = pulled(api, project)["timestamp"]

    resource_update(actor=owner, resource=crane, name="Tower crane")
    body = single(api, project, since)

    assert ids(body, "resources") == [crane.pk]
    assert [(r["id"], r["resource_name"]) for r in body["changes"]["task_resources"]["updated"]] == [
        (booking.pk, "Tower crane")]


@pytest.mark.django_db
def test_a_delta_lists_the_project_when_the_pullers_own_role_changed(project, owner, members):
    viewer = client_for(members["viewer"])
    since = pulled(viewer, project)["timestamp"]
    membership = Membership.objects.get(project=project, user=members["viewer"])
    membership_change_role(actor=owner, membership=membership, role=Role.SCHEDULER)

    body = single(viewer, project, since)

    assert ids(body, "memberships") == [membership.pk]
    assert [(r["my_role"], r["my_role_label"]) for r in body["changes"]["projects"]["updated"]] == [
        (Role.SCHEDULER, "Scheduler")]


@pytest.mark.django_db
def test_pulled_tasks_and_links_are_rendered_exactly_as_their_serializers_render_them(api, project, owner, members):
    """The pull renders tasks and links from tuples, not through the serializers: the two must agree."""
    import datetime as dt

    from keelplan.api.v1 import serializers as s
    from keelplan.calendars.services import calendar_create
    from keelplan.planning.models import Dependency, WorkItem

    site = calendar_create(actor=owner, name="Site", working_days=63)
    phase = task_create(actor=owner, project=project, name="Phase – ünïcode")
    a = task_create(actor=owner, project=project, name="A", parent=phase, duration=3,
                    constraint_type="SNET", constraint_date=dt.date(2026, 2, 2), percent_complete=37.5,
                    assignee=members["member"], calendar=site, deadline=dt.date(2026, 3, 1), description="Why")
    b = task_create(actor=owner, project=project, name="B", duration=0, constraint_type="MFO",
                    constraint_date=dt.date(2026, 2, 20), actual_start=dt.date(2026, 1, 6))
    c = task_create(actor=owner, project=project, name="C", scheduling_mode="manual",
                    manual_start=dt.date(2026, 1, 7), manual_finish=dt.date(2026, 1, 9))
    dependency_create(actor=owner, predecessor=a, successor=b, dep_type="SS", lag=2, lag_unit="wd",
                      description="Crew")
    link = dependency_create(actor=owner, predecessor=b, successor=c, lag=-1)
    # A timestamp on a whole second is printed without a fraction; the database prints them on PostgreSQL.
    whole = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.timezone.utc)
    WorkItem.objects.filter(pk=c.pk).update(created_at=whole)
    Dependency.objects.filter(pk=link.pk).update(updated_at=whole)

    rows = []
    cursor = None
    while True:
        body = pull(api, project, page_size=2, **({"cursor": cursor} if cursor else {})).json()
        rows.append(body)
        cursor = body["next_cursor"]
        if not cursor:
            break
    pulled_tasks = [row for page in rows for row in page["changes"]["tasks"]["updated"]]
    pulled_links = [row for page in rows for row in page["changes"]["dependencies"]["updated"]]

    tasks = WorkItem.objects.filter(project=project).order_by("pk")
    assert pulled_tasks == [s.TaskSerializer(t).generic_representation(t) for t in tasks]
    links = Dependency.objects.filter(project=project).order_by("pk")
    assert pulled_links == s.DependencySerializer(links, many=True).data
    assert len(pulled_tasks) == 4 and len(pulled_links) == 2
