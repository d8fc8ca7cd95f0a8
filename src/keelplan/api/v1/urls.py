"""Routes of the v1 (TruePPM) dialect, mounted at ``/api/v1/``."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from keelplan.api.v1 import views
from keelplan.api.v1.errors import not_found_view

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("calendars", views.CalendarViewSet, basename="calendar")
router.register("projects", views.ProjectViewSet, basename="project")
router.register(r"projects/(?P<project_pk>[0-9]{1,18})/members", views.MemberViewSet, basename="member")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("dependencies", views.DependencyViewSet, basename="dependency")
router.register("resources", views.ResourceViewSet, basename="resource")
router.register("task-resources", views.TaskResourceViewSet, basename="task-resource")
router.register("users", views.UserViewSet, basename="user")

urlpatterns = router.urls + [
    re_path(r"^projects/(?P<id>[0-9]{1,18})/tasks/bulk/$", views.TaskBulkView.as_view(), name="project-tasks-bulk"),
    # Any other path, newlines included ("." would let "%0A" through to Django's HTML 404 page).
    re_path(r"^[\s\S]*$", not_found_view),
]
