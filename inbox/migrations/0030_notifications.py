# Issue 21: notifications in the top bar (inbox.notifications).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0010_time_zone'),
        ('inbox', '0029_apitoken_dms'),
    ]

    operations = [
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('reply_failed', 'Reply failed'), ('dm_refused', 'DM refused'), ('mentioned', 'Mentioned in a note'), ('reassigned', 'Thread assigned to you')], max_length=16)),
                ('text', models.CharField(max_length=300)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notices', to='agents.agent')),
                ('thread', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.thread')),
            ],
            options={
                'indexes': [models.Index(fields=['agent', '-created_at', '-id'], name='notification_list'), models.Index(condition=models.Q(('read_at__isnull', True)), fields=['agent'], name='notification_unread')],
            },
        ),
    ]
