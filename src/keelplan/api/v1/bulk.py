"""``POST /api/v1/projects/{id}/tasks/bulk/``: many tasks and links of one project in one all-or-nothing request.

Each row is parsed with the field objects of ``TaskSerializer`` and ``DependencySerializer``, so names, types,
ranges and messages are those of ``POST /api/v1/tasks/`` and ``/dependencies/``; references (assignees,
calendars, status/type/priority codes) are looked up with one query per kind instead of one per row, and the
response is built from plain dicts because it can hold tens of thousands of rows.
"""

from __future__ import annotations

import gc
import threading
import uuid
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.utils import json
from rest_framework.views import APIView

from keelplan.api.v1 import serializers as s
from keelplan.api.v1.fields import MAX_ID
from keelplan.calendars.models import Calendar
from keelplan.core.errors import InvalidInput
from keelplan.planning.bulk import MAX_BULK_DEPENDENCIES, MAX_BULK_TASKS, TaskWritten, _as_uid, tasks_bulk_apply
from keelplan.planning.models import ConstraintType, Priority, Status, WorkItem, WorkItemType
from keelplan.portfolio.models import Role
from keelplan.portfolio.selectors import project_get
from keelplan.scheduling.selectors import computed_fields, schedule_summary

User = get_user_model()

COMPUTED_FIELDS = ("early_start", "early_finish", "late_start", "late_finish", "total_float", "free_float",
                   "is_critical")
CODE_MODELS = {"status": Status, "type": WorkItemType, "priority": Priority}
# A full 20,000-task, 50,000-link body is about 20 MB; Django's DATA_UPLOAD_MAX_MEMORY_SIZE stays in force elsewhere.
MAX_BODY_BYTES = 64 * 1024 * 1024
TASK_REFERENCE_SCHEMA = {
    "oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_ID},
              {"type": "string", "format": "uuid"}],
    "description": "An existing task's id, or the uid of a task created in the same request.",
}


# ---------------------------------------------------------------- garbage collection

class _CollectorPause:
    """Python's cycle collector paused while any bulk request runs.

    Parsing and writing 30,000 rows allocates hundreds of thousands of containers, and each full collection
    walks all of them again: a quarter of the request's time. What a request allocates is freed by reference
    counting when it ends, so nothing piles up meanwhile. The collector is process-wide, hence the count.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self):
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._was_enabled:
                    gc.enable()


_gc_paused = _CollectorPause()


# ---------------------------------------------------------------- parsing

class BulkJSONParser(BaseParser):
    """JSON read straight from the request stream with this endpoint's own size limit.

    DRF's ``JSONParser`` reads ``request.body``, which Django caps at ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) --
    right for every other endpoint, but a 10,000-task project is larger than that.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            return {}
        data = stream.read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            raise InvalidInput(f"The body is larger than {MAX_BODY_BYTES // 2**20} MB; send the rows in several "
                               "requests.", code="body_too_large")
        try:
            return json.loads(data, parse_constant=json.strict_constant)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None


def _fail(where: str, message: str) -> None:
    raise InvalidInput(message, field=where)


def _run(field: serializers.Field, value, where: str):
    """``value`` through one DRF field, its error reported under ``where``."""
    try:
        return field.run_validation(value)
    except serializers.ValidationError as exc:
        detail = exc.detail
        messages = [str(m) for m in detail] if isinstance(detail, list) else [str(detail)]
        raise InvalidInput(messages[0], errors={where: messages}) from None


def _object_id(value, where: str) -> int:
    """An id the way ``ObjectField`` reads one: an integer (or digits), within range."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        _fail(where, f"Incorrect type. Expected an integer id, received {type(value).__name__}.")
    try:
        number = int(value)
    except ValueError:
        _fail(where, f"Incorrect type. Expected an integer id, received {type(value).__name__}.")
    if not 1 <= number <= MAX_ID:
        _fail(where, f"No such object: {value}.")
    return number


def _task_reference(value, where: str) -> int | uuid.UUID:
    if isinstance(value, str) and not value.strip().isdigit():
        try:
            return uuid.UUID(value)
        except ValueError:
            _fail(where, "Expected a task id or the uid of a task created in this request.")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        _fail(where, "Expected a task id or the uid of a task created in this request.")
    return _object_id(value, where)


class _Parser:
    """Turns the request's rows into the keyword dicts ``tasks_bulk_apply`` takes."""

    def __init__(self, project, tasks: list):
        self.project = project
        task_fields = s.TaskSerializer().fields
        self.task_fields = {name: f for name, f in task_fields.items() if not f.read_only}
        self.task_read_only = {name for name, f in task_fields.items() if f.read_only} - {"id", "uid"}
        link_fields = s.DependencySerializer().fields
        self.link_fields = {name: f for name, f in link_fields.items() if not f.read_only}
        self.link_read_only = {name for name, f in link_fields.items() if f.read_only} - {"id"}
        self.uid_field = serializers.UUIDField()
        self._prefetch(tasks)

    def _prefetch(self, rows: list) -> None:
        """The rows every task may name, one query per kind."""
        rows = [r for r in rows if isinstance(r, dict)]

        def ids(key):
            found = set()
            for r in rows:
                try:
                    found.add(_object_id(r[key], key))
                except (KeyError, InvalidInput):  # absent, null or malformed: the row's own check reports it
                    pass
            return found

        assignees, calendars = ids("assignee"), ids("calendar")
        self.users = User.objects.in_bulk(list(assignees)) if assignees else {}
        self.calendars = Calendar.objects.in_bulk(list(calendars)) if calendars else {}
        self.codes = {
            key: {row.code: row for row in model.objects.all()} if any(key in r for r in rows) else {}
            for key, model in CODE_MODELS.items()
        }
        # ``planned_start: null`` clears an SNET constraint, so it needs the edited task's current constraint.
        clears = [r for r in rows if "planned_start" in r and r["planned_start"] is None and "constraint_type" not in r]
        clearing = {r["id"] for r in clears if isinstance(r.get("id"), int)}
        self.constraint_of = dict(WorkItem.objects.filter(project=self.project, pk__in=clearing)
                                  .values_list("id", "constraint_type")) if clearing else {}
        # An edited row may name its task by uid instead (a sync push of a task created offline).
        uids = {u for u in (_as_uid(r.get("uid") if r.get("id") is None else r["id"]) for r in clears
                            if not isinstance(r.get("id"), int)) if u}
        self.constraint_of_uid = {str(uid): kind for uid, kind in WorkItem.objects.filter(
            project=self.project, uid__in=uids).values_list("uid", "constraint_type")} if uids else {}

    def task(self, i: int, row, *, where: str | None = None, edit: bool | None = None) -> dict:
        """Row ``i`` as ``tasks_bulk_apply`` takes it; errors name it ``where`` (default ``tasks[i]``). A row
        edits a task when it has an ``id``, unless ``edit`` says otherwise."""
        where = where or f"tasks[{i}]"
        if not isinstance(row, dict):
            _fail(where, "Must be an object.")
        edit = row.get("id") is not None if edit is None else edit
        out: dict = {}
        for key, value in row.items():
            at = f"{where}.{key}"
            if key == "id":
                if edit:
                    out["id"] = _object_id(value, at)
            elif key == "uid":
                if not edit:
                    out["uid"] = _run(self.uid_field, value, at) if value is not None else None
            elif key == "lock_version":
                if edit:
                    out["lock_version"] = _run(self.task_fields[key], value, at)
            elif key == "project":
                if value is None or _object_id(value, at) != self.project.pk:
                    _fail(at, "A task cannot move to another project." if edit
                          else f"Must be this project's id ({self.project.pk}) or left out.")
            elif key == "parent":
                out["parent"] = None if value is None else _task_reference(value, at)
            elif key in ("assignee", "calendar"):
                found = self.users if key == "assignee" else self.calendars
                out[key] = None if value is None else found.get(_object_id(value, at))
                if value is not None and out[key] is None:
                    _fail(at, f"No such object: {value}.")
            elif key in CODE_MODELS:
                if value is None:
                    _fail(at, "This field may not be null.")
                if not isinstance(value, str):
                    _fail(at, "Invalid value.")
                if value not in self.codes[key]:
                    _fail(at, f"Object with code={value} does not exist.")
                out[key] = self.codes[key][value]
            elif key in self.task_fields:
                out[key] = _run(self.task_fields[key], value, at)
            elif key not in self.task_read_only:
                _fail(at, "Unknown field.")
        if "description" in out and out["description"] is None:
            out["description"] = ""
        if "planned_start" in out:
            planned = out.pop("planned_start")
            if "constraint_type" not in out:
                if planned is not None:
                    out["constraint_type"], out["constraint_date"] = ConstraintType.SNET, planned
                elif edit and ConstraintType.SNET in (self.constraint_of.get(out.get("id")),
                                                      self.constraint_of_uid.get(str(row.get("uid")))):
                    out["constraint_type"], out["constraint_date"] = ConstraintType.ASAP, None
        return out

    def dependency(self, j: int, row, *, where: str | None = None, partial: bool = False) -> dict:
        """Row ``j`` as ``tasks_bulk_apply`` takes it (``partial``: an edit, so no field is required)."""
        where = where or f"dependencies[{j}]"
        if not isinstance(row, dict):
            _fail(where, "Must be an object.")
        out: dict = {}
        for key, value in row.items():
            at = f"{where}.{key}"
            if key in ("predecessor", "successor"):
                if value is None:
                    _fail(at, "This field may not be null.")
                out[key] = _task_reference(value, at)
            elif key == "id":
                if value is not None:
                    _fail(at, "This endpoint only creates links; change one with PATCH /api/v1/dependencies/{id}/.")
            elif key == "lock_version" or key in self.link_read_only:
                continue
            elif key in self.link_fields:
                out[key] = _run(self.link_fields[key], value, at)
            else:
                _fail(at, "Unknown field.")
        for key in ("predecessor", "successor"):
            if key not in out and not partial:
                _fail(f"{where}.{key}", "This field is required.")
        if "description" in out and out["description"] is None:
            out["description"] = ""
        return out


def _rows(body: dict, name: str, limit: int) -> list:
    rows = body.get(name)
    if rows is None:
        return []
    if not isinstance(rows, list):
        _fail(name, f'Expected a list of items but got type "{type(rows).__name__}".')
    if len(rows) > limit:
        _fail(name, f"At most {limit} {name} per request (this one has {len(rows)}).")
    return rows


# ---------------------------------------------------------------- rendering

def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _task_result(task: TaskWritten, computed: dict | None) -> dict:
    row = {"id": task.id, "uid": str(task.uid), "lock_version": task.lock_version}
    for name in COMPUTED_FIELDS:
        row[name] = None if computed is None else _plain(computed[name])
    return row


# ---------------------------------------------------------------- the schema (documentation only)

@extend_schema_field(TASK_REFERENCE_SCHEMA)
class TaskReferenceField(serializers.Field):
    pass


class TaskBulkTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                  help_text="Edit this task of the project. Leave out to create a task.")
    uid = serializers.UUIDField(required=False, help_text="Creating: the new task's uid (required), unique in the "
                                                          "request and among all tasks.")
    lock_version = serializers.IntegerField(required=False, min_value=0,
                                            help_text="Editing: the version you read; 409 if the task moved on.")
    parent = TaskReferenceField(required=False, allow_null=True)
    name = serializers.CharField(required=False, max_length=512, help_text="Required when creating.")

    def get_fields(self):
        # Every other writable field of a task, as POST /api/v1/tasks/ takes it.
        fields = super().get_fields()
        for name, field in s.TaskSerializer().get_fields().items():
            if name not in fields and name != "project" and not field.read_only:
                fields[name] = field
        return fields


class TaskBulkDependencySerializer(serializers.Serializer):
    predecessor = TaskReferenceField()
    successor = TaskReferenceField()

    def get_fields(self):
        fields = super().get_fields()
        for name, field in s.DependencySerializer().get_fields().items():
            if name not in fields and not field.read_only and name != "lock_version":
                fields[name] = field
        return fields


class TaskBulkSerializer(serializers.Serializer):
    tasks = TaskBulkTaskSerializer(many=True, required=False, max_length=MAX_BULK_TASKS,
                                   help_text=f"Tasks to create (no `id`) or edit (with `id`); at most {MAX_BULK_TASKS}.")
    dependencies = TaskBulkDependencySerializer(many=True, required=False, max_length=MAX_BULK_DEPENDENCIES,
                                                help_text=f"Links to create; at most {MAX_BULK_DEPENDENCIES}.")


class TaskBulkTaskResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uid = serializers.UUIDField()
    lock_version = serializers.IntegerField()
    early_start = serializers.DateField(allow_null=True)
    early_finish = serializers.DateField(allow_null=True)
    late_start = serializers.DateField(allow_null=True)
    late_finish = serializers.DateField(allow_null=True)
    total_float = serializers.IntegerField(allow_null=True)
    free_float = serializers.IntegerField(allow_null=True)
    is_critical = serializers.BooleanField(allow_null=True)


class TaskBulkDependencyResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    predecessor = serializers.IntegerField()
    successor = serializers.IntegerField()
    lock_version = serializers.IntegerField()


class TaskBulkResultSerializer(serializers.Serializer):
    tasks = TaskBulkTaskResultSerializer(many=True)
    dependencies = TaskBulkDependencyResultSerializer(many=True)
    schedule = serializers.DictField(help_text="The project's schedule summary after the write.")


# ---------------------------------------------------------------- the view

class TaskBulkView(APIView):
    """Many tasks and links of one project in one request."""

    parser_classes = [BulkJSONParser]

    @extend_schema(
        operation_id="projects_tasks_bulk_create",
        request=TaskBulkSerializer,
        responses=TaskBulkResultSerializer,
    )
    def post(self, request, id):
        """Create and edit tasks and create links of the project, all or nothing, rescheduling once.

        A task without `id` is created: it needs a `uid` (UUID) and a `name`, plus any task field as
        `POST /api/v1/tasks/` takes it. A task with `id` is edited like `PATCH /api/v1/tasks/{id}/`. `parent`,
        `predecessor` and `successor` name an existing task by id or a task of this request by uid. The first bad
        row refuses the whole request, naming it by position (`tasks[3].duration`, `dependencies[12].predecessor`);
        nothing is written. At most 20000 tasks and 50000 dependencies per request.
        """
        project = project_get(actor=request.user, project_id=id, minimum=Role.MEMBER,
                              action="change its tasks or links")
        with _gc_paused():
            return Response(self.apply(request, project))

    def apply(self, request, project) -> dict:
        body = request.data
        if not isinstance(body, dict):
            _fail("non_field_errors", f"Invalid data. Expected a dictionary, but got {type(body).__name__}.")
        task_rows = _rows(body, "tasks", MAX_BULK_TASKS)
        link_rows = _rows(body, "dependencies", MAX_BULK_DEPENDENCIES)
        parser = _Parser(project, task_rows)
        result = tasks_bulk_apply(
            actor=request.user, project=project,
            tasks=[parser.task(i, row) for i, row in enumerate(task_rows)],
            dependencies=[parser.dependency(j, row) for j, row in enumerate(link_rows)],
        )
        computed = computed_fields(project.pk, [t.id for t in result.tasks])
        return {
            "tasks": [_task_result(t, computed.get(t.id)) for t in result.tasks],
            "dependencies": [d._asdict() for d in result.dependencies],
            "schedule": schedule_summary(project),
        }
