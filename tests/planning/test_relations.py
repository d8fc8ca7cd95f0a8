"""Relations that do not schedule (relates, duplicates, blocks, includes, requires and their inverses) share the
dependencies' rows and id space, and the scheduler, the cycle checks, the v1 dialect and offline sync never see
them; ``precedes``/``follows`` are scheduling links made through the dependency services."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keelplan.planning.models import Dependency, RelationType
from keelplan.planning.relations import (
    KINDS, relation_create, relation_delete, relation_get, relation_list, relation_name, relation_update,
    relations_of,
)
from keelplan.planning.services import dependency_create, task_create, task_delete, task_restore
from keelplan.scheduling.selectors import computed_fields
from keelplan.sync.selectors import COLLECTION_NAMES, sync_pull

from conftest import client_for, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def trio(owner, project):
    a = task_create(actor=owner, project=project, name="A", duration=3)
    b = task_create(actor=owner, project=project, name="B", duration=2)
    c = task_create(actor=owner, project=project, name="C", duration=1)
    return a, b, c


def early(task):
    return computed_fields(task.project_id, [task.pk])[task.pk]["early_start"]


def rows_of(project) -> list[tuple]:
    return sorted(Dependency.every_row.filter(project=project).values_list(
        "id", "predecessor_id", "successor_id", "dep_type", "description", "deleted_at", "lock_version"))


def test_every_kind_and_inverse_is_stored_one_way_round(owner, trio):
    a, b, _ = trio
    for name in ("relates", "duplicates", "blocks", "includes", "requires"):
        rel = relation_create(actor=owner, from_item=a, to_item=b, type=name)
        assert (rel.predecessor_id, rel.successor_id, rel.dep_type) == (a.pk, b.pk, name)
        assert relation_name(rel, seen_from=b.pk) == {"relates": "relates", "duplicates": "duplicated",
                                                      "blocks": "blocked", "includes": "partof",
                                                      "requires": "requiredby"}[name]
        relation_delete(actor=owner, relation=rel)
    for inverse, stored in (("duplicated", "duplicates"), ("blocked", "blocks"), ("partof", "includes"),
                            ("requiredby", "requires")):
        rel = relation_create(actor=owner, from_item=a, to_item=b, type=inverse)
        assert (rel.predecessor_id, rel.successor_id, rel.dep_type) == (b.pk, a.pk, stored)
        assert relation_name(rel, seen_from=a.pk) == inverse
        assert relation_name(rel) == stored


def test_relations_and_links_share_one_id_space(owner, trio):
    a, b, c = trio
    link = relation_create(actor=owner, from_item=a, to_item=b, type="precedes", lag=1)
    rel = relation_create(actor=owner, from_item=b, to_item=c, type="relates")
    other = dependency_create(actor=owner, predecessor=b, successor=c)
    assert len({link.pk, rel.pk, other.pk}) == 3
    assert (link.dep_type, link.lag, link.schedules) == ("FS", 1, True)
    assert rel.schedules is False
    assert relation_name(link) == "precedes" and relation_name(link, seen_from=b.pk) == "follows"
    assert set(relation_list(actor=owner).values_list("pk", flat=True)) == {link.pk, rel.pk, other.pk}
    assert set(relations_of(actor=owner, work_item=c).values_list("pk", flat=True)) == {rel.pk, other.pk}
    assert relation_get(actor=owner, pk=rel.pk) == rel


def test_follows_makes_the_link_from_the_other_end_and_reschedules(owner, trio):
    a, b, _ = trio
    assert early(a) == early(b) == dt.date(2026, 1, 5)
    link = relation_create(actor=owner, from_item=b, to_item=a, type="follows")
    assert (link.predecessor_id, link.successor_id) == (a.pk, b.pk)
    assert early(b) == dt.date(2026, 1, 8)


def test_the_scheduler_ignores_a_relation(owner, trio):
    a, b, _ = trio
    for name in KINDS:
        if name in ("precedes", "follows"):
            continue
        rel = relation_create(actor=owner, from_item=a, to_item=b, type=name)
        assert early(b) == dt.date(2026, 1, 5), name
        assert Dependency.every_row.get(pk=rel.pk).is_driving is False
        relation_delete(actor=owner, relation=rel)


def test_a_relation_against_a_link_closes_no_cycle(owner, trio):
    """B blocks A while A precedes B: not a scheduling cycle, since blocking does not schedule."""
    a, b, _ = trio
    dependency_create(actor=owner, predecessor=a, successor=b)
    rel = relation_create(actor=owner, from_item=b, to_item=a, type="blocks")
    assert rel.pk and early(b) == dt.date(2026, 1, 8)


def test_v1_and_sync_never_see_a_relation(owner, project, trio):
    a, b, _ = trio
    rel = relation_create(actor=owner, from_item=a, to_item=b, type="relates", description="see also")
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    api = client_for(owner)
    listed = api.get("/api/v1/dependencies/", {"project": project.pk}).json()
    ids = [row["id"] for row in listed["results"]]
    assert ids == [link.pk]
    assert api.get(f"/api/v1/dependencies/{rel.pk}/").status_code == 404
    assert api.delete(f"/api/v1/dependencies/{rel.pk}/").status_code == 404
    assert api.patch(f"/api/v1/dependencies/{rel.pk}/", {"lag": 2}, format="json").status_code == 404
    page = sync_pull(actor=owner, project=project)
    pulled = {name: list(page.collections[name].rows.values_list("pk", flat=True)) for name in COLLECTION_NAMES}
    assert pulled["dependencies"] == [link.pk]
    relation_delete(actor=owner, relation=rel)
    later = sync_pull(actor=owner, project=project, since=page.timestamp)
    assert all(not later.collections[name].deleted for name in COLLECTION_NAMES)
    assert Dependency.every_row.get(pk=rel.pk).deleted_at is not None
    assert ChangeEvent.objects.filter(entity="relation", entity_id=rel.pk).count() == 2


def test_relates_is_one_relation_both_ways(owner, trio):
    a, b, _ = trio
    relation_create(actor=owner, from_item=a, to_item=b, type="relates")
    before = rows_of(a.project)
    with pytest.raises(Conflict) as caught:
        relation_create(actor=owner, from_item=b, to_item=a, type="relates")
    assert (caught.value.code, caught.value.field) == ("duplicate_dependency", "to_item")
    with pytest.raises(Conflict):
        relation_create(actor=owner, from_item=a, to_item=b, type="relates")
    assert rows_of(a.project) == before
    # Blocking both ways round is two relations.
    relation_create(actor=owner, from_item=a, to_item=b, type="blocks")
    relation_create(actor=owner, from_item=b, to_item=a, type="blocks")


@pytest.mark.parametrize("kwargs, field, code", [
    ({"type": "resembles"}, "type", "invalid_choice"),
    ({"type": "relates", "lag": 2}, "lag", "not_allowed"),
    ({"type": "relates", "description": "x" * 10_001}, "description", "too_long"),
    ({"type": "relates", "to_item": "self"}, "successor", "self_dependency"),
    ({"type": None}, "type", "null"),
])
def test_bad_relations_are_refused_and_nothing_is_written(owner, trio, kwargs, field, code):
    a, b, _ = trio
    values = {"from_item": a, "to_item": b, **kwargs}
    if values["to_item"] == "self":
        values["to_item"] = a
    before, events = rows_of(a.project), ChangeEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        relation_create(actor=owner, **values)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert rows_of(a.project) == before and ChangeEvent.objects.count() == events


def test_a_relation_across_projects_is_refused(owner, trio):
    a, _, _ = trio
    elsewhere = make_project(owner, name="Elsewhere")
    x = task_create(actor=owner, project=elsewhere, name="X")
    with pytest.raises(InvalidInput) as caught:
        relation_create(actor=owner, from_item=a, to_item=x, type="relates")
    assert caught.value.code == "cross_project_dependency"


def test_a_non_member_learns_nothing_of_the_other_end(owner, members, trio):
    """An attacker relating their own work item to one in a project they cannot see is told it does not exist,
    exactly as for an id that was never used, and nothing is written."""
    a, _, _ = trio
    attacker = members["viewer"].__class__.objects.create_user("mallory", password="not-a-secret-9")
    theirs = make_project(attacker, name="Mine")
    mine = task_create(actor=attacker, project=theirs, name="M")
    before = rows_of(a.project), rows_of(theirs)
    with pytest.raises(InvalidInput) as caught:
        relation_create(actor=attacker, from_item=mine, to_item=a, type="relates")
    assert (caught.value.code, caught.value.field, str(caught.value)) == (
        "invalid_reference", "to_item", "The work item does not exist.")
    with pytest.raises(InvalidInput) as caught:
        relation_create(actor=attacker, from_item=a, to_item=mine, type="relates")
    assert (caught.value.code, caught.value.field) == ("invalid_reference", "from_item")
    for kind in ("precedes", "follows"):
        with pytest.raises(InvalidInput) as caught:
            relation_create(actor=attacker, from_item=mine, to_item=a, type=kind)
        assert (caught.value.code, caught.value.field, str(caught.value)) == (
            "invalid_reference", "to_item", "The work item does not exist.")
    assert (rows_of(a.project), rows_of(theirs)) == before


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_roles_below_scheduler_may_not_touch_relations(owner, members, trio, role):
    a, b, _ = trio
    rel = relation_create(actor=owner, from_item=a, to_item=b, type="relates")
    before = rows_of(a.project)
    actor = members[role]
    with pytest.raises(PermissionDenied):
        relation_create(actor=actor, from_item=a, to_item=b, type="blocks")
    with pytest.raises(PermissionDenied):
        relation_update(actor=actor, relation=rel, description="mine now")
    with pytest.raises(PermissionDenied):
        relation_delete(actor=actor, relation=rel)
    assert rows_of(a.project) == before
    relation_create(actor=members["scheduler"], from_item=a, to_item=b, type="blocks")


def test_an_outsider_cannot_read_a_relation(owner, outsider, trio):
    a, b, _ = trio
    rel = relation_create(actor=owner, from_item=a, to_item=b, type="relates")
    assert not relation_list(actor=outsider).exists()
    with pytest.raises(NotFound):
        relation_get(actor=outsider, pk=rel.pk)


def test_updating_a_relation_changes_kind_and_description_but_never_crosses_into_scheduling(owner, trio):
    a, b, _ = trio
    rel = relation_create(actor=owner, from_item=a, to_item=b, type="blocks")
    rel = relation_update(actor=owner, relation=rel, type="blocked", description="waits on A", lock_version=0)
    assert (rel.predecessor_id, rel.successor_id, rel.dep_type, rel.description, rel.lock_version) == (
        b.pk, a.pk, RelationType.BLOCKS, "waits on A", 1)
    before = rows_of(a.project)
    for bad in ({"type": "precedes"}, {"lag": 3}, {"to_item": a}):
        with pytest.raises(InvalidInput):
            relation_update(actor=owner, relation=rel, **bad)
    assert rows_of(a.project) == before
    link = relation_create(actor=owner, from_item=a, to_item=b, type="precedes")
    with pytest.raises(InvalidInput):
        relation_update(actor=owner, relation=link, type="relates")
    link = relation_update(actor=owner, relation=link, lag=2, lag_unit="wd")
    assert early(b) == dt.date(2026, 1, 12)
    link = relation_update(actor=owner, relation=link, type="follows")
    assert (link.predecessor_id, link.successor_id) == (b.pk, a.pk)


def test_a_stale_lock_version_is_refused(owner, trio):
    a, b, _ = trio
    rel = relation_create(actor=owner, from_item=a, to_item=b, type="relates")
    relation_update(actor=owner, relation=rel, description="first")
    with pytest.raises(Conflict):
        relation_update(actor=owner, relation=rel, description="second", lock_version=0)
    assert Dependency.relations.get(pk=rel.pk).description == "first"


def test_deleting_a_work_item_takes_its_relations_and_restoring_brings_them_back(owner, trio):
    a, b, c = trio
    rel = relation_create(actor=owner, from_item=a, to_item=b, type="requires")
    kept = relation_create(actor=owner, from_item=b, to_item=c, type="relates")
    task_delete(actor=owner, task=a)
    assert not Dependency.relations.filter(pk=rel.pk).exists()
    assert Dependency.relations.filter(pk=kept.pk).exists()
    deleted = ChangeEvent.objects.filter(entity="relation", entity_id=rel.pk, action="deleted")
    assert deleted.count() == 1
    task_restore(actor=owner, task_id=a.pk)
    assert Dependency.relations.filter(pk=rel.pk).exists()


def test_a_relation_comes_back_only_when_both_ends_are_live(owner, trio):
    a, b, _ = trio
    rel = relation_create(actor=owner, from_item=a, to_item=b, type="relates")
    task_delete(actor=owner, task=a)
    task_delete(actor=owner, task=b)
    task_restore(actor=owner, task_id=b.pk)
    assert not Dependency.relations.filter(pk=rel.pk).exists()
    task_restore(actor=owner, task_id=a.pk)
    assert Dependency.relations.filter(pk=rel.pk).exists()
