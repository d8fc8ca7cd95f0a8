"""Reference data of work items: the workspace's statuses, types, priorities and colour palette (workspace
administrators write them, everyone signed in reads them), the types a project enables, and each project's
versions and categories (its Admins write them, those who may see the project read them, anyone else is told
they do not exist)."""

from __future__ import annotations

import datetime as dt

import pytest

from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StaleLockVersion
from keelplan.planning import reference as ref
from keelplan.planning.models import (
    Category, Color, Priority, ProjectWorkItemType, Status, Version, WorkItem, WorkItemType,
)
from keelplan.planning.services import task_create, task_delete
from keelplan.portfolio.models import Role
from keelplan.portfolio.services import membership_add

from conftest import make_project, make_user

D = dt.date


# ---------------------------------------------------------------- fixtures and helpers

@pytest.fixture
def keeper(db):
    """A workspace administrator: the one who may write workspace rows."""
    return make_user("keeper", workspace_admin=True)


@pytest.fixture
def boss(db):
    """An ordinary person who owns ``site``: a project Owner, not a workspace administrator."""
    return make_user("boss")


@pytest.fixture
def site(boss):
    return make_project(boss, name="Site")


@pytest.fixture
def crew(boss, site):
    """One member of ``site`` per role below Owner, keyed by role name."""
    people = {}
    for role in (Role.VIEWER, Role.MEMBER, Role.SCHEDULER, Role.ADMIN):
        person = make_user(f"site-{role.label.lower()}")
        membership_add(actor=boss, project=site, user=person, role=role)
        people[role.label.lower()] = person
    return people


def workspace_events() -> list[ChangeEvent]:
    return list(ChangeEvent.objects.filter(stream__key="workspace").order_by("seq"))


def project_events(project, entity: str) -> list[ChangeEvent]:
    return list(ChangeEvent.objects.filter(stream__project=project, entity=entity).order_by("seq"))


def rows_of(model) -> list[tuple]:
    return list(model.objects.order_by("id").values_list())


def defaults(model) -> list[int]:
    return list(model.objects.filter(is_default=True).values_list("id", flat=True))


# ---------------------------------------------------------------- what the migrations seed

def test_the_seeded_statuses_types_and_priorities_gain_the_new_fields_with_their_defaults(db):
    assert Status.objects.count() == 6 and WorkItemType.objects.count() == 5 and Priority.objects.count() == 4
    assert list(Status.objects.filter(is_default=True).values_list("code", flat=True)) == ["NOT_STARTED"]
    assert list(WorkItemType.objects.filter(is_default=True).values_list("code", flat=True)) == ["task"]
    assert list(Priority.objects.filter(is_default=True).values_list("code", flat=True)) == ["normal"]
    assert set(Status.objects.values_list("is_readonly", "default_done_ratio", "excluded_from_totals")) == {
        (False, None, False)}
    assert set(Priority.objects.values_list("is_active", flat=True)) == {True}


def test_the_palette_holds_every_seeded_colour_once_in_upper_case(db):
    hexcodes = list(Color.objects.values_list("hexcode", flat=True))
    assert len(hexcodes) == len(set(hexcodes)) >= 16
    assert all(h == h.upper() and len(h) == 7 and h.startswith("#") for h in hexcodes)
    painted = {c.upper() for model in (Status, WorkItemType, Priority) for c in model.objects.values_list("color",
                                                                                                        flat=True)}
    assert painted <= set(hexcodes)
    assert list(Color.objects.values_list("position", flat=True)) == sorted(Color.objects.values_list("position",
                                                                                                        flat=True))


# ---------------------------------------------------------------- workspace rows: who may write them

KINDS = {
    "status": (Status, ref.status_create, ref.status_update, ref.status_delete, "status"),
    "type": (WorkItemType, ref.work_item_type_create, ref.work_item_type_update, ref.work_item_type_delete, "type"),
    "priority": (Priority, ref.priority_create, ref.priority_update, ref.priority_delete, "priority"),
}


def attempt(kind: str, verb: str, actor, victim):
    model, create, update, delete, arg = KINDS[kind]
    if verb == "create":
        return create(actor=actor, name="Blocked")
    if verb == "update":
        return update(actor=actor, **{arg: victim}, name="Renamed", is_default=True)
    return delete(actor=actor, **{arg: victim})


@pytest.mark.parametrize("verb", ["create", "update", "delete"])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("who", ["ordinary user", "project owner", "anonymous"])
def test_workspace_values_are_written_by_workspace_administrators_only(keeper, boss, site, kind, verb, who):
    model, create, *_ = KINDS[kind]
    victim = create(actor=keeper, name="Victim")
    actor = {"ordinary user": make_user("plain"), "project owner": boss, "anonymous": None}[who]
    before, events = rows_of(model), ChangeEvent.objects.count()
    with pytest.raises(PermissionDenied):
        attempt(kind, verb, actor, victim)
    assert rows_of(model) == before
    assert ChangeEvent.objects.count() == events


@pytest.mark.parametrize("verb", ["create", "update", "delete"])
@pytest.mark.parametrize("who", ["ordinary user", "project owner"])
def test_the_palette_is_written_by_workspace_administrators_only(keeper, boss, site, verb, who):
    victim = ref.color_create(actor=keeper, name="Victim", hexcode="#010203")
    actor = make_user("plain") if who == "ordinary user" else boss
    before, events = rows_of(Color), ChangeEvent.objects.count()
    with pytest.raises(PermissionDenied):
        if verb == "create":
            ref.color_create(actor=actor, name="Blocked", hexcode="#040506")
        elif verb == "update":
            ref.color_update(actor=actor, color=victim, hexcode="#070809")
        else:
            ref.color_delete(actor=actor, color=victim)
    assert rows_of(Color) == before and ChangeEvent.objects.count() == events


# ---------------------------------------------------------------- statuses, types, priorities

def test_a_status_is_created_with_a_code_from_its_name_last_in_order_and_logged(keeper):
    last = Status.objects.order_by("-position").first().position
    status = ref.status_create(actor=keeper, name="In review", color="#00897b", default_done_ratio=80,
                               is_readonly=True, excluded_from_totals=True)
    assert (status.code, status.position, status.color) == ("IN_REVIEW", last + 1, "#00897B")
    assert (status.default_done_ratio, status.is_readonly, status.excluded_from_totals) == (80, True, True)
    event = workspace_events()[-1]
    assert (event.entity, event.entity_id, event.action) == ("status", status.pk, "created")
    assert event.changes["name"] == [None, "In review"] and event.changes["default_done_ratio"] == [None, 80]


def test_types_and_priorities_get_lower_case_codes_and_free_ones(keeper):
    assert ref.work_item_type_create(actor=keeper, name="User story").code == "user_story"
    assert ref.priority_create(actor=keeper, name="Urgent!").code == "urgent"
    assert ref.work_item_type_create(actor=keeper, name="Task-like", code="Task_2").code == "Task_2"
    # A name that makes a code already taken gets the next free one.
    assert ref.work_item_type_create(actor=keeper, name="Task!").code == "task_3", "task and Task_2 are taken"
    made = ref.priority_create(actor=keeper, name="日本")
    assert made.code == "priority"


def test_a_palette_colour_may_paint_a_status(keeper):
    teal = Color.objects.get(hexcode="#00897B")
    status = ref.status_create(actor=keeper, name="Teal one", color=teal)
    assert status.color == "#00897B"


def test_making_a_value_the_default_unmarks_the_old_one_and_logs_both(keeper):
    old = Status.objects.get(is_default=True)
    new = ref.status_create(actor=keeper, name="Fresh", is_default=True)
    assert defaults(Status) == [new.pk]
    changed = {(e.entity_id, e.action) for e in workspace_events()[-2:]}
    assert changed == {(new.pk, "created"), (old.pk, "updated")}
    ref.status_update(actor=keeper, status=old, is_default=True)
    assert defaults(Status) == [old.pk]
    task = WorkItemType.objects.get(code="phase")
    ref.work_item_type_update(actor=keeper, type=task, is_default=True)
    assert defaults(WorkItemType) == [task.pk]
    high = Priority.objects.get(code="high")
    ref.priority_update(actor=keeper, priority=high, is_default=True)
    assert defaults(Priority) == [high.pk]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_default_cannot_be_unmarked_or_deleted_so_one_always_is(keeper, kind):
    model, _, update, delete, arg = KINDS[kind]
    current = model.objects.get(is_default=True)
    before, events = rows_of(model), ChangeEvent.objects.count()
    with pytest.raises(Conflict) as refused:
        update(actor=keeper, **{arg: current}, is_default=False)
    assert (refused.value.code, refused.value.field) == ("conflict", "is_default")
    with pytest.raises(Conflict) as refused:
        delete(actor=keeper, **{arg: current})
    assert (refused.value.code, refused.value.field) == ("conflict", "is_default")
    assert rows_of(model) == before and ChangeEvent.objects.count() == events


def test_the_first_value_after_none_becomes_the_default(keeper):
    # A fresh workspace has none: emulated by clearing the seeded rows nothing uses yet.
    Priority.objects.all().delete()
    first = ref.priority_create(actor=keeper, name="Only", is_default=False)
    assert first.is_default is True
    second = ref.priority_create(actor=keeper, name="Second")
    assert second.is_default is False and defaults(Priority) == [first.pk]


def test_the_default_priority_must_be_active(keeper):
    normal = Priority.objects.get(is_default=True)
    with pytest.raises(InvalidInput) as refused:
        ref.priority_update(actor=keeper, priority=normal, is_active=False)
    assert (refused.value.code, refused.value.field) == ("not_allowed", "is_active")
    dormant = ref.priority_create(actor=keeper, name="Someday", is_active=False)
    with pytest.raises(InvalidInput) as refused:
        ref.priority_update(actor=keeper, priority=dormant, is_default=True)
    assert (refused.value.code, refused.value.field) == ("not_allowed", "is_default")
    assert defaults(Priority) == [normal.pk]
    assert dormant not in ref.priority_list(actor=keeper, active_only=True)
    assert dormant in ref.priority_list(actor=keeper)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_names_and_codes_are_unique_ignoring_case(keeper, kind):
    model, create, update, _, arg = KINDS[kind]
    row = create(actor=keeper, name="Unique one", code="uniq")
    count = model.objects.count()
    with pytest.raises(Conflict) as refused:
        create(actor=keeper, name="UNIQUE ONE")
    assert (refused.value.code, refused.value.field) == ("duplicate_name", "name")
    with pytest.raises(Conflict) as refused:
        create(actor=keeper, name="Another", code="UNIQ")
    assert (refused.value.code, refused.value.field) == ("duplicate_identifier", "code")
    other = model.objects.exclude(pk=row.pk).order_by("id").first()
    with pytest.raises(Conflict) as refused:
        update(actor=keeper, **{arg: other}, name="unique ONE")
    assert refused.value.field == "name"
    assert model.objects.count() == count
    assert model.objects.get(pk=other.pk).name == other.name


@pytest.mark.parametrize("values, field, code", [
    ({"color": "#12345"}, "color", "invalid_format"),
    ({"color": "red"}, "color", "invalid_format"),
    ({"color": 123}, "color", "invalid_type"),
    ({"default_done_ratio": 101}, "default_done_ratio", "out_of_range"),
    ({"default_done_ratio": -1}, "default_done_ratio", "out_of_range"),
    ({"position": -1}, "position", "out_of_range"),
    ({"is_closed": "yes"}, "is_closed", "invalid_type"),
    ({"code": "has space"}, "code", "invalid_format"),
    ({"name": "   "}, "name", "blank"),
    ({"name": "x" * 101}, "name", "too_long"),
    ({"name": None}, "name", "null"),
    ({"lock": 1}, "lock", "unknown_field"),
])
def test_bad_values_are_refused_naming_the_field_and_write_nothing(keeper, values, field, code):
    before, events = rows_of(Status), ChangeEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        ref.status_create(actor=keeper, **{"name": "Bad", **values})
    assert (refused.value.field, refused.value.code) == (field, code)
    with pytest.raises(InvalidInput) as refused:
        ref.status_update(actor=keeper, status=Status.objects.first(), **values)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert rows_of(Status) == before and ChangeEvent.objects.count() == events


def test_a_value_in_use_cannot_be_deleted_deleted_work_items_included(keeper, boss, site):
    review = ref.status_create(actor=keeper, name="Review 2")
    gate = ref.work_item_type_create(actor=keeper, name="Gate")
    low = Priority.objects.get(code="low")
    task = task_create(actor=boss, project=site, name="Pour", status=review, type=gate, priority=low)
    for delete, value in ((ref.status_delete, {"status": review}), (ref.work_item_type_delete, {"type": gate}),
                          (ref.priority_delete, {"priority": low})):
        with pytest.raises(Conflict) as refused:
            delete(actor=keeper, **value)
        assert (refused.value.code, refused.value.params) == ("in_use", {"reference_count": 1})
    task_delete(actor=boss, task=task)
    with pytest.raises(Conflict) as refused:
        ref.status_delete(actor=keeper, status=review)
    assert refused.value.params == {"reference_count": 1}, "a deleted work item may be restored"
    assert Status.objects.filter(pk=review.pk).exists()


def test_a_type_a_project_enables_is_in_use(keeper, boss, site):
    gate = ref.work_item_type_create(actor=keeper, name="Gate")
    ref.project_types_set(actor=boss, project=site, types=[gate, WorkItemType.objects.get(code="task")])
    with pytest.raises(Conflict) as refused:
        ref.work_item_type_delete(actor=keeper, type=gate)
    assert refused.value.params == {"reference_count": 1}


def test_a_type_a_custom_field_is_limited_to_is_in_use(keeper):
    from keelplan.customfields.services import custom_field_create

    gate = ref.work_item_type_create(actor=keeper, name="Gate")
    custom_field_create(actor=keeper, name="Sign-off", applies_to="work_item", format="string", types=[gate])
    with pytest.raises(Conflict) as refused:
        ref.work_item_type_delete(actor=keeper, type=gate)
    assert refused.value.params == {"reference_count": 1}, "counted once, through the relation's table"
    assert WorkItemType.objects.filter(pk=gate.pk).exists()


def test_an_unused_value_is_deleted_and_logged(keeper):
    spare = ref.priority_create(actor=keeper, name="Spare")
    ref.priority_delete(actor=keeper, priority=spare)
    assert not Priority.objects.filter(pk=spare.pk).exists()
    event = workspace_events()[-1]
    assert (event.entity, event.entity_id, event.action) == ("priority", spare.pk, "deleted")


def test_an_update_that_changes_nothing_writes_nothing(keeper):
    status = Status.objects.get(code="REVIEW")
    events = ChangeEvent.objects.count()
    ref.status_update(actor=keeper, status=status, name="Review", color="#7e57c2")
    assert ChangeEvent.objects.count() == events


# ---------------------------------------------------------------- the palette

def test_colours_are_unique_by_name_and_hexcode(keeper):
    ref.color_create(actor=keeper, name="Sea", hexcode="#0a0b0c")
    count = Color.objects.count()
    with pytest.raises(Conflict) as refused:
        ref.color_create(actor=keeper, name="Other sea", hexcode="#0A0B0C")
    assert (refused.value.code, refused.value.field) == ("duplicate_name", "hexcode")
    with pytest.raises(Conflict) as refused:
        ref.color_create(actor=keeper, name="sea", hexcode="#0A0B0D")
    assert (refused.value.code, refused.value.field) == ("duplicate_name", "name")
    with pytest.raises(InvalidInput) as refused:
        ref.color_create(actor=keeper, name="Bad", hexcode="#GGGGGG")
    assert (refused.value.code, refused.value.field) == ("invalid_format", "hexcode")
    assert Color.objects.count() == count


def test_a_new_hexcode_repaints_the_rows_painted_with_the_old(keeper):
    red = Color.objects.get(hexcode="#D32F2F")
    painted = {("status", pk) for pk in Status.objects.filter(color="#D32F2F").values_list("id", flat=True)} | {
        ("work_item_type", pk) for pk in WorkItemType.objects.filter(color="#D32F2F").values_list("id", flat=True)} | {
        ("priority", pk) for pk in Priority.objects.filter(color="#D32F2F").values_list("id", flat=True)}
    assert len(painted) == 3
    before = len(workspace_events())
    ref.color_update(actor=keeper, color=red, hexcode="#c62828")
    assert not any(m.objects.filter(color="#D32F2F").exists() for m in (Status, WorkItemType, Priority))
    assert Status.objects.get(code="ON_HOLD").color == "#C62828"
    events = workspace_events()[before:]
    assert {(e.entity, e.entity_id) for e in events} == painted | {("color", red.pk)}
    assert all(e.changes["color"] == ["#D32F2F", "#C62828"] for e in events if e.entity != "color")


def test_a_colour_rows_are_painted_with_cannot_be_deleted(keeper):
    blue = Color.objects.get(hexcode="#1A67A3")
    used = ref.color_use_count("#1A67A3")
    with pytest.raises(Conflict) as refused:
        ref.color_delete(actor=keeper, color=blue)
    assert (refused.value.code, refused.value.params) == ("in_use", {"reference_count": used})
    spare = Color.objects.get(hexcode="#6D4C41")
    ref.color_delete(actor=keeper, color=spare)
    assert not Color.objects.filter(pk=spare.pk).exists()
    assert set(ref.colors_by_hexcode()) == set(Color.objects.values_list("hexcode", flat=True))


# ---------------------------------------------------------------- reads of workspace rows

def test_everyone_signed_in_reads_workspace_values_and_nobody_else(db):
    plain = make_user("reader")
    assert ref.status_list(actor=plain).count() == 6
    assert ref.work_item_type_list(actor=plain).count() == 5
    assert ref.color_list(actor=plain).count() == Color.objects.count()
    assert ref.status_list(actor=None).count() == 0
    status = Status.objects.first()
    assert ref.status_get(actor=plain, status_id=status.pk) == status
    assert ref.status_get(actor=plain, status_id=str(status.pk)) == status
    with pytest.raises(NotFound):
        ref.status_get(actor=None, status_id=status.pk)
    with pytest.raises(NotFound):
        ref.priority_get(actor=plain, priority_id=10**12)
    with pytest.raises(InvalidInput):
        ref.color_get(actor=plain, color_id="1; drop")


# ---------------------------------------------------------------- types enabled in a project

def test_a_project_that_enables_no_type_in_particular_has_every_type(keeper, boss, site):
    assert set(ref.types_enabled(site)) == set(WorkItemType.objects.all())
    gate = ref.work_item_type_create(actor=keeper, name="Gate")
    assert gate in ref.types_enabled(site), "a type added later is enabled too"
    assert ref.default_type_for(site).code == "task"


def test_enabling_some_types_limits_the_project_to_them_and_is_logged(keeper, boss, site):
    task, milestone = WorkItemType.objects.get(code="task"), WorkItemType.objects.get(code="milestone")
    enabled = ref.project_types_set(actor=boss, project=site, types=[milestone, task, task])
    assert set(enabled) == {task, milestone} == set(ref.types_enabled(site))
    other = make_project(boss, name="Other")
    assert set(ref.types_enabled(other)) == set(WorkItemType.objects.all())
    created = project_events(site, "project_work_item_type")
    assert [e.action for e in created] == ["created", "created"]
    ref.require_enabled_type(task, site)
    with pytest.raises(InvalidInput) as refused:
        ref.require_enabled_type(WorkItemType.objects.get(code="bug"), site)
    assert (refused.value.field, refused.value.code) == ("type", "invalid_reference")

    ref.project_types_set(actor=boss, project=site, types=[milestone])
    assert list(ref.types_enabled(site)) == [milestone]
    assert ref.default_type_for(site) == milestone, "the workspace default is not enabled here"
    assert project_events(site, "project_work_item_type")[-1].action == "deleted"
    ref.project_types_set(actor=boss, project=site, types=[])
    assert not ProjectWorkItemType.objects.filter(project=site).exists()
    assert set(ref.types_enabled(site)) == set(WorkItemType.objects.all())


def test_a_type_live_work_items_have_cannot_be_left_out(boss, site):
    bug = WorkItemType.objects.get(code="bug")
    task_create(actor=boss, project=site, name="Leak", type=bug)
    with pytest.raises(Conflict) as refused:
        ref.project_types_set(actor=boss, project=site, types=[WorkItemType.objects.get(code="task")])
    assert (refused.value.code, refused.value.field, refused.value.params) == ("in_use", "types",
                                                                               {"reference_count": 1})
    assert not ProjectWorkItemType.objects.filter(project=site).exists()


@pytest.mark.parametrize("role", ["viewer", "member", "scheduler"])
def test_enabling_types_needs_admin(boss, site, crew, role):
    with pytest.raises(PermissionDenied):
        ref.project_types_set(actor=crew[role], project=site, types=[WorkItemType.objects.get(code="task")])
    ref.project_types_set(actor=crew["admin"], project=site, types=[WorkItemType.objects.get(code="task")])
    with pytest.raises(NotFound):
        ref.project_types_set(actor=make_user("stranger"), project=site, types=[])
    with pytest.raises(InvalidInput) as refused:
        ref.project_types_set(actor=boss, project=site, types="task")
    assert refused.value.field == "types"


# ---------------------------------------------------------------- versions

def test_an_admin_creates_a_version_logged_in_the_projects_stream(site, crew):
    version = ref.version_create(actor=crew["admin"], project=site, name="Release 1", start_date="2026-01-05",
                                 end_date=D(2026, 3, 31), description="First cut")
    assert (version.status, version.sharing, version.start_date) == ("open", "none", D(2026, 1, 5))
    (event,) = project_events(site, "version")
    assert (event.entity_id, event.action, event.changes["end_date"]) == (version.pk, "created", [None, "2026-03-31"])
    assert not ChangeEvent.objects.filter(stream__key="workspace", entity="version").exists()


def test_the_end_may_not_come_before_the_start(boss, site):
    with pytest.raises(InvalidInput) as refused:
        ref.version_create(actor=boss, project=site, name="Backwards", start_date=D(2026, 2, 1),
                           end_date=D(2026, 1, 31))
    assert (refused.value.field, refused.value.code) == ("end_date", "finish_before_start")
    version = ref.version_create(actor=boss, project=site, name="Sprint", start_date=D(2026, 2, 1))
    with pytest.raises(InvalidInput) as refused:
        ref.version_update(actor=boss, version=version, end_date=D(2026, 1, 1))
    assert refused.value.field == "end_date"
    ref.version_update(actor=boss, version=version, end_date=D(2026, 2, 1))   # one day is fine
    assert Version.objects.count() == 1 and Version.objects.get().end_date == D(2026, 2, 1)
    with pytest.raises(InvalidInput) as refused:
        ref.version_update(actor=boss, version=version, status="frozen")
    assert (refused.value.field, refused.value.code) == ("status", "invalid_choice")
    with pytest.raises(InvalidInput) as refused:
        ref.version_update(actor=boss, version=version, start_date="2026-02-30")
    assert (refused.value.field, refused.value.code) == ("start_date", "invalid_date")


def test_version_names_are_unique_per_project_among_live_versions(boss, site):
    first = ref.version_create(actor=boss, project=site, name="Beta")
    with pytest.raises(Conflict) as refused:
        ref.version_create(actor=boss, project=site, name="BETA")
    assert (refused.value.code, refused.value.field) == ("duplicate_name", "name")
    ref.version_create(actor=boss, project=make_project(boss, name="Elsewhere"), name="Beta")
    second = ref.version_create(actor=boss, project=site, name="Gamma")
    with pytest.raises(Conflict):
        ref.version_update(actor=boss, version=second, name="beta")
    ref.version_delete(actor=boss, version=first)
    assert ref.version_update(actor=boss, version=second, name="beta").name == "beta"


@pytest.mark.parametrize("role", ["viewer", "member", "scheduler"])
def test_versions_are_written_by_admins_and_above(boss, site, crew, role):
    version = ref.version_create(actor=boss, project=site, name="Kept")
    before, events = rows_of(Version), ChangeEvent.objects.count()
    for call in (lambda a: ref.version_create(actor=a, project=site, name="No"),
                 lambda a: ref.version_update(actor=a, version=version, name="No"),
                 lambda a: ref.version_delete(actor=a, version=version)):
        with pytest.raises(PermissionDenied):
            call(crew[role])
    assert rows_of(Version) == before and ChangeEvent.objects.count() == events


def test_a_non_member_is_told_a_version_does_not_exist(boss, site):
    version = ref.version_create(actor=boss, project=site, name="Hidden")
    stranger = make_user("stranger")
    make_project(stranger, name="Stranger's own")   # an Owner elsewhere is a stranger here
    before, events = rows_of(Version), ChangeEvent.objects.count()
    for call in (lambda: ref.version_get(actor=stranger, version_id=version.pk),
                 lambda: ref.version_list(actor=stranger, project=site),
                 lambda: ref.version_create(actor=stranger, project=site, name="Mine"),
                 lambda: ref.version_update(actor=stranger, version=version, name="Mine"),
                 lambda: ref.version_delete(actor=stranger, version=version)):
        with pytest.raises(NotFound):
            call()
    assert rows_of(Version) == before and ChangeEvent.objects.count() == events
    with pytest.raises(NotFound) as missing:
        ref.version_get(actor=stranger, version_id=10**9)
    assert missing.value.message == "No such version."


def test_members_read_versions(boss, site, crew):
    version = ref.version_create(actor=boss, project=site, name="Seen")
    assert ref.version_get(actor=crew["viewer"], version_id=version.pk) == version
    assert list(ref.version_list(actor=crew["viewer"], project=site)) == [version]


def test_a_stale_lock_version_changes_nothing(boss, site):
    version = ref.version_create(actor=boss, project=site, name="Locked")
    ref.version_update(actor=boss, version=version, description="Read at 0, written at 1", lock_version=0)
    with pytest.raises(StaleLockVersion):
        ref.version_update(actor=boss, version=version, name="Late", lock_version=0)
    assert Version.objects.get(pk=version.pk).name == "Locked"


def test_sharing_reaches_the_projects_it_names(boss, site):
    child = make_project(boss, name="Child", parent=site)
    grandchild = make_project(boss, name="Grandchild", parent=child)
    sibling = make_project(boss, name="Sibling", parent=site)
    loner = make_project(boss, name="Loner")
    own = ref.version_create(actor=boss, project=child, name="Own")
    down = ref.version_create(actor=boss, project=child, name="Down", sharing="descendants")
    both = ref.version_create(actor=boss, project=child, name="Both", sharing="hierarchy")
    tree = ref.version_create(actor=boss, project=child, name="Tree", sharing="tree")
    usable = {p.name: set(ref.versions_shared_with(p).values_list("name", flat=True))
              for p in (site, child, grandchild, sibling, loner)}
    assert usable == {
        "Site": {"Both", "Tree"}, "Child": {"Own", "Down", "Both", "Tree"}, "Grandchild": {"Down", "Both", "Tree"},
        "Sibling": {"Tree"}, "Loner": set(),
    }
    assert ref.projects_sharing(own) == {child.pk}
    assert ref.projects_sharing(down) == {child.pk, grandchild.pk}
    assert ref.projects_sharing(both) == {site.pk, child.pk, grandchild.pk}
    assert ref.projects_sharing(tree) == {site.pk, child.pk, grandchild.pk, sibling.pk}


def test_the_versions_someone_sees_are_those_version_get_shows_them(keeper, boss, site):
    """``versions_visible`` (the list) and ``version_get`` (one) apply one rule: a version of a project the
    person sees, or shared with one they see; for a person who sees one project in the middle of a tree."""
    child = make_project(boss, name="Child", parent=site)
    grandchild = make_project(boss, name="Grandchild", parent=child)
    sibling = make_project(boss, name="Sibling", parent=site)
    loner = make_project(boss, name="Loner")
    for project in (site, child, grandchild, sibling, loner):
        for sharing in ("none", "descendants", "hierarchy", "tree"):
            ref.version_create(actor=boss, project=project, name=f"{project.name} {sharing}", sharing=sharing)
    ref.version_create(actor=keeper, project=loner, name="Everyone", sharing="system")
    for seen in (site, child, grandchild, sibling):
        person = make_user(f"sees-{seen.name.lower()}")
        membership_add(actor=boss, project=seen, user=person, role=Role.VIEWER)
        listed = set(ref.versions_visible(actor=person))
        one_by_one = set()
        for version in Version.objects.all():
            try:
                one_by_one.add(ref.version_get(actor=person, version_id=version.pk))
            except NotFound:
                pass
        assert listed == one_by_one, seen.name
    person = make_user("sees-child-only")
    membership_add(actor=boss, project=child, user=person, role=Role.VIEWER)
    assert {v.name for v in ref.versions_visible(actor=person)} == {
        "Child none", "Child descendants", "Child hierarchy", "Child tree", "Site descendants", "Site hierarchy",
        "Site tree", "Grandchild hierarchy", "Grandchild tree", "Sibling tree", "Everyone"}
    assert {v.name for v in ref.versions_visible(actor=make_user("nobody"))} == {"Everyone"}


def test_sharing_with_every_project_needs_a_workspace_administrator(keeper, boss, site):
    with pytest.raises(PermissionDenied) as refused:
        ref.version_create(actor=boss, project=site, name="Everyone", sharing="system")
    assert refused.value.field == "sharing"
    assert not Version.objects.exists()
    version = ref.version_create(actor=keeper, project=site, name="Everyone", sharing="system")
    outsider = make_user("outsider")
    assert ref.version_get(actor=outsider, version_id=version.pk) == version
    assert version in ref.versions_shared_with(make_project(outsider, name="Far away"))


def test_sharing_with_the_tree_needs_admin_in_the_top_project(boss, site):
    lead = make_user("lead")
    child = make_project(boss, name="Child", parent=site)
    membership_add(actor=boss, project=child, user=lead, role=Role.ADMIN)
    with pytest.raises(PermissionDenied) as refused:
        ref.version_create(actor=lead, project=child, name="All of it", sharing="tree")
    assert refused.value.field == "sharing"
    ref.version_create(actor=lead, project=child, name="Below", sharing="descendants")
    ref.version_create(actor=boss, project=child, name="All of it", sharing="tree")


def test_a_shared_version_is_seen_from_the_projects_it_is_shared_with(boss, site):
    child = make_project(boss, name="Child", parent=site)
    reader = make_user("reader")
    membership_add(actor=boss, project=child, user=reader, role=Role.VIEWER)
    shared = ref.version_create(actor=boss, project=site, name="Shared", sharing="descendants")
    private = ref.version_create(actor=boss, project=site, name="Private")
    assert ref.version_get(actor=reader, version_id=shared.pk) == shared
    with pytest.raises(NotFound):
        ref.version_get(actor=reader, version_id=private.pk)
    assert list(ref.version_list(actor=reader, project=child)) == [shared]


def test_narrower_sharing_takes_the_version_off_work_items_it_no_longer_reaches(boss, site):
    child = make_project(boss, name="Child", parent=site)
    version = ref.version_create(actor=boss, project=site, name="Wide", sharing="descendants")
    home = task_create(actor=boss, project=site, name="Home")
    away = task_create(actor=boss, project=child, name="Away")
    # Work items take versions once the task services accept them; set here as they will.
    WorkItem.objects.filter(pk__in=[home.pk, away.pk]).update(version=version)
    lock = WorkItem.objects.get(pk=away.pk).lock_version
    ref.version_update(actor=boss, version=version, sharing="none")
    assert WorkItem.objects.get(pk=home.pk).version_id == version.pk
    away = WorkItem.objects.get(pk=away.pk)
    assert (away.version_id, away.lock_version) == (None, lock + 1)
    (event,) = ChangeEvent.objects.filter(stream__project=child, entity="work_item", changes__has_key="version")
    assert (event.entity_id, event.changes["version"]) == (away.pk, [version.pk, None])


def test_a_project_moved_out_of_a_hierarchy_loses_the_versions_that_no_longer_reach_it(boss, site):
    from keelplan.portfolio.services import project_update

    child = make_project(boss, name="Child", parent=site)
    grandchild = make_project(boss, name="Grandchild", parent=child)
    shared = ref.version_create(actor=boss, project=site, name="Family", sharing="descendants")
    own = ref.version_create(actor=boss, project=child, name="Child's own")
    tasks = {name: task_create(actor=boss, project=p, name=name)
             for name, p in (("top", site), ("mid", child), ("low", grandchild), ("mine", child))}
    WorkItem.objects.filter(pk__in=[tasks[n].pk for n in ("top", "mid", "low")]).update(version=shared)
    WorkItem.objects.filter(pk=tasks["mine"].pk).update(version=own)
    assert ref.work_item_versions_recheck(actor=boss, project=child) == 0
    project_update(actor=boss, project=child, parent=None)   # rechecks the versions itself
    assert ref.work_item_versions_recheck(actor=boss, project=child) == 0
    versions = dict(WorkItem.objects.values_list("name", "version_id"))
    assert versions == {"top": shared.pk, "mid": None, "low": None, "mine": own.pk}
    logged = ChangeEvent.objects.filter(entity="work_item", changes__has_key="version")
    assert {(e.stream.project_id, e.entity_id) for e in logged} == {(child.pk, tasks["mid"].pk),
                                                                   (grandchild.pk, tasks["low"].pk)}


def test_only_open_versions_shared_with_the_project_take_work_items(boss, site):
    version = ref.version_create(actor=boss, project=site, name="Open")
    ref.require_assignable_version(version, site)
    ref.require_assignable_version(None, site)
    elsewhere = ref.version_create(actor=boss, project=make_project(boss, name="Elsewhere"), name="Theirs")
    with pytest.raises(InvalidInput) as refused:
        ref.require_assignable_version(elsewhere, site)
    assert (refused.value.field, refused.value.code) == ("version", "invalid_reference")
    ref.version_update(actor=boss, version=version, status="locked")
    with pytest.raises(InvalidInput) as refused:
        ref.require_assignable_version(version, site)
    assert (refused.value.field, refused.value.code) == ("version", "invalid")
    assert list(ref.versions_assignable(site)) == []


def test_a_version_with_live_work_items_cannot_be_deleted(boss, site):
    version = ref.version_create(actor=boss, project=site, name="Busy")
    task = task_create(actor=boss, project=site, name="Work")
    WorkItem.objects.filter(pk=task.pk).update(version=version)
    with pytest.raises(Conflict) as refused:
        ref.version_delete(actor=boss, version=version)
    assert (refused.value.code, refused.value.params) == ("in_use", {"reference_count": 1})
    task_delete(actor=boss, task=task)
    ref.version_delete(actor=boss, version=version)
    assert Version.all_objects.get(pk=version.pk).is_deleted
    assert project_events(site, "version")[-1].action == "deleted"
    with pytest.raises(NotFound):
        ref.version_get(actor=boss, version_id=version.pk)


# ---------------------------------------------------------------- categories

def test_categories_are_unique_per_project_and_their_default_assignee_is_a_member(boss, site, crew):
    category = ref.category_create(actor=crew["admin"], project=site, name="Electrical",
                                   default_assignee=crew["member"])
    assert category.default_assignee == crew["member"]
    (event,) = project_events(site, "category")
    assert event.changes == {"name": [None, "Electrical"], "default_assignee": [None, crew["member"].pk]}
    with pytest.raises(Conflict) as refused:
        ref.category_create(actor=boss, project=site, name="ELECTRICAL")
    assert (refused.value.code, refused.value.field) == ("duplicate_name", "name")
    with pytest.raises(InvalidInput) as refused:
        ref.category_create(actor=boss, project=site, name="Plumbing", default_assignee=make_user("nobody"))
    assert (refused.value.code, refused.value.field) == ("not_a_member", "default_assignee")
    with pytest.raises(InvalidInput) as refused:
        ref.category_update(actor=boss, category=category, default_assignee=make_user("nobody2"))
    assert refused.value.field == "default_assignee"
    assert list(Category.objects.values_list("name", flat=True)) == ["Electrical"]
    ref.category_update(actor=boss, category=category, name="Power", default_assignee=None, lock_version=0)
    assert Category.objects.get().name == "Power"
    with pytest.raises(StaleLockVersion):
        ref.category_update(actor=boss, category=category, name="Late", lock_version=0)


@pytest.mark.parametrize("role", ["viewer", "member", "scheduler"])
def test_categories_are_written_by_admins_and_above(boss, site, crew, role):
    category = ref.category_create(actor=boss, project=site, name="Kept")
    before, events = rows_of(Category), ChangeEvent.objects.count()
    for call in (lambda a: ref.category_create(actor=a, project=site, name="No"),
                 lambda a: ref.category_update(actor=a, category=category, name="No"),
                 lambda a: ref.category_delete(actor=a, category=category)):
        with pytest.raises(PermissionDenied):
            call(crew[role])
    assert rows_of(Category) == before and ChangeEvent.objects.count() == events
    assert ref.category_get(actor=crew[role], category_id=category.pk) == category


def test_a_non_member_is_told_a_category_does_not_exist(boss, site):
    category = ref.category_create(actor=boss, project=site, name="Hidden")
    stranger = make_user("stranger")
    before = rows_of(Category)
    for call in (lambda: ref.category_get(actor=stranger, category_id=category.pk),
                 lambda: ref.category_list(actor=stranger, project=site),
                 lambda: ref.category_update(actor=stranger, category=category, name="Mine"),
                 lambda: ref.category_delete(actor=stranger, category=category)):
        with pytest.raises(NotFound):
            call()
    assert rows_of(Category) == before


def test_deleting_a_category_moves_its_work_items_and_logs_each(boss, site):
    old = ref.category_create(actor=boss, project=site, name="Old")
    new = ref.category_create(actor=boss, project=site, name="New")
    tasks = [task_create(actor=boss, project=site, name=f"T{i}") for i in range(2)]
    WorkItem.objects.filter(pk__in=[t.pk for t in tasks]).update(category=old)
    ref.category_delete(actor=boss, category=old, reassign_to=new)
    assert set(WorkItem.objects.values_list("category_id", flat=True)) == {new.pk}
    moved = ChangeEvent.objects.filter(stream__project=site, entity="work_item", changes__has_key="category")
    assert sorted(e.entity_id for e in moved) == sorted(t.pk for t in tasks)
    assert all(e.changes["category"] == [old.pk, new.pk] for e in moved)
    assert Category.all_objects.get(pk=old.pk).is_deleted
    ref.category_delete(actor=boss, category=new)
    assert set(WorkItem.objects.values_list("category_id", flat=True)) == {None}
    with pytest.raises(InvalidInput) as refused:
        ref.category_delete(actor=boss, category=ref.category_create(actor=boss, project=site, name="Last"),
                            reassign_to=new)
    assert (refused.value.field, refused.value.code) == ("reassign_to", "invalid_reference")


def test_a_category_is_usable_only_in_its_own_project(boss, site):
    category = ref.category_create(actor=boss, project=site, name="Ours")
    ref.require_usable_category(category, site)
    with pytest.raises(InvalidInput) as refused:
        ref.require_usable_category(category, make_project(boss, name="Theirs"))
    assert (refused.value.field, refused.value.code) == ("category", "invalid_reference")
