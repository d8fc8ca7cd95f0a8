"""``custom_field.list`` and the custom field values of companies, projects (and subprojects) and people: the
same definitions (``customfields.CustomField``) and values every dialect reads. Definitions are made by
workspace administrators (OpenProject v3, the admin site); Beebole has no service that makes them.

A value is sent and shown as Beebole does, as text or a number; a list field's value is one of its options'
texts (its option id is taken too); a multi-value field shows a list."""

from __future__ import annotations

from keelplan.accounts import services as accounts
from keelplan.accounts.models import User
from keelplan.api.beebole.errors import BeeboleError
from keelplan.api.beebole.registry import Call, service
from keelplan.api.beebole.services.common import refusals
from keelplan.customfields.models import AppliesTo, CustomField, FieldFormat
from keelplan.customfields.selectors import custom_field_list, custom_fields_for
from keelplan.customfields.services import custom_values_read
from keelplan.portfolio import reference
from keelplan.portfolio import services as portfolio
from keelplan.portfolio.models import Company, Project

# Beebole's ``availableFor``, per kind of row a field is defined on (work item fields are not Beebole's).
AVAILABLE_FOR = {AppliesTo.COMPANY: "Company", AppliesTo.PROJECT: "Project", AppliesTo.PERSON: "Person"}


def entity_of(row) -> str:
    if isinstance(row, Company):
        return AppliesTo.COMPANY
    if isinstance(row, Project):
        return AppliesTo.PROJECT
    if isinstance(row, User):
        return AppliesTo.PERSON
    raise TypeError(row)


def _shown(cf: CustomField, value):
    """A stored value as Beebole shows it: a list field's option by its text."""
    if cf.format == FieldFormat.LIST:
        options = {o.pk: o.value for o in cf.options.all()}
        if isinstance(value, list):
            return [options.get(v, v) for v in value]
        return options.get(value, value)
    if isinstance(value, list):
        return [_shown(cf, v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if cf.format == FieldFormat.FLOAT and value is not None:
        return float(value)
    return value


def custom_fields_json(row, actor) -> list[dict]:
    """Every field that applies to ``row``, with ``value`` when it holds one (Beebole's shape, plus
    ``availableFor``, which the ``beebole`` package needs)."""
    entity = entity_of(row)
    project = row if entity == AppliesTo.PROJECT else None
    fields = list(custom_fields_for(actor=actor, entity=entity, project=project))
    values = custom_values_read(entity, [row.pk]).get(row.pk, {})
    shown = []
    for cf in fields:
        item = {"id": cf.pk, "name": cf.name, "availableFor": AVAILABLE_FOR[entity]}
        if cf.pk in values:
            item["value"] = _shown(cf, values[cf.pk])
        shown.append(item)
    return shown


def _typed(cf: CustomField | None, value, where: str):
    """A Beebole value as the domain takes it: a list field's option text as its id."""
    if cf is None or cf.format != FieldFormat.LIST or value is None:
        return value
    by_text = {o.value: o.pk for o in cf.options.all()}

    def one(v):
        if isinstance(v, str):
            if v not in by_text:
                raise BeeboleError(f"Invalid field {where}: {v!r} is not one of {', '.join(map(repr, by_text))}.")
            return by_text[v]
        return v
    return [one(v) for v in value] if isinstance(value, list) else one(value)


def set_custom_value(call: Call, row, field_id: int, value, *, where: str) -> None:
    """Set (``None``: clear) one custom field of ``row`` through the row's own service, which checks who may."""
    entity = entity_of(row)
    cf = CustomField.objects.filter(pk=field_id, applies_to=entity).prefetch_related("options").first()
    values = {field_id: _typed(cf, value, where)}
    with refusals():
        if entity == AppliesTo.PROJECT:
            portfolio.project_update(actor=call.actor, project=row, custom_fields=values)
        elif entity == AppliesTo.COMPANY:
            reference.company_update(actor=call.actor, company=row, custom_fields=values)
        else:
            accounts.user_custom_values_set(actor=call.actor, user=row, values=values)


@service("custom_field.list")
def custom_field_list_service(call: Call) -> dict:
    rows = custom_field_list(actor=call.actor).filter(applies_to__in=list(AVAILABLE_FOR))
    return {"customFields": [{"id": cf.pk, "name": cf.name, "availableFor": AVAILABLE_FOR[cf.applies_to]}
                             for cf in rows]}
