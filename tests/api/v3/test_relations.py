"""Relations through ``/api/v3``: finish-to-start links as ``follows``/``precedes`` (they reschedule), the other
kinds as relations that do not; created at ``/relations`` and at ``/work_packages/{id}/relations`` in every body
shape real clients send; listed at both with 200; OpenProject's errors with nothing written."""

from __future__ import annotations

import json

import pytest

from keelplan.planning.models import Dependency
from keelplan.planning.services import dependency_create, task_create
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add

from conftest import make_project, make_user

from .conftest import HAL, assert_v3_error, v3_client

pytestmark = pytest.mark.django_db


def wp(pk) -> dict:
    return {"href": f"/api/v3/work_packages/{pk}"}


def links_state(project) -> list[tuple]:
    return sorted(Dependency.every_row.filter(project=project).values_list(
        "id", "predecessor_id", "successor_id", "dep_type", "lag", "description", "deleted_at", "lock_version"))


@pytest.fixture
def pair(owner, project):
    first = task_create(actor=owner, project=project, name="Order", duration=3)
    second = task_create(actor=owner, project=project, name="Install", duration=2)
    return first, second


def start_of(v3, task) -> str:
    return v3.get(f"/api/v3/work_packages/{task.pk}").json()["startDate"]


def test_precedes_at_relations_makes_a_scheduling_link(v3, project, pair):
    first, second = pair
    answer = v3.post("/api/v3/relations", {"type": "precedes", "lag": 2, "description": "hardware first",
                                           "_links": {"from": wp(first.pk), "to": wp(second.pk)}}, format="json")
    assert answer.status_code == 201 and answer["Content-Type"] == HAL
    body = answer.json()
    link = Dependency.objects.get(pk=body["id"])
    assert (link.predecessor_id, link.successor_id, link.dep_type, link.lag, link.lag_unit) == (
        first.pk, second.pk, "FS", 2, "wd")
    # Shown as OpenProject stores it: the successor follows the predecessor.
    assert (body["_type"], body["type"], body["reverseType"], body["lag"], body["description"]) == (
        "Relation", "follows", "precedes", 2, "hardware first")
    assert body["_links"]["from"] == {"href": f"/api/v3/work_packages/{second.pk}", "title": "Install"}
    assert body["_links"]["to"] == {"href": f"/api/v3/work_packages/{first.pk}", "title": "Order"}
    assert body["_embedded"]["from"]["_type"] == "WorkPackage"
    # Install starts two working days after Order finishes on Wednesday 7 January.
    assert start_of(v3, second) == "2026-01-12"


def test_follows_at_a_work_packages_relations_with_top_level_ends(v3, pair):
    first, second = pair
    answer = v3.post(f"/api/v3/work_packages/{second.pk}/relations", {
        "_type": "Relation", "type": "follows", "from": wp(second.pk), "to": wp(first.pk), "description": "None"},
        format="json")
    assert answer.status_code == 201
    assert Dependency.objects.filter(predecessor=first, successor=second, dep_type="FS").exists()
    assert start_of(v3, second) == "2026-01-08"


def test_cli_shape_links_to_only(v3, pair):
    first, second = pair
    answer = v3.post(f"/api/v3/work_packages/{first.pk}/relations",
                     {"type": "relates", "_links": {"to": wp(second.pk)}, "description": "see also"}, format="json")
    assert answer.status_code == 201
    body = answer.json()
    assert (body["type"], body["reverseType"], body["lag"]) == ("relates", "relates", None)
    assert start_of(v3, second) == "2026-01-05"   # a relation moves nothing


@pytest.mark.parametrize("name, stored, swapped", [
    ("duplicates", "duplicates", False), ("duplicated", "duplicates", True), ("blocks", "blocks", False),
    ("blocked", "blocks", True), ("includes", "includes", False), ("partof", "includes", True),
    ("requires", "requires", False), ("requiredby", "requires", True), ("required", "requires", True),
])
def test_every_relation_type(v3, pair, name, stored, swapped):
    first, second = pair
    body = v3.post("/api/v3/relations", {"type": name, "_links": {"from": wp(first.pk), "to": wp(second.pk)}},
                   format="json").json()
    row = Dependency.relations.get(pk=body["id"])
    assert row.dep_type == stored
    assert (row.predecessor_id, row.successor_id) == ((second.pk, first.pk) if swapped else (first.pk, second.pk))


def test_both_lists_answer_200_with_filters(owner, v3, project, pair):
    first, second = pair
    third = task_create(actor=owner, project=project, name="Test")
    link = dependency_create(actor=owner, predecessor=first, successor=second)
    rel = v3.post("/api/v3/relations", {"type": "blocks", "_links": {"from": wp(second.pk), "to": wp(third.pk)}},
                  format="json").json()
    dependency_create(actor=owner, predecessor=first, successor=third, dep_type="SS")  # no OpenProject name
    listed = v3.get(f"/api/v3/work_packages/{second.pk}/relations")
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()["_embedded"]["elements"]] == [link.pk, rel["id"]]
    every = v3.get("/api/v3/relations").json()
    assert every["total"] == 2
    involved = v3.get("/api/v3/relations", {"filters": json.dumps([{"involved": {"operator": "=", "values": [
        str(third.pk)]}}])}).json()
    assert [e["id"] for e in involved["_embedded"]["elements"]] == [rel["id"]]
    typed = v3.get(f"/api/v3/work_packages/{second.pk}/relations", {"filters": json.dumps([{"type": {
        "operator": "=", "values": ["follows"]}}])}).json()
    assert [e["id"] for e in typed["_embedded"]["elements"]] == [link.pk]
    from_filter = v3.get("/api/v3/relations", {"filters": json.dumps([{"from": {"operator": "=", "values": [
        str(second.pk)]}}])}).json()
    assert {e["id"] for e in from_filter["_embedded"]["elements"]} == {link.pk, rel["id"]}
    assert_v3_error(v3.get("/api/v3/relations", {"filters": '[{"colour":{"operator":"=","values":["1"]}}]'}),
                    400, "InvalidQuery")


def test_patch_lag_description_and_direction(v3, pair):
    first, second = pair
    body = v3.post("/api/v3/relations", {"type": "precedes", "_links": {"from": wp(first.pk), "to": wp(second.pk)}},
                   format="json").json()
    body = v3.patch(f"/api/v3/relations/{body['id']}", {"lag": 3, "description": "wait"}, format="json").json()
    assert (body["lag"], body["description"]) == (3, "wait")
    assert start_of(v3, second) == "2026-01-13"
    # Asking that the successor now precede its predecessor turns the link round.
    body = v3.patch(f"/api/v3/relations/{body['id']}", {"type": "precedes"}, format="json").json()
    row = Dependency.objects.get(pk=body["id"])
    assert (row.predecessor_id, row.successor_id) == (second.pk, first.pk)


def test_changing_an_end_is_read_only_and_changes_nothing(owner, v3, project, pair):
    first, second = pair
    third = task_create(actor=owner, project=project, name="Other")
    body = v3.post("/api/v3/relations", {"type": "relates", "_links": {"from": wp(first.pk), "to": wp(second.pk)}},
                   format="json").json()
    before = links_state(project)
    assert_v3_error(v3.patch(f"/api/v3/relations/{body['id']}", {"_links": {"from": wp(third.pk)}},
                             format="json"), 422, "PropertyIsReadOnly", attribute="from")
    assert links_state(project) == before
    # The same ends sent back are accepted (clients send the whole object).
    assert v3.patch(f"/api/v3/relations/{body['id']}", body, format="json").status_code == 200


@pytest.mark.parametrize("body, identifier, attribute", [
    ({"type": "resembles"}, "PropertyConstraintViolation", "type"),
    ({"type": "precedes", "lag": "two"}, "PropertyFormatError", "lag"),
    ({"type": "relates", "lag": 2}, "PropertyConstraintViolation", "lag"),
    ({"type": "precedes", "lag": 10**6}, "PropertyConstraintViolation", "lag"),
])
def test_bad_relations_are_refused_and_nothing_is_written(v3, project, pair, body, identifier, attribute):
    first, second = pair
    before = links_state(project)
    assert_v3_error(v3.post("/api/v3/relations", {**body, "_links": {"from": wp(first.pk), "to": wp(second.pk)}},
                            format="json"), 422, identifier, attribute=attribute)
    assert links_state(project) == before


def test_a_circular_follows_is_refused_but_a_circular_relates_is_not(v3, project, pair):
    first, second = pair
    v3.post("/api/v3/relations", {"type": "precedes", "_links": {"from": wp(first.pk), "to": wp(second.pk)}},
            format="json")
    before = links_state(project)
    assert_v3_error(v3.post("/api/v3/relations", {"type": "precedes", "_links": {
        "from": wp(second.pk), "to": wp(first.pk)}}, format="json"), 422, "PropertyConstraintViolation")
    assert links_state(project) == before
    assert v3.post("/api/v3/relations", {"type": "relates", "_links": {
        "from": wp(second.pk), "to": wp(first.pk)}}, format="json").status_code == 201


def test_a_self_relation_and_a_missing_end_are_refused(v3, project, pair):
    first, _ = pair
    before = links_state(project)
    assert_v3_error(v3.post("/api/v3/relations", {"type": "relates", "_links": {
        "from": wp(first.pk), "to": wp(first.pk)}}, format="json"), 422, "PropertyConstraintViolation")
    assert_v3_error(v3.post("/api/v3/relations", {"type": "relates", "_links": {"from": wp(first.pk)}},
                            format="json"), 422, "PropertyConstraintViolation", attribute="to")
    assert links_state(project) == before


def test_an_end_the_caller_cannot_see_is_refused_as_unknown(owner, pair, project):
    first, _ = pair
    attacker = make_user("attacker")
    theirs = make_project(attacker, name="Theirs")
    mine = task_create(actor=attacker, project=theirs, name="Mine")
    client = v3_client(attacker)
    before = links_state(project), links_state(theirs)
    hidden = assert_v3_error(client.post(f"/api/v3/work_packages/{mine.pk}/relations", {
        "type": "relates", "_links": {"to": wp(first.pk)}}, format="json"), 422, "PropertyConstraintViolation",
        attribute="to")
    missing = assert_v3_error(client.post(f"/api/v3/work_packages/{mine.pk}/relations", {
        "type": "relates", "_links": {"to": wp(999999)}}, format="json"), 422, "PropertyConstraintViolation")
    assert hidden == missing
    assert (links_state(project), links_state(theirs)) == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER])
def test_below_scheduler_may_not_manage_relations(owner, project, pair, role):
    first, second = pair
    link = dependency_create(actor=owner, predecessor=first, successor=second)
    person = make_user("below")
    membership_add(actor=owner, project=project, user=person, role=role)
    client = v3_client(person)
    listed = client.get(f"/api/v3/relations/{link.pk}").json()
    assert not {"update", "updateImmediately", "delete"} & set(listed["_links"])
    before = links_state(project)
    assert_v3_error(client.post("/api/v3/relations", {"type": "relates", "_links": {
        "from": wp(first.pk), "to": wp(second.pk)}}, format="json"), 403, "MissingPermission")
    assert_v3_error(client.patch(f"/api/v3/relations/{link.pk}", {"lag": 4}, format="json"), 403,
                    "MissingPermission")
    assert_v3_error(client.delete(f"/api/v3/relations/{link.pk}", content_type="application/json"), 403,
                    "MissingPermission")
    assert links_state(project) == before


def test_an_outsider_gets_404(owner, project, pair):
    first, second = pair
    link = dependency_create(actor=owner, predecessor=first, successor=second)
    stranger = v3_client(make_user("stranger"))
    assert_v3_error(stranger.get(f"/api/v3/relations/{link.pk}"), 404, "NotFound")
    assert_v3_error(stranger.get(f"/api/v3/work_packages/{first.pk}/relations"), 404, "NotFound")
    assert stranger.get("/api/v3/relations").json()["total"] == 0


def test_delete_answers_204_and_moves_the_successor_back(v3, pair):
    first, second = pair
    body = v3.post("/api/v3/relations", {"type": "precedes", "_links": {"from": wp(first.pk), "to": wp(second.pk)}},
                   format="json").json()
    assert start_of(v3, second) == "2026-01-08"
    answer = v3.delete(f"/api/v3/relations/{body['id']}", content_type="application/json")
    assert answer.status_code == 204 and answer.content == b""
    assert start_of(v3, second) == "2026-01-05"
    assert_v3_error(v3.get(f"/api/v3/relations/{body['id']}"), 404, "NotFound")
