"""Custom field values as OpenProject v3 shows them: ``customFieldN`` on a resource.

A value of a scalar format is a property (``customField3: 42``; long text is Formattable, as OpenProject shows
it); a value naming a row is a link in ``_links`` (``customField4: {href: /api/v3/custom_options/7, title}``, a
list of links for a multi-value field; users and versions likewise). Writes take the same shapes back; a
``customFieldN`` that does not apply to the object is ignored, as OpenProject ignores unknown properties. The
values are checked by the domain (``custom_values_clean``) inside the write's own service call.

``GET /api/v3/custom_options/<id>``: one option of a list field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.urls import path
from rest_framework.response import Response

from keelplan.accounts.models import User
from keelplan.api.v3.base import V3View
from keelplan.api.v3.errors import V3Error
from keelplan.api.v3.hal import formattable, href, id_from_href, link
from keelplan.core.errors import NotFound
from keelplan.customfields.models import CustomField, CustomOption, FieldFormat
from keelplan.customfields.selectors import custom_field_list
from keelplan.customfields.services import custom_values_read
from keelplan.planning.models import Version

LINKED = {FieldFormat.LIST: "custom_options", FieldFormat.USER: "users", FieldFormat.VERSION: "versions"}
PREFIX = "customField"


def key(cf: CustomField) -> str:
    return f"{PREFIX}{cf.pk}"


def applies(cf: CustomField, *, project_id: int | None, type_id: int | None = None, work_item: bool = False) -> bool:
    """Whether ``cf`` (read through ``custom_field_list``, projects and types prefetched) applies to an object of
    this project (and work item type)."""
    if not cf.is_for_all and project_id not in {p.pk for p in cf.projects.all()}:
        return False
    if work_item:
        types = {t.pk for t in cf.types.all()}
        return not types or type_id in types
    return True


class CustomFieldRenderer:
    """The ``customFieldN`` properties and links of a page of objects of one kind: definitions read once, values
    in one query, the titles of the rows they name in one query per kind."""

    def __init__(self, actor, entity: str, ids: Iterable[int]):
        self.fields = list(custom_field_list(actor=actor, entity=entity))
        self.values = custom_values_read(entity, list(ids)) if self.fields else {}
        named: dict[str, set[int]] = {fmt: set() for fmt in LINKED}
        formats = {cf.pk: cf.format for cf in self.fields}
        for by_field in self.values.values():
            for field_id, value in by_field.items():
                if formats.get(field_id) in LINKED and value is not None:
                    named[formats[field_id]].update(value if isinstance(value, list) else [value])
        self.titles = {
            FieldFormat.LIST: dict(CustomOption.all_objects.filter(pk__in=named[FieldFormat.LIST])
                                   .values_list("pk", "value")),
            FieldFormat.USER: {u.pk: u.display_name for u in User.objects.filter(pk__in=named[FieldFormat.USER])},
            FieldFormat.VERSION: dict(Version.all_objects.filter(pk__in=named[FieldFormat.VERSION])
                                      .values_list("pk", "name")),
        } if self.fields else {}

    def fields_for(self, *, project_id, type_id=None, work_item: bool = False) -> list[CustomField]:
        return [cf for cf in self.fields if applies(cf, project_id=project_id, type_id=type_id, work_item=work_item)]

    def render(self, obj_id: int, fields: list[CustomField]) -> tuple[dict, dict]:
        """``(properties, links)`` of the object's custom values, every applicable field present."""
        stored = self.values.get(obj_id, {})
        properties, links = {}, {}
        for cf in fields:
            value = stored.get(cf.pk)
            if cf.format in LINKED:
                kind, titles = LINKED[cf.format], self.titles[cf.format]

                def one(pk):
                    return link(href(kind, pk), str(titles.get(pk, pk)))

                if cf.is_multi_value:
                    links[key(cf)] = [one(pk) for pk in (value or [])]
                else:
                    links[key(cf)] = one(value) if value is not None else link(None)
            else:
                properties[key(cf)] = _scalar(cf, value)
        return properties, links


def _scalar(cf: CustomField, value):
    if cf.format == FieldFormat.TEXT:
        return formattable(value)
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def custom_input(body: dict, fields: list[CustomField]) -> dict | None:
    """``{field id: value}`` for the domain from a request body's ``customFieldN`` properties and links; None when
    the body names none of ``fields``."""
    links = body.get("_links") if isinstance(body.get("_links"), dict) else {}
    out = {}
    for cf in fields:
        name = key(cf)
        if cf.format in LINKED:
            if name not in links:
                continue
            given = links[name]
            if cf.is_multi_value:
                if not isinstance(given, list):
                    raise V3Error(f"{name} must be a list of links.", identifier="PropertyFormatError",
                                  attribute=name)
                out[cf.pk] = [id_from_href(_href(item, name), LINKED[cf.format], attribute=name) for item in given]
            else:
                out[cf.pk] = id_from_href(_href(given, name), LINKED[cf.format], attribute=name)
        elif name in body:
            value = body[name]
            if cf.format == FieldFormat.TEXT and isinstance(value, dict):
                value = value.get("raw")
            out[cf.pk] = value
    return out or None


def _href(item, name: str):
    if not isinstance(item, dict) or "href" not in item:
        raise V3Error(f"{name} must be a link with an href.", identifier="PropertyFormatError", attribute=name)
    return item["href"]


SCHEMA_TYPES = {FieldFormat.STRING: "String", FieldFormat.TEXT: "Formattable", FieldFormat.INTEGER: "Integer",
                FieldFormat.FLOAT: "Float", FieldFormat.DATE: "Date", FieldFormat.BOOL: "Boolean",
                FieldFormat.LIST: "CustomOption", FieldFormat.USER: "User", FieldFormat.VERSION: "Version"}


def custom_schema(cf: CustomField) -> dict:
    """A custom field's entry in a resource schema: its type, name, rules, and the options a list field allows."""
    kind = SCHEMA_TYPES[cf.format]
    entry = {"type": f"[]{kind}" if cf.is_multi_value else kind, "name": cf.name, "required": cf.is_required,
             "hasDefault": bool(cf.default_value) or any(o.is_default for o in cf.options.all()),
             "writable": True, "location": "_links" if cf.format in LINKED else None, "options": {}}
    if entry["location"] is None:
        del entry["location"]
    if cf.min_length is not None:
        entry["minLength"] = cf.min_length
    if cf.max_length is not None:
        entry["maxLength"] = cf.max_length
    if cf.regexp:
        entry["regularExpression"] = cf.regexp
    if cf.format == FieldFormat.LIST:
        entry["_links"] = {"allowedValues": [link(href("custom_options", o.pk), o.value) for o in cf.options.all()]}
    return entry


def option_json(option: CustomOption) -> dict:
    return {"_type": "CustomOption", "id": option.pk, "value": option.value,
            "_links": {"self": link(href("custom_options", option.pk), option.value)}}


class CustomOptionView(V3View):
    def get(self, request, pk: int):
        option = CustomOption.objects.filter(pk=pk, custom_field__deleted_at__isnull=True).first()
        if option is None:
            raise NotFound("Custom option not found.", entity="custom option")
        return Response(option_json(option))


urlpatterns = [
    path("custom_options/<id:pk>", CustomOptionView.as_view()),
]
