from django.contrib import admin

from keelplan.core.admin import ReadOnlyAdminMixin
from keelplan.planning.models import (
    Category,
    Color,
    Dependency,
    Priority,
    Status,
    Version,
    WorkItem,
    WorkItemType,
    Workflow,
)


@admin.register(WorkItem)
class WorkItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "project", "duration", "is_critical", "deleted_at")
    list_filter = ("is_critical", "status")
    search_fields = ("name",)
    raw_id_fields = ("project", "parent", "assignee", "author", "calendar")
    readonly_fields = ("is_critical",)


@admin.register(Dependency)
class DependencyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("predecessor", "successor", "dep_type", "lag", "lag_unit", "deleted_at")
    list_filter = ("dep_type",)
    raw_id_fields = ("project", "predecessor", "successor", "created_by")


@admin.register(Status, WorkItemType, Priority)
class ReferenceDataAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "position")


@admin.register(Color)
class ColorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "hexcode", "position")
    search_fields = ("name", "hexcode")


@admin.register(Version)
class VersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "project", "status", "sharing", "start_date", "end_date", "deleted_at")
    list_filter = ("status", "sharing")
    search_fields = ("name",)
    raw_id_fields = ("project", "created_by")


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "project", "default_assignee", "deleted_at")
    search_fields = ("name",)
    raw_id_fields = ("project", "default_assignee")


@admin.register(Workflow)
class WorkflowAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Shown only: a workflow is written through ``planning.workflows``, which logs it in the workspace stream."""

    list_display = ("type", "old_status", "new_status", "role", "scope")
    list_filter = ("type", "role", "scope")
    list_select_related = ("type", "old_status", "new_status")
