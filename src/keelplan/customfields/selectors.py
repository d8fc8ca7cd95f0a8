"""Reads of custom field definitions: which live fields apply to an object of a kind, in a project, of a type.

Definitions are workspace rows: everyone signed in reads them. Whether the actor may see the project named is
the caller's check (the dialect resolved it through a permission-filtered read first).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from keelplan.core.errors import ErrorCode, InvalidInput
from keelplan.core.workspace import is_signed_in
from keelplan.customfields.models import AppliesTo, CustomField, CustomOption

_ProjectLink = CustomField.projects.through
_TypeLink = CustomField.types.through


def require_entity(entity) -> str:
    """``entity`` if it names a kind of object custom fields apply to (``invalid_choice`` otherwise)."""
    if entity not in AppliesTo.values:
        raise InvalidInput(f"Must be one of {', '.join(AppliesTo.values)}.", field="entity",
                           code=ErrorCode.INVALID_CHOICE, choices=list(AppliesTo.values))
    return entity


def custom_fields_applicable(entity: str, *, project=None, type=None, any_type: bool = False) -> QuerySet:
    """The live definitions that apply to an object of kind ``entity``, ordered by position, options prefetched.

    Work items and projects: fields for all projects, and those whose chosen projects include ``project``
    (``None``, a project not yet created: only the fields for all). Work items also: fields with no types set,
    and those whose types include ``type`` (``None``: only the fields with no types). Companies and people:
    every live field of their kind. ``any_type``: work item fields of every type, their types prefetched (for
    ``CustomValueCleaner``, which picks per type in memory).
    """
    fields = CustomField.objects.filter(applies_to=require_entity(entity))
    if entity in (AppliesTo.WORK_ITEM, AppliesTo.PROJECT):
        chosen = Q(is_for_all=True)
        if project is not None:
            chosen |= Exists(_ProjectLink.objects.filter(customfield_id=OuterRef("pk"), project_id=project.pk))
        fields = fields.filter(chosen)
    if entity == AppliesTo.WORK_ITEM and any_type:
        return (fields.order_by("position", "id")
                .prefetch_related(Prefetch("options", queryset=CustomOption.objects.all()), "types"))
    if entity == AppliesTo.WORK_ITEM:
        typed = ~Exists(_TypeLink.objects.filter(customfield_id=OuterRef("pk")))
        if type is not None:
            typed |= Exists(_TypeLink.objects.filter(customfield_id=OuterRef("pk"), workitemtype_id=type.pk))
        fields = fields.filter(typed)
    return fields.order_by("position", "id").prefetch_related(Prefetch("options", queryset=CustomOption.objects.all()))


def custom_fields_for(*, actor, entity: str, project=None, type=None) -> QuerySet:
    """What ``custom_fields_applicable`` gives, for a signed-in actor (nothing for anyone else)."""
    if not is_signed_in(actor):
        return CustomField.objects.none()
    return custom_fields_applicable(entity, project=project, type=type)


def custom_field_list(*, actor, entity: str | None = None) -> QuerySet:
    """Every live definition (of kind ``entity`` when given), ordered by kind and position, with their options,
    chosen projects and types prefetched: OpenProject v2's ``/custom_fields`` and Beebole's ``custom_field.list``."""
    if not is_signed_in(actor):
        return CustomField.objects.none()
    fields = CustomField.objects.all()
    if entity is not None:
        fields = fields.filter(applies_to=require_entity(entity))
    return fields.order_by("applies_to", "position", "id").prefetch_related(
        Prefetch("options", queryset=CustomOption.objects.all()), "projects", "types")


__all__ = ["custom_field_list", "custom_fields_applicable", "custom_fields_for", "require_entity"]
