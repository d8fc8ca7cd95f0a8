"""Permission-filtered reads of projects and memberships. Who may see what is ``keelplan.permissions``."""

from __future__ import annotations

from django.db.models import QuerySet

from keelplan.core.errors import InvalidInput, NotFound
from keelplan.core.validation import parse_id
from keelplan.permissions import Action, require
from keelplan.portfolio.models import Membership, Project


def project_get(*, actor, project_id, action: Action = Action.PROJECT_VIEW) -> Project:
    """The live project ``project_id`` (an id, or its identifier) if the actor may do ``action`` in it."""
    project = Project.objects.filter(pk=project_id).first() if _is_int(project_id) else None
    if project is None:
        project = Project.objects.filter(identifier=str(project_id)).first()
    if project is None:
        raise NotFound("Project not found.", entity="project")
    require(actor, action, project)
    return project


def membership_list(*, actor, project: Project, principals: str = "users") -> QuerySet:
    """The project's memberships: ``principals="users"`` the people's only (what the v1 dialect lists),
    ``"all"`` groups' too."""
    require(actor, Action.MEMBERS_VIEW, project)
    rows = Membership.objects.filter(project=project).select_related("user", "group")
    return rows.filter(user__isnull=False) if principals == "users" else rows


def _is_int(value) -> bool:
    """Whether ``value`` is a project id as ``parse_id`` reads one (ASCII digits in range), not an identifier."""
    try:
        parse_id(value, field="id")
    except InvalidInput:
        return False
    return True
