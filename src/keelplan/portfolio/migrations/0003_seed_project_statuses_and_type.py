"""Seeds OpenProject's six project statuses and one default project type (rows already there are kept)."""

from django.db import migrations

STATUSES = [
    ("on_track", "On track"),
    ("at_risk", "At risk"),
    ("off_track", "Off track"),
    ("not_started", "Not started"),
    ("finished", "Finished"),
    ("discontinued", "Discontinued"),
]


def seed(apps, schema_editor):
    ProjectStatus = apps.get_model("portfolio", "ProjectStatus")
    ProjectType = apps.get_model("portfolio", "ProjectType")
    for position, (code, name) in enumerate(STATUSES, start=1):
        if not ProjectStatus.objects.filter(code=code).exists() and not ProjectStatus.objects.filter(name=name).exists():
            ProjectStatus.objects.create(code=code, name=name, position=position)
    if not ProjectType.objects.exists():
        ProjectType.objects.create(name="Standard", position=1, is_default=True)


class Migration(migrations.Migration):
    dependencies = [("portfolio", "0002_project_reference_data")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
