"""Query filters of the v1 dialect, defined once per resource. Bad values are a 400 naming the parameter."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from keelplan.calendars.models import Calendar
from keelplan.core.errors import InvalidInput
from keelplan.core.validation import MAX_ID, parse_id
from keelplan.planning.models import Dependency, DependencyType, WorkItem
from keelplan.resources.models import Assignment, Resource


class StrictBooleanField(forms.Field):
    TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).lower()
        if lowered in self.TRUE:
            return True
        if lowered in self.FALSE:
            return False
        raise forms.ValidationError("Must be true or false.")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField


class IdField(forms.Field):
    """An id as ``parse_id`` reads one. Django's ``IntegerField`` would take ``５５``, `` 5``, ``+5`` and ``5.0`` as
    5 and so filter on an id the client never wrote."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_id(value, field="")
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    """An integer id; anything else, or a value outside the database's range, is a 400 instead of reaching SQL."""

    field_class = IdField


class TaskFilter(filters.FilterSet):
    project = IdFilter(field_name="project_id")
    parent = IdFilter(field_name="parent_id")
    assignee = IdFilter(field_name="assignee_id")
    is_critical = StrictBooleanFilter(field_name="is_critical")
    status = filters.CharFilter(field_name="status__code")

    class Meta:
        model = WorkItem
        fields = ["project", "parent", "assignee", "is_critical", "status"]


class DependencyFilter(filters.FilterSet):
    project = IdFilter(field_name="project_id")
    dep_type = filters.ChoiceFilter(choices=DependencyType.choices)
    task = IdFilter(method="filter_task", help_text="Links into or out of this task.")

    class Meta:
        model = Dependency
        fields = ["project", "dep_type", "task"]

    def filter_task(self, queryset, name, value):
        return queryset.filter(Q(predecessor_id=value) | Q(successor_id=value))


class TaskResourceFilter(filters.FilterSet):
    project = IdFilter(field_name="project_id")
    task = IdFilter(field_name="work_item_id")
    resource = IdFilter(field_name="resource_id")

    class Meta:
        model = Assignment
        fields = ["project", "task", "resource"]


class CalendarFilter(filters.FilterSet):
    search = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = Calendar
        fields = ["search"]


class ResourceFilter(filters.FilterSet):
    search = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name.")
    user = IdFilter(field_name="user_id")

    class Meta:
        model = Resource
        fields = ["search", "user"]
