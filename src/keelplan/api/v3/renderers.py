"""HAL+JSON in and out for the OpenProject v3 dialect.

Every answer is ``application/hal+json; charset=utf-8`` whatever the client's ``Accept`` says (real clients send
``application/json``, ``*/*`` or ``application/hal+json``; pyopenproject decodes only HAL). Bodies are read as
JSON whether sent as ``application/json`` or ``application/hal+json``, with any charset parameter; a write with
no ``Content-Type`` at all is refused as OpenProject refuses it, with 406 and a plain-text line.
"""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation

from keelplan.api.common.bodies import JSONBodyParser
from keelplan.api.common.renderers import FastJSONRenderer

HAL_MEDIA_TYPE = "application/hal+json"


class HalJSONRenderer(FastJSONRenderer):
    media_type = HAL_MEDIA_TYPE
    format = "json"
    charset = "utf-8"


class HalJSONParser(JSONBodyParser):
    media_type = HAL_MEDIA_TYPE


class AlwaysHal(BaseContentNegotiation):
    """The HAL renderer for every request (a v3 client never gets a 406 for its ``Accept`` header), and the
    JSON parser for ``application/json`` and ``application/hal+json``."""

    def select_parser(self, request, parsers):
        media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        for parser in parsers:
            if parser.media_type == media_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
