"""Contract of ``/api/v1/dependencies/``: filters, same-project links only, no self-links, no cycles (summaries
included), no duplicates, lag within range."""

from __future__ import annotations

import pytest

from keelplan.planning.models import Dependency
from keelplan.planning.services import dependency_create, task_create

from conftest import client_for, make_project, make_user

from .contract import (
    EndpointContract, assert_error, assert_nothing_written, db_state, json_body, result_ids,
)

URL = "/api/v1/dependencies/"


def chain(owner, project, *names):
    return [task_create(actor=owner, project=project, name=name) for name in names]


class TestDependencyContract(EndpointContract):
    model = Dependency
    list_path = URL
    change_entity = "dependency"
    detail_fields = ("id", "uid", "project", "predecessor", "successor", "dep_type", "lag", "lag_unit", "description",
                     "is_driving", "lock_version", "created_at", "updated_at")

    def writer(self, ctx):
        """The project's Admin: the Owner fixture is also a workspace administrator, who sees every project, so
        the refusals of rows in projects the writer cannot see need someone who is not."""
        return ctx.members["admin"]

    def make(self, ctx):
        a, b, c = chain(ctx.owner, ctx.project, "Excavate", "Pour", "Cure")
        self.spare = c
        return dependency_create(actor=ctx.owner, predecessor=a, successor=b)

    def create_payloads(self, ctx):
        a, b, c, d = chain(ctx.owner, ctx.project, "Frame", "Roof", "Wire", "Paint")
        return [
            {"predecessor": a.pk, "successor": b.pk},
            {"predecessor": b.pk, "successor": c.pk, "dep_type": "SS", "lag": 2, "lag_unit": "wd",
             "description": "Start wiring under the roof"},
            {"predecessor": c.pk, "successor": d.pk, "dep_type": "FF", "lag": -3},
            {"predecessor": a.pk, "successor": d.pk, "dep_type": "SF", "lag": 50, "lag_unit": "pct"},
        ]

    def put_payload(self, ctx, obj):
        return {"predecessor": obj.predecessor_id, "successor": self.spare.pk, "dep_type": "FF", "lag": 1}

    def patch_payloads(self, ctx, obj):
        return [{"lag": 3}, {"dep_type": "SS", "lag_unit": "wd"}, {"description": "Concrete first"}]

    def bad_create_payloads(self, ctx):
        a, b = chain(ctx.owner, ctx.project, "Left", "Right")
        sister = make_project(self.writer(ctx), name="Sister")
        (far,) = chain(self.writer(ctx), sister, "Far")
        stranger = make_project(make_user(), name="Stranger")
        (hidden,) = chain(stranger.created_by, stranger, "Hidden")
        return [
            ({"successor": b.pk}, "predecessor"),
            ({"predecessor": a.pk}, "successor"),
            ({"predecessor": None, "successor": b.pk}, "predecessor"),
            ({"predecessor": "abc", "successor": b.pk}, "predecessor"),
            ({"predecessor": 99999999, "successor": b.pk}, "predecessor"),
            ({"predecessor": 99999999999999999999, "successor": b.pk}, "predecessor"),
            ({"predecessor": [a.pk], "successor": b.pk}, "predecessor"),
            ({"predecessor": a.pk, "successor": {"id": b.pk}}, "successor"),
            ({"predecessor": a.pk, "successor": 99999999}, "successor"),
            ({"predecessor": a.pk, "successor": hidden.pk}, "successor"),
            ({"predecessor": hidden.pk, "successor": b.pk}, "predecessor"),
            ({"predecessor": a.pk, "successor": far.pk}, "predecessor"),
            ({"predecessor": a.pk, "successor": a.pk}, "successor"),
            ({"predecessor": a.pk, "successor": b.pk, "dep_type": "XX"}, "dep_type"),
            ({"predecessor": a.pk, "successor": b.pk, "dep_type": "fs"}, "dep_type"),
            ({"predecessor": a.pk, "successor": b.pk, "lag": 99999}, "lag"),
            ({"predecessor": a.pk, "successor": b.pk, "lag": -99999}, "lag"),
            ({"predecessor": a.pk, "successor": b.pk, "lag": 36526}, "lag"),
            ({"predecessor": a.pk, "successor": b.pk, "lag": "3"}, "lag"),
            ({"predecessor": a.pk, "successor": b.pk, "lag": 1.5}, "lag"),
            ({"predecessor": a.pk, "successor": b.pk, "lag": None}, "lag"),
            ({"predecessor": a.pk, "successor": b.pk, "lag": 99999999999999999999}, "lag"),
            ({"predecessor": a.pk, "successor": b.pk, "lag": 10001, "lag_unit": "pct"}, "lag"),
            ({"predecessor": a.pk, "successor": b.pk, "lag_unit": "hours"}, "lag_unit"),
        ]

    def bad_update_payloads(self, ctx, obj):
        return [
            ({"lag": 99999}, "lag"),
            ({"lag": "x"}, "lag"),
            ({"dep_type": "ZZ"}, "dep_type"),
            ({"successor": obj.predecessor_id}, "successor"),
            ({"predecessor": 99999999}, "predecessor"),
            ({"successor": "next"}, "successor"),
        ]


def test_type_lag_and_unit_default_to_fs_zero_elapsed_days(owner, project, api):
    a, b = chain(owner, project, "A", "B")
    body = json_body(api.post(URL, {"predecessor": a.pk, "successor": b.pk}, format="json"))
    assert (body["dep_type"], body["lag"], body["lag_unit"], body["project"]) == ("FS", 0, "ed", project.pk)


# ---------------------------------------------------------------- filters

def test_filter_by_project_and_type(owner, project, api):
    a, b, c = chain(owner, project, "A", "B", "C")
    sister = make_project(owner, name="Sister")
    x, y = chain(owner, sister, "X", "Y")
    fs = dependency_create(actor=owner, predecessor=a, successor=b)
    ss = dependency_create(actor=owner, predecessor=b, successor=c, dep_type="SS")
    other = dependency_create(actor=owner, predecessor=x, successor=y)
    assert result_ids(api, URL, project=project.pk) == [fs.pk, ss.pk]
    assert result_ids(api, URL, project=sister.pk) == [other.pk]
    assert result_ids(api, URL, dep_type="FS") == [fs.pk, other.pk]
    assert result_ids(api, URL, dep_type="SS", project=project.pk) == [ss.pk]
    assert result_ids(api, URL, dep_type="FF") == []
    assert json_body(api.get(f"{URL}{fs.pk}/"))["project"] == project.pk


@pytest.mark.parametrize("params, name", [
    ({"dep_type": "XX"}, "dep_type"),
    ({"dep_type": "fs"}, "dep_type"),
    ({"project": "apollo"}, "project"),
    ({"project": "99999999999999999999"}, "project"),
    ({"task": "0"}, "task"),
])
def test_bad_filter_values_are_400_naming_the_parameter(project, api, params, name):
    assert_error(api.get(URL, params), 400, field=name)


# ---------------------------------------------------------------- link rules

def test_cross_project_link_is_refused(owner, project, api):
    (here,) = chain(owner, project, "Here")
    sister = make_project(owner, name="Sister")
    (there,) = chain(owner, sister, "There")
    before = db_state()
    for pred, succ in ((here, there), (there, here)):
        assert_error(api.post(URL, {"predecessor": pred.pk, "successor": succ.pk}, format="json"), 400,
                     code="cross_project_dependency")
    assert_nothing_written(before, "cross-project link")


def test_moving_a_link_to_another_project_is_refused(owner, project, api):
    a, b = chain(owner, project, "A", "B")
    sister = make_project(owner, name="Sister")
    (far,) = chain(owner, sister, "Far")
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    before = db_state()
    assert_error(api.patch(f"{URL}{link.pk}/", {"successor": far.pk}, format="json"), 400,
                 code="cross_project_dependency")
    assert_error(api.patch(f"{URL}{link.pk}/", {"predecessor": far.pk}, format="json"), 400,
                 code="cross_project_dependency")
    assert_nothing_written(before, "link moved across projects")


def test_self_link_is_refused(owner, project, api):
    (a,) = chain(owner, project, "Alone")
    before = db_state()
    assert_error(api.post(URL, {"predecessor": a.pk, "successor": a.pk}, format="json"), 400, field="successor",
                 code="self_dependency")
    assert_nothing_written(before, "self link")


def test_link_closing_a_cycle_is_refused_with_the_cycle_named(owner, project, api):
    a, b, c = chain(owner, project, "Alpha", "Bravo", "Charlie")
    dependency_create(actor=owner, predecessor=a, successor=b)
    dependency_create(actor=owner, predecessor=b, successor=c)
    before = db_state()
    body = assert_error(api.post(URL, {"predecessor": c.pk, "successor": a.pk}, format="json"), 400,
                        code="cyclic_dependency")
    assert body["offending"] == body["cycle"] == [a.pk, b.pk, c.pk, a.pk]
    for name in ("Alpha", "Bravo", "Charlie"):
        assert name in body["detail"]
    assert any(isinstance(v, list) and v and isinstance(v[0], str) for k, v in body.items() if k in
               ("predecessor", "successor")), body
    assert_nothing_written(before, "cycle")


def test_two_task_cycle_is_refused(owner, project, api):
    a, b = chain(owner, project, "Ping", "Pong")
    dependency_create(actor=owner, predecessor=a, successor=b)
    before = db_state()
    body = assert_error(api.post(URL, {"predecessor": b.pk, "successor": a.pk, "dep_type": "SS"}, format="json"), 400,
                        code="cyclic_dependency")
    assert body["cycle"] == [a.pk, b.pk, a.pk]
    assert_nothing_written(before, "two-task cycle")


def test_rewiring_a_link_into_a_cycle_is_refused(owner, project, api):
    a, b, c = chain(owner, project, "One", "Two", "Three")
    dependency_create(actor=owner, predecessor=a, successor=b)
    second = dependency_create(actor=owner, predecessor=b, successor=c)
    before = db_state()
    assert_error(api.patch(f"{URL}{second.pk}/", {"predecessor": b.pk, "successor": a.pk}, format="json"), 400,
                 code="cyclic_dependency")
    assert_error(api.put(f"{URL}{second.pk}/", {"predecessor": b.pk, "successor": a.pk}, format="json"), 400,
                 code="cyclic_dependency")
    assert_nothing_written(before, "rewired cycle")


def test_summary_linked_to_its_own_child_is_a_cycle(owner, project, api):
    summary = task_create(actor=owner, project=project, name="Phase")
    child = task_create(actor=owner, project=project, name="Step", parent=summary)
    before = db_state()
    for pred, succ in ((summary, child), (child, summary)):
        body = assert_error(api.post(URL, {"predecessor": pred.pk, "successor": succ.pk}, format="json"), 400,
                            code="cyclic_dependency")
        assert set(body["cycle"]) == {summary.pk, child.pk}
    assert_nothing_written(before, "summary to own child")


def test_cycle_through_a_summary_is_refused(owner, project, api):
    summary = task_create(actor=owner, project=project, name="Phase")
    child = task_create(actor=owner, project=project, name="Step", parent=summary)
    (outside,) = chain(owner, project, "Outside")
    dependency_create(actor=owner, predecessor=summary, successor=outside)
    before = db_state()
    assert_error(api.post(URL, {"predecessor": outside.pk, "successor": child.pk}, format="json"), 400,
                 code="cyclic_dependency")
    assert_nothing_written(before, "cycle through a summary")


def test_duplicate_link_is_409(owner, project, api):
    a, b = chain(owner, project, "A", "B")
    dependency_create(actor=owner, predecessor=a, successor=b)
    before = db_state()
    assert_error(api.post(URL, {"predecessor": a.pk, "successor": b.pk, "dep_type": "FS", "lag": 4}, format="json"),
                 409, code="duplicate_dependency")
    assert_nothing_written(before, "duplicate link")
    # Another type between the same two tasks is a different link.
    assert api.post(URL, {"predecessor": a.pk, "successor": b.pk, "dep_type": "SS"}, format="json").status_code == 201


def test_deleted_link_can_be_made_again(owner, project, api):
    a, b = chain(owner, project, "A", "B")
    link = dependency_create(actor=owner, predecessor=a, successor=b)
    assert api.delete(f"{URL}{link.pk}/").status_code == 204
    assert api.post(URL, {"predecessor": a.pk, "successor": b.pk}, format="json").status_code == 201


@pytest.mark.parametrize("lag", [-36525, -1, 0, 36525])
def test_lag_range_is_inclusive(owner, project, api, lag):
    a, b = chain(owner, project, "A", "B")
    body = json_body(api.post(URL, {"predecessor": a.pk, "successor": b.pk, "lag": lag}, format="json"))
    assert body["lag"] == lag


def test_link_to_a_deleted_task_is_refused(owner, project, api):
    a, b = chain(owner, project, "A", "B")
    assert api.delete(f"/api/v1/tasks/{b.pk}/").status_code == 204
    before = db_state()
    assert_error(api.post(URL, {"predecessor": a.pk, "successor": b.pk}, format="json"), 400, field="successor")
    assert_error(api.post(URL, {"predecessor": b.pk, "successor": a.pk}, format="json"), 400, field="predecessor")
    assert_nothing_written(before, "link to a deleted task")


def test_scheduler_may_link_but_member_may_not(project, members):
    owner = members["owner"]
    a, b = chain(owner, project, "A", "B")
    before = db_state()
    assert_error(client_for(members["member"]).post(URL, {"predecessor": a.pk, "successor": b.pk}, format="json"), 403)
    assert_nothing_written(before, "member linking")
    response = client_for(members["scheduler"]).post(URL, {"predecessor": a.pk, "successor": b.pk}, format="json")
    assert response.status_code == 201, response.content
