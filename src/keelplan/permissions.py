"""Who may do what: the one implementation every service, the bulk write and offline push call.

An actor's **role in a project** is the highest of the memberships that reach them: their own, and those held by
a group they belong to. Two more rules sit here and nowhere else:

- a **workspace administrator** (staff) sees every live project and holds the Owner's rights in it;
- a **public project** is visible to everyone signed in, who read it as Viewers unless a membership gives more.

``can(actor, action, obj)`` answers without writing; ``require(actor, action, obj)`` raises the error a dialect
shows: ``NotFound`` when the actor may not even see the project (a non-member learns nothing of what exists),
``PermissionDenied`` when they may see it but their role is too low. ``ProjectAccess`` reads the role once for a
request that checks many rows (bulk writes, offline push).

Workspace rows (shared calendars, resources, reference data, custom field definitions) are written by workspace
administrators only (``Action.WORKSPACE_MANAGE``): no project role implies that right, because anyone may sign up
and own a project.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Case, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from keelplan.accounts.models import GroupAncestor, GroupMember, User
from keelplan.core.errors import NotFound, PermissionDenied
from keelplan.core.workspace import is_signed_in, is_workspace_admin, require_workspace_admin
from keelplan.planning.models import WorkItem
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.resources.models import Assignment
from keelplan.timesheets.models import TimeEntry

# What staff hold in every project.
STAFF_ROLE = Role.OWNER
# What anyone signed in holds in a public project they are not a member of.
PUBLIC_ROLE = Role.VIEWER


class Action(StrEnum):
    """Everything a role decides. The object each takes is in brackets."""

    PROJECT_VIEW = "project.view"                  # [project]
    PROJECT_UPDATE = "project.update"              # [project] settings
    PROJECT_DELETE = "project.delete"              # [project]
    SUBPROJECT_ADD = "project.add_subproject"      # [the parent project]
    MEMBERS_VIEW = "membership.view"               # [project]
    MEMBERS_MANAGE = "membership.manage"           # [project]; ranks are the membership service's rule
    WORK_ITEM_CREATE = "work_item.create"          # [project]
    WORK_ITEM_UPDATE = "work_item.update"          # [work item]: Admin any; a Member those assigned to them
    WORK_ITEM_DELETE = "work_item.delete"          # [project or work item]
    WORK_ITEMS_WRITE = "work_item.write"           # [project]: may write some rows (bulk); each row is checked too
    DEPENDENCY_MANAGE = "dependency.manage"        # [project]
    RELATION_MANAGE = "relation.manage"            # [project]: relations that do not schedule
    ASSIGNMENT_MANAGE = "assignment.manage"        # [project]
    PROJECT_CALENDAR_MANAGE = "calendar.manage"    # [project]: its own calendars
    SCHEDULE_RECOMPUTE = "schedule.recompute"      # [project]
    CHANGES_PULL = "sync.pull"                     # [project]
    CHANGES_PUSH = "sync.push"                     # [project]: what each row changes is checked row by row
    WORKSPACE_MANAGE = "workspace.manage"          # [None]: shared calendars, resources, reference data
    TIME_VIEW = "time_entry.view"                  # [project or time entry]: Member all; anyone their own
    TIME_LOG = "time_entry.log"                    # [project or time entry]: Member logs and changes their own
    TIME_MANAGE = "time_entry.manage"              # [project]: log for another member, change anyone's


# The lowest role each project action needs.
MINIMUM_ROLE: dict[Action, int] = {
    Action.PROJECT_VIEW: Role.VIEWER,
    Action.PROJECT_UPDATE: Role.ADMIN,
    Action.PROJECT_DELETE: Role.OWNER,
    Action.SUBPROJECT_ADD: Role.ADMIN,
    Action.MEMBERS_VIEW: Role.VIEWER,
    Action.MEMBERS_MANAGE: Role.OWNER,
    Action.WORK_ITEM_CREATE: Role.ADMIN,
    Action.WORK_ITEM_UPDATE: Role.MEMBER,
    Action.WORK_ITEM_DELETE: Role.ADMIN,
    Action.WORK_ITEMS_WRITE: Role.MEMBER,
    Action.DEPENDENCY_MANAGE: Role.SCHEDULER,
    Action.RELATION_MANAGE: Role.SCHEDULER,
    Action.ASSIGNMENT_MANAGE: Role.SCHEDULER,
    Action.PROJECT_CALENDAR_MANAGE: Role.ADMIN,
    Action.SCHEDULE_RECOMPUTE: Role.SCHEDULER,
    Action.CHANGES_PULL: Role.VIEWER,
    Action.CHANGES_PUSH: Role.MEMBER,
    Action.TIME_VIEW: Role.MEMBER,
    Action.TIME_LOG: Role.MEMBER,
    Action.TIME_MANAGE: Role.ADMIN,
}
# In people's words, for refusals: "Your role (Viewer) may not <phrase>; it needs Admin or above."
PHRASES: dict[Action, str] = {
    Action.PROJECT_VIEW: "view this project",
    Action.PROJECT_UPDATE: "change project settings",
    Action.PROJECT_DELETE: "delete the project",
    Action.SUBPROJECT_ADD: "add subprojects to this project",
    Action.MEMBERS_VIEW: "see the members",
    Action.MEMBERS_MANAGE: "manage members",
    Action.WORK_ITEM_CREATE: "create work items",
    Action.WORK_ITEM_UPDATE: "edit this work item",
    Action.WORK_ITEM_DELETE: "delete work items",
    Action.WORK_ITEMS_WRITE: "change work items or links",
    Action.DEPENDENCY_MANAGE: "manage dependencies",
    Action.RELATION_MANAGE: "manage relations",
    Action.ASSIGNMENT_MANAGE: "assign resources",
    Action.PROJECT_CALENDAR_MANAGE: "manage this project's calendars",
    Action.SCHEDULE_RECOMPUTE: "recompute the schedule",
    Action.CHANGES_PULL: "pull changes",
    Action.CHANGES_PUSH: "push changes",
    Action.WORKSPACE_MANAGE: "change workspace settings",
    Action.TIME_VIEW: "see other people's time",
    Action.TIME_LOG: "log time",
    Action.TIME_MANAGE: "log or change other people's time",
}
# The work item fields only an Admin may change, even on a work item assigned to the actor.
ADMIN_ONLY_WORK_ITEM_FIELDS = frozenset({"assignee", "responsible", "parent"})


def _member_rows(actor) -> QuerySet:
    """The live memberships that reach ``actor``: their own, and those of every group they are in or that
    contains a group they are in (one query with the closure table)."""
    groups = GroupAncestor.objects.filter(
        group_id__in=GroupMember.objects.filter(user_id=actor.pk).values("group_id")).values("ancestor_id")
    return Membership.objects.filter(Q(user_id=actor.pk) | Q(group_id__in=groups))


# ---------------------------------------------------------------- roles and visibility

def role_in(actor, project: Project | int) -> int | None:
    """The actor's role in a live project: the highest membership reaching them, Owner for staff, Viewer in a
    public project; None when they may not see it."""
    if not is_signed_in(actor):
        return None
    project_id = project.pk if isinstance(project, Project) else project
    if is_workspace_admin(actor):
        live = (project.deleted_at is None if isinstance(project, Project)
                else Project.objects.filter(pk=project_id).exists())
        return STAFF_ROLE if live else None
    role = (_member_rows(actor).filter(project_id=project_id, project__deleted_at__isnull=True)
            .aggregate(role=Max("role"))["role"])
    if role is not None:
        return role
    if isinstance(project, Project):
        return PUBLIC_ROLE if project.is_public and project.deleted_at is None else None
    return PUBLIC_ROLE if Project.objects.filter(pk=project_id, is_public=True).exists() else None


def project_ids_visible(actor) -> QuerySet:
    """The ids of the live projects the actor may see, as a subquery (``project_id__in=...``)."""
    if not is_signed_in(actor):
        return Project.objects.none().values("id")
    if is_workspace_admin(actor):
        return Project.objects.values("id")
    return Project.objects.filter(Q(pk__in=_member_rows(actor).values("project_id")) | Q(is_public=True)).values("id")


def projects_visible(actor) -> QuerySet:
    """The live projects the actor may see."""
    if not is_signed_in(actor):
        return Project.objects.none()
    if is_workspace_admin(actor):
        return Project.objects.all()
    return Project.objects.filter(Q(pk__in=_member_rows(actor).values("project_id")) | Q(is_public=True))


def with_my_role(queryset: QuerySet, actor) -> QuerySet:
    """``queryset`` of projects annotated with ``my_role``: the actor's role in each, as ``role_in`` gives it."""
    if is_workspace_admin(actor):
        return queryset.annotate(my_role=Value(int(STAFF_ROLE), output_field=IntegerField()))
    best = (_member_rows(actor).filter(project=OuterRef("pk")).order_by().values("project")
            .annotate(best=Max("role")).values("best")[:1])
    role = Subquery(best, output_field=IntegerField())
    return queryset.annotate(my_role=Case(
        When(is_public=True, then=Coalesce(role, Value(int(PUBLIC_ROLE)))), default=role, output_field=IntegerField()))


def project_members_q(project: Project | int) -> Q:
    """A filter on people (``User``): those with a membership of the project, their own or a group's."""
    project_id = project.pk if isinstance(project, Project) else project
    held = Membership.objects.filter(project_id=project_id)
    via_groups = GroupMember.objects.filter(group_id__in=GroupAncestor.objects.filter(
        ancestor_id__in=held.filter(group__isnull=False).values("group_id")).values("group_id")).values("user_id")
    return Q(pk__in=held.filter(user__isnull=False).values("user_id")) | Q(pk__in=via_groups)


def members_among(project: Project | int, user_ids) -> set[int]:
    """Which of ``user_ids`` are members of the project (the people a work item may be assigned to); one query."""
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return set()
    return set(User.objects.filter(project_members_q(project), pk__in=ids).values_list("pk", flat=True))


# ---------------------------------------------------------------- decisions

def _project_of(obj) -> Project | None:
    if isinstance(obj, Project):
        return obj
    return getattr(obj, "project", None)


class ProjectAccess:
    """One actor's rights in one project, the role read once; for requests that check many rows."""

    def __init__(self, actor, project: Project, role: int | None | type[...] = ...):
        self.actor, self.project = actor, project
        self.role = role_in(actor, project) if role is ... else role
        self._assigned: set[int] | None = None

    @property
    def visible(self) -> bool:
        return self.role is not None

    def prefetch_assigned(self, work_item_ids) -> None:
        """Read at once which of these work items are assigned to the actor through a resource (for a Member
        editing many rows); ``can`` then asks the database nothing more."""
        ids = list(work_item_ids)
        self._assigned = set(Assignment.objects.filter(
            work_item_id__in=ids, resource__user_id=self.actor.pk).values_list("work_item_id", flat=True)) if ids else set()

    def _assigned_to_actor(self, item: WorkItem) -> bool:
        if item.assignee_id == self.actor.pk:
            return True
        if self._assigned is not None and item.pk in self._assigned:
            return True
        if self._assigned is None and item.pk is not None:
            return item.assignments.filter(resource__user_id=self.actor.pk).exists()
        return False

    def _deciding(self, action: Action, obj) -> Action:
        """The action whose minimum role decides ``action`` on ``obj``: anyone who sees a project sees their own
        time entries in it, and only those who manage time change someone else's."""
        if isinstance(obj, TimeEntry) and action in (Action.TIME_VIEW, Action.TIME_LOG):
            own = obj.user_id == self.actor.pk
            if action == Action.TIME_VIEW and own:
                return Action.PROJECT_VIEW
            if action == Action.TIME_LOG and not own:
                return Action.TIME_MANAGE
        return action

    def can(self, action: Action, obj=None, *, fields=()) -> bool:
        if self.role is None:
            return False
        minimum = MINIMUM_ROLE[self._deciding(action, obj)]
        if self.role < minimum:
            return False
        if action == Action.WORK_ITEM_UPDATE and self.role < Role.ADMIN:
            if self.role != Role.MEMBER or obj is None or not self._assigned_to_actor(obj):
                return False
            return not (ADMIN_ONLY_WORK_ITEM_FIELDS & set(fields))
        return True

    def require(self, action: Action, obj=None, *, fields=()) -> int:
        """The actor's role, if it allows ``action``; else the refusal a dialect shows."""
        if self.role is None:
            raise NotFound("Project not found.", entity="project")
        if self.can(action, obj, fields=fields):
            return self.role
        deciding = self._deciding(action, obj)
        minimum = MINIMUM_ROLE[deciding]
        if self.role < minimum:
            raise PermissionDenied(f"Your role ({Role(self.role).label}) may not {PHRASES[deciding]}; it needs "
                                   f"{Role(minimum).label} or above.")
        forbidden = sorted(ADMIN_ONLY_WORK_ITEM_FIELDS & set(fields))
        if forbidden and self.role == Role.MEMBER and obj is not None and self._assigned_to_actor(obj):
            raise PermissionDenied("Only an Admin may change this field.", field=forbidden[0])
        raise PermissionDenied("Your role may not edit this work item.")


def can(actor, action: Action, obj=None, *, fields=()) -> bool:
    """Whether ``actor`` may do ``action`` to ``obj`` (a project, or a row of one; None for workspace rows)."""
    if action == Action.WORKSPACE_MANAGE:
        return is_workspace_admin(actor)
    project = _project_of(obj)
    return project is not None and ProjectAccess(actor, project).can(action, obj, fields=fields)


def require(actor, action: Action, obj=None, *, fields=()) -> int | None:
    """The actor's role in ``obj``'s project if ``action`` is allowed; else ``NotFound`` (the actor may not see the
    project) or ``PermissionDenied`` (they may, but not do this)."""
    if action == Action.WORKSPACE_MANAGE:
        require_workspace_admin(actor, action=PHRASES[action])
        return None
    project = _project_of(obj)
    if project is None:
        raise NotFound("Project not found.", entity="project")
    return ProjectAccess(actor, project).require(action, obj, fields=fields)


__all__ = [
    "ADMIN_ONLY_WORK_ITEM_FIELDS", "Action", "MINIMUM_ROLE", "PUBLIC_ROLE", "ProjectAccess", "STAFF_ROLE", "can",
    "members_among", "project_ids_visible", "project_members_q", "projects_visible", "require", "role_in", "with_my_role",
]
