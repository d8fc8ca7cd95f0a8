"""Drives ``pyopenproject`` (Flying-Free, 0.7.4) against a live Keelplan; see ``_driver.py`` for the protocol.

pyopenproject's objects are the response bodies themselves (``obj.__dict__`` is the JSON), and its quirks are
what this driver exists to exercise: creates POST to ``/api/v3/work_packages/`` (trailing slash), reads use
``/api/v3/work_packages//{id}`` (doubled slash), updates PATCH the whole object back (``_links``, ``_embedded``
and read-only properties included), relations are posted with top-level ``from``/``to`` built from each work
package's ``_links.self.href``, and lists follow ``_links.nextByOffset``.
"""

from __future__ import annotations

import sys

from _driver import pick_type, run
from pyopenproject.business.exception.business_error import BusinessError
from pyopenproject.model.project import Project
from pyopenproject.model.work_package import WorkPackage
from pyopenproject.openproject import OpenProject


def _body(obj) -> dict:
    return dict(obj.__dict__)


def _error(call) -> dict:
    """What a call the scenario expects to fail raised: pyopenproject wraps the server's answer in its errors."""
    try:
        value = call()
    except BusinessError as exc:
        cause = exc.__cause__
        return {"raised": "BusinessError", "message": str(exc), "cause": str(cause) if cause else None}
    return {"raised": None, "value": _body(value) if value is not None else None}


def _project(op: OpenProject, plan: dict, step) -> Project:
    with step("project service create"):
        return op.get_project_service().create(Project({
            "name": plan["project_name"], "identifier": plan["project_identifier"],
            "description": {"raw": "Made by pyopenproject."}}))


def _type_href(op: OpenProject, project: Project, step) -> str:
    with step("project service find_types"):
        types = [_body(t) for t in op.get_project_service().find_types(project)]
        return pick_type(types)["_links"]["self"]["href"]


def _new_work_package(op: OpenProject, project: Project, type_href: str, subject: str, start: str, due: str):
    return op.get_work_package_service().create(WorkPackage({
        "subject": subject, "scheduleManually": True, "startDate": start, "dueDate": due,
        "description": {"raw": "Made by pyopenproject."},
        "_links": {"project": {"href": project._links["self"]["href"]}, "type": {"href": type_href}}}))


def projects(plan: dict, step) -> dict:
    op = OpenProject(url=plan["base_url"], api_key=plan["token"])
    service = op.get_project_service()
    out: dict = {}
    with step("project service find_all"):
        out["before"] = [p.id for p in service.find_all()]
    created = _project(op, plan, step)
    out["created"] = _body(created)
    with step("project service find"):
        found = service.find(created)
        out["found"] = _body(found)
    with step("project service update (whole object sent back)"):
        found.name = plan["project_name"] + " (renamed)"
        out["updated"] = _body(service.update(found))
    with step("project service find_all again"):
        out["listed_ids"] = [p.id for p in service.find_all()]
    with step("type service find_all"):
        out["types"] = [t.name for t in op.get_type_service().find_all()]
    with step("status service find_all"):
        out["statuses"] = [s.name for s in op.get_status_service().find_all()]
    with step("priority service find_all"):
        out["priorities"] = [p.name for p in op.get_priority_service().find_all()]
    with step("project service create (to delete)"):
        doomed = service.create(Project({"name": plan["project_name"] + " doomed",
                                         "identifier": plan["project_identifier"] + "-doomed"}))
    with step("project service delete"):
        out["deleted"] = service.delete(doomed)
    with step("project service find (deleted)"):
        out["find_deleted"] = _error(lambda: service.find(doomed))
    return out


def work_packages(plan: dict, step) -> dict:
    op = OpenProject(url=plan["base_url"], api_key=plan["token"])
    wps = op.get_work_package_service()
    dates = plan["dates"]
    project = _project(op, plan, step)
    type_href = _type_href(op, project, step)
    out: dict = {"project": _body(project), "type_href": type_href}
    with step("work package service create (POST work_packages/)"):
        created = _new_work_package(op, project, type_href, plan["subject"], dates["a_start"], dates["a_due"])
        out["created"] = _body(created)
    with step("work package service find (GET work_packages//{id})"):
        found = wps.find(created)
        out["found"] = _body(found)
    with step("work package service update (whole object sent back)"):
        found.subject = plan["subject"] + " (edited)"
        found.dueDate = dates["a_due_2"]
        out["updated"] = _body(wps.update(found))
    with step("work package service update with a stale lockVersion"):
        stale = WorkPackage(_body(created))
        stale.subject = "stale"
        out["stale_update"] = _error(lambda: wps.update(stale))
    with step("project service find_work_packages"):
        out["in_project"] = [_body(w) for w in op.get_project_service().find_work_packages(project)]
    with step("work package service find_all"):
        out["all_ids"] = [w.id for w in wps.find_all()]
    with step("work package service delete"):
        out["deleted"] = wps.delete(created)
    with step("work package service find (deleted)"):
        out["find_deleted"] = _error(lambda: wps.find(created))
    return out


def relations(plan: dict, step) -> dict:
    op = OpenProject(url=plan["base_url"], api_key=plan["token"])
    wps = op.get_work_package_service()
    dates = plan["dates"]
    project = _project(op, plan, step)
    type_href = _type_href(op, project, step)
    out: dict = {}
    with step("work package service create (predecessor)"):
        first = _new_work_package(op, project, type_href, plan["subject"] + " first", dates["a_start"],
                                  dates["a_due"])
    with step("work package service create (successor)"):
        second = _new_work_package(op, project, type_href, plan["subject"] + " second", dates["b_start"],
                                   dates["b_due"])
    out["first"], out["second"] = _body(first), _body(second)
    with step("work package service create_relation (top-level from/to)"):
        created = wps.create_relation("precedes", first, second, "first things first")
        out["created"] = _body(created)
    with step("work package service find_relations"):
        out["listed"] = [_body(r) for r in wps.find_relations(first)]
    with step("relation service find"):
        out["found"] = _body(op.get_relation_service().find(created))
    with step("work package service find (successor)"):
        out["second_after"] = _body(wps.find(second))
    with step("relation service delete"):
        out["deleted"] = op.get_relation_service().delete(created)
    with step("work package service find_relations (after delete)"):
        out["listed_after_delete"] = [_body(r) for r in wps.find_relations(first)]
    return out


if __name__ == "__main__":
    sys.exit(run({"projects": projects, "work_packages": work_packages, "relations": relations}))
