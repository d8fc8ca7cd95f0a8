from django.contrib import admin

from keelplan.core.admin import ReadOnlyAdminMixin
from keelplan.customfields.models import CustomField, CustomOption, CustomValue


class CustomOptionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CustomOption
    extra = 0
    fields = ("value", "position", "is_default", "deleted_at")


@admin.register(CustomField)
class CustomFieldAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "applies_to", "format", "is_required", "is_for_all", "position", "deleted_at")
    list_filter = ("applies_to", "format")
    search_fields = ("name",)
    inlines = [CustomOptionInline]


@admin.register(CustomValue)
class CustomValueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("entity", "object_id", "custom_field", "value")
    list_filter = ("entity",)
    list_select_related = ("custom_field",)
