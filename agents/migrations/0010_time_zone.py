# Issue 21: an employee's own time zone (empty: the brand's).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0009_oidc_subject'),
    ]

    operations = [
        migrations.AddField(
            model_name='agent',
            name='time_zone',
            field=models.CharField(blank=True, db_default='', max_length=64),
        ),
    ]
