"""The OpenProject v3 instance configuration (``/configuration``) and the caller's preferences
(``/my_preferences``), which OpenProject's root links to as ``configuration`` and ``userPreferences``.

Every value comes from Keelplan's data or the dialect's own settings, never from a constant standing in for a
setting Keelplan does not have: a format Keelplan does not choose is null ("the locale's", as in OpenProject),
and nothing is said about attachments, which Keelplan does not keep. The one preference Keelplan keeps is the
person's time zone; OpenProject serves no ``/users/{id}/preferences`` route in its published description, so
preferences are read and written at ``/my_preferences`` alone.
"""

from __future__ import annotations

from django.urls import path
from rest_framework.response import Response

from keelplan.accounts.services import user_preferences_update
from keelplan.api.v3.base import V3View
from keelplan.api.v3.errors import V3Error
from keelplan.api.v3.hal import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, action, href, link
from keelplan.api.v3.principals import user_link
from keelplan.calendars.models import MONDAY_TO_FRIDAY, Calendar

# Work and remaining work are shown in hours (``estimatedTime`` ``PT12H``), never split into days: OpenProject's
# default duration format, ``hours_only``.
DURATION_FORMAT = "hours_only"
# Preferences OpenProject keeps and Keelplan does not: a write naming one is refused rather than dropped unseen.
PREFERENCES_NOT_KEPT = ("autoHidePopups", "commentSortDescending", "dailyReminders", "disableKeyboardShortcuts",
                        "hideMail", "notifications", "warnOnLeavingUnsaved")
PREFERENCE_ATTRIBUTES = {"time_zone": "timeZone"}


def week_start(working_days: int) -> int | None:
    """The ISO week day (Monday 1 ... Sunday 7) that opens a weekly working-day mask's one run of working days,
    counting round the week: Monday for Monday to Friday, Sunday for Sunday to Thursday. None when every day
    works or the working days fall in several runs, where no day is the week's start.

    >>> week_start(0b0011111), week_start(0b1001111), week_start(0b1111111), week_start(0b0010101)
    (1, 7, None, None)
    """
    working = [bool(working_days >> day & 1) for day in range(7)]
    starts = [day + 1 for day in range(7) if working[day] and not working[day - 1]]
    return starts[0] if len(starts) == 1 else None


def _default_working_days() -> int:
    calendar = Calendar.workspace_default()
    return calendar.working_days if calendar is not None else MONDAY_TO_FRIDAY


def preferences_json(user) -> dict:
    """A person's preferences as OpenProject's ``UserPreferences`` (``timeZone`` null when none is chosen)."""
    return {
        "_type": "UserPreferences",
        "timeZone": user.time_zone or None,
        "_links": {
            "self": link(href("my_preferences"), "My preferences"),
            "user": user_link(user),
            "updateImmediately": action(href("my_preferences"), "patch", title="Update my preferences"),
        },
    }


def configuration_json(request) -> dict:
    return {
        "_type": "Configuration",
        "hostName": request.get_host(),
        "perPageOptions": [DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE],
        "durationFormat": DURATION_FORMAT,
        "dateFormat": None,
        "timeFormat": None,
        "startOfWeek": week_start(_default_working_days()),
        "activeFeatureFlags": [],
        "_links": {
            "self": link(href("configuration"), "Configuration"),
            "userPreferences": link(href("my_preferences"), "My preferences"),
        },
        "_embedded": {"userPreferences": preferences_json(request.user)},
    }


class ConfigurationView(V3View):
    """``GET /configuration``: what a client needs to know of the instance, with the caller's preferences
    embedded (OpenProject embeds them so one request gives both)."""

    def get(self, request):
        return Response(configuration_json(request))


class MyPreferencesView(V3View):
    """``GET /my_preferences``; ``PATCH`` with ``timeZone`` (an IANA name, or null for none)."""

    attributes = PREFERENCE_ATTRIBUTES

    def get(self, request):
        return Response(preferences_json(request.user))

    def patch(self, request):
        user = request.user
        body = self.body(request)
        for name in PREFERENCES_NOT_KEPT:
            if name in body:
                raise V3Error(f"Keelplan does not keep the {name} preference.", identifier="PropertyIsReadOnly",
                              attribute=name)
        if "timeZone" in body:
            user = user_preferences_update(actor=request.user, user=user, time_zone=body["timeZone"])
        return Response(preferences_json(user))


urlpatterns = [
    path("configuration", ConfigurationView.as_view()),
    path("my_preferences", MyPreferencesView.as_view()),
]
