"""``Dependency.is_driving`` through the v1 API: computed by the scheduler on every write path (REST, bulk, sync
push), served by ``/dependencies/`` and the sync feed, read-only for clients. Also the milestone convention as a
client sees it: a milestone occupies its day, so its FS successor starts the next working day.

The network most tests use starts on Monday 5 January 2026 (``conftest.make_project``)::

    A (2 d) -FS-> B (2 d) -FS-> D (1 d)
      \\--FS-> C (4 d) --FS--/

C finishes after B, so C -> D drives D and B -> D does not; lengthening B to 6 days turns that round.
"""

from __future__ import annotations

import uuid

import pytest

from keelplan.planning.models import Dependency

from .contract import json_body

pytestmark = pytest.mark.django_db

LINKS = (("A", "B"), ("A", "C"), ("B", "D"), ("C", "D"))
DURATIONS = {"A": 2, "B": 2, "C": 4, "D": 1}
BEFORE = {("A", "B"): True, ("A", "C"): True, ("B", "D"): False, ("C", "D"): True}
AFTER = {("A", "B"): True, ("A", "C"): True, ("B", "D"): True, ("C", "D"): False}


def ok(response, status: int = 200):
    body = json_body(response)
    assert response.status_code == status, body
    return body


def deleted(api, path: str) -> None:
    response = api.delete(path)
    assert response.status_code == 204, response.content


def new_uid() -> str:
    return str(uuid.uuid4())


def build_with_rest(api, project) -> dict:
    """The network through ``POST /tasks/`` and ``POST /dependencies/``: name -> task id, plus the link ids."""
    ids = {name: ok(api.post("/api/v1/tasks/", {"project": project.pk, "name": name, "duration": days},
                             format="json"), 201)["id"]
           for name, days in DURATIONS.items()}
    for pred, succ in LINKS:
        ok(api.post("/api/v1/dependencies/", {"predecessor": ids[pred], "successor": ids[succ], "dep_type": "FS"},
                    format="json"), 201)
    return ids


def flags(api, project, ids) -> dict:
    """``(predecessor name, successor name) -> is_driving`` as ``GET /dependencies/`` serves it."""
    names = {v: k for k, v in ids.items()}
    rows = ok(api.get("/api/v1/dependencies/", {"project": project.pk, "page_size": 100}))["results"]
    return {(names[r["predecessor"]], names[r["successor"]]): r["is_driving"] for r in rows}


def stored_flags(project, ids) -> dict:
    names = {v: k for k, v in ids.items()}
    return {(names[p], names[s]): d for p, s, d in Dependency.objects.filter(project=project)
            .values_list("predecessor_id", "successor_id", "is_driving")}


def sync_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/sync/"


def pull(api, project, since: int = 0) -> dict:
    return ok(api.get(sync_url(project), {"last_pulled_at": since}))


def pulled_flags(body, ids) -> dict:
    names = {v: k for k, v in ids.items()}
    return {(names[r["predecessor"]], names[r["successor"]]): r["is_driving"]
            for r in body["changes"]["dependencies"]["updated"]}


# ---------------------------------------------------------------- REST


def test_the_longer_branch_drives_and_a_duration_edit_moves_driving_to_the_other_link(api, project):
    ids = build_with_rest(api, project)
    assert flags(api, project, ids) == BEFORE
    d = ok(api.get(f"/api/v1/tasks/{ids['D']}/"))
    assert d["early_start"] == "2026-01-13"   # the day after C (Wed 7 .. Mon 12)

    ok(api.patch(f"/api/v1/tasks/{ids['B']}/", {"duration": 6}, format="json"))
    assert flags(api, project, ids) == AFTER
    assert stored_flags(project, ids) == AFTER
    detail = {(p, s): ok(api.get(f"/api/v1/dependencies/{pk}/"))["is_driving"]
              for (p, s), pk in _link_ids(project, ids).items()}
    assert detail == AFTER

    ok(api.patch(f"/api/v1/tasks/{ids['B']}/", {"duration": 2}, format="json"))
    assert flags(api, project, ids) == BEFORE


def _link_ids(project, ids) -> dict:
    names = {v: k for k, v in ids.items()}
    return {(names[p], names[s]): pk for pk, p, s in Dependency.objects.filter(project=project)
            .values_list("id", "predecessor_id", "successor_id")}


def test_a_created_link_answers_with_its_flag_and_a_deleted_one_hands_driving_over(api, project):
    ids = build_with_rest(api, project)
    links = _link_ids(project, ids)
    # A lag of 5 working days on B -> D makes it the later of D's two links: it drives from its creation on.
    deleted(api, f"/api/v1/dependencies/{links[('B', 'D')]}/")
    created = ok(api.post("/api/v1/dependencies/", {"predecessor": ids["B"], "successor": ids["D"], "lag": 5,
                                                     "lag_unit": "wd"}, format="json"), 201)
    assert created["is_driving"] is True
    assert flags(api, project, ids) == AFTER
    deleted(api, f"/api/v1/dependencies/{created['id']}/")
    assert flags(api, project, ids) == {k: v for k, v in BEFORE.items() if k != ("B", "D")}


def test_the_schedule_recompute_endpoint_repairs_a_flag_written_behind_the_services_back(api, project):
    ids = build_with_rest(api, project)
    Dependency.objects.filter(project=project).update(is_driving=False)   # raw write: no change log
    ok(api.post(f"/api/v1/projects/{project.pk}/schedule/"))
    assert flags(api, project, ids) == BEFORE


# ---------------------------------------------------------------- sync feed


def test_a_pull_after_an_edit_elsewhere_lists_the_links_whose_flag_changed(api, project):
    ids = build_with_rest(api, project)
    first = pull(api, project)
    assert pulled_flags(first, ids) == BEFORE

    ok(api.patch(f"/api/v1/tasks/{ids['B']}/", {"duration": 6}, format="json"))   # nobody wrote a link
    delta = pull(api, project, first["timestamp"])
    assert pulled_flags(delta, ids) == {("B", "D"): True, ("C", "D"): False}
    assert delta["changes"]["dependencies"]["deleted"] == []
    # Rendered exactly as the REST endpoint renders them.
    for row in delta["changes"]["dependencies"]["updated"]:
        assert row == ok(api.get(f"/api/v1/dependencies/{row['id']}/"))

    again = pull(api, project, delta["timestamp"])
    assert again["changes"]["dependencies"]["updated"] == []


def test_a_pull_in_small_pages_lists_each_flipped_link_once(api, project):
    ids = build_with_rest(api, project)
    first = pull(api, project)
    ok(api.patch(f"/api/v1/tasks/{ids['B']}/", {"duration": 6}, format="json"))
    seen, cursor = [], None
    while True:
        params = {"cursor": cursor} if cursor else {"last_pulled_at": first["timestamp"], "page_size": 1}
        page = ok(api.get(sync_url(project), params))
        seen += page["changes"]["dependencies"]["updated"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pulled_flags({"changes": {"dependencies": {"updated": seen}}}, ids) == {("B", "D"): True,
                                                                                  ("C", "D"): False}
    assert len(seen) == 2


# ---------------------------------------------------------------- bulk and push give the same flags


def test_the_bulk_endpoint_gives_the_same_flags_as_rest(api, project):
    uids = {name: new_uid() for name in DURATIONS}
    body = ok(api.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", {
        "tasks": [{"uid": uids[n], "name": n, "duration": d} for n, d in DURATIONS.items()],
        "dependencies": [{"predecessor": uids[p], "successor": uids[s]} for p, s in LINKS],
    }, format="json"))
    ids = {n: next(t["id"] for t in body["tasks"] if t["uid"] == uids[n]) for n in DURATIONS}
    assert flags(api, project, ids) == BEFORE

    first = pull(api, project)
    ok(api.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", {"tasks": [{"id": ids["B"], "duration": 6}]},
                format="json"))
    assert flags(api, project, ids) == AFTER
    assert pulled_flags(pull(api, project, first["timestamp"]), ids) == {("B", "D"): True, ("C", "D"): False}


def test_a_sync_push_gives_the_same_flags_as_rest(api, project):
    uids = {name: new_uid() for name in DURATIONS}
    answer = ok(api.post(sync_url(project), {"client_batch_id": new_uid(), "last_pulled_at": 0, "changes": {
        "tasks": {"created": [{"uid": uids[n], "name": n, "duration": d} for n, d in DURATIONS.items()]},
        "dependencies": {"created": [{"uid": new_uid(), "predecessor": uids[p], "successor": uids[s]}
                                     for p, s in LINKS]},
    }}, format="json"))
    ids = {n: next(r["id"] for r in answer["applied"]["tasks"]["created"] if r["uid"] == uids[n])
           for n in DURATIONS}
    assert flags(api, project, ids) == BEFORE

    first = pull(api, project)
    b = next(r for r in first["changes"]["tasks"]["updated"] if r["id"] == ids["B"])
    ok(api.post(sync_url(project), {"client_batch_id": new_uid(), "last_pulled_at": first["timestamp"], "changes": {
        "tasks": {"updated": [{"id": ids["B"], "duration": 6, "base_version": b["lock_version"]}]},
    }}, format="json"))
    assert flags(api, project, ids) == AFTER
    assert pulled_flags(pull(api, project, first["timestamp"]), ids) == {("B", "D"): True, ("C", "D"): False}


# ---------------------------------------------------------------- read-only


def test_is_driving_sent_by_a_client_is_ignored_on_every_write_path(api, project):
    ids = build_with_rest(api, project)
    links = _link_ids(project, ids)

    # REST: create and edit.
    deleted(api, f"/api/v1/dependencies/{links[('B', 'D')]}/")
    created = ok(api.post("/api/v1/dependencies/", {"predecessor": ids["B"], "successor": ids["D"],
                                                     "is_driving": True}, format="json"), 201)
    assert created["is_driving"] is False
    patched = ok(api.patch(f"/api/v1/dependencies/{links[('C', 'D')]}/", {"is_driving": False, "description": "x"},
                           format="json"))
    assert (patched["is_driving"], patched["description"]) == (True, "x")
    ok(api.put(f"/api/v1/dependencies/{created['id']}/", {"predecessor": ids["B"], "successor": ids["D"],
                                                          "is_driving": True}, format="json"))
    assert flags(api, project, ids) == BEFORE

    # Bulk: a new link that claims to drive.
    extra = ok(api.post("/api/v1/tasks/", {"project": project.pk, "name": "E", "duration": 1}, format="json"), 201)
    ids["E"] = extra["id"]
    ok(api.post(f"/api/v1/projects/{project.pk}/tasks/bulk/", {"dependencies": [
        {"predecessor": ids["A"], "successor": ids["E"], "lag": -1, "is_driving": False}]}, format="json"))
    # Push: an edit of a link that only sends the flag, and one that sends it with a real change.
    first = pull(api, project)
    rows = {r["id"]: r for r in first["changes"]["dependencies"]["updated"]}
    c_d, a_e = links[("C", "D")], _link_ids(project, ids)[("A", "E")]
    ok(api.post(sync_url(project), {"client_batch_id": new_uid(), "last_pulled_at": first["timestamp"], "changes": {
        "dependencies": {"updated": [
            {"id": c_d, "is_driving": False, "base_version": rows[c_d]["lock_version"]},
            {"id": a_e, "is_driving": True, "lag": 1, "base_version": rows[a_e]["lock_version"]},
        ]},
    }}, format="json"))
    # A -> E is E's only link: it drives whatever lag it has, as the scheduler says and not as the client said.
    assert flags(api, project, ids) == {**BEFORE, ("A", "E"): True}
    assert stored_flags(project, ids) == {**BEFORE, ("A", "E"): True}


# ---------------------------------------------------------------- milestones


@pytest.mark.parametrize("a_days, milestone_day, b_start", [
    (3, "2026-01-08", "2026-01-09"),   # A Mon 5 .. Wed 7; M on Thu 8; B from Fri 9
    (4, "2026-01-09", "2026-01-12"),   # A Mon 5 .. Thu 8; M on Fri 9; B from Mon 12, over the weekend
])
def test_a_milestones_fs_successor_starts_the_working_day_after_it(api, project, a_days, milestone_day, b_start):
    a = ok(api.post("/api/v1/tasks/", {"project": project.pk, "name": "A", "duration": a_days}, format="json"), 201)
    m = ok(api.post("/api/v1/tasks/", {"project": project.pk, "name": "M", "is_milestone": True, "duration": 0},
                    format="json"), 201)
    b = ok(api.post("/api/v1/tasks/", {"project": project.pk, "name": "B", "duration": 2}, format="json"), 201)
    for pred, succ in ((a, m), (m, b)):
        ok(api.post("/api/v1/dependencies/", {"predecessor": pred["id"], "successor": succ["id"]}, format="json"),
           201)
    m, b = (ok(api.get(f"/api/v1/tasks/{t['id']}/")) for t in (m, b))
    assert (m["is_milestone"], m["early_start"], m["early_finish"]) == (True, milestone_day, milestone_day)
    assert b["early_start"] == b_start
    # The sync feed serves the same dates.
    pulled = {r["id"]: r for r in pull(api, project)["changes"]["tasks"]["updated"]}
    assert (pulled[m["id"]]["early_start"], pulled[b["id"]]["early_start"]) == (milestone_day, b_start)
