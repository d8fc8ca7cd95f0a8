"""Who may change workspace rows (shared calendars, resources), which belong to no single project.

Only workspace administrators may: a right over rows every project depends on cannot follow from a project
role, because anyone may sign up and become the Owner of a project of their own.
"""

from __future__ import annotations

from keelplan.core.errors import PermissionDenied


def is_signed_in(actor) -> bool:
    """Whether ``actor`` is an active person who signed in (not None, not anonymous)."""
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", True)


def is_workspace_admin(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False)
                and getattr(actor, "is_workspace_admin", False))


def require_workspace_admin(actor, *, action: str) -> None:
    """PermissionDenied unless the actor is a workspace administrator. Workspace rows are visible to everyone
    signed in, so refusing with 403 (not 404) tells nobody anything they could not read."""
    if not is_workspace_admin(actor):
        raise PermissionDenied(f"Only a workspace administrator may {action}.")
