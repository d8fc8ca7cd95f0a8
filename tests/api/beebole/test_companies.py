"""``company.*`` through ``POST /api/v2``: each service's request and reply shapes (the reference's and the
``beebole`` package's variants), the rows each writes, and who may: workspace administrators write companies,
anyone signed in reads them."""

from __future__ import annotations

import pytest

from keelplan.customfields.models import CustomValue
from keelplan.customfields.services import custom_field_create
from keelplan.portfolio.models import Company, CompanyMember, GroupAssignment
from keelplan.timesheets.models import ActivitySelection
from tests.api.beebole.conftest import Beebole
from tests.api.beebole.workspace_rows import failed, refused
from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(bb) -> int:
    return bb.call("company.create", company={"name": "Acme Corp"})["id"]


@pytest.fixture
def reader(outsider) -> Beebole:
    """Someone signed in who is no workspace administrator."""
    return Beebole(outsider)


@pytest.fixture
def task(bb, company) -> int:
    return bb.call("task.create", task={"name": "Design", "company": {"id": company}})["id"]


# ---------------------------------------------------------------- create, get, update, list


def test_create_makes_a_customer_by_default_and_answers_its_integer_id(bb):
    reply = bb.call("company.create", company={"name": "Acme Corp"})
    assert set(reply) == {"status", "id"} and type(reply["id"]) is int
    row = Company.objects.get(pk=reply["id"])
    assert (row.name, row.is_corporate, row.is_active) == ("Acme Corp", False, True)


def test_create_corporate_from_the_unwrapped_body_the_beebole_package_sends(bb):
    reply = bb.call("company.create", name="Our Branch", corporate=True)
    row = Company.objects.get(pk=reply["id"])
    assert (row.name, row.is_corporate) == ("Our Branch", True)


def test_create_without_a_name_names_the_missing_field_and_writes_nothing(bb):
    assert failed(bb, "company.create", company={"corporate": True}) == "Missing field: company.name."
    assert failed(bb, "company.create", company={"name": "A", "corporate": "yes"}) == (
        "Invalid field company.corporate: expected true or false, got a string.")
    assert not Company.objects.exists()


def test_get_answers_the_documented_fields(bb, company):
    reply = bb.call("company.get", id=company)
    assert set(reply) == {"status", "company"}
    assert reply["company"] == {"id": company, "name": "Acme Corp", "corporate": False, "projects": {"count": 0},
                                "active": True}


def test_get_of_an_unknown_company(bb):
    assert failed(bb, "company.get", id=987654) == "Unknown company: no company with id 987654 (id)."


def test_update_changes_the_name_and_corporate_flag(bb, company):
    reply = bb.call("company.update", company={"id": company, "name": "Acme Inc", "corporate": True})
    assert reply == {"status": "ok"}
    row = Company.objects.get(pk=company)
    assert (row.name, row.is_corporate) == ("Acme Inc", True)
    assert bb.call("company.get", id=company)["company"]["corporate"] is True


def test_update_to_a_taken_name_is_refused_and_changes_nothing(bb, company):
    bb.call("company.create", company={"name": "Globex"})
    message = failed(bb, "company.update", company={"id": company, "name": "Globex"})
    assert message.startswith("company.name: ")
    assert Company.objects.get(pk=company).name == "Acme Corp"


def test_list_answers_every_company_by_id_in_the_get_shape(bb, company):
    other = bb.call("company.create", company={"name": "Globex", "corporate": True})["id"]
    reply = bb.call("company.list")
    assert set(reply) == {"status", "companies"}
    assert reply["companies"] == [
        {"id": company, "name": "Acme Corp", "corporate": False, "projects": {"count": 0}, "active": True},
        {"id": other, "name": "Globex", "corporate": True, "projects": {"count": 0}, "active": True},
    ]


def test_projects_count_is_the_callers_visible_top_level_projects(bb, owner, company, outsider, reader):
    acme = Company.objects.get(pk=company)
    mine = make_project(outsider, "Outsider's", company=acme)
    make_project(outsider, "Outsider's child", company=acme, parent=mine)
    make_project(owner, "Private", company=acme)
    make_project(owner, "Public", company=acme, is_public=True)

    def counts(caller) -> tuple[int, int]:
        listed = {c["id"]: c["projects"]["count"] for c in caller.call("company.list")["companies"]}
        return listed[company], caller.call("company.get", id=company)["company"]["projects"]["count"]

    assert counts(reader) == (2, 2)      # their own and the public one; not the subproject, not the private one
    assert counts(bb) == (3, 3)          # an administrator sees every project; still no subproject


def test_activate_and_deactivate(bb, company):
    assert bb.call("company.deactivate", id=company) == {"status": "ok"}
    assert Company.objects.get(pk=company).is_active is False
    assert bb.call("company.get", id=company)["company"]["active"] is False
    assert bb.call("company.activate", id=company) == {"status": "ok"}
    assert Company.objects.get(pk=company).is_active is True


# ---------------------------------------------------------------- exclusive members


def test_attach_member_makes_company_members_of_a_person_and_a_group(bb, company):
    ann = make_user("ann", full_name="Ann Able")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    assert bb.call("company.attach_member", id=company, person={"id": ann.pk}) == {"status": "ok"}
    assert bb.call("company.attach_member", id=company, group={"id": crew}) == {"status": "ok"}
    rows = CompanyMember.objects.filter(company_id=company).order_by("id")
    assert [(m.user_id, m.group_id) for m in rows] == [(ann.pk, None), (None, crew)]
    reply = bb.call("company.members", id=company)
    assert set(reply) == {"status", "members", "groups"}
    assert reply["members"] == [{"name": "Ann Able", "id": ann.pk}]
    assert reply["groups"] == [{"name": "Crew", "id": crew}]


def test_detach_member_removes_the_company_member(bb, company):
    ann = make_user("ann")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    bb.call("company.attach_member", id=company, person={"id": ann.pk})
    bb.call("company.attach_member", id=company, group={"id": crew})
    assert bb.call("company.detach_member", id=company, person={"id": ann.pk}) == {"status": "ok"}
    assert bb.call("company.detach_member", id=company, group={"id": crew}) == {"status": "ok"}
    assert not CompanyMember.objects.filter(company_id=company).exists()
    assert bb.call("company.members", id=company) == {"status": "ok", "members": [], "groups": []}


def test_member_refusals_change_nothing(bb, company):
    ann = make_user("ann")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    bb.call("company.attach_member", id=company, person={"id": ann.pk})
    failed(bb, "company.attach_member", id=company, person={"id": ann.pk})                 # already a member
    failed(bb, "company.detach_member", id=company, group={"id": crew})                    # not a member
    failed(bb, "company.attach_member", id=company, person={"id": ann.pk}, group={"id": crew})
    assert failed(bb, "company.attach_member", id=company).startswith("Missing field: give person or group")
    assert failed(bb, "company.attach_member", id=company, person={"id": 987654}) == (
        "Unknown person: no person with id 987654 (person).")
    assert CompanyMember.objects.filter(company_id=company).count() == 1


# ---------------------------------------------------------------- groups as categories


def test_add_group_remove_group_and_groups(bb, company):
    places = bb.call("group.create", group={"name": "Places"})["id"]
    bb.call("group.create", group={"name": "Lyon", "parent": {"id": places}})
    assert bb.call("company.add_group", id=company, group={"id": places}) == {"status": "ok"}
    assert GroupAssignment.objects.filter(company_id=company, group_id=places).exists()
    reply = bb.call("company.groups", id=company)
    assert reply == {"status": "ok", "groups": [{"id": places, "name": "Places", "groups": {"count": 1}}]}
    failed(bb, "company.add_group", id=company, group={"id": places})                      # there already
    assert bb.call("company.remove_group", id=company, group={"id": places}) == {"status": "ok"}
    assert not GroupAssignment.objects.filter(company_id=company).exists()
    assert bb.call("company.groups", id=company)["groups"] == []


# ---------------------------------------------------------------- specific tasks


def _specific(bb, company) -> dict:
    return bb.call("company.specific_tasks", id=company)


def test_specific_tasks_attach_detach_and_their_reply(bb, company, task):
    assert _specific(bb, company) == {"status": "ok", "disabled": False, "specificTasks": []}
    assert bb.call("company.attach_specific_task", id=company, task={"id": task}) == {"status": "ok"}
    assert list(ActivitySelection.objects.get(company_id=company).activities.values_list("id", flat=True)) == [task]
    assert _specific(bb, company)["specificTasks"] == [{"name": "Design", "id": task, "active": True}]
    assert bb.call("company.detach_specific_task", id=company, task={"id": task}) == {"status": "ok"}
    assert _specific(bb, company)["specificTasks"] == []
    assert not ActivitySelection.objects.get(company_id=company).activities.exists()


def test_specific_tasks_take_the_tasks_key_and_plural_names_the_beebole_package_sends(bb, company, task):
    bb.call("company.attach_specific_task", id=company, tasks={"id": task})
    assert [t["id"] for t in _specific(bb, company)["specificTasks"]] == [task]
    bb.call("company.detach_specific_tasks", id=company, tasks={"id": task})
    assert _specific(bb, company)["specificTasks"] == []
    bb.call("company.attach_specific_tasks", id=company, task={"id": task})
    assert [t["id"] for t in _specific(bb, company)["specificTasks"]] == [task]


def test_a_workspace_wide_task_may_be_specific_to_a_company(bb, company):
    from keelplan.timesheets.models import Activity

    generic = Activity.objects.filter(company__isnull=True).order_by("id").first()
    bb.call("company.attach_specific_task", id=company, task={"id": generic.pk})
    assert [t["id"] for t in _specific(bb, company)["specificTasks"]] == [generic.pk]


def test_a_task_of_another_company_is_refused_and_nothing_changes(bb, company):
    globex = bb.call("company.create", company={"name": "Globex"})["id"]
    theirs = bb.call("task.create", task={"name": "Sales", "company": {"id": globex}})["id"]
    message = failed(bb, "company.attach_specific_task", id=company, task={"id": theirs})
    assert message == "task: The activity 'Sales' belongs to another company than this company."
    assert _specific(bb, company)["specificTasks"] == []


def test_enable_and_disable_specific_tasks(bb, company, task):
    bb.call("company.attach_specific_task", id=company, task={"id": task})
    assert bb.call("company.disable_specific_tasks", id=company) == {"status": "ok"}
    assert ActivitySelection.objects.get(company_id=company).is_enabled is False
    reply = _specific(bb, company)
    assert reply["disabled"] is True and [t["id"] for t in reply["specificTasks"]] == [task]
    assert bb.call("company.enable_specific_tasks", id=company) == {"status": "ok"}
    assert _specific(bb, company)["disabled"] is False


# ---------------------------------------------------------------- custom fields


@pytest.fixture
def size(owner):
    """A list-format company field."""
    return custom_field_create(actor=owner, name="Size", applies_to="company", format="list",
                               options=["Small", "Large"])


def test_custom_fields_set_list_and_clear_a_list_field_by_option_text(bb, owner, company, size):
    note = custom_field_create(actor=owner, name="Note", applies_to="company", format="string")
    listed = bb.call("company.custom_fields", id=company)
    assert listed == {"status": "ok", "customFields": [
        {"id": size.pk, "name": "Size", "availableFor": "Company"},
        {"id": note.pk, "name": "Note", "availableFor": "Company"},
    ]}
    assert bb.call("company.set_custom_field_value", id=company,
                   customField={"id": size.pk, "value": "Large"}) == {"status": "ok"}
    bb.call("company.set_custom_field_value", id=company, customField={"id": note.pk, "value": "Key account"})
    large = size.options.get(value="Large")
    stored = CustomValue.objects.get(custom_field=size, entity="company", object_id=company)
    assert stored.value == str(large.pk)
    assert bb.call("company.custom_fields", id=company)["customFields"] == [
        {"id": size.pk, "name": "Size", "availableFor": "Company", "value": "Large"},
        {"id": note.pk, "name": "Note", "availableFor": "Company", "value": "Key account"},
    ]
    assert bb.call("company.clear_custom_field_value", id=company, customField={"id": size.pk}) == {"status": "ok"}
    assert not CustomValue.objects.filter(custom_field=size, object_id=company).exists()
    assert "value" not in bb.call("company.custom_fields", id=company)["customFields"][0]


def test_a_list_value_that_is_no_option_is_refused_and_nothing_changes(bb, company, size):
    message = failed(bb, "company.set_custom_field_value", id=company, customField={"id": size.pk, "value": "Huge"})
    assert message == "Invalid field customField.value: 'Huge' is not one of 'Small', 'Large'."
    assert failed(bb, "company.set_custom_field_value", id=company,
                  customField={"id": size.pk}) == "Missing field: customField.value."


def test_custom_field_list_names_company_fields(bb, reader, size):
    expected = {"status": "ok", "customFields": [{"id": size.pk, "name": "Size", "availableFor": "Company"}]}
    assert bb.call("custom_field.list") == expected
    assert reader.call("custom_field.list") == expected


# ---------------------------------------------------------------- who may


def test_anyone_signed_in_reads_companies(bb, reader, company, task, size):
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    bb.call("company.attach_member", id=company, group={"id": crew})
    bb.call("company.add_group", id=company, group={"id": crew})
    bb.call("company.attach_specific_task", id=company, task={"id": task})
    bb.call("company.set_custom_field_value", id=company, customField={"id": size.pk, "value": "Small"})
    for service in ("company.get", "company.members", "company.groups", "company.specific_tasks",
                    "company.custom_fields"):
        assert reader.call(service, id=company) == bb.call(service, id=company), service
    assert reader.call("company.list") == bb.call("company.list")


@pytest.fixture
def attack(bb, company, task, size):
    """A company with a member, a group, a specific task and a custom value, and what each write would send."""
    ann = make_user("ann")
    crew = bb.call("group.create", group={"name": "Crew"})["id"]
    crew2 = bb.call("group.create", group={"name": "Crew 2"})["id"]
    bb.call("company.attach_member", id=company, person={"id": ann.pk})
    bb.call("company.add_group", id=company, group={"id": crew})
    bb.call("company.attach_specific_task", id=company, task={"id": task})
    bb.call("company.set_custom_field_value", id=company, customField={"id": size.pk, "value": "Small"})
    return {
        "company.create": {"company": {"name": "Mine"}},
        "company.update": {"company": {"id": company, "name": "Mine", "corporate": True}},
        "company.activate": {"id": company},
        "company.deactivate": {"id": company},
        "company.attach_member": {"id": company, "group": {"id": crew}},
        "company.detach_member": {"id": company, "person": {"id": ann.pk}},
        "company.add_group": {"id": company, "group": {"id": crew2}},
        "company.remove_group": {"id": company, "group": {"id": crew}},
        "company.attach_specific_task": {"id": company, "task": {"id": task}},
        "company.attach_specific_tasks": {"id": company, "task": {"id": task}},
        "company.detach_specific_task": {"id": company, "task": {"id": task}},
        "company.detach_specific_tasks": {"id": company, "task": {"id": task}},
        "company.enable_specific_tasks": {"id": company},
        "company.disable_specific_tasks": {"id": company},
        "company.set_custom_field_value": {"id": company, "customField": {"id": size.pk, "value": "Large"}},
        "company.clear_custom_field_value": {"id": company, "customField": {"id": size.pk}},
    }


WRITES = ("company.create", "company.update", "company.activate", "company.deactivate", "company.attach_member",
          "company.detach_member", "company.add_group", "company.remove_group", "company.attach_specific_task",
          "company.attach_specific_tasks", "company.detach_specific_task", "company.detach_specific_tasks",
          "company.enable_specific_tasks", "company.disable_specific_tasks", "company.set_custom_field_value",
          "company.clear_custom_field_value")


@pytest.mark.parametrize("service", WRITES)
def test_only_workspace_administrators_write_companies(service, attack, reader):
    """A project owner who is no workspace administrator tries each write: refused, nothing changed."""
    make_project(reader.user, "Theirs")
    refused(reader, service, **attack[service])
