"""The queue's counts (inbox_queuecount, kept by triggers since 0003_supervision) leave out
threads X says must not be shown (Thread.x_hidden, inbox.data.compliance), as the queue,
claim next, search and the public stream do: a tab no longer counts a thread nobody can
see. A thread hidden or shown again moves out of or into its count like a status change.
The counts are rebuilt from the threads under the same lock that swaps the triggers.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION inbox_thread_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
  SELECT brand_id, source_id, status, count(*), true FROM new_rows
  WHERE x_hidden = '' GROUP BY 1, 2, 3;
  INSERT INTO inbox_rollup (brand_id, grain, bucket, arrived, first_response_hist, resolution_hist)
  SELECT brand_id, g.grain,
         date_bin(g.width, created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
         count(*), '{}', '{}'
  FROM new_rows CROSS JOIN (VALUES ('m', INTERVAL '1 minute'), ('q', INTERVAL '15 minutes'))
       AS g(grain, width)
  GROUP BY 1, 2, 3;
  RETURN NULL;
END $$;

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

CREATE OR REPLACE FUNCTION inbox_thread_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
  SELECT brand_id, source_id, status, -count(*), true FROM old_rows
  WHERE x_hidden = '' GROUP BY 1, 2, 3;
  RETURN NULL;
END $$;

LOCK TABLE inbox_thread IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER inbox_thread_moved ON inbox_thread;
CREATE TRIGGER inbox_thread_moved AFTER UPDATE OF status, source_id, brand_id, x_hidden
  ON inbox_thread FOR EACH ROW
  WHEN ((OLD.status, OLD.source_id, OLD.brand_id, OLD.x_hidden = '') IS DISTINCT FROM
        (NEW.status, NEW.source_id, NEW.brand_id, NEW.x_hidden = ''))
  EXECUTE FUNCTION inbox_thread_moved();
DELETE FROM inbox_queuecount;
INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
SELECT brand_id, source_id, status, count(*), false FROM inbox_thread
WHERE x_hidden = '' GROUP BY 1, 2, 3;
"""

# 0003_supervision's triggers, and every thread counted again.
BACKWARD = """
CREATE OR REPLACE FUNCTION inbox_thread_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
  SELECT brand_id, source_id, status, count(*), true FROM new_rows GROUP BY 1, 2, 3;
  INSERT INTO inbox_rollup (brand_id, grain, bucket, arrived, first_response_hist, resolution_hist)
  SELECT brand_id, g.grain,
         date_bin(g.width, created_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
         count(*), '{}', '{}'
  FROM new_rows CROSS JOIN (VALUES ('m', INTERVAL '1 minute'), ('q', INTERVAL '15 minutes'))
       AS g(grain, width)
  GROUP BY 1, 2, 3;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION inbox_thread_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
  VALUES (OLD.brand_id, OLD.source_id, OLD.status, -1, true),
         (NEW.brand_id, NEW.source_id, NEW.status, 1, true);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION inbox_thread_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
  SELECT brand_id, source_id, status, -count(*), true FROM old_rows GROUP BY 1, 2, 3;
  RETURN NULL;
END $$;

LOCK TABLE inbox_thread IN SHARE ROW EXCLUSIVE MODE;
DROP TRIGGER inbox_thread_moved ON inbox_thread;
CREATE TRIGGER inbox_thread_moved AFTER UPDATE OF status, source_id, brand_id ON inbox_thread
  FOR EACH ROW
  WHEN ((OLD.status, OLD.source_id, OLD.brand_id) IS DISTINCT FROM
        (NEW.status, NEW.source_id, NEW.brand_id))
  EXECUTE FUNCTION inbox_thread_moved();
DELETE FROM inbox_queuecount;
INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
SELECT brand_id, source_id, status, count(*), false FROM inbox_thread GROUP BY 1, 2, 3;
"""


class Migration(migrations.Migration):
    dependencies = [("inbox", "0031_event_verb_choices")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
