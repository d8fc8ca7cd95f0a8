"""``task.*``: a Beebole task is an activity (``timesheets.Activity``), the kind of work time is logged as. A
company's tasks are its own activities; workspace-wide activities (OpenProject's, ``company`` null) may be used
in every company and are listed when no company is named. Workspace administrators write them."""

from __future__ import annotations

from keelplan.api.beebole.registry import Call, activation, service
from keelplan.api.beebole.services.common import company_named, group_named, ref_of, refusals, task_named
from keelplan.api.beebole.services.groups import groups_json
from keelplan.portfolio import categories
from keelplan.timesheets import selectors
from keelplan.timesheets import services as timesheets


def task_json(activity) -> dict:
    return {"id": activity.pk, "name": activity.name,
            "company": {"id": activity.company_id} if activity.company_id else None, "active": activity.is_active}


@service("task.create")
def task_create(call: Call) -> dict:
    body = call.section("task", unwrapped=True)
    name = body.text("name")
    company = ref_of(body, "company", company_named, call)
    with refusals("task"):
        activity = timesheets.activity_create(actor=call.actor, name=name, company=company)
    return {"id": activity.pk}


@service("task.get")
def task_get(call: Call) -> dict:
    return {"task": task_json(task_named(call, call.body.id("id")))}


@service("task.update")
def task_update(call: Call) -> dict:
    body = call.section("task")
    activity = task_named(call, body.id("id"), body.where("id"))
    fields = {"name": body.text("name")} if body.has("name") else {}
    if body.has("company"):
        company = ref_of(body, "company", company_named, call)
        if company.pk != activity.company_id:
            fields["company"] = company   # refused by the service: a task never changes company
    with refusals("task"):
        timesheets.activity_update(actor=call.actor, activity=activity, **fields)
    return {}


@service("task.list")
def task_list(call: Call) -> dict:
    """A company's own tasks; every task (the workspace-wide ones too, with ``company`` null) when no company is
    named."""
    company = ref_of(call.body, "company", company_named, call, required=False)
    rows = selectors.activity_list(company=company)
    return {"tasks": [task_json(a) for a in rows.order_by("id")]}


def _set_active(call: Call, activity, active: bool) -> None:
    with refusals("task"):
        timesheets.activity_update(actor=call.actor, activity=activity, is_active=active)


activation("task", task_named, _set_active)


def _group_change(call: Call, write) -> dict:
    activity = task_named(call, call.body.id("id"))
    group = group_named(call, call.body.ref("group"), "group")
    with refusals():
        write(actor=call.actor, group=group, target=activity)
    return {}


@service("task.add_group")
def task_add_group(call: Call) -> dict:
    return _group_change(call, categories.group_assign)


@service("task.remove_group")
def task_remove_group(call: Call) -> dict:
    return _group_change(call, categories.group_unassign)


@service("task.groups")
def task_groups(call: Call) -> dict:
    return {"groups": groups_json(categories.groups_assigned(task_named(call, call.body.id("id"))))}
