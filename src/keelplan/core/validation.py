"""Small validators that several services share."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from keelplan.core.errors import InvalidInput

IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")


def require_text(value, *, field: str, max_length: int, allow_blank: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput("Must be a string.", field=field)
    value = value.strip()
    if not value and not allow_blank:
        raise InvalidInput("This field may not be blank.", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"Ensure this field has no more than {max_length} characters.", field=field)
    return value


def require_int_range(value, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("A whole number is required.", field=field)
    if not low <= value <= high:
        raise InvalidInput(f"Must be between {low} and {high}.", field=field)
    return value


def require_decimal(value, *, field: str, low: Decimal, high: Decimal, places: int = 2) -> Decimal:
    """``value`` as a Decimal rounded to ``places``, between ``low`` and ``high`` inclusive."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput("Must be a number.", field=field) from None
    if not number.is_finite() or not low <= number <= high:
        raise InvalidInput(f"Must be between {low} and {high}.", field=field)
    return number.quantize(Decimal(1).scaleb(-places))
