from django.contrib import admin

from keelplan.calendars.models import Calendar, CalendarException


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 0
    fields = ("start", "end", "description", "is_working", "deleted_at")


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "working_days", "hours_per_day", "timezone", "deleted_at")
    search_fields = ("name",)
    inlines = [CalendarExceptionInline]
