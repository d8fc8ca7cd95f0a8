from django.contrib import admin

from keelplan.core.admin import ReadOnlyAdminMixin
from keelplan.portfolio.models import (
    Affiliation, Company, CompanyMember, GroupAssignment, Membership, Project, ProjectStatus, ProjectType,
)


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "deleted_at")
    raw_id_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "identifier", "start_date", "finish_date", "deleted_at")
    search_fields = ("name", "identifier")
    raw_id_fields = ("parent", "calendar", "created_by", "company")
    inlines = [MembershipInline]


@admin.register(Company)
class CompanyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "is_corporate", "is_active", "deleted_at")
    search_fields = ("name",)
    raw_id_fields = ("created_by",)


@admin.register(ProjectType)
class ProjectTypeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "position", "is_default")


@admin.register(ProjectStatus)
class ProjectStatusAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "position")


@admin.register(Affiliation)
class AffiliationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "company", "updated_at")
    raw_id_fields = ("user", "company")


@admin.register(CompanyMember)
class CompanyMemberAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("company", "user", "group", "deleted_at")
    raw_id_fields = ("company", "user", "group")


@admin.register(GroupAssignment)
class GroupAssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("group", "company", "project", "activity", "created_at")
    raw_id_fields = ("group", "company", "project", "activity")
