"""Admin-site helpers shared by the apps."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """For domain rows that only services may write: the admin site shows them but cannot add, change or
    delete them, because a write there would skip the role checks, the change log and the scheduler. Use the
    API (or the services from a shell) to change them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
