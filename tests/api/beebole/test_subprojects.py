"""``subproject.*`` through ``POST /api/v2``: a subproject is a project with a parent. Each service's request and
reply shapes (the reference's and the ``beebole`` package's variants), the rows each writes, and who may: the
subproject's own roles decide, as for any project, and one who cannot see it is told it does not exist."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.customfields.models import CustomValue
from keelplan.customfields.services import custom_field_create
from keelplan.portfolio.models import Company, GroupAssignment, Membership, Project, Role
from keelplan.portfolio.services import membership_add
from keelplan.timesheets.models import ActivitySelection
from tests.api.beebole.conftest import Beebole
from tests.api.beebole.workspace_rows import failed, refused
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(bb) -> int:
    return bb.call("company.create", company={"name": "Acme Corp"})["id"]


@pytest.fixture
def parent(bb, company) -> int:
    return bb.call("project.create", project={"name": "Development", "startDate": "2017-10-13",
                                              "company": {"id": company}})["id"]


@pytest.fixture
def sub(bb, parent) -> int:
    return bb.call("subproject.create", subproject={"name": "Analyse", "project": {"id": parent}})["id"]


@pytest.fixture
def task(bb, company) -> int:
    return bb.call("task.create", task={"name": "Design", "company": {"id": company}})["id"]


# ---------------------------------------------------------------- create, get, update, list


def test_create_makes_a_child_project_of_the_parents_company_and_start(bb, owner, parent, company):
    reply = bb.call("subproject.create", subproject={"name": "Analyse", "project": {"id": parent}})
    assert set(reply) == {"status", "id"} and type(reply["id"]) is int
    row = Project.objects.get(pk=reply["id"])
    assert (row.name, row.parent_id, row.company_id, row.start_date) == (
        "Analyse", parent, company, dt.date(2017, 10, 13))
    assert Membership.objects.get(project=row, user=owner).role == Role.OWNER


def test_create_from_the_unwrapped_body_the_beebole_package_sends(bb, parent):
    pk = bb.call("subproject.create", name="Proto", project={"id": parent})["id"]
    assert Project.objects.get(pk=pk).parent_id == parent


def test_create_names_missing_and_unknown_fields_and_writes_nothing(bb, parent):
    assert failed(bb, "subproject.create", subproject={"name": "X"}) == "Missing field: subproject.project."
    assert failed(bb, "subproject.create", subproject={"name": "X", "project": {"id": 987654}}) == (
        "Unknown project: no project with id 987654 (subproject.project).")
    assert failed(bb, "subproject.create", subproject={"project": {"id": parent}}) == (
        "Missing field: subproject.name.")


def test_get_answers_the_documented_fields(bb, parent, sub):
    reply = bb.call("subproject.get", id=sub)
    assert reply == {"status": "ok", "subproject": {"id": sub, "name": "Analyse", "project": {"id": parent},
                                                    "active": True}}


def test_a_top_level_project_is_no_subproject(bb, parent):
    assert failed(bb, "subproject.get", id=parent) == f"Unknown subproject: no subproject with id {parent} (id)."


def test_update_renames_and_moves_to_another_project(bb, company, parent, sub):
    other = bb.call("project.create", project={"name": "Marketing", "company": {"id": company}})["id"]
    assert bb.call("subproject.update", subproject={"id": sub, "name": "Proto"}) == {"status": "ok"}
    bb.call("subproject.update", subproject={"id": sub, "project": {"id": other}})
    row = Project.objects.get(pk=sub)
    assert (row.name, row.parent_id) == ("Proto", other)
    assert bb.call("subproject.get", id=sub)["subproject"]["project"] == {"id": other}


def test_update_under_itself_is_refused_and_nothing_changes(bb, parent, sub):
    below = bb.call("subproject.create", subproject={"name": "Deeper", "project": {"id": sub}})["id"]
    message = failed(bb, "subproject.update", subproject={"id": sub, "project": {"id": below}})
    assert message == "subproject.project: A project cannot sit under itself or its own subprojects."
    assert Project.objects.get(pk=sub).parent_id == parent


def test_list_answers_the_projects_subprojects(bb, parent, sub):
    proto = bb.call("subproject.create", subproject={"name": "Proto", "project": {"id": parent}})["id"]
    reply = bb.call("subproject.list", project={"id": parent})
    assert reply == {"status": "ok", "subprojects": [
        {"id": sub, "name": "Analyse", "project": {"id": parent}, "active": True},
        {"id": proto, "name": "Proto", "project": {"id": parent}, "active": True},
    ]}
    assert failed(bb, "subproject.list") == "Missing field: project."


def test_list_shows_only_the_subprojects_the_caller_sees(bb, outsider, parent, sub):
    """A Viewer of the parent who is no member of one of its subprojects does not see it."""
    membership_add(actor=bb.user, project=Project.objects.get(pk=parent), user=outsider, role=Role.VIEWER)
    mine = bb.call("subproject.create", subproject={"name": "Open", "project": {"id": parent}})["id"]
    membership_add(actor=bb.user, project=Project.objects.get(pk=mine), user=outsider, role=Role.VIEWER)
    listed = Beebole(outsider).call("subproject.list", project={"id": parent})["subprojects"]
    assert [s["id"] for s in listed] == [mine]


def test_activate_and_deactivate(bb, sub):
    assert bb.call("subproject.deactivate", id=sub) == {"status": "ok"}
    assert Project.objects.get(pk=sub).is_active is False
    assert bb.call("subproject.get", id=sub)["subproject"]["active"] is False
    assert bb.call("subproject.activate", id=sub) == {"status": "ok"}
    assert Project.objects.get(pk=sub).is_active is True


def test_managers_are_for_projects_only(bb, sub):
    assert failed(bb, "subproject.managers", id=sub) == (
        "Invalid service request: unknown service 'subproject.managers'.")


# ---------------------------------------------------------------- exclusive members


def test_attach_member_makes_memberships_of_a_person_and_a_group(bb, owner, sub):
    ann = make_user("ann", full_name="Ann Able")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    assert bb.call("subproject.attach_member", id=sub, person={"id": ann.pk}) == {"status": "ok"}
    assert bb.call("subproject.attach_member", id=sub, group={"id": crew}) == {"status": "ok"}
    assert Membership.objects.get(project_id=sub, user=ann).role == Role.MEMBER
    assert Membership.objects.get(project_id=sub, group_id=crew).role == Role.MEMBER
    reply = bb.call("subproject.members", id=sub)
    assert reply == {"status": "ok", "members": [{"name": "Olive Owner", "id": owner.pk},
                                                 {"name": "Ann Able", "id": ann.pk}],
                     "groups": [{"name": "Crew", "id": crew}]}


def test_detach_member_removes_the_membership(bb, sub):
    ann = make_user("ann")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    bb.call("subproject.attach_member", id=sub, person={"id": ann.pk})
    bb.call("subproject.attach_member", id=sub, group={"id": crew})
    assert bb.call("subproject.detach_member", id=sub, person={"id": ann.pk}) == {"status": "ok"}
    assert bb.call("subproject.detach_member", id=sub, group={"id": crew}) == {"status": "ok"}
    assert not Membership.objects.filter(project_id=sub, user=ann).exists()
    assert not Membership.objects.filter(project_id=sub, group_id=crew).exists()
    assert failed(bb, "subproject.detach_member", id=sub, person={"id": ann.pk}) == (
        f"Unknown member: person {ann.pk} is not an exclusive member here.")


# ---------------------------------------------------------------- groups as categories


def test_add_group_remove_group_and_groups(bb, sub):
    places = bb.call("group.create", group={"name": "Places"})["id"]
    assert bb.call("subproject.add_group", id=sub, group={"id": places}) == {"status": "ok"}
    assert GroupAssignment.objects.filter(project_id=sub, group_id=places).exists()
    assert bb.call("subproject.groups", id=sub) == {"status": "ok", "groups": [
        {"id": places, "name": "Places", "groups": {"count": 0}}]}
    assert bb.call("subproject.remove_group", id=sub, group={"id": places}) == {"status": "ok"}
    assert not GroupAssignment.objects.filter(project_id=sub).exists()
    assert failed(bb, "subproject.remove_group", id=sub, group={"id": places}).startswith("Unknown group assignment")


# ---------------------------------------------------------------- specific tasks


def _specific(bb, sub) -> dict:
    return bb.call("subproject.specific_tasks", id=sub)


def test_specific_tasks_attach_detach_enable_and_disable(bb, sub, task):
    assert _specific(bb, sub) == {"status": "ok", "disabled": False, "specificTasks": []}
    assert bb.call("subproject.attach_specific_task", id=sub, task={"id": task}) == {"status": "ok"}
    assert list(ActivitySelection.objects.get(project_id=sub).activities.values_list("id", flat=True)) == [task]
    assert _specific(bb, sub)["specificTasks"] == [{"name": "Design", "id": task, "active": True}]
    assert bb.call("subproject.disable_specific_tasks", id=sub) == {"status": "ok"}
    assert _specific(bb, sub)["disabled"] is True
    assert ActivitySelection.objects.get(project_id=sub).is_enabled is False
    assert bb.call("subproject.enable_specific_tasks", id=sub) == {"status": "ok"}
    assert _specific(bb, sub)["disabled"] is False
    assert bb.call("subproject.detach_specific_task", id=sub, task={"id": task}) == {"status": "ok"}
    assert _specific(bb, sub)["specificTasks"] == []


def test_specific_tasks_under_the_plural_names_and_tasks_key_the_beebole_package_sends(bb, sub, task):
    bb.call("subproject.attach_specific_tasks", id=sub, tasks={"id": task})
    assert [t["id"] for t in _specific(bb, sub)["specificTasks"]] == [task]
    bb.call("subproject.detach_specific_tasks", id=sub, tasks={"id": task})
    assert _specific(bb, sub)["specificTasks"] == []


def test_a_task_of_another_company_is_refused_and_nothing_changes(bb, sub):
    globex = bb.call("company.create", company={"name": "Globex"})["id"]
    theirs = bb.call("task.create", task={"name": "Sales", "company": {"id": globex}})["id"]
    message = failed(bb, "subproject.attach_specific_task", id=sub, task={"id": theirs})
    assert message == "task: The activity 'Sales' belongs to another company than this project's company."
    assert _specific(bb, sub)["specificTasks"] == []


# ---------------------------------------------------------------- custom fields


@pytest.fixture
def phase(owner):
    """A list-format project field (subprojects are projects)."""
    return custom_field_create(actor=owner, name="Phase", applies_to="project", format="list",
                               options=["Draft", "Build"])


def test_custom_fields_set_list_and_clear_by_option_text(bb, sub, phase):
    assert bb.call("subproject.custom_fields", id=sub) == {"status": "ok", "customFields": [
        {"id": phase.pk, "name": "Phase", "availableFor": "Project"}]}
    assert bb.call("subproject.set_custom_field_value", id=sub,
                   customField={"id": phase.pk, "value": "Build"}) == {"status": "ok"}
    stored = CustomValue.objects.get(custom_field=phase, entity="project", object_id=sub)
    assert stored.value == str(phase.options.get(value="Build").pk)
    assert bb.call("subproject.custom_fields", id=sub)["customFields"][0]["value"] == "Build"
    bb.call("subproject.clear_custom_field_value", id=sub, customField={"id": phase.pk})
    assert not CustomValue.objects.filter(custom_field=phase, object_id=sub).exists()
    assert "value" not in bb.call("subproject.custom_fields", id=sub)["customFields"][0]


# ---------------------------------------------------------------- who may


@pytest.fixture
def setting(bb, sub, task, phase):
    """A subproject with a member, a group, a specific task and a custom value, and what each write would send."""
    ann = make_user("ann")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    crew2 = bb.call("group.create", group={"name": "Crew 2"})["id"]
    bb.call("subproject.attach_member", id=sub, person={"id": ann.pk})
    bb.call("subproject.add_group", id=sub, group={"id": crew})
    bb.call("subproject.attach_specific_task", id=sub, task={"id": task})
    bb.call("subproject.set_custom_field_value", id=sub, customField={"id": phase.pk, "value": "Draft"})
    return {
        "subproject.update": {"subproject": {"id": sub, "name": "Mine"}},
        "subproject.activate": {"id": sub},
        "subproject.deactivate": {"id": sub},
        "subproject.attach_member": {"id": sub, "group": {"id": crew}},
        "subproject.detach_member": {"id": sub, "person": {"id": ann.pk}},
        "subproject.add_group": {"id": sub, "group": {"id": crew2}},
        "subproject.remove_group": {"id": sub, "group": {"id": crew}},
        "subproject.attach_specific_task": {"id": sub, "task": {"id": task}},
        "subproject.attach_specific_tasks": {"id": sub, "task": {"id": task}},
        "subproject.detach_specific_task": {"id": sub, "task": {"id": task}},
        "subproject.detach_specific_tasks": {"id": sub, "task": {"id": task}},
        "subproject.enable_specific_tasks": {"id": sub},
        "subproject.disable_specific_tasks": {"id": sub},
        "subproject.set_custom_field_value": {"id": sub, "customField": {"id": phase.pk, "value": "Build"}},
        "subproject.clear_custom_field_value": {"id": sub, "customField": {"id": phase.pk}},
    }


WRITES = ("subproject.update", "subproject.activate", "subproject.deactivate", "subproject.attach_member",
          "subproject.detach_member", "subproject.add_group", "subproject.remove_group",
          "subproject.attach_specific_task", "subproject.attach_specific_tasks", "subproject.detach_specific_task",
          "subproject.detach_specific_tasks", "subproject.enable_specific_tasks", "subproject.disable_specific_tasks",
          "subproject.set_custom_field_value", "subproject.clear_custom_field_value")
READS = ("subproject.get", "subproject.members", "subproject.groups", "subproject.specific_tasks",
         "subproject.custom_fields")


@pytest.mark.parametrize("service", WRITES)
def test_a_member_of_the_subproject_may_read_but_not_write(service, bb, setting, sub):
    """A Member of the subproject (and Admin of the parent: no role reaches down) tries each write."""
    mel = make_user("mel")
    membership_add(actor=bb.user, project=Project.objects.get(pk=sub), user=mel, role=Role.MEMBER)
    parent = Project.objects.get(pk=sub).parent
    membership_add(actor=bb.user, project=parent, user=mel, role=Role.ADMIN)
    caller = Beebole(mel)
    for read in READS:
        assert caller.call(read, id=sub)["status"] == "ok"
    refused(caller, service, **setting[service])


@pytest.mark.parametrize("service", WRITES + READS)
def test_one_who_cannot_see_the_subproject_is_told_it_does_not_exist(service, bb, setting, sub, outsider):
    fields = setting.get(service, {"id": sub})
    message = failed(Beebole(outsider), service, **fields)
    where = "subproject.id" if "subproject" in fields else "id"
    assert message == f"Unknown subproject: no subproject with id {sub} ({where})."


def test_an_admin_of_the_subproject_writes_it(bb, sub, task):
    ada = make_user("ada")
    membership_add(actor=bb.user, project=Project.objects.get(pk=sub), user=ada, role=Role.ADMIN)
    caller = Beebole(ada)
    caller.call("subproject.update", subproject={"id": sub, "name": "Renamed"})
    caller.call("subproject.attach_specific_task", id=sub, task={"id": task})
    assert Project.objects.get(pk=sub).name == "Renamed"
    assert [t["id"] for t in caller.call("subproject.specific_tasks", id=sub)["specificTasks"]] == [task]


def test_a_viewer_of_the_parent_may_not_add_a_subproject(bb, parent, outsider):
    membership_add(actor=bb.user, project=Project.objects.get(pk=parent), user=outsider, role=Role.VIEWER)
    refused(Beebole(outsider), "subproject.create", subproject={"name": "Mine", "project": {"id": parent}})
    assert failed(Beebole(make_user("nobody")), "subproject.create", subproject={
        "name": "Mine", "project": {"id": parent}}) == (
        f"Unknown project: no project with id {parent} (subproject.project).")


def test_an_admin_of_the_parent_adds_a_subproject_and_owns_it(bb, parent, outsider):
    membership_add(actor=bb.user, project=Project.objects.get(pk=parent), user=outsider, role=Role.ADMIN)
    pk = Beebole(outsider).call("subproject.create", subproject={"name": "Mine", "project": {"id": parent}})["id"]
    assert Membership.objects.get(project_id=pk, user=outsider).role == Role.OWNER
    assert Project.objects.get(pk=pk).company_id == Company.objects.get().pk
