"""Acceptance: ``DATABASE_URL=postgres://... keelplan serve --workers 4`` serves one API from four processes;
writes made through different processes are all visible and none is lost."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import (
    LiveServer, Outcome, assert_no_server_errors, call, create_tasks_concurrently, list_all, postgres_database,
    run_server,
)

pytestmark = pytest.mark.live

WORKERS = 4
THREADS = 8
TASKS = 200
PATCHES_PER_THREAD = 12


@pytest.fixture(scope="module")
def four_workers(tmp_path_factory) -> Iterator[LiveServer]:
    with postgres_database("keelplan_mp") as database_url:
        with run_server(tmp_path_factory.mktemp("keelplan-mp"), workers=WORKERS, database_url=database_url,
                        extra_env={"KEELPLAN_EXPOSE_WORKER_PID": "1"}) as server:
            yield server


@pytest.fixture(scope="module")
def owner(four_workers: LiveServer) -> tuple[str, dict]:
    """An owner's token and a fresh project of theirs."""
    _, session = four_workers.user_session()
    response = session.post(four_workers.url("/api/v1/projects/"),
                            json={"name": "Four processes", "start_date": "2026-04-06"}, timeout=30)
    assert response.status_code == 201, response.text
    return session.headers["Authorization"].removeprefix("Bearer "), response.json()


def test_concurrent_creates_through_four_processes_are_all_visible(four_workers: LiveServer, owner):
    token, project = owner

    outcomes = create_tasks_concurrently(four_workers, token, project["id"], total=TASKS, threads=THREADS)

    assert_no_server_errors(outcomes)
    assert [o.status for o in outcomes] == [201] * TASKS, {o.status for o in outcomes}
    workers = {o.worker for o in outcomes}
    assert None not in workers
    assert len(workers) >= 2, f"every request was answered by the same process: {workers}"
    created = {o.body["id"] for o in outcomes}
    assert len(created) == TASKS

    session = four_workers.session(token)
    rows, pages = list_all(session, four_workers.url(f"/api/v1/tasks/?project={project['id']}&page_size=30"))
    assert_no_server_errors(pages)
    assert pages[0].body["count"] == TASKS
    assert len(rows) == TASKS
    assert {row["id"] for row in rows} == created


def test_concurrent_updates_of_one_row_lose_nothing(four_workers: LiveServer, owner):
    """Every PATCH reads the row and sends the lock_version it read. Some win (200) and bump the version;
    the others are refused (409) and change nothing. With no lost update, the final lock_version is the
    starting one plus the number of wins, and no two wins produced the same version."""
    token, project = owner
    session = four_workers.session(token)
    task = call(session, "POST", four_workers.url("/api/v1/tasks/"),
                json={"project": project["id"], "name": "contended", "duration": 1})
    assert task.status == 201, task.body
    task_url = four_workers.url(f"/api/v1/tasks/{task.body['id']}/")
    start_version = task.body["lock_version"]

    def contend(thread_no: int) -> tuple[list[Outcome], list[Outcome]]:
        own = four_workers.session(token)
        reads, patches = [], []
        for attempt in range(PATCHES_PER_THREAD):
            current = call(own, "GET", task_url)
            reads.append(current)
            assert current.status == 200, current.body
            name = f"thread {thread_no} attempt {attempt}"
            outcome = call(own, "PATCH", task_url, json={
                "name": name, "duration": 1 + (thread_no + attempt) % 9, "lock_version": current.body["lock_version"],
            })
            patches.append(outcome)
            if outcome.status == 200:
                # A win answers with the row as this write left it, not as a later writer did: a client
                # that got someone else's newer lock_version could overwrite a change it never saw.
                assert outcome.body["name"] == name, outcome.body
                assert outcome.body["lock_version"] == current.body["lock_version"] + 1, outcome.body
        return reads, patches

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(contend, range(THREADS)))
    reads = [o for chunk, _ in results for o in chunk]
    patches = [o for _, chunk in results for o in chunk]

    assert_no_server_errors(reads + patches)
    wins = [o for o in patches if o.status == 200]
    refused = [o for o in patches if o.status == 409]
    assert len(wins) + len(refused) == THREADS * PATCHES_PER_THREAD, {o.status for o in patches}
    assert all(o.body["code"] == "stale_lock_version" for o in refused)
    assert wins, "at least one PATCH must win"
    won_versions = [o.body["lock_version"] for o in wins]
    assert len(set(won_versions)) == len(won_versions), "two PATCHes claimed the same version: an update was lost"
    assert len({o.worker for o in reads + patches}) >= 2

    final = call(session, "GET", task_url)
    assert final.status == 200
    assert final.body["lock_version"] == start_version + len(wins)
    assert sorted(won_versions) == list(range(start_version + 1, start_version + len(wins) + 1))
    last_win = max(wins, key=lambda o: o.body["lock_version"])
    assert final.body["name"] == last_win.body["name"]


def test_concurrent_schedule_edits_end_equal_to_a_fresh_computation(four_workers: LiveServer, owner):
    """Threads edit durations and add and remove links of one project at once, through four processes whose
    caches each lag behind the others' writes. Afterwards every task's computed fields equal what the engine
    computes here from the inputs read back over HTTP, and a forced recomputation finds nothing to change."""
    import datetime as dt
    import random

    from keelplan.engine import Link, ProjectInput, Task, schedule

    token, _ = owner
    session = four_workers.session(token)
    created = call(session, "POST", four_workers.url("/api/v1/projects/"),
                   json={"name": "Concurrent schedule", "start_date": "2026-04-06"})
    assert created.status == 201, created.body
    project_id = created.body["id"]
    outcomes = create_tasks_concurrently(four_workers, token, project_id, total=40, threads=4)
    assert [o.status for o in outcomes] == [201] * 40
    ids = sorted(o.body["id"] for o in outcomes)

    def edit(thread_no: int) -> list[Outcome]:
        rng = random.Random(thread_no)
        own = four_workers.session(token)
        done = []
        for _ in range(15):
            roll = rng.random()
            if roll < 0.45:
                task_id = rng.choice(ids)
                done.append(call(own, "PATCH", four_workers.url(f"/api/v1/tasks/{task_id}/"),
                                 json={"duration": rng.randint(0, 6)}))
            elif roll < 0.85:
                a, b = sorted(rng.sample(ids, 2))  # always from an older task to a newer one: never a cycle
                done.append(call(own, "POST", four_workers.url("/api/v1/dependencies/"), json={
                    "predecessor": a, "successor": b, "dep_type": rng.choice(["FS", "SS", "FF", "SF"]),
                    "lag": rng.randint(-1, 2), "lag_unit": rng.choice(["ed", "wd"])}))
            else:
                links = call(own, "GET", four_workers.url(f"/api/v1/dependencies/?project={project_id}"))
                if links.body["results"]:
                    victim = rng.choice(links.body["results"])["id"]
                    done.append(call(own, "DELETE", four_workers.url(f"/api/v1/dependencies/{victim}/")))
        return done

    with ThreadPoolExecutor(max_workers=6) as pool:
        edits = [o for chunk in pool.map(edit, range(6)) for o in chunk]
    assert_no_server_errors(edits)
    # 409: the same pair and type linked twice; 404: a link another thread deleted first.
    assert {o.status for o in edits} <= {200, 201, 204, 404, 409}, {o.status for o in edits}
    assert len({o.worker for o in edits}) >= 2

    tasks, _ = list_all(session, four_workers.url(f"/api/v1/tasks/?project={project_id}&page_size=500"))
    links, _ = list_all(session, four_workers.url(f"/api/v1/dependencies/?project={project_id}&page_size=500"))
    project_input = ProjectInput(
        start=dt.date(2026, 4, 6),
        tasks=tuple(Task(id=t["id"], duration=t["duration"]) for t in sorted(tasks, key=lambda t: t["id"])),
        links=tuple(Link(predecessor=k["predecessor"], successor=k["successor"], type=k["dep_type"], lag=k["lag"],
                         lag_unit=k["lag_unit"]) for k in sorted(links, key=lambda k: k["id"])),
    )
    expected = schedule(project_input)
    for task in tasks:
        assert {k: task[k] for k in ("early_start", "early_finish", "late_start", "late_finish", "total_float",
                                     "free_float", "is_critical")} == expected[task["id"]].as_dict(), task["id"]

    summary = call(session, "GET", four_workers.url(f"/api/v1/projects/{project_id}/schedule/"))
    assert summary.body["project_finish"] == expected.project_finish.isoformat()
    assert summary.body["critical_path"] == list(expected.critical_path)
    recomputed = call(session, "POST", four_workers.url(f"/api/v1/projects/{project_id}/schedule/"))
    assert recomputed.status == 200, recomputed.body
    assert recomputed.body["version"] == summary.body["version"], "a full recomputation found a stale value"
