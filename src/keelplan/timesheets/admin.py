from django.contrib import admin

from keelplan.core.admin import ReadOnlyAdminMixin
from keelplan.timesheets.models import Activity, TimeEntry


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("spent_on", "user", "project", "work_item", "activity", "minutes", "deleted_at")
    list_filter = ("activity",)
    raw_id_fields = ("project", "work_item", "user", "activity")


# Read-only too: the services keep one active default and log each change in the workspace stream.
@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "position", "is_default", "is_active")
