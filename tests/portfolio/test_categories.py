"""Groups as categories of companies, projects and activities. A project's Admins assign its groups (others who
cannot see it learn nothing of it); workspace administrators assign a company's and an activity's. A refused
write leaves nothing behind."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from keelplan.accounts.models import Group
from keelplan.accounts.services import group_create, group_delete, group_member_add
from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keelplan.permissions import project_ids_visible
from keelplan.portfolio import categories as cat
from keelplan.portfolio import reference as ref
from keelplan.portfolio.models import GroupAssignment, Project, Role
from keelplan.portfolio.services import membership_add, project_delete
from keelplan.timesheets.models import Activity

from conftest import make_project, make_user, second_writer_outcome


@pytest.fixture
def world(db):
    keeper = make_user("keeper", workspace_admin=True)
    lead = make_user("lead")
    project = make_project(lead, name="Apollo")
    locations = group_create(actor=keeper, name="Locations")
    return {
        "keeper": keeper, "lead": lead, "project": project,
        "locations": locations, "new_york": group_create(actor=keeper, name="New York", parent=locations),
        "company": ref.company_create(actor=keeper, name="Acme"),
        "activity": Activity.objects.order_by("id").first(),   # seeded
    }


def state() -> tuple:
    return list(GroupAssignment.objects.order_by("id").values_list()), ChangeEvent.objects.count()


def events_of(project: Project | None) -> list[tuple]:
    stream = {"stream__project": project} if project is not None else {"stream__key": "workspace"}
    return list(ChangeEvent.objects.filter(**stream).order_by("seq").values_list("entity", "entity_id", "action",
                                                                                  "changes"))


TARGETS = ["company", "project", "activity"]


@pytest.mark.parametrize("kind", TARGETS)
def test_a_group_is_assigned_listed_and_unassigned_each_logged_in_the_targets_stream(world, kind):
    target, group = world[kind], world["locations"]
    stream = target if kind == "project" else None
    before = len(events_of(stream))
    row = cat.group_assign(actor=world["keeper"], group=group, target=target)
    assert (row.group, row.target) == (group, target)
    assert cat.groups_assigned(target) == [group]
    assert list(cat.group_assignments(group)[{"company": "companies", "project": "projects",
                                               "activity": "activities"}[kind]]) == [target]
    assert cat.group_assignment_count(group) == 1
    cat.group_unassign(actor=world["keeper"], group=group, target=target)
    assert cat.groups_assigned(target) == [] and cat.group_assignment_count(group) == 0
    assert events_of(stream)[before:] == [
        ("group_assignment", row.pk, "created", {"group": [None, group.pk], kind: [None, target.pk]}),
        ("group_assignment", row.pk, "deleted", {}),
    ]


def test_a_target_holds_many_groups_and_a_group_many_targets(world):
    keeper, locations, new_york = world["keeper"], world["locations"], world["new_york"]
    other = make_project(world["lead"], name="Gemini")
    for target in (world["company"], world["project"], other, world["activity"]):
        cat.group_assign(actor=keeper, group=locations, target=target)
    cat.group_assign(actor=keeper, group=new_york, target=world["project"])
    found = cat.groups_assigned(world["project"])
    assert found == [locations, new_york]
    assert [g.subgroup_count for g in found] == [1, 0]
    assigned = cat.group_assignments(locations)
    assert (list(assigned["companies"]), list(assigned["projects"]), list(assigned["activities"])) == (
        [world["company"]], [world["project"], other], [world["activity"]])
    assert cat.group_assignment_count(locations) == 4
    assert cat.group_assignment_count(new_york) == 1


def test_the_projects_a_group_has_are_not_filtered_the_caller_filters_them(world):
    keeper = world["keeper"]
    cat.group_assign(actor=keeper, group=world["locations"], target=world["project"])
    stranger = make_user("stranger")
    projects = cat.group_assignments(world["locations"])["projects"]
    assert list(projects) == [world["project"]]
    assert list(projects.filter(pk__in=project_ids_visible(stranger))) == []


@pytest.mark.parametrize("kind", TARGETS)
def test_assigning_a_group_twice_is_refused(world, kind):
    cat.group_assign(actor=world["keeper"], group=world["locations"], target=world[kind])
    before = state()
    with pytest.raises(Conflict) as refused:
        cat.group_assign(actor=world["keeper"], group=world["locations"], target=world[kind])
    assert (refused.value.code, refused.value.field) == ("duplicate_assignment", "group")
    assert state() == before


@pytest.mark.parametrize("kind", TARGETS)
def test_unassigning_a_group_not_assigned_is_not_found(world, kind):
    cat.group_assign(actor=world["keeper"], group=world["new_york"], target=world[kind])
    before = state()
    with pytest.raises(NotFound) as refused:
        cat.group_unassign(actor=world["keeper"], group=world["locations"], target=world[kind])
    assert refused.value.params == {"entity": "group assignment"}
    assert state() == before


@pytest.mark.parametrize("kind", TARGETS)
def test_a_deleted_group_is_refused(world, kind):
    stale = Group.objects.get(pk=world["new_york"].pk)
    group_delete(actor=world["keeper"], group=world["new_york"])
    before = state()
    for group in (stale, Group.all_objects.get(pk=stale.pk)):
        with pytest.raises(InvalidInput) as refused:
            cat.group_assign(actor=world["keeper"], group=group, target=world[kind])
        assert (refused.value.field, refused.value.code, refused.value.params) == (
            "group", "invalid_reference", {"entity": "group"})
    with pytest.raises(InvalidInput) as refused:
        cat.group_assign(actor=world["keeper"], group=stale.pk, target=world[kind])
    assert (refused.value.field, refused.value.code) == ("group", "invalid_type")
    assert state() == before


def test_a_target_that_is_no_company_project_or_activity_is_refused(world):
    before = state()
    for target in (world["keeper"], world["new_york"], world["project"].pk, Project(name="Unsaved")):
        with pytest.raises(InvalidInput) as refused:
            cat.group_assign(actor=world["keeper"], group=world["locations"], target=target)
        assert (refused.value.field, refused.value.code) == ("target", "invalid_type")
    assert state() == before


def test_deleted_companies_and_projects_take_no_groups_and_are_not_counted(world):
    keeper, lead, locations = world["keeper"], world["lead"], world["locations"]
    company, project = world["company"], world["project"]
    cat.group_assign(actor=keeper, group=locations, target=company)
    cat.group_assign(actor=keeper, group=locations, target=project)
    project_delete(actor=lead, project=project)
    ref.company_delete(actor=keeper, company=company)
    assert cat.group_assignment_count(locations) == 0
    assigned = cat.group_assignments(locations)
    assert (list(assigned["companies"]), list(assigned["projects"])) == ([], [])
    before = state()
    for target, entity in ((company, "company"), (project, "project")):
        with pytest.raises(NotFound) as refused:
            cat.group_assign(actor=keeper, group=world["new_york"], target=target)
        assert refused.value.params == {"entity": entity}
    assert state() == before


# ---------------------------------------------------------------- who may

@pytest.fixture
def roles(world):
    """A person per project role, keyed by role name; a group member; a stranger."""
    people = {"owner": world["lead"]}
    for role in (Role.VIEWER, Role.MEMBER, Role.SCHEDULER, Role.ADMIN):
        person = make_user(role.label.lower())
        membership_add(actor=world["lead"], project=world["project"], user=person, role=role)
        people[role.label.lower()] = person
    via_group = make_user("via-group")
    group_member_add(actor=world["keeper"], group=world["new_york"], user=via_group)
    membership_add(actor=world["lead"], project=world["project"], group=world["new_york"], role=Role.ADMIN)
    people["admin through a group"] = via_group
    people["stranger"] = make_user("stranger")
    return people


@pytest.mark.parametrize("who", ["admin", "owner", "admin through a group"])
def test_a_projects_admins_assign_its_groups(world, roles, who):
    actor = roles[who]
    cat.group_assign(actor=actor, group=world["locations"], target=world["project"])
    assert cat.groups_assigned(world["project"]) == [world["locations"]]
    cat.group_unassign(actor=actor, group=world["locations"], target=world["project"])
    assert cat.groups_assigned(world["project"]) == []


@pytest.mark.parametrize("who, refusal", [("viewer", PermissionDenied), ("member", PermissionDenied),
                                          ("scheduler", PermissionDenied), ("stranger", NotFound),
                                          ("anonymous", NotFound)])
def test_below_admin_no_one_changes_a_projects_groups_and_strangers_learn_nothing(world, roles, who, refusal):
    cat.group_assign(actor=world["keeper"], group=world["new_york"], target=world["project"])
    actor = roles.get(who)
    before = state()
    with pytest.raises(refusal):
        cat.group_assign(actor=actor, group=world["locations"], target=world["project"])
    with pytest.raises(refusal):
        cat.group_unassign(actor=actor, group=world["new_york"], target=world["project"])
    # Not even a group not assigned tells a stranger more than "no such project".
    with pytest.raises(refusal) as refused:
        cat.group_unassign(actor=actor, group=world["locations"], target=world["project"])
    if refusal is NotFound:
        assert refused.value.params == {"entity": "project"}
    assert state() == before


@pytest.mark.parametrize("kind", ["company", "activity"])
@pytest.mark.parametrize("who", ["owner", "admin", "stranger", "anonymous"])
def test_only_workspace_administrators_change_a_companys_or_an_activitys_groups(world, roles, kind, who):
    """A project role, even Owner, gives no right over rows the whole workspace shares."""
    cat.group_assign(actor=world["keeper"], group=world["new_york"], target=world[kind])
    actor = roles.get(who)
    before = state()
    with pytest.raises(PermissionDenied):
        cat.group_assign(actor=actor, group=world["locations"], target=world[kind])
    with pytest.raises(PermissionDenied):
        cat.group_unassign(actor=actor, group=world["new_york"], target=world[kind])
    with pytest.raises(PermissionDenied):
        cat.group_assignments_remove(world["new_york"], actor=actor)
    assert state() == before


def test_a_group_in_a_project_gives_its_people_no_role_there(world):
    person = make_user("newyorker")
    group_member_add(actor=world["keeper"], group=world["new_york"], user=person)
    cat.group_assign(actor=world["keeper"], group=world["new_york"], target=world["project"])
    with pytest.raises(NotFound):
        cat.group_assign(actor=person, group=world["locations"], target=world["project"])


# ---------------------------------------------------------------- a group's deletion

def test_removing_a_groups_assignments_logs_each_where_it_was(world):
    keeper, locations = world["keeper"], world["locations"]
    other = make_project(world["lead"], name="Gemini")
    rows = {kind: cat.group_assign(actor=keeper, group=locations, target=world[kind]) for kind in TARGETS}
    in_other = cat.group_assign(actor=keeper, group=locations, target=other)
    kept = cat.group_assign(actor=keeper, group=world["new_york"], target=other)
    project_delete(actor=world["lead"], project=world["project"])   # its assignment goes too
    workspace, apollo, gemini = (len(events_of(None)), len(events_of(world["project"])), len(events_of(other)))
    assert cat.group_assignments_remove(locations, actor=keeper) == 4
    assert list(GroupAssignment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert [e[:3] for e in events_of(None)[workspace:]] == [
        ("group_assignment", rows["company"].pk, "deleted"), ("group_assignment", rows["activity"].pk, "deleted")]
    assert [e[:3] for e in events_of(world["project"])[apollo:]] == [
        ("group_assignment", rows["project"].pk, "deleted")]
    assert [e[:3] for e in events_of(other)[gemini:]] == [("group_assignment", in_other.pk, "deleted")]
    assert cat.group_assignments_remove(locations, actor=keeper) == 0


def test_the_database_holds_one_target_per_row_and_a_target_once_per_group(world):
    group, company, project = world["locations"], world["company"], world["project"]
    for targets in ({}, {"company": company, "project": project}):
        with pytest.raises(IntegrityError), transaction.atomic():
            GroupAssignment.objects.create(group=group, **targets)
    GroupAssignment.objects.create(group=group, company=company)
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupAssignment.objects.create(group=group, company=company)
    GroupAssignment.objects.create(group=world["new_york"], company=company)
    GroupAssignment.objects.create(group=group, project=project)
    GroupAssignment.objects.create(group=group, activity=world["activity"])


@pytest.mark.django_db(transaction=True)
def test_a_group_being_deleted_gains_no_category_meanwhile():
    """Assigning a group while another request deletes it waits for the deletion, then refuses the group: no
    assignment outlives the group, and the two writers never deadlock. (Only PostgreSQL runs two writers at once.)"""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL runs two writers at once")
    keeper, lead = make_user("keeper", workspace_admin=True), make_user("lead")
    project = make_project(lead, name="Apollo")
    other = make_project(lead, name="Gemini")
    doomed = group_create(actor=keeper, name="Doomed")
    cat.group_assign(actor=keeper, group=doomed, target=project)
    outcome = second_writer_outcome(lambda: group_delete(actor=keeper, group=doomed),
                                    lambda: cat.group_assign(actor=lead, group=doomed, target=other),
                                    refused=(InvalidInput,))
    assert outcome == ("group", "invalid_reference")
    assert not GroupAssignment.objects.exists()
