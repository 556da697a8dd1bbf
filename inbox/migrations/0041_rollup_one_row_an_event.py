# Fewer rows and index entries written by every transition (issue 15: claim next at 1M
# threads against raw SKIP LOCKED):
# - a Rollup delta is one row an Event (grain "e"), spread by compaction into its minute,
#   quarter-hour and actor's-day rows (inbox.rollups), not three rows at write time;
# - QueueCount loses its two foreign-key indexes (brand alone, source): nothing reads a row
#   by them (no constraint, DO_NOTHING: no cascade looks either), queuecount_brand stays;
# - the status trigger writes its two count rows in one INSERT, not two.
# DROP INDEX and CREATE OR REPLACE FUNCTION are catalogue-only, run under a lock timeout
# (inbox.migrations._online).

import django.db.models.deletion
from django.db import migrations, models

from inbox.migrations._online import LockTimeout

MOVED = """
CREATE OR REPLACE FUNCTION inbox_thread_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
  SELECT brand_id, source_id, status, n, true
  FROM (VALUES (OLD.brand_id, OLD.source_id, OLD.status, -1, OLD.x_hidden = ''),
               (NEW.brand_id, NEW.source_id, NEW.status, 1, NEW.x_hidden = ''))
       AS counted(brand_id, source_id, status, n, shown)
  WHERE shown;
  RETURN NULL;
END $$;
"""

# 0034_queue_counts_without_x_hidden's function.
MOVED_BEFORE = """
CREATE OR REPLACE FUNCTION inbox_thread_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.x_hidden = '' THEN
    INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
    VALUES (OLD.brand_id, OLD.source_id, OLD.status, -1, true);
  END IF;
  IF NEW.x_hidden = '' THEN
    INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
    VALUES (NEW.brand_id, NEW.source_id, NEW.status, 1, true);
  END IF;
  RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0040_event_at_unindexed"),
    ]

    operations = [
        LockTimeout(
            migrations.AlterField(
                model_name="queuecount",
                name="brand",
                field=models.ForeignKey(
                    db_constraint=False,
                    db_index=False,
                    on_delete=django.db.models.deletion.DO_NOTHING,
                    related_name="+",
                    to="inbox.brand",
                ),
            )
        ),
        LockTimeout(
            migrations.AlterField(
                model_name="queuecount",
                name="source",
                field=models.ForeignKey(
                    blank=True,
                    db_constraint=False,
                    db_index=False,
                    null=True,
                    on_delete=django.db.models.deletion.DO_NOTHING,
                    related_name="+",
                    to="inbox.source",
                ),
            )
        ),
        migrations.AlterField(
            model_name="rollup",
            name="grain",
            field=models.CharField(
                choices=[
                    ("m", "Minute (UTC)"),
                    ("q", "Quarter hour (aligns with every time zone's midnight)"),
                    ("d", "Day in the brand's time zone"),
                    ("e", "Not yet compacted: one Event's minute (UTC) and actor"),
                ],
                max_length=1,
            ),
        ),
        LockTimeout(migrations.RunSQL(MOVED, MOVED_BEFORE)),
    ]
