"""``group.*`` through ``POST /api/v2``: groups are a tree of people and categories of companies, projects and
tasks. Each service's request and reply shapes (the reference's and the ``beebole`` package's variants), the rows
each writes, and who may: workspace administrators write groups, anyone signed in reads them."""

from __future__ import annotations

import pytest

from keelplan.accounts.models import Group, GroupMember
from keelplan.portfolio.models import CompanyMember, GroupAssignment, Membership, Project, Role
from keelplan.portfolio.services import membership_add
from tests.api.beebole.conftest import Beebole
from tests.api.beebole.workspace_rows import failed, refused
from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(bb) -> int:
    return bb.call("group.create", group={"name": "Places"})["id"]


@pytest.fixture
def reader(outsider) -> Beebole:
    """Someone signed in who is no workspace administrator."""
    return Beebole(outsider)


@pytest.fixture
def rows(bb) -> dict:
    """A company with a project, a subproject, a task and a person, by id."""
    company = bb.call("company.create", company={"name": "Acme Corp"})["id"]
    project = bb.call("project.create", project={"name": "Development", "company": {"id": company}})["id"]
    return {
        "company": company, "project": project,
        "subproject": bb.call("subproject.create", subproject={"name": "Proto", "project": {"id": project}})["id"],
        "task": bb.call("task.create", task={"name": "Design", "company": {"id": company}})["id"],
        "person": bb.call("person.create", person={"name": "Pat", "company": {"id": company},
                                                   "email": "pat@example.com"})["id"],
    }


# ---------------------------------------------------------------- create, get, update


def test_create_a_top_level_group_and_get_it_with_parent_zero(bb):
    reply = bb.call("group.create", group={"name": "Places"})
    assert set(reply) == {"status", "id"} and type(reply["id"]) is int
    row = Group.objects.get(pk=reply["id"])
    assert (row.name, row.parent_id) == ("Places", None)
    assert bb.call("group.get", id=row.pk) == {"status": "ok", "group": {"id": row.pk, "name": "Places",
                                                                         "parent": {"id": 0}}}


def test_create_under_a_parent_from_the_unwrapped_body_the_beebole_package_sends(bb, places):
    pk = bb.call("group.create", name="Lyon", parent={"id": places})["id"]
    assert Group.objects.get(pk=pk).parent_id == places
    assert bb.call("group.get", id=pk)["group"] == {"id": pk, "name": "Lyon", "parent": {"id": places}}


def test_parent_zero_is_the_top_of_the_tree(bb):
    pk = bb.call("group.create", group={"name": "Top", "parent": {"id": 0}})["id"]
    assert Group.objects.get(pk=pk).parent_id is None


def test_create_refusals_change_nothing(bb, places):
    assert failed(bb, "group.create", group={"parent": {"id": places}}) == "Missing field: group.name."
    assert failed(bb, "group.create", group={"name": "X", "parent": {"id": 987654}}) == (
        "Unknown group: no group with id 987654 (group.parent).")
    assert failed(bb, "group.create", group={"name": "Places"}).startswith("group.name: ")


def test_update_renames_moves_and_moves_back_to_the_top(bb, places):
    pk = bb.call("group.create", group={"name": "Lyon"})["id"]
    assert bb.call("group.update", group={"id": pk, "name": "Lyon 3", "parent": {"id": places}}) == {"status": "ok"}
    row = Group.objects.get(pk=pk)
    assert (row.name, row.parent_id) == ("Lyon 3", places)
    bb.call("group.update", group={"id": pk, "parent": {"id": 0}})
    assert Group.objects.get(pk=pk).parent_id is None


def test_update_under_its_own_subgroup_is_refused(bb, places):
    lyon = bb.call("group.create", group={"name": "Lyon", "parent": {"id": places}})["id"]
    assert failed(bb, "group.update", group={"id": places, "parent": {"id": lyon}}).startswith("group.parent: ")
    assert Group.objects.get(pk=places).parent_id is None


# ---------------------------------------------------------------- delete


def test_delete_an_unassigned_group(bb, places):
    assert bb.call("group.delete", id=places) == {"status": "ok"}
    assert not Group.objects.filter(pk=places).exists()
    assert failed(bb, "group.get", id=places) == f"Unknown group: no group with id {places} (id)."


ASSIGNMENTS = {
    "a person in it": ("person.add_group", "person"),
    "a company in it": ("company.add_group", "company"),
    "a project in it": ("project.add_group", "project"),
    "a task in it": ("task.add_group", "task"),
    "a project membership": ("project.attach_member", "project"),
    "a company membership": ("company.attach_member", "company"),
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_delete_of_an_assigned_group_needs_force(assignment, bb, places, rows):
    service, kind = ASSIGNMENTS[assignment]
    bb.call(service, id=rows[kind], group={"id": places})
    message = failed(bb, "group.delete", id=places)
    assert message == ("group: The group is still assigned to 1 row(s) (members, projects, companies or tasks); "
                       "remove them first, or force the delete.")
    assert failed(bb, "group.delete", id=places, force=False) == message
    assert bb.call("group.delete", id=places, force=True) == {"status": "ok"}
    assert not Group.objects.filter(pk=places).exists()
    assert not GroupAssignment.objects.filter(group_id=places).exists()
    assert not CompanyMember.objects.filter(group_id=places).exists()
    assert not Membership.objects.filter(group_id=places).exists()
    assert bb.call("group.list", **{kind: {"id": rows[kind]}})["groups"] == []


def test_delete_with_subgroups_is_refused_even_forced(bb, places):
    bb.call("group.create", group={"name": "Lyon", "parent": {"id": places}})
    assert failed(bb, "group.delete", id=places, force=True) == "group: Delete or move this group's subgroups first."


# ---------------------------------------------------------------- list, assignments, tree


def test_list_answers_the_groups_of_each_kind_of_row(bb, places, rows):
    lyon = bb.call("group.create", group={"name": "Lyon", "parent": {"id": places}})["id"]
    services = {"company": "company.add_group", "project": "project.add_group", "subproject": "subproject.add_group",
                "task": "task.add_group", "person": "person.add_group"}
    for kind, service in services.items():
        bb.call(service, id=rows[kind], group={"id": places})
    bb.call("company.add_group", id=rows["company"], group={"id": lyon})
    for kind in services:
        reply = bb.call("group.list", **{kind: {"id": rows[kind]}})
        assert set(reply) == {"status", "groups"}
        expected = [{"id": lyon, "name": "Lyon", "groups": {"count": 0}}] if kind == "company" else []
        assert reply["groups"] == expected + [{"id": places, "name": "Places", "groups": {"count": 1}}], kind


def test_list_takes_the_bare_id_the_beebole_package_sends(bb, places, rows):
    bb.call("company.add_group", id=rows["company"], group={"id": places})
    assert [g["id"] for g in bb.call("group.list", company=rows["company"])["groups"]] == [places]


def test_list_refusals(bb, rows):
    assert failed(bb, "group.list").startswith("Missing field: name one of company, project")
    assert failed(bb, "group.list", company=rows["company"], task=rows["task"]).startswith("Missing field: ")
    assert failed(bb, "group.list", absence={"id": 1}) == "Unknown absence: Keelplan has no absences."
    assert failed(bb, "group.list", task={"id": 987654}) == "Unknown task: no task with id 987654 (task)."


def test_assignments_answers_every_kind(bb, places, rows, owner):
    for kind in ("company", "project", "subproject", "task", "person"):
        bb.call(f"{kind}.add_group", id=rows[kind], group={"id": places})
    reply = bb.call("group.assignments", id=places)
    assert reply == {
        "status": "ok",
        "companies": [{"id": rows["company"], "name": "Acme Corp", "active": True}],
        "projects": [{"id": rows["project"], "name": "Development", "active": True}],
        "subprojects": [{"id": rows["subproject"], "name": "Proto", "active": True}],
        "tasks": [{"id": rows["task"], "name": "Design", "active": True}],
        "people": [{"id": rows["person"], "name": "Pat", "active": True, "email": "pat@example.com"}],
        "absences": [],
    }


def test_assignments_show_others_only_their_projects_and_no_email(bb, places, rows, outsider, reader):
    bb.call("project.add_group", id=rows["project"], group={"id": places})
    bb.call("person.add_group", id=rows["person"], group={"id": places})
    seen = reader.call("group.assignments", id=places)
    assert seen["projects"] == []
    assert seen["people"] == [{"id": rows["person"], "name": "Pat", "active": True, "email": ""}]
    membership_add(actor=bb.user, project=Project.objects.get(pk=rows["project"]), user=outsider, role=Role.VIEWER)
    assert [p["id"] for p in reader.call("group.assignments", id=places)["projects"]] == [rows["project"]]


def test_tree_nests_every_group(bb, places):
    paris = bb.call("group.create", group={"name": "Paris", "parent": {"id": places}})["id"]
    lyon = bb.call("group.create", group={"name": "Lyon", "parent": {"id": places}})["id"]
    left = bb.call("group.create", group={"name": "Left bank", "parent": {"id": paris}})["id"]
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    assert bb.call("group.tree") == {"status": "ok", "groups": [
        {"id": crew, "name": "Crew", "groups": []},
        {"id": places, "name": "Places", "groups": [
            {"id": lyon, "name": "Lyon", "groups": []},
            {"id": paris, "name": "Paris", "groups": [{"id": left, "name": "Left bank", "groups": []}]},
        ]},
    ]}


# ---------------------------------------------------------------- who may


def test_anyone_signed_in_reads_groups(bb, places, rows, reader):
    bb.call("group.create", group={"name": "Lyon", "parent": {"id": places}})
    bb.call("company.add_group", id=rows["company"], group={"id": places})
    assert reader.call("group.get", id=places) == bb.call("group.get", id=places)
    assert reader.call("group.tree") == bb.call("group.tree")
    assert reader.call("group.list", company={"id": rows["company"]}) == bb.call("group.list", company=rows["company"])
    assert reader.call("group.assignments", id=places)["companies"] == [
        {"id": rows["company"], "name": "Acme Corp", "active": True}]


@pytest.mark.parametrize(("service", "fields"), [
    ("group.create", {"group": {"name": "Mine"}}),
    ("group.create", {"name": "Mine", "parent": {"id": "PLACES"}}),
    ("group.update", {"group": {"id": "PLACES", "name": "Mine"}}),
    ("group.update", {"group": {"id": "PLACES", "parent": {"id": "OTHER"}}}),
    ("group.delete", {"id": "PLACES"}),
    ("group.delete", {"id": "PLACES", "force": True}),
])
def test_only_workspace_administrators_write_groups(service, fields, bb, places, reader):
    """A project owner who is no workspace administrator tries each write: refused, nothing changed."""
    other = bb.call("group.create", group={"name": "Other"})["id"]
    bb.call("person.add_group", id=reader.user.pk, group={"id": places})
    make_project(reader.user, "Theirs")
    ids = {"PLACES": places, "OTHER": other}

    def filled(value):
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        return ids.get(value, value) if isinstance(value, str) else value

    refused(reader, service, **filled(fields))
    assert GroupMember.objects.filter(group_id=places, user=reader.user).exists()


def test_a_workspace_administrator_made_through_beebole_writes_groups(bb, places):
    ada = make_user("ada")
    bb.call("person.update", person={"id": ada.pk, "userGroup": "admin"})
    Beebole(ada).call("group.update", group={"id": places, "name": "Sites"})
    assert Group.objects.get(pk=places).name == "Sites"
