"""Custom fields: definitions a workspace administrator adds to work items, projects, companies or people, the
possible values of list fields, and the values each object holds."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from keelplan.core.models import DomainModel


class AppliesTo(models.TextChoices):
    """The kind of object a custom field is defined on (OpenProject's ``customized_type``, Beebole's
    ``availableFor``)."""

    WORK_ITEM = "work_item"
    PROJECT = "project"
    COMPANY = "company"
    PERSON = "person"


class FieldFormat(models.TextChoices):
    """OpenProject's custom field formats (``int`` and ``bool`` spelled out)."""

    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    DATE = "date"
    BOOL = "bool"
    LIST = "list"
    USER = "user"
    VERSION = "version"


# Formats whose value names another row (an option, a user, a version): the only ones that may hold several.
REFERENCE_FORMATS = frozenset({FieldFormat.LIST, FieldFormat.USER, FieldFormat.VERSION})
TEXT_FORMATS = frozenset({FieldFormat.STRING, FieldFormat.TEXT})
NUMBER_FORMATS = frozenset({FieldFormat.INTEGER, FieldFormat.FLOAT})


class CustomField(DomainModel):
    """A custom field's definition: its format, the rules a value keeps, and where it applies.

    Invariants: ``name`` is unique (ignoring case) per ``applies_to`` among live rows; ``format`` and
    ``applies_to`` never change once values may exist; ``default_value`` is empty or the canonical text of a value
    the rules accept (list fields take their defaults from their options' ``is_default`` instead). A field
    applies to a work item or project when ``is_for_all`` or the project is among ``projects``, and to a work
    item only when ``types`` is empty or holds its type.
    """

    name = models.CharField(max_length=255)
    applies_to = models.CharField(max_length=20, choices=AppliesTo.choices)
    format = models.CharField(max_length=20, choices=FieldFormat.choices)
    regexp = models.TextField(blank=True)
    min_length = models.PositiveIntegerField(null=True, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    min_value = models.DecimalField(max_digits=28, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=28, decimal_places=6, null=True, blank=True)
    is_required = models.BooleanField(default=False)
    default_value = models.TextField(blank=True)
    is_multi_value = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    is_for_all = models.BooleanField(default=True)
    projects = models.ManyToManyField("portfolio.Project", blank=True, related_name="+")
    types = models.ManyToManyField("planning.WorkItemType", blank=True, related_name="+")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "applies_to", condition=models.Q(deleted_at__isnull=True),
                                    name="custom_field_name_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.applies_to}, {self.format})"


class CustomOption(DomainModel):
    """One possible value of a list field, in ``position`` order. Invariant: ``value`` is unique per field among
    live rows; a single-value field has at most one live ``is_default`` option."""

    custom_field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="options")
    value = models.CharField(max_length=255)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["custom_field", "value"], condition=models.Q(deleted_at__isnull=True),
                                    name="custom_option_value_per_field"),
        ]

    def __str__(self) -> str:
        return self.value


class CustomValue(models.Model):
    """One value of one custom field on one object (``entity`` and ``object_id``: the field's ``applies_to`` kind
    and the row's id); a multi-value field has one row per value, in ``id`` order.

    ``value`` is canonical text: integers and decimals as written by ``str``, dates ISO, booleans ``true`` or
    ``false``, options, users and versions by id. Rows are replaced, never edited, and only through
    ``customfields.services.custom_values_write``; the change log keeps their history.
    """

    custom_field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    entity = models.CharField(max_length=20, choices=AppliesTo.choices)
    object_id = models.BigIntegerField()
    value = models.TextField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["entity", "object_id"], name="custom_value_by_object")]

    def __str__(self) -> str:
        return f"{self.entity}:{self.object_id} #{self.custom_field_id} = {self.value}"
