"""POST /api/v1/projects/{id}/sync/: the push side of offline sync -- rows created offline mapped from their uids,
replayed batches, field-by-field merges with conflicts reported, all or nothing, roles per row, one reschedule
per batch, and the WatermelonDB row shape."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest

from keelplan.planning.bulk import tasks_bulk_apply
from keelplan.planning.models import Dependency, WorkItem
from keelplan.planning.services import dependency_create, task_create, task_delete, task_update
from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.sync.models import SyncBatch

from conftest import client_for, make_project

from .contract import assert_error, db_state, json_body

pytestmark = pytest.mark.django_db
NO_CONFLICTS = {"tasks": [], "dependencies": []}


def url(project) -> str:
    return f"/api/v1/projects/{project.pk}/sync/"


def new_uid() -> str:
    return str(uuid.uuid4())


def batch(changes, *, last_pulled_at=0, client_batch_id=None) -> dict:
    """A push body. ``last_pulled_at=0`` is a client that never pulled: every field of every existing row then
    counts as changed since its copy, so tests that edit or delete existing rows pull first."""
    return {"client_batch_id": client_batch_id or new_uid(), "last_pulled_at": last_pulled_at, "changes": changes}


def push(client, project, changes, *, last_pulled_at=0, client_batch_id=None):
    body = batch(changes, last_pulled_at=last_pulled_at, client_batch_id=client_batch_id)
    return client.post(url(project), body, format="json")


def pushed(client, project, changes, **kwargs) -> dict:
    """The answer to a push that must succeed."""
    response = push(client, project, changes, **kwargs)
    body = json_body(response)
    assert response.status_code == 200, body
    assert "Idempotent-Replay" not in response
    return body


def pull_timestamp(client, project) -> int:
    response = client.get(url(project))
    assert response.status_code == 200, json_body(response)
    return response.json()["timestamp"]


def fingerprint() -> dict:
    """``db_state`` (row counts, versions, the change log and stream positions) plus the stored batches."""
    return {**db_state(), "SyncBatch": SyncBatch.objects.count()}


def assert_nothing_written(before: dict, what: str = "") -> None:
    after = fingerprint()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"{what}: a refused push wrote to the database: {changed}"


def last_seq(project) -> int:
    return ChangeStream.objects.get(project=project).last_seq


def events_after(project, seq: int, entity: str | None = None):
    events = ChangeEvent.objects.filter(stream__project=project, seq__gt=seq)
    return events.filter(entity=entity) if entity else events


def fresh(task) -> WorkItem:
    return WorkItem.all_objects.get(pk=task.pk)


def working_day(start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day (Monday to Friday) after ``start``."""
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= day.weekday() < 5
    return day


@pytest.fixture
def site(linked_pair_and_loner):
    return linked_pair_and_loner


@pytest.fixture
def someone_else(members):
    """A second writer with the rights to change anything (an Admin), next to the pushing owner."""
    return members["admin"]


# ---------------------------------------------------------------- created offline

def test_tasks_and_links_created_offline_get_ids_mapped_from_their_uids(api, project, site):
    existing = site["c"]
    since = pull_timestamp(api, project)
    phase, step, paint, into, out_of, batch_id = (new_uid() for _ in range(6))
    body = pushed(api, project, {
        "tasks": {"created": [
            {"uid": step, "name": "Step", "parent": phase, "duration": 3},   # parent named before it is listed
            {"uid": phase, "name": "Phase"},
            {"uid": paint, "name": "Paint", "duration": 2, "description": "two coats"},
        ]},
        "dependencies": {"created": [
            {"uid": into, "predecessor": step, "successor": existing.pk, "lag": 1, "lag_unit": "wd"},
            {"uid": out_of, "predecessor": str(existing.uid), "successor": paint, "dep_type": "SS"},
        ]},
    }, last_pulled_at=since, client_batch_id=batch_id)

    created = {row["uid"]: row for row in body["applied"]["tasks"]["created"]}
    assert [row["uid"] for row in body["applied"]["tasks"]["created"]] == [step, phase, paint]
    assert all(set(row) == {"id", "uid", "lock_version"} and row["lock_version"] == 0 for row in created.values())
    rows = {uid: WorkItem.objects.get(pk=row["id"]) for uid, row in created.items()}
    assert {uid: str(row.uid) for uid, row in rows.items()} == {uid: uid for uid in created}
    assert (rows[step].name, rows[step].duration, rows[step].parent_id) == ("Step", 3, rows[phase].pk)
    assert (rows[phase].name, rows[phase].parent_id) == ("Phase", None)
    assert (rows[paint].duration, rows[paint].description, rows[paint].project_id) == (2, "two coats", project.pk)

    links = {row["uid"]: row for row in body["applied"]["dependencies"]["created"]}
    assert set(links) == {into, out_of}
    first, second = Dependency.objects.get(pk=links[into]["id"]), Dependency.objects.get(pk=links[out_of]["id"])
    assert (str(first.uid), first.predecessor_id, first.successor_id, first.lag, first.lag_unit, first.dep_type) \
        == (into, rows[step].pk, existing.pk, 1, "wd", "FS")
    assert (str(second.uid), second.predecessor_id, second.successor_id, second.dep_type) \
        == (out_of, existing.pk, rows[paint].pk, "SS")

    assert body["conflicts"] == NO_CONFLICTS
    assert body["applied"]["tasks"]["updated"] == [] and body["applied"]["tasks"]["deleted"] == []
    # The answer's timestamp covers the batch's own rows; the reschedule comes after it, so the next pull from
    # there brings the dates the scheduler moved.
    assert body["client_batch_id"] == batch_id
    assert events_after(project, since).filter(seq__lte=body["timestamp"]).count() == 3 + 2
    assert events_after(project, body["timestamp"]).values_list("entity", flat=True).get() == "schedule"


def test_a_created_row_pushed_again_in_a_new_batch_is_not_duplicated(api, project):
    since = pull_timestamp(api, project)
    hull, deck = new_uid(), new_uid()
    changes = {"tasks": {"created": [{"uid": hull, "name": "Hull", "duration": 4},
                                     {"uid": deck, "name": "Deck"}]}}
    first = pushed(api, project, changes, last_pulled_at=since)
    ids = {row["uid"]: row["id"] for row in first["applied"]["tasks"]["created"]}
    before = fingerprint()

    again = pushed(api, project, changes, last_pulled_at=since)   # the answer was lost; a new batch id

    assert WorkItem.all_objects.filter(uid__in=[hull, deck]).count() == 2
    assert again["applied"]["tasks"]["created"] == []
    assert sorted((r["id"], r["lock_version"]) for r in again["applied"]["tasks"]["updated"]) == sorted(
        [(ids[hull], 0), (ids[deck], 0)])
    assert again["conflicts"] == NO_CONFLICTS
    after = fingerprint()
    assert after["WorkItem"] == before["WorkItem"] and after["ChangeEvent"] == before["ChangeEvent"]
    assert after["SyncBatch"] == before["SyncBatch"] + 1


def test_a_created_row_pushed_again_with_new_values_updates_the_row_it_made(api, project):
    hull = new_uid()
    first = pushed(api, project, {"tasks": {"created": [{"uid": hull, "name": "Hull"}]}})
    (made,) = first["applied"]["tasks"]["created"]
    again = pushed(api, project, {"tasks": {"created": [{"uid": hull, "name": "Hull", "duration": 6}]}},
                   last_pulled_at=first["timestamp"])
    assert again["applied"]["tasks"] == {"created": [], "updated": [{"id": made["id"], "lock_version": 1, "merged": {}}],
                                         "deleted": []}
    assert WorkItem.objects.filter(uid=hull).values_list("id", "duration").get() == (made["id"], 6)


def test_a_retried_create_that_names_new_rows_by_uid_is_no_conflict(api, project, site):
    """The whole batch re-sent after a lost answer: rows referring to each other by uid are the client's own
    values, unchanged, so nothing conflicts and nothing is duplicated."""
    since = pull_timestamp(api, project)
    phase, step, link = new_uid(), new_uid(), new_uid()
    changes = {
        "tasks": {"created": [{"uid": phase, "name": "Phase"}, {"uid": step, "name": "Step", "parent": phase}]},
        "dependencies": {"created": [{"uid": link, "predecessor": step, "successor": site["c"].pk}]},
    }
    pushed(api, project, changes, last_pulled_at=since)
    again = pushed(api, project, changes, last_pulled_at=since)
    assert WorkItem.all_objects.filter(uid__in=[phase, step]).count() == 2
    assert Dependency.all_objects.filter(uid=link).count() == 1
    assert again["conflicts"] == NO_CONFLICTS


def test_a_second_push_without_pulling_uses_the_returned_lock_version_as_base_version(api, project):
    since = pull_timestamp(api, project)
    draft = new_uid()
    first = pushed(api, project, {"tasks": {"created": [{"uid": draft, "name": "Draft"}]}}, last_pulled_at=since)
    (made,) = first["applied"]["tasks"]["created"]

    # Own earlier pushes count as changes since last_pulled_at: without base_version the rename conflicts ...
    clash = pushed(api, project, {"tasks": {"updated": [{"uid": draft, "name": "Final"}]}}, last_pulled_at=since)
    assert [(c["reason"], c["conflict_fields"]) for c in clash["conflicts"]["tasks"]] == [("changed", ["name"])]
    assert WorkItem.objects.get(uid=draft).name == "Draft"
    # ... and with the lock_version the first push returned, it applies.
    body = pushed(api, project, {"tasks": {"updated": [{"uid": draft, "name": "Final",
                                                        "base_version": made["lock_version"]}]}},
                  last_pulled_at=since)
    assert body["conflicts"] == NO_CONFLICTS
    assert body["applied"]["tasks"]["updated"] == [{"id": made["id"], "lock_version": 1, "merged": {}}]
    assert WorkItem.objects.get(uid=draft).name == "Final"


# ---------------------------------------------------------------- replays

def test_a_replayed_batch_gets_the_stored_answer_and_writes_nothing(api, project, owner, site):
    a = site["a"]
    new = new_uid()
    body = batch({"tasks": {"created": [{"uid": new, "name": "Fresh"}], "updated": [{"id": a.pk, "duration": 4}]}},
                 last_pulled_at=pull_timestamp(api, project))
    first = api.post(url(project), body, format="json")
    assert first.status_code == 200, json_body(first)
    assert "Idempotent-Replay" not in first
    task_update(actor=owner, task=fresh(a), name="A renamed")   # the server moves on; the answer is the old one
    before = fingerprint()

    replay = api.post(url(project), body, format="json")

    assert replay.status_code == 200, json_body(replay)
    assert replay["Idempotent-Replay"] == "true"
    assert json_body(replay) == json_body(first)
    assert_nothing_written(before, "replay")
    # The same JSON object with its keys in another order is the same batch.
    reordered = api.post(url(project), {key: body[key] for key in reversed(list(body))}, format="json")
    assert (reordered.status_code, reordered.get("Idempotent-Replay")) == (200, "true")
    assert json_body(reordered) == json_body(first)
    assert_nothing_written(before, "replay of the reordered body")
    assert WorkItem.objects.filter(uid=new).count() == 1
    assert (fresh(a).duration, fresh(a).lock_version) == (4, 2)


def test_a_batch_id_reused_for_other_changes_is_refused(api, project, site):
    batch_id, since = new_uid(), pull_timestamp(api, project)
    pushed(api, project, {"tasks": {"updated": [{"id": site["a"].pk, "duration": 4}]}}, client_batch_id=batch_id,
           last_pulled_at=since)
    before = fingerprint()
    response = push(api, project, {"tasks": {"updated": [{"id": site["a"].pk, "duration": 5}]}},
                    client_batch_id=batch_id, last_pulled_at=since)
    body = assert_error(response, 409, field="client_batch_id", code="client_batch_id_reused")
    assert "detail" in body
    assert_nothing_written(before, "reused batch id")
    assert fresh(site["a"]).duration == 4


def test_another_user_may_use_the_same_batch_id(api, project, members, site):
    batch_id, since = new_uid(), pull_timestamp(api, project)
    pushed(api, project, {"tasks": {"updated": [{"id": site["a"].pk, "duration": 4}]}}, client_batch_id=batch_id,
           last_pulled_at=since)
    body = pushed(client_for(members["admin"]), project, {"tasks": {"updated": [{"id": site["b"].pk, "duration": 6}]}},
                  client_batch_id=batch_id, last_pulled_at=since)
    assert body["applied"]["tasks"]["updated"] == [{"id": site["b"].pk, "lock_version": 1, "merged": {}}]
    assert (fresh(site["a"]).duration, fresh(site["b"]).duration) == (4, 6)
    assert SyncBatch.objects.filter(client_batch_id=batch_id).count() == 2


# ---------------------------------------------------------------- conflicts

def test_a_field_changed_on_the_server_since_the_pull_is_reported_and_the_rest_merged(api, project, site,
                                                                                       someone_else):
    x = site["c"]
    since = pull_timestamp(api, project)
    patched = client_for(someone_else).patch(f"/api/v1/tasks/{x.pk}/", {"duration": 5}, format="json")
    assert patched.status_code == 200, json_body(patched)

    body = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "duration": 7, "name": "C renamed"}]}},
                  last_pulled_at=since)

    now = fresh(x)
    assert (now.duration, now.name) == (5, "C renamed")
    assert body["applied"]["tasks"]["updated"] == [{"id": x.pk, "lock_version": now.lock_version, "merged": {}}]
    (conflict,) = body["conflicts"]["tasks"]
    assert body["conflicts"]["dependencies"] == []
    expected = {"where": "tasks.updated[0]", "id": x.pk, "uid": str(x.uid), "reason": "changed",
                "conflict_fields": ["duration"], "server_value": {"duration": 5}, "client_value": {"duration": 7},
                "server_deleted": False}
    assert {k: v for k, v in conflict.items() if k != "server_version"} == expected
    assert conflict["server_version"] == now.lock_version, "server_version is not the task's current lock_version"


def test_resolving_a_conflict_with_its_server_version_as_base_version_applies_the_client_value(
        api, project, site, someone_else):
    x = site["c"]
    since = pull_timestamp(api, project)
    task_update(actor=someone_else, task=fresh(x), duration=5)
    first = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "duration": 7, "name": "C renamed"}]}},
                   last_pulled_at=since)
    (conflict,) = first["conflicts"]["tasks"]

    # The user keeps their duration: the client pushes it again over the version the conflict reported.
    body = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "duration": 7,
                                                        "base_version": conflict["server_version"]}]}},
                  last_pulled_at=since)
    assert body["conflicts"] == NO_CONFLICTS
    assert fresh(x).duration == 7


def test_fields_changed_on_both_sides_without_overlap_merge_without_conflict(api, project, site, someone_else):
    x = site["c"]
    since = pull_timestamp(api, project)
    task_update(actor=someone_else, task=fresh(x), name="C by someone else", percent_complete=20)
    body = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "duration": 7, "description": "offline"}]}},
                  last_pulled_at=since)
    assert body["conflicts"] == NO_CONFLICTS
    now = fresh(x)
    assert (now.name, float(now.percent_complete), now.duration, now.description) == (
        "C by someone else", 20.0, 7, "offline")
    # The answer carries what the other writer changed, so the client's copy becomes version 2 exactly.
    assert body["applied"]["tasks"]["updated"] == [
        {"id": x.pk, "lock_version": 2, "merged": {"name": "C by someone else", "percent_complete": 20.0}}]


def test_sending_the_value_the_server_already_has_is_no_conflict(api, project, site, someone_else):
    x = site["c"]
    since = pull_timestamp(api, project)
    task_update(actor=someone_else, task=fresh(x), duration=5)
    seq = last_seq(project)
    body = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "duration": 5}]}}, last_pulled_at=since)
    assert body["conflicts"] == NO_CONFLICTS
    assert body["applied"]["tasks"]["updated"] == [{"id": x.pk, "lock_version": 1, "merged": {}}]
    assert (fresh(x).duration, fresh(x).lock_version) == (5, 1)
    assert not events_after(project, seq, "work_item").exists()


def test_a_base_version_equal_to_the_current_lock_version_overrides_the_log(api, project, site, someone_else):
    x = site["c"]
    since = pull_timestamp(api, project)
    task_update(actor=someone_else, task=fresh(x), duration=5)   # lock_version 0 -> 1

    stale = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "duration": 7, "base_version": 0}]}},
                   last_pulled_at=since)
    assert [c["conflict_fields"] for c in stale["conflicts"]["tasks"]] == [["duration"]]
    assert fresh(x).duration == 5

    body = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "duration": 7, "base_version": 1}]}},
                  last_pulled_at=since)
    assert body["conflicts"] == NO_CONFLICTS
    assert body["applied"]["tasks"]["updated"] == [{"id": x.pk, "lock_version": 2, "merged": {}}]
    assert fresh(x).duration == 7


def test_planned_start_conflicts_on_both_constraint_fields(api, project, owner, someone_else):
    x = task_create(actor=owner, project=project, name="Launch", constraint_type="MSO",
                    constraint_date=dt.date(2026, 2, 2))
    since = pull_timestamp(api, project)
    task_update(actor=someone_else, task=fresh(x), constraint_date=dt.date(2026, 2, 9))   # still MSO

    body = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "planned_start": "2026-03-02",
                                                        "name": "Launch day"}]}}, last_pulled_at=since)

    (conflict,) = body["conflicts"]["tasks"]
    assert (conflict["reason"], conflict["conflict_fields"]) == ("changed", ["constraint_date", "constraint_type"])
    assert conflict["server_value"] == {"constraint_date": "2026-02-09", "constraint_type": "MSO"}
    assert conflict["client_value"] == {"constraint_date": "2026-03-02", "constraint_type": "SNET"}
    now = fresh(x)
    assert (now.constraint_type, now.constraint_date, now.name) == ("MSO", dt.date(2026, 2, 9), "Launch day")


def test_an_update_of_a_task_deleted_on_the_server_is_a_conflict_and_nothing_is_resurrected(
        api, project, site, someone_else):
    x = site["c"]
    since = pull_timestamp(api, project)
    task_delete(actor=someone_else, task=fresh(x))
    version = fresh(x).lock_version

    body = pushed(api, project, {"tasks": {"updated": [{"id": x.pk, "duration": 7}],
                                           "created": [{"uid": new_uid(), "name": "Unrelated"}]}},
                  last_pulled_at=since)

    assert body["conflicts"]["tasks"] == [{
        "where": "tasks.updated[0]", "id": x.pk, "uid": str(x.uid), "reason": "deleted", "conflict_fields": [],
        "server_value": {}, "client_value": {}, "server_version": version, "server_deleted": True,
    }]
    assert body["applied"]["tasks"]["updated"] == []
    assert len(body["applied"]["tasks"]["created"]) == 1
    assert not WorkItem.objects.filter(pk=x.pk).exists()
    assert (fresh(x).duration, fresh(x).lock_version) == (x.duration, version)


def test_a_delete_of_a_task_changed_since_is_a_conflict_and_the_task_stays(api, project, site, someone_else):
    x = site["c"]
    since = pull_timestamp(api, project)
    task_update(actor=someone_else, task=fresh(x), duration=5)

    body = pushed(api, project, {"tasks": {"deleted": [x.pk]}}, last_pulled_at=since)

    (conflict,) = body["conflicts"]["tasks"]
    assert (conflict["where"], conflict["id"], conflict["reason"], conflict["conflict_fields"]) == (
        "tasks.deleted[0]", x.pk, "changed", ["duration"])
    assert conflict["server_value"] == {"duration": 5}
    assert (conflict["server_version"], conflict["server_deleted"]) == (1, False)
    assert body["applied"]["tasks"]["deleted"] == []
    assert WorkItem.objects.filter(pk=x.pk).exists()


@pytest.mark.parametrize("base_version", [None, 0], ids=["bare-id", "with-base-version"])
def test_a_delete_of_a_task_whose_subtask_changed_since_is_a_conflict(api, project, owner, someone_else,
                                                                      base_version):
    phase = task_create(actor=owner, project=project, name="Phase")
    step = task_create(actor=owner, project=project, name="Step", parent=phase)
    since = pull_timestamp(api, project)
    task_update(actor=someone_else, task=fresh(step), duration=4)
    assert fresh(phase).lock_version == 0   # the parent itself is as the client saw it

    row = phase.pk if base_version is None else {"id": phase.pk, "base_version": base_version}
    body = pushed(api, project, {"tasks": {"deleted": [row]}}, last_pulled_at=since)

    assert body["applied"]["tasks"]["deleted"] == [], "the subtask's change was deleted unseen"
    assert WorkItem.objects.filter(pk__in=[phase.pk, step.pk]).count() == 2
    (conflict,) = body["conflicts"]["tasks"]
    assert (conflict["where"], conflict["id"], conflict["reason"]) == ("tasks.deleted[0]", phase.pk, "changed")
    assert conflict["conflict_fields"] == ["subtasks"]


def test_a_created_link_duplicating_an_existing_one_is_a_conflict_and_the_rest_applies(
        api, project, site, someone_else):
    b, c = site["b"], site["c"]
    since = pull_timestamp(api, project)
    twin = dependency_create(actor=someone_else, predecessor=fresh(b), successor=fresh(c))
    mine, other = new_uid(), new_uid()

    body = pushed(api, project, {
        "tasks": {"updated": [{"id": c.pk, "name": "C renamed"}]},
        "dependencies": {"created": [{"uid": mine, "predecessor": b.pk, "successor": c.pk},
                                     {"uid": other, "predecessor": site["a"].pk, "successor": c.pk}]},
    }, last_pulled_at=since)

    (conflict,) = body["conflicts"]["dependencies"]
    assert (conflict["where"], conflict["id"], conflict["uid"], conflict["reason"]) == (
        "dependencies.created[0]", twin.pk, mine, "duplicate")
    assert conflict["conflict_fields"] == ["predecessor", "successor"]
    assert (conflict["server_value"]["id"], conflict["server_value"]["predecessor"],
            conflict["server_value"]["successor"]) == (twin.pk, b.pk, c.pk)
    assert Dependency.objects.filter(predecessor=b, successor=c).count() == 1
    assert not Dependency.all_objects.filter(uid=mine).exists()
    assert [row["uid"] for row in body["applied"]["dependencies"]["created"]] == [other]
    assert Dependency.objects.filter(uid=other, predecessor=site["a"], successor=c).exists()
    assert fresh(c).name == "C renamed"


def test_a_created_link_to_a_task_deleted_on_the_server_is_a_conflict(api, project, site, someone_else):
    b, c = site["b"], site["c"]
    since = pull_timestamp(api, project)
    task_delete(actor=someone_else, task=fresh(c))
    link = new_uid()

    body = pushed(api, project, {"tasks": {"updated": [{"id": b.pk, "name": "B renamed"}]},
                                 "dependencies": {"created": [{"uid": link, "predecessor": b.pk,
                                                               "successor": c.pk}]}},
                  last_pulled_at=since)

    (conflict,) = body["conflicts"]["dependencies"]
    assert (conflict["where"], conflict["id"], conflict["uid"], conflict["reason"], conflict["conflict_fields"]) \
        == ("dependencies.created[0]", None, link, "deleted", ["successor"])
    assert conflict["client_value"] == {"successor": c.pk}
    assert body["applied"]["dependencies"]["created"] == []
    assert not Dependency.all_objects.filter(uid=link).exists()
    assert fresh(b).name == "B renamed"


def test_new_subtasks_under_a_task_deleted_on_the_server_are_held_back(api, project, site, someone_else):
    c = site["c"]
    since = pull_timestamp(api, project)
    task_delete(actor=someone_else, task=fresh(c))
    step, detail, loose = new_uid(), new_uid(), new_uid()

    body = pushed(api, project, {"tasks": {"created": [
        {"uid": detail, "name": "Detail", "parent": step},
        {"uid": step, "name": "Step", "parent": c.pk},
        {"uid": loose, "name": "Loose"},
    ]}}, last_pulled_at=since)

    conflicts = sorted(body["conflicts"]["tasks"], key=lambda x: x["where"])
    assert [(x["where"], x["uid"], x["reason"], x["conflict_fields"]) for x in conflicts] == [
        ("tasks.created[0]", detail, "deleted", ["parent"]), ("tasks.created[1]", step, "deleted", ["parent"])]
    assert [row["uid"] for row in body["applied"]["tasks"]["created"]] == [loose]
    assert not WorkItem.all_objects.filter(uid__in=[step, detail]).exists()
    assert not WorkItem.objects.filter(pk=c.pk).exists()


def test_deleting_an_already_deleted_task_is_listed_as_applied(api, project, site, someone_else):
    c = site["c"]
    since = pull_timestamp(api, project)
    task_delete(actor=someone_else, task=fresh(c))
    seq = last_seq(project)
    body = pushed(api, project, {"tasks": {"deleted": [c.pk]}}, last_pulled_at=since)
    assert body["applied"]["tasks"]["deleted"] == [c.pk]
    assert body["conflicts"] == NO_CONFLICTS
    assert not events_after(project, seq).exists()


# ---------------------------------------------------------------- all or nothing

def refusals(site, foreign_task):
    a, b, c = site["a"].pk, site["b"].pk, site["c"].pk
    valid = [{"id": a, "duration": 4}, {"id": b, "name": "B renamed"}]
    return {
        # id: (changes, field, code)
        "unknown-collection": ({"tasks": {"updated": valid}, "calendars": {"updated": [{"id": 1}]}},
                               "changes.calendars", "invalid"),
        "changes-not-an-object": ([{"tasks": {"updated": valid}}], "changes", "invalid"),
        "unknown-kind": ({"tasks": {"updated": valid, "moved": [{"id": c}]}}, "changes.tasks.moved", "invalid"),
        "kind-not-a-list": ({"tasks": {"updated": {"id": a}}}, "changes.tasks.updated", "invalid"),
        "row-not-an-object": ({"tasks": {"updated": [*valid, "C"]}}, "tasks.updated[2]", "invalid"),
        "created-without-uid": ({"tasks": {"updated": valid, "created": [{"name": "X"}]}},
                                "tasks.created[0].uid", "invalid"),
        "created-with-id": ({"tasks": {"updated": valid, "created": [{"id": c, "uid": new_uid(), "name": "X"}]}},
                            "tasks.created[0].id", "invalid"),
        "created-without-name": ({"tasks": {"created": [{"uid": new_uid()}]}}, "tasks.created[0].name", "invalid"),
        "updated-without-id": ({"tasks": {"updated": [*valid, {"name": "X"}]}}, "tasks.updated[2].id", "invalid"),
        "unknown-id": ({"tasks": {"updated": [*valid, {"id": 999_999_999, "name": "X"}]}}, "tasks.updated[2].id",
                       "invalid"),
        "id-of-another-project": ({"tasks": {"updated": [*valid, {"id": foreign_task, "name": "X"}]}},
                                  "tasks.updated[2].id", "invalid"),
        "unknown-uid": ({"tasks": {"updated": [*valid, {"uid": new_uid(), "name": "X"}]}}, "tasks.updated[2].uid",
                        "invalid"),
        "malformed-duration": ({"tasks": {"updated": [*valid, {"id": c, "duration": "five"}]}},
                               "tasks.updated[2].duration", "invalid"),
        "unknown-delete-after-writes": ({"tasks": {"updated": valid, "deleted": [999_999_999]}},
                                        "tasks.deleted[0].id", "invalid"),
        "updated-and-deleted": ({"tasks": {"updated": valid, "deleted": [a]}}, "tasks.deleted[0]", "invalid"),
        "cycle-of-two-links": ({"tasks": {"updated": valid}, "dependencies": {"created": [
            {"uid": new_uid(), "predecessor": b, "successor": c},
            {"uid": new_uid(), "predecessor": c, "successor": a}]}},
            "dependencies.created[1].predecessor", "cyclic_dependency"),
        "too-many-rows": ({"tasks": {"updated": valid, "deleted": [c] * 4999}}, "changes", "invalid"),
    }


REFUSALS = ("unknown-collection", "changes-not-an-object", "unknown-kind", "kind-not-a-list", "row-not-an-object",
            "created-without-uid", "created-with-id", "created-without-name", "updated-without-id", "unknown-id",
            "id-of-another-project", "unknown-uid", "malformed-duration", "unknown-delete-after-writes",
            "updated-and-deleted", "cycle-of-two-links", "too-many-rows")


@pytest.mark.parametrize("case", REFUSALS)
def test_a_bad_row_refuses_the_whole_batch_naming_it(api, owner, project, site, case):
    from conftest import make_project

    foreign_task = task_create(actor=owner, project=make_project(owner, name="Sister"), name="Far").pk
    changes, field, code = refusals(site, foreign_task)[case]
    since = pull_timestamp(api, project)
    before = fingerprint()
    response = push(api, project, changes, last_pulled_at=since)
    body = assert_error(response, 400, field=field, code=code)
    assert set(body) >= {field, "detail", "code"}
    assert_nothing_written(before, case)
    assert (fresh(site["a"]).duration, fresh(site["b"]).name) == (2, "B")


def test_exactly_the_row_limit_is_accepted(api, project):
    keys = [new_uid() for _ in range(5000)]
    body = pushed(api, project, {"tasks": {"created": [{"uid": k, "name": f"T{n}"} for n, k in enumerate(keys)]}})
    assert [row["uid"] for row in body["applied"]["tasks"]["created"]] == keys
    assert WorkItem.objects.filter(project=project).count() == 5000


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"client_batch_id": None}, "client_batch_id", "invalid"),
    ({"client_batch_id": "not-a-uuid"}, "client_batch_id", "invalid"),
    ({"last_pulled_at": -1}, "last_pulled_at", "invalid"),
    ({"last_pulled_at": "12"}, "last_pulled_at", "invalid"),
    ({"last_pulled_at": 1.5}, "last_pulled_at", "invalid"),
    ({"last_pulled_at": True}, "last_pulled_at", "invalid"),
    ({"last_pulled_at": "future"}, "last_pulled_at", "unknown_sync_point"),
    ({"changes": None}, "changes", "invalid"),
], ids=["no-batch-id", "bad-batch-id", "negative", "string", "float", "bool", "from-the-future", "no-changes"])
def test_a_bad_batch_envelope_is_refused_and_writes_nothing(api, project, site, change, field, code):
    body = batch({"tasks": {"updated": [{"id": site["a"].pk, "duration": 4}]}})
    body.update(change)
    if body["last_pulled_at"] == "future":
        body["last_pulled_at"] = last_seq(project) + 1
    if body["client_batch_id"] is None:
        del body["client_batch_id"]
    if body["changes"] is None:
        del body["changes"]
    before = fingerprint()
    response = api.post(url(project), body, format="json")
    error = assert_error(response, 400, field=field, code=code)
    assert set(error) >= {field, "detail", "code"}
    assert_nothing_written(before, str(change))


# ---------------------------------------------------------------- roles

def test_a_viewer_may_not_push_and_a_non_member_gets_404(project, members, outsider, site):
    changes = {"tasks": {"updated": [{"id": site["a"].pk, "duration": 9}]}}
    before = fingerprint()
    assert_error(push(client_for(members["viewer"]), project, changes), 403, code="permission_denied")
    assert_error(push(client_for(outsider), project, changes), 404, code="not_found")
    assert_nothing_written(before, "viewer / outsider")


def test_a_member_edits_their_own_task_but_not_another(project, members, owner, site):
    member = members["member"]
    task_update(actor=owner, task=fresh(site["a"]), assignee=member)
    client = client_for(member)
    since = pull_timestamp(client, project)
    body = pushed(client, project, {"tasks": {"updated": [{"id": site["a"].pk, "duration": 8}]}}, last_pulled_at=since)
    assert body["applied"]["tasks"]["updated"] == [{"id": site["a"].pk, "lock_version": 2, "merged": {}}]
    assert fresh(site["a"]).duration == 8

    before = fingerprint()
    response = push(client, project, {"tasks": {"updated": [{"id": site["a"].pk, "duration": 1},
                                                            {"id": site["b"].pk, "duration": 1}]}},
                    last_pulled_at=since)
    body = assert_error(response, 403, field="tasks.updated[1]", code="permission_denied")
    assert not any(key.startswith("tasks.updated[0]") for key in body)
    assert_nothing_written(before, "member edits another's task")
    assert (fresh(site["a"]).duration, fresh(site["b"]).duration) == (8, 3)


def test_a_members_delete_is_refused_naming_the_row_after_their_edits_were_checked(project, members, owner, site):
    member = members["member"]
    task_update(actor=owner, task=fresh(site["a"]), assignee=member)
    client = client_for(member)
    since = pull_timestamp(client, project)
    before = fingerprint()
    response = push(client, project, {"tasks": {"updated": [{"id": site["a"].pk, "duration": 8}],
                                                "deleted": [site["c"].pk]}}, last_pulled_at=since)
    assert_error(response, 403, field="tasks.deleted[0]", code="permission_denied")
    assert_nothing_written(before, "member deletes")
    assert fresh(site["a"]).duration == 2


@pytest.mark.parametrize(("changes", "field"), [
    ({"deleted": ["c"]}, "tasks.deleted[0]"),                        # the task changed since: would be a conflict
    ({"updated": [{"id": "b", "duration": 3}]}, "tasks.updated[0]"),  # not theirs; the value it has already
], ids=["delete-of-a-changed-task", "edit-changing-nothing"])
def test_a_members_row_needs_the_role_even_when_it_would_not_be_applied(api, project, members, owner, site,
                                                                       changes, field):
    since = pull_timestamp(api, project)
    task_update(actor=owner, task=fresh(site["c"]), duration=5)
    rows = {kind: [site[r].pk if isinstance(r, str) else {**r, "id": site[r["id"]].pk} for r in rows]
            for kind, rows in changes.items()}
    before = fingerprint()
    response = push(client_for(members["member"]), project, {"tasks": rows}, last_pulled_at=since)
    assert_error(response, 403, field=field, code="permission_denied")
    assert_nothing_written(before, field)


def test_a_scheduler_may_create_links_but_not_tasks(project, members, site):
    client = client_for(members["scheduler"])
    link = new_uid()
    body = pushed(client, project, {"dependencies": {"created": [{"uid": link, "predecessor": site["b"].pk,
                                                                  "successor": site["c"].pk}]}})
    assert [row["uid"] for row in body["applied"]["dependencies"]["created"]] == [link]
    assert Dependency.objects.filter(uid=link, predecessor=site["b"], successor=site["c"]).exists()

    before = fingerprint()
    response = push(client, project, {"tasks": {"created": [{"uid": new_uid(), "name": "Dig"}]},
                                      "dependencies": {"created": [{"uid": new_uid(), "predecessor": site["a"].pk,
                                                                    "successor": site["c"].pk}]}})
    assert_error(response, 403, field="tasks.created[0]", code="permission_denied")
    assert_nothing_written(before, "scheduler creates a task")


def test_an_admin_may_create_and_delete_tasks(project, members, site):
    new, client = new_uid(), client_for(members["admin"])
    body = pushed(client, project, {"tasks": {"created": [{"uid": new, "name": "Dig"}], "deleted": [site["c"].pk]}},
                  last_pulled_at=pull_timestamp(client, project))
    assert [row["uid"] for row in body["applied"]["tasks"]["created"]] == [new]
    assert body["applied"]["tasks"]["deleted"] == [site["c"].pk]
    assert WorkItem.objects.filter(uid=new, name="Dig").exists()
    assert not WorkItem.objects.filter(pk=site["c"].pk).exists()


# ---------------------------------------------------------------- one reschedule per batch

def test_a_batch_of_twenty_edits_reschedules_once_with_the_right_dates(api, project, owner):
    keys = [uuid.uuid4() for _ in range(20)]
    written = tasks_bulk_apply(actor=owner, project=project,
                               tasks=[{"uid": k, "name": f"T{n}"} for n, k in enumerate(keys)],
                               dependencies=[{"predecessor": keys[n], "successor": keys[n + 1]} for n in range(19)])
    ids = [t.id for t in written.tasks]
    since = pull_timestamp(api, project)

    body = pushed(api, project, {"tasks": {"updated": [{"id": i, "duration": 2} for i in ids]}},
                  last_pulled_at=since)

    assert body["conflicts"] == NO_CONFLICTS
    assert len(body["applied"]["tasks"]["updated"]) == 20
    assert events_after(project, since, "work_item").count() == 20
    assert events_after(project, since, "schedule").count() == 1
    start = dt.date(2026, 1, 5)
    for n, task_id in enumerate(ids):
        detail = json_body(api.get(f"/api/v1/tasks/{task_id}/"))
        assert (detail["duration"], detail["early_start"], detail["early_finish"], detail["total_float"]) == (
            2, working_day(start, 2 * n).isoformat(), working_day(start, 2 * n + 1).isoformat(), 0), n


# ---------------------------------------------------------------- the WatermelonDB row shape

def test_a_full_row_as_pulled_with_changed_applies_only_the_fields_named(api, project, site):
    a = site["a"]
    pulled = json_body(api.get(url(project)))
    row = next(r for r in pulled["changes"]["tasks"]["updated"] if r["id"] == a.pk)
    local = {**row, "name": "A renamed", "duration": 9, "description": "not sent", "_status": "updated",
             "_changed": "name"}

    body = pushed(api, project, {"tasks": {"updated": [local]}}, last_pulled_at=pulled["timestamp"])

    assert body["conflicts"] == NO_CONFLICTS
    assert body["applied"]["tasks"]["updated"] == [{"id": a.pk, "lock_version": 1, "merged": {}}]
    now = fresh(a)
    assert (now.name, now.duration, now.description) == ("A renamed", 2, "")
    event = events_after(project, pulled["timestamp"], "work_item").get()
    assert (event.entity_id, event.changes) == (a.pk, {"name": ["A", "A renamed"]})


def test_deleted_rows_given_as_bare_ids_or_uids(api, project, site):
    a, c = site["a"], site["c"]
    body = pushed(api, project, {"tasks": {"deleted": [a.pk, str(c.uid)]}}, last_pulled_at=pull_timestamp(api, project))
    assert body["applied"]["tasks"]["deleted"] == sorted([a.pk, c.pk])
    assert not WorkItem.objects.filter(pk__in=[a.pk, c.pk]).exists()
    assert WorkItem.objects.filter(pk=site["b"].pk).exists()


# ---------------------------------------------------------------- no existence oracle, uids per project

NIL_UID = "00000000-0000-0000-0000-000000000000"


def normalised(body: dict, *names) -> str:
    """``body`` as text with each of ``names`` (an id or uid a batch named) written ``N``."""
    text = json.dumps(body, sort_keys=True)
    for name in names:
        text = re.sub(rf"(?<![\w-]){re.escape(str(name))}(?![\w-])", "N", text)
    return text


@pytest.fixture(params=["outsider", "member-of-both"])
def prober(request, owner, outsider, project):
    """Someone pushing to a project of their own while naming rows of ``project``: a stranger to it, or its own
    Owner (who may see those rows, but not use them in another project)."""
    user = outsider if request.param == "outsider" else owner
    own = make_project(user, name="Prober's own")
    client = client_for(user)
    return {"client": client, "project": own, "task": task_create(actor=user, project=own, name="Mine").pk,
            "since": pull_timestamp(client, own)}


def test_naming_another_projects_rows_answers_as_rows_that_do_not_exist(prober, site):
    mine = prober["task"]
    link = Dependency.objects.get(predecessor=site["a"], successor=site["b"])
    probes = {
        "task id": lambda ref: {"tasks": {"updated": [{"id": ref, "duration": 4}]}},
        "task uid": lambda ref: {"tasks": {"updated": [{"uid": ref, "duration": 4}]}},
        "deleted task": lambda ref: {"tasks": {"deleted": [ref]}},
        "parent of a new task": lambda ref: {"tasks": {"created": [{"uid": new_uid(), "name": "X", "parent": ref}]}},
        "parent of an edit": lambda ref: {"tasks": {"updated": [{"id": mine, "parent": ref}]}},
        "predecessor": lambda ref: {"dependencies": {"created": [{"uid": new_uid(), "predecessor": ref,
                                                                  "successor": mine}]}},
        "successor": lambda ref: {"dependencies": {"created": [{"uid": new_uid(), "predecessor": mine,
                                                                "successor": ref}]}},
        "link id": lambda ref: {"dependencies": {"updated": [{"id": ref, "lag": 2}]}},
        "link uid": lambda ref: {"dependencies": {"updated": [{"uid": ref, "lag": 2}]}},
        "deleted link": lambda ref: {"dependencies": {"deleted": [ref]}},
    }
    for name, make in probes.items():
        if name.startswith(("link", "deleted link")):
            real = str(link.uid) if "uid" in name else link.pk
        else:
            real = str(site["a"].uid) if "uid" in name else site["a"].pk
        absent = new_uid() if isinstance(real, str) else real + 10**6
        before = fingerprint()
        foreign = push(prober["client"], prober["project"], make(real), last_pulled_at=prober["since"])
        missing = push(prober["client"], prober["project"], make(absent), last_pulled_at=prober["since"])
        assert foreign.status_code == missing.status_code == 400, (name, json_body(foreign))
        assert normalised(json_body(foreign), real) == normalised(json_body(missing), absent), name
        assert_nothing_written(before, name)
    assert (fresh(site["a"]).duration, fresh(site["a"]).lock_version) == (2, 0)


def test_a_row_created_offline_with_a_uid_used_in_another_project_is_created(prober, site):
    """Not a 409 (that would tell the uid exists somewhere), nor an update of the other project's row."""
    link = Dependency.objects.get(predecessor=site["a"], successor=site["b"])
    task_uid, link_uid = str(site["c"].uid), str(link.uid)
    body = pushed(prober["client"], prober["project"], {
        "tasks": {"created": [{"uid": task_uid, "name": "Same uid"}]},
        "dependencies": {"created": [{"uid": link_uid, "predecessor": prober["task"], "successor": task_uid}]},
    }, last_pulled_at=prober["since"])
    [created] = body["applied"]["tasks"]["created"]
    assert WorkItem.objects.filter(pk=created["id"], project=prober["project"], uid=task_uid).exists()
    [new_link] = body["applied"]["dependencies"]["created"]
    assert Dependency.objects.filter(pk=new_link["id"], project=prober["project"], uid=link_uid).exists()
    assert (fresh(site["c"]).name, fresh(site["c"]).lock_version) == ("C", 0)


@pytest.mark.parametrize(("changes", "field"), [
    ({"tasks": {"created": [{"uid": NIL_UID, "name": "X"}]}}, "tasks.created[0].uid"),
    ({"dependencies": {"created": [{"uid": NIL_UID, "predecessor": "b", "successor": "c"}]}},
     "dependencies.created[0].uid"),
    ({"tasks": {"created": [{"uid": "{" + new_uid() + "}", "name": "X"}]}}, "tasks.created[0].uid"),
], ids=["nil-task", "nil-link", "braces"])
def test_the_nil_uuid_is_refused_as_the_uid_of_a_row_created_offline(api, project, site, changes, field):
    for row in changes.get("dependencies", {}).get("created", []):
        row["predecessor"], row["successor"] = site["b"].pk, site["c"].pk
    before = fingerprint()
    assert_error(push(api, project, changes), 400, field=field, code="invalid")
    assert_nothing_written(before, field)


def test_a_batch_retried_with_its_id_in_capitals_is_replayed(api, project, site):
    batch_id, since = new_uid(), pull_timestamp(api, project)
    changes = {"tasks": {"updated": [{"id": site["a"].pk, "duration": 4}]}}
    first = pushed(api, project, changes, client_batch_id=batch_id, last_pulled_at=since)
    before = fingerprint()
    for spelling in (batch_id.upper(), batch_id.replace("-", "")):
        replay = push(api, project, changes, client_batch_id=spelling, last_pulled_at=since)
        assert (replay.status_code, replay.get("Idempotent-Replay")) == (200, "true"), json_body(replay)
        assert json_body(replay) == first
    assert_nothing_written(before, "replays")
    assert (fresh(site["a"]).duration, fresh(site["a"]).lock_version) == (4, 1)


@pytest.mark.parametrize("last_pulled", ["never", "current"])
@pytest.mark.parametrize("field", ["parent", "assignee"])
def test_a_members_parent_or_assignee_change_is_refused_whatever_last_pulled_at_is(project, members, owner, site,
                                                                                  last_pulled, field):
    """Role checks come before conflicts: with ``last_pulled_at`` 0 every field counts as changed since, and the
    change must still be a 403, not a conflict that tells the Member the server's value."""
    member = members["member"]
    # Both fields were written since the task was made, so with last_pulled_at 0 both count as changed since.
    task_update(actor=owner, task=fresh(site["c"]), assignee=member, parent=site["b"])
    client = client_for(member)
    since = 0 if last_pulled == "never" else pull_timestamp(client, project)
    value = {"parent": site["a"].pk, "assignee": owner.pk}[field]
    before = fingerprint()
    response = push(client, project, {"tasks": {"updated": [{"id": site["c"].pk, field: value}]}},
                    last_pulled_at=since)
    assert_error(response, 403, field=f"tasks.updated[0].{field}", code="permission_denied")
    assert_nothing_written(before, field)
    # Sending the value the task has already is no change and no refusal.
    same = {"parent": site["b"].pk, "assignee": member.pk}[field]
    body = pushed(client, project, {"tasks": {"updated": [{"id": site["c"].pk, field: same, "duration": 3}]}},
                  last_pulled_at=since)
    assert body["applied"]["tasks"]["updated"][0]["id"] == site["c"].pk


def test_rows_a_role_may_not_create_are_refused_even_when_they_would_be_held_back(project, members, owner, site,
                                                                                  someone_else):
    """A new task under a task deleted meanwhile, or a new link duplicating one, is a conflict for someone who
    may create them; for anyone else it is a 403 like any other row of theirs."""
    client = client_for(members["member"])
    since = pull_timestamp(client, project)
    task_delete(actor=someone_else, task=fresh(site["c"]))
    cases = [
        ({"tasks": {"created": [{"uid": new_uid(), "name": "X", "parent": site["c"].pk}]}}, "tasks.created[0]"),
        ({"dependencies": {"created": [{"uid": new_uid(), "predecessor": site["a"].pk,
                                        "successor": site["b"].pk}]}}, "dependencies.created[0]"),
    ]
    for changes, field in cases:
        before = fingerprint()
        response = push(client, project, changes, last_pulled_at=since)
        assert_error(response, 403, field=field, code="permission_denied")
        assert_nothing_written(before, field)
