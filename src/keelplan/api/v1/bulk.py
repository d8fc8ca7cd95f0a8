"""``POST /api/v1/projects/{id}/tasks/bulk/``: many tasks and links of one project in one all-or-nothing request.

Each row is parsed with the field objects of ``TaskSerializer`` and ``DependencySerializer``, so names, types,
ranges and messages are those of ``POST /api/v1/tasks/`` and ``/dependencies/``; references (assignees,
calendars, status/type/priority codes) are looked up with one query per kind instead of one per row, and the
response is built from plain dicts because it can hold tens of thousands of rows. A reference that names a row
the project may not use (another project's task or calendar, someone who is not a member) is refused in the
same words as one that names nothing.
"""

from __future__ import annotations

import gc
import threading
import uuid
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from keelplan.api.common.bodies import JSONBodyParser
from keelplan.api.common.throttling import heavy
from keelplan.api.v1 import serializers as s
from keelplan.calendars.selectors import calendars_usable
from keelplan.core.errors import InvalidInput
from keelplan.core.validation import MAX_ID, parse_id, parse_uid
from keelplan.planning.bulk import MAX_BULK_DEPENDENCIES, MAX_BULK_TASKS, TaskWritten, _as_uid, tasks_bulk_apply
from keelplan.planning.models import ConstraintType, Priority, Status, WorkItem, WorkItemType
from keelplan.permissions import Action, project_members_q
from keelplan.portfolio.selectors import project_get
from keelplan.scheduling.selectors import computed_fields, schedule_summary

User = get_user_model()

COMPUTED_FIELDS = ("early_start", "early_finish", "late_start", "late_finish", "total_float", "free_float",
                   "is_critical")
CODE_MODELS = {"status": Status, "type": WorkItemType, "priority": Priority}
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

class BulkJSONParser(JSONBodyParser):
    """The shared JSON parser with the larger limit of this endpoint and sync push (``KEELPLAN_MAX_BULK_BODY_MB``):
    a 10,000-task project is larger than the 2.5 MB every other endpoint takes. The request body middleware
    reads a view's body up to the largest limit among its parsers."""

    limit_setting = "KEELPLAN_MAX_BULK_BODY_BYTES"


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


def _task_reference(value, where: str) -> int | uuid.UUID:
    """A task named by id or by uid. Any string of digits is read as an id, so ``parse_id`` refuses "５５" as an
    id instead of it reading as a malformed uid."""
    if (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value.isdigit()):
        return parse_id(value, field=where)
    if isinstance(value, str):
        try:
            return parse_uid(value, field=where, allow_nil=True)
        except InvalidInput:
            pass
    _fail(where, "Expected a task id or the uid of a task created in this request.")


class _Parser:
    """Turns the request's rows into the keyword dicts ``tasks_bulk_apply`` takes."""

    def __init__(self, project, tasks: list):
        self.project = project
        task_fields = s.TaskSerializer().fields
        self.task_fields = {name: f for name, f in task_fields.items() if not f.read_only}
        self.task_read_only = {name for name, f in task_fields.items() if f.read_only} - {"id", "uid"}
        link_fields = s.DependencySerializer().fields
        self.link_fields = {name: f for name, f in link_fields.items() if not f.read_only}
        self.link_read_only = {name for name, f in link_fields.items() if f.read_only} - {"id", "uid"}
        self._prefetch(tasks)

    def _prefetch(self, rows: list) -> None:
        """The rows every task may name, one query per kind."""
        rows = [r for r in rows if isinstance(r, dict)]

        def ids(key, rows=rows):
            found = set()
            for r in rows:
                try:
                    found.add(parse_id(r[key], field=key))
                except (KeyError, InvalidInput):  # absent, null or malformed: the row's own check reports it
                    pass
            return found

        assignees, calendars = ids("assignee"), ids("calendar")
        # Only what this project's rows may name is looked up, so anything else reads as missing.
        self.users = (User.objects.filter(project_members_q(self.project), pk__in=assignees).in_bulk()
                      if assignees else {})
        self.calendars = calendars_usable(self.project).in_bulk(list(calendars)) if calendars else {}
        self.codes = {
            key: {row.code: row for row in model.objects.all()} if any(key in r for r in rows) else {}
            for key, model in CODE_MODELS.items()
        }
        # ``planned_start: null`` clears an SNET constraint, so it needs the edited task's current constraint.
        clears = [r for r in rows if "planned_start" in r and r["planned_start"] is None and "constraint_type" not in r]
        clearing = ids("id", clears)
        self.constraint_of = dict(WorkItem.objects.filter(project=self.project, pk__in=clearing)
                                  .values_list("id", "constraint_type")) if clearing else {}
        # An edited row may name its task by uid instead (a sync push of a task created offline).
        uids = {u for u in (_as_uid(r.get("uid") if r.get("id") is None else r["id"]) for r in clears) if u}
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
                    out["id"] = parse_id(value, field=at)
            elif key == "uid":
                if not edit:
                    out["uid"] = parse_uid(value, field=at) if value is not None else None
            elif key == "lock_version":
                if edit:
                    out["lock_version"] = _run(self.task_fields[key], value, at)
            elif key == "project":
                if value is None or parse_id(value, field=at) != self.project.pk:
                    _fail(at, "A task cannot move to another project." if edit
                          else f"Must be this project's id ({self.project.pk}) or left out.")
            elif key == "parent":
                out["parent"] = None if value is None else _task_reference(value, at)
            elif key in ("assignee", "calendar"):
                found = self.users if key == "assignee" else self.calendars
                out[key] = None if value is None else found.get(parse_id(value, field=at))
                if value is not None and out[key] is None:
                    # The service's words for a non-member, for any user id: they tell nothing about who exists.
                    _fail(at, "The assignee must be a member of the project." if key == "assignee"
                          else f"No such object: {value}.")
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
            elif key == "uid":
                if partial:
                    continue
                out["uid"] = parse_uid(value, field=at) if value is not None else None
            elif key == "lock_version" or key in self.link_read_only:
                continue
            elif key in self.link_fields:
                out[key] = _run(self.link_fields[key], value, at)
            else:
                _fail(at, "Unknown field.")
        for key in ("predecessor", "successor"):
            if key not in out and not partial:
                _fail(f"{where}.{key}", "This field is required.")
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
    uid = serializers.UUIDField(required=False, help_text="Creating: the new task's uid (required; not the nil "
                                                          "UUID), unique in the request and among the project's "
                                                          "tasks.")
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
    uid = serializers.UUIDField(required=False, help_text="The new link's uid (not the nil UUID), unique in the "
                                                          "request and among the project's links; made up if left "
                                                          "out.")
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
    @heavy("POST")
    def post(self, request, id):
        """Create and edit tasks and create links of the project, all or nothing, rescheduling once.

        A task without `id` is created: it needs a `uid` (UUID) and a `name`, plus any task field as
        `POST /api/v1/tasks/` takes it. A task with `id` is edited like `PATCH /api/v1/tasks/{id}/`. `parent`,
        `predecessor` and `successor` name an existing task by id or a task of this request by uid. The first bad
        row refuses the whole request, naming it by position (`tasks[3].duration`, `dependencies[12].predecessor`);
        nothing is written. At most 20000 tasks and 50000 dependencies per request.
        """
        project = project_get(actor=request.user, project_id=id, action=Action.WORK_ITEMS_WRITE)
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
