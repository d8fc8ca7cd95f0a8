"""Memory growing with every large project touched, as an attack: projects written one after another, together
far larger than ``KEELPLAN_SCHEDULE_CACHE_MB``, leave the scheduling caches holding no more than the setting's
estimate, the least recently used project evicted first; a project larger than the whole bound is not cached;
and after eviction every write still ends with the schedule a fresh computation gives."""

from __future__ import annotations

import uuid

import pytest

from keelplan.planning.bulk import tasks_bulk_apply
from keelplan.planning.models import WorkItem
from keelplan.planning.services import task_update
from keelplan.scheduling.inputs import input_cache, input_state_bytes
from keelplan.scheduling.store import computed_bytes, computed_cache

from conftest import make_project

from .test_consistency import assert_stored_equals_fresh

pytestmark = pytest.mark.django_db
TASKS = 200


def held() -> int:
    return input_cache.held_bytes() + computed_cache.held_bytes()


def limit(settings) -> int:
    return int(settings.KEELPLAN_SCHEDULE_CACHE_MB * 2**20)


def build(owner, name: str, tasks: int = TASKS):
    """A project of ``tasks`` tasks in a chain, written (and so cached) by one bulk write."""
    project = make_project(owner, name=name)
    uids = [str(uuid.uuid4()) for _ in range(tasks)]
    tasks_bulk_apply(actor=owner, project=project,
                     tasks=[{"uid": u, "name": f"T{n}", "duration": 1 + n % 5} for n, u in enumerate(uids)],
                     dependencies=[{"predecessor": a, "successor": b} for a, b in zip(uids, uids[1:])])
    return project


def one_project_bytes(project) -> int:
    return input_state_bytes(input_cache.get(project.pk)) + computed_bytes(computed_cache.get(project.pk))


def test_projects_beyond_the_bound_keep_the_caches_within_it_least_recently_used_out_first(
        owner, settings, django_capture_on_commit_callbacks):
    settings.KEELPLAN_SCHEDULE_CACHE_MB = 1000  # measure one project first
    with django_capture_on_commit_callbacks(execute=True):
        first = build(owner, "P0")
    each = one_project_bytes(first)
    input_cache.clear()
    computed_cache.clear()
    # Room for two projects and a half: six of them are more than twice the bound.
    settings.KEELPLAN_SCHEDULE_CACHE_MB = 2.5 * each / 2**20
    projects = []
    for n in range(1, 7):
        with django_capture_on_commit_callbacks(execute=True):
            projects.append(build(owner, f"P{n}"))
        assert held() <= limit(settings)
        if n == 4:
            # P3 used again (a read of its inputs): now P4 is the least recently used of the two kept.
            assert input_cache.keys() == [projects[2].pk, projects[3].pk]
            input_cache.get(projects[2].pk)
            computed_cache.get(projects[2].pk)
    assert 6 * each > 2 * limit(settings)
    assert input_cache.keys() == [projects[4].pk, projects[5].pk]
    assert computed_cache.keys()[-2:] == [projects[4].pk, projects[5].pk]

    # Touch P5, then write P1 again (it was evicted): P6, now least recently used, goes; P5 stays.
    input_cache.get(projects[4].pk)
    computed_cache.get(projects[4].pk)
    task = WorkItem.objects.filter(project=projects[0]).order_by("id").first()
    with django_capture_on_commit_callbacks(execute=True):
        task_update(actor=owner, task=task, duration=9)
    assert held() <= limit(settings)
    assert input_cache.keys() == [projects[4].pk, projects[0].pk]
    for project in projects:
        assert_stored_equals_fresh(project.pk)


def test_a_project_larger_than_the_whole_bound_is_not_cached_and_still_scheduled_right(
        owner, settings, django_capture_on_commit_callbacks):
    settings.KEELPLAN_SCHEDULE_CACHE_MB = 1000
    with django_capture_on_commit_callbacks(execute=True):
        small = build(owner, "Small", tasks=5)
    small_input = input_state_bytes(input_cache.get(small.pk))
    settings.KEELPLAN_SCHEDULE_CACHE_MB = 4 * small_input / 2**20
    with django_capture_on_commit_callbacks(execute=True):
        big = build(owner, "Big", tasks=TASKS)
    assert input_cache.get(big.pk) is None
    assert input_cache.get(small.pk) is not None, "the entry too big to cache evicted others for nothing"
    assert held() <= limit(settings)
    for task in WorkItem.objects.filter(project=big).order_by("id")[:3]:
        with django_capture_on_commit_callbacks(execute=True):
            task_update(actor=owner, task=task, duration=7)
        assert input_cache.get(big.pk) is None
        assert_stored_equals_fresh(big.pk)


def test_no_byte_bound_keeps_the_count_bound(owner, settings, django_capture_on_commit_callbacks):
    settings.KEELPLAN_SCHEDULE_CACHE_MB = 0
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            build(owner, f"P{n}", tasks=3)
    assert len(input_cache.keys()) == 3
    assert held() > 0
