from django.contrib import admin

from keelplan.core.admin import ReadOnlyAdminMixin
from keelplan.portfolio.models import Membership, Project


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "deleted_at")
    raw_id_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "identifier", "start_date", "finish_date", "deleted_at")
    search_fields = ("name", "identifier")
    raw_id_fields = ("parent", "calendar", "created_by")
    inlines = [MembershipInline]
