"""A project made through Beebole is the same row through TruePPM v1 and OpenProject v3, members and roles
included, and a change made in either of those shows through Beebole at once."""

from __future__ import annotations

import json

import pytest

from keelplan.accounts.models import Group
from keelplan.accounts.services import group_member_add
from keelplan.portfolio.models import Membership, Project, Role
from tests.api.beebole.conftest import Beebole
from tests.api.v3.conftest import v3_client
from tests.conftest import client_for, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(bb) -> int:
    return bb.call("company.create", company={"name": "Acme Corp", "corporate": True})["id"]


@pytest.fixture
def creator(db):
    """Anyone may create a project: an ordinary person, not an administrator."""
    return make_user("carla", full_name="Carla Creator")


def _v1_members(user, project_id: int) -> dict[str, int]:
    rows = client_for(user).get(f"/api/v1/projects/{project_id}/members/").json()["results"]
    return {row["user_detail"]["username"]: row["role"] for row in rows}


def test_a_beebole_project_is_the_v1_and_v3_project_with_its_members_and_roles(bb, company, creator):
    ann, ben = make_user("ann", full_name="Ann Member"), make_user("ben", full_name="Ben Manager")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    caller = Beebole(creator)
    pid = caller.call("project.create", project={"name": "Development", "startDate": "2017-10-13",
                                                 "description": "some description ...",
                                                 "company": {"id": company}})["id"]
    caller.call("project.attach_member", id=pid, person={"id": ann.pk})
    caller.call("project.attach_member", id=pid, group={"id": crew})
    caller.call("project.attach_manager", id=pid, person={"id": ben.pk})

    row = Project.objects.get(pk=pid)
    assert (row.name, row.start_date.isoformat(), row.company_id, row.parent_id) == (
        "Development", "2017-10-13", company, None)

    v1 = client_for(creator).get(f"/api/v1/projects/{pid}/").json()
    assert (v1["id"], v1["name"], v1["start_date"], v1["description"]) == (
        pid, "Development", "2017-10-13", "some description ...")
    assert _v1_members(creator, pid) == {"carla": Role.OWNER, "ann": Role.MEMBER, "ben": Role.ADMIN}
    assert Membership.objects.get(project_id=pid, group_id=crew).role == Role.MEMBER

    v3 = v3_client(creator).get(f"/api/v3/projects/{pid}").json()
    assert (v3["id"], v3["name"], v3["description"]["raw"], v3["active"]) == (
        pid, "Development", "some description ...", True)
    filters = json.dumps([{"project": {"operator": "=", "values": [str(pid)]}}])
    elements = v3_client(creator).get("/api/v3/memberships", {"filters": filters}).json()["_embedded"]["elements"]
    roles = {element["_links"]["principal"]["title"]: [r["title"] for r in element["_links"]["roles"]]
             for element in elements}
    assert roles == {"Carla Creator": ["Owner"], "Ann Member": ["Member"], "Ben Manager": ["Admin"],
                     "Crew": ["Member"]}

    # The managers Beebole lists are the Admins and above v1 shows.
    managers = caller.call("project.managers", id=pid)["members"]
    assert {m["id"] for m in managers} == {creator.pk, ben.pk}


def test_a_group_member_reaches_the_project_through_the_groups_membership(bb, company, creator):
    dora = make_user("dora")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    group_member_add(actor=bb.user, group=Group.objects.get(pk=crew), user=dora)
    caller = Beebole(creator)
    pid = caller.call("project.create", project={"name": "Reach", "company": {"id": company}})["id"]
    assert Beebole(dora).error("project.get", id=pid).startswith("Unknown project")
    caller.call("project.attach_member", id=pid, group={"id": crew})
    assert Beebole(dora).call("project.get", id=pid)["project"]["name"] == "Reach"
    assert client_for(dora).get(f"/api/v1/projects/{pid}/").status_code == 200


def test_changes_through_v3_and_v1_show_through_beebole(bb, company, creator):
    caller = Beebole(creator)
    pid = caller.call("project.create", project={"name": "Before", "company": {"id": company}})["id"]
    answer = v3_client(creator).patch(f"/api/v3/projects/{pid}", {"name": "Renamed in v3"}, format="json")
    assert answer.status_code == 200, answer.content
    assert caller.call("project.get", id=pid)["project"]["name"] == "Renamed in v3"
    answer = client_for(creator).patch(f"/api/v1/projects/{pid}/", {"start_date": "2027-02-01"}, format="json")
    assert answer.status_code == 200, answer.content
    assert caller.call("project.get", id=pid)["project"]["startDate"] == "2027-02-01"
    caller.call("project.update", project={"id": pid, "description": "From Beebole"})
    assert v3_client(creator).get(f"/api/v3/projects/{pid}").json()["description"]["raw"] == "From Beebole"


def test_a_subproject_is_a_child_project_in_every_dialect(bb, company, creator):
    caller = Beebole(creator)
    pid = caller.call("project.create", project={"name": "Parent", "company": {"id": company}})["id"]
    sid = caller.call("subproject.create", subproject={"name": "Child", "project": {"id": pid}})["id"]
    child = Project.objects.get(pk=sid)
    assert (child.parent_id, child.company_id) == (pid, company)
    v3 = v3_client(creator).get(f"/api/v3/projects/{sid}").json()
    assert v3["_links"]["parent"]["href"] == f"/api/v3/projects/{pid}"
    assert caller.call("project.get", id=pid)["project"]["subprojects"] == {"count": 1}
    # A project made in v1 under the same parent is a subproject in Beebole too.
    other = make_project(creator, "Made in v1", parent=Project.objects.get(pk=pid))
    listed = caller.call("subproject.list", project={"id": pid})["subprojects"]
    assert [(s["id"], s["project"]) for s in listed] == [(sid, {"id": pid}), (other.pk, {"id": pid})]
