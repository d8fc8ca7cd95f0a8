"""Every way a Beebole request fails: the HTTP status, a body that is Beebole's envelope
``{"status": "error", "message": ...}`` and nothing else, a message that names the problem and the field as the
client sent it, and a database left exactly as it was (:func:`fingerprint`, taken before and after each refusal).

Beebole answers a request it understood but could not serve with HTTP 200; a missing or wrong API token is 401,
a method other than POST 405. A row the caller may not see is refused in the words used for an id no row has.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Callable

import pytest
from django.utils import timezone
from django.db.models import Max
from django.test import override_settings
from rest_framework.test import APIClient

from keelplan.accounts import services as accounts
from keelplan.accounts.models import Group, GroupAncestor, GroupMember, User
from keelplan.api.beebole.views import MAX_SERVICE_NAME
from keelplan.changelog.models import ChangeEvent, ChangeStream
from keelplan.customfields.models import AppliesTo, CustomField, CustomOption, CustomValue, FieldFormat
from keelplan.customfields.services import custom_field_create
from keelplan.portfolio import categories
from keelplan.portfolio import services as portfolio
from keelplan.portfolio.models import (
    Affiliation, Company, CompanyMember, GroupAssignment, Membership, Project, Role,
)
from keelplan.timesheets import services as time_services
from keelplan.timesheets.models import Activity, ActivitySelection
from tests.api.beebole import seed
from tests.api.beebole.conftest import URL, Beebole, error_message
from tests.conftest import make_project, make_user

INVALID_BODY = 'Invalid service request: the body must be one JSON object such as {"service": "company.list"}.'
SERVICE_NOT_TEXT = 'Invalid service request: service must be a string such as "company.list".'
NO_SERVICE = "Invalid service request: missing field service."

# ---------------------------------------------------------------- the database, fingerprinted

# Every table a Beebole service writes, and the ones those writes touch on the way (the group tree's closure, the
# change streams' counters, custom field definitions and options).
FINGERPRINTED = [
    Project, Company, Membership, CompanyMember, Affiliation, GroupAssignment,
    User, User.leaders.through, Group, GroupMember, GroupAncestor,
    Activity, ActivitySelection, ActivitySelection.activities.through,
    CustomField, CustomOption, CustomValue,
    ChangeEvent, ChangeStream,
]


def fingerprint() -> dict[str, tuple[int, int | None, str]]:
    """Per table: how many rows (soft-deleted ones too), the highest id, and a hash of every row's every column."""
    found = {}
    for model in FINGERPRINTED:
        rows = model._base_manager.order_by("pk")
        columns = [f.attname for f in model._meta.concrete_fields]
        digest = hashlib.sha256(repr(list(rows.values_list(*columns))).encode()).hexdigest()
        found[model._meta.label] = (rows.count(), rows.aggregate(top=Max("pk"))["top"], digest)
    return found


def test_the_fingerprint_sees_a_changed_column_a_new_row_and_a_soft_delete(owner, project):
    before = fingerprint()
    Project.objects.filter(pk=project.pk).update(description="changed")
    after_update = fingerprint()
    assert after_update["portfolio.Project"] != before["portfolio.Project"]
    group = accounts.group_create(actor=owner, name="New")
    after_create = fingerprint()
    assert after_create["accounts.Group"][:2] == (1, group.pk)
    assert after_create["changelog.ChangeEvent"] != after_update["changelog.ChangeEvent"]
    Group.objects.filter(pk=group.pk).soft_delete()
    assert fingerprint()["accounts.Group"] != after_create["accounts.Group"]


# ---------------------------------------------------------------- the people and rows the requests name

@dataclass
class Cast:
    """The document's rows (``world``); callers: the workspace ``administrator``, and by their role in the
    project ``viewer``, ``member``, ``scheduler`` and ``manager`` (Admin), and ``outsider``, in none of it; rows
    some of them cannot see: ``hidden``, a project only ``outsider`` is in, and ``locked``, a locked person;
    ``missing``, an id no row has."""

    world: seed.World
    callers: dict[str, Beebole]
    hidden: Project
    locked: User
    company_field: CustomField
    missing: int

    def __getitem__(self, name: str) -> Beebole:
        return self.callers[name]


@pytest.fixture
def cast(owner, outsider) -> Cast:
    world = seed.make_world(owner)
    callers = {"administrator": Beebole(owner), "outsider": Beebole(outsider)}
    # The project's Admins are Beebole's managers.
    for role, name in ((Role.VIEWER, "viewer"), (Role.MEMBER, "member"), (Role.SCHEDULER, "scheduler"),
                       (Role.ADMIN, "manager")):
        user = make_user(f"{name}-of-development", full_name=f"{role.label} Person")
        portfolio.membership_add(actor=owner, project=world.project, user=user, role=role)
        callers[name] = Beebole(user)
    hidden = make_project(outsider, "Hidden")
    locked = accounts.person_create(actor=owner, full_name="Lee Locked", email="lee@example.com")
    accounts.user_set_active(actor=owner, user=locked, active=False)
    company_field = custom_field_create(actor=owner, name="size", applies_to=AppliesTo.COMPANY,
                                        format=FieldFormat.INTEGER)
    # An id no row of any table has.
    missing = 10 ** 9
    return Cast(world=world, callers=callers, hidden=hidden, locked=locked, company_field=company_field,
                missing=missing)


def send(caller: Beebole, body) -> str:
    """The error message of ``body`` sent by ``caller``, checked to change nothing."""
    before = fingerprint()
    message = error_message(caller.raw(body))
    assert fingerprint() == before
    return message


# ---------------------------------------------------------------- the body itself

@pytest.mark.parametrize("name", ["project.explode", "Project.get", "project", "project.get ", "", ".", "x" * 500])
def test_an_unknown_service_is_named(bb, name):
    message = send(bb, {"service": name, "id": 1})
    assert message.startswith("Invalid service request: unknown service ")
    shown = name if len(name) <= MAX_SERVICE_NAME else name[:MAX_SERVICE_NAME] + "..."
    assert message == f"Invalid service request: unknown service {shown!r}."


@pytest.mark.parametrize("body", [b"[]", b'[{"service": "company.list"}]', b'"company.list"', b"42", b"null", b"true"],
                         ids=["empty list", "list", "string", "number", "null", "boolean"])
def test_a_body_that_is_not_an_object(bb, body):
    assert send(bb, body) == INVALID_BODY


@pytest.mark.parametrize("service", [5, None, True, ["project.get"], {"name": "project.get"}, 1.5])
def test_a_service_that_is_not_text(bb, service):
    assert send(bb, {"service": service, "id": 1}) == SERVICE_NOT_TEXT


@pytest.mark.parametrize("body", [{}, {"id": 1}, {"Service": "company.list"}])
def test_a_body_without_service(bb, body):
    assert send(bb, body) == NO_SERVICE


@pytest.mark.parametrize("body", [
    b"{bad", b'{"service": "project.get", "id": 1', b'{"service": "project.get",}', b"{'service': 'company.list'}",
    b'{"service": "company.list"} trailing', b"\xff\xfe{}", b'{"service": "company.list", "id": NaN}',
], ids=["not json", "unclosed", "trailing comma", "single quotes", "trailing text", "not utf-8", "NaN"])
def test_malformed_json(bb, body):
    assert send(bb, body) == INVALID_BODY


def test_json_nested_too_deep_is_refused_before_any_service(bb):
    body = b'{"service": "company.list", "x": ' + b"[" * 100 + b"]" * 100 + b"}"
    message = error_message(bb.raw(body), status=400)
    assert "nested more than" in message


@override_settings(KEELPLAN_MAX_BODY_BYTES=2000)
def test_a_body_too_large_is_refused_in_the_envelope(bb, cast):
    body = {"service": "project.create", "project": {"name": "x", "description": "d" * 5000,
                                                     "company": {"id": cast.world.company.pk}}}
    before = fingerprint()
    message = error_message(bb.raw(body), status=413)
    assert "larger than" in message
    assert fingerprint() == before


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_only_post_is_served(bb, method):
    before = fingerprint()
    response = bb.client.generic(method.upper(), URL, b'{"service": "company.list"}', content_type="application/json")
    assert error_message(response, status=405) == f"The service API takes POST only, not {method.upper()}."
    assert "POST" in response["Allow"]
    assert fingerprint() == before


# ---------------------------------------------------------------- credentials

def _basic(user_part: str) -> str:
    return "Basic " + base64.b64encode(f"{user_part}:x".encode()).decode()


def _revoked(user) -> str:
    token, raw = accounts.api_token_create(user=user)
    accounts.api_token_revoke(token=token)
    return _basic(raw)


def _locked_users_token(owner) -> str:
    user = make_user("soon-locked")
    _, raw = accounts.api_token_create(user=user)
    accounts.user_set_active(actor=owner, user=user, active=False)
    return _basic(raw)


CREDENTIALS: dict[str, Callable | None] = {
    "none": None,
    "wrong token": lambda owner: _basic("kp_" + "A" * 43),
    "not a token": lambda owner: _basic("owner"),
    "empty user": lambda owner: _basic(""),
    "revoked token": lambda owner: _revoked(owner),
    "a locked person's token": _locked_users_token,
    "not base64": lambda owner: "Basic !!!not-base64!!!",
    "wrong bearer": lambda owner: "Bearer kp_" + "B" * 43,
}


@pytest.mark.parametrize("credentials", list(CREDENTIALS))
def test_without_a_valid_token_the_answer_is_401_in_the_envelope(owner, credentials):
    client = APIClient()
    make = CREDENTIALS[credentials]
    if make is not None:
        client.credentials(HTTP_AUTHORIZATION=make(owner))
    before = fingerprint()
    response = client.post(URL, {"service": "company.create", "company": {"name": "Sneaky"}}, format="json")
    message = error_message(response, status=401)
    assert response["WWW-Authenticate"] == 'Basic realm="Beebole API"'
    if credentials == "none":
        assert message.startswith("Authentication required: send your API token as the Basic user name")
    else:
        assert message == "Invalid or revoked API token."
    assert fingerprint() == before
    assert not Company.objects.filter(name="Sneaky").exists()


def test_a_bad_body_without_a_token_is_still_401(owner):
    assert error_message(APIClient().post(URL, b"{bad", content_type="application/json"), status=401).startswith(
        "Authentication required")


# ---------------------------------------------------------------- curl's content type

@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain",
                                          "application/json; charset=utf-8"])
def test_a_json_body_posted_as_a_form_is_read_as_json(bb, cast, content_type):
    """Beebole's own example is ``curl -d '{"service": ...}'``, which says the body is a form."""
    body = seed.fill(seed.BY_LABEL["project.create"].request, cast.world.ids)
    response = bb.raw(json.dumps(body).encode(), content_type=content_type)
    assert response.status_code == 200 and response.json()["status"] == "ok", response.content
    assert Project.objects.get(pk=response.json()["id"]).company_id == cast.world.company.pk
    read = bb.raw(json.dumps({"service": "project.get", "id": response.json()["id"]}), content_type=content_type)
    assert read.json()["project"]["name"] == seed.PROJECT_NAME


def test_a_form_body_that_is_not_json_is_refused_in_the_envelope(bb):
    response = bb.raw(b"service=company.list", content_type="application/x-www-form-urlencoded")
    assert error_message(response) == INVALID_BODY


# ---------------------------------------------------------------- fields

def _p(cast: Cast) -> int:
    return cast.world.project.pk


# (service, body beyond the service, the message) -- each a field left out.
MISSING = {
    "project": ("project.create", lambda c: {}, "Missing field: project."),
    "project.name": ("project.create", lambda c: {"project": {"company": {"id": c.world.company.pk}}},
                     "Missing field: project.name."),
    "project.company": ("project.create", lambda c: {"project": {"name": "N"}}, "Missing field: project.company."),
    "project.company.id": ("project.create", lambda c: {"project": {"name": "N", "company": {}}},
                           "Missing field: project.company.id."),
    "id": ("project.get", lambda c: {}, "Missing field: id."),
    "project.id": ("project.update", lambda c: {"project": {"name": "N"}}, "Missing field: project.id."),
    "task": ("project.attach_specific_task", lambda c: {"id": _p(c)}, "Missing field: task."),
    "task.id": ("project.detach_specific_task", lambda c: {"id": _p(c), "task": {}}, "Missing field: task.id."),
    "person or group": ("project.attach_member", lambda c: {"id": _p(c)},
                        'Missing field: give person or group (one of them), as {"person": {"id": 1}}.'),
    "person": ("project.attach_manager", lambda c: {"id": _p(c)}, "Missing field: person."),
    "group": ("project.add_group", lambda c: {"id": _p(c)}, "Missing field: group."),
    "customField": ("project.set_custom_field_value", lambda c: {"id": _p(c)}, "Missing field: customField."),
    "customField.value": ("project.set_custom_field_value",
                          lambda c: {"id": _p(c), "customField": {"id": c.world.custom_field.pk}},
                          "Missing field: customField.value."),
    "customField.id": ("project.clear_custom_field_value", lambda c: {"id": _p(c), "customField": {}},
                       "Missing field: customField.id."),
}


@pytest.mark.parametrize("field", list(MISSING))
def test_a_missing_field_is_named(cast, field):
    service, body, expected = MISSING[field]
    assert send(cast["administrator"], {"service": service, **body(cast)}) == expected


def _create(**project) -> Callable[[Cast], dict]:
    return lambda c: {"project": {"name": "N", "company": {"id": c.world.company.pk}, **project}}


# (service, body, the message) -- each a field of the wrong type or form.
ILL_TYPED = {
    "id as a string": ("project.get", lambda c: {"id": str(_p(c))},
                       "Invalid field id: expected an integer, got a string."),
    "id as a boolean": ("project.get", lambda c: {"id": True}, "Invalid field id: expected an integer, got a boolean."),
    "id as a fraction": ("project.get", lambda c: {"id": 1.5}, "Invalid field id: expected an integer, got a number."),
    "id as null": ("project.get", lambda c: {"id": None}, "Invalid field id: expected an integer, got null."),
    "id as a list": ("project.get", lambda c: {"id": [_p(c)]}, "Invalid field id: expected an integer, got a list."),
    "id as an object": ("project.deactivate", lambda c: {"id": {"id": _p(c)}},
                        "Invalid field id: expected an integer, got an object."),
    "id zero": ("project.get", lambda c: {"id": 0}, "Invalid field id: an id is a positive integer."),
    "id negative": ("project.activate", lambda c: {"id": -3}, "Invalid field id: an id is a positive integer."),
    "id beyond 64 bits": ("project.get", lambda c: {"id": 2 ** 64}, "Invalid field id: expected an integer, got a "
                          "number."),
    "project as text": ("project.create", lambda c: {"project": "Development"},
                        "Invalid field project: expected an object, got a string."),
    "name as an object": ("project.create", _create(name={"text": "Development"}),
                          "Invalid field project.name: expected a string, got an object."),
    "name as a number": ("project.create", _create(name=42),
                         "Invalid field project.name: expected a string, got an integer."),
    "description as a list": ("project.create", _create(description=["a"]),
                              "Invalid field project.description: expected a string, got a list."),
    "name as null": ("project.create", _create(name=None),
                     "Invalid field project.name: expected a string, got null."),
    "startDate in another order": ("project.create", _create(startDate="13/10/2017"),
                                   "Invalid field project.startDate: '13/10/2017' is not a date (YYYY-MM-DD)."),
    "startDate that is no day": ("project.create", _create(startDate="2017-02-30"),
                                 "Invalid field project.startDate: '2017-02-30' is not a date (YYYY-MM-DD)."),
    "startDate empty": ("project.update", lambda c: {"project": {"id": _p(c), "startDate": ""}},
                        "Invalid field project.startDate: '' is not a date (YYYY-MM-DD)."),
    "startDate as a number": ("project.create", _create(startDate=20171013),
                              "Invalid field project.startDate: expected a date (YYYY-MM-DD), got an integer."),
    "company as text": ("project.create", lambda c: {"project": {"name": "N", "company": str(c.world.company.pk)}},
                        'Invalid field project.company: expected an object such as {"id": 1}, got a string.'),
    "company id as text": ("project.create",
                           lambda c: {"project": {"name": "N", "company": {"id": str(c.world.company.pk)}}},
                           "Invalid field project.company.id: expected an integer, got a string."),
    "person id as a boolean": ("project.attach_member", lambda c: {"id": _p(c), "person": {"id": True}},
                               "Invalid field person.id: expected an integer, got a boolean."),
    "person as null": ("project.attach_manager", lambda c: {"id": _p(c), "person": None},
                       'Invalid field person: expected an object such as {"id": 1}, got null.'),
    "task as a bare id": ("project.attach_specific_task", lambda c: {"id": _p(c), "task": c.world.task.pk},
                          'Invalid field task: expected an object such as {"id": 1}, got an integer.'),
    "group id as text": ("project.add_group", lambda c: {"id": _p(c), "group": {"id": "US"}},
                         "Invalid field group.id: expected an integer, got a string."),
    "person and group": ("project.attach_member",
                         lambda c: {"id": _p(c), "person": {"id": c.world.person.pk},
                                    "group": {"id": c.world.group.pk}},
                         "Invalid request: give person or group, not both."),
    "customField as text": ("project.set_custom_field_value", lambda c: {"id": _p(c), "customField": "location"},
                            "Invalid field customField: expected an object, got a string."),
    "custom value as an object": ("project.set_custom_field_value",
                                  lambda c: {"id": _p(c), "customField": {"id": c.world.custom_field.pk,
                                                                          "value": {"text": "Provo"}}},
                                  "customField: Must be text."),
    "custom value too long": ("project.set_custom_field_value",
                              lambda c: {"id": _p(c), "customField": {"id": c.world.custom_field.pk,
                                                                      "value": "x" * 256}},
                              "customField: At most 255 characters."),
    "name too long": ("project.create", _create(name="x" * 256), "project.name: At most 255 characters."),
    "name blank": ("project.update", lambda c: {"project": {"id": _p(c), "name": "   "}}, "project.name: "),
}


@pytest.mark.parametrize("case", list(ILL_TYPED))
def test_an_ill_typed_field_is_named(cast, case):
    service, body, expected = ILL_TYPED[case]
    message = send(cast["administrator"], {"service": service, **body(cast)})
    assert message.startswith(expected) if expected.endswith(": ") else message == expected


# ---------------------------------------------------------------- ids

# (service, body naming the id ``n``, the message) -- each an id no row has.
UNKNOWN = {
    "project": ("project.get", lambda c, n: {"id": n}, "Unknown project: no project with id {n} (id)."),
    "project of an update": ("project.update", lambda c, n: {"project": {"id": n, "name": "N"}},
                             "Unknown project: no project with id {n} (project.id)."),
    "project of a member service": ("project.members", lambda c, n: {"id": n},
                                    "Unknown project: no project with id {n} (id)."),
    "company": ("project.create", lambda c, n: {"project": {"name": "N", "company": {"id": n}}},
                "Unknown company: no company with id {n} (project.company)."),
    "company of a list": ("project.list", lambda c, n: {"company": {"id": n}},
                          "Unknown company: no company with id {n} (company)."),
    "task": ("project.attach_specific_task", lambda c, n: {"id": _p(c), "task": {"id": n}},
             "Unknown task: no task with id {n} (task)."),
    "person": ("project.attach_member", lambda c, n: {"id": _p(c), "person": {"id": n}},
               "Unknown person: no person with id {n} (person)."),
    "manager": ("project.attach_manager", lambda c, n: {"id": _p(c), "person": {"id": n}},
                "Unknown person: no person with id {n} (person)."),
    "group": ("project.add_group", lambda c, n: {"id": _p(c), "group": {"id": n}},
              "Unknown group: no group with id {n} (group)."),
    "group member": ("project.detach_member", lambda c, n: {"id": _p(c), "group": {"id": n}},
                     "Unknown group: no group with id {n} (group)."),
    "custom field": ("project.set_custom_field_value", lambda c, n: {"id": _p(c), "customField": {"id": n,
                                                                                                   "value": "x"}},
                     "customField: There is no custom field {n} here."),
    "parent of a subproject": ("subproject.create", lambda c, n: {"subproject": {"name": "S", "project": {"id": n}}},
                               "Unknown project: no project with id {n} (subproject.project)."),
    "id past the largest row id": ("project.get", lambda c, n: {"id": 2 ** 63 + 7},
                                   f"Unknown project: no project with id {2 ** 63 + 7} (id)."),
}


def test_an_optional_field_sent_as_null_is_as_if_left_out(bb, cast):
    pid = bb.call("project.create", project={"name": "Nulls", "startDate": None, "description": None,
                                             "company": {"id": cast.world.company.pk}})["id"]
    shown = bb.call("project.get", id=pid)["project"]
    assert (shown["startDate"], shown["description"]) == (
        timezone.localdate().replace(day=1).isoformat(), "")
    bb.call("project.update", project={"id": pid, "description": None, "name": "Still nulls"})
    shown = bb.call("project.get", id=pid)["project"]
    assert (shown["name"], shown["description"]) == ("Still nulls", "")


@pytest.mark.parametrize("case", list(UNKNOWN))
def test_an_unknown_id_is_named(cast, case):
    service, body, expected = UNKNOWN[case]
    message = send(cast["administrator"], {"service": service, **body(cast, cast.missing)})
    assert message == expected.format(n=cast.missing)


# (service, body, the message) -- each a row that exists but is not what the service needs.
NOT_THERE = {
    "a person who is not a member": ("project.detach_member",
                                     lambda c: {"id": _p(c), "person": {"id": c.world.person.pk}},
                                     "Unknown member: person {person} is not an exclusive member here."),
    "a person who is not a manager": ("project.detach_manager",
                                      lambda c: {"id": _p(c), "person": {"id": c.world.person.pk}},
                                      "Unknown manager: person {person} is not a manager of this project."),
    "a task not attached": ("project.detach_specific_task", lambda c: {"id": _p(c), "task": {"id": c.world.task.pk}},
                            "Unknown specific activity: "),
    "a group not assigned": ("project.remove_group", lambda c: {"id": _p(c), "group": {"id": c.world.group.pk}},
                             "Unknown "),
    "a company's custom field": ("project.set_custom_field_value",
                                 lambda c: {"id": _p(c), "customField": {"id": c.company_field.pk, "value": 3}},
                                 "customField: There is no custom field {company_field} here."),
}


@pytest.mark.parametrize("case", list(NOT_THERE))
def test_a_row_that_is_not_where_the_service_looks_is_named(cast, case):
    service, body, expected = NOT_THERE[case]
    message = send(cast["administrator"], {"service": service, **body(cast)})
    expected = expected.format(person=cast.world.person.pk, company_field=cast.company_field.pk)
    assert message.startswith(expected) if expected.endswith(" ") else message == expected


def _normalised(message: str, pk: int) -> str:
    """``message`` with the id ``pk`` (as a whole number, not a part of one) written ``#``."""
    return re.sub(rf"\b{pk}\b", "#", message)


# (caller, service, body naming the row ``n``) -- each a row the caller may not see, tried with its id and with an
# id no row has.
INVISIBLE = {
    "project.get": ("viewer", "project.get", lambda c, n: {"id": n}),
    "project.members": ("member", "project.members", lambda c, n: {"id": n}),
    "project.custom_fields": ("member", "project.custom_fields", lambda c, n: {"id": n}),
    "project.update": ("manager", "project.update", lambda c, n: {"project": {"id": n, "name": "N"}}),
    "project.deactivate": ("member", "project.deactivate", lambda c, n: {"id": n}),
    "project.attach_member of oneself": ("viewer", "project.attach_member",
                                         lambda c, n: {"id": n, "person": {"id": c["viewer"].user.pk}}),
    "project.attach_manager": ("member", "project.attach_manager",
                               lambda c, n: {"id": n, "person": {"id": c["member"].user.pk}}),
    "project.set_custom_field_value": ("viewer", "project.set_custom_field_value",
                                       lambda c, n: {"id": n, "customField": {"id": c.world.custom_field.pk,
                                                                              "value": "x"}}),
    "subproject.create under it": ("manager", "subproject.create",
                                   lambda c, n: {"subproject": {"name": "S", "project": {"id": n}}}),
    "project.get of the document's project by an outsider": ("outsider", "project.get", lambda c, n: {"id": n}),
}


@pytest.mark.parametrize("case", list(INVISIBLE))
def test_a_row_the_caller_cannot_see_reads_like_an_unknown_id(cast, case):
    who, service, body = INVISIBLE[case]
    caller = cast[who]
    hidden = cast.world.project.pk if who == "outsider" else cast.hidden.pk
    seen = send(caller, {"service": service, **body(cast, hidden)})
    unknown = send(caller, {"service": service, **body(cast, cast.missing)})
    assert seen.startswith("Unknown project: ")
    assert _normalised(seen, hidden) == _normalised(unknown, cast.missing)


def test_a_locked_person_reads_like_an_unknown_one_to_anyone_but_an_administrator(cast):
    member = cast["member"]
    locked = send(member, {"service": "person.get", "id": cast.locked.pk})
    unknown = send(member, {"service": "person.get", "id": cast.missing})
    assert locked.startswith("Unknown person: ")
    assert _normalised(locked, cast.locked.pk) == _normalised(unknown, cast.missing)
    # The administrator sees the locked person; adding them to a project is refused for what it is.
    assert cast["administrator"].call("person.get", id=cast.locked.pk)["person"]["active"] is False
    message = send(cast["administrator"], {"service": "project.attach_member", "id": _p(cast),
                                           "person": {"id": cast.locked.pk}})
    assert message == "person: No such active user."


# ---------------------------------------------------------------- rights

# (caller, service, body) -- each a caller who sees the row but may not do this to it.
NOT_ALLOWED = {
    "a Viewer attaching a manager": ("viewer", "project.attach_manager",
                                     lambda c: {"id": _p(c), "person": {"id": c.world.person.pk}}),
    "a Member attaching a manager": ("member", "project.attach_manager",
                                     lambda c: {"id": _p(c), "person": {"id": c.world.person.pk}}),
    "a Member making themself manager": ("member", "project.attach_manager",
                                         lambda c: {"id": _p(c), "person": {"id": c["member"].user.pk}}),
    "a Scheduler attaching a member": ("scheduler", "project.attach_member",
                                       lambda c: {"id": _p(c), "person": {"id": c.world.person.pk}}),
    # Only an Owner manages members, and managers are members at the Admin role.
    "a manager attaching a manager": ("manager", "project.attach_manager",
                                      lambda c: {"id": _p(c), "person": {"id": c.world.person.pk}}),
    "a manager letting a manager go": ("manager", "project.detach_manager",
                                       lambda c: {"id": _p(c), "person": {"id": c["manager"].user.pk}}),
    "a Member renaming the project": ("member", "project.update", lambda c: {"project": {"id": _p(c), "name": "N"}}),
    "a Viewer deactivating the project": ("viewer", "project.deactivate", lambda c: {"id": _p(c)}),
    "a Member attaching a specific task": ("member", "project.attach_specific_task",
                                           lambda c: {"id": _p(c), "task": {"id": c.world.task.pk}}),
    "a Scheduler disabling specific tasks": ("scheduler", "project.disable_specific_tasks", lambda c: {"id": _p(c)}),
    "a Member assigning a group": ("member", "project.add_group",
                                   lambda c: {"id": _p(c), "group": {"id": c.world.group.pk}}),
    "a Viewer setting a custom value": ("viewer", "project.set_custom_field_value",
                                        lambda c: {"id": _p(c), "customField": {"id": c.world.custom_field.pk,
                                                                                "value": "Provo"}}),
    "a Viewer adding a subproject": ("viewer", "subproject.create",
                                     lambda c: {"subproject": {"name": "S", "project": {"id": _p(c)}}}),
    "a plain user creating a company": ("outsider", "company.create", lambda c: {"company": {"name": "Mine"}}),
    "a plain user creating a person": ("outsider", "person.create",
                                       lambda c: {"person": {"name": "P", "company": {"id": c.world.company.pk}}}),
    "a plain user creating a task": ("outsider", "task.create",
                                     lambda c: {"task": {"name": "T", "company": {"id": c.world.company.pk}}}),
}


@pytest.mark.parametrize("case", list(NOT_ALLOWED))
def test_a_caller_without_the_right_is_error_message(cast, case):
    who, service, body = NOT_ALLOWED[case]
    message = send(cast[who], {"service": service, **body(cast)})
    assert message.startswith("Not allowed: ")
    assert len(message) > len("Not allowed: ") + 10


# ---------------------------------------------------------------- nothing changes, whatever fails

@dataclass(frozen=True)
class Bad:
    """A request that must be refused: who sends it, the body (``bytes`` as they are), what the message says, and
    the state it is tried in (``given``, done before the fingerprint is taken)."""

    caller: str
    body: Callable[[Cast], dict | bytes]
    says: str
    given: Callable[[Cast], None] | None = None
    status: int = 200


def _attach_manager(c: Cast) -> None:
    portfolio.membership_add(actor=c.world.owner, project=c.world.project, user=c.world.person, role=Role.ADMIN)


def _attach_member(c: Cast) -> None:
    portfolio.membership_add(actor=c.world.owner, project=c.world.project, user=c.world.person)


def _assign_group(c: Cast) -> None:
    categories.group_assign(actor=c.world.owner, group=c.world.group, target=c.world.project)


def _attach_task(c: Cast) -> None:
    time_services.specific_activity_attach(actor=c.world.owner, owner=c.world.project, activity=c.world.task)


def _person_body(c: Cast, **more) -> dict:
    return {"service": "person.create", "person": {"name": "Pat New", "company": {"id": c.world.company.pk},
                                                   "email": "pat@example.com", **more}}


BAD = {
    "another company's task as a specific task of the project": Bad(
        "administrator", lambda c: {"service": "project.attach_specific_task", "id": _p(c),
                                    "task": {"id": c.world.other_task.pk}},
        "task: The activity \"Elsewhere's task\" belongs to another company"),
    "another company's task as a specific task of the company": Bad(
        "administrator", lambda c: {"service": "company.attach_specific_task", "id": c.world.company.pk,
                                    "task": {"id": c.world.other_task.pk}},
        "task: The activity \"Elsewhere's task\" belongs to another company"),
    "another company's task as a specific task of a subproject": Bad(
        "administrator", lambda c: {"service": "subproject.attach_specific_task",
                                    "id": c.world.project.children.first().pk,
                                    "task": {"id": c.world.other_task.pk}},
        "task: The activity \"Elsewhere's task\" belongs to another company"),
    "a manager who does not exist": Bad(
        "administrator", lambda c: {"service": "project.attach_manager", "id": _p(c), "person": {"id": c.missing}},
        "Unknown person: no person with id"),
    "a locked manager": Bad(
        "administrator", lambda c: {"service": "project.attach_manager", "id": _p(c), "person": {"id": c.locked.pk}},
        "person: No such active user."),
    "a person created with a leader who does not exist": Bad(
        "administrator", lambda c: _person_body(c, leaders=[{"id": c.missing}]),
        "Unknown person: no person with id"),
    "a person created with a leader nobody has that e-mail": Bad(
        "administrator", lambda c: _person_body(c, leaders=[{"email": "nobody@example.com"}]),
        "Unknown person: no person with email 'nobody@example.com' (person.leaders[0].email)."),
    # person_create and person_company_set have written when user_leaders_set refuses: all of it goes.
    "a person created whose third write fails (a locked leader)": Bad(
        "administrator", lambda c: _person_body(c, leaders=[{"id": c.world.person.pk}, {"id": c.locked.pk}]),
        "person.leaders[1]: No such active person."),
    "a person updated whose leaders fail after the name changed": Bad(
        "administrator", lambda c: {"service": "person.update", "person": {
            "id": c.world.person.pk, "name": "Renamed", "email": "renamed@example.com",
            "company": {"id": c.world.other_company.pk}, "leaders": [{"id": c.locked.pk}]}},
        "person.leaders[0]: No such active person."),
    "a project created with a too-long name": Bad(
        "administrator", lambda c: {"service": "project.create", "project": {
            "name": "x" * 256, "company": {"id": c.world.company.pk}}},
        "project.name: At most 255 characters."),
    "a project created in a company that does not exist": Bad(
        "administrator", lambda c: {"service": "project.create",
                                    "project": {"name": "N", "company": {"id": c.missing}}},
        "Unknown company: no company with id"),
    "a project created with a bad date": Bad(
        "manager", lambda c: {"service": "project.create", "project": {
            "name": "N", "startDate": "2017-13-01", "company": {"id": c.world.company.pk}}},
        "Invalid field project.startDate: '2017-13-01' is not a date"),
    "a subproject under a project the caller cannot see": Bad(
        "manager", lambda c: {"service": "subproject.create", "subproject": {"name": "S",
                                                                             "project": {"id": c.hidden.pk}}},
        "Unknown project: no project with id"),
    "a subproject under a project the caller may only read": Bad(
        "viewer", lambda c: {"service": "subproject.create", "subproject": {"name": "S", "project": {"id": _p(c)}}},
        "Not allowed: "),
    "a Member trying project.update": Bad(
        "member", lambda c: {"service": "project.update", "project": {"id": _p(c), "name": "Mine now",
                                                                      "startDate": "2020-01-01"}},
        "Not allowed: "),
    "a Viewer attaching a manager": Bad(
        "viewer", lambda c: {"service": "project.attach_manager", "id": _p(c), "person": {"id": c["viewer"].user.pk}},
        "Not allowed: "),
    "a manager attaching a manager": Bad(
        "manager", lambda c: {"service": "project.attach_manager", "id": _p(c), "person": {"id": c.world.person.pk}},
        "Not allowed: "),
    "an outsider joining a project they cannot see": Bad(
        "outsider", lambda c: {"service": "project.attach_member", "id": _p(c),
                               "person": {"id": c["outsider"].user.pk}},
        "Unknown project: no project with id"),
    "a plain user creating a company": Bad(
        "outsider", lambda c: {"service": "company.create", "company": {"name": "Mine"}}, "Not allowed: "),
    "letting the last Owner go as manager": Bad(
        "administrator", lambda c: {"service": "project.detach_manager", "id": _p(c),
                                    "person": {"id": c.world.owner.pk}},
        "role: The project's last Owner cannot be demoted."),
    "removing the last Owner as member": Bad(
        "administrator", lambda c: {"service": "project.detach_member", "id": _p(c),
                                    "person": {"id": c.world.owner.pk}},
        "person: The project's last Owner cannot be removed."),
    "a member attached twice": Bad(
        "administrator", lambda c: {"service": "project.attach_member", "id": _p(c),
                                    "person": {"id": c.world.person.pk}},
        "person: ", given=_attach_member),
    "a manager attached as a plain member": Bad(
        "administrator", lambda c: {"service": "project.attach_member", "id": _p(c),
                                    "person": {"id": c.world.person.pk}},
        "person: ", given=_attach_manager),
    "a group assigned twice": Bad(
        "administrator", lambda c: {"service": "project.add_group", "id": _p(c), "group": {"id": c.world.group.pk}},
        "group: ", given=_assign_group),
    "a specific task attached twice": Bad(
        "administrator", lambda c: {"service": "project.attach_specific_task", "id": _p(c),
                                    "task": {"id": c.world.task.pk}},
        "task: The activity 'Administration' is already one of the specific activities here.", given=_attach_task),
    "a custom value too long": Bad(
        "administrator", lambda c: {"service": "project.set_custom_field_value", "id": _p(c),
                                    "customField": {"id": c.world.custom_field.pk, "value": "x" * 256}},
        "customField: At most 255 characters."),
    "a company's custom field set on a project": Bad(
        "administrator", lambda c: {"service": "project.set_custom_field_value", "id": _p(c),
                                    "customField": {"id": c.company_field.pk, "value": 3}},
        "customField: There is no custom field"),
    "a project moved to a company that does not exist": Bad(
        "administrator", lambda c: {"service": "project.update", "project": {
            "id": _p(c), "name": "Moved", "company": {"id": c.missing}}},
        "Unknown company: no company with id"),
    "a wrong token creating a project": Bad(
        "wrong token", lambda c: {"service": "project.create", "project": {
            "name": "N", "company": {"id": c.world.company.pk}}},
        "Invalid or revoked API token.", status=401),
    "malformed JSON": Bad("administrator", lambda c: b'{"service": "project.create", "project": {"name": "N"',
                          INVALID_BODY),
    "an unknown service": Bad("administrator", lambda c: {"service": "project.delete", "id": _p(c)},
                              "Invalid service request: unknown service 'project.delete'."),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_refused_request_changes_nothing(cast, case):
    bad = BAD[case]
    if bad.given is not None:
        bad.given(cast)
    caller = cast[bad.caller] if bad.caller != "wrong token" else _wrong_token(cast)
    body = bad.body(cast)
    before = fingerprint()

    response = caller.raw(body)

    message = error_message(response, status=bad.status)
    assert message.startswith(bad.says), message
    assert fingerprint() == before


def _wrong_token(cast: Cast) -> Beebole:
    caller = Beebole(cast.world.owner)
    caller.client.credentials(HTTP_AUTHORIZATION=_basic("kp_" + "C" * 43))
    return caller


def test_the_same_requests_succeed_once_the_problem_is_gone(cast):
    """The refusals above are about the problem they name: fixed, the same request goes through."""
    admin = cast["administrator"]
    admin.call("person.create", **{k: v for k, v in _person_body(cast, leaders=[{"id": cast.world.person.pk}]).items()
                                   if k != "service"})
    created = User.objects.get(email="pat@example.com")
    assert list(created.leaders.all()) == [cast.world.person]
    assert Affiliation.objects.get(user=created).company_id == cast.world.company.pk
    admin.call("project.attach_specific_task", id=_p(cast), task={"id": cast.world.task.pk})
    admin.call("project.attach_manager", id=_p(cast), person={"id": cast.world.person.pk})
    cast["manager"].call("subproject.create", subproject={"name": "S", "project": {"id": _p(cast)}})


# ---------------------------------------------------------------- every field of every documented request, spoilt

# A value of each JSON type, and numbers and texts at the edges.
SPOILERS = [None, True, "x", "", 1.5, [], [1], {}, {"id": 1}, -1, 0, 2 ** 63 + 1, "2017-10-13", "a" * 5000]


def _paths(body: dict, path: tuple = ()):
    """Every key of ``body`` at any depth but ``service``, as a path of keys."""
    for key, value in body.items():
        if path or key != "service":
            yield path + (key,)
            if isinstance(value, dict):
                yield from _paths(value, path + (key,))


def _spoilt(body: dict, path: tuple, value) -> dict:
    copy = json.loads(json.dumps(body))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


@pytest.mark.parametrize("label", list(seed.BY_LABEL))
def test_any_value_in_any_field_answers_the_envelope_and_a_refusal_changes_nothing(owner, label):
    """Each field of the documented request (and each object holding fields) replaced by each of ``SPOILERS``:
    HTTP 200 and Beebole's envelope every time, never a server error; when it is refused, nothing changed."""
    world = seed.make_world(owner)
    caller = Beebole(owner)
    body = seed.fill(seed.BY_LABEL[label].request, world.ids)
    before = fingerprint()
    for path in _paths(body):
        for value in SPOILERS:
            response = caller.raw(_spoilt(body, path, value))
            assert response.status_code == 200, (path, value, response.content[:300])
            reply = response.json()
            if reply["status"] == "error":
                assert set(reply) == {"status", "message"} and reply["message"], (path, value, reply)
                assert fingerprint() == before, (path, value, reply)
            else:
                assert reply["status"] == "ok", (path, value, reply)
                before = fingerprint()
