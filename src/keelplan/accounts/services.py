"""Writes for people and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from keelplan.accounts.models import ApiToken, token_digest
from keelplan.core.errors import Conflict, InvalidInput
from keelplan.core.transactions import write_transaction

User = get_user_model()


@write_transaction()
def user_create(
    *, username: str, password: str, email: str = "", full_name: str = "", is_admin: bool = False
) -> User:
    """Create a person. ``is_admin`` makes a Django superuser (workspace administrator)."""
    username = (username or "").strip()
    if not username:
        raise InvalidInput("A username is required.", field="username")
    limit = User._meta.get_field("username").max_length
    if len(username) > limit:  # the validator checks characters only; the column would refuse it
        raise InvalidInput(f"Ensure this field has no more than {limit} characters.", field="username")
    try:
        User.username_validator(username)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="username") from None
    if User.objects.filter(username=username).exists():
        raise Conflict(f"A user named {username!r} already exists.", field="username", code="duplicate_user")
    user = User(username=username, email=email, full_name=full_name, is_staff=is_admin, is_superuser=is_admin)
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(f"A user named {username!r} already exists.", field="username", code="duplicate_user") from None
    return user


def api_token_create(*, user: User, name: str = "", expires_at=None) -> tuple[ApiToken, str]:
    """Issue a token. Returns the row and the raw secret, which is shown once and never stored."""
    raw = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, digest=token_digest(raw), hint=raw[:10], expires_at=expires_at
    )
    return token, raw


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The usable token row for a raw secret, or None. Records when it was last used (at most once a minute)."""
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None or not token.is_usable:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
