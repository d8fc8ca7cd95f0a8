"""Seeds the colour palette: every colour the seeded statuses, types and priorities use, then a general palette.
A colour whose name or hexcode is already taken is left as it is."""

import re

from django.db import migrations

HEX = re.compile(r"#[0-9A-F]{6}")

PALETTE = [
    # name, hexcode: first the colours of the rows seeded in 0002_reference_data.
    ("Blue", "#1A67A3"),
    ("Grey", "#9E9E9E"),
    ("Amber", "#F0A202"),
    ("Purple", "#7E57C2"),
    ("Red", "#D32F2F"),
    ("Green", "#2E7D32"),
    ("Light green", "#35C53F"),
    ("Orange", "#FF922B"),
    ("Steel blue", "#336699"),
    ("Black", "#000000"),
    ("White", "#FFFFFF"),
    ("Teal", "#00897B"),
    ("Cyan", "#00ACC1"),
    ("Indigo", "#3949AB"),
    ("Pink", "#D81B60"),
    ("Yellow", "#FDD835"),
    ("Brown", "#6D4C41"),
    ("Slate", "#546E7A"),
]


def seed(apps, schema_editor):
    Color = apps.get_model("planning", "Color")
    wanted = [(name, hexcode) for name, hexcode in PALETTE]
    known = {hexcode for _, hexcode in PALETTE}
    # A database edited by hand may paint rows with colours the palette lacks: they join it, named by their hex.
    for model in ("Status", "WorkItemType", "Priority"):
        for hexcode in apps.get_model("planning", model).objects.values_list("color", flat=True).order_by("id"):
            hexcode = (hexcode or "").upper()
            if HEX.fullmatch(hexcode) and hexcode not in known:
                known.add(hexcode)
                wanted.append((hexcode, hexcode))
    position = Color.objects.order_by("-position").values_list("position", flat=True).first() or 0
    for name, hexcode in wanted:
        if Color.objects.filter(hexcode__iexact=hexcode).exists() or Color.objects.filter(name__iexact=name).exists():
            continue
        position += 1
        Color.objects.create(name=name, hexcode=hexcode, position=position)


class Migration(migrations.Migration):
    dependencies = [("planning", "0007_versions_categories_colors")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
