"""``GET /api/v3``: the API root, linking the collections a client starts from."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from rest_framework.response import Response

from keelplan.api.v3.base import V3View
from keelplan.api.v3.hal import href, link

INSTANCE_NAME = "Keelplan"


def core_version() -> str:
    try:
        return version("keelplan")
    except PackageNotFoundError:
        return "0"


class RootView(V3View):
    def get(self, request):
        user = request.user
        return Response({
            "_type": "Root",
            "instanceName": INSTANCE_NAME,
            "coreVersion": core_version(),
            "_links": {
                "self": link(href(), INSTANCE_NAME),
                "configuration": link(href("configuration"), "Configuration"),
                "memberships": link(href("memberships")),
                "priorities": link(href("priorities")),
                "relations": link(href("relations")),
                "statuses": link(href("statuses")),
                "time_entries": link(href("time_entries")),
                "types": link(href("types")),
                "user": link(href("users", user.pk), user.display_name),
                "userPreferences": link(href("my_preferences"), "My preferences"),
                "workPackages": link(href("work_packages")),
                "projects": link(href("projects")),
            },
        })
