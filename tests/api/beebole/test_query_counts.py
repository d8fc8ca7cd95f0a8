"""Beebole's lists have no pages (every item in one answer), so each reads a fixed number of queries however
many rows it shows: four times the rows, the same count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LISTS = {
    "project.list": lambda ids: {"company": {"id": ids["company"]}},
    "subproject.list": lambda ids: {"project": {"id": ids["parent"]}},
    "person.list": lambda ids: {"company": {"id": ids["company"]}},
    "company.list": lambda ids: {},
    "group.tree": lambda ids: {},
    "task.list": lambda ids: {"company": {"id": ids["company"]}},
    "project.members": lambda ids: {"id": ids["parent"]},
    "project.managers": lambda ids: {"id": ids["parent"]},
    "custom_field.list": lambda ids: {},
}


def _grow(bb, ids: dict, count: int, start: int) -> None:
    for n in range(start, start + count):
        project = bb.call("project.create", project={"name": f"Project {n}", "company": {"id": ids["company"]}})
        bb.call("subproject.create", subproject={"name": f"Sub {n}", "project": {"id": ids["parent"]}})
        person = bb.call("person.create", person={"name": f"Person {n}", "company": {"id": ids["company"]}})
        bb.call("project.attach_manager", id=ids["parent"], person={"id": person["id"]})
        bb.call("company.create", company={"name": f"Company {n}"})
        bb.call("group.create", group={"name": f"Group {n}"})
        bb.call("task.create", task={"name": f"Task {n}", "company": {"id": ids["company"]}})
        assert project["id"]


def _queries(bb, service: str, body: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        bb.call(service, **body)
    return len(captured.captured_queries)


def test_every_list_reads_a_fixed_number_of_queries(bb):
    company = bb.call("company.create", company={"name": "Acme"})["id"]
    parent = bb.call("project.create", project={"name": "Parent", "company": {"id": company}})["id"]
    ids = {"company": company, "parent": parent}
    _grow(bb, ids, 2, 0)
    few = {service: _queries(bb, service, body(ids)) for service, body in LISTS.items()}
    _grow(bb, ids, 6, 2)
    many = {service: _queries(bb, service, body(ids)) for service, body in LISTS.items()}
    assert many == few
