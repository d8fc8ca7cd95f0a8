"""Drives the ``openproject`` SDK (withlogicco, 0.6.0) against a live Keelplan; see ``_driver.py`` for the protocol.

The SDK returns plain dicts and has no relation calls, so the relation is made through its own transport
(``Client._send_request``), which still sends its headers (``Content-Type: application/json`` on every request,
GET included) and its Basic ``apikey`` credentials.
"""

from __future__ import annotations

import sys

from _driver import pick_type, run
from openproject.client import Client
from openproject.exceptions import APIError, AuthenticationError


def _error(call) -> dict:
    """What a call the scenario expects to fail raised: the status and the SDK's message."""
    try:
        value = call()
    except APIError as exc:
        return {"raised": "APIError", "status": exc.response.status_code, "message": exc.message}
    except AuthenticationError as exc:
        return {"raised": "AuthenticationError", "status": exc.response, "message": exc.message}
    return {"raised": None, "value": value}


def _project(op: Client, plan: dict, step) -> dict:
    with step("projects.create"):
        return op.projects.create(name=plan["project_name"], description={"raw": "Made by the openproject SDK."})


def _type(op: Client, project_id: int, step) -> dict:
    with step("projects.list_types"):
        return pick_type(op.projects.list_types(project_id)["_embedded"]["elements"])


def _links(project: dict, wp_type: dict) -> dict:
    return {"project": {"href": project["_links"]["self"]["href"]}, "type": {"href": wp_type["_links"]["self"]["href"]}}


def projects(plan: dict, step) -> dict:
    op = Client(base_url=plan["base_url"], api_token=plan["token"])
    out: dict = {}
    with step("projects.list"):
        page = op.projects.list()
        out["list"] = {key: page.get(key) for key in ("_type", "total", "count")}
    created = _project(op, plan, step)
    out["created"] = created
    with step("projects.view"):
        out["viewed"] = op.projects.view(created["id"])
    with step("projects.update"):
        out["updated"] = op.projects.update(created["id"], name=plan["project_name"] + " (renamed)")
    with step("projects.list again"):
        page = op.projects.list()
        out["listed_ids"] = [row["id"] for row in page["_embedded"]["elements"]]
        out["list_complete"] = page["total"] == page["count"]
    with step("projects.list_types"):
        out["project_types"] = [row["name"] for row in op.projects.list_types(created["id"])["_embedded"]["elements"]]
    with step("types.list / types.view"):
        types = op.types.list()["_embedded"]["elements"]
        out["types"] = [row["name"] for row in types]
        out["type_viewed"] = op.types.view(types[0]["id"])["name"]
    with step("statuses.list / statuses.view"):
        statuses = op.statuses.list()["_embedded"]["elements"]
        out["statuses"] = [row["name"] for row in statuses]
        out["status_viewed"] = op.statuses.view(statuses[0]["id"])["name"]
    with step("projects.create (to delete)"):
        doomed = op.projects.create(name=plan["project_name"] + " doomed")
    with step("projects.delete"):
        out["deleted"] = op.projects.delete(doomed["id"])
    with step("projects.view (deleted)"):
        out["view_deleted"] = _error(lambda: op.projects.view(doomed["id"]))
    with step("wrong token"):
        out["wrong_token"] = _error(lambda: Client(base_url=plan["base_url"], api_token="not-a-token").projects.list())
    return out


def work_packages(plan: dict, step) -> dict:
    op = Client(base_url=plan["base_url"], api_token=plan["token"])
    dates = plan["dates"]
    project = _project(op, plan, step)
    wp_type = _type(op, project["id"], step)
    out: dict = {"project": project, "type": wp_type}
    links = _links(project, wp_type)
    with step("work_packages.create"):
        created = op.work_packages.create(
            subject=plan["subject"], description={"raw": "Made by the openproject SDK."}, schedule_manually=True,
            start_date=dates["a_start"], due_date=dates["a_due"], _links=links)
        out["created"] = created
    with step("work_packages.update"):
        out["updated"] = op.work_packages.update(created["id"], lock_version=created["lockVersion"],
                                                 subject=plan["subject"] + " (edited)", due_date=dates["a_due_2"],
                                                 percentage_done=40)
    with step("work_packages.view"):
        out["viewed"] = op.work_packages.view(created["id"])
    with step("work_packages.update with a stale lockVersion"):
        out["stale_update"] = _error(lambda: op.work_packages.update(
            created["id"], lock_version=created["lockVersion"], subject="stale"))
    with step("work_packages.list"):
        page = op.work_packages.list()
        out["listed_ids"] = [row["id"] for row in page["_embedded"]["elements"]]
        out["list_complete"] = page["total"] == page["count"]
    with step("work_packages.create (to delete)"):
        doomed = op.work_packages.create(subject=plan["subject"] + " doomed", _links=links)
    with step("work_packages.delete"):
        out["deleted"] = op.work_packages.delete(doomed["id"])
    with step("work_packages.view (deleted)"):
        out["view_deleted"] = _error(lambda: op.work_packages.view(doomed["id"]))
    return out


def relations(plan: dict, step) -> dict:
    op = Client(base_url=plan["base_url"], api_token=plan["token"])
    dates = plan["dates"]
    project = _project(op, plan, step)
    wp_type = _type(op, project["id"], step)
    links = _links(project, wp_type)
    out: dict = {}
    with step("work_packages.create (predecessor)"):
        first = op.work_packages.create(subject=plan["subject"] + " first", schedule_manually=True,
                                        start_date=dates["a_start"], due_date=dates["a_due"], _links=links)
    with step("work_packages.create (successor)"):
        second = op.work_packages.create(subject=plan["subject"] + " second", schedule_manually=True,
                                         start_date=dates["b_start"], due_date=dates["b_due"], _links=links)
    out["first"], out["second"] = first, second
    with step("POST work_packages/{id}/relations (SDK transport)"):
        out["created"] = op._send_request("POST", f"work_packages/{first['id']}/relations", data={
            "type": "precedes", "lag": plan["lag"], "description": "first things first",
            "_links": {"to": {"href": second["_links"]["self"]["href"]}}})
    with step("GET work_packages/{id}/relations (SDK transport)"):
        out["listed"] = op._send_request("GET", f"work_packages/{first['id']}/relations")
    with step("GET relations/{id} (SDK transport)"):
        out["viewed"] = op._send_request("GET", f"relations/{out['created']['id']}")
    with step("work_packages.view (successor)"):
        out["second_after"] = op.work_packages.view(second["id"])
    with step("DELETE relations/{id} (SDK transport)"):
        out["deleted"] = op._send_request("DELETE", f"relations/{out['created']['id']}")
    with step("GET relations/{id} (deleted)"):
        out["view_deleted"] = _error(lambda: op._send_request("GET", f"relations/{out['created']['id']}"))
    return out


if __name__ == "__main__":
    sys.exit(run({"projects": projects, "work_packages": work_packages, "relations": relations}))
