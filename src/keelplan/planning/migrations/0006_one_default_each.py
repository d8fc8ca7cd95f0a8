"""Leaves at most one default status, work item type and priority (the first by position), so the next migration
can make that a constraint on a database whose rows were edited by hand."""

from django.db import migrations


def keep_one_default(apps, schema_editor):
    for name in ("Status", "WorkItemType", "Priority"):
        model = apps.get_model("planning", name)
        defaults = list(model.objects.filter(is_default=True).order_by("position", "id").values_list("id", flat=True))
        if len(defaults) > 1:
            model.objects.filter(pk__in=defaults[1:]).update(is_default=False)


class Migration(migrations.Migration):
    dependencies = [("planning", "0005_uid_unique_per_project")]
    operations = [migrations.RunPython(keep_one_default, migrations.RunPython.noop)]
