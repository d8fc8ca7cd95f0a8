"""Wire shapes of the v1 (TruePPM) dialect: field names, read-only computed fields, input types and ranges."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from keelplan.calendars.models import ALL_DAYS, Calendar, CalendarException
from keelplan.planning.models import (
    ConstraintType, Dependency, DependencyType, LagUnit, Priority, SchedulingMode, Status,
    WorkItem, WorkItemType,
)
from keelplan.portfolio.models import Membership, Project, Role
from keelplan.resources.models import MAX_UNITS, MIN_UNITS, Assignment, Resource
from keelplan.scheduling.selectors import ScheduleReader
from keelplan.api.v1.fields import CodeField, ObjectField, StrictIntegerField
from keelplan.calendars.selectors import calendar_list
from keelplan.core.workspace import is_workspace_admin
from keelplan.engine.limits import MAX_DURATION_DAYS, MAX_LAG_DAYS
from keelplan.permissions import project_ids_visible, projects_visible

User = get_user_model()
ROLE_CHOICES = [r.value for r in Role]


# What a reference may name: rows the requesting user can see (see ``ObjectField``).
def _visible_projects(actor):
    return projects_visible(actor)


def _visible_work_items(actor):
    return WorkItem.objects.filter(project_id__in=project_ids_visible(actor))


def _visible_calendars(actor):
    return calendar_list(actor=actor)


def _active_users(actor):
    return User.objects.filter(is_active=True)


class UserSummarySerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="display_name", read_only=True)
    is_workspace_admin = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "is_workspace_admin"]


class WorkspaceRoleSerializer(serializers.Serializer):
    workspace_role = serializers.ChoiceField(choices=[1, 300], help_text="1 user, 300 workspace administrator.")


class MeSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(read_only=True, allow_blank=True)  # "" when the person gave none

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "email", "is_staff", "workspace_role", "workspace_role_label",
                  "date_joined"]
        read_only_fields = fields

    workspace_role = serializers.SerializerMethodField(help_text="1 user, 300 workspace administrator (writes shared "
                                                                 "calendars and resources).")
    workspace_role_label = serializers.SerializerMethodField()

    def get_workspace_role(self, obj) -> int:
        return 300 if obj.is_workspace_admin else obj.workspace_role

    def get_workspace_role_label(self, obj) -> str:
        return "Workspace administrator" if obj.is_workspace_admin else "User"


class MemberUserSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "email"]


# ---------------------------------------------------------------- calendars

class CalendarExceptionSerializer(serializers.ModelSerializer):
    exc_start = serializers.DateField(source="start")
    exc_end = serializers.DateField(source="end", required=False)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    is_working = serializers.BooleanField(required=False, default=False)

    class Meta:
        model = CalendarException
        fields = ["id", "exc_start", "exc_end", "description", "is_working"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        if "start" not in attrs:  # a PATCH makes nested fields optional, but an exception needs its start
            raise serializers.ValidationError({"exc_start": ["This field is required."]})
        end = attrs.get("end") or attrs["start"]
        if end < attrs["start"]:
            raise serializers.ValidationError({"exc_end": ["The end cannot be before the start."]})
        attrs["end"] = end
        return attrs


class CalendarSerializer(serializers.ModelSerializer):
    working_days = StrictIntegerField(min_value=1, max_value=ALL_DAYS, required=False,
                                      help_text="Bitmask of working weekdays: Mon=1, Tue=2, ... Sun=64 (default 31).")
    hours_per_day = serializers.FloatField(min_value=0.5, max_value=24, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    exceptions = CalendarExceptionSerializer(many=True, required=False,
                                             help_text="Non-working (or, with is_working, working) date ranges. "
                                                       "Writing replaces the whole list.")
    project = ObjectField(queryset=Project.objects.all(), scope=_visible_projects, required=False, allow_null=True,
                          help_text="Null for a calendar the whole workspace shares (written by workspace "
                                    "administrators); a project's id for a calendar of that project's own (written "
                                    "by its Admins, seen and used only there). Set on create only.")
    lock_version = serializers.IntegerField(required=False, min_value=0)

    class Meta:
        model = Calendar
        fields = ["id", "uid", "name", "project", "working_days", "hours_per_day", "timezone", "exceptions",
                  "lock_version", "created_at", "updated_at"]
        read_only_fields = ["id", "uid", "created_at", "updated_at"]

    def validate_project(self, value):
        if self.instance is not None and (value.pk if value else None) != self.instance.project_id:
            raise serializers.ValidationError("A calendar stays with the project it was made for (or shared); "
                                              "copy it instead.")
        return value


# ---------------------------------------------------------------- projects and members

class ProjectSerializer(serializers.ModelSerializer):
    parent = ObjectField(queryset=Project.objects.all(), scope=_visible_projects, required=False, allow_null=True)
    calendar = ObjectField(queryset=Calendar.objects.all(), scope=_visible_calendars, required=False,
                           allow_null=True)
    identifier = serializers.RegexField(r"^[a-z][a-z0-9_-]{0,99}$", max_length=100, required=False,
                                        error_messages={"invalid": "Use lower-case letters, digits, '-' and '_', "
                                                                   "starting with a letter."})
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100_000)
    default_member_role = serializers.ChoiceField(choices=[1, 100, 200, 300], required=False)
    default_member_role_label = serializers.SerializerMethodField()
    my_role = serializers.SerializerMethodField()
    my_role_label = serializers.SerializerMethodField()
    lock_version = serializers.IntegerField(required=False, min_value=0)

    class Meta:
        model = Project
        fields = ["id", "uid", "name", "identifier", "description", "parent", "start_date", "status_date", "calendar",
                  "default_member_role", "default_member_role_label", "is_public", "is_active", "finish_date",
                  "scheduled_at", "my_role", "my_role_label", "lock_version", "created_at", "updated_at"]
        read_only_fields = ["id", "uid", "finish_date", "scheduled_at", "created_at", "updated_at"]

    def get_default_member_role_label(self, obj) -> str:
        return Role(obj.default_member_role).label

    @extend_schema_field({"type": ["integer", "null"], "enum": ROLE_CHOICES + [None]})
    def get_my_role(self, obj):
        return getattr(obj, "my_role", None)

    @extend_schema_field({"type": ["string", "null"]})
    def get_my_role_label(self, obj):
        role = getattr(obj, "my_role", None)
        return Role(role).label if role else None


class MembershipSerializer(serializers.ModelSerializer):
    user = ObjectField(queryset=User.objects.filter(is_active=True))
    user_detail = MemberUserSerializer(source="user", read_only=True)
    role = serializers.ChoiceField(choices=ROLE_CHOICES, required=False,
                                   help_text="Viewer 1, Member 100, Scheduler 200, Admin 300, Owner 400.")
    role_label = serializers.SerializerMethodField()
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)
    lock_version = serializers.IntegerField(required=False, min_value=0)

    class Meta:
        model = Membership
        fields = ["id", "project", "user", "user_detail", "role", "role_label", "joined_at", "role_changed_at",
                  "lock_version"]
        read_only_fields = ["id", "project", "role_changed_at"]

    def get_role_label(self, obj) -> str:
        return Role(obj.role).label


class MembershipUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLE_CHOICES)
    lock_version = serializers.IntegerField(required=False, min_value=0)


# ---------------------------------------------------------------- tasks and dependencies

class _Computed:
    """A read-only task field the scheduler computes: read from the project's stored schedule, through one
    ``ScheduleReader`` shared by everything a response renders."""

    def __init__(self, name: str, **kwargs):
        self.computed_name = name
        super().__init__(read_only=True, source="*", allow_null=True, **kwargs)

    def to_representation(self, instance):
        values = schedule_reader(self.context).fields(instance.project_id, instance.pk)
        value = None if values is None else values[self.computed_name]
        return None if value is None else super().to_representation(value)


def schedule_reader(context) -> ScheduleReader:
    """The response's one ``ScheduleReader``, kept in the serializer context every field of it shares."""
    reader = context.get("schedule_reader") if isinstance(context, dict) else None
    if reader is None:
        reader = ScheduleReader()
        if isinstance(context, dict):
            context["schedule_reader"] = reader
    return reader


class TaskListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        schedule_reader(self.context).prefetch((row.project_id, row.pk) for row in rows)
        return super().to_representation(rows)


class ComputedDateField(_Computed, serializers.DateField):
    pass


class ComputedIntegerField(_Computed, serializers.IntegerField):
    pass


def _iso_date(value):
    return None if value is None else value.isoformat()


def _iso_datetime(value):
    """As DRF's DateTimeField renders: in the current time zone, UTC written as ``Z``."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _code(instance, name: str) -> str | None:
    code = getattr(instance, f"{name}_code", None)  # annotated by the list view
    if code is None:
        related = getattr(instance, name)
        code = None if related is None else related.code
    return code


class TaskSerializer(serializers.ModelSerializer):
    project = ObjectField(queryset=Project.objects.all(), scope=_visible_projects)
    parent = ObjectField(queryset=WorkItem.objects.all(), scope=_visible_work_items, required=False, allow_null=True)
    assignee = ObjectField(queryset=User.objects.all(), scope=_active_users, required=False, allow_null=True)
    calendar = ObjectField(queryset=Calendar.objects.all(), scope=_visible_calendars, required=False,
                           allow_null=True)
    status = CodeField(slug_field="code", queryset=Status.objects.all(), required=False)
    type = CodeField(slug_field="code", queryset=WorkItemType.objects.all(), required=False)
    priority = CodeField(slug_field="code", queryset=Priority.objects.all(), required=False)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=100_000)
    duration = StrictIntegerField(min_value=0, max_value=MAX_DURATION_DAYS, required=False,
                                  help_text="Whole working days; 0 is a milestone.")
    position = StrictIntegerField(min_value=0, max_value=2**31 - 1, required=False)
    percent_complete = serializers.FloatField(min_value=0, max_value=100, required=False)
    constraint_type = serializers.ChoiceField(choices=ConstraintType.choices, required=False)
    scheduling_mode = serializers.ChoiceField(choices=SchedulingMode.choices, required=False)
    planned_start = serializers.DateField(
        required=False, allow_null=True,
        help_text="TruePPM's start-no-earlier-than date: writing it sets constraint_type SNET with this date.")
    is_summary = serializers.SerializerMethodField()
    lock_version = serializers.IntegerField(required=False, min_value=0)
    early_start = ComputedDateField("early_start", help_text="Computed: earliest start (first working day).")
    early_finish = ComputedDateField("early_finish", help_text="Computed: earliest finish (last working day).")
    late_start = ComputedDateField("late_start", help_text="Computed: latest start that keeps the project finish.")
    late_finish = ComputedDateField("late_finish", help_text="Computed: latest finish that keeps the project finish.")
    total_float = ComputedIntegerField("total_float", help_text="Computed: working days the task can slip without "
                                       "moving the project finish; negative when a constraint or deadline is missed.")
    free_float = ComputedIntegerField("free_float", help_text="Computed: working days the task can slip without "
                                      "moving any successor.")

    class Meta:
        model = WorkItem
        list_serializer_class = TaskListSerializer
        fields = [
            "id", "uid", "project", "parent", "position", "name", "description", "status", "type", "priority",
            "assignee", "duration", "is_milestone", "is_summary", "scheduling_mode", "manual_start", "manual_finish",
            "constraint_type", "constraint_date", "planned_start", "deadline", "calendar", "percent_complete",
            "actual_start", "actual_finish",
            "early_start", "early_finish", "late_start", "late_finish", "total_float", "free_float", "is_critical",
            "lock_version", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "uid", "early_start", "early_finish", "late_start", "late_finish", "total_float",
                            "free_float", "is_critical", "created_at", "updated_at"]

    def get_is_summary(self, obj) -> bool:
        value = getattr(obj, "has_children", None)
        if value is None:
            value = WorkItem.objects.filter(parent_id=obj.pk).exists()
        return bool(value)

    def to_representation(self, instance):
        """The same dict DRF's field-by-field path (``generic_representation``) gives, built directly: a page of
        1,000 tasks renders in a third of the time. ``test_tasks`` checks the two agree."""
        computed = schedule_reader(self.context).fields(instance.project_id, instance.pk) or {}
        constraint_date = instance.constraint_date
        return {
            "id": instance.pk, "uid": str(instance.uid), "project": instance.project_id, "parent": instance.parent_id,
            "position": instance.position, "name": instance.name, "description": instance.description,
            "status": _code(instance, "status"), "type": _code(instance, "type"),
            "priority": _code(instance, "priority"), "assignee": instance.assignee_id,
            "duration": instance.duration, "is_milestone": instance.is_milestone,
            "is_summary": self.get_is_summary(instance), "scheduling_mode": str(instance.scheduling_mode),
            "manual_start": _iso_date(instance.manual_start), "manual_finish": _iso_date(instance.manual_finish),
            "constraint_type": str(instance.constraint_type), "constraint_date": _iso_date(constraint_date),
            "planned_start": (constraint_date.isoformat()
                              if instance.constraint_type == ConstraintType.SNET and constraint_date else None),
            "deadline": _iso_date(instance.deadline), "calendar": instance.calendar_id,
            "percent_complete": float(instance.percent_complete),
            "actual_start": _iso_date(instance.actual_start), "actual_finish": _iso_date(instance.actual_finish),
            "early_start": _iso_date(computed.get("early_start")), "early_finish": _iso_date(computed.get("early_finish")),
            "late_start": _iso_date(computed.get("late_start")), "late_finish": _iso_date(computed.get("late_finish")),
            "total_float": computed.get("total_float"), "free_float": computed.get("free_float"),
            "is_critical": instance.is_critical, "lock_version": instance.lock_version,
            "created_at": _iso_datetime(instance.created_at), "updated_at": _iso_datetime(instance.updated_at),
        }

    def generic_representation(self, instance):
        """DRF's own rendering, field by field: the reference ``to_representation`` must match."""
        data = super().to_representation(instance)
        data["planned_start"] = (
            instance.constraint_date.isoformat()
            if instance.constraint_type == ConstraintType.SNET and instance.constraint_date else None
        )
        data["percent_complete"] = float(instance.percent_complete)
        return data

    def validate(self, attrs):
        if "planned_start" in attrs:
            planned = attrs.pop("planned_start")
            if "constraint_type" not in attrs:
                if planned is not None:
                    attrs["constraint_type"], attrs["constraint_date"] = ConstraintType.SNET, planned
                elif self.instance is not None and self.instance.constraint_type == ConstraintType.SNET:
                    attrs["constraint_type"], attrs["constraint_date"] = ConstraintType.ASAP, None
        return attrs


class ScheduleSummarySerializer(serializers.Serializer):
    """Response shape of ``/projects/{id}/schedule/`` (documentation only; the view renders a dict)."""

    project = serializers.IntegerField()
    version = serializers.IntegerField(help_text="Grows by one whenever a computed value changes.")
    computed_at = serializers.DateTimeField(allow_null=True, help_text="When the schedule was last computed.")
    compute_ms = serializers.FloatField(allow_null=True, help_text="How long the engine took, in milliseconds.")
    project_start = serializers.DateField()
    project_finish = serializers.DateField(allow_null=True)
    critical_path = serializers.ListField(child=serializers.IntegerField(), help_text="Task ids, start to finish.")
    task_count = serializers.IntegerField()
    critical_count = serializers.IntegerField()
    late_count = serializers.IntegerField(help_text="Tasks with negative total float: a constraint or deadline "
                                                    "they cannot meet.")


class DependencySerializer(serializers.ModelSerializer):
    predecessor = ObjectField(queryset=WorkItem.objects.all(), scope=_visible_work_items)
    successor = ObjectField(queryset=WorkItem.objects.all(), scope=_visible_work_items)
    dep_type = serializers.ChoiceField(choices=DependencyType.choices, required=False, default=DependencyType.FS)
    lag = StrictIntegerField(min_value=-MAX_LAG_DAYS, max_value=MAX_LAG_DAYS, required=False, default=0,
                             help_text="Lag in lag_unit (elapsed calendar days unless told); negative is a lead.")
    lag_unit = serializers.ChoiceField(choices=LagUnit.choices, required=False, default=LagUnit.ELAPSED_DAYS)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=10_000)
    is_driving = serializers.BooleanField(read_only=True, help_text="Computed: whether this link sets its "
                                          "successor's early dates (it has no slack). Ignored when sent.")
    lock_version = serializers.IntegerField(required=False, min_value=0)

    class Meta:
        model = Dependency
        fields = ["id", "uid", "project", "predecessor", "successor", "dep_type", "lag", "lag_unit", "description",
                  "is_driving", "lock_version", "created_at", "updated_at"]
        read_only_fields = ["id", "uid", "project", "is_driving", "created_at", "updated_at"]


# ---------------------------------------------------------------- resources

class ResourceSerializer(serializers.ModelSerializer):
    user = ObjectField(queryset=User.objects.all(), scope=_active_users, required=False, allow_null=True)
    calendar = ObjectField(queryset=Calendar.objects.all(), scope=_visible_calendars, required=False,
                           allow_null=True)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254,
                                   help_text="Shown only to workspace administrators and to the person the "
                                             "resource is; \"\" to everyone else.")
    job_role = serializers.CharField(required=False, allow_blank=True, max_length=120)
    max_units = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=MIN_UNITS, max_value=MAX_UNITS,
                                         required=False)
    is_me = serializers.SerializerMethodField()
    lock_version = serializers.IntegerField(required=False, min_value=0)

    class Meta:
        model = Resource
        fields = ["id", "uid", "name", "email", "job_role", "user", "calendar", "max_units", "is_me", "lock_version",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "uid", "created_at", "updated_at"]

    def get_is_me(self, obj) -> bool:
        request = self.context.get("request")
        return bool(request and obj.user_id and obj.user_id == request.user.pk)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        actor = getattr(request, "user", None)
        if not (is_workspace_admin(actor) or (instance.user_id and actor is not None and instance.user_id == actor.pk)):
            data["email"] = ""  # every signed-in user lists resources; their addresses are not for harvesting
        return data


class TaskResourceSerializer(serializers.ModelSerializer):
    task = ObjectField(source="work_item", queryset=WorkItem.objects.all(), scope=_visible_work_items)
    resource = ObjectField(queryset=Resource.objects.all())
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    units = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=MIN_UNITS, max_value=MAX_UNITS,
                                     required=False, help_text="Share of the resource's capacity (0.5 = half time).")
    lock_version = serializers.IntegerField(required=False, min_value=0)

    class Meta:
        model = Assignment
        fields = ["id", "uid", "project", "task", "resource", "resource_name", "units", "lock_version", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "uid", "project", "created_at", "updated_at"]


class TaskResourceUpdateSerializer(serializers.Serializer):
    units = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=MIN_UNITS, max_value=MAX_UNITS)
    lock_version = serializers.IntegerField(required=False, min_value=0)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


# ---------------------------------------------------------------- sync


def _collection(name: str, row_serializer) -> serializers.Serializer:
    fields = {
        "created": serializers.ListField(child=row_serializer(), help_text="Always empty: new rows arrive in `updated`."),
        "updated": serializers.ListField(child=row_serializer(), help_text="Full current rows."),
        "deleted": serializers.ListField(child=serializers.IntegerField(), help_text="Ids of deleted rows."),
    }
    return type(f"Sync{name}Changes", (serializers.Serializer,), fields)()


class SyncChangesSerializer(serializers.Serializer):
    projects = _collection("Project", ProjectSerializer)
    tasks = _collection("Task", TaskSerializer)
    dependencies = _collection("Dependency", DependencySerializer)
    calendars = _collection("Calendar", CalendarSerializer)
    memberships = _collection("Membership", MembershipSerializer)
    resources = _collection("Resource", ResourceSerializer)
    task_resources = _collection("TaskResource", TaskResourceSerializer)


class SyncPullSerializer(serializers.Serializer):
    changes = SyncChangesSerializer()
    timestamp = serializers.IntegerField(help_text="After the last page, send it back as last_pulled_at on the next "
                                                   "pull. Every page of one pull has the same timestamp.")
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as ?cursor= for the next page; null on the "
                                                                   "last page.")
    has_more = serializers.BooleanField(help_text="Whether next_cursor is set.")


class _SyncPushRows(serializers.Serializer):
    created = serializers.ListField(child=serializers.DictField(), required=False,
                                    help_text="New rows, each with the `uid` the client gave it; references to other "
                                              "rows are ids or uids (of rows created in this batch too).")
    updated = serializers.ListField(child=serializers.DictField(), required=False,
                                    help_text="`id` (or `uid`), the changed fields (or `_changed` naming them), and "
                                              "`base_version`: the lock_version the client last pulled.")
    deleted = serializers.ListField(child=serializers.JSONField(), required=False,
                                    help_text="Ids (or uids), or objects `{id, base_version}`.")


class SyncPushChangesSerializer(serializers.Serializer):
    tasks = _SyncPushRows(required=False)
    dependencies = _SyncPushRows(required=False)


class SyncPushSerializer(serializers.Serializer):
    client_batch_id = serializers.UUIDField(help_text="New for every batch; the same on a retry, which replays the "
                                                      "first answer.")
    last_pulled_at = serializers.IntegerField(required=False, min_value=0,
                                              help_text="The timestamp of the client's last pull (0 if none): what "
                                                        "others changed after it is merged, not overwritten.")
    changes = SyncPushChangesSerializer()


class _SyncConflictSerializer(serializers.Serializer):
    where = serializers.CharField(help_text="The pushed row, e.g. `tasks.updated[3]`.")
    id = serializers.IntegerField(allow_null=True)
    uid = serializers.UUIDField(allow_null=True)
    reason = serializers.ChoiceField(choices=["changed", "deleted", "duplicate"])
    conflict_fields = serializers.ListField(child=serializers.CharField())
    server_value = serializers.DictField()
    client_value = serializers.DictField()
    server_version = serializers.IntegerField(allow_null=True)
    server_deleted = serializers.BooleanField()


class _SyncAppliedRows(serializers.Serializer):
    created = serializers.ListField(child=serializers.DictField(), help_text="`{id, uid, lock_version}` per new row.")
    updated = serializers.ListField(child=serializers.DictField(), help_text="`{id, lock_version, merged}` per row: "
                                    "`merged` holds the fields others changed since your copy that this batch left "
                                    "alone; put them in your copy and `lock_version` is its version.")
    deleted = serializers.ListField(child=serializers.IntegerField())


class _SyncApplied(serializers.Serializer):
    tasks = _SyncAppliedRows()
    dependencies = _SyncAppliedRows()


class _SyncConflicts(serializers.Serializer):
    tasks = _SyncConflictSerializer(many=True)
    dependencies = _SyncConflictSerializer(many=True)


class SyncPushResultSerializer(serializers.Serializer):
    client_batch_id = serializers.UUIDField()
    applied = _SyncApplied()
    conflicts = _SyncConflicts()
    timestamp = serializers.IntegerField(help_text="The project's change-log position after the batch. Keep pulling "
                                                   "from your last pull's timestamp: others may have written before.")
