"""Every service cleans its own input, whichever caller: ``None``, empty, too long and wrong-type values for each
field give a domain error with a registered code (and its parameters), never a database error or a crash, and
nothing is written.

Dialects validate too, but a rule that holds only because one dialect checked first is a hole in the others.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keelplan.accounts.services import user_create, user_set_workspace_role
from keelplan.calendars.services import calendar_create, calendar_update
from keelplan.changelog.models import ChangeEvent
from keelplan.core.errors import REGISTRY, DomainError, ErrorCode
from keelplan.planning.services import (
    DEPENDENCY_FIELDS, TASK_FIELDS, dependency_create, dependency_update, task_create, task_update,
)
from keelplan.planning.relations import relation_create, relation_update
from keelplan.portfolio.models import Membership
from keelplan.portfolio.services import (
    PROJECT_FIELDS, membership_add, membership_change_role, project_create, project_update,
)
from keelplan.resources.services import (
    RESOURCE_FIELDS, assignment_create, assignment_update, resource_create, resource_update,
)

from conftest import make_project, make_user

BAD_VALUES = {
    "none": None,
    "empty": "",
    "blank": "   ",
    "too_long": "x" * 100_001,
    "nul": "a\x00b",
    "object": object(),
    "list": [1],
    "dict": {"a": 1},
    "true": True,
    "float": 1.5,
    "negative": -1,
    "huge": 2**70,
    "bad_date": "2026-02-30",
}
# Values that must always be refused: no field of any service takes them.
ALWAYS_REFUSED = {"too_long", "nul", "object", "list", "dict", "huge"}


@pytest.fixture
def world(db):
    admin = make_user("keeper", workspace_admin=True)
    lead = make_user("lead")
    project = make_project(lead, name="Inputs")
    mate = make_user("mate")
    membership = membership_add(actor=lead, project=project, user=mate, role=100)
    a = task_create(actor=lead, project=project, name="A")
    b = task_create(actor=lead, project=project, name="B")
    link = dependency_create(actor=lead, predecessor=a, successor=b)
    relation = relation_create(actor=lead, from_item=a, to_item=b, type="relates")
    resource = resource_create(actor=admin, name="Crane")
    assignment = assignment_create(actor=lead, work_item=a, resource=resource)
    calendar = calendar_create(actor=admin, name="Site")
    return locals()


def _calls(w):
    """``(service, field, call(value))`` for every field of every write service."""
    lead, admin = w["lead"], w["admin"]
    calls = []
    for field in ("name", *TASK_FIELDS):
        calls.append(("task_create", field, lambda v, f=field: task_create(
            actor=lead, project=w["project"], **({"name": v} if f == "name" else {"name": "N", f: v}))))
        calls.append(("task_update", field, lambda v, f=field: task_update(actor=lead, task=w["a"], **{f: v})))
    for field in DEPENDENCY_FIELDS:
        def create(v, f=field):
            kwargs = {"predecessor": w["b"], "successor": w["a"], "dep_type": "SS"}
            kwargs[f] = v
            return dependency_create(actor=lead, **kwargs)
        calls.append(("dependency_create", field, create))
        calls.append(("dependency_update", field, lambda v, f=field: dependency_update(
            actor=lead, dependency=w["link"], **{f: v})))
    for field in ("from_item", "to_item", "type", "description", "lag", "lag_unit"):
        def relate(v, f=field):
            kwargs = {"from_item": w["b"], "to_item": w["a"], "type": "blocks"}
            kwargs[f] = v
            return relation_create(actor=lead, **kwargs)
        calls.append(("relation_create", field, relate))
        if field not in ("from_item", "to_item"):
            calls.append(("relation_update", field, lambda v, f=field: relation_update(
                actor=lead, relation=w["relation"], **{f: v})))
    for field in PROJECT_FIELDS:
        def create_project(v, f=field):
            kwargs = {"name": "P", "start_date": dt.date(2026, 1, 5)}
            kwargs[f] = v
            return project_create(actor=lead, **kwargs)
        calls.append(("project_create", field, create_project))
        calls.append(("project_update", field, lambda v, f=field: project_update(
            actor=lead, project=w["project"], **{f: v})))
    calls.append(("membership_add", "user", lambda v: membership_add(actor=lead, project=w["project"], user=v)))
    calls.append(("membership_add", "role", lambda v: membership_add(
        actor=lead, project=w["project"], user=make_user(), role=v)))
    calls.append(("membership_change_role", "role", lambda v: membership_change_role(
        actor=lead, membership=w["membership"], role=v)))
    for field in RESOURCE_FIELDS:
        calls.append(("resource_create", field, lambda v, f=field: resource_create(
            actor=admin, **({"name": v} if f == "name" else {"name": "R", f: v}))))
        calls.append(("resource_update", field, lambda v, f=field: resource_update(
            actor=admin, resource=w["resource"], **{f: v})))
    calls.append(("assignment_create", "resource", lambda v: assignment_create(
        actor=lead, work_item=w["b"], resource=v)))
    calls.append(("assignment_create", "units", lambda v: assignment_create(
        actor=lead, work_item=w["b"], resource=w["resource"], units=v)))
    calls.append(("assignment_update", "units", lambda v: assignment_update(
        actor=lead, assignment=w["assignment"], units=v)))
    for field in ("name", "working_days", "hours_per_day", "timezone", "exceptions", "project"):
        calls.append(("calendar_create", field, lambda v, f=field: calendar_create(
            actor=admin, **({"name": v} if f == "name" else {"name": "C", f: v}))))
    for field in ("name", "working_days", "hours_per_day", "timezone", "exceptions"):
        calls.append(("calendar_update", field, lambda v, f=field: calendar_update(
            actor=admin, calendar=w["calendar"], **{f: v})))
    for field in ("username", "password", "email", "full_name", "is_admin"):
        def create_user(v, f=field):
            kwargs = {"username": "newcomer", "password": "correct-horse-9"}
            kwargs[f] = v
            return user_create(**kwargs)
        calls.append(("user_create", field, create_user))
    calls.append(("user_set_workspace_role", "role", lambda v: user_set_workspace_role(
        actor=admin, user=w["mate"], role=v)))
    return calls


def test_every_service_refuses_bad_values_with_a_registered_code_and_writes_nothing(world):
    refused, accepted, problems = 0, 0, []
    for service, field, call in _calls(world):
        for label, value in BAD_VALUES.items():
            events = ChangeEvent.objects.count()
            try:
                call(value)
            except DomainError as exc:
                refused += 1
                spec = REGISTRY[ErrorCode(exc.code)]
                missing = set(spec.params) - set(exc.params)
                if missing:
                    problems.append(f"{service}.{field}={label}: {exc.code} lacks {sorted(missing)}")
                if ChangeEvent.objects.count() != events:
                    problems.append(f"{service}.{field}={label}: refused but logged a change")
                continue
            except Exception as exc:  # noqa: BLE001 -- the point is that nothing else escapes
                problems.append(f"{service}.{field}={label}: {type(exc).__name__}: {exc}"[:300])
                continue
            accepted += 1
            if label in ALWAYS_REFUSED:
                problems.append(f"{service}.{field}={label}: accepted")
            for row in ("a", "b", "link", "relation", "project", "resource", "calendar", "assignment", "membership"):
                world[row].refresh_from_db()
    assert problems == []
    assert refused > 500 and accepted > 0


def test_text_sent_as_none_is_empty_text_for_every_caller(world):
    """A null description is empty text (the database holds no nulls for it), whoever calls."""
    task = task_update(actor=world["lead"], task=world["a"], description=None)
    assert task.description == ""
    link = dependency_update(actor=world["lead"], dependency=world["link"], description=None)
    assert link.description == ""
    project = project_update(actor=world["lead"], project=world["project"], description=None)
    assert project.description == ""


def test_a_refused_value_names_its_field_and_limit(world):
    with pytest.raises(DomainError) as caught:
        task_update(actor=world["lead"], task=world["a"], name="x" * 513)
    assert (caught.value.field, caught.value.code, caught.value.params) == ("name", "too_long", {"max_length": 512})
    with pytest.raises(DomainError) as caught:
        assignment_update(actor=world["lead"], assignment=world["assignment"], units="11")
    assert (caught.value.code, caught.value.params) == ("out_of_range", {"min_value": Decimal("0.01"),
                                                                         "max_value": Decimal("10.00")})
    with pytest.raises(DomainError) as caught:
        membership_change_role(actor=world["lead"], membership=world["membership"], role=7)
    assert (caught.value.code, caught.value.params["choices"]) == ("invalid_choice", [1, 100, 200, 300, 400])
    assert Membership.objects.get(pk=world["membership"].pk).role == 100
