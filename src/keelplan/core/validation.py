"""Small validators that several services share."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation

from keelplan.core.errors import InvalidInput

IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
MAX_ID = 2**63 - 1
# ASCII only: ``int()`` and ``str.isdigit()`` take "５５", " 5", "+5" and "1_0" too, which would make one id
# answer to many spellings (and a filter match a row the client never named).
_DIGITS = re.compile(r"[0-9]+")
_SIGNED_DIGITS = re.compile(r"-?[0-9]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}")


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


def require_schedulable(problem: str | None, *, field: str, what: str, also: tuple[str, ...] = ()) -> None:
    """Refuse a date the scheduler's bounds (``keelplan.engine.limits``, whose checks gave ``problem``) do not
    accept: ``date_out_of_range``, naming ``field`` (and the ``also`` fields, other names of the same value)."""
    if problem is not None:
        message = f"The {what} {problem}."
        raise InvalidInput(message, field=field, code="date_out_of_range",
                           errors={name: [message] for name in (field, *also)})


def parse_id(value, *, field: str) -> int:
    """``value`` as a row id: a JSON integer or a string of ASCII digits, from 1 to 2**63-1.

    Anything else is an InvalidInput naming ``field``: a wrong type (``true``, ``5.0``, ``"５５"``, ``" 5"``,
    ``"+5"``) as "Incorrect type", a number out of range as "No such object" -- the words a reference to a
    missing row gets, so an id out of range reads like any other id that names nothing.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"Incorrect type. Expected an integer id, received {type(value).__name__}.", field=field)
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise InvalidInput("Incorrect type. Expected an integer id, received str.", field=field)
        # More than 19 significant digits is out of range; int() of a huge string would be slow or refused.
        number = int(value) if len(value.lstrip("0")) <= 19 else MAX_ID + 1
    else:
        number = value
    if not 1 <= number <= MAX_ID:
        raise InvalidInput(f"No such object: {value}.", field=field)
    return number


def parse_whole_number(value, *, field: str, low: int, high: int) -> int:
    """``value`` (a JSON integer, or ASCII digits with an optional minus, as in a query string) between ``low``
    and ``high`` inclusive."""
    if isinstance(value, str):
        if not _SIGNED_DIGITS.fullmatch(value):
            raise InvalidInput("A whole number is required.", field=field)
        if len(value.lstrip("-0")) > 19:
            raise InvalidInput(f"Must be between {low} and {high}.", field=field)
        value = int(value)
    return require_int_range(value, field=field, low=low, high=high)


def parse_uid(value, *, field: str, allow_nil: bool = False) -> uuid.UUID:
    """``value`` as a UUID: text in the usual 8-4-4-4-12 form or as 32 hex digits, any letter case.

    ``uuid.UUID`` alone also takes braces, a ``urn:uuid:`` prefix, spaces, underscores and non-ASCII digits.
    A uid a client gives a new row must not be the nil UUID (``allow_nil`` is for references, which simply find
    nothing): every client that forgot to make one would send that same value.
    """
    if isinstance(value, uuid.UUID):
        uid = value
    elif isinstance(value, str) and _UUID.fullmatch(value):
        uid = uuid.UUID(value)
    else:
        raise InvalidInput("Must be a valid UUID.", field=field)
    if uid.int == 0 and not allow_nil:
        raise InvalidInput("The nil UUID cannot name a row; give each new row a random UUID.", field=field)
    return uid
