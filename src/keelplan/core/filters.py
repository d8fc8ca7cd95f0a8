"""OpenProject's filter language (``filters``, ``sortBy``), read once for every dialect that speaks it.

A dialect declares, per collection, a dict ``name -> spec`` built from the specs below (``IntegerFilter``,
``StringFilter``, ``TextFilter``, ``BooleanFilter``, ``DateFilter``, ``DateTimeFilter``, ``StatusFilter``,
``PrincipalFilter``, ``ChoiceFilter``, ``CustomFilter``); ``parse_filters`` reads the client's JSON and
``apply_filters`` checks each filter against its spec and narrows a queryset, never evaluating it. Every refusal
is an ``InvalidInput`` with code ``invalid_query`` and field ``filters`` (``sortBy`` for ``parse_sort``), also
naming ``filter`` and ``operator`` where known, so no input reaches the database as an error.

Wire form: ``[{"<name>": {"operator": "<op>", "values": ["..."]}}]``, entries ANDed, at most
``MAX_FILTERS`` filters of at most ``MAX_VALUES`` values. Values are strings (a JSON integer is read as its
digits); ``values`` may be null or absent for the operators that take none.

Operators (a positive operator matches a row when any of the spec's paths matches; its negation is the
exact complement, so ``!``, ``!~`` and ``!*`` include rows whose field is null):

- ``=`` any of the values; ``!`` none of them. Strings compare exactly, or ignoring case for a spec made with
  ``ignore_case=True`` (Python's lower case against SQL ``LOWER``, which on SQLite folds ASCII letters only).
- ``>=`` / ``<=`` one integer.
- ``~`` one value; matches when every whitespace-separated word of it (at most ``MAX_WORDS``) occurs in some
  path, ignoring case (OpenProject's ``ContainsAllValues``). ``!~`` is its complement. ``**`` (search) is
  ``~`` over all the paths a text spec lists.
- ``*`` a value is set (for strings: not null and not blank); ``!*`` none is.
- ``o`` / ``c`` the status is open / closed (the spec's ``closed_path``).
- ``ow`` the row's principal is the actor; ``"me"`` among the values of ``=`` / ``!`` names the actor too. An
  actor without an id (anonymous) owns nothing.

Date operators, after OpenProject's ``Queries::Operators`` (``DateRangeClauses.relative_date_range_clause``:
from the start of day ``today + from`` to the end of day ``today + to``, both days included). N is one
whole number of days, 0 to ``MAX_DAYS``:

- ``t`` today; ``w`` this week, Monday to Sunday (OpenProject's default week; its SQL also takes the next
  Monday's midnight, which Keelplan does not);
- ``t-`` N: exactly N days ago; ``t+`` N: exactly in N days;
- ``>t-`` N (``LessThanAgo``): from N days ago to today; ``<t-`` N (``MoreThanAgo``): N days ago or earlier;
- ``<t+`` N (``InLessThan``): from today to N days ahead; ``>t+`` N (``InMoreThan``): N days ahead or later;
- ``=d`` one date; ``<>d`` two dates, inclusive, either of them ``""`` for an open end (not both).

Dates are ``YYYY-MM-DD``. "Today" is ``timezone.localdate()`` (the active time zone: the actor's) unless
``apply_filters`` is given ``today``. A datetime field compares by its local date: day D is the instants from
D's local midnight to the next. A datetime field's ``=d`` / ``<>d`` value may instead be an ISO 8601 instant
(``2026-03-01T08:00:00Z``; without an offset it is local time), as OpenProject's ``OnDateTime`` /
``BetweenDateTime`` take: ``=d`` then means the 24 hours from it, ``<>d`` the instants between the two.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.utils import timezone

from keelplan.core.errors import InvalidInput

MAX_FILTERS = 100
MAX_VALUES = 1000
MAX_VALUE_LENGTH = 1000
MAX_WORDS = 20
MAX_DAYS = 100_000
MAX_SORT_KEYS = 20
MIN_INT, MAX_INT = -(2**63), 2**63 - 1

# Values each operator takes: (fewest, most); None = no upper bound. Operators not listed (a custom spec's
# own) are passed through as given.
_ARITY = {
    "=": (1, None), "!": (1, None), ">=": (1, 1), "<=": (1, 1),
    "~": (1, 1), "!~": (1, 1), "**": (1, 1),
    "*": (0, 0), "!*": (0, 0), "o": (0, 0), "c": (0, 0), "t": (0, 0), "w": (0, 0), "ow": (0, 0),
    "=d": (1, 1), "<>d": (2, 2),
    "t-": (1, 1), "t+": (1, 1), "<t+": (1, 1), ">t+": (1, 1), ">t-": (1, 1), "<t-": (1, 1),
}
_NEGATIONS = {"!": "=", "!~": "~", "!*": "*"}
_RELATIVE = frozenset({"t-", "t+", "<t+", ">t+", ">t-", "<t-"})
_DATE_OPERATORS = frozenset({"=d", "<>d", "t", "w", *_RELATIVE, "*", "!*"})

_SIGNED_DIGITS = re.compile(r"-?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?")
_BOOLEANS = {"t": True, "true": True, "f": False, "false": False}
_UTC_MIN = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
_UTC_MAX = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class Filter:
    """One filter as the client wrote it: a name, an operator and its values (strings)."""

    name: str
    operator: str
    values: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Context:
    actor: Any
    today: dt.date


def _show(text: str, limit: int = 40) -> str:
    """``text`` fit for a message: cut to ``limit`` characters, control and unpaired surrogate characters escaped."""
    cut = text[:limit]
    shown = "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}" for c in cut)
    return shown + ("…" if len(text) > limit else "")


def _refuse(message: str, *, field: str = "filters", **extra):
    # The extras echo the client's text; an unpaired surrogate in it would break the dialect's JSON encoder.
    raise InvalidInput(message, code="invalid_query", field=field, **{
        key: value.encode("utf-8", "backslashreplace").decode("utf-8")
        for key, value in extra.items() if value is not None
    })


# ---- parsing the wire form ----

def _load_json(raw, *, what: str, field: str):
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            _refuse(f"{what} are not valid JSON.", field=field)
    if isinstance(raw, str):
        if not raw.strip():
            return []
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            _refuse(f"{what} are not valid JSON.", field=field)
    return raw


def parse_filters(raw: str | bytes | list | None) -> list[Filter]:
    """The filters in ``raw`` (JSON text, or the list it parses to); None or blank text is no filter.

    Only the shape is checked here; which names, operators and values are allowed is ``apply_filters``' job.
    """
    if raw is None:
        return []
    entries = _load_json(raw, what="Filters", field="filters")
    if not isinstance(entries, list):
        _refuse("Filters must be a JSON list of objects such as "
                '[{"id": {"operator": "=", "values": ["1"]}}].')
    if len(entries) > MAX_FILTERS:
        _refuse(f"At most {MAX_FILTERS} filters are allowed; {len(entries)} were given.")
    return [_parse_entry(entry, position) for position, entry in enumerate(entries, start=1)]


def _parse_entry(entry, position: int) -> Filter:
    if not isinstance(entry, dict) or len(entry) != 1:
        _refuse(f"Filter {position} must be an object naming one filter, such as "
                '{"id": {"operator": "=", "values": ["1"]}}.')
    ((name, body),) = entry.items()
    if not isinstance(name, str) or not name:
        _refuse(f"Filter {position} has no name.")
    if not isinstance(body, dict):
        _refuse(f"Filter '{_show(name)}' must be an object with an operator and values.", filter=name)
    operator = body.get("operator")
    if not isinstance(operator, str) or not operator:
        _refuse(f"Filter '{_show(name)}' needs an operator.", filter=name)
    values = body.get("values")
    if values is None:
        values = []
    if not isinstance(values, list):
        _refuse(f"Values of filter '{_show(name)}' must be a list of strings.", filter=name, operator=operator)
    if len(values) > MAX_VALUES:
        _refuse(f"Filter '{_show(name)}' has {len(values)} values; at most {MAX_VALUES} are allowed.",
                filter=name, operator=operator)
    texts = []
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                value = str(value)
            except ValueError:   # more digits than Python converts
                _refuse(f"A value of filter '{_show(name)}' is too long.", filter=name, operator=operator)
        if not isinstance(value, str):
            _refuse(f"Values of filter '{_show(name)}' must be strings.", filter=name, operator=operator)
        texts.append(value)
    return Filter(name, operator, tuple(texts))


def parse_sort(raw: str | bytes | list | None, allowed: Mapping[str, str | Sequence[str]]) -> list[str]:
    """``sortBy`` (``[["id", "asc"], ["name", "desc"]]``, JSON text or parsed) as ``order_by`` arguments.

    ``allowed`` maps each sortable name to its ORM field (or fields, sorted in turn). None or blank is no order.
    """
    if raw is None:
        return []
    keys = _load_json(raw, what="Sort criteria", field="sortBy")
    if not isinstance(keys, list):
        _refuse('sortBy must be a JSON list of [name, direction] pairs such as [["id", "asc"]].', field="sortBy")
    if len(keys) > MAX_SORT_KEYS:
        _refuse(f"At most {MAX_SORT_KEYS} sort criteria are allowed; {len(keys)} were given.", field="sortBy")
    order = []
    for position, key in enumerate(keys, start=1):
        if not (isinstance(key, list) and len(key) == 2 and all(isinstance(part, str) for part in key)):
            _refuse(f'Sort criterion {position} must be a [name, direction] pair such as ["id", "asc"].',
                    field="sortBy")
        name, direction = key
        if name not in allowed:
            _refuse(f"Sorting by '{_show(name)}' is not supported.", field="sortBy", sort=name)
        if direction not in ("asc", "desc"):
            _refuse(f"Sort direction '{_show(direction)}' of '{name}' must be 'asc' or 'desc'.", field="sortBy",
                    sort=name)
        fields = allowed[name]
        for field in (fields,) if isinstance(fields, str) else fields:
            order.append(field if direction == "asc" else f"-{field}")
    return order


# ---- specs ----

class FilterSpec:
    """What one filter name means: the operators it allows, how its values read and which rows they match.

    ``paths`` are ORM lookup paths; a positive operator matches when any of them does.
    """

    kind = "custom"
    supported: frozenset[str] = frozenset()
    default_operators: frozenset[str] | None = None   # None: all of ``supported``

    def __init__(self, *paths: str, operators: Iterable[str] | None = None):
        if not paths:
            raise TypeError(f"{type(self).__name__} needs at least one lookup path.")
        self.paths = paths
        chosen = frozenset(operators) if operators is not None else (self.default_operators or self.supported)
        if chosen - self.supported:
            raise ValueError(f"{type(self).__name__} does not support {sorted(chosen - self.supported)}.")
        self.operators = chosen

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.paths))})"

    def parse_value(self, value: str, filter: Filter):
        """``value`` of ``filter`` read for this spec (``_refuse_value`` when it does not read)."""
        return value

    def parse_values(self, filter: Filter) -> tuple:
        return tuple(self.parse_value(value, filter) for value in filter.values)

    def apply(self, queryset, operator: str, values: tuple, context: _Context):
        return queryset.filter(self.condition(operator, values, context))

    def condition(self, operator: str, values: tuple, context: _Context) -> Q:
        if operator in _NEGATIONS:
            return ~self.condition(_NEGATIONS[operator], values, context)
        if operator == "*":
            return self._any(lambda path: self._set(path))
        return self.match(operator, values, context)

    def match(self, operator: str, values: tuple, context: _Context) -> Q:
        raise NotImplementedError

    def _any(self, build: Callable[[str], Q]) -> Q:
        condition = Q()
        for path in self.paths:
            condition |= build(path)
        return condition

    def _set(self, path: str) -> Q:
        return Q(**{f"{path}__isnull": False})


def _refuse_value(value: str, filter: Filter, problem: str):
    _refuse(f"Value '{_show(value)}' of filter '{_show(filter.name)}' {problem}.",
            filter=filter.name, operator=filter.operator)


def _read_integer(value: str, filter: Filter, *, low: int = MIN_INT) -> int:
    if not _SIGNED_DIGITS.fullmatch(value):
        _refuse_value(value, filter, "is not an integer")
    # Digits beyond 19 are out of range whatever they say; int() of a huge string would be slow.
    if len(value.lstrip("-0")) > 19 or not low <= int(value) <= MAX_INT:
        _refuse_value(value, filter, f"is out of range ({low} to {MAX_INT})")
    return int(value)


class IntegerFilter(FilterSpec):
    """A whole-number field or an id: ``=``, ``!``, ``>=``, ``<=``, ``*``, ``!*``."""

    kind = "integer"
    supported = frozenset({"=", "!", ">=", "<=", "*", "!*"})

    def parse_value(self, value, filter):
        return _read_integer(value, filter)

    def match(self, operator, values, context):
        if operator == "=":
            return self._any(lambda path: Q(**{f"{path}__in": sorted(set(values))}))
        lookup = {">=": "gte", "<=": "lte"}[operator]
        return self._any(lambda path: Q(**{f"{path}__{lookup}": values[0]}))


def _read_text(value: str, filter: Filter) -> str:
    if len(value) > MAX_VALUE_LENGTH:
        _refuse_value(value, filter, f"is longer than {MAX_VALUE_LENGTH} characters")
    if "\x00" in value:
        _refuse_value(value, filter, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        _refuse_value(value, filter, "is not valid Unicode text")
    return value


class StringFilter(FilterSpec):
    """A short text field (one or more paths, e.g. name and identifier): ``=``, ``!``, ``~``, ``!~``, ``*``,
    ``!*``; ``**`` when asked for. ``ignore_case`` makes ``=`` / ``!`` ignore letter case."""

    kind = "string"
    supported = frozenset({"=", "!", "~", "!~", "**", "*", "!*"})
    default_operators = frozenset({"=", "!", "~", "!~", "*", "!*"})

    def __init__(self, *paths: str, ignore_case: bool = False, operators: Iterable[str] | None = None):
        super().__init__(*paths, operators=operators)
        self.ignore_case = ignore_case

    def parse_value(self, value, filter):
        value = _read_text(value, filter)
        if filter.operator in ("~", "!~", "**"):
            words = value.split()
            if not words:
                _refuse_value(value, filter, "has no word to look for")
            if len(set(words)) > MAX_WORDS:
                _refuse_value(value, filter, f"has more than {MAX_WORDS} words")
        return value

    def match(self, operator, values, context):
        if operator == "=":
            if self.ignore_case:
                lowered = sorted({value.lower() for value in values})
                # Not null as well, so that ``!`` (the negation) keeps rows whose field is null.
                return self._any(lambda path: Q(In(Lower(path), lowered)) & Q(**{f"{path}__isnull": False}))
            return self._any(lambda path: Q(**{f"{path}__in": sorted(set(values))}))
        # ``~`` and ``**``: every word somewhere.
        condition = Q()
        for word in dict.fromkeys(values[0].split()):
            condition &= self._any(lambda path: Q(**{f"{path}__icontains": word}))
        return condition

    def _set(self, path):
        return Q(**{f"{path}__isnull": False}) & ~Q(**{path: ""})


class TextFilter(StringFilter):
    """A long text field, or several searched together: ``~``, ``!~``, ``**``, ``*``, ``!*`` by default."""

    kind = "text"
    default_operators = frozenset({"~", "!~", "**", "*", "!*"})


def _read_boolean(value: str, filter: Filter) -> bool:
    if value not in _BOOLEANS:
        _refuse_value(value, filter, "is not a boolean ('t' or 'f')")
    return _BOOLEANS[value]


class BooleanFilter(FilterSpec):
    """A flag: ``=`` / ``!`` with ``t`` or ``f`` (also ``true`` / ``false``), ``*``, ``!*``."""

    kind = "boolean"
    supported = frozenset({"=", "!", "*", "!*"})
    default_operators = frozenset({"=", "!"})

    def parse_value(self, value, filter):
        return _read_boolean(value, filter)

    def match(self, operator, values, context):
        return self._any(lambda path: Q(**{f"{path}__in": sorted(set(values))}))


def _read_date(value: str, filter: Filter) -> dt.date:
    if not _DATE.fullmatch(value):
        _refuse_value(value, filter, "is not a date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _refuse_value(value, filter, "is not a valid date")


def _read_days(value: str, filter: Filter) -> int:
    if not _DIGITS.fullmatch(value) or len(value.lstrip("0")) > 6 or int(value) > MAX_DAYS:
        _refuse_value(value, filter, f"is not a whole number of days from 0 to {MAX_DAYS}")
    return int(value)


class DateFilter(FilterSpec):
    """A date field: ``=d``, ``<>d``, ``t``, ``w``, ``t-``, ``t+``, ``<t+``, ``>t+``, ``>t-``, ``<t-``, ``*``,
    ``!*`` (the module docstring gives their meaning)."""

    kind = "date"
    supported = _DATE_OPERATORS

    def parse_values(self, filter):
        values = super().parse_values(filter)
        if filter.operator == "<>d" and values == (None, None):
            _refuse(f"Filter '{_show(filter.name)}' with operator '<>d' needs at least one of its two dates.",
                    filter=filter.name, operator=filter.operator)
        return values

    def parse_value(self, value, filter):
        if filter.operator in _RELATIVE:
            return _read_days(value, filter)
        if filter.operator == "<>d" and value == "":
            return None
        return _read_date(value, filter)

    def match(self, operator, values, context):
        today = context.today
        if operator == "=d":
            return self._between(values[0], values[0])
        if operator == "<>d":
            return self._between(*values)
        if operator == "t":
            return self._between(today, today)
        if operator == "w":
            monday = today - dt.timedelta(days=today.weekday())
            return self._between(monday, monday + dt.timedelta(days=6))
        days = values[0]
        if operator == "t-":
            return self._between(today - dt.timedelta(days=days), today - dt.timedelta(days=days))
        if operator == "t+":
            return self._between(today + dt.timedelta(days=days), today + dt.timedelta(days=days))
        if operator == ">t-":
            return self._between(today - dt.timedelta(days=days), today)
        if operator == "<t-":
            return self._between(None, today - dt.timedelta(days=days))
        if operator == "<t+":
            return self._between(today, today + dt.timedelta(days=days))
        # ">t+"
        return self._between(today + dt.timedelta(days=days), None)

    def _between(self, first, last) -> Q:
        """Rows whose value lies from ``first`` to ``last`` (dates, both included; None = open end)."""
        def one(path):
            condition = Q(**{f"{path}__isnull": False})
            if first is not None:
                condition &= Q(**{f"{path}__gte": first})
            if last is not None:
                condition &= Q(**{f"{path}__lte": last})
            return condition
        return self._any(one)


def _local_midnight(day: dt.date) -> dt.datetime:
    """The instant ``day`` starts in the active time zone, in UTC; clamped to what Python can hold."""
    try:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min)).astimezone(dt.timezone.utc)
    except OverflowError:
        return _UTC_MIN if day.year == dt.MINYEAR else _UTC_MAX


def _read_instant(value: str, filter: Filter) -> dt.datetime:
    if not _INSTANT.fullmatch(value):
        _refuse_value(value, filter, "is not a date (YYYY-MM-DD) or a date and time (ISO 8601)")
    try:
        instant = dt.datetime.fromisoformat(value)
        if timezone.is_naive(instant):
            instant = timezone.make_aware(instant)
    except ValueError:
        _refuse_value(value, filter, "is not a valid date and time")
    try:
        return instant.astimezone(dt.timezone.utc)
    except OverflowError:
        return _UTC_MIN if instant.year == dt.MINYEAR else _UTC_MAX


class DateTimeFilter(DateFilter):
    """A date-and-time field, compared by its local date (or, for ``=d`` / ``<>d``, to given instants)."""

    kind = "datetime"

    def parse_value(self, value, filter):
        if filter.operator in ("=d", "<>d") and "T" in value:
            return _read_instant(value, filter)
        return super().parse_value(value, filter)

    def match(self, operator, values, context):
        if operator == "=d" and isinstance(values[0], dt.datetime):
            start = values[0]
            end = start + dt.timedelta(hours=24) if start < _UTC_MAX - dt.timedelta(hours=24) else _UTC_MAX
            return self._instants(start, end, end_included=False)
        return super().match(operator, values, context)

    def _between(self, first, last) -> Q:
        start = _local_midnight(first) if type(first) is dt.date else first
        if type(last) is dt.date:
            end_included = last == dt.date.max
            end = _UTC_MAX if end_included else _local_midnight(last + dt.timedelta(days=1))
        else:
            end, end_included = last, True
        return self._instants(start, end, end_included=end_included)

    def _instants(self, start, end, *, end_included: bool) -> Q:
        def one(path):
            condition = Q(**{f"{path}__isnull": False})
            if start is not None:
                condition &= Q(**{f"{path}__gte": start})
            if end is not None:
                condition &= Q(**{f"{path}__{'lte' if end_included else 'lt'}": end})
            return condition
        return self._any(one)


def _read_id(value: str, filter: Filter) -> int:
    return _read_integer(value, filter, low=1)


class StatusFilter(FilterSpec):
    """A status reference: ``=`` / ``!`` with status ids, ``o`` (open) and ``c`` (closed) read through
    ``closed_path`` (e.g. ``status__is_closed``), ``*``, ``!*``."""

    kind = "status"
    supported = frozenset({"=", "!", "o", "c", "*", "!*"})

    def __init__(self, path: str, *, closed_path: str, operators: Iterable[str] | None = None):
        super().__init__(path, operators=operators)
        self.closed_path = closed_path

    def parse_value(self, value, filter):
        return _read_id(value, filter)

    def match(self, operator, values, context):
        if operator == "o":
            return Q(**{self.closed_path: False})
        if operator == "c":
            return Q(**{self.closed_path: True})
        return self._any(lambda path: Q(**{f"{path}__in": sorted(set(values))}))


class PrincipalFilter(FilterSpec):
    """A reference to a person: ``=`` / ``!`` with user ids or ``me``, ``ow`` (the actor's own), ``*``, ``!*``."""

    kind = "principal"
    supported = frozenset({"=", "!", "ow", "*", "!*"})

    def parse_value(self, value, filter):
        return "me" if value == "me" else _read_id(value, filter)

    def match(self, operator, values, context):
        actor_id = getattr(context.actor, "pk", None)
        if operator == "ow":
            values = ("me",)
        ids = sorted({actor_id if value == "me" else value for value in values} - {None})
        return self._any(lambda path: Q(**{f"{path}__in": ids}))


class ChoiceFilter(FilterSpec):
    """One of a fixed list: ``=``, ``!``, ``*``, ``!*``. ``choices`` maps each wire value to the stored one
    (or lists values stored as they are written)."""

    kind = "list"
    supported = frozenset({"=", "!", "*", "!*"})
    default_operators = frozenset({"=", "!"})

    def __init__(self, *paths: str, choices: Mapping[str, Any] | Iterable[str],
                 operators: Iterable[str] | None = None):
        super().__init__(*paths, operators=operators)
        self.choices = dict(choices) if isinstance(choices, Mapping) else {choice: choice for choice in choices}

    def parse_value(self, value, filter):
        if value not in self.choices:
            known = ", ".join(sorted(self.choices)[:20])
            _refuse_value(value, filter, f"is not one of: {known}")
        return self.choices[value]

    def match(self, operator, values, context):
        return self._any(lambda path: Q(**{f"{path}__in": list(dict.fromkeys(values))}))


_VALUE_READERS: dict[str | None, Callable[[str, Filter], Any]] = {
    None: lambda value, filter: value,
    "string": _read_text,
    "integer": _read_integer,
    "id": _read_id,
    "boolean": _read_boolean,
    "date": _read_date,
}


class CustomFilter(FilterSpec):
    """A filter no other spec expresses (e.g. OpenProject's ``ancestor``): ``function(queryset, operator,
    values, actor)`` returns the narrowed queryset. ``values`` names how each value is read first: ``"id"``,
    ``"integer"``, ``"string"``, ``"boolean"``, ``"date"`` or None (as sent); the operator's value count is
    checked as for every spec."""

    kind = "custom"

    def __init__(self, function: Callable[[Any, str, tuple, Any], Any], *, operators: Iterable[str],
                 values: str | None = "string"):
        self.paths = ()
        self.supported = self.operators = frozenset(operators)
        self.function = function
        self.reader = _VALUE_READERS[values]

    def __repr__(self) -> str:
        return f"CustomFilter({getattr(self.function, '__name__', self.function)!r})"

    def parse_value(self, value, filter):
        return self.reader(value, filter)

    def apply(self, queryset, operator, values, context):
        return self.function(queryset, operator, values, context.actor)


# ---- applying ----

def _check(filter: Filter, specs: Mapping[str, FilterSpec]) -> tuple[FilterSpec, tuple]:
    spec = specs.get(filter.name)
    if spec is None:
        _refuse(f"Filter '{_show(filter.name)}' does not exist.", filter=filter.name, operator=filter.operator)
    if filter.operator not in spec.operators:
        _refuse(f"Operator '{_show(filter.operator)}' is not allowed for filter '{filter.name}'.",
                filter=filter.name, operator=filter.operator)
    if len(filter.values) > MAX_VALUES:
        _refuse(f"Filter '{filter.name}' has {len(filter.values)} values; at most {MAX_VALUES} are allowed.",
                filter=filter.name, operator=filter.operator)
    fewest, most = _ARITY.get(filter.operator, (0, None))
    count = len(filter.values)
    if count < fewest or (most is not None and count > most):
        if most == 0:
            needs = "takes no values"
        elif fewest == most:
            needs = "needs one value" if most == 1 else f"needs {most} values"
        else:
            needs = "needs at least one value"
        _refuse(f"Filter '{filter.name}' with operator '{filter.operator}' {needs}; {count} given.",
                filter=filter.name, operator=filter.operator)
    for value in filter.values:
        _read_text(value, filter)
    return spec, spec.parse_values(filter)


def apply_filters(queryset, filters: Sequence[Filter], specs: Mapping[str, FilterSpec], *, actor,
                  today: dt.date | None = None):
    """``queryset`` narrowed by every filter (ANDed), each checked against ``specs`` first; not evaluated.

    ``actor`` is who asks (``ow`` and ``me``); ``today`` defaults to the active time zone's date.
    """
    if len(filters) > MAX_FILTERS:
        _refuse(f"At most {MAX_FILTERS} filters are allowed; {len(filters)} were given.")
    checked = [(filter, *_check(filter, specs)) for filter in filters]
    context = _Context(actor=actor, today=today or timezone.localdate())
    for filter, spec, values in checked:
        try:
            queryset = spec.apply(queryset, filter.operator, values, context)
        except OverflowError:   # a day count from ``today`` past the calendar's ends
            _refuse(f"Filter '{filter.name}' reaches past the dates Keelplan can store.",
                    filter=filter.name, operator=filter.operator)
    return queryset
