from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from keelplan.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (("Keelplan", {"fields": ("full_name", "workspace_role")}),)
    list_display = ("username", "full_name", "email", "workspace_role", "is_staff", "is_active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("hint", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("digest", "hint", "created_at", "last_used_at")
