"""The change log's models now belong to the ``changelog`` app (same tables); ``sync`` forgets them."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0003_sync_batches_and_marks'),
        ('changelog', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ChangeEvent'),
                migrations.DeleteModel(name='ChangeStream'),
            ],
            database_operations=[],
        ),
    ]
