"""Reading input values the one way every service does, whichever dialect called it.

The small ``require_*``/``parse_*`` functions check one value. ``Fields`` declares a row's writable fields with a
kind each (``Text``, ``Integer``, ``Number``, ``Boolean``, ``Date``, ``Choice``, ``Reference``); a service calls
``FIELDS.clean(values)`` first, so ``None``, empty, too long and wrong-type values are refused with a registered
code naming the field before anything touches the database.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from keelplan.core.errors import ErrorCode, InvalidInput

IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
MAX_ID = 2**63 - 1
# ASCII only: ``int()`` and ``str.isdigit()`` take "５５", " 5", "+5" and "1_0" too, which would make one id
# answer to many spellings (and a filter match a row the client never named).
_DIGITS = re.compile(r"[0-9]+")
_SIGNED_DIGITS = re.compile(r"-?[0-9]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}")


def require_text(value, *, field: str, max_length: int, allow_blank: bool = False) -> str:
    """``value`` stripped; ``None`` is empty text. Refused: not text (``invalid_type``), empty unless ``allow_blank``
    (``blank``), longer than ``max_length`` (``too_long``), or holding a NUL, which PostgreSQL cannot store
    (``invalid``)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput("Must be text.", field=field, code=ErrorCode.INVALID_TYPE, expected="string")
    value = value.strip()
    if not value and not allow_blank:
        raise InvalidInput("May not be blank.", field=field, code=ErrorCode.BLANK)
    if len(value) > max_length:
        raise InvalidInput(f"At most {max_length} characters.", field=field, code=ErrorCode.TOO_LONG,
                           max_length=max_length)
    if "\x00" in value:
        raise InvalidInput("Null characters are not allowed.", field=field)
    return value


@lru_cache(maxsize=1)
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def require_time_zone(value: str, *, field: str) -> str:
    """``value`` if it is an IANA time zone name (``Europe/London``, ``UTC``), else InvalidInput naming ``field``."""
    if value not in _time_zone_names():
        raise InvalidInput("Not a time zone: use an IANA name such as Europe/London or UTC.", field=field,
                           code=ErrorCode.INVALID_CHOICE, choices="IANA time zone names")
    return value


def require_int_range(value, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("A whole number is required.", field=field, code=ErrorCode.INVALID_TYPE, expected="integer")
    if not low <= value <= high:
        raise InvalidInput(f"Must be between {low} and {high}.", field=field, code=ErrorCode.OUT_OF_RANGE,
                           min_value=low, max_value=high)
    return value


def require_decimal(value, *, field: str, low: Decimal, high: Decimal, places: int = 2) -> Decimal:
    """``value`` as a Decimal rounded to ``places``, between ``low`` and ``high`` inclusive."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise InvalidInput("Must be a number.", field=field, code=ErrorCode.INVALID_TYPE, expected="number")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput("Must be a number.", field=field, code=ErrorCode.INVALID_TYPE, expected="number") from None
    if not number.is_finite() or not low <= number <= high:
        raise InvalidInput(f"Must be between {low} and {high}.", field=field, code=ErrorCode.OUT_OF_RANGE,
                           min_value=low, max_value=high)
    return number.quantize(Decimal(1).scaleb(-places))


def require_schedulable(problem: str | None, *, field: str, what: str, also: tuple[str, ...] = ()) -> None:
    """Refuse a date the scheduler's bounds (``keelplan.engine.limits``, whose checks gave ``problem``) do not
    accept: ``date_out_of_range``, naming ``field`` (and the ``also`` fields, other names of the same value)."""
    if problem is not None:
        message = f"The {what} {problem}."
        raise InvalidInput(message, field=field, code=ErrorCode.DATE_OUT_OF_RANGE,
                           errors={name: [message] for name in (field, *also)})


def parse_id(value, *, field: str) -> int:
    """``value`` as a row id: a JSON integer or a string of ASCII digits, from 1 to 2**63-1.

    Anything else is an InvalidInput naming ``field``: a wrong type (``true``, ``5.0``, ``"５５"``, ``" 5"``,
    ``"+5"``) as "Incorrect type", a number out of range as "No such object" -- the words a reference to a
    missing row gets, so an id out of range reads like any other id that names nothing.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"Incorrect type. Expected an integer id, received {type(value).__name__}.", field=field,
                           code=ErrorCode.INVALID_TYPE, expected="integer")
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise InvalidInput("Incorrect type. Expected an integer id, received str.", field=field,
                               code=ErrorCode.INVALID_TYPE, expected="integer")
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
            raise InvalidInput("A whole number is required.", field=field, code=ErrorCode.INVALID_TYPE,
                               expected="integer")
        if len(value.lstrip("-0")) > 19:
            raise InvalidInput(f"Must be between {low} and {high}.", field=field, code=ErrorCode.OUT_OF_RANGE,
                               min_value=low, max_value=high)
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
        raise InvalidInput("Must be a valid UUID.", field=field, code=ErrorCode.INVALID_FORMAT, pattern="uuid")
    if uid.int == 0 and not allow_nil:
        raise InvalidInput("The nil UUID cannot name a row; give each new row a random UUID.", field=field)
    return uid


# ---------------------------------------------------------------- declared fields

class Field:
    """One writable field's kind. ``null``: ``None`` is a value (else it is refused with ``null``)."""

    null = False

    def clean(self, value, *, field: str):
        if value is None:
            if self.null:
                return None
            raise InvalidInput("May not be empty.", field=field, code=ErrorCode.NULL)
        return self.convert(value, field=field)

    def convert(self, value, *, field: str):
        return value


class Text(Field):
    """Text, stripped. ``blank``: empty text is a value (and ``None`` stands for it). ``pattern``: a regexp the
    whole text must match (``pattern_name`` says what it must look like, for the message)."""

    def __init__(self, max_length: int, *, blank: bool = False, null: bool = False, min_length: int = 0,
                 pattern: str | None = None, pattern_name: str | None = None, strip: bool = True):
        self.max_length, self.min_length, self.blank, self.null = max_length, min_length, blank, null
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_name = pattern_name or pattern
        self.strip = strip

    def clean(self, value, *, field: str):
        if value is None and self.blank and not self.null:
            return ""
        return super().clean(value, field=field)

    def convert(self, value, *, field: str) -> str:
        if not isinstance(value, str):
            raise InvalidInput("Must be text.", field=field, code=ErrorCode.INVALID_TYPE, expected="string")
        if self.strip:
            value = value.strip()
        if not value:
            if self.blank:
                return value
            raise InvalidInput("May not be blank.", field=field, code=ErrorCode.BLANK)
        if "\x00" in value:
            raise InvalidInput("Null characters are not allowed.", field=field)
        if len(value) > self.max_length:
            raise InvalidInput(f"At most {self.max_length} characters.", field=field, code=ErrorCode.TOO_LONG,
                               max_length=self.max_length)
        if len(value) < self.min_length:
            raise InvalidInput(f"At least {self.min_length} characters.", field=field, code=ErrorCode.TOO_SHORT,
                               min_length=self.min_length)
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise InvalidInput(f"Must look like {self.pattern_name}.", field=field, code=ErrorCode.INVALID_FORMAT,
                               pattern=self.pattern_name)
        return value


class Integer(Field):
    def __init__(self, min_value: int, max_value: int, *, null: bool = False):
        self.min_value, self.max_value, self.null = min_value, max_value, null

    def convert(self, value, *, field: str) -> int:
        return require_int_range(value, field=field, low=self.min_value, high=self.max_value)


class Number(Field):
    """A decimal number, rounded to ``places``; ints, floats, Decimals and numeric text are read."""

    def __init__(self, min_value, max_value, *, places: int = 2, null: bool = False):
        self.min_value, self.max_value = Decimal(str(min_value)), Decimal(str(max_value))
        self.places, self.null = places, null

    def convert(self, value, *, field: str) -> Decimal:
        return require_decimal(value, field=field, low=self.min_value, high=self.max_value, places=self.places)


class Boolean(Field):
    def convert(self, value, *, field: str) -> bool:
        if not isinstance(value, bool):
            raise InvalidInput("Must be true or false.", field=field, code=ErrorCode.INVALID_TYPE, expected="boolean")
        return value


class Date(Field):
    """A calendar date: a ``date`` (not a datetime) or ISO text ``YYYY-MM-DD``."""

    def __init__(self, *, null: bool = False):
        self.null = null

    def convert(self, value, *, field: str) -> dt.date:
        if isinstance(value, dt.datetime) or not isinstance(value, (dt.date, str)):
            raise InvalidInput("Must be a date (YYYY-MM-DD).", field=field, code=ErrorCode.INVALID_TYPE,
                               expected="date")
        if isinstance(value, str):
            return parse_date(value, field=field)
        return value


class Choice(Field):
    """One of ``choices`` (their values; a Django ``Choices`` class may be given)."""

    def __init__(self, choices, *, null: bool = False):
        self.choices = list(getattr(choices, "values", choices))
        self.null = null

    def convert(self, value, *, field: str):
        if (isinstance(value, bool) or not isinstance(value, tuple({type(c) for c in self.choices}))
                or value not in self.choices):
            shown = ", ".join(str(c) for c in self.choices)
            raise InvalidInput(f"Must be one of {shown}.", field=field, code=ErrorCode.INVALID_CHOICE,
                               choices=list(self.choices))
        return value


class Reference(Field):
    """A row of ``model`` (an instance, as services take references), live if the model soft-deletes. Whether the
    actor may use that row is the service's rule, not this one's."""

    def __init__(self, model, *, null: bool = False, entity: str | None = None):
        self.model, self.null = model, null
        self.entity = entity or model._meta.verbose_name

    def convert(self, value, *, field: str):
        if not isinstance(value, self.model) or value.pk is None:
            raise InvalidInput(f"Must be a {self.entity}.", field=field, code=ErrorCode.INVALID_TYPE,
                               expected=self.entity)
        if getattr(value, "deleted_at", None) is not None:
            raise InvalidInput(f"No such {self.entity}.", field=field, code=ErrorCode.INVALID_REFERENCE,
                               entity=self.entity)
        return value


class Fields(dict):
    """A row's writable fields: name -> ``Field``. ``clean`` reads a dict of new values the one way."""

    def clean(self, values: Mapping, *, required: tuple[str, ...] = ()) -> dict:
        """``values`` cleaned, refusing a field not declared (``unknown_field``) and a ``required`` one absent."""
        unknown = sorted(set(values) - set(self))
        if unknown:
            raise InvalidInput(f"There is no field {unknown[0]!r}.", field=unknown[0], code=ErrorCode.UNKNOWN_FIELD)
        for name in required:
            if name not in values:
                raise InvalidInput("Required.", field=name, code=ErrorCode.REQUIRED)
        return {name: self[name].clean(value, field=name) for name, value in values.items()}


def parse_date(value: str, *, field: str) -> dt.date:
    """ISO ``YYYY-MM-DD`` text as a date: ``invalid_date`` for text that is not one (2026-02-30 included)."""
    if len(value) != 10 or not _ISO_DATE.fullmatch(value):
        raise InvalidInput("Must be a date (YYYY-MM-DD).", field=field, code=ErrorCode.INVALID_DATE)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("Not a calendar date.", field=field, code=ErrorCode.INVALID_DATE) from None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
