from django.contrib import admin

from keelplan.core.admin import ReadOnlyAdminMixin
from keelplan.resources.models import Assignment, Resource


@admin.register(Resource)
class ResourceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "job_role", "user", "max_units", "deleted_at")
    search_fields = ("name", "email")
    raw_id_fields = ("user", "calendar", "created_by")


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("work_item", "resource", "units", "deleted_at")
    raw_id_fields = ("project", "work_item", "resource")
