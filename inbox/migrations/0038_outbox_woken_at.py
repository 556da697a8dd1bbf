# The outbox sweep's wake marker (inbox.outbox.sending, WAKE): a NULLable column without a
# default on each outbox table, catalogue-only, under a lock timeout (inbox.migrations._online).

from django.db import migrations, models

from inbox.migrations._online import add_columns


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0037_reasons_as_data"),
    ]

    operations = add_columns(
        "woken_at", models.DateTimeField(blank=True, null=True), "reply", "brandtweet"
    )
