"""Work items' and dependencies' uids unique per project instead of workspace-wide (no "uid taken" oracle)."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('planning', '0004_critical_flag_unindexed'),
    ]

    operations = [
        migrations.AlterField(
            model_name='dependency',
            name='uid',
            field=models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name='workitem',
            name='uid',
            field=models.UUIDField(db_index=True, default=uuid.uuid4, editable=False),
        ),
        migrations.AddConstraint(
            model_name='dependency',
            constraint=models.UniqueConstraint(fields=('project', 'uid'), name='dependency_uid_per_project'),
        ),
        migrations.AddConstraint(
            model_name='workitem',
            constraint=models.UniqueConstraint(fields=('project', 'uid'), name='work_item_uid_per_project'),
        ),
    ]
