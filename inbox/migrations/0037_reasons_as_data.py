"""Issue 21: why an outbox row did not go (or a source is parked), and what a notification
says, as data (inbox.rules.reasons), rendered in the reader's language; `last_error` keeps
the English sentence.

NULLable columns without a default (catalogue-only, under a lock timeout), then the rows
that carry a reason now (failed, or waiting with one; a parked source) get the code of the
English sentence Twelp stored, in small transactions. A sentence `parse` does not know (X's
words alone, a cut one) is left as it is: pages show it as before. Notifications written
before keep their text (no params).
"""

from django.db import migrations, models

from inbox.migrations._online import add_columns

BATCH = 500


def backfill(apps, schema_editor):
    from inbox.rules import reasons  # pure; its English patterns are kept for old rows

    for name in ("Reply", "BrandTweet", "Source"):
        model = apps.get_model("inbox", name)
        rows = model.objects.filter(last_reason__isnull=True).exclude(last_error="")
        if name != "Source":  # the outbox's rows that still show their reason
            rows = rows.filter(status__in=["failed", "queued", "sending", "discarded"])
        last = 0
        while True:
            batch = list(
                rows.filter(id__gt=last).order_by("id").values_list("id", "last_error")[:BATCH]
            )
            if not batch:
                break
            for row_id, text in batch:
                if (parsed := reasons.parse(text)) is not None:
                    model.objects.filter(id=row_id, last_reason__isnull=True).update(
                        last_reason=parsed
                    )
            last = batch[-1][0]


class Migration(migrations.Migration):
    atomic = False  # each step commits on its own (inbox.migrations._online)

    dependencies = [
        ("inbox", "0036_team_claim_order"),
    ]

    operations = [
        *add_columns(
            "last_reason", models.JSONField(blank=True, null=True), "reply", "brandtweet", "source"
        ),
        *add_columns("params", models.JSONField(blank=True, null=True), "notification"),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
