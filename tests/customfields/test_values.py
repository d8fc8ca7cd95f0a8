"""Custom values: each format accepted and refused, required fields and defaults, which fields apply to an object,
writing (the change log, nothing left behind by a failed write) and reading them back typed."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import InvalidInput
from keelplan.core.transactions import write_transaction
from keelplan.customfields.models import CustomValue
from keelplan.customfields.services import (
    custom_field_create, custom_option_update, custom_values_clean, custom_values_read, custom_values_write,
)
from keelplan.planning.models import Version, WorkItemType
from keelplan.planning.services import task_create
from keelplan.portfolio.services import project_delete

from conftest import make_project, make_user

pytestmark = pytest.mark.django_db

_names = itertools.count(1)


def define(actor, **fields):
    fields.setdefault("name", f"Field {next(_names)}")
    fields.setdefault("applies_to", "work_item")
    fields.setdefault("format", "string")
    return custom_field_create(actor=actor, **fields)


def clean(project, values, *, entity="work_item", type=None, for_create=False):
    return custom_values_clean(entity=entity, project=project, type=type, values=values, for_create=for_create)


def refusal(project, values, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        clean(project, values, **kwargs)
    return caught.value


# ---------------------------------------------------------------- each format

@pytest.mark.parametrize(("fields", "given", "cleaned"), [
    ({"format": "string"}, "  Apollo  ", "Apollo"),
    ({"format": "string", "regexp": r"[A-Z]{2}-[0-9]+"}, "KP-12", "KP-12"),
    ({"format": "string", "min_length": 2, "max_length": 3}, "abc", "abc"),
    ({"format": "text"}, "line one\nline two\n", "line one\nline two\n"),
    ({"format": "integer"}, 42, 42),
    ({"format": "integer", "min_value": -5, "max_value": 5}, -5, -5),
    ({"format": "float"}, 2.5, Decimal("2.5")),
    ({"format": "float"}, "0.1000", Decimal("0.1")),
    ({"format": "float", "min_value": "0.5", "max_value": 1}, Decimal("1.0"), Decimal("1")),
    ({"format": "date"}, "2026-02-28", dt.date(2026, 2, 28)),
    ({"format": "date"}, dt.date(2026, 3, 1), dt.date(2026, 3, 1)),
    ({"format": "bool"}, False, False),
    ({"format": "bool"}, True, True),
])
def test_a_value_each_format_accepts(admin, project, fields, given, cleaned):
    cf = define(admin, **fields)
    result = clean(project, {cf.pk: given})
    assert result == {cf.pk: cleaned}
    assert type(result[cf.pk]) is type(cleaned)


@pytest.mark.parametrize(("fields", "given", "code", "params"), [
    ({"format": "string"}, 5, "invalid_type", {"expected": "string"}),
    ({"format": "string"}, "x" * 256, "too_long", {"max_length": 255}),
    ({"format": "string", "max_length": 3}, "abcd", "too_long", {"max_length": 3}),
    ({"format": "string", "min_length": 3}, "ab", "too_short", {"min_length": 3}),
    ({"format": "string", "regexp": r"[A-Z]{2}-[0-9]+"}, "KP-12 and more", "invalid_format",
     {"pattern": r"[A-Z]{2}-[0-9]+"}),
    ({"format": "text", "max_length": 5}, "123456", "too_long", {"max_length": 5}),
    ({"format": "integer"}, True, "invalid_type", {"expected": "integer"}),
    ({"format": "integer"}, 1.5, "invalid_type", {"expected": "integer"}),
    ({"format": "integer"}, "7", "invalid_type", {"expected": "integer"}),
    ({"format": "integer", "min_value": 1, "max_value": 10}, 11, "out_of_range", {"min_value": 1, "max_value": 10}),
    ({"format": "integer", "min_value": 1}, 0, "out_of_range", {"min_value": 1, "max_value": None}),
    ({"format": "float"}, "lots", "invalid_type", {"expected": "number"}),
    ({"format": "float"}, False, "invalid_type", {"expected": "number"}),
    ({"format": "float", "max_value": "0.5"}, 0.75, "out_of_range", {"min_value": None,
                                                                      "max_value": Decimal("0.5")}),
    ({"format": "date"}, "2026-02-30", "invalid_date", {}),
    ({"format": "date"}, "05/01/2026", "invalid_date", {}),
    ({"format": "date"}, dt.datetime(2026, 1, 5, 12), "invalid_type", {"expected": "date"}),
    ({"format": "bool"}, "true", "invalid_type", {"expected": "boolean"}),
    ({"format": "bool"}, 1, "invalid_type", {"expected": "boolean"}),
    ({"format": "version"}, "v1", "invalid_type", {"expected": "integer"}),
    ({"format": "version"}, 0, "invalid_reference", {"entity": "version"}),
    ({"format": "version"}, [1], "invalid_type", {"expected": "integer"}),
    ({"format": "version", "is_multi_value": True}, 1, "invalid_type", {"expected": "list"}),
    ({"format": "version", "is_multi_value": True}, [1, None], "null", {}),
    ({"format": "version", "is_multi_value": True}, list(range(1, 1002)), "too_many", {"max_count": 1000}),
])
def test_a_value_each_format_refuses(admin, project, fields, given, code, params):
    cf = define(admin, **fields)
    error = refusal(project, {cf.pk: given})
    assert (error.field, error.code, error.params) == (f"custom_fields.{cf.pk}", code, params)


def test_list_values_are_option_ids_of_that_field(admin, project):
    size = define(admin, format="list", options=["S", "M", "L"])
    other = define(admin, format="list", options=["S"])
    small, medium, large = (o.pk for o in size.options.all())
    assert clean(project, {size.pk: medium}) == {size.pk: medium}
    assert clean(project, {size.pk: str(large)}) == {size.pk: large}
    error = refusal(project, {size.pk: other.options.get().pk})
    assert (error.field, error.code, error.params) == (
        f"custom_fields.{size.pk}", "invalid_choice", {"choices": [small, medium, large]})
    error = refusal(project, {size.pk: "S"})
    assert (error.code, error.params) == ("invalid_type", {"expected": "integer"})
    error = refusal(project, {size.pk: [small]})
    assert error.code == "invalid_type"


def test_a_multi_value_list_takes_several_options(admin, project):
    tags = define(admin, format="list", is_multi_value=True, options=["red", "green", "blue"])
    red, green, blue = (o.pk for o in tags.options.all())
    assert clean(project, {tags.pk: [blue, red, blue]}) == {tags.pk: [blue, red]}
    error = refusal(project, {tags.pk: [red, 10**6]})
    assert error.code == "invalid_choice"


def test_user_values_name_active_users(admin, owner, project):
    reviewer = define(admin, format="user")
    helpers = define(admin, format="user", is_multi_value=True)
    active = make_user("active")
    gone = make_user("gone")
    gone.is_active = False
    gone.save()
    assert clean(project, {reviewer.pk: active.pk, helpers.pk: [owner.pk, active.pk]}) == {
        reviewer.pk: active.pk, helpers.pk: [owner.pk, active.pk]}
    for given, field in (({reviewer.pk: gone.pk}, reviewer), ({reviewer.pk: 999_999}, reviewer),
                         ({reviewer.pk: active.pk, helpers.pk: [active.pk, gone.pk]}, helpers)):
        error = refusal(project, given)
        assert (error.field, error.code, error.params) == (
            f"custom_fields.{field.pk}", "invalid_reference", {"entity": "user"})
    error = refusal(project, {reviewer.pk: "active"})
    assert error.code == "invalid_type"


def test_version_values_name_live_versions(admin, owner, project):
    release = define(admin, format="version")
    releases = define(admin, format="version", is_multi_value=True)
    first, second = (Version.objects.create(project=project, name=name) for name in ("1.0", "2.0"))
    withdrawn = Version.objects.create(project=project, name="0.9")
    Version.objects.filter(pk=withdrawn.pk).soft_delete()
    doomed = make_project(owner, name="Doomed")
    orphaned = Version.objects.create(project=doomed, name="1.0")
    project_delete(actor=owner, project=doomed)
    assert clean(project, {release.pk: str(first.pk), releases.pk: [second.pk, first.pk, second.pk]}) == {
        release.pk: first.pk, releases.pk: [second.pk, first.pk]}
    for given, field in (({release.pk: withdrawn.pk}, release), ({release.pk: orphaned.pk}, release),
                         ({release.pk: 10**9}, release), ({releases.pk: [first.pk, withdrawn.pk]}, releases)):
        error = refusal(project, given)
        assert (error.field, error.code, error.params) == (
            f"custom_fields.{field.pk}", "invalid_reference", {"entity": "version"})


def test_version_values_follow_version_sharing(admin, owner, project):
    """A version of another project is refused as if it did not exist unless that project shares it; an object
    with no project (a person, a project being created) may name only versions shared with every project."""
    release = define(admin, format="version")
    person_release = define(admin, applies_to="person", format="version")
    other = make_project(owner, name="Other")
    private = Version.objects.create(project=other, name="private")
    everywhere = Version.objects.create(project=other, name="everywhere", sharing="system")
    own = Version.objects.create(project=project, name="own")
    assert clean(project, {release.pk: own.pk}) == {release.pk: own.pk}
    assert clean(project, {release.pk: everywhere.pk}) == {release.pk: everywhere.pk}
    error = refusal(project, {release.pk: private.pk})
    assert (error.field, error.code, error.message) == (f"custom_fields.{release.pk}", "invalid_reference",
                                                        f"No such version here: {private.pk}.")
    assert clean(None, {person_release.pk: everywhere.pk}, entity="person") == {person_release.pk: everywhere.pk}
    assert refusal(None, {person_release.pk: own.pk}, entity="person").code == "invalid_reference"


# ---------------------------------------------------------------- required fields and defaults

def test_a_required_field_on_create(admin, project):
    cf = define(admin, format="integer", is_required=True)
    error = refusal(project, {}, for_create=True)
    assert (error.field, error.code) == (f"custom_fields.{cf.pk}", "required")
    assert clean(project, {cf.pk: 3}, for_create=True) == {cf.pk: 3}
    assert clean(project, {}, for_create=False) == {}


@pytest.mark.parametrize(("given", "code"), [(None, "required"), ("", "blank"), ("   ", "blank")])
def test_a_required_field_cannot_be_emptied(admin, project, given, code):
    cf = define(admin, format="string", is_required=True, default_value="x")
    for for_create in (True, False):
        error = refusal(project, {cf.pk: given}, for_create=for_create)
        assert (error.field, error.code) == (f"custom_fields.{cf.pk}", code)


def test_a_required_multi_value_field_cannot_be_emptied(admin, project):
    cf = define(admin, format="version", is_multi_value=True, is_required=True)
    assert refusal(project, {cf.pk: []}).code == "blank"


def test_an_optional_field_is_emptied_with_none_or_empty_text(admin, project):
    text = define(admin, format="string")
    number = define(admin, format="integer")
    tags = define(admin, format="version", is_multi_value=True)
    assert clean(project, {text.pk: "", number.pk: None, tags.pk: []}) == {
        text.pk: None, number.pk: None, tags.pk: None}


def test_defaults_fill_absent_fields_on_create_only(admin, project):
    required = define(admin, format="integer", is_required=True, default_value=5)
    optional = define(admin, format="date", default_value="2026-01-05")
    flag = define(admin, format="bool", default_value=False)
    none = define(admin, format="string")
    assert clean(project, {}, for_create=True) == {
        required.pk: 5, optional.pk: dt.date(2026, 1, 5), flag.pk: False}
    assert clean(project, {optional.pk: None}, for_create=True)[optional.pk] is None
    assert clean(project, {}, for_create=False) == {}
    assert none.pk not in clean(project, {}, for_create=True)


def test_list_defaults_are_the_default_options(admin, project):
    single = define(admin, format="list", is_required=True, options=["a", "b"])
    multi = define(admin, format="list", is_multi_value=True, options=["x", "y", "z"])
    assert refusal(project, {}, for_create=True).code == "required"
    b = single.options.get(value="b")
    custom_option_update(actor=admin, option=b, is_default=True)
    x, _, z = multi.options.all()
    for option in (x, z):
        custom_option_update(actor=admin, option=option, is_default=True)
    assert clean(project, {}, for_create=True) == {single.pk: b.pk, multi.pk: [x.pk, z.pk]}


# ---------------------------------------------------------------- which fields apply

def test_only_fields_that_apply_are_accepted(admin, owner, project):
    other = make_project(owner, name="Other")
    task_type, other_type = WorkItemType.objects.order_by("position")[:2]
    everywhere = define(admin)
    chosen = define(admin, is_for_all=False, projects=[project])
    elsewhere = define(admin, is_for_all=False, projects=[other])
    typed = define(admin, types=[task_type])
    on_projects = define(admin, applies_to="project")
    for cf in (everywhere, chosen, typed):
        assert clean(project, {cf.pk: "v"}, type=task_type) == {cf.pk: "v"}
    for cf, kwargs in ((elsewhere, {"type": task_type}), (typed, {"type": other_type}), (typed, {}),
                       (on_projects, {"type": task_type})):
        error = refusal(project, {cf.pk: "v"}, **kwargs)
        assert (error.field, error.code) == (f"custom_fields.{cf.pk}", "unknown_field")
    assert clean(other, {elsewhere.pk: "v"}) == {elsewhere.pk: "v"}
    for key in (10**9, "customField1", True, None):
        error = refusal(project, {key: "v"})
        assert (error.field, error.code) == (f"custom_fields.{key}", "unknown_field")


def test_project_fields_apply_to_the_project_itself(admin, project):
    for_all = define(admin, applies_to="project", format="integer")
    chosen = define(admin, applies_to="project", format="integer", is_for_all=False, projects=[project])
    assert clean(project, {for_all.pk: 1, chosen.pk: 2}, entity="project") == {for_all.pk: 1, chosen.pk: 2}
    # A project being created is chosen by no field yet.
    assert refusal(None, {chosen.pk: 2}, entity="project").code == "unknown_field"
    assert clean(None, {for_all.pk: 1}, entity="project") == {for_all.pk: 1}


def test_company_and_person_fields_apply_everywhere_of_their_kind(admin):
    company = define(admin, applies_to="company")
    person = define(admin, applies_to="person", format="bool")
    assert clean(None, {company.pk: "ACME"}, entity="company") == {company.pk: "ACME"}
    assert clean(None, {person.pk: True}, entity="person") == {person.pk: True}
    assert refusal(None, {company.pk: "ACME"}, entity="person").code == "unknown_field"


def test_values_must_be_a_mapping(project):
    error = refusal(project, [1, 2])
    assert (error.field, error.code, error.params) == ("custom_fields", "invalid_type", {"expected": "object"})


# ---------------------------------------------------------------- writing and reading

def test_write_replaces_values_logs_them_and_reads_them_back_typed(admin, owner, project):
    budget = define(admin, format="float")
    due = define(admin, format="date")
    tags = define(admin, format="list", is_multi_value=True, options=["a", "b", "c"])
    a, b, c = (o.pk for o in tags.options.all())
    task = task_create(actor=owner, project=project, name="Dig")
    cleaned = clean(project, {budget.pk: "12.50", due.pk: "2026-03-02", tags.pk: [a, b]}, for_create=True)
    changes = custom_values_write(actor=owner, entity="work_item", obj_id=task.pk, project=project, cleaned=cleaned)
    assert changes == {budget.pk: [None, Decimal("12.5")], due.pk: [None, dt.date(2026, 3, 2)],
                       tags.pk: [None, [a, b]]}
    assert custom_values_read("work_item", [task.pk]) == {
        task.pk: {budget.pk: Decimal("12.5"), due.pk: dt.date(2026, 3, 2), tags.pk: [a, b]}}
    def logged():
        return list(ChangeEvent.objects.filter(stream__key=f"project:{project.pk}", entity="custom_value")
                    .order_by("seq"))

    events = logged()
    assert [(e.entity_id, e.action, e.actor_id) for e in events] == [(task.pk, "updated", owner.pk)] * 3
    assert [e.changes for e in events] == [
        {"object": ["work_item", task.pk], "custom_field": budget.pk, "value": [None, "12.5"]},
        {"object": ["work_item", task.pk], "custom_field": due.pk, "value": [None, "2026-03-02"]},
        {"object": ["work_item", task.pk], "custom_field": tags.pk, "value": [None, [a, b]]},
    ]

    cleaned = clean(project, {budget.pk: 12.5, due.pk: None, tags.pk: [c]})
    changes = custom_values_write(actor=owner, entity="work_item", obj_id=task.pk, project=project, cleaned=cleaned)
    assert changes == {due.pk: [dt.date(2026, 3, 2), None], tags.pk: [[a, b], [c]]}
    assert custom_values_read("work_item", [task.pk]) == {task.pk: {budget.pk: Decimal("12.5"), tags.pk: [c]}}
    assert CustomValue.objects.filter(object_id=task.pk).count() == 2
    events = logged()
    assert len(events) == 5
    assert [e.changes["value"] for e in events[3:]] == [["2026-03-02", None], [[a, b], [c]]]


def test_writing_the_same_values_writes_and_logs_nothing(admin, owner, project):
    cf = define(admin, format="integer")
    custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: 4})
    rows = list(CustomValue.objects.values_list("id", flat=True))
    events = ChangeEvent.objects.count()
    assert custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: 4}) == {}
    assert list(CustomValue.objects.values_list("id", flat=True)) == rows
    assert ChangeEvent.objects.count() == events


def test_company_and_person_values_go_to_the_workspace_stream(admin, owner):
    cf = define(admin, applies_to="company", format="bool")
    custom_values_write(actor=owner, entity="company", obj_id=3, project=None, cleaned={cf.pk: True})
    event = ChangeEvent.objects.get(entity="custom_value")
    assert event.stream.key == "workspace"
    assert event.changes == {"object": ["company", 3], "custom_field": cf.pk, "value": [None, True]}
    # Same object id, another kind: a separate object.
    assert custom_values_read("person", [3]) == {3: {}}
    assert custom_values_read("company", [3]) == {3: {cf.pk: True}}


def test_write_refuses_a_field_of_another_kind(admin, owner, project):
    cf = define(admin, applies_to="project")
    with pytest.raises(InvalidInput) as caught:
        custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: "x"})
    assert caught.value.code == "unknown_field"
    assert not CustomValue.objects.exists()


def test_read_is_one_query_for_many_objects(admin, owner, project, django_assert_num_queries):
    text = define(admin)
    number = define(admin, format="integer")
    for obj_id in range(1, 21):
        custom_values_write(actor=owner, entity="work_item", obj_id=obj_id, project=project,
                            cleaned={text.pk: f"t{obj_id}", number.pk: obj_id})
    with django_assert_num_queries(1):
        values = custom_values_read("work_item", list(range(1, 23)))
    assert values[20] == {text.pk: "t20", number.pk: 20}
    assert values[22] == {}
    assert len(values) == 22


def test_nothing_is_written_when_the_outer_write_fails(admin, owner, project):
    task = task_create(actor=owner, project=project, name="Dig")   # before the field: it has no value yet
    define(admin, format="integer", is_required=True, default_value=1)
    values, events = CustomValue.objects.count(), ChangeEvent.objects.count()
    with pytest.raises(RuntimeError):
        with write_transaction():
            cleaned = clean(project, {}, for_create=True)
            custom_values_write(actor=owner, entity="work_item", obj_id=task.pk, project=project, cleaned=cleaned)
            assert CustomValue.objects.count() == values + 1
            raise RuntimeError("the calling service failed after writing")
    assert (CustomValue.objects.count(), ChangeEvent.objects.count()) == (values, events)
    assert custom_values_read("work_item", [task.pk]) == {task.pk: {}}


def test_nothing_is_written_when_one_value_is_refused(admin, owner, project):
    good = define(admin, format="integer")
    bad = define(admin, format="date")
    values, events = CustomValue.objects.count(), ChangeEvent.objects.count()
    with pytest.raises(InvalidInput):
        with write_transaction():
            cleaned = clean(project, {good.pk: 1, bad.pk: "soon"})
            custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned=cleaned)
    assert (CustomValue.objects.count(), ChangeEvent.objects.count()) == (values, events)


def test_clean_reads_the_definitions_their_options_and_the_users_at_once(admin, owner, project,
                                                                        django_assert_num_queries):
    people = [define(admin, format="user") for _ in range(3)]
    lists = [define(admin, format="list", options=["a", "b"]) for _ in range(3)]
    values = {cf.pk: owner.pk for cf in people} | {cf.pk: cf.options.first().pk for cf in lists}
    with django_assert_num_queries(3):
        assert clean(project, values) == values


def test_an_empty_list_written_clears_a_multi_value_field(admin, owner, project):
    cf = define(admin, format="version", is_multi_value=True)
    custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: [5]})
    assert custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project,
                               cleaned={cf.pk: []}) == {cf.pk: [[5], None]}
    assert custom_values_read("work_item", [1]) == {1: {}}
    assert custom_values_write(actor=owner, entity="work_item", obj_id=1, project=project, cleaned={cf.pk: []}) == {}
