"""Serializer fields shared by the v1 dialect's serializers."""

from __future__ import annotations

from rest_framework import serializers

from keelplan.core.errors import InvalidInput
from keelplan.core.validation import parse_id


class ObjectField(serializers.PrimaryKeyRelatedField):
    """A reference by integer id. Non-integers (and digits other than ASCII ones) and out-of-range ids are a 400
    naming the field, never a database error.

    ``scope(actor)`` narrows what may be referenced to what the requesting user may see: a row of a project they
    are not a member of is answered exactly as an id that does not exist ("No such object"), so a reference
    never tells anyone a row exists. Without a request to take the actor from, a scoped field finds nothing.
    """

    default_error_messages = {
        "incorrect_type": "Incorrect type. Expected an integer id, received {data_type}.",
        "does_not_exist": "No such object: {pk_value}.",
    }

    def __init__(self, *, scope=None, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.scope is None:
            return queryset
        request = self.context.get("request") if isinstance(self.context, dict) else None
        actor = getattr(request, "user", None)
        if actor is None or not getattr(actor, "is_authenticated", False):
            return queryset.none()
        return self.scope(actor)

    def to_internal_value(self, data):
        try:
            value = parse_id(data, field=self.field_name)  # the one reading of an id, shared with bulk and push
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.message, code="invalid") from None
        return super().to_internal_value(value)


class StrictIntegerField(serializers.IntegerField):
    """An integer that must arrive as a JSON number (not "5", not 5.5, not true)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            if isinstance(data, float) and data.is_integer():
                data = int(data)
            else:
                self.fail("invalid")
        return super().to_internal_value(data)


class _Coded:
    """Stands in for a related row when only its code was read."""

    def __init__(self, slug_field: str, code: str):
        setattr(self, slug_field, code)


class CodeField(serializers.SlugRelatedField):
    """A reference by code (``IN_PROGRESS``). Text PostgreSQL cannot compare (a NUL byte) is "no such object",
    not a database error. A queryset may annotate ``<field>_code`` so rows render without loading the related
    object."""

    def get_attribute(self, instance):
        code = getattr(instance, f"{self.source}_code", None) if self.source else None
        if code is not None:
            return _Coded(self.slug_field, code)
        return super().get_attribute(instance)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)
