"""The OpenProject v3 dialect's routes, under ``/api/v3/`` (the root itself is mounted beside them). Paths are
matched after ``paths.normalise_v3_paths`` has removed trailing and doubled slashes; any other path under the
prefix answers OpenProject's 404 ``NotFound``. Each resource module lists its own routes."""

from django.urls import re_path

from keelplan.api.v3 import (
    configuration, custom_fields, memberships, principals, projects, reference, relations, spec, time_entries,
    work_packages,
)
from keelplan.api.v3.base import NotFoundView

urlpatterns = [
    *spec.urlpatterns,
    *reference.urlpatterns,
    *principals.urlpatterns,
    *configuration.urlpatterns,
    *memberships.urlpatterns,
    *projects.urlpatterns,
    *custom_fields.urlpatterns,
    *work_packages.urlpatterns,
    *relations.urlpatterns,
    *time_entries.urlpatterns,
    re_path(r"^.*$", NotFoundView.as_view()),
]
