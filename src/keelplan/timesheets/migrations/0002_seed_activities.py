"""Seeds OpenProject's default time entry activities, Development the default. An activity whose name is taken
already is left as it is."""

from django.db import migrations

ACTIVITIES = ["Management", "Specification", "Development", "Testing", "Support", "Other"]
DEFAULT = "Development"


def seed(apps, schema_editor):
    Activity = apps.get_model("timesheets", "Activity")
    has_default = Activity.objects.filter(is_default=True).exists()
    for position, name in enumerate(ACTIVITIES, start=1):
        if Activity.objects.filter(name__iexact=name).exists():
            continue
        Activity.objects.create(name=name, position=position, is_default=name == DEFAULT and not has_default)


class Migration(migrations.Migration):
    dependencies = [("timesheets", "0001_time_entries_and_activities")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
