"""Activities may belong to a company (names unique ignoring case per company and among workspace-wide ones, in
place of the plain unique name); projects and companies may choose specific activities (``ActivitySelection``).
Every existing activity stays workspace-wide."""

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0004_group_memberships"),
        ("timesheets", "0002_seed_activities"),
    ]

    operations = [
        migrations.AddField(
            model_name="activity",
            name="company",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="activities", to="portfolio.company"),
        ),
        migrations.AlterField(
            model_name="activity",
            name="name",
            field=models.CharField(max_length=100),
        ),
        migrations.AddConstraint(
            model_name="activity",
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower("name"), models.F("company"),
                                               condition=models.Q(("company__isnull", False)),
                                               name="one_activity_name_per_company"),
        ),
        migrations.AddConstraint(
            model_name="activity",
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower("name"),
                                               condition=models.Q(("company__isnull", True)),
                                               name="one_workspace_activity_name"),
        ),
        migrations.CreateModel(
            name="ActivitySelection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("is_enabled", models.BooleanField(default=True)),
                ("project", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                                 related_name="activity_selection", to="portfolio.project")),
                ("company", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                                 related_name="activity_selection", to="portfolio.company")),
                ("activities", models.ManyToManyField(blank=True, related_name="selections",
                                                      to="timesheets.activity")),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(models.Q(("company__isnull", True), ("project__isnull", False)),
                                           models.Q(("company__isnull", False), ("project__isnull", True)),
                                           _connector="OR"),
                        name="activity_selection_one_owner"),
                ],
            },
        ),
    ]
