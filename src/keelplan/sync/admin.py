from django.contrib import admin

from keelplan.sync.models import SyncBatch


@admin.register(SyncBatch)
class SyncBatchAdmin(admin.ModelAdmin):
    """Pushed batches, to see what a client sent and was answered; replay depends on them, so they are read-only."""

    list_display = ("client_batch_id", "project", "actor", "created_at")
    readonly_fields = [f.name for f in SyncBatch._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
