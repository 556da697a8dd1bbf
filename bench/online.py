"""A migration of a big table without long locks (inbox.migrations._online), at size.

    python -m bench.online --database-url postgres://.../twelp_bench_17   # bench.search's

On a database that already holds messages (bench.search seeds one; its size is read):
1. LockTimeout adds a NULLable column `bench_online` to inbox_message;
2. FillOnWrite fills it on every write from then on (length(text));
3. Backfill fills the old rows, BATCH a transaction,
while a second session plays the application: every 20 ms it updates one random message
(the column the trigger reads) and times the statement. Printed: rows, seconds, rows/s,
batches and the longest, and the writer's statements (p50 / p99 / max ms): a long lock
would show there as one long wait. Then the trigger and the column are dropped.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from typing import Any

from bench import common, stats

COLUMN = "bench_online"


def writer(url: str, stop: threading.Event, last_id: int, waits: list[float]) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        rng = random.Random(17)
        while not stop.is_set():
            row = rng.randint(1, last_id)
            started = time.perf_counter()
            conn.execute("UPDATE inbox_message SET text = text || '' WHERE id = %s", [row])
            waits.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection, migrations

    from inbox.migrations._online import BATCH, Backfill, FillOnWrite, LockTimeout

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id) FROM inbox_message")
        rows, last_id = cursor.fetchone()
        cursor.execute(f"ALTER TABLE inbox_message DROP COLUMN IF EXISTS {COLUMN}")
    common.log(f"  {rows:,} messages")
    add = LockTimeout(migrations.RunSQL(f"ALTER TABLE inbox_message ADD COLUMN {COLUMN} int"))
    fill = FillOnWrite("inbox_message", COLUMN, "length(NEW.text)", of=("text",))
    batches: list[float] = []
    clock = [time.perf_counter()]

    def batch_done(low: int, high: int, count: int) -> None:
        now = time.perf_counter()
        batches.append((now - clock[0]) * 1000)
        clock[0] = now

    backfill = Backfill("inbox_message", COLUMN, "length(text)", on_batch=batch_done)
    waits: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=writer, args=(args.database_url, stop, last_id, waits))
    thread.start()
    try:
        time.sleep(1)  # the writer's own pace first
        with connection.schema_editor(atomic=False) as editor, stats.Stopwatch() as watch:
            with stats.Stopwatch() as adding:
                add.database_forwards("inbox", editor, None, None)
                fill.database_forwards("inbox", editor, None, None)
            clock[0] = time.perf_counter()
            filled = backfill.database_forwards("inbox", editor, None, None)
        time.sleep(1)
    finally:
        stop.set()
        thread.join()
        with connection.schema_editor(atomic=False) as editor:
            fill.database_backwards("inbox", editor, None, None)
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE inbox_message DROP COLUMN IF EXISTS {COLUMN}")
    return {
        "messages": rows,
        "filled": filled,
        "batch_rows": BATCH,
        "seconds": round(watch.seconds, 1),
        "add_column_and_trigger_ms": round(adding.ms, 1),
        "rows_per_s": round(filled / watch.seconds),
        "batches": len(batches),
        "batch_ms": {k: round(v, 1) for k, v in stats.percentiles(batches, (50, 95)).items()},
        "writer_ms": {k: round(v, 1) for k, v in stats.percentiles(waits, (50, 99)).items()},
        "load_average": common.load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default=common.redis_url(1))
    parser.add_argument("--json", help="Also write the results to this file.")
    args = parser.parse_args()
    common.configure(args.database_url, args.redis_url)
    common.setup_django()
    machine = common.machine()
    common.log(f"machine: {machine}")
    result = run(args)
    print(result)
    common.write_json(args.json, {"machine": machine, "results": [result]})


if __name__ == "__main__":
    main()
