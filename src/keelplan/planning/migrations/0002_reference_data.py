"""Seeds the default statuses, work item types and priorities (TruePPM's status codes among them)."""

from django.db import migrations

STATUSES = [
    # code, name, closed, default, colour
    ("BACKLOG", "Backlog", False, False, "#9E9E9E"),
    ("NOT_STARTED", "Not started", False, True, "#1A67A3"),
    ("IN_PROGRESS", "In progress", False, False, "#F0A202"),
    ("REVIEW", "Review", False, False, "#7E57C2"),
    ("ON_HOLD", "On hold", False, False, "#D32F2F"),
    ("COMPLETE", "Complete", True, False, "#2E7D32"),
]
TYPES = [
    # code, name, milestone, default, colour
    ("task", "Task", False, True, "#1A67A3"),
    ("milestone", "Milestone", True, False, "#35C53F"),
    ("phase", "Phase", False, False, "#FF922B"),
    ("feature", "Feature", False, False, "#336699"),
    ("bug", "Bug", False, False, "#D32F2F"),
]
PRIORITIES = [
    ("low", "Low", False, "#9E9E9E"),
    ("normal", "Normal", True, "#1A67A3"),
    ("high", "High", False, "#F0A202"),
    ("immediate", "Immediate", False, "#D32F2F"),
]


def seed(apps, schema_editor):
    Status = apps.get_model("planning", "Status")
    WorkItemType = apps.get_model("planning", "WorkItemType")
    Priority = apps.get_model("planning", "Priority")
    for i, (code, name, closed, default, color) in enumerate(STATUSES, start=1):
        Status.objects.update_or_create(code=code, defaults=dict(name=name, is_closed=closed, is_default=default,
                                                                 color=color, position=i))
    for i, (code, name, milestone, default, color) in enumerate(TYPES, start=1):
        WorkItemType.objects.update_or_create(code=code, defaults=dict(name=name, is_milestone=milestone,
                                                                       is_default=default, color=color, position=i))
    for i, (code, name, default, color) in enumerate(PRIORITIES, start=1):
        Priority.objects.update_or_create(code=code, defaults=dict(name=name, is_default=default, color=color,
                                                                   position=i))


class Migration(migrations.Migration):
    dependencies = [("planning", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
