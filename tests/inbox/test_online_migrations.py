"""inbox.migrations._online against the real PostgreSQL: a schema change that waits for
its lock at most LOCK_TIMEOUT and retries, a trigger that fills a new column on write,
and a backfill in committed batches that never holds a row past its batch."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, migrations, transaction
from django.db.migrations.loader import MigrationLoader

from inbox.migrations._online import Backfill, FillOnWrite, LockNotGranted, LockTimeout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def probe():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE online_probe (id bigserial PRIMARY KEY, text text, n int, words int)"
        )
    yield "online_probe"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS online_probe")
        cursor.execute("DROP FUNCTION IF EXISTS online_probe_words_fill()")


@pytest.fixture
def other():
    """A second session, as the application's while a migration runs."""
    settings = connection.settings_dict
    session = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )
    yield session
    session.close()


def forwards(operation) -> None:
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("inbox", editor, None, None)


def backwards(operation) -> None:
    with connection.schema_editor(atomic=False) as editor:
        operation.database_backwards("inbox", editor, None, None)


def columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}


def test_a_schema_change_waits_briefly_and_retries_until_the_lock_is_free(probe, other):
    other.execute("LOCK TABLE online_probe IN ACCESS SHARE MODE")  # a long read, say
    retries = []

    def retried(attempt: int) -> None:
        retries.append(attempt)
        other.rollback()  # the read ends

    add = LockTimeout(
        migrations.RunSQL("ALTER TABLE online_probe ADD COLUMN lang text"),
        timeout="50ms",
        pause=0,
        on_retry=retried,
    )
    forwards(add)
    assert retries == [1] and "lang" in columns(probe)


def test_it_gives_up_after_its_attempts_and_changes_nothing(probe, other):
    other.execute("LOCK TABLE online_probe IN ACCESS SHARE MODE")
    retries = []
    add = LockTimeout(
        migrations.RunSQL("ALTER TABLE online_probe ADD COLUMN lang text"),
        timeout="50ms",
        attempts=3,
        pause=0,
        on_retry=retries.append,
    )
    with pytest.raises(LockNotGranted, match="3 attempts"):
        forwards(add)
    other.rollback()
    assert retries == [1, 2] and "lang" not in columns(probe)


def test_a_trigger_fills_the_new_column_on_every_write(probe):
    fill = FillOnWrite(probe, "words", "length(NEW.text)", of=("text",))
    forwards(fill)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO online_probe (text, n) VALUES ('hello', 1) RETURNING id")
        row = cursor.fetchone()[0]
        cursor.execute("SELECT words FROM online_probe WHERE id = %s", [row])
        assert cursor.fetchone()[0] == 5
        cursor.execute("UPDATE online_probe SET text = 'hi' WHERE id = %s", [row])
        cursor.execute("UPDATE online_probe SET words = 99 WHERE id = %s", [row])
        cursor.execute("UPDATE online_probe SET n = 2 WHERE id = %s", [row])  # not `of`
        cursor.execute("SELECT words FROM online_probe WHERE id = %s", [row])
        assert cursor.fetchone()[0] == 99
        cursor.execute("UPDATE online_probe SET text = 'hey you' WHERE id = %s", [row])
        cursor.execute("SELECT words FROM online_probe WHERE id = %s", [row])
        assert cursor.fetchone()[0] == 7
    backwards(fill)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO online_probe (text) VALUES ('hello') RETURNING words")
        assert cursor.fetchone()[0] is None


def test_a_backfill_commits_each_batch_and_holds_no_row_after_it(probe, other):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO online_probe (text)"
            " SELECT repeat('x', g % 7) FROM generate_series(1, 2500) g"
        )
    seen = []

    def after_batch(low: int, high: int, rows: int) -> None:
        # another session sees the batch (committed) and may lock its rows at once
        filled = other.execute("SELECT count(*) FROM online_probe WHERE words IS NOT NULL")
        locked = other.execute(
            "SELECT count(*) FROM (SELECT id FROM online_probe WHERE id >= %s AND id < %s"
            " FOR UPDATE NOWAIT) AS x",
            [low, high],
        )
        seen.append((rows, filled.fetchone()[0], locked.fetchone()[0]))
        other.rollback()

    backfill = Backfill(probe, "words", "length(text)", batch=1000, on_batch=after_batch)
    with connection.schema_editor(atomic=False) as editor:
        assert backfill.database_forwards("inbox", editor, None, None) == 2500
    assert seen == [(1000, 1000, 1000), (1000, 2000, 1000), (500, 2500, 500)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM online_probe WHERE words = length(text)")
        assert cursor.fetchone()[0] == 2500
    with connection.schema_editor(atomic=False) as editor:  # again: nothing left to fill
        assert backfill.database_forwards("inbox", editor, None, None) == 0


def test_a_backfill_refuses_to_run_inside_a_transaction(probe):
    with pytest.raises(RuntimeError, match="atomic = False"), transaction.atomic():
        forwards(Backfill(probe, "words", "length(text)"))


def test_django_never_takes_the_helper_for_a_migration():
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    assert ("inbox", "_online") not in loader.disk_migrations
    assert ("inbox", "0027_search_stored") in loader.disk_migrations
