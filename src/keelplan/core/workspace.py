"""Who may change workspace-wide rows (calendars, resources), which belong to no single project."""

from __future__ import annotations

from keelplan.core.errors import PermissionDenied
from keelplan.portfolio.models import Role
from keelplan.portfolio.selectors import highest_role_anywhere


def require_workspace_role(actor, minimum: int, *, action: str) -> None:
    """Staff may always; otherwise the actor needs ``minimum`` or above in at least one live project."""
    if getattr(actor, "is_staff", False):
        return
    best = highest_role_anywhere(actor)
    if best is None or best < minimum:
        raise PermissionDenied(f"To {action} you need {Role(minimum).label} or above in at least one project.")
