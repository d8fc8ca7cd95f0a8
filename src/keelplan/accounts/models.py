"""People (the custom user model) and their API tokens, which are stored only as hashes."""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class WorkspaceRole(models.IntegerChoices):
    """What a person may do with the rows the whole workspace shares (shared calendars, resources, reference data).

    Held per person, never derived from a project role: anyone may sign up and own a project, so a project role
    says nothing about whether someone may change rows every other project depends on.
    """

    USER = 1, "User"
    ADMIN = 300, "Workspace administrator"


class User(AbstractUser):
    """A person who signs in. ``full_name`` is what every dialect shows; the first/last split is kept for Django.

    ``workspace_role`` decides who writes workspace rows; Django's ``is_superuser`` (the admin site) counts as
    workspace administrator too, so a superuser made with Django's own tools is never locked out.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(max_length=255, blank=True)
    workspace_role = models.PositiveSmallIntegerField(choices=WorkspaceRole.choices, default=WorkspaceRole.USER)

    class Meta:
        ordering = ["id"]

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def is_workspace_admin(self) -> bool:
        return self.is_active and (self.workspace_role >= WorkspaceRole.ADMIN or self.is_superuser)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A long-lived secret a script uses instead of a password.

    Invariant: the raw token is never stored; only its SHA-256 digest (tokens are 192 random bits, so a
    fast hash is enough) and a short prefix so people can tell their tokens apart.
    """

    PREFIX = "kp_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now) and self.user.is_active
