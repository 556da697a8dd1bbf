"""Migrations on big tables without long locks: three operations for a migration's
`operations` list (this module's name starts with "_", so Django's loader never takes it
for a migration). Migration 0027 rewrote three tables under an ACCESS EXCLUSIVE lock for
two minutes at 1M messages; the next big-table change should be written like this:

    from inbox.migrations._online import Backfill, FillOnWrite, LockTimeout

    class Migration(migrations.Migration):
        atomic = False  # 1: every step commits on its own
        operations = [
            LockTimeout(  # 2
                migrations.AddField("message", "sensitive", models.BooleanField(null=True))
            ),
            FillOnWrite(  # 3
                "inbox_message", "sensitive",
                "(NEW.raw->>'possibly_sensitive')::boolean", of=("raw",),
            ),
            Backfill(  # 4
                "inbox_message", "sensitive", "(raw->>'possibly_sensitive')::boolean"
            ),
        ]

1. `atomic = False`: in one transaction every lock taken is held to the end, the
   backfill's row locks included. Each operation below makes its own short transactions.
2. LockTimeout runs a schema change (add a NULLable column without a default, add or drop
   a trigger: catalogue-only changes, instant at any size) under `SET LOCAL lock_timeout`
   (LOCK_TIMEOUT, 2 s). ALTER TABLE waits for every running query on the table, and every
   query that comes after waits behind it: a timeout bounds that queue; it is retried
   ATTEMPTS times, a pause between, then the migration fails (nothing changed);
   `add_columns` writes one per table for a column added to several. SQL Django
   defers to the end of a migration (a foreign key's index) is not covered: add indexes
   CONCURRENTLY (django.contrib.postgres.operations.AddIndexConcurrently) instead.
3. FillOnWrite: a BEFORE INSERT OR UPDATE trigger sets the new column from the row on
   every write from now on (`of`: only when those columns change), so the backfill never
   races the application: rows written while it runs are already right.
4. Backfill: UPDATE ... SET column = expression in primary-key ranges of BATCH rows
   (`where`: the rows still to fill, `column IS NULL` by default), each its own
   transaction, committed before the next, a pause between: a row is locked for one
   batch's time, never for the whole table's. Safe to re-run after a failure.
   It refuses to run inside a transaction (a migration without `atomic = False`).
Afterwards, in a later migration: the column NOT NULL (`SET NOT NULL` scans the table
under the lock: add `CHECK (col IS NOT NULL) NOT VALID`, then VALIDATE CONSTRAINT, which
does not block writes), and drop the trigger once the application writes the column
(`FillOnWrite(...).drop_sql`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import OperationalError, migrations, transaction
from django.db.migrations.operations.base import Operation
from django.db.models import Field

LOCK_TIMEOUT = "2s"
ATTEMPTS = 10
PAUSE = 1.0  # seconds between attempts, and the most between batches
BATCH = 5000
LOCK_NOT_AVAILABLE = "55P03"


def _quoted(schema_editor: Any, name: str) -> str:
    return schema_editor.connection.ops.quote_name(name)


def with_lock_timeout(
    schema_editor: Any,
    step: Callable[[], None],
    *,
    timeout: str = LOCK_TIMEOUT,
    attempts: int = ATTEMPTS,
    pause: float = PAUSE,
    on_retry: Callable[[int], None] | None = None,
) -> None:
    """Run `step` in a transaction (a savepoint inside one) under `lock_timeout`; when the
    lock is not granted in time, roll it back and try again, at most `attempts` times."""
    connection = schema_editor.connection
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=connection.alias):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])
                step()
            return
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            if attempt == attempts:
                raise LockNotGranted(
                    f"No lock within {timeout} in {attempts} attempts: a long query holds "
                    "the table. Run the migration again when it is quieter."
                ) from error
        if on_retry is not None:
            on_retry(attempt)
        time.sleep(pause)


class LockNotGranted(OperationalError):
    """LockTimeout gave up: the migration changed nothing."""


class LockTimeout(Operation):
    """Rule 2: `operation` (a schema change) under a lock timeout, retried."""

    reduces_to_sql = False

    def __init__(
        self,
        operation: Operation,
        timeout: str = LOCK_TIMEOUT,
        attempts: int = ATTEMPTS,
        pause: float = PAUSE,
        on_retry: Callable[[int], None] | None = None,
    ) -> None:
        self.operation = operation
        self.timeout, self.attempts, self.pause = timeout, attempts, pause
        self.on_retry = on_retry
        self.reversible = operation.reversible

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [self.operation], {"timeout": self.timeout})

    def state_forwards(self, app_label: str, state: Any) -> None:
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label: str, schema_editor: Any, old: Any, new: Any) -> None:
        operation = self.operation
        self._run(
            schema_editor, lambda: operation.database_forwards(app_label, schema_editor, old, new)
        )

    def database_backwards(self, app_label: str, schema_editor: Any, old: Any, new: Any) -> None:
        operation = self.operation
        self._run(
            schema_editor, lambda: operation.database_backwards(app_label, schema_editor, old, new)
        )

    def _run(self, schema_editor: Any, step: Callable[[], None]) -> None:
        with_lock_timeout(
            schema_editor,
            step,
            timeout=self.timeout,
            attempts=self.attempts,
            pause=self.pause,
            on_retry=self.on_retry,
        )

    def describe(self) -> str:
        return f"{self.operation.describe()} (lock timeout {self.timeout}, retried)"


def add_columns(name: str, field: Field, *model_names: str) -> list[LockTimeout]:
    """Rule 2 for one new column on several tables: `name` = `field` added to each of
    `model_names`, in that order, each its own AddField under a lock timeout. Only a
    NULLable column without a default is catalogue-only, so only such a field is taken."""
    if not field.null or field.has_default():
        raise ValueError(f"{name}: a NULLable column without a default (catalogue-only)")
    return [
        LockTimeout(migrations.AddField(model_name=model, name=name, field=field.clone()))
        for model in model_names
    ]


class FillOnWrite(Operation):
    """Rule 3: `table.column` set to `expression` (PL/pgSQL, over NEW) on every insert
    and on every update (of the `of` columns, when given). Reversed: dropped."""

    reduces_to_sql = True
    reversible = True

    def __init__(
        self, table: str, column: str, expression: str, of: Sequence[str] = (), **timeouts: Any
    ) -> None:
        self.table, self.column, self.expression, self.of = table, column, expression, tuple(of)
        self.timeouts = timeouts
        self.name = f"{table}_{column}_fill"[:63]

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [self.table, self.column, self.expression], {})

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # no model changes: a trigger lives in the database only

    def create_sql(self, schema_editor: Any) -> list[str]:
        table, column = _quoted(schema_editor, self.table), _quoted(schema_editor, self.column)
        name = _quoted(schema_editor, self.name)
        columns = ", ".join(_quoted(schema_editor, c) for c in self.of)
        update = f"UPDATE OF {columns}" if self.of else "UPDATE"
        return [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN NEW.{column} := {self.expression}; RETURN NEW; END $$",
            f"CREATE TRIGGER {name} BEFORE INSERT OR {update} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]

    def drop_sql(self, schema_editor: Any) -> list[str]:
        name, table = _quoted(schema_editor, self.name), _quoted(schema_editor, self.table)
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]

    def _execute(self, schema_editor: Any, statements: list[str]) -> None:
        def step() -> None:
            for sql in statements:
                schema_editor.execute(sql, params=None)

        with_lock_timeout(schema_editor, step, **self.timeouts)

    def database_forwards(self, app_label: str, schema_editor: Any, old: Any, new: Any) -> None:
        self._execute(schema_editor, self.create_sql(schema_editor))

    def database_backwards(self, app_label: str, schema_editor: Any, old: Any, new: Any) -> None:
        self._execute(schema_editor, self.drop_sql(schema_editor))

    def describe(self) -> str:
        return f"Fill {self.table}.{self.column} on every write (trigger {self.name})"


class Backfill(Operation):
    """Rule 4: `table.column` = `expression` (SQL over the row) where `where`, in
    primary-key ranges of `batch`, each committed; `on_batch(low, high, rows)` after each
    commit. Reversed: nothing (the column's own removal undoes it)."""

    reduces_to_sql = False
    reversible = True
    atomic = False

    def __init__(
        self,
        table: str,
        column: str,
        expression: str,
        where: str = "",
        batch: int = BATCH,
        pause: float = 0.0,
        on_batch: Callable[[int, int, int], None] | None = None,
    ) -> None:
        self.table, self.column, self.expression = table, column, expression
        self.where = where or f"{column} IS NULL"
        self.batch, self.pause, self.on_batch = batch, pause, on_batch

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [self.table, self.column, self.expression], {})

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, old: Any, new: Any) -> int:
        """The rows updated."""
        connection = schema_editor.connection
        if connection.in_atomic_block:
            raise RuntimeError(
                "Backfill commits batch by batch: give its migration `atomic = False`."
            )
        table, column = _quoted(schema_editor, self.table), _quoted(schema_editor, self.column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT min(id), max(id) FROM {table}")  # noqa: S608
            low, last = cursor.fetchone()
        done = 0
        while low is not None and low <= last:
            high = low + self.batch
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {column} = {self.expression} "  # noqa: S608
                    f"WHERE id >= %s AND id < %s AND ({self.where})",
                    [low, high],
                )
                rows = cursor.rowcount
            done += rows
            if self.on_batch is not None:
                self.on_batch(low, high, rows)
            low = high
            if self.pause:
                time.sleep(self.pause)
        return done

    def database_backwards(self, app_label: str, schema_editor: Any, old: Any, new: Any) -> None:
        pass

    def describe(self) -> str:
        return f"Backfill {self.table}.{self.column} in batches of {self.batch}"
