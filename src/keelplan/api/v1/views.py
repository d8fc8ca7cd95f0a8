"""Views of the v1 (TruePPM) dialect: parse and validate, call one service or selector, render."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db.models import Exists, F, OuterRef
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers as drf_serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.tokens import RefreshToken

from keelplan.accounts import services as account_services
from keelplan.accounts.selectors import user_search
from keelplan.api.common.bodies import JSONBodyParser
from keelplan.api.common.throttling import HeavyRequestThrottle, heavy
from keelplan.api.common.views import ID_REGEX, SchemaInspector, ServiceViewSetBase
from keelplan.api.v1 import bulk, serializers as s, sync as sync_api
from keelplan.api.v1.authentication import AUTHENTICATION_CLASSES
from keelplan.api.v1.bulk import BulkJSONParser
from keelplan.api.v1.errors import exception_handler
from keelplan.api.v1.filters import CalendarFilter, DependencyFilter, ResourceFilter, TaskFilter, TaskResourceFilter
from keelplan.api.v1.pagination import CursorPage
from keelplan.api.common.renderers import FastJSONRenderer
from keelplan.api.v1.schema import KeelplanAutoSchema
from keelplan.calendars import services as calendar_services
from keelplan.calendars.selectors import calendar_list
from keelplan.core.errors import NotFound
from keelplan.planning import services as planning_services
from keelplan.planning.models import WorkItem
from keelplan.planning.selectors import dependency_list, work_item_list
from keelplan.portfolio import services as portfolio_services
from keelplan.portfolio.models import Membership
from keelplan.permissions import projects_visible, with_my_role
from keelplan.portfolio.selectors import membership_list, project_get
from keelplan.resources import services as resource_services
from keelplan.resources.selectors import assignment_list, resource_list
from keelplan.scheduling import services as scheduling_services
from keelplan.scheduling.selectors import schedule_get


class V1Mixin:
    """The v1 dialect's plumbing, set on the class so that nothing of it comes from ``REST_FRAMEWORK``: Bearer
    JWT and ``kp_`` tokens, cursor pages, orjson JSON, the heavy-request gate, the schema with its error answers,
    and the one exception handler. Every v1 view lists it first among its bases."""

    authentication_classes = list(AUTHENTICATION_CLASSES)
    permission_classes = [IsAuthenticated]
    renderer_classes = [FastJSONRenderer]
    parser_classes = [JSONBodyParser]
    pagination_class = CursorPage
    filter_backends = [DjangoFilterBackend]
    throttle_classes = [HeavyRequestThrottle]
    schema = SchemaInspector(KeelplanAutoSchema)

    def get_exception_handler(self):
        return exception_handler


# ---------------------------------------------------------------- tokens (TruePPM's /api/token/ endpoints)

class TokenObtainView(V1Mixin, GenericAPIView):
    """``POST /api/token/`` ``{username, password}`` -> ``{access, refresh}``."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = s.TokenRequestSerializer

    def get_authenticate_header(self, request):
        # With no authenticators DRF would turn bad credentials into a 403; the contract says 401.
        return 'Bearer realm="api"'

    @extend_schema(
        responses={200: inline_serializer("TokenPair", {"access": drf_serializers.CharField(),
                                                        "refresh": drf_serializers.CharField()})},
        auth=[],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, username=serializer.validated_data["username"],
                            password=serializer.validated_data["password"])
        if user is None or not user.is_active:
            raise AuthenticationFailed("No active account found with the given credentials.")
        refresh = RefreshToken.for_user(user)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class TokenRefreshView(V1Mixin, jwt_views.TokenRefreshView):
    # The schema describes this operation in simplejwt's words, as it did before the view had a v1 base.
    __doc__ = jwt_views.TokenRefreshView.__doc__

    permission_classes = ()
    authentication_classes = ()


# ---------------------------------------------------------------- resources written through services

class ServiceViewSet(V1Mixin, ServiceViewSetBase):
    """A v1 resource whose writes go through services (see ``ServiceViewSetBase``). A text field sent as null is
    empty text: the services read it so for every caller."""


# ---------------------------------------------------------------- users

class UserViewSet(V1Mixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """People: who am I, and finding people to add as members."""

    serializer_class = s.UserSummarySerializer
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        if self.action == "workspace_role":
            return user_search(actor=self.request.user)
        search = self.request.query_params.get("search", "")
        if "\x00" in search:  # PostgreSQL cannot compare text with NUL in it; refuse it here rather than 500
            raise drf_serializers.ValidationError({"search": ["Null characters are not allowed."]})
        return user_search(actor=self.request.user, search=search)

    @extend_schema(parameters=[OpenApiParameter("search", str, description="Part of a username, name or e-mail.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=s.MeSerializer)
    @action(detail=False, methods=["get"], pagination_class=None)
    def me(self, request):
        return Response(s.MeSerializer(request.user).data)

    @extend_schema(request=s.WorkspaceRoleSerializer, responses=s.UserSummarySerializer,
                   summary="Make someone a workspace administrator, or an ordinary user again (workspace "
                           "administrators only).")
    @action(detail=True, methods=["put"], url_path="workspace-role", pagination_class=None, filter_backends=[])
    def workspace_role(self, request, pk=None):
        user = self.get_queryset().filter(pk=pk).first()
        if user is None:
            raise NotFound("User not found.")
        serializer = s.WorkspaceRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = account_services.user_set_workspace_role(
            actor=request.user, user=user, role=serializer.validated_data["workspace_role"])
        return Response(s.UserSummarySerializer(user).data)


# ---------------------------------------------------------------- calendars

class CalendarViewSet(ServiceViewSet):
    serializer_class = s.CalendarSerializer
    filterset_class = CalendarFilter
    instance_kwarg = "calendar"
    create_service = staticmethod(calendar_services.calendar_create)
    update_service = staticmethod(calendar_services.calendar_update)
    delete_service = staticmethod(calendar_services.calendar_delete)

    def get_queryset(self):
        return calendar_list(actor=self.request.user).order_by("id")

    def service_kwargs(self, data):
        if self.action in ("update", "partial_update"):
            data.pop("project", None)  # the serializer refused a change; the same value is no change
        return super().service_kwargs(data)


# ---------------------------------------------------------------- projects and members

class ProjectViewSet(ServiceViewSet):
    serializer_class = s.ProjectSerializer
    instance_kwarg = "project"
    create_service = staticmethod(portfolio_services.project_create)
    update_service = staticmethod(portfolio_services.project_update)
    delete_service = staticmethod(portfolio_services.project_delete)

    def get_queryset(self):
        return with_my_role(projects_visible(self.request.user), self.request.user).order_by("id")

    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter("last_pulled_at", int, description="The `timestamp` of the previous pull; 0 or absent "
                                                                "for everything."),
            OpenApiParameter("since", int, description="Alias of last_pulled_at."),
            OpenApiParameter("cursor", str, description="The previous page's `next_cursor`: continues that pull."),
            OpenApiParameter("page_size", int, description=f"Rows per page, all collections together (default "
                                                           f"{sync_api.PAGE_SIZE_DEFAULT}, at most "
                                                           f"{sync_api.PAGE_SIZE_MAX})."),
        ],
        responses=s.SyncPullSerializer,
        summary="Pull the changes since the last pull, a page at a time (Viewer and above).",
    )
    @extend_schema(
        methods=["POST"], request=s.SyncPushSerializer, responses=s.SyncPushResultSerializer,
        summary="Push changes made offline: merged field by field, conflicts reported, all or nothing (Member "
                "and above).",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[],
            parser_classes=[BulkJSONParser])
    @heavy("GET", "POST")
    def sync(self, request, pk=None):
        """Offline sync. ``GET``: the rows created, changed or deleted since ``last_pulled_at``, in pages whose
        cursor pins the pull's ``timestamp``. ``POST``: a batch of task and dependency changes made offline."""
        project = self.get_object()
        if request.method == "POST":
            return sync_api.push(request, project)
        return sync_api.pull(request, project)

    @extend_schema(methods=["GET"], responses=s.ScheduleSummarySerializer,
                   summary="The project's computed schedule: finish, critical path, counts (Viewer and above).")
    @extend_schema(methods=["POST"], request=None, responses=s.ScheduleSummarySerializer,
                   summary="Recompute the schedule from a fresh read of every input (Scheduler and above).")
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    @heavy("POST")
    def schedule(self, request, pk=None):
        """The project's computed schedule. Dates are recomputed on every write that can move them; ``POST``
        forces a full recomputation from the stored inputs."""
        project = self.get_object()
        if request.method == "POST":
            scheduling_services.schedule_recompute(actor=request.user, project=project)
        return Response(schedule_get(actor=request.user, project=project))


class MemberViewSet(ServiceViewSet):
    serializer_class = s.MembershipSerializer
    update_serializer_class = s.MembershipUpdateSerializer
    instance_kwarg = "membership"

    def project(self):
        if not hasattr(self, "_project"):
            self._project = project_get(actor=self.request.user, project_id=self.kwargs["project_pk"])
        return self._project

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: there is no project in the URL
            return Membership.objects.none()
        return membership_list(actor=self.request.user, project=self.project()).order_by("id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = portfolio_services.membership_add(
            actor=request.user, project=self.project(), user=serializer.validated_data["user"],
            role=serializer.validated_data.get("role"),
        )
        return Response(self.get_serializer(self.reread(membership)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MembershipUpdateSerializer)
    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = s.MembershipUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = portfolio_services.membership_change_role(
            actor=request.user, membership=instance, role=serializer.validated_data["role"],
            lock_version=serializer.validated_data.get("lock_version"),
        )
        return Response(self.get_serializer(self.reread(membership)).data)

    @extend_schema(request=s.MembershipUpdateSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        portfolio_services.membership_remove(actor=request.user, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- tasks and dependencies

class TaskViewSet(ServiceViewSet):
    serializer_class = s.TaskSerializer
    filterset_class = TaskFilter
    instance_kwarg = "task"
    update_service = staticmethod(planning_services.task_update)
    delete_service = staticmethod(planning_services.task_delete)

    def get_queryset(self):
        has_children = WorkItem.objects.filter(parent_id=OuterRef("pk"))
        # Codes read in the same query (CodeField uses them): a page of 1,000 tasks then builds 1,000 objects,
        # not 4,000.
        return (work_item_list(actor=self.request.user).select_related(None)
                .annotate(has_children=Exists(has_children), status_code=F("status__code"),
                          type_code=F("type__code"), priority_code=F("priority__code"))
                .order_by("id"))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("lock_version", None)
        project = data.pop("project")
        if project.is_deleted:
            raise drf_serializers.ValidationError({"project": ["No such object."]})
        try:
            visible = project_get(actor=request.user, project_id=project.pk)
        except NotFound:
            raise drf_serializers.ValidationError({"project": [f"No such object: {project.pk}."]}) from None
        task = planning_services.task_create(actor=request.user, project=visible, **data)
        return Response(self.get_serializer(self.reread(task)).data, status=status.HTTP_201_CREATED)

    def service_kwargs(self, data):
        project = data.pop("project", None)
        if project is not None and project.pk != self.get_object().project_id:
            raise drf_serializers.ValidationError({"project": ["A task cannot move to another project."]})
        return super().service_kwargs(data)

    @extend_schema(request=None, responses=s.TaskSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Undo a delete: the task comes back with the subtasks, links and assignments deleted with it."""
        task = planning_services.task_restore(actor=request.user, task_id=int(pk))
        return Response(self.get_serializer(self.reread(task)).data)


class DependencyViewSet(ServiceViewSet):
    serializer_class = s.DependencySerializer
    filterset_class = DependencyFilter
    instance_kwarg = "dependency"
    create_service = staticmethod(planning_services.dependency_create)
    update_service = staticmethod(planning_services.dependency_update)
    delete_service = staticmethod(planning_services.dependency_delete)

    def get_queryset(self):
        return dependency_list(actor=self.request.user).order_by("id")


# ---------------------------------------------------------------- resources

class ResourceViewSet(ServiceViewSet):
    serializer_class = s.ResourceSerializer
    filterset_class = ResourceFilter
    instance_kwarg = "resource"
    create_service = staticmethod(resource_services.resource_create)
    update_service = staticmethod(resource_services.resource_update)
    delete_service = staticmethod(resource_services.resource_delete)

    def get_queryset(self):
        return resource_list(actor=self.request.user).order_by("id")


class TaskResourceViewSet(ServiceViewSet):
    serializer_class = s.TaskResourceSerializer
    update_serializer_class = s.TaskResourceUpdateSerializer
    filterset_class = TaskResourceFilter
    instance_kwarg = "assignment"
    create_service = staticmethod(resource_services.assignment_create)
    update_service = staticmethod(resource_services.assignment_update)
    delete_service = staticmethod(resource_services.assignment_delete)

    def get_queryset(self):
        return assignment_list(actor=self.request.user).order_by("id")

    @extend_schema(request=s.TaskResourceUpdateSerializer)
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=s.TaskResourceUpdateSerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


# ---------------------------------------------------------------- bulk

class TaskBulkView(V1Mixin, bulk.TaskBulkView):
    """Many tasks and links of one project in one request."""

    # The bulk body limit; V1Mixin's parser would otherwise come first.
    parser_classes = bulk.TaskBulkView.parser_classes
