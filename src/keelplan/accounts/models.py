"""People (the custom user model) and their API tokens, which are stored only as hashes."""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from keelplan.core.models import DomainModel


class WorkspaceRole(models.IntegerChoices):
    """What a person may do with the rows the whole workspace shares (shared calendars, resources, reference data).

    Held per person, never derived from a project role: anyone may sign up and own a project, so a project role
    says nothing about whether someone may change rows every other project depends on.
    """

    USER = 1, "User"
    ADMIN = 300, "Workspace administrator"


class PersonKind(models.TextChoices):
    """What a person is in the organisation, for people who organise time and approvals by it (Beebole's user
    group). Administration is not among them: that is ``workspace_role``, the one thing that grants rights."""

    EMPLOYEE = "employee", "Employee"
    CONTRACTOR = "contractor", "Contractor"
    PROJECT_MANAGER = "pm", "Project manager"
    TEAM_LEADER = "leader", "Team leader"


class User(AbstractUser):
    """A person who signs in. ``full_name`` is what every dialect shows; the first/last split is kept for Django.

    ``workspace_role`` decides who writes workspace rows; Django's ``is_superuser`` (the admin site) counts as
    workspace administrator too, so a superuser made with Django's own tools is never locked out.
    Invariants: no two people's logins differ only in letter case; when ``first_name`` or ``last_name`` is set,
    ``full_name`` is the two joined by a space (``accounts.services.user_update`` keeps it so).
    ``time_zone`` is the person's own preference (an IANA name; empty: none chosen). ``kind`` and ``leaders`` (the
    team leaders a person reports to; never the person themself) describe the organisation and grant nothing.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(max_length=255, blank=True)
    workspace_role = models.PositiveSmallIntegerField(choices=WorkspaceRole.choices, default=WorkspaceRole.USER)
    time_zone = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=20, choices=PersonKind.choices, default=PersonKind.EMPLOYEE)
    leaders = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="team")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(Lower("username"), name="one_user_per_login")]

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def name_parts(self) -> tuple[str, str]:
        """First and last name: Django's split when it is set, else the full name cut at its first space."""
        if self.first_name or self.last_name:
            return self.first_name, self.last_name
        first, _, last = (self.full_name or "").partition(" ")
        return first, last

    @property
    def has_admin_role(self) -> bool:
        """Whether the person holds the workspace administrator role, whether or not their account is locked."""
        return self.workspace_role >= WorkspaceRole.ADMIN or self.is_superuser

    @property
    def is_workspace_admin(self) -> bool:
        return self.is_active and self.has_admin_role


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


class Group(DomainModel):
    """A named set of people that can hold a project membership as one principal. Groups form a tree: a group's
    members include the members of its subgroups, so a membership held by "Engineering" reaches the people in
    "Engineering / Backend" too.

    Invariants: ``parent`` never loops; ``GroupAncestor`` holds, for every live group, a row per group on its
    path to the root (itself included), rewritten by the group services whenever a parent changes.
    """

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(Lower("name"),
                                               condition=models.Q(deleted_at__isnull=True),
                                               name="one_live_group_per_name")]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    """A person directly in a group. Removing someone deletes the row (the change log keeps the history)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_group_member_row")]
        indexes = [models.Index(fields=["user", "group"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class GroupAncestor(models.Model):
    """The closure of the group tree: ``ancestor`` is ``group`` itself (depth 0) or a group above it. One query
    then finds every group whose memberships reach a person."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    ancestor = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "ancestor"], name="one_group_ancestor_row")]
