"""The v1 endpoint contract, declared once: a resource's test class lists its data and inherits the tests.

A subclass of :class:`EndpointContract` says where the resource lives, how to make one through the real
services, what valid create/update bodies look like and which bad bodies must be refused (with the field the
400 must name). The base then checks the behaviour every v1 endpoint owes its clients: the page envelope,
retrieve, create, PUT and PATCH with ``lock_version`` moving on, soft delete, 404s that are JSON and never
leak existence, 401 without credentials, 400s that name the field and write nothing, and 409 on a stale
``lock_version``.

"Nothing written" is checked against :func:`db_state`, a fingerprint of every domain table (row counts,
live counts, the sum of ``lock_version`` and the latest ``updated_at``) plus the change log, so a failed
request that inserted, updated or logged anything shows up as a difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, Sum
from rest_framework.test import APIClient

from keelplan.accounts.models import ApiToken
from keelplan.calendars.models import Calendar, CalendarException
from keelplan.planning.models import Dependency, WorkItem
from keelplan.portfolio.models import Membership, Project
from keelplan.resources.models import Assignment, Resource
from keelplan.scheduling.models import ProjectSchedule, ScheduleChunk
from keelplan.changelog.models import ChangeEvent, ChangeStream

from conftest import client_for

DOMAIN_MODELS = (Project, Membership, WorkItem, Dependency, Calendar, CalendarException, Resource, Assignment)
ENVELOPE_KEYS = {"count", "next", "previous", "results"}
# Ids no row has: one inside the routed range (1-18 digits), one at its top, and path segments the router refuses.
ABSENT_ID = 999_999_999
TOP_ROUTED_ID = 999_999_999_999_999_999
UNROUTABLE_IDS = ("abc", "1.5", "-1", "99999999999999999999", "0x10")


# ---------------------------------------------------------------- helpers any test may use



def db_state() -> dict:
    """A fingerprint of everything a request could write; equal before and after means nothing was written."""
    state: dict = {}
    for model in DOMAIN_MODELS:
        state[model.__name__] = model.all_objects.aggregate(
            rows=Count("id"), live=Count("id", filter=Q(deleted_at__isnull=True)),
            versions=Sum("lock_version"), touched=Max("updated_at"),
        )
    state["User"] = get_user_model().objects.aggregate(rows=Count("id"), active=Count("id", filter=Q(is_active=True)))
    state["ApiToken"] = ApiToken.objects.aggregate(rows=Count("id"), revoked=Count("revoked_at"))
    state["ChangeEvent"] = ChangeEvent.objects.count()
    state["ChangeStream"] = ChangeStream.objects.aggregate(rows=Count("id"), seq=Sum("last_seq"))
    state["ProjectSchedule"] = ProjectSchedule.objects.aggregate(rows=Count("pk"), versions=Sum("version"),
                                                                 computed=Max("computed_at"))
    state["ScheduleChunk"] = ScheduleChunk.objects.aggregate(rows=Count("id"), versions=Sum("version"))
    return state


def assert_nothing_written(before: dict, what: str = "") -> None:
    after = db_state()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"{what}: a refused request wrote to the database: {changed}"


def json_body(response) -> dict | list:
    """The response body, which must be JSON (an HTML error page is a contract breach)."""
    content_type = response.get("Content-Type", "")
    assert content_type.startswith("application/json"), (response.status_code, content_type, response.content[:200])
    return json.loads(response.content)


def names_field(body, field: str) -> bool:
    """True when an error body points at ``field`` as a key of its field map (``{"field": ["msg"]}``)."""
    return isinstance(body, dict) and field in body and bool(body[field])


def assert_error(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    body = json_body(response)
    assert response.status_code == status, (response.status_code, body)
    if field is not None:
        assert names_field(body, field), f"the {status} body does not name {field!r}: {body}"
    if code is not None:
        assert isinstance(body, dict) and body.get("code") == code, f"expected code {code!r}: {body}"
    return body


def same(sent, got) -> bool:
    """Whether a response value reflects what was sent: dicts as subsets, lists item by item, numbers by value
    (``1.5`` and ``"1.50"`` are the same decimal)."""
    if isinstance(sent, dict):
        return isinstance(got, dict) and all(k in got and same(v, got[k]) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(got, list) and len(sent) == len(got) and all(same(a, b) for a, b in zip(sent, got))
    if isinstance(sent, bool) or isinstance(got, bool):
        return sent == got
    if isinstance(sent, (int, float, Decimal)) or (isinstance(sent, str) and isinstance(got, (int, float))):
        try:
            return Decimal(str(sent)) == Decimal(str(got))
        except (InvalidOperation, ValueError):
            return False
    if isinstance(sent, str) and isinstance(got, str) and _is_decimal(sent) and _is_decimal(got):
        return Decimal(sent) == Decimal(got)
    return sent == got


def _is_decimal(text: str) -> bool:
    return text.replace(".", "", 1).removeprefix("-").isdigit()


def send_raw(client: APIClient, method: str, url: str, raw: bytes | str):
    """A request whose body is sent exactly as given (for malformed JSON and non-object bodies)."""
    return client.generic(method, url, raw, content_type="application/json")


def result_ids(client: APIClient, url: str, **params) -> list[int]:
    response = client.get(url, {"page_size": 500, **params})
    body = json_body(response)
    assert response.status_code == 200, body
    return [row["id"] for row in body["results"]]


@dataclass
class Ctx:
    """The people and project every contract test starts from (all made through the real services)."""

    owner: object
    project: Project
    members: dict
    outsider: object
    api: APIClient

    def client(self, user) -> APIClient:
        return client_for(user)

    @property
    def anonymous(self) -> APIClient:
        return APIClient()


# ---------------------------------------------------------------- the contract

class EndpointContract:
    """Subclass, set the data below and name the class ``Test<Resource>``; the tests come with it."""

    #: the model behind the endpoint (rows are counted through ``all_objects``)
    model: type = None
    #: the collection path, e.g. ``/api/v1/tasks/`` (override :meth:`list_url` for nested routes)
    list_path: str = ""
    #: the ``ChangeEvent.entity`` the services log this resource under
    change_entity: str = ""
    #: keys every retrieve body must carry
    detail_fields: tuple[str, ...] = ("id", "lock_version")
    #: project-scoped rows are invisible (404) to non-members; workspace rows are readable by everyone
    project_scoped: bool = True

    # -- data each resource provides ------------------------------------------------------------

    def make(self, ctx: Ctx):
        """Create one instance through the services."""
        raise NotImplementedError

    def create_payloads(self, ctx: Ctx) -> list[dict]:
        raise NotImplementedError

    def put_payload(self, ctx: Ctx, obj) -> dict:
        raise NotImplementedError

    def patch_payloads(self, ctx: Ctx, obj) -> list[dict]:
        raise NotImplementedError

    def bad_create_payloads(self, ctx: Ctx) -> list[tuple[dict, str]]:
        """``(body, field)`` pairs: each body must get a 400 that names ``field``."""
        raise NotImplementedError

    def bad_update_payloads(self, ctx: Ctx, obj) -> list[tuple[dict, str]]:
        """``(body, field)`` pairs for PATCH. The lock_version checks are added by the base."""
        raise NotImplementedError

    def writer(self, ctx: Ctx):
        """The user the write tests act as (the project's Owner unless told)."""
        return ctx.owner

    def list_url(self, ctx: Ctx) -> str:
        return self.list_path

    def detail_url(self, ctx: Ctx, pk) -> str:
        return f"{self.list_url(ctx)}{pk}/"

    def reflected(self, payload: dict) -> dict:
        """The part of a request body the response must echo (write-only keys can be dropped here)."""
        return {k: v for k, v in payload.items() if k != "lock_version"}

    # -- fixtures --------------------------------------------------------------------------------

    @pytest.fixture
    def ctx(self, owner, project, members, outsider, api) -> Ctx:
        return Ctx(owner=owner, project=project, members=members, outsider=outsider, api=api)

    @pytest.fixture
    def obj(self, ctx):
        return self.make(ctx)

    @pytest.fixture
    def writer_client(self, ctx) -> APIClient:
        return ctx.client(self.writer(ctx))

    # -- list and retrieve -----------------------------------------------------------------------

    def test_list_returns_envelope_with_instance(self, ctx, obj, writer_client):
        response = writer_client.get(self.list_url(ctx))
        body = json_body(response)
        assert response.status_code == 200, body
        assert set(body) == ENVELOPE_KEYS
        assert isinstance(body["count"], int) and body["count"] >= 1
        assert obj.pk in [row["id"] for row in body["results"]]
        if body["next"] is None:
            assert body["count"] == len(body["results"])

    def test_retrieve_returns_fields(self, ctx, obj, writer_client):
        response = writer_client.get(self.detail_url(ctx, obj.pk))
        body = json_body(response)
        assert response.status_code == 200, body
        assert body["id"] == obj.pk
        missing = set(self.detail_fields) - set(body)
        assert not missing, f"retrieve lacks {sorted(missing)}"
        assert body["lock_version"] == obj.lock_version

    # -- create ----------------------------------------------------------------------------------

    def test_create_returns_201_and_row_exists(self, ctx, writer_client):
        for payload in self.create_payloads(ctx):
            response = writer_client.post(self.list_url(ctx), payload, format="json")
            body = json_body(response)
            assert response.status_code == 201, (payload, body)
            assert same(self.reflected(payload), body), (payload, body)
            assert self.model.objects.filter(pk=body["id"]).exists()
            assert ChangeEvent.objects.filter(entity=self.change_entity, entity_id=body["id"], action="created").exists()
            reread = json_body(writer_client.get(self.detail_url(ctx, body["id"])))
            assert same(self.reflected(payload), reread), (payload, reread)
            assert body["lock_version"] == 0

    # -- update ----------------------------------------------------------------------------------

    def test_put_updates_and_bumps_lock_version(self, ctx, obj, writer_client):
        url = self.detail_url(ctx, obj.pk)
        version = json_body(writer_client.get(url))["lock_version"]
        payload = self.put_payload(ctx, obj)
        response = writer_client.put(url, payload, format="json")
        body = json_body(response)
        assert response.status_code == 200, (payload, body)
        assert same(self.reflected(payload), body), (payload, body)
        reread = json_body(writer_client.get(url))
        assert same(self.reflected(payload), reread), (payload, reread)
        assert reread["lock_version"] == version + 1

    def test_patch_updates_and_bumps_lock_version(self, ctx, obj, writer_client):
        url = self.detail_url(ctx, obj.pk)
        for payload in self.patch_payloads(ctx, obj):
            version = json_body(writer_client.get(url))["lock_version"]
            response = writer_client.patch(url, {**payload, "lock_version": version}, format="json")
            body = json_body(response)
            assert response.status_code == 200, (payload, body)
            assert same(self.reflected(payload), body), (payload, body)
            reread = json_body(writer_client.get(url))
            assert same(self.reflected(payload), reread), (payload, reread)
            assert reread["lock_version"] == version + 1
            assert ChangeEvent.objects.filter(entity=self.change_entity, entity_id=obj.pk, action="updated").exists()

    def test_stale_lock_version_is_409_and_changes_nothing(self, ctx, obj, writer_client):
        url = self.detail_url(ctx, obj.pk)
        first, *rest = self.patch_payloads(ctx, obj)
        old = json_body(writer_client.get(url))["lock_version"]
        assert writer_client.patch(url, {**first, "lock_version": old}, format="json").status_code == 200
        current = json_body(writer_client.get(url))
        second = rest[0] if rest else self.put_payload(ctx, obj)
        before = db_state()
        response = writer_client.patch(url, {**second, "lock_version": old}, format="json")
        body = assert_error(response, 409, field="lock_version", code="stale_lock_version")
        assert body.get("current_lock_version") == current["lock_version"]
        assert_nothing_written(before, "stale PATCH")
        assert json_body(writer_client.get(url)) == current

    # -- delete ----------------------------------------------------------------------------------

    def test_delete_is_soft_and_hides_the_row(self, ctx, obj, writer_client):
        url = self.detail_url(ctx, obj.pk)
        response = writer_client.delete(url)
        assert response.status_code == 204, response.content
        assert response.content == b""
        assert_error(writer_client.get(url), 404)
        assert obj.pk not in result_ids(writer_client, self.list_url(ctx))
        row = self.model.all_objects.get(pk=obj.pk)
        assert row.deleted_at is not None
        assert ChangeEvent.objects.filter(entity=self.change_entity, entity_id=obj.pk, action="deleted").exists()
        assert_error(writer_client.delete(url), 404)
        assert_error(writer_client.patch(url, {}, format="json"), 404)

    # -- not found -------------------------------------------------------------------------------

    def test_unknown_ids_are_json_404(self, ctx, obj, writer_client):
        before = db_state()
        for pk in (ABSENT_ID, TOP_ROUTED_ID, *UNROUTABLE_IDS):
            url = self.detail_url(ctx, pk)
            assert_error(writer_client.get(url), 404)
            assert_error(writer_client.put(url, self.put_payload(ctx, obj), format="json"), 404)
            assert_error(writer_client.patch(url, {}, format="json"), 404)
            assert_error(writer_client.delete(url), 404)
        assert_nothing_written(before, "unknown ids")

    # -- authentication and visibility -------------------------------------------------------------

    def test_unauthenticated_is_json_401(self, ctx, obj):
        anonymous = ctx.anonymous
        url = self.detail_url(ctx, obj.pk)
        payload = self.create_payloads(ctx)[0]
        before = db_state()
        for response in (
            anonymous.get(self.list_url(ctx)),
            anonymous.get(url),
            anonymous.post(self.list_url(ctx), payload, format="json"),
            anonymous.put(url, self.put_payload(ctx, obj), format="json"),
            anonymous.patch(url, self.patch_payloads(ctx, obj)[0], format="json"),
            anonymous.delete(url),
        ):
            body = assert_error(response, 401)
            assert "detail" in body
            assert response.get("WWW-Authenticate", "").startswith("Bearer")
        assert_nothing_written(before, "unauthenticated")

    def test_outsider_visibility(self, ctx, obj):
        """Project rows do not exist for non-members (404, never 403); workspace rows are readable by all."""
        outsider = ctx.client(ctx.outsider)
        url = self.detail_url(ctx, obj.pk)
        if not self.project_scoped:
            assert json_body(outsider.get(url))["id"] == obj.pk
            assert obj.pk in result_ids(outsider, self.list_url(ctx))
            return
        before = db_state()
        assert_error(outsider.get(url), 404)
        assert_error(outsider.put(url, self.put_payload(ctx, obj), format="json"), 404)
        assert_error(outsider.patch(url, self.patch_payloads(ctx, obj)[0], format="json"), 404)
        assert_error(outsider.delete(url), 404)
        list_response = outsider.get(self.list_url(ctx))
        if list_response.status_code == 200:
            assert obj.pk not in [row["id"] for row in json_body(list_response)["results"]]
        else:
            assert_error(list_response, 404)
        assert_nothing_written(before, "outsider")

    # -- bad input -------------------------------------------------------------------------------

    def test_bad_create_payloads_are_400_naming_the_field(self, ctx, obj, writer_client):
        cases = self.bad_create_payloads(ctx)
        assert cases, "a contract needs bad create payloads"
        before = db_state()
        for payload, field in cases:
            response = writer_client.post(self.list_url(ctx), payload, format="json")
            assert response.status_code == 400, (payload, response.status_code, response.content[:300])
            assert_error(response, 400, field=field)
        assert_nothing_written(before, "bad create payloads")

    def test_bad_update_payloads_are_400_naming_the_field(self, ctx, obj, writer_client):
        url = self.detail_url(ctx, obj.pk)
        cases = self.bad_update_payloads(ctx, obj) + [
            ({"lock_version": "two"}, "lock_version"),
            ({"lock_version": -1}, "lock_version"),
        ]
        shown = json_body(writer_client.get(url))
        before = db_state()
        for payload, field in cases:
            for method in ("patch", "put"):
                body = {**self.put_payload(ctx, obj), **payload} if method == "put" else payload
                response = getattr(writer_client, method)(url, body, format="json")
                assert response.status_code == 400, (method, body, response.status_code, response.content[:300])
                assert_error(response, 400, field=field)
        assert_nothing_written(before, "bad update payloads")
        assert json_body(writer_client.get(url)) == shown

    def test_malformed_and_non_object_bodies_are_400(self, ctx, obj, writer_client):
        url = self.detail_url(ctx, obj.pk)
        before = db_state()
        for target, method in ((self.list_url(ctx), "POST"), (url, "PATCH"), (url, "PUT")):
            assert_error(send_raw(writer_client, method, target, b'{"name": '), 400, code="malformed_json")
            assert_error(send_raw(writer_client, method, target, b"\xff\xfe{}"), 400)
            for not_an_object in (b"[]", b'["name"]', b'"text"', b"42", b"null"):
                response = send_raw(writer_client, method, target, not_an_object)
                assert response.status_code == 400, (method, not_an_object, response.status_code, response.content)
                json_body(response)
        assert_nothing_written(before, "malformed bodies")

    def test_bad_list_parameters_are_400_naming_them(self, ctx, obj, writer_client):
        for size in ("0", "1001", "-3", "ten", "99999999999999999999"):
            assert_error(writer_client.get(self.list_url(ctx), {"page_size": size}), 400, field="page_size")
        assert_error(writer_client.get(self.list_url(ctx), {"cursor": "not-a-cursor"}), 400, field="cursor")
        assert json_body(writer_client.get(self.list_url(ctx), {"page_size": "1000"}))["count"] >= 1
