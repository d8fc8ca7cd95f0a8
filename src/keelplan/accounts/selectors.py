"""Reads about people: finding users to add as members."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

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
