"""Drives ``openproject-api-client`` (MHx-Operations, 0.4.0) against a live Keelplan; see ``_driver.py``.

This client turns every body into a typed object chosen by ``_type``. When building that object fails (a link
without a ``title``, say) it silently falls back to a plain namespace, so the driver reports the class each
call returned: the test insists on the typed classes, whose link-derived fields (``status``, ``project_id``, ...)
prove the server sent what the client reads. It has no project create; that goes through its generic ``post``.
"""

from __future__ import annotations

import sys

from _driver import run
from openproject_api_client import ApiClient, RequestError

WORK_PACKAGE_FIELDS = ("id", "subject", "lockversion", "startdate", "duedate", "percentagedone", "schedulemanually",
                       "type", "type_id", "status", "status_id", "priority", "priority_id", "project", "project_id",
                       "author", "author_id", "author_type")
RELATION_FIELDS = ("id", "type", "reversetype", "lag", "description", "from_id", "from_title", "to_id", "to_title")
TIME_ENTRY_FIELDS = ("id", "hours", "spenton", "comment", "lockversion", "project", "project_id", "workpackage",
                     "workpackage_id", "user", "user_id", "activity", "activity_id")


def _fields(obj, names) -> dict:
    """The client's object as a dict: its class name and the attributes the test reads (dates as ISO text)."""
    row = {"class": type(obj).__name__}
    for name in names:
        value = getattr(obj, name, "<missing>")
        row[name] = value.date().isoformat() if hasattr(value, "date") and callable(value.date) else value
    return row


def _project(api: ApiClient, plan: dict, step):
    with step("post projects (generic post)"):
        return api.post("projects", {"name": plan["project_name"], "identifier": plan["project_identifier"],
                                     "description": {"raw": "Made by openproject-api-client."}})


def _type_id(api: ApiClient, project_id: int, step) -> int:
    with step("get_types_by_project_id"):
        types = api.get_types_by_project_id(project_id)
        return next(t.id for t in types if not getattr(t, "ismilestone", False))


def projects(plan: dict, step) -> dict:
    api = ApiClient(plan["base_url"], plan["token"], timeout=60)
    out: dict = {}
    with step("get_projects"):
        before = api.get_projects()
        out["before"] = [_fields(p, ("id", "identifier", "name")) for p in before]
    created = _project(api, plan, step)
    out["created"] = _fields(created, ("id", "identifier", "name", "active", "public", "parent_id"))
    with step("get projects/{identifier}"):
        out["by_identifier"] = _fields(api.get(f"projects/{plan['project_identifier']}"), ("id", "identifier"))
    with step("get_projects_dict"):
        out["listed_ids"] = sorted(api.get_projects_dict())
    with step("get_types / get_types_by_project_id"):
        out["types"] = [_fields(t, ("id", "name", "ismilestone")) for t in api.get_types()]
        out["project_types"] = [t.name for t in api.get_types_by_project_id(created.id)]
    with step("get_statuses / get_status"):
        statuses = api.get_statuses()
        out["statuses"] = [_fields(s, ("id", "name", "isclosed")) for s in statuses]
        out["status"] = _fields(api.get_status(statuses[0].id), ("id", "name"))
    with step("get_priorities"):
        out["priorities"] = [_fields(p, ("id", "name")) for p in api.get_priorities()]
    with step("get a missing project"):
        out["missing"] = api.get("projects/999999999")
    return out


def work_packages(plan: dict, step) -> dict:
    api = ApiClient(plan["base_url"], plan["token"], timeout=60)
    dates = plan["dates"]
    project = _project(api, plan, step)
    type_id = _type_id(api, project.id, step)
    out: dict = {"project_id": project.id, "type_id": type_id}
    with step("create_workpackage"):
        created = api.create_workpackage(project.id, plan["subject"], type_id=type_id,
                                         start_date=dates["a_start"], due_date=dates["a_due"],
                                         description="Made by openproject-api-client.", schedule_manually=True)
        out["created"] = _fields(created, WORK_PACKAGE_FIELDS)
    with step("update_workpackage"):
        updated = api.update_workpackage(created.id, created.lockversion, subject=plan["subject"] + " (edited)",
                                         due_date=dates["a_due_2"], percentage_done=40)
        out["updated"] = _fields(updated, WORK_PACKAGE_FIELDS)
    with step("update_workpackage with a stale lockVersion"):
        try:
            api.update_workpackage(created.id, created.lockversion, subject="stale")
            out["stale_update"] = None
        except RequestError as exc:
            out["stale_update"] = str(exc)
    with step("get_workpackage"):
        out["viewed"] = _fields(api.get_workpackage(created.id), WORK_PACKAGE_FIELDS)
    with step("get_workpackages_by_project_id"):
        out["in_project"] = [_fields(w, ("id", "subject", "status")) for w in
                             api.get_workpackages_by_project_id(project.id, status="all")]
    with step("get_workpackages (open)"):
        out["open_ids"] = [w.id for w in api.get_workpackages(status="open")]
    with step("delete_workpackage"):
        out["deleted"] = api.delete_workpackage(created.id)
    with step("get_workpackage (deleted)"):
        out["view_deleted"] = api.get_workpackage(created.id)
    return out


def relations(plan: dict, step) -> dict:
    api = ApiClient(plan["base_url"], plan["token"], timeout=60)
    dates = plan["dates"]
    project = _project(api, plan, step)
    type_id = _type_id(api, project.id, step)
    out: dict = {}
    with step("create_workpackage (predecessor)"):
        first = api.create_workpackage(project.id, plan["subject"] + " first", type_id=type_id,
                                       start_date=dates["a_start"], due_date=dates["a_due"], schedule_manually=True)
    with step("create_workpackage (successor)"):
        second = api.create_workpackage(project.id, plan["subject"] + " second", type_id=type_id,
                                        start_date=dates["b_start"], due_date=dates["b_due"], schedule_manually=True)
    out["first"], out["second"] = _fields(first, WORK_PACKAGE_FIELDS), _fields(second, WORK_PACKAGE_FIELDS)
    with step("create_relation (POST relations)"):
        created = api.create_relation(first.id, second.id, "precedes", description="first things first",
                                      lag=plan["lag"])
        out["created"] = _fields(created, RELATION_FIELDS)
    with step("get_relation"):
        out["viewed"] = _fields(api.get_relation(created.id), RELATION_FIELDS)
    with step("get_relations"):
        out["listed"] = [_fields(r, RELATION_FIELDS) for r in api.get_relations()]
    with step("get_workpackage (successor)"):
        out["second_after"] = _fields(api.get_workpackage(second.id), WORK_PACKAGE_FIELDS)
    with step("delete_relation"):
        out["deleted"] = api.delete_relation(created.id)
    with step("get_relation (deleted)"):
        out["view_deleted"] = api.get_relation(created.id)
    return out


def time_entries(plan: dict, step) -> dict:
    api = ApiClient(plan["base_url"], plan["token"], timeout=60)
    dates = plan["dates"]
    project = _project(api, plan, step)
    type_id = _type_id(api, project.id, step)
    out: dict = {}
    with step("create_workpackage"):
        work_package = api.create_workpackage(project.id, plan["subject"] + " timed", type_id=type_id,
                                              start_date=dates["a_start"], due_date=dates["a_due"],
                                              schedule_manually=True)
    out["work_package"] = _fields(work_package, WORK_PACKAGE_FIELDS)
    with step("create_time_entry"):
        created = api.create_time_entry(work_package.id, "PT1H30M", dates["a_start"], comment="Measured up",
                                        project_id=project.id)
        out["created"] = _fields(created, TIME_ENTRY_FIELDS)
    with step("get_time_entries (by work package)"):
        out["listed"] = [_fields(t, TIME_ENTRY_FIELDS) for t in api.get_time_entries(work_package_id=work_package.id)]
    with step("get_time_entries (by project)"):
        out["by_project"] = [t.id for t in api.get_time_entries(project_id=project.id)]
    with step("update_time_entry"):
        out["updated"] = _fields(api.update_time_entry(created.id, created.lockversion, hours="PT2H",
                                                       comment="Measured twice"), TIME_ENTRY_FIELDS)
    with step("update_time_entry (stale lockVersion)"):
        try:
            api.update_time_entry(created.id, created.lockversion, hours="PT3H")
            out["stale"] = None
        except RequestError as exc:
            out["stale"] = {"raised": type(exc).__name__, "text": str(exc)[:500]}
    with step("get_workpackage (spent time)"):
        out["spent"] = getattr(api.get_workpackage(work_package.id), "spenttime", "<missing>")
    with step("delete_time_entry"):
        out["deleted"] = api.delete_time_entry(created.id)
    with step("get_time_entry (deleted)"):
        out["view_deleted"] = api.get_time_entry(created.id)
    return out


if __name__ == "__main__":
    sys.exit(run({"projects": projects, "work_packages": work_packages, "relations": relations,
                  "time_entries": time_entries}))
