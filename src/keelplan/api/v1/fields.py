"""Serializer fields shared by the v1 dialect's serializers."""

from __future__ import annotations

from rest_framework import serializers

MAX_ID = 2**63 - 1


class ObjectField(serializers.PrimaryKeyRelatedField):
    """A reference by integer id. Non-integers and out-of-range ids are a 400 naming the field, never a
    database error."""

    default_error_messages = {
        "incorrect_type": "Incorrect type. Expected an integer id, received {data_type}.",
        "does_not_exist": "No such object: {pk_value}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= value <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
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
