"""Creates the workspace change stream (calendars, resources), so writers never race to create it."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("sync", "ChangeStream").objects.get_or_create(key="workspace")


class Migration(migrations.Migration):
    dependencies = [("sync", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
