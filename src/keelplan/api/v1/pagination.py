"""Cursor pages for the v1 dialect: ``{count, next, previous, results}``, ordered by id, ``?page_size=`` up to 1000."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from django.core import signing
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from keelplan.core.errors import InvalidInput
from keelplan.core.validation import MAX_ID

MAX_PAGE_SIZE = 1000
_CURSOR_SALT = "keelplan.api.v1.list-cursor"


class CursorPage(pagination.CursorPagination):
    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    cursor_query_param = "cursor"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": ["A whole number is required."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"Must be between 1 and {self.max_page_size}."]})
        return size

    def encode_cursor(self, cursor):
        # DRF's cursor is readable base64 a client can edit (a huge offset is a slow query, any position a
        # probe); ours is signed, so only a cursor this server handed out is followed. Pages are ordered by the
        # unique id, so DRF never hands out an offset here: the position and the direction are all there is.
        fields = {"r": "1"} if cursor.reverse else {}
        if cursor.position is not None:
            fields["p"] = str(cursor.position)
        text = "&".join(f"{key}={value}" for key, value in fields.items())
        payload = base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")
        token = signing.Signer(salt=_CURSOR_SALT, sep=".").sign(payload)
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def decode_cursor(self, request):
        token = request.query_params.get(self.cursor_query_param)
        if not token:
            return None
        try:
            payload = signing.Signer(salt=_CURSOR_SALT, sep=".").unsign(token)
            text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("ascii")
            fields = {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}
            position = int(fields["p"])
        except (signing.BadSignature, binascii.Error, UnicodeDecodeError, KeyError, ValueError):
            raise NotFound(self.invalid_cursor_message) from None
        # Every cursor handed out names a row's id; checked although signed, in case the secret key leaks.
        if set(fields) - {"p", "r"} or fields.get("r", "1") != "1" or not 1 <= position <= MAX_ID:
            raise NotFound(self.invalid_cursor_message)
        return pagination.Cursor(offset=0, reverse="r" in fields, position=str(position))

    def paginate_queryset(self, queryset, request, view=None):
        self.count = queryset.count()
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise InvalidInput("Invalid cursor.", field="cursor", code="invalid_cursor") from None

    def get_paginated_response(self, data):
        return Response({"count": self.count, "next": self.get_next_link(), "previous": self.get_previous_link(),
                         "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "results"],
            "properties": {
                "count": {"type": "integer"},
                "next": {"type": ["string", "null"], "format": "uri"},
                "previous": {"type": ["string", "null"], "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "The pagination cursor value.", "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Results per page (1-{self.max_page_size}, default {self.page_size}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size}},
        ]
