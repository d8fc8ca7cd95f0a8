"""Permission-filtered reads of projects and memberships; the one place that answers "what may this actor do here"."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from keelplan.core.errors import InvalidInput, NotFound, PermissionDenied
from keelplan.core.validation import parse_id
from keelplan.portfolio.models import Membership, Project, Role


def role_in(actor, project: Project | int) -> int | None:
    """The actor's role in the project, or None when they are not a live member."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    project_id = project.pk if isinstance(project, Project) else project
    return (
        Membership.objects.filter(project_id=project_id, user_id=actor.pk, project__deleted_at__isnull=True)
        .values_list("role", flat=True)
        .first()
    )


def projects_visible(actor) -> QuerySet:
    """Live projects the actor is a member of."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Project.objects.none()
    return Project.objects.filter(
        memberships__user_id=actor.pk, memberships__deleted_at__isnull=True
    ).distinct()


def project_ids_visible(actor) -> QuerySet:
    return Membership.objects.filter(user_id=actor.pk, project__deleted_at__isnull=True).values("project_id")


def require_role(actor, project: Project, minimum: int, *, action: str) -> int:
    """The actor's role if it is at least ``minimum``; NotFound for non-members (existence does not leak),
    PermissionDenied for members whose role is too low."""
    role = role_in(actor, project)
    if role is None:
        raise NotFound("Project not found.")
    if role < minimum:
        raise PermissionDenied(
            f"Your role ({Role(role).label}) may not {action}; it needs {Role(minimum).label} or above."
        )
    return role


def project_get(*, actor, project_id, minimum: int = Role.VIEWER, action: str = "view this project") -> Project:
    """The live project ``project_id`` if the actor holds at least ``minimum`` in it."""
    project = Project.objects.filter(pk=project_id).first() if _is_int(project_id) else None
    if project is None:
        project = Project.objects.filter(identifier=str(project_id)).first()
    if project is None:
        raise NotFound("Project not found.")
    require_role(actor, project, minimum, action=action)
    return project


def membership_list(*, actor, project: Project) -> QuerySet:
    require_role(actor, project, Role.VIEWER, action="see the members")
    return Membership.objects.filter(project=project).select_related("user")


def _is_int(value) -> bool:
    """Whether ``value`` is a project id as ``parse_id`` reads one (ASCII digits in range), not an identifier."""
    try:
        parse_id(value, field="id")
    except InvalidInput:
        return False
    return True


def with_my_role(queryset: QuerySet, user) -> QuerySet:
    """``queryset`` of projects annotated with ``my_role``: ``user``'s role in each (None if not a member)."""
    role = Membership.objects.filter(project=OuterRef("pk"), user_id=user.pk).values("role")[:1]
    return queryset.annotate(my_role=Subquery(role))
