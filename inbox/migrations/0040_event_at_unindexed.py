# Event.at loses its single-column index: every read of Events filters by brand or thread
# first, and their composite indexes carry `at`; one index fewer written by every
# transition. DROP INDEX is catalogue-only, run under a lock timeout
# (inbox.migrations._online) so it never queues the audit's writers behind a long read.

import django.utils.timezone
from django.db import migrations, models

from inbox.migrations._online import LockTimeout


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0039_notification_assigned"),
    ]

    operations = [
        LockTimeout(
            migrations.AlterField(
                model_name="event",
                name="at",
                field=models.DateTimeField(default=django.utils.timezone.now),
            )
        ),
    ]
