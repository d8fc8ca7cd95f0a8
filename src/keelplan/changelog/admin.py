from django.contrib import admin

from keelplan.changelog.models import ChangeEvent


@admin.register(ChangeEvent)
class ChangeEventAdmin(admin.ModelAdmin):
    list_display = ("stream", "seq", "action", "entity", "entity_id", "actor", "created_at")
    list_filter = ("action", "entity")
    readonly_fields = [f.name for f in ChangeEvent._meta.fields]
