# Routing and capacity (issue 15): an agent's own cap on threads held, and their languages.

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0003_permissions_and_x_user_id'),
    ]

    operations = [
        migrations.AddField(
            model_name='agent',
            name='max_held',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='agent',
            name='languages',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=8), blank=True, db_default=models.Value([]), default=list, size=None),
        ),
    ]
