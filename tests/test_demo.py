"""The demo workspace: what it contains, that it was written through services, and that loading it is idempotent."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from keelplan.calendars.models import Calendar
from keelplan.demo import (
    DEMO_PASSWORD, DEMO_PROJECT_IDENTIFIER, DEMO_SUBPROJECT_IDENTIFIER, PEOPLE, demo_load, demo_load_if_empty,
)
from keelplan.planning.models import Dependency, WorkItem
from keelplan.portfolio.models import Company, Membership, Project, Role
from keelplan.portfolio.people import people_of_company
from keelplan.resources.models import Assignment, Resource
from keelplan.scheduling.selectors import computed_fields
from keelplan.changelog.models import ChangeEvent

from conftest import client_for, make_user

User = get_user_model()


@pytest.fixture(scope="class")
def loaded_demo(django_db_setup, django_db_blocker):
    """The demo, loaded once for a class of tests in a transaction that is rolled back after them.

    Each test still runs in its own savepoint (the ``db`` fixture), so a test that writes leaves the
    next one the demo exactly as loaded."""
    with django_db_blocker.unblock(), transaction.atomic():
        result = demo_load()
        yield result
        transaction.set_rollback(True)


@pytest.fixture
def demo(loaded_demo, db):
    return loaded_demo, Project.objects.get(identifier=DEMO_PROJECT_IDENTIFIER)


class TestDemoContent:
    """Checks of what the demo contains, sharing one load."""

    def test_the_project_has_a_few_dozen_tasks_in_a_wbs_tree(self, demo):
        _, project = demo
        tasks = WorkItem.objects.filter(project=project)
        assert 30 <= tasks.count() <= 45
        summaries = tasks.filter(children__isnull=False).distinct()
        assert summaries.count() >= 5
        leaves = tasks.filter(children__isnull=True)
        assert not leaves.filter(parent__isnull=True).exists(), "every leaf task sits under a summary"
        milestones = tasks.filter(is_milestone=True)
        assert milestones.count() >= 2
        assert set(milestones.values_list("duration", flat=True)) == {0}

    def test_each_project_is_scheduled_once_and_every_task_has_dates(self, demo):
        for project in Project.objects.filter(identifier__in=[DEMO_PROJECT_IDENTIFIER, DEMO_SUBPROJECT_IDENTIFIER]):
            events = ChangeEvent.objects.filter(stream__project=project, entity="schedule")
            assert events.count() == 1, "the loader writes every row in one scope: one computation per project"
            ids = list(WorkItem.objects.filter(project=project).values_list("id", flat=True))
            computed = computed_fields(project.pk, ids)
            assert set(computed) == set(ids)
            assert any(values["is_critical"] for values in computed.values())
            assert project.finish_date is not None and project.finish_date > project.start_date

    def test_links_use_all_four_types_with_leads_and_lags_in_both_units(self, demo):
        _, project = demo
        links = Dependency.objects.filter(project=project)
        assert set(links.values_list("dep_type", flat=True)) == {"FS", "SS", "FF", "SF"}
        assert links.filter(lag__lt=0).exists(), "a lead"
        lagged = links.exclude(lag=0)
        elapsed, working = lagged.filter(lag_unit="ed").count(), lagged.filter(lag_unit="wd").count()
        assert working >= 2
        assert elapsed > working

    def test_constraints_and_deadlines(self, demo):
        _, project = demo
        tasks = WorkItem.objects.filter(project=project)
        constrained = tasks.exclude(constraint_type="ASAP")
        assert {"SNET", "FNLT"} <= set(constrained.values_list("constraint_type", flat=True))
        assert not constrained.filter(constraint_date__isnull=True).exists()
        assert tasks.filter(deadline__isnull=False).exists()

    def test_two_calendars_used_by_the_project_some_tasks_and_resources(self, demo):
        _, project = demo
        assert Calendar.objects.count() == 2
        standard = project.calendar
        assert standard is not None and standard.working_days == 0b0011111
        site = Calendar.objects.exclude(pk=standard.pk).get()
        assert site.working_days == 0b0111111
        assert standard.exceptions.filter(is_working=False).count() >= 5, "public holidays"
        assert site.exceptions.filter(is_working=True).exists()
        tasks = WorkItem.objects.filter(project=project)
        assert tasks.filter(calendar=site).count() >= 10
        assert Resource.objects.filter(calendar=site).exists()

    def test_one_member_in_each_role_with_real_names_and_the_demo_password(self, demo):
        _, project = demo
        memberships = Membership.objects.filter(project=project).select_related("user")
        assert sorted(m.role for m in memberships) == sorted(Role.values)
        for membership in memberships:
            user = membership.user
            assert " " in user.full_name
            assert user.check_password(DEMO_PASSWORD)

    def test_resources_some_linked_to_users_with_assignments(self, demo):
        _, project = demo
        assert Resource.objects.count() >= 5
        linked = Resource.objects.filter(user__isnull=False)
        assert linked.count() >= 2
        assignments = Assignment.objects.filter(project=project)
        assert assignments.count() >= 15
        assert assignments.filter(resource__user__isnull=False).exists()
        assert assignments.filter(resource__user__isnull=True).exists()

    def test_a_subproject_sits_under_the_main_project(self, demo):
        _, project = demo
        sub = Project.objects.get(identifier=DEMO_SUBPROJECT_IDENTIFIER)
        assert sub.parent_id == project.pk
        assert WorkItem.objects.filter(project=sub).exists()
        assert Dependency.objects.filter(project=sub).exists()

    def test_every_row_was_written_through_services_with_a_change_event(self, demo):
        _, project = demo
        logged = set(ChangeEvent.objects.filter(stream__project=project, entity="work_item", action="created")
                     .values_list("entity_id", flat=True))
        assert logged == set(WorkItem.objects.filter(project=project).values_list("id", flat=True))
        logged_links = set(ChangeEvent.objects.filter(stream__project=project, entity="dependency")
                           .values_list("entity_id", flat=True))
        assert logged_links == set(Dependency.objects.filter(project=project).values_list("id", flat=True))
        logged_assignments = set(ChangeEvent.objects.filter(stream__project=project, entity="assignment")
                                 .values_list("entity_id", flat=True))
        assert logged_assignments == set(Assignment.objects.filter(project=project).values_list("id", flat=True))

    def test_progress_is_recorded_on_the_first_tasks(self, demo):
        _, project = demo
        assert project.status_date is not None
        tasks = WorkItem.objects.filter(project=project)
        done = tasks.filter(status__code="COMPLETE").get()
        assert done.percent_complete == 100 and done.actual_finish is not None
        assert tasks.filter(status__code="IN_PROGRESS", actual_start__isnull=False).exists()

    def test_the_member_can_edit_their_own_site_task_over_the_api(self, demo):
        _, project = demo
        tom = User.objects.get(username="tom")
        own = WorkItem.objects.filter(project=project, assignee=tom).first()
        other = (WorkItem.objects.filter(project=project).exclude(assignee=tom)
                 .exclude(assignments__resource__user=tom).first())
        client = client_for(tom)

        assert client.patch(f"/api/v1/tasks/{own.pk}/", {"percent_complete": 10}, format="json").status_code == 200
        assert client.patch(f"/api/v1/tasks/{other.pk}/", {"percent_complete": 10}, format="json").status_code == 403

    def test_the_viewer_sees_the_project_through_the_api(self, demo):
        _, project = demo
        client = client_for(User.objects.get(username="lena"))
        response = client.get(f"/api/v1/tasks/?project={project.pk}&page_size=100")
        assert response.status_code == 200
        assert response.json()["count"] == WorkItem.objects.filter(project=project).count()

    def test_the_people_work_for_two_companies_and_the_project_is_the_clients(self, demo):
        _, project = demo
        sub = Project.objects.get(identifier=DEMO_SUBPROJECT_IDENTIFIER)
        firm, client = Company.objects.get(is_corporate=True), Company.objects.get(is_corporate=False)
        assert project.company == sub.company == client
        assert set(people_of_company(firm).values_list("username", flat=True)) == {"hannah", "marcus", "priya", "tom"}
        assert set(people_of_company(client).values_list("username", flat=True)) == {"lena"}
        tom = User.objects.get(username="tom")
        assert (tom.kind, list(tom.leaders.values_list("username", flat=True))) == ("leader", ["marcus"])

    def test_loading_twice_changes_nothing(self, demo):
        models = (Project, WorkItem, Dependency, Assignment, Resource, Calendar)
        counts = [model.all_objects.count() for model in models]
        events = ChangeEvent.objects.count()
        users = User.objects.count()

        again = demo_load()

        assert again.created is False
        assert again.users == [p.username for p in PEOPLE]
        assert [model.all_objects.count() for model in models] == counts
        assert ChangeEvent.objects.count() == events
        assert User.objects.count() == users

    def test_login_help_names_every_user_with_role_and_password(self, demo):
        result, _ = demo
        text = result.login_help()
        for person in PEOPLE:
            line = next(line for line in text.splitlines() if line.strip().startswith(person.username + " "))
            assert person.role.label in line
        assert DEMO_PASSWORD in text
        assert "curl -s -X POST http://127.0.0.1:8000/api/token/" in text
        assert "http://0.0.0.0:9000/api/token/" in result.login_help("http://0.0.0.0:9000")


def test_load_if_empty_loads_into_an_empty_workspace(db):
    result = demo_load_if_empty()
    assert result is not None and result.created
    assert Project.objects.filter(identifier=DEMO_PROJECT_IDENTIFIER).exists()


def test_load_if_empty_leaves_a_used_workspace_alone(db):
    make_user("somebody")
    assert demo_load_if_empty() is None
    assert not Project.all_objects.exists()


def test_existing_people_with_demo_names_are_reused(db):
    make_user("lena", full_name="Lena Fischer")
    result = demo_load()
    assert result.created
    assert User.objects.filter(username="lena").count() == 1
    project = Project.objects.get(identifier=DEMO_PROJECT_IDENTIFIER)
    assert Membership.objects.get(project=project, user__username="lena").role == Role.VIEWER
