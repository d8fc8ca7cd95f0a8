"""The change log moves here from the ``sync`` app: the tables stay as they are (``sync_changestream``,
``sync_changeevent``); only Django's record of which app owns the models changes."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('portfolio', '0001_initial'),
        ('sync', '0003_sync_batches_and_marks'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state = [
        migrations.CreateModel(
            name='ChangeStream',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=40, unique=True)),
                ('last_seq', models.BigIntegerField(default=0)),
                ('project', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='change_stream', to='portfolio.project')),
            ],
            options={'db_table': 'sync_changestream'},
        ),
        migrations.CreateModel(
            name='ChangeEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField()),
                ('entity', models.CharField(max_length=40)),
                ('entity_id', models.BigIntegerField()),
                ('action', models.CharField(choices=[('created', 'Created'), ('updated', 'Updated'), ('deleted', 'Deleted'), ('restored', 'Restored')], max_length=10)),
                ('changes', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('stream', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='changelog.changestream')),
            ],
            options={
                'db_table': 'sync_changeevent',
                'ordering': ['stream', 'seq'],
                'indexes': [
                    models.Index(fields=['entity', 'entity_id'], name='sync_change_entity_8179ef_idx'),
                    models.Index(condition=models.Q(('entity', 'sync_mark')), fields=['stream', 'seq'], name='sync_mark_by_seq'),
                ],
                'constraints': [models.UniqueConstraint(fields=('stream', 'seq'), name='one_event_per_seq')],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state, database_operations=[])]
