from django.contrib import admin

from keelplan.calendars.models import Calendar, CalendarException
from keelplan.core.admin import ReadOnlyAdminMixin


class CalendarExceptionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CalendarException
    extra = 0
    fields = ("start", "end", "description", "is_working", "deleted_at")


@admin.register(Calendar)
class CalendarAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "working_days", "hours_per_day", "timezone", "is_default", "deleted_at")
    search_fields = ("name",)
    inlines = [CalendarExceptionInline]
