"""The v3 configuration and the caller's preferences: their shapes (checked against the dialect's own
description), values taken from Keelplan's data and settings, the root's links to them, and preference writes
refused naming ``timeZone`` with nothing written."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from keelplan.api.v3.configuration import week_start
from keelplan.api.v3.hal import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from keelplan.calendars.models import Calendar
from keelplan.calendars.services import calendar_create, calendar_set_default

from conftest import make_user

from .conftest import HAL, assert_v3_error, v3_client
from .test_spec import conforms

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(scope="module")
def document() -> dict:
    from keelplan.api.v3.spec import document

    return document()


@pytest.fixture
def ana(db):
    return make_user("ana", full_name="Ana Lopez")


def patch(client, url, body):
    return client.patch(url, body, format="json")


# ---------------------------------------------------------------- configuration

def test_the_configuration_holds_keelplans_values(document, ana):
    answer = v3_client(ana).get("/api/v3/configuration", HTTP_HOST="plans.example.com:8443")
    body = conforms(document, answer, "GET", "/api/v3/configuration")
    assert answer["Content-Type"] == HAL
    assert body["_type"] == "Configuration"
    assert body["hostName"] == "plans.example.com:8443"
    assert body["perPageOptions"] == [DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE] == [20, 1000]
    assert body["durationFormat"] == "hours_only"
    assert body["dateFormat"] is None and body["timeFormat"] is None
    assert body["startOfWeek"] == 1   # no default calendar: Monday to Friday
    assert body["activeFeatureFlags"] == []
    assert "maximumAttachmentFileSize" not in body   # Keelplan keeps no attachments
    assert body["_links"]["self"]["href"] == "/api/v3/configuration"
    assert body["_links"]["userPreferences"]["href"] == "/api/v3/my_preferences"
    embedded = body["_embedded"]["userPreferences"]
    assert embedded["_type"] == "UserPreferences" and embedded["_links"]["user"]["href"] == f"/api/v3/users/{ana.pk}"


def test_the_page_sizes_offered_are_the_ones_lists_take(owner, ana):
    sizes = v3_client(ana).get("/api/v3/configuration").json()["perPageOptions"]
    for size in sizes:
        page = v3_client(owner).get(f"/api/v3/users?pageSize={size}").json()
        assert page["pageSize"] == size
    too_big = v3_client(owner).get(f"/api/v3/users?pageSize={max(sizes) + 1}").json()
    assert too_big["pageSize"] == max(sizes)


def test_the_week_starts_where_the_default_calendars_working_week_does(owner, ana):
    client = v3_client(ana)
    sunday_to_thursday = calendar_create(actor=owner, name="Gulf week", working_days=0b1001111)
    calendar_set_default(actor=owner, calendar=sunday_to_thursday)
    assert client.get("/api/v3/configuration").json()["startOfWeek"] == 7
    every_day = calendar_create(actor=owner, name="Round the clock", working_days=0b1111111)
    calendar_set_default(actor=owner, calendar=every_day)
    assert Calendar.workspace_default() == every_day
    assert client.get("/api/v3/configuration").json()["startOfWeek"] is None


@pytest.mark.parametrize("mask, start", [
    (0b0011111, 1),   # Monday to Friday
    (0b1001111, 7),   # Sunday to Thursday
    (0b0111110, 2),   # Tuesday to Saturday
    (0b1100000, 6),   # the weekend only
    (0b0000100, 3),   # Wednesday alone
    (0b1111111, None),
    (0b0010101, None),   # Monday, Wednesday, Friday: no one start
])
def test_week_start(mask, start):
    assert week_start(mask) == start


def test_the_configuration_needs_credentials():
    assert_v3_error(APIClient().get("/api/v3/configuration"), 401, "Unauthenticated")


def test_the_configuration_is_read_only(ana):
    answer = v3_client(ana).patch("/api/v3/configuration", {"startOfWeek": 3}, format="json")
    assert answer.status_code == 405


# ---------------------------------------------------------------- the root links them

def test_the_root_links_configuration_and_preferences(document, ana):
    answer = v3_client(ana).get("/api/v3")
    body = conforms(document, answer, "GET", "/api/v3")
    assert body["_links"]["configuration"]["href"] == "/api/v3/configuration"
    assert body["_links"]["userPreferences"]["href"] == "/api/v3/my_preferences"
    client = v3_client(ana)
    for name in ("configuration", "userPreferences"):
        assert client.get(body["_links"][name]["href"]).status_code == 200


# ---------------------------------------------------------------- my preferences

def test_my_preferences_show_no_time_zone_until_one_is_chosen(document, ana):
    answer = v3_client(ana).get("/api/v3/my_preferences")
    body = conforms(document, answer, "GET", "/api/v3/my_preferences")
    assert body["_type"] == "UserPreferences" and body["timeZone"] is None
    assert body["_links"]["self"]["href"] == "/api/v3/my_preferences"
    assert body["_links"]["user"] == {"href": f"/api/v3/users/{ana.pk}", "title": "Ana Lopez"}
    assert body["_links"]["updateImmediately"]["href"] == "/api/v3/my_preferences"
    assert body["_links"]["updateImmediately"]["method"] == "patch"
    assert set(body) == {"_type", "timeZone", "_links"}   # no preference Keelplan does not keep


def test_a_person_sets_and_clears_their_time_zone(document, ana):
    client = v3_client(ana)
    answer = patch(client, "/api/v3/my_preferences", {"timeZone": "Europe/Berlin"})
    assert conforms(document, answer, "PATCH", "/api/v3/my_preferences")["timeZone"] == "Europe/Berlin"
    assert User.objects.get(pk=ana.pk).time_zone == "Europe/Berlin"
    assert client.get("/api/v3/my_preferences").json()["timeZone"] == "Europe/Berlin"
    assert client.get("/api/v3/configuration").json()["_embedded"]["userPreferences"]["timeZone"] == "Europe/Berlin"
    assert patch(client, "/api/v3/my_preferences", {"timeZone": None}).json()["timeZone"] is None
    assert User.objects.get(pk=ana.pk).time_zone == ""


def test_an_empty_patch_changes_nothing(ana):
    answer = patch(v3_client(ana), "/api/v3/my_preferences", {})
    assert answer.status_code == 200 and answer.json()["timeZone"] is None


def test_my_preferences_are_only_mine(owner, ana):
    patch(v3_client(ana), "/api/v3/my_preferences", {"timeZone": "Asia/Tokyo"})
    assert v3_client(owner).get("/api/v3/my_preferences").json()["timeZone"] is None
    assert User.objects.get(pk=owner.pk).time_zone == ""


@pytest.mark.parametrize("body, identifier, attribute", [
    ({"timeZone": "Mars/Olympus_Mons"}, "PropertyConstraintViolation", "timeZone"),
    ({"timeZone": "a" * 65}, "PropertyConstraintViolation", "timeZone"),
    ({"timeZone": 5}, "PropertyFormatError", "timeZone"),
    ({"timeZone": "UTC", "autoHidePopups": True}, "PropertyIsReadOnly", "autoHidePopups"),
    ({"notifications": []}, "PropertyIsReadOnly", "notifications"),
])
def test_a_bad_preference_is_422_naming_it_and_nothing_changes(document, ana, body, identifier, attribute):
    client = v3_client(ana)
    patch(client, "/api/v3/my_preferences", {"timeZone": "Europe/Paris"})
    answer = patch(client, "/api/v3/my_preferences", body)
    assert_v3_error(answer, 422, identifier, attribute=attribute)
    conforms(document, answer, "PATCH", "/api/v3/my_preferences")
    assert User.objects.get(pk=ana.pk).time_zone == "Europe/Paris"


def test_preferences_need_credentials_and_a_content_type(ana):
    assert_v3_error(APIClient().get("/api/v3/my_preferences"), 401, "Unauthenticated")
    assert_v3_error(APIClient().patch("/api/v3/my_preferences", {"timeZone": "UTC"}, format="json"), 401,
                    "Unauthenticated")
    bare = v3_client(ana).patch("/api/v3/my_preferences")
    assert bare.status_code == 406
    assert User.objects.get(pk=ana.pk).time_zone == ""
