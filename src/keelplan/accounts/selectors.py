"""Reads about people: finding users to add as members."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

User = get_user_model()


def user_search(*, actor, search: str = "") -> QuerySet:
    """Active people whose username, full name or e-mail contains ``search`` (every signed-in user may look)."""
    qs = User.objects.filter(is_active=True)
    term = (search or "").strip()
    if term:
        qs = qs.filter(
            Q(username__icontains=term) | Q(full_name__icontains=term) | Q(first_name__icontains=term)
            | Q(last_name__icontains=term) | Q(email__icontains=term)
        )
    return qs.order_by("id")
