"""Specific activities (Beebole's specific tasks) of projects, subprojects and companies: who may choose them,
which activities are usable where, the switch, the change log, the lookup a project's time follows, and time
entries held to it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keelplan.portfolio.models import Company, Project, Role
from keelplan.portfolio.reference import company_create, company_delete
from keelplan.portfolio.services import membership_add, project_create, project_delete, project_update
from keelplan.timesheets.models import Activity, ActivitySelection, TimeEntry
from keelplan.timesheets.selectors import activities_offered, specific_activities
from keelplan.timesheets.services import (
    SPECIFIC_ACTIVITIES_ENTITY, activity_create, activity_update, specific_activities_set_enabled,
    specific_activity_attach, specific_activity_detach, time_entry_create, time_entry_update,
)

from conftest import make_project, make_user, second_writer_outcome

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 2)
GENERIC = ["Management", "Specification", "Development", "Testing", "Support", "Other"]


@pytest.fixture
def acme(owner):
    return company_create(actor=owner, name="Acme")


@pytest.fixture
def globex(owner):
    return company_create(actor=owner, name="Globex")


@pytest.fixture
def kinds(owner, acme, globex):
    """Two of Acme's activities, one of Globex's, and the seeded workspace-wide ones, by name."""
    rows = {a.name: a for a in Activity.objects.all()}
    rows["Design"] = activity_create(actor=owner, name="Design", company=acme)
    rows["Drafting"] = activity_create(actor=owner, name="Drafting", company=acme)
    rows["Audit"] = activity_create(actor=owner, name="Audit", company=globex)
    return rows


@pytest.fixture
def acme_project(owner, project, acme):
    """The ``project`` fixture (with a member per role), now Acme's."""
    return project_update(actor=owner, project=project, company=acme)


def attach(owner, *names, actor=None, kinds):
    for name in names:
        specific_activity_attach(actor=actor, owner=owner, activity=kinds[name])


def offered(project) -> list[str]:
    return [a.name for a in activities_offered(project)]


def events(stream_key: str) -> list[tuple]:
    return list(ChangeEvent.objects.filter(entity=SPECIFIC_ACTIVITIES_ENTITY, stream__key=stream_key)
                .order_by("seq").values_list("entity_id", "action", "changes"))


# ---------------------------------------------------------------- the model

def test_a_selection_has_exactly_one_owner(project, acme):
    for owners in ({}, {"project": project, "company": acme}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ActivitySelection.objects.create(**owners)
    ActivitySelection.objects.create(project=project)
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivitySelection.objects.create(project=project)
    ActivitySelection.objects.create(company=acme)
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivitySelection.objects.create(company=acme)


def test_a_selection_goes_with_its_owner_when_the_row_is_erased(owner, acme):
    throwaway = make_project(owner, name="Throwaway")
    ActivitySelection.objects.create(project=throwaway)
    ActivitySelection.objects.create(company=acme)
    Project.all_objects.filter(pk=throwaway.pk).delete()
    Company.all_objects.filter(pk=acme.pk).delete()
    assert not ActivitySelection.objects.exists()


def test_the_admin_site_shows_selections_but_cannot_write_them(owner, acme, kinds, client):
    attach(acme, "Design", actor=owner, kinds=kinds)
    selection = ActivitySelection.objects.get()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "root-password-1"))
    assert client.get("/admin/timesheets/activityselection/").status_code == 200
    assert client.get(f"/admin/timesheets/activityselection/{selection.pk}/change/").status_code == 200
    assert client.get("/admin/timesheets/activityselection/add/").status_code == 403
    response = client.post(f"/admin/timesheets/activityselection/{selection.pk}/change/", {"is_enabled": ""})
    assert response.status_code == 403
    assert ActivitySelection.objects.get().is_enabled


# ---------------------------------------------------------------- attach, detach, switch

def test_a_project_admin_attaches_and_detaches_and_each_change_is_logged_in_the_project(acme_project, members, kinds):
    admin = members["admin"]
    assert specific_activities(acme_project) == (True, [])
    design, testing = kinds["Design"], kinds["Testing"]
    assert specific_activity_attach(actor=admin, owner=acme_project, activity=testing) == (True, [testing])
    assert specific_activity_attach(actor=admin, owner=acme_project, activity=design) == (True, [testing, design])
    assert specific_activity_detach(actor=admin, owner=acme_project, activity=testing) == (True, [design])
    assert events(f"project:{acme_project.pk}") == [
        (acme_project.pk, "updated", {"activities": [[], [testing.pk]]}),
        (acme_project.pk, "updated", {"activities": [[testing.pk], sorted([testing.pk, design.pk])]}),
        (acme_project.pk, "updated", {"activities": [sorted([testing.pk, design.pk]), [design.pk]]}),
    ]
    assert not events("workspace")
    assert ChangeEvent.objects.filter(entity=SPECIFIC_ACTIVITIES_ENTITY).first().actor == admin


def test_a_workspace_administrator_chooses_a_companys_and_it_is_logged_in_the_workspace(owner, acme, kinds):
    assert specific_activity_attach(actor=owner, owner=acme, activity=kinds["Drafting"]) == (True, [kinds["Drafting"]])
    assert specific_activity_attach(actor=owner, owner=acme, activity=kinds["Other"])[1] == [kinds["Other"],
                                                                                             kinds["Drafting"]]
    assert specific_activities_set_enabled(actor=owner, owner=acme, enabled=False)[0] is False
    assert events("workspace") == [
        (acme.pk, "updated", {"activities": [[], [kinds["Drafting"].pk]]}),
        (acme.pk, "updated", {"activities": [[kinds["Drafting"].pk], sorted([kinds["Drafting"].pk,
                                                                           kinds["Other"].pk])]}),
        (acme.pk, "updated", {"is_enabled": [True, False]}),
    ]


def test_specific_activities_are_listed_by_position_inactive_ones_too(owner, acme_project, kinds):
    attach(acme_project, "Other", "Design", "Management", actor=owner, kinds=kinds)
    activity_update(actor=owner, activity=kinds["Other"], is_active=False)
    assert specific_activities(acme_project) == (True, [kinds["Management"], kinds["Other"], kinds["Design"]])


def test_attaching_one_already_there_is_a_conflict_and_writes_nothing(owner, acme, kinds, unchanged):
    attach(acme, "Design", actor=owner, kinds=kinds)
    with unchanged():
        with pytest.raises(Conflict) as caught:
            specific_activity_attach(actor=owner, owner=acme, activity=Activity.objects.get(name="Design"))
        assert (caught.value.field, caught.value.code) == ("activity", "duplicate_assignment")


def test_detaching_one_not_there_is_not_found_and_writes_nothing(owner, project, acme, kinds, unchanged):
    attach(project, "Testing", actor=owner, kinds=kinds)
    with unchanged():
        for where, kind in ((project, "Support"), (acme, "Design"), (project, "Audit")):
            with pytest.raises(NotFound) as caught:
                specific_activity_detach(actor=owner, owner=where, activity=kinds[kind])
            assert caught.value.params == {"entity": "specific activity"}


def test_the_switch_is_on_by_default_and_logged_only_when_it_moves(owner, project, kinds, unchanged):
    with unchanged():   # on already, and no row is needed to say so
        assert specific_activities_set_enabled(actor=owner, owner=project, enabled=True) == (True, [])
    assert not ActivitySelection.objects.exists()
    assert specific_activities_set_enabled(actor=owner, owner=project, enabled=False) == (False, [])
    with unchanged():
        specific_activities_set_enabled(actor=owner, owner=project, enabled=False)
    attach(project, "Testing", actor=owner, kinds=kinds)   # kept while off, for when it is on again
    assert specific_activities(project) == (False, [kinds["Testing"]])
    assert specific_activities_set_enabled(actor=owner, owner=project, enabled=True) == (True, [kinds["Testing"]])
    assert [changes for _, _, changes in events(f"project:{project.pk}")] == [
        {"is_enabled": [True, False]}, {"activities": [[], [kinds["Testing"].pk]]}, {"is_enabled": [False, True]}]


# ---------------------------------------------------------------- which activities are usable where

def test_another_companys_activity_is_refused_everywhere_but_its_own(owner, acme, globex, acme_project, kinds,
                                                                     unchanged):
    loose = make_project(owner, name="Loose")   # no company: workspace-wide activities only
    globex_project = make_project(owner, name="Globex job", company=globex)
    with unchanged():
        for where, kind in ((acme_project, "Audit"), (acme, "Audit"), (globex, "Design"), (globex_project, "Design"),
                            (loose, "Design"), (loose, "Audit")):
            with pytest.raises(InvalidInput) as caught:
                specific_activity_attach(actor=owner, owner=where, activity=kinds[kind])
            assert (caught.value.field, caught.value.code, caught.value.params) == (
                "activity", "invalid_reference", {"entity": "activity"})
            assert "belongs to another company" in caught.value.message
    attach(acme_project, "Design", "Testing", actor=owner, kinds=kinds)
    attach(acme, "Drafting", "Testing", actor=owner, kinds=kinds)
    attach(globex_project, "Audit", "Testing", actor=owner, kinds=kinds)
    attach(loose, "Testing", actor=owner, kinds=kinds)


def test_a_subproject_chooses_among_its_own_companys_activities(owner, acme_project, kinds, unchanged):
    child = make_project(owner, name="Wing", parent=acme_project, company=acme_project.company)
    orphan = make_project(owner, name="Annex", parent=acme_project)   # under an Acme project, but of no company
    attach(child, "Design", actor=owner, kinds=kinds)
    with unchanged(), pytest.raises(InvalidInput):
        attach(orphan, "Design", actor=owner, kinds=kinds)


def test_the_projects_company_is_read_as_it_is_now(owner, acme_project, globex, kinds, unchanged):
    stale = Project.objects.get(pk=acme_project.pk)
    project_update(actor=owner, project=acme_project, company=globex)
    with unchanged(), pytest.raises(InvalidInput):
        specific_activity_attach(actor=owner, owner=stale, activity=kinds["Design"])
    specific_activity_attach(actor=owner, owner=stale, activity=kinds["Audit"])


@pytest.mark.parametrize("service", ["attach", "detach", "set_enabled"])
def test_bad_values_are_refused_naming_the_field(owner, project, kinds, unchanged, service):
    def call(where=project, activity=kinds["Testing"], enabled=False):
        if service == "attach":
            return specific_activity_attach(actor=owner, owner=where, activity=activity)
        if service == "detach":
            return specific_activity_detach(actor=owner, owner=where, activity=activity)
        return specific_activities_set_enabled(actor=owner, owner=where, enabled=enabled)

    with unchanged():
        for where in (None, "Apollo", project.pk, kinds["Testing"], Project(name="Unsaved")):
            with pytest.raises(InvalidInput) as caught:
                call(where=where)
            assert (caught.value.field, caught.value.code) == ("owner", "invalid_type")
        if service == "set_enabled":
            for value, code in ((None, "null"), ("no", "invalid_type"), (0, "invalid_type")):
                with pytest.raises(InvalidInput) as caught:
                    call(enabled=value)
                assert (caught.value.field, caught.value.code) == ("enabled", code)
        else:
            for value, code in ((None, "null"), ("Testing", "invalid_type"), (kinds["Testing"].pk, "invalid_type"),
                                (Activity(name="Unsaved"), "invalid_type")):
                with pytest.raises(InvalidInput) as caught:
                    call(activity=value)
                assert (caught.value.field, caught.value.code) == ("activity", code)
    if service == "attach":
        with unchanged(), pytest.raises(InvalidInput) as caught:
            call(activity=Activity(pk=10_000, name="Ghost"))
        assert (caught.value.field, caught.value.code) == ("activity", "invalid_reference")


# ---------------------------------------------------------------- attacks

def _tries(actor, where, kind) -> list:
    """Every write on ``where``'s specific activities by ``actor``, each caught: the exception classes raised."""
    raised = []
    for call in (lambda: specific_activity_attach(actor=actor, owner=where, activity=kind),
                 lambda: specific_activity_detach(actor=actor, owner=where, activity=Activity.objects.get(
                     name="Testing")),
                 lambda: specific_activities_set_enabled(actor=actor, owner=where, enabled=False)):
        try:
            call()
        except (NotFound, PermissionDenied) as exc:
            raised.append(type(exc))
        else:
            raised.append(None)
    return raised


@pytest.mark.parametrize("role", ["viewer", "member", "scheduler"])
def test_below_admin_a_member_may_not_choose_the_projects_activities(owner, acme_project, members, kinds, unchanged,
                                                                       role):
    attach(acme_project, "Testing", actor=owner, kinds=kinds)
    with unchanged():
        assert _tries(members[role], acme_project, kinds["Design"]) == [PermissionDenied] * 3


def test_a_non_member_is_told_the_project_does_not_exist(owner, acme_project, outsider, kinds, unchanged):
    attach(acme_project, "Testing", actor=owner, kinds=kinds)
    with unchanged():
        assert _tries(outsider, acme_project, kinds["Design"]) == [NotFound] * 3
        assert _tries(None, acme_project, kinds["Design"]) == [NotFound] * 3


def test_a_non_member_of_a_public_project_is_a_viewer_and_refused(owner, outsider, kinds, unchanged):
    public = make_project(owner, name="Open house", is_public=True)
    attach(public, "Testing", actor=owner, kinds=kinds)
    with unchanged():
        assert _tries(outsider, public, kinds["Support"]) == [PermissionDenied] * 3


def test_a_deleted_project_is_not_found_even_for_a_workspace_administrator(owner, kinds, unchanged):
    gone = make_project(owner, name="Gone")
    attach(gone, "Testing", actor=owner, kinds=kinds)
    project_delete(actor=owner, project=gone)
    with unchanged():
        assert _tries(owner, gone, kinds["Support"]) == [NotFound] * 3


def test_only_a_workspace_administrator_chooses_a_companys_activities(owner, acme, acme_project, members, outsider,
                                                                       kinds, unchanged):
    boss = make_user("boss")   # Owner of a project of Acme's, but no workspace administrator
    own = project_create(actor=boss, name="Boss's", start_date=DAY, company=acme)
    membership_add(actor=owner, project=acme_project, user=boss, role=Role.ADMIN)
    attach(acme, "Testing", actor=owner, kinds=kinds)
    with unchanged():
        for person in (boss, members["admin"], outsider):
            assert _tries(person, acme, kinds["Design"]) == [PermissionDenied] * 3
    # What the boss may do is choose activities for their own project.
    specific_activity_attach(actor=boss, owner=own, activity=kinds["Design"])


def test_a_deleted_company_is_not_found(owner, globex, kinds, unchanged):
    company_delete(actor=owner, company=globex)
    with unchanged():
        assert _tries(owner, globex, kinds["Testing"]) == [NotFound] * 3


# ---------------------------------------------------------------- what a project offers

def test_without_any_selection_a_project_offers_the_generic_activities_of_its_company(owner, acme_project, kinds):
    loose = make_project(owner, name="Loose")
    assert offered(loose) == GENERIC
    assert offered(acme_project) == [*GENERIC, "Design", "Drafting"]
    activity_update(actor=owner, activity=kinds["Drafting"], is_active=False)
    assert offered(acme_project) == [*GENERIC, "Design"]


def test_the_lookup_goes_project_then_ancestors_nearest_first_then_company(owner, acme, acme_project, kinds):
    child = make_project(owner, name="Wing", parent=acme_project, company=acme)
    grandchild = make_project(owner, name="Room", parent=child, company=acme)
    attach(acme, "Drafting", actor=owner, kinds=kinds)
    assert offered(grandchild) == offered(child) == offered(acme_project) == ["Drafting"]
    attach(acme_project, "Support", actor=owner, kinds=kinds)
    assert offered(grandchild) == offered(child) == ["Support"]
    attach(child, "Design", actor=owner, kinds=kinds)
    assert (offered(grandchild), offered(acme_project)) == (["Design"], ["Support"])
    attach(grandchild, "Testing", "Management", actor=owner, kinds=kinds)
    assert offered(grandchild) == ["Management", "Testing"]
    # Switched off, or emptied, a level no longer decides: the next one up does.
    specific_activities_set_enabled(actor=owner, owner=child, enabled=False)
    specific_activity_detach(actor=owner, owner=grandchild, activity=kinds["Testing"])
    specific_activity_detach(actor=owner, owner=grandchild, activity=kinds["Management"])
    assert offered(grandchild) == ["Support"]
    specific_activities_set_enabled(actor=owner, owner=acme_project, enabled=False)
    assert offered(grandchild) == ["Drafting"]
    specific_activities_set_enabled(actor=owner, owner=acme, enabled=False)
    assert offered(grandchild) == [*GENERIC, "Design", "Drafting"]


def test_a_selection_offers_only_its_active_activities_and_still_decides_when_none_is(owner, acme_project, kinds):
    child = make_project(owner, name="Wing", parent=acme_project)
    attach(acme_project, "Support", actor=owner, kinds=kinds)
    attach(child, "Testing", "Other", actor=owner, kinds=kinds)
    activity_update(actor=owner, activity=kinds["Other"], is_active=False)
    assert offered(child) == ["Testing"]
    activity_update(actor=owner, activity=kinds["Testing"], is_active=False)
    assert offered(child) == []   # a project that chose never widens again by itself


def test_activities_of_a_company_the_project_left_are_not_offered(owner, acme_project, globex, kinds):
    child = make_project(owner, name="Wing", parent=acme_project)   # no company of its own
    attach(acme_project, "Design", actor=owner, kinds=kinds)
    assert offered(child) == GENERIC   # the parent's holds nothing a project of no company may use...
    attach(acme_project, "Testing", actor=owner, kinds=kinds)
    assert offered(child) == ["Testing"]   # ...until it holds one
    project_update(actor=owner, project=acme_project, company=globex)
    assert offered(acme_project) == ["Testing"]


def test_the_lookup_reads_a_bounded_number_of_queries(owner, acme, acme_project, kinds, django_assert_max_num_queries):
    deep = acme_project
    for level in range(3):
        deep = make_project(owner, name=f"Level {level}", parent=deep, company=acme)
    attach(acme, "Design", actor=owner, kinds=kinds)
    with django_assert_max_num_queries(6):   # one per level (4), the selections, the activities
        assert offered(deep) == ["Design"]


# ---------------------------------------------------------------- time entries

def test_time_is_logged_only_as_an_activity_the_project_offers(owner, acme_project, members, kinds, unchanged):
    member = members["member"]
    time_entry_create(actor=member, project=acme_project, spent_on=DAY, minutes=30, activity=kinds["Design"])
    with unchanged():
        with pytest.raises(InvalidInput) as caught:
            time_entry_create(actor=member, project=acme_project, spent_on=DAY, minutes=30, activity=kinds["Audit"])
        assert (caught.value.field, caught.value.code, caught.value.params) == (
            "activity", "invalid_reference", {"entity": "activity"})
        assert "another company" in caught.value.message
    attach(acme_project, "Design", "Testing", actor=owner, kinds=kinds)
    entry = time_entry_create(actor=member, project=acme_project, spent_on=DAY, minutes=30, activity=kinds["Testing"])
    with unchanged():
        for kind in ("Support", "Drafting", "Audit"):
            with pytest.raises(InvalidInput) as caught:
                time_entry_create(actor=member, project=acme_project, spent_on=DAY, minutes=5, activity=kinds[kind])
            assert (caught.value.field, caught.value.code) == ("activity", "invalid_reference")
            with pytest.raises(InvalidInput) as caught:
                time_entry_update(actor=member, entry=entry, activity=kinds[kind])
            assert (caught.value.field, caught.value.code) == ("activity", "invalid_reference")
    assert time_entry_update(actor=member, entry=entry, activity=kinds["Design"]).activity == kinds["Design"]


def test_an_entry_keeps_an_activity_no_longer_offered_until_it_is_changed(owner, project, members, kinds):
    entry = time_entry_create(actor=members["member"], project=project, spent_on=DAY, minutes=30,
                              activity=kinds["Support"])
    attach(project, "Testing", actor=owner, kinds=kinds)
    entry = time_entry_update(actor=members["member"], entry=entry, minutes=45, comment="More")
    assert (entry.activity, entry.minutes) == (kinds["Support"], 45)


def test_without_an_activity_the_default_is_used_if_offered_else_the_first_offered(owner, acme, acme_project,
                                                                                    members, kinds):
    def logged() -> str:
        return time_entry_create(actor=members["member"], project=acme_project, spent_on=DAY, minutes=10).activity.name

    assert logged() == "Development"
    attach(acme, "Drafting", "Design", actor=owner, kinds=kinds)
    assert logged() == "Design"   # first by position: Design was made before Drafting
    attach(acme, "Development", actor=owner, kinds=kinds)
    assert logged() == "Development"
    specific_activities_set_enabled(actor=owner, owner=acme, enabled=False)
    assert logged() == "Development"


def test_a_project_offering_nothing_refuses_time_without_an_activity(owner, project, members, kinds, unchanged):
    attach(project, "Other", actor=owner, kinds=kinds)
    activity_update(actor=owner, activity=kinds["Other"], is_active=False)
    with unchanged(), pytest.raises(InvalidInput) as caught:
        time_entry_create(actor=members["member"], project=project, spent_on=DAY, minutes=10)
    assert (caught.value.field, caught.value.code) == ("activity", "required")
    assert not TimeEntry.objects.exists()


# ---------------------------------------------------------------- concurrency

@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("same", "existing"), [(False, False), (False, True), (True, True)],
                         ids=["two activities", "two activities to a row there already", "one activity twice"])
def test_two_attaches_at_once_neither_lost_nor_doubled(same, existing):
    """The second attach waits for the first's lock on the project's stream, then sees the first's selection row
    and what it holds: two activities both land in one row, new or there already; the same one twice (to a row
    there already) is a conflict the second time, logged once. (SQLite runs one writer at a time: PostgreSQL
    only.) A new row alone would not need the lock (its unique project holds the second back); a row there
    already does: without the lock the second would log the row as it was before the first's activity."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL runs two writers at once")
    boss = make_user("race-boss", workspace_admin=True)
    target = make_project(boss, name="Race")
    if existing:
        specific_activities_set_enabled(actor=boss, owner=target, enabled=False)
    first_kind = activity_create(actor=boss, name="Race one")
    second_kind = first_kind if same else activity_create(actor=boss, name="Race two")
    outcome = second_writer_outcome(
        lambda: specific_activity_attach(actor=boss, owner=target, activity=first_kind),
        lambda: specific_activity_attach(actor=boss, owner=target, activity=second_kind), refused=(Conflict,))
    held = [first_kind] if same else [first_kind, second_kind]
    assert outcome == (("activity", "duplicate_assignment") if same else (not existing, held))
    assert ActivitySelection.objects.filter(project=target).count() == 1
    assert specific_activities(target) == (not existing, held)
    logged = [changes["activities"] for _, _, changes in events(f"project:{target.pk}") if "activities" in changes]
    assert logged == ([[[], [first_kind.pk]]] if same
                      else [[[], [first_kind.pk]], [[first_kind.pk], [first_kind.pk, second_kind.pk]]])
