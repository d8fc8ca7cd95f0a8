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
