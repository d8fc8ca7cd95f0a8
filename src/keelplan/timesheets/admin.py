from django.contrib import admin

from keelplan.core.admin import ReadOnlyAdminMixin
from keelplan.timesheets.models import Activity, ActivitySelection, TimeEntry


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("spent_on", "user", "project", "work_item", "activity", "minutes", "deleted_at")
    list_filter = ("activity",)
    raw_id_fields = ("project", "work_item", "user", "activity")


# Read-only too: the services keep one active default and log each change in the workspace stream.
@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "company", "position", "is_default", "is_active")
    list_filter = ("is_active",)
    raw_id_fields = ("company",)


# Read-only: the services check who may choose which activities where, and log each change.
@admin.register(ActivitySelection)
class ActivitySelectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "project", "company", "is_enabled")
    list_select_related = ("project", "company")
    raw_id_fields = ("project", "company", "activities")
