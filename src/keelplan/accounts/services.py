"""Writes for people and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from keelplan.accounts.models import ApiToken, WorkspaceRole, token_digest
from keelplan.core.errors import Conflict, InvalidInput, PermissionDenied
from keelplan.core.transactions import write_transaction

User = get_user_model()


@write_transaction()
def user_create(
    *, username: str, password: str, email: str = "", full_name: str = "", is_admin: bool = False
) -> User:
    """Create a person. ``is_admin`` makes a workspace administrator (and a Django superuser, for the admin site)."""
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
    user = User(username=username, email=email, full_name=full_name, is_staff=is_admin, is_superuser=is_admin,
                workspace_role=WorkspaceRole.ADMIN if is_admin else WorkspaceRole.USER)
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


@write_transaction()
def user_set_workspace_role(*, actor, user: User, role: int) -> User:
    """Give ``user`` a workspace role. ``actor`` is a workspace administrator, or None for the operator at the
    server's command line. The last active workspace administrator cannot step down, so the workspace's
    shared rows always have someone who may change them."""
    if role not in WorkspaceRole.values:
        raise InvalidInput(f"Must be one of {', '.join(str(v) for v in WorkspaceRole.values)}.", field="workspace_role")
    if actor is not None and not getattr(actor, "is_workspace_admin", False):
        raise PermissionDenied("Only a workspace administrator may change workspace roles.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.workspace_role == role:
        return user
    if role < WorkspaceRole.ADMIN and user.workspace_role >= WorkspaceRole.ADMIN:
        others = User.objects.filter(is_active=True, workspace_role__gte=WorkspaceRole.ADMIN).exclude(pk=user.pk)
        if not others.exists():
            raise InvalidInput("The workspace needs at least one administrator.", field="workspace_role",
                               code="last_workspace_admin")
    user.workspace_role = role
    user.save(update_fields=["workspace_role"])
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
