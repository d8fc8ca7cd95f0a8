"""Writes for custom fields: definitions and their options (workspace administrators only), and the values an
object holds, which the service writing that object validates and writes in its own transaction.

Values go through two calls: ``custom_values_clean`` checks a ``{custom_field_id: value}`` dict against the
definitions that apply to the object before anything is written, and ``custom_values_write`` replaces the
object's values for the fields given. Neither checks who may edit the object: the calling service did.

Value types, in and out (``None`` clears a field; a multi-value field takes and gives a list):

========  ============================================  ===============================
format    accepted                                      cleaned and read as
========  ============================================  ===============================
string    text, stripped, at most 255 characters        ``str``
text      text, at most 65,535 characters               ``str``
integer   a whole number (not a boolean)                ``int``
float     a number or numeric text                      ``Decimal`` (6 decimal places)
date      a ``date`` or ``YYYY-MM-DD``                  ``datetime.date``
bool      ``true`` or ``false``                         ``bool``
list      an option id                                  ``int`` (the option's id)
user      an active user's id                           ``int``
version   a live version's id                           ``int``
========  ============================================  ===============================

A version value names a version the object's project may use (shared with it, as OpenProject shares versions); an
object without a project may name only versions shared with every project.

Change log: definitions are logged in the workspace stream as entities ``custom_field`` and ``custom_option``.
A value change is one event per field, in the object's project stream (the workspace stream for companies and
people): entity ``custom_value``, ``entity_id`` the object's id, action ``updated``, payload
``{"object": [entity, object_id], "custom_field": field_id, "value": [old, new]}`` with values as JSON (decimals
and dates as text, multi-value fields as lists, ``null`` for none).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone

from keelplan.changelog.services import Change, ChangeAction, change_record, diff, plain, snapshot
from keelplan.core.errors import Conflict, ErrorCode, InvalidInput
from keelplan.core.models import MAX_POSITION, check_lock_version, next_position, save_unique
from keelplan.core.transactions import write_transaction
from keelplan.core.validation import (
    MAX_ID, Boolean, Choice, Date, Fields, Integer, Number, Reference, Text, parse_id, parse_whole_number,
)
from keelplan.core.workspace import require_workspace_admin
from keelplan.customfields.models import (
    NUMBER_FORMATS, REFERENCE_FORMATS, TEXT_FORMATS, AppliesTo, CustomField, CustomOption, CustomValue, FieldFormat,
)
from keelplan.customfields.selectors import custom_fields_applicable, require_entity
from keelplan.planning.models import Version, VersionSharing, WorkItemType
from keelplan.planning.reference import versions_shared_with
from keelplan.portfolio.models import Project

STRING_MAX = 255
TEXT_MAX = 65_535
REGEXP_MAX = 1000
FLOAT_LIMIT = Decimal(10) ** 15
FLOAT_PLACES = 6
MAX_VALUES = 1000           # values one multi-value field may hold on one object
READ_CHUNK = 5000           # ids per query in custom_values_read (SQLite bounds the parameters of one query)

FIELD_COLUMNS = ("name", "applies_to", "format", "regexp", "min_length", "max_length", "min_value", "max_value",
                 "is_required", "default_value", "is_multi_value", "position", "is_for_all")
OPTION_COLUMNS = ("value", "position", "is_default")
# Fixed once the field exists: its values were written for that kind and format.
FIXED_COLUMNS = frozenset({"applies_to", "format"})

_DEFINITION = Fields(
    name=Text(255),
    applies_to=Choice(AppliesTo),
    format=Choice(FieldFormat),
    regexp=Text(REGEXP_MAX, blank=True, strip=False),
    min_length=Integer(0, TEXT_MAX, null=True),
    max_length=Integer(1, TEXT_MAX, null=True),
    min_value=Number(-MAX_ID, MAX_ID, places=FLOAT_PLACES, null=True),
    max_value=Number(-MAX_ID, MAX_ID, places=FLOAT_PLACES, null=True),
    is_required=Boolean(),
    is_multi_value=Boolean(),
    position=Integer(0, MAX_POSITION),
    is_for_all=Boolean(),
)
_OPTION = Fields(value=Text(255), position=Integer(0, MAX_POSITION), is_default=Boolean())
_INTEGER = Integer(-MAX_ID, MAX_ID)
_FLOAT = Number(-FLOAT_LIMIT, FLOAT_LIMIT, places=FLOAT_PLACES)
_DATE = Date()
_BOOLEAN = Boolean()


def _enum_text(values: dict) -> dict:
    """Choice members (``AppliesTo.PROJECT``) as the plain text ``Choice`` compares by type."""
    return {k: str(v) if isinstance(v, str) else v for k, v in values.items()}


# ---------------------------------------------------------------- one value

def _normal_decimal(number: Decimal) -> Decimal:
    """``number`` without trailing zeros and without exponent notation (``1E+2`` is ``100``)."""
    if number == 0:
        return Decimal(0)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def _check_range(cf: CustomField, number, *, field: str) -> None:
    low, high = cf.min_value, cf.max_value
    if (low is not None and number < low) or (high is not None and number > high):
        shown = int if cf.format == FieldFormat.INTEGER else _normal_decimal
        low = None if low is None else shown(low)
        high = None if high is None else shown(high)
        words = {(False, False): f"between {low} and {high}", (False, True): f"at least {low}",
                 (True, False): f"at most {high}"}[(low is None, high is None)]
        raise InvalidInput(f"Must be {words}.", field=field, code=ErrorCode.OUT_OF_RANGE, min_value=low,
                           max_value=high)


def _reference_id(value, *, field: str, entity: str) -> int:
    """An id as ``parse_id`` reads one; an id out of range names nothing (``invalid_reference``)."""
    try:
        return parse_id(value, field=field)
    except InvalidInput as error:
        if error.code == ErrorCode.INVALID_TYPE:
            raise
        raise InvalidInput(f"No such {entity}: {value}.", field=field, code=ErrorCode.INVALID_REFERENCE,
                           entity=entity) from None


def _clean_scalar(cf: CustomField, value, *, field: str):
    """One non-empty value of ``cf``'s format, typed (see the module table); users and versions are only read as
    ids here, their rows are checked for all fields at once (``_check_users``, ``_check_versions``)."""
    kind = cf.format
    if kind in TEXT_FORMATS:
        cap = STRING_MAX if kind == FieldFormat.STRING else TEXT_MAX
        return Text(cf.max_length or cap, min_length=cf.min_length or 0, pattern=cf.regexp or None,
                    strip=kind == FieldFormat.STRING).convert(value, field=field)
    if kind == FieldFormat.INTEGER:
        number = _INTEGER.convert(value, field=field)
        _check_range(cf, number, field=field)
        return number
    if kind == FieldFormat.FLOAT:
        number = _normal_decimal(_FLOAT.convert(value, field=field))
        _check_range(cf, number, field=field)
        return number
    if kind == FieldFormat.DATE:
        return _DATE.convert(value, field=field)
    if kind == FieldFormat.BOOL:
        return _BOOLEAN.convert(value, field=field)
    if kind == FieldFormat.LIST:
        choices = [option.pk for option in cf.options.all()]
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InvalidInput("Must be an option id.", field=field, code=ErrorCode.INVALID_TYPE, expected="integer")
        try:
            option_id = parse_id(value, field=field)
        except InvalidInput as error:
            if error.code == ErrorCode.INVALID_TYPE:
                raise
            option_id = None
        if option_id not in choices:
            raise InvalidInput(f"Must be one of the options {', '.join(map(str, choices)) or '(none)'}.",
                               field=field, code=ErrorCode.INVALID_CHOICE, choices=choices)
        return option_id
    return _reference_id(value, field=field, entity=kind)


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, (list, tuple)) and not value)


def _clean_value(cf: CustomField, value, *, field: str):
    """``value`` for ``cf``: typed, a list of typed values for a multi-value field, or ``None`` for empty."""
    if _is_empty(value):
        if cf.is_required:
            if value is None:
                raise InvalidInput("Required.", field=field, code=ErrorCode.REQUIRED)
            raise InvalidInput("May not be blank.", field=field, code=ErrorCode.BLANK)
        return None
    if not cf.is_multi_value:
        return _clean_scalar(cf, value, field=field)
    if not isinstance(value, (list, tuple)):
        raise InvalidInput("Must be a list.", field=field, code=ErrorCode.INVALID_TYPE, expected="list")
    if len(value) > MAX_VALUES:
        raise InvalidInput(f"At most {MAX_VALUES} values.", field=field, code=ErrorCode.TOO_MANY,
                           max_count=MAX_VALUES)
    items = []
    for item in value:
        if item is None:
            raise InvalidInput("A value in the list is empty.", field=field, code=ErrorCode.NULL)
        if isinstance(item, str) and not item.strip():
            raise InvalidInput("A value in the list is blank.", field=field, code=ErrorCode.BLANK)
        typed = _clean_scalar(cf, item, field=field)
        if typed not in items:
            items.append(typed)
    return items


def _to_text(value) -> str:
    """A typed scalar as ``CustomValue.value`` stores it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _from_text(kind: str, text: str):
    """A stored value, typed as its format reads."""
    if kind in TEXT_FORMATS:
        return text
    if kind == FieldFormat.FLOAT:
        return Decimal(text)
    if kind == FieldFormat.DATE:
        return dt.date.fromisoformat(text)
    if kind == FieldFormat.BOOL:
        return text == "true"
    return int(text)


def _check_users(found: list[tuple[str | None, str, int]]) -> None:
    """Refuse the first user id that names no active user (one query for every user field); ``found`` holds
    ``(row, field, id)``, the row naming the object in a many-row request (or None)."""
    if not found:
        return
    active = set(get_user_model().objects.filter(pk__in={pk for _, _, pk in found}, is_active=True)
                 .values_list("pk", flat=True))
    for where, field, pk in found:
        if pk not in active:
            error = InvalidInput(f"No such active user: {pk}.", field=field, code=ErrorCode.INVALID_REFERENCE,
                                 entity="user")
            raise error.under(where) if where else error


def _check_versions(found: list[tuple[str | None, str, int]], project) -> None:
    """Refuse the first version id that names no version ``project`` may use (one query): one shared with it
    (OpenProject's version sharing); with no project (a project being created, a company, a person), one shared
    with every project. An id of a version not shared is refused as one that does not exist."""
    if not found:
        return
    usable = (versions_shared_with(project) if project is not None and project.pk is not None
              else Version.objects.filter(sharing=VersionSharing.SYSTEM, project__deleted_at__isnull=True))
    live = set(usable.filter(pk__in={pk for _, _, pk in found}).values_list("pk", flat=True))
    for where, field, pk in found:
        if pk not in live:
            error = InvalidInput(f"No such version here: {pk}.", field=field, code=ErrorCode.INVALID_REFERENCE,
                                 entity="version")
            raise error.under(where) if where else error


def _field_id(key) -> int | None:
    try:
        return parse_id(key, field="custom_fields")
    except InvalidInput:
        return None


def _default(cf: CustomField):
    """What a new object gets when the field is not given: the default options of a list field, else
    ``default_value``; ``None`` when there is none."""
    if cf.format == FieldFormat.LIST:
        chosen = [option.pk for option in cf.options.all() if option.is_default]
        if not chosen:
            return None
        return chosen if cf.is_multi_value else chosen[0]
    if not cf.default_value:
        return None
    value = _from_text(cf.format, cf.default_value)
    return [value] if cf.is_multi_value else value


_ANY_TYPE = object()


class CustomValueCleaner:
    """Custom values of many objects of kind ``entity`` in one ``project`` checked with the definitions read once
    (a bulk write checks thousands of rows): ``clean`` per object, then ``check_references`` once for the users
    and versions every object named. No definitions, no further query."""

    def __init__(self, entity: str, project, *, only_type=_ANY_TYPE):
        """``only_type``: every object cleaned is of this work item type (None: of no type), so only the fields
        for it are read; by default fields of every type are, with their types, and picked per object."""
        self.entity, self.project = require_entity(entity), project
        if only_type is _ANY_TYPE:
            self.fields = list(custom_fields_applicable(entity, project=project, any_type=True))
            self.types = {cf.pk: {t.pk for t in cf.types.all()} for cf in self.fields} \
                if entity == AppliesTo.WORK_ITEM and self.fields else {}
        else:
            self.fields = list(custom_fields_applicable(entity, project=project, type=only_type))
            self.types = {}
        self.references: dict[str, list[tuple[str | None, str, int]]] = {FieldFormat.USER: [],
                                                                         FieldFormat.VERSION: []}

    def applicable(self, type=None) -> dict[int, CustomField]:  # noqa: A002
        """The definitions that apply to an object of work item type ``type`` (fields with no types: any)."""
        return {cf.pk: cf for cf in self.fields
                if not self.types.get(cf.pk) or (type is not None and type.pk in self.types[cf.pk])}

    def clean(self, values, *, type=None, for_create: bool, where: str | None = None) -> dict:  # noqa: A002
        """``values`` (``{custom_field_id: value}``) checked against the definitions that apply; returns
        ``{custom_field_id: typed value}``. ``where`` names the object's row in a many-row request, for the errors
        ``check_references`` raises later."""
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            raise InvalidInput("Must be an object of custom field values.", field="custom_fields",
                               code=ErrorCode.INVALID_TYPE, expected="object")
        if not self.fields:
            if values:
                key = next(iter(values))
                raise InvalidInput(f"There is no custom field {key} here.", field=f"custom_fields.{key}",
                                   code=ErrorCode.UNKNOWN_FIELD)
            return {}
        applicable = self.applicable(type)
        given = {}
        for key, value in values.items():
            field_id = _field_id(key)
            if field_id not in applicable:
                raise InvalidInput(f"There is no custom field {key} here.", field=f"custom_fields.{key}",
                                   code=ErrorCode.UNKNOWN_FIELD)
            given[field_id] = value
        cleaned = {}
        for field_id, cf in applicable.items():
            name = f"custom_fields.{field_id}"
            if field_id in given:
                value = _clean_value(cf, given[field_id], field=name)
            elif for_create:
                value = _default(cf)
                if value is None and cf.is_required:
                    raise InvalidInput("Required.", field=name, code=ErrorCode.REQUIRED)
                if value is None:
                    continue
            else:
                continue
            cleaned[field_id] = value
            if cf.format in self.references and value is not None:
                self.references[cf.format] += [(where, name, pk) for pk in (value if cf.is_multi_value else [value])]
        return cleaned

    def check_references(self) -> None:
        """Refuse the first user or version named by any object cleaned that does not exist (one query each)."""
        _check_users(self.references[FieldFormat.USER])
        _check_versions(self.references[FieldFormat.VERSION], self.project)


def custom_values_clean(*, entity: str, project, type=None, values: Mapping, for_create: bool) -> dict:
    """``values`` (``{custom_field_id: value}``) checked against the live definitions that apply to an object of
    kind ``entity`` in ``project`` (the project itself for ``project`` objects; ``None`` for one not yet created,
    and for companies and people) of work item type ``type``; returns ``{custom_field_id: typed value}``.

    Refused, with ``field="custom_fields.<id>"``: a key naming no field that applies (``unknown_field``), a
    required field given ``None`` (``required``) or empty text or list (``blank``), and a value its format and
    rules refuse (``invalid_type``, ``too_long``, ``too_short``, ``invalid_format``, ``out_of_range``,
    ``invalid_date``, ``invalid_choice``, ``invalid_reference``, ``too_many``). With ``for_create`` a field not
    given takes its default, and a required one without a default is ``required``. Reads only: safe before any
    write. Queries: the definitions with their options and types, and the users and the versions named (if any).
    """
    cleaner = CustomValueCleaner(entity, project, only_type=type)
    cleaned = cleaner.clean(values, type=type, for_create=for_create)
    cleaner.check_references()
    return cleaned


# ---------------------------------------------------------------- values written and read

def _stored(entity: str, ids: Iterable[int], *, field_ids=None, live_only: bool = True) -> dict:
    """``{object_id: {field_id: typed value or list}}`` from the stored rows, one query per ``READ_CHUNK`` ids."""
    ids = list(dict.fromkeys(ids))
    found: dict[int, dict] = {pk: {} for pk in ids}
    for start in range(0, len(ids), READ_CHUNK):
        rows = CustomValue.objects.filter(entity=entity, object_id__in=ids[start:start + READ_CHUNK])
        if field_ids is not None:
            rows = rows.filter(custom_field_id__in=list(field_ids))
        if live_only:
            rows = rows.filter(custom_field__deleted_at__isnull=True)
        for object_id, field_id, kind, multi, text in rows.order_by("id").values_list(
                "object_id", "custom_field_id", "custom_field__format", "custom_field__is_multi_value", "value"):
            value = _from_text(kind, text)
            if multi:
                found[object_id].setdefault(field_id, []).append(value)
            else:
                found[object_id][field_id] = value
    return found


def _json(value):
    return [plain(v) for v in value] if isinstance(value, list) else plain(value)


@write_transaction()
def custom_values_write(*, actor, entity: str, obj_id: int, project, cleaned: Mapping) -> dict:
    """Replace the custom values of object ``obj_id`` (kind ``entity``) for the fields in ``cleaned`` (what
    ``custom_values_clean`` returned; ``None`` clears a field) and log one ``custom_value`` event per field that
    changed in ``project``'s stream (``None``: the workspace's). Returns ``{field_id: [old, new]}`` for those
    fields, typed as ``custom_values_read`` gives them.

    Runs inside the caller's transaction when there is one; does not check who may edit the object.
    """
    return custom_values_write_many(actor=actor, entity=entity, project=project,
                                    cleaned_by_object={obj_id: cleaned}).get(obj_id, {})


@write_transaction()
def custom_values_write_many(*, actor, entity: str, project, cleaned_by_object: Mapping[int, Mapping]) -> dict:
    """``custom_values_write`` for many objects of one project at once: the stored values read in one query per
    ``READ_CHUNK`` objects, one delete, one insert and one ``change_record`` call. Returns
    ``{obj_id: {field_id: [old, new]}}`` for the objects with changes."""
    require_entity(entity)
    cleaned_by_object = {pk: cleaned for pk, cleaned in cleaned_by_object.items() if cleaned}
    if not cleaned_by_object:
        return {}
    field_ids = {field_id for cleaned in cleaned_by_object.values() for field_id in cleaned}
    fields = {cf.pk: cf for cf in CustomField.objects.filter(pk__in=list(field_ids), applies_to=entity)}
    for field_id in field_ids:
        if field_id not in fields:
            raise InvalidInput(f"There is no custom field {field_id} here.", field=f"custom_fields.{field_id}",
                               code=ErrorCode.UNKNOWN_FIELD)
    stored = _stored(entity, list(cleaned_by_object), field_ids=field_ids, live_only=False)
    changed: dict[int, dict] = {}
    for obj_id, cleaned in cleaned_by_object.items():
        for field_id, new in cleaned.items():
            if fields[field_id].is_multi_value and new is not None and not isinstance(new, list):
                new = [new]
            if new == []:
                new = None
            old = stored[obj_id].get(field_id)
            if old != new:
                changed.setdefault(obj_id, {})[field_id] = [old, new]
    if not changed:
        return {}
    gone = Q()
    for obj_id, fields_changed in changed.items():
        gone |= Q(object_id=obj_id, custom_field_id__in=list(fields_changed))
    CustomValue.objects.filter(gone, entity=entity).delete()
    CustomValue.objects.bulk_create([
        CustomValue(custom_field_id=field_id, entity=entity, object_id=obj_id, value=_to_text(value))
        for obj_id, fields_changed in changed.items()
        for field_id, (_, new) in fields_changed.items() if new is not None
        for value in (new if isinstance(new, list) else [new])
    ], batch_size=5000)
    change_record(project=project, actor=actor, changes=[
        Change("custom_value", obj_id, ChangeAction.UPDATED,
               payload={"object": [entity, obj_id], "custom_field": field_id, "value": [_json(old), _json(new)]})
        for obj_id, fields_changed in changed.items()
        for field_id, (old, new) in fields_changed.items()
    ])
    return changed


def custom_values_read(entity: str, ids: list[int]) -> dict[int, dict[int, object]]:
    """``{object_id: {field_id: value}}`` for every id in ``ids`` (an empty dict when it holds none), values of
    live definitions only, typed as the module table says (a multi-value field: a list, in the order written).
    One query (per ``READ_CHUNK`` ids). Whether a field still applies to the object's project or type is the
    dialect's to filter, with ``custom_fields_for``."""
    return _stored(require_entity(entity), ids)


# ---------------------------------------------------------------- definitions

def _clean_rows(rows, model, *, field: str, entity: str) -> list:
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise InvalidInput("Must be a list.", field=field, code=ErrorCode.INVALID_TYPE, expected="list")
    kind = Reference(model, entity=entity)
    unique = {}
    for row in rows:
        row = kind.clean(row, field=field)
        unique[row.pk] = row
    return list(unique.values())


def _not_allowed(field: str, why: str):
    return InvalidInput(why, field=field, code=ErrorCode.NOT_ALLOWED)


def _default_text(cf: CustomField, value) -> str:
    """``value`` (typed, or its text) checked as a value of ``cf``, as the canonical text stored."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if cf.format in REFERENCE_FORMATS:
        raise _not_allowed("default_value", f"A {cf.format} field has no default value"
                           + (" (mark its default options instead)." if cf.format == FieldFormat.LIST else "."))
    if isinstance(value, str) and cf.format not in TEXT_FORMATS:
        if cf.format == FieldFormat.INTEGER:
            value = parse_whole_number(value.strip(), field="default_value", low=-MAX_ID, high=MAX_ID)
        elif cf.format == FieldFormat.BOOL:
            flag = {"true": True, "false": False}.get(value.strip().lower())
            if flag is None:
                raise InvalidInput("Must be true or false.", field="default_value", code=ErrorCode.INVALID_TYPE,
                                   expected="boolean")
            value = flag
        else:
            value = value.strip()
    return _to_text(_clean_scalar(cf, value, field="default_value"))


def _check_definition(cf: CustomField, *, default_value, projects, types) -> None:
    """The rules across a definition's attributes; sets ``cf.default_value`` to its canonical text."""
    kind = cf.format
    if cf.regexp:
        if kind not in TEXT_FORMATS:
            raise _not_allowed("regexp", "Only string and text fields take a regular expression.")
        try:
            re.compile(cf.regexp)
        except (re.error, RecursionError, OverflowError):
            raise InvalidInput("Not a valid regular expression.", field="regexp", code=ErrorCode.INVALID_FORMAT,
                               pattern="regular expression") from None
    for name in ("min_length", "max_length"):
        if getattr(cf, name) is not None and kind not in TEXT_FORMATS:
            raise _not_allowed(name, "Only string and text fields take length limits.")
    cap = STRING_MAX if kind == FieldFormat.STRING else TEXT_MAX
    if cf.max_length is not None and cf.max_length > cap:
        raise InvalidInput(f"Must be between 1 and {cap}.", field="max_length", code=ErrorCode.OUT_OF_RANGE,
                           min_value=1, max_value=cap)
    if cf.min_length is not None and cf.min_length > (cf.max_length or cap):
        high = cf.max_length or cap
        raise InvalidInput(f"Must be between 0 and {high} (the maximum length).", field="min_length",
                           code=ErrorCode.OUT_OF_RANGE, min_value=0, max_value=high)
    for name in ("min_value", "max_value"):
        bound = getattr(cf, name)
        if bound is None:
            continue
        if kind not in NUMBER_FORMATS:
            raise _not_allowed(name, "Only integer and float fields take a minimum and maximum value.")
        if kind == FieldFormat.INTEGER and bound != bound.to_integral_value():
            raise InvalidInput("A whole number is required.", field=name, code=ErrorCode.INVALID_TYPE,
                               expected="integer")
        if kind == FieldFormat.FLOAT and abs(bound) > FLOAT_LIMIT:
            raise InvalidInput(f"Must be between {-FLOAT_LIMIT} and {FLOAT_LIMIT}.", field=name,
                               code=ErrorCode.OUT_OF_RANGE, min_value=-FLOAT_LIMIT, max_value=FLOAT_LIMIT)
    if cf.min_value is not None and cf.max_value is not None and cf.min_value > cf.max_value:
        raise InvalidInput(f"Must be at most {_normal_decimal(cf.max_value)} (the maximum value).", field="min_value",
                           code=ErrorCode.OUT_OF_RANGE, min_value=None, max_value=_normal_decimal(cf.max_value))
    if cf.is_multi_value and kind not in REFERENCE_FORMATS:
        raise _not_allowed("is_multi_value", "Only list, user and version fields may hold several values.")
    if projects and cf.applies_to not in (AppliesTo.WORK_ITEM, AppliesTo.PROJECT):
        raise _not_allowed("projects", "Only work item and project fields are chosen per project.")
    if types and cf.applies_to != AppliesTo.WORK_ITEM:
        raise _not_allowed("types", "Only work item fields are chosen per type.")
    cf.default_value = _default_text(cf, default_value)


def _require_unique_name(cf: CustomField) -> None:
    taken = (CustomField.objects.filter(applies_to=cf.applies_to).annotate(lowered=Lower("name"))
             .filter(lowered=cf.name.lower()).exclude(pk=cf.pk).exists())
    if taken:
        raise Conflict(f"A {cf.applies_to} custom field named {cf.name!r} exists already.", field="name",
                       code=ErrorCode.DUPLICATE_NAME)


def _field_snapshot(cf: CustomField, projects: list[int], types: list[int]) -> dict:
    return {**snapshot(cf, FIELD_COLUMNS), "projects": sorted(projects), "types": sorted(types)}


def _option_created(option: CustomOption) -> Change:
    return Change("custom_option", option.pk, ChangeAction.CREATED,
                  {"custom_field": (None, option.custom_field_id), **diff({}, snapshot(option, OPTION_COLUMNS))})


@write_transaction()
def custom_field_create(
    *, actor, name: str, applies_to: str, format: str, regexp: str = "", min_length: int | None = None,
    max_length: int | None = None, min_value=None, max_value=None, is_required: bool = False, default_value=None,
    is_multi_value: bool = False, position: int | None = None, is_for_all: bool = True, projects=(), types=(),
    options: Iterable[str] = (),
) -> CustomField:
    """A new custom field definition (workspace administrators). ``options``: a list field's possible values, in
    order. ``default_value``: a value of the format (or its text: ``"42"``, ``"true"``, ``"2026-01-05"``);
    list, user and version fields take none. ``projects`` (work item and project fields) and ``types`` (work
    item fields) are rows; position ``None`` places the field last among its kind."""
    require_workspace_admin(actor, action="define custom fields")
    values = _DEFINITION.clean(_enum_text(dict(
        name=name, applies_to=applies_to, format=format, regexp=regexp, min_length=min_length,
        max_length=max_length, min_value=min_value, max_value=max_value, is_required=is_required,
        is_multi_value=is_multi_value, position=0 if position is None else position, is_for_all=is_for_all)))
    projects = _clean_rows(projects, Project, field="projects", entity="project")
    types = _clean_rows(types, WorkItemType, field="types", entity="work item type")
    option_values = [_OPTION["value"].clean(v, field="options") for v in _clean_rows_of_text(options)]
    if option_values and values["format"] != FieldFormat.LIST:
        raise _not_allowed("options", "Only list fields have options.")
    if len({v for v in option_values}) != len(option_values):
        raise InvalidInput("The options repeat a value.", field="options", code=ErrorCode.INVALID)
    cf = CustomField(**values)
    _check_definition(cf, default_value=default_value, projects=projects, types=types)
    if position is None:
        cf.position = next_position(CustomField.objects.filter(applies_to=cf.applies_to))
    _require_unique_name(cf)
    save_unique(cf, message=f"A {cf.applies_to} custom field named {cf.name!r} exists already.", field="name")
    cf.projects.set(projects)
    cf.types.set(types)
    created = CustomOption.objects.bulk_create([
        CustomOption(custom_field=cf, value=value, position=i) for i, value in enumerate(option_values, start=1)])
    if created and created[0].pk is None:  # backends without RETURNING on bulk insert
        created = list(cf.options.all())
    after = _field_snapshot(cf, [p.pk for p in projects], [t.pk for t in types])
    change_record(project=None, actor=actor, changes=[
        Change("custom_field", cf.pk, ChangeAction.CREATED, diff({}, after)),
        *(_option_created(option) for option in created),
    ])
    return cf


def _clean_rows_of_text(options) -> list:
    if isinstance(options, (str, bytes, Mapping)) or not isinstance(options, Iterable):
        raise InvalidInput("Must be a list.", field="options", code=ErrorCode.INVALID_TYPE, expected="list")
    return list(options)


def _objects_with_several_values(cf: CustomField) -> int:
    return (CustomValue.objects.filter(custom_field=cf).values("entity", "object_id")
            .annotate(n=Count("id")).filter(n__gt=1).count())


@write_transaction()
def custom_field_update(*, actor, custom_field: CustomField, lock_version: int | None = None, **fields) -> CustomField:
    """Change a definition (workspace administrators): any ``custom_field_create`` argument but ``applies_to``
    and ``format`` (``not_allowed``: values were written for them) and ``options`` (see ``custom_option_*``).
    ``projects`` and ``types``, when given, replace the chosen rows. Values already stored are not checked
    again against changed rules; a multi-value field holding several values on some object cannot become
    single-valued (``in_use``)."""
    require_workspace_admin(actor, action="change custom fields")
    for name in sorted(fields):
        if name in FIXED_COLUMNS:
            raise _not_allowed(name, f"The {name} of a custom field cannot change.")
        if name not in FIELD_COLUMNS and name not in ("projects", "types"):
            raise InvalidInput(f"There is no field {name!r}.", field=name, code=ErrorCode.UNKNOWN_FIELD)
    cf = CustomField.objects.select_for_update().filter(pk=custom_field.pk).first()
    if cf is None:
        raise InvalidInput("No such custom field.", field="custom_field", code=ErrorCode.INVALID_REFERENCE,
                           entity="custom field")
    check_lock_version(cf, lock_version)
    old_projects = list(cf.projects.values_list("pk", flat=True))
    old_types = list(cf.types.values_list("pk", flat=True))
    before = _field_snapshot(cf, old_projects, old_types)
    columns = {k: v for k, v in fields.items() if k in FIELD_COLUMNS and k != "default_value"}
    for name, value in _DEFINITION.clean(_enum_text(columns)).items():
        setattr(cf, name, value)
    projects = (_clean_rows(fields["projects"], Project, field="projects", entity="project")
                if "projects" in fields else list(cf.projects.all()))
    types = (_clean_rows(fields["types"], WorkItemType, field="types", entity="work item type")
             if "types" in fields else list(cf.types.all()))
    default_value = fields["default_value"] if "default_value" in fields else (cf.default_value or None)
    _check_definition(cf, default_value=default_value, projects=projects, types=types)
    if before["is_multi_value"] and not cf.is_multi_value:
        several = _objects_with_several_values(cf)
        if several:
            raise Conflict(f"{several} object(s) hold several values of this field.", field="is_multi_value",
                           code=ErrorCode.IN_USE, reference_count=several)
    if "name" in columns:
        _require_unique_name(cf)
    changes = diff(before, _field_snapshot(cf, [p.pk for p in projects], [t.pk for t in types]))
    if changes:
        cf.lock_version += 1
        cf.updated_at = timezone.now()
        save_unique(cf, message=f"A {cf.applies_to} custom field named {cf.name!r} exists already.", field="name")
        if "projects" in changes:
            cf.projects.set(projects)
        if "types" in changes:
            cf.types.set(types)
        change_record(project=None, actor=actor,
                      changes=[Change("custom_field", cf.pk, ChangeAction.UPDATED, changes)])
    return cf


@write_transaction()
def custom_field_delete(*, actor, custom_field: CustomField) -> None:
    """Soft-delete a definition and its options (workspace administrators). The values objects hold stay
    stored but are no longer read or accepted."""
    require_workspace_admin(actor, action="delete custom fields")
    cf = CustomField.objects.select_for_update().filter(pk=custom_field.pk).first()
    if cf is None:
        raise InvalidInput("No such custom field.", field="custom_field", code=ErrorCode.INVALID_REFERENCE,
                           entity="custom field")
    now = timezone.now()
    option_ids = list(CustomOption.objects.filter(custom_field=cf).values_list("pk", flat=True))
    CustomOption.objects.filter(pk__in=option_ids).soft_delete(at=now)
    CustomField.objects.filter(pk=cf.pk).soft_delete(at=now)
    change_record(project=None, actor=actor, changes=[
        Change("custom_field", cf.pk, ChangeAction.DELETED),
        *(Change("custom_option", pk, ChangeAction.DELETED) for pk in option_ids),
    ])


# ---------------------------------------------------------------- options of list fields

def _list_field(custom_field: CustomField) -> CustomField:
    """The live list field, locked: options of one field are written one writer at a time."""
    cf = CustomField.objects.select_for_update().filter(pk=custom_field.pk).first()
    if cf is None:
        raise InvalidInput("No such custom field.", field="custom_field", code=ErrorCode.INVALID_REFERENCE,
                           entity="custom field")
    if cf.format != FieldFormat.LIST:
        raise _not_allowed("custom_field", "Only list fields have options.")
    return cf


def _unset_other_defaults(cf: CustomField, option: CustomOption) -> list[Change]:
    """A single-value field has one default option: the others' flags go."""
    if cf.is_multi_value or not option.is_default:
        return []
    others = list(CustomOption.objects.filter(custom_field=cf, is_default=True).exclude(pk=option.pk))
    changes = []
    for other in others:
        other.is_default = False
        other.lock_version += 1
        other.updated_at = timezone.now()
        other.save(update_fields=["is_default", "lock_version", "updated_at"])
        changes.append(Change("custom_option", other.pk, ChangeAction.UPDATED, {"is_default": (True, False)}))
    return changes


def _save_option(option: CustomOption) -> None:
    if CustomOption.objects.filter(custom_field_id=option.custom_field_id, value=option.value).exclude(
            pk=option.pk).exists():
        raise Conflict(f"The field has an option {option.value!r} already.", field="value",
                       code=ErrorCode.DUPLICATE_NAME)
    save_unique(option, message=f"The field has an option {option.value!r} already.", field="value")


@write_transaction()
def custom_option_create(*, actor, custom_field: CustomField, value: str, position: int | None = None,
                         is_default: bool = False) -> CustomOption:
    """A new possible value of a list field (workspace administrators), last unless ``position`` is given.
    Marking it the default of a single-value field unmarks the previous default."""
    require_workspace_admin(actor, action="change custom fields")
    cf = _list_field(custom_field)
    values = _OPTION.clean({"value": value, "position": 0 if position is None else position,
                            "is_default": is_default})
    option = CustomOption(custom_field=cf, **values)
    if position is None:
        option.position = next_position(CustomOption.objects.filter(custom_field=cf))
    _save_option(option)
    changes = [_option_created(option), *_unset_other_defaults(cf, option)]
    change_record(project=None, actor=actor, changes=changes)
    return option


@write_transaction()
def custom_option_update(*, actor, option: CustomOption, lock_version: int | None = None, **fields) -> CustomOption:
    """Change an option's ``value``, ``position`` or ``is_default`` (workspace administrators). Values hold the
    option's id, so renaming it renames it everywhere."""
    require_workspace_admin(actor, action="change custom fields")
    cf = _list_field(option.custom_field)
    row = CustomOption.objects.select_for_update().filter(pk=option.pk).first()
    if row is None:
        raise InvalidInput("No such option.", field="option", code=ErrorCode.INVALID_REFERENCE, entity="option")
    check_lock_version(row, lock_version)
    before = snapshot(row, OPTION_COLUMNS)
    for name, value in _OPTION.clean(fields).items():
        setattr(row, name, value)
    changes = diff(before, snapshot(row, OPTION_COLUMNS))
    if not changes:
        return row
    row.lock_version += 1
    row.updated_at = timezone.now()
    _save_option(row)
    change_record(project=None, actor=actor, changes=[
        Change("custom_option", row.pk, ChangeAction.UPDATED, changes), *_unset_other_defaults(cf, row)])
    return row


@write_transaction()
def custom_option_delete(*, actor, option: CustomOption) -> None:
    """Soft-delete an option (workspace administrators) that no object's value names (``in_use`` otherwise,
    with ``reference_count`` the values naming it; deleted objects' values count, as they may be restored)."""
    require_workspace_admin(actor, action="change custom fields")
    cf = _list_field(option.custom_field)
    used = CustomValue.objects.filter(custom_field=cf, value=str(option.pk)).count()
    if used:
        raise Conflict(f"{used} value(s) use this option.", field="option", code=ErrorCode.IN_USE,
                       reference_count=used)
    if not CustomOption.objects.filter(pk=option.pk).soft_delete():
        raise InvalidInput("No such option.", field="option", code=ErrorCode.INVALID_REFERENCE, entity="option")
    change_record(project=None, actor=actor, changes=[Change("custom_option", option.pk, ChangeAction.DELETED)])


__all__ = [
    "custom_field_create", "custom_field_delete", "custom_field_update", "custom_option_create",
    "custom_option_delete", "custom_option_update", "CustomValueCleaner", "custom_values_clean", "custom_values_read",
    "custom_values_write", "custom_values_write_many",
]
