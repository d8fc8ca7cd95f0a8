"""The v1 JSON renderer writes what DRF's JSONRenderer writes, faster."""

from __future__ import annotations

import json
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from keelplan.api.common.renderers import FastJSONRenderer

SAMPLE = {
    "text": "Snag list – ünïcode ✓", "int": 7, "float": 37.5, "none": None, "bool": True,
    "list": ReturnList([1, "two", {"three": 3}], serializer=None),
    "nested": ReturnDict({"a": [], "b": {}}, serializer=None),
    "decimal": Decimal("0.50"), "lazy": gettext_lazy("This field is required."), "set": {4},
    "tuple": (1, 2),
}


def test_the_output_decodes_to_what_drf_renders():
    fast = FastJSONRenderer().render(SAMPLE)
    assert json.loads(fast) == json.loads(JSONRenderer().render(SAMPLE))
    assert "ünïcode".encode() in fast  # UTF-8, not \\u escapes


def test_pretty_printing_on_request_is_drfs():
    context = {"indent": 2}
    assert FastJSONRenderer().render({"a": 1}, "application/json; indent=2", context) == \
        JSONRenderer().render({"a": 1}, "application/json; indent=2", context)


def test_nothing_renders_as_an_empty_body():
    assert FastJSONRenderer().render(None) == b""
