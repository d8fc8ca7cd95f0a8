"""Reads about people: finding users to add as members."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from keelplan.core.workspace import is_workspace_admin

User = get_user_model()


def user_search(*, actor, search: str = "") -> QuerySet:
    """Active people whose username or name contains ``search``, or whose e-mail address is exactly ``search``
    (every signed-in user may look). Addresses are matched whole: finding someone whose address you know is
    useful, harvesting addresses a letter at a time is not."""
    qs = User.objects.filter(is_active=True)
    term = (search or "").strip()
    if term:
        qs = qs.filter(
            Q(username__icontains=term) | Q(full_name__icontains=term) | Q(first_name__icontains=term)
            | Q(last_name__icontains=term) | Q(email__iexact=term)
        )
    return qs.order_by("id")


def users_visible(*, actor) -> QuerySet:
    """The people ``actor`` may look up by id: everyone for a workspace administrator, the active people for
    anyone else signed in (``user_search`` without a term), no one for the anonymous. Every dialect that shows
    people reads them through this."""
    if is_workspace_admin(actor):
        return User.objects.order_by("id")
    if actor is None or not getattr(actor, "is_authenticated", False):
        return User.objects.none()
    return user_search(actor=actor)
