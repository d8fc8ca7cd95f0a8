"""Reference data of projects: companies, project types and project statuses. Workspace administrators write
them, everyone signed in reads them; a project Owner has no more right to them than anyone else."""

from __future__ import annotations

import pytest

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StaleLockVersion
from keelplan.portfolio import reference as ref
from keelplan.portfolio.models import Company, Project, ProjectStatus, ProjectStatusCode, ProjectType
from keelplan.portfolio.services import project_delete

from conftest import make_project, make_user


@pytest.fixture
def keeper(db):
    """A workspace administrator."""
    return make_user("keeper", workspace_admin=True)


@pytest.fixture
def boss(db):
    """An ordinary person who owns a project."""
    person = make_user("boss")
    make_project(person, name="Boss's")
    return person


def rows_of(model) -> list[tuple]:
    return list(model.all_objects.order_by("id").values_list() if hasattr(model, "all_objects")
                else model.objects.order_by("id").values_list())


def last_workspace_event() -> ChangeEvent:
    return ChangeEvent.objects.filter(stream__key="workspace").order_by("seq").last()


# ---------------------------------------------------------------- what the migrations seed

def test_the_six_project_statuses_and_a_default_project_type_are_seeded(db):
    assert list(ProjectStatus.objects.values_list("code", "name")) == [
        ("on_track", "On track"), ("at_risk", "At risk"), ("off_track", "Off track"),
        ("not_started", "Not started"), ("finished", "Finished"), ("discontinued", "Discontinued")]
    assert list(ProjectType.objects.values_list("name", "is_default")) == [("Standard", True)]
    assert not Company.objects.exists()


def test_a_project_has_no_type_status_or_company_until_given_one(boss):
    project = Project.objects.get(name="Boss's")
    assert (project.project_type, project.status, project.company, project.status_explanation) == (None, None,
                                                                                                     None, "")


# ---------------------------------------------------------------- who may write

WRITES = {
    "company.create": lambda a, rows: ref.company_create(actor=a, name="Blocked"),
    "company.update": lambda a, rows: ref.company_update(actor=a, company=rows["company"], name="Renamed"),
    "company.delete": lambda a, rows: ref.company_delete(actor=a, company=rows["company"]),
    "project_type.create": lambda a, rows: ref.project_type_create(actor=a, name="Blocked", is_default=True),
    "project_type.update": lambda a, rows: ref.project_type_update(actor=a, project_type=rows["type"],
                                                                   is_default=True),
    "project_type.delete": lambda a, rows: ref.project_type_delete(actor=a, project_type=rows["type"]),
    "project_status.create": lambda a, rows: ref.project_status_create(actor=a, code="on_track", name="Blocked"),
    "project_status.update": lambda a, rows: ref.project_status_update(actor=a, project_status=rows["status"],
                                                                       name="Renamed"),
    "project_status.delete": lambda a, rows: ref.project_status_delete(actor=a, project_status=rows["status"]),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("who", ["ordinary user", "project owner", "anonymous"])
def test_only_workspace_administrators_write_project_reference_data(keeper, boss, write, who):
    rows = {"company": ref.company_create(actor=keeper, name="Acme"),
            "type": ref.project_type_create(actor=keeper, name="Internal"),
            "status": ProjectStatus.objects.get(code="at_risk")}
    ProjectStatus.objects.filter(code="on_track").delete()   # so that creating it is possible at all
    actor = {"ordinary user": make_user("plain"), "project owner": boss, "anonymous": None}[who]
    before = [rows_of(m) for m in (Company, ProjectType, ProjectStatus)]
    events = ChangeEvent.objects.count()
    with pytest.raises(PermissionDenied):
        WRITES[write](actor, rows)
    assert [rows_of(m) for m in (Company, ProjectType, ProjectStatus)] == before
    assert ChangeEvent.objects.count() == events


# ---------------------------------------------------------------- companies

def test_a_company_is_created_logged_and_read_by_everyone_signed_in(keeper):
    company = ref.company_create(actor=keeper, name="  Acme Ltd ", description="A customer", is_corporate=False)
    assert (company.name, company.is_active, company.created_by) == ("Acme Ltd", True, keeper)
    event = last_workspace_event()
    assert (event.entity, event.entity_id, event.action) == ("company", company.pk, "created")
    assert event.changes["name"] == [None, "Acme Ltd"]
    reader = make_user("reader")
    assert list(ref.company_list(actor=reader)) == [company]
    assert ref.company_get(actor=reader, company_id=company.pk) == company
    assert list(ref.company_list(actor=None)) == []
    with pytest.raises(NotFound):
        ref.company_get(actor=None, company_id=company.pk)


def test_company_names_are_unique_among_live_companies_ignoring_case(keeper):
    acme = ref.company_create(actor=keeper, name="Acme")
    with pytest.raises(Conflict) as refused:
        ref.company_create(actor=keeper, name="ACME")
    assert (refused.value.code, refused.value.field) == ("duplicate_name", "name")
    other = ref.company_create(actor=keeper, name="Other")
    with pytest.raises(Conflict):
        ref.company_update(actor=keeper, company=other, name="acme")
    assert Company.objects.get(pk=other.pk).name == "Other"
    ref.company_delete(actor=keeper, company=acme)
    assert ref.company_create(actor=keeper, name="Acme").pk != acme.pk


def test_bad_company_values_are_refused_naming_the_field(keeper):
    for values, field, code in (({"name": ""}, "name", "blank"), ({"name": "x" * 256}, "name", "too_long"),
                                ({"name": "Ok", "is_active": "no"}, "is_active", "invalid_type"),
                                ({"name": "Ok", "website": "x"}, "website", "unknown_field")):
        with pytest.raises(InvalidInput) as refused:
            ref.company_create(actor=keeper, **values)
        assert (refused.value.field, refused.value.code) == (field, code)
    assert not Company.all_objects.exists()


def test_a_company_update_checks_the_lock_version_and_logs_only_changes(keeper):
    company = ref.company_create(actor=keeper, name="Acme")
    ref.company_update(actor=keeper, company=company, is_corporate=True, lock_version=0)
    assert last_workspace_event().changes == {"is_corporate": [False, True]}
    with pytest.raises(StaleLockVersion):
        ref.company_update(actor=keeper, company=company, name="Late", lock_version=0)
    events = ChangeEvent.objects.count()
    ref.company_update(actor=keeper, company=company, is_corporate=True)
    assert ChangeEvent.objects.count() == events
    assert Company.objects.get(pk=company.pk).lock_version == 1


def test_a_company_live_projects_belong_to_cannot_be_deleted(keeper, boss):
    company = ref.company_create(actor=keeper, name="Acme")
    project = Project.objects.get(name="Boss's")
    # Projects take a company once the project services accept one; set here as they will.
    Project.objects.filter(pk=project.pk).update(company=company)
    with pytest.raises(Conflict) as refused:
        ref.company_delete(actor=keeper, company=company)
    assert (refused.value.code, refused.value.params) == ("in_use", {"reference_count": 1})
    assert not Company.objects.get(pk=company.pk).is_deleted
    project_delete(actor=boss, project=project)
    ref.company_delete(actor=keeper, company=company)
    assert Company.all_objects.get(pk=company.pk).is_deleted
    assert last_workspace_event().action == "deleted"
    with pytest.raises(NotFound):
        ref.company_get(actor=keeper, company_id=company.pk)


# ---------------------------------------------------------------- project types

def test_exactly_one_project_type_is_the_default(keeper):
    standard = ProjectType.objects.get(is_default=True)
    internal = ref.project_type_create(actor=keeper, name="Internal")
    assert internal.is_default is False and internal.position == standard.position + 1
    client = ref.project_type_create(actor=keeper, name="Client", is_default=True)
    assert list(ProjectType.objects.filter(is_default=True)) == [client]
    assert {(e.entity_id, e.action) for e in ChangeEvent.objects.filter(entity="project_type").order_by("-seq")[:2]} \
        == {(client.pk, "created"), (standard.pk, "updated")}
    ref.project_type_update(actor=keeper, project_type=internal, is_default=True)
    assert list(ProjectType.objects.filter(is_default=True)) == [internal]
    with pytest.raises(Conflict) as refused:
        ref.project_type_update(actor=keeper, project_type=internal, is_default=False)
    assert refused.value.field == "is_default"
    with pytest.raises(Conflict) as refused:
        ref.project_type_delete(actor=keeper, project_type=internal)
    assert refused.value.field == "is_default"
    assert list(ProjectType.objects.filter(is_default=True)) == [internal]


def test_the_first_project_type_is_the_default(keeper):
    ProjectType.objects.all().delete()
    assert ref.project_type_create(actor=keeper, name="Only", is_default=False).is_default is True


def test_project_type_names_are_unique(keeper):
    with pytest.raises(Conflict) as refused:
        ref.project_type_create(actor=keeper, name="standard")
    assert (refused.value.code, refused.value.field) == ("duplicate_name", "name")
    assert ProjectType.objects.count() == 1


def test_a_project_type_live_projects_have_cannot_be_deleted_deleted_ones_lose_it(keeper, boss):
    internal = ref.project_type_create(actor=keeper, name="Internal")
    project = Project.objects.get(name="Boss's")
    Project.objects.filter(pk=project.pk).update(project_type=internal)
    with pytest.raises(Conflict) as refused:
        ref.project_type_delete(actor=keeper, project_type=internal)
    assert (refused.value.code, refused.value.params) == ("in_use", {"reference_count": 1})
    project_delete(actor=boss, project=project)
    ref.project_type_delete(actor=keeper, project_type=internal)
    assert not ProjectType.objects.filter(pk=internal.pk).exists()
    assert Project.all_objects.get(pk=project.pk).project_type_id is None


# ---------------------------------------------------------------- project statuses

def test_a_project_status_code_is_one_of_six_each_used_once(keeper):
    with pytest.raises(Conflict) as refused:
        ref.project_status_create(actor=keeper, code="on_track", name="Green")
    assert (refused.value.code, refused.value.field) == ("duplicate_identifier", "code")
    with pytest.raises(InvalidInput) as refused:
        ref.project_status_create(actor=keeper, code="green", name="Green")
    assert (refused.value.code, refused.value.field) == ("invalid_choice", "code")
    assert refused.value.params["choices"] == ProjectStatusCode.values
    ProjectStatus.objects.filter(code="discontinued").delete()
    made = ref.project_status_create(actor=keeper, code="discontinued", name="Stopped")
    assert (made.code, made.position) == ("discontinued", 6)


def test_a_project_status_keeps_its_code_and_is_found_by_it(keeper):
    at_risk = ProjectStatus.objects.get(code="at_risk")
    ref.project_status_update(actor=keeper, project_status=at_risk, name="Amber", code="at_risk")
    assert ref.project_status_get(actor=keeper, project_status_id="at_risk").name == "Amber"
    assert ref.project_status_get(actor=keeper, project_status_id=at_risk.pk) == at_risk
    with pytest.raises(Conflict) as refused:
        ref.project_status_update(actor=keeper, project_status=at_risk, code="off_track")
    assert refused.value.field == "code"
    with pytest.raises(Conflict) as refused:
        ref.project_status_update(actor=keeper, project_status=at_risk, name="Off track")
    assert (refused.value.code, refused.value.field) == ("duplicate_name", "name")
    assert ProjectStatus.objects.get(pk=at_risk.pk).name == "Amber"
    with pytest.raises(NotFound):
        ref.project_status_get(actor=None, project_status_id="at_risk")


def test_a_project_status_live_projects_report_cannot_be_deleted(keeper, boss):
    finished = ProjectStatus.objects.get(code="finished")
    project = Project.objects.get(name="Boss's")
    Project.objects.filter(pk=project.pk).update(status=finished, status_explanation="Handed over")
    with pytest.raises(Conflict) as refused:
        ref.project_status_delete(actor=keeper, project_status=finished)
    assert (refused.value.code, refused.value.params) == ("in_use", {"reference_count": 1})
    Project.objects.filter(pk=project.pk).update(status=None)
    ref.project_status_delete(actor=keeper, project_status=finished)
    assert not ProjectStatus.objects.filter(code="finished").exists()
    assert (last_workspace_event().entity, last_workspace_event().action) == ("project_status", "deleted")
