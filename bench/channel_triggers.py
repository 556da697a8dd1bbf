"""What the channel triggers cost (migration inbox 0006_dm): a reply stays on its thread's
channel, a message on its thread's, a thread never changes channel.

    DATABASE_URL=postgres://.../twelp_x python -m bench.channel_triggers --rows 100000

In one transaction that is rolled back (the database is left as it was): one brand, one
customer, `--rows` threads; then `--rows` messages and `--rows` replies inserted by one
INSERT ... SELECT each, under EXPLAIN (ANALYZE), which reports the time PostgreSQL spent
in each trigger apart from the insert itself. Each insert runs with the triggers on and
again with them disabled (ALTER TABLE ... DISABLE TRIGGER, rolled back too), `--rounds`
times; the medians are printed. The database must be migrated.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench import stats

MESSAGES = """
INSERT INTO inbox_message (brand_id, thread_id, x_id, channel, direction, author_x_id, text,
    conversation_id, raw, sent_at, ingested_at)
SELECT %(brand)s, t.id, t.conversation_id + %(offset)s, 'tweet', 'in', 42, 'hello', t.id,
    '{}', now(), now()
FROM inbox_thread t WHERE t.brand_id = %(brand)s
"""
REPLIES = """
INSERT INTO inbox_reply (thread_id, in_reply_to_id, agent_id, channel, text, credit, body,
    status, attempts, last_error, client_token, created_at)
SELECT m.thread_id, m.id, NULL, 'tweet', 'hi', ' ^AB', 'hi ^AB', 'queued', 0, '',
    gen_random_uuid(), now()
FROM inbox_message m WHERE m.brand_id = %(brand)s AND m.x_id >= %(offset)s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "true")  # a local measurement, as manage.py runs
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twelp.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    results: dict[str, list[float]] = {}
    for round_no in range(args.rounds):
        with transaction.atomic(), connection.cursor() as cursor:
            # Foreign keys checked per statement (both runs alike), so no deferred check is
            # pending when the triggers are switched off.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            brand = _world(cursor, args.rows)
            for enabled in (True, False):
                offset = (round_no * 2 + (0 if enabled else 1) + 1) * 10**12
                if not enabled:
                    for table in ("message", "reply"):
                        cursor.execute(
                            f"ALTER TABLE inbox_{table} DISABLE TRIGGER inbox_{table}_channel"
                        )
                for name, sql in (("messages", MESSAGES), ("replies", REPLIES)):
                    total, trigger = _explain(cursor, sql, {"brand": brand, "offset": offset})
                    key = f"{name} triggers {'on' if enabled else 'off'}"
                    results.setdefault(f"{key}: insert ms", []).append(total)
                    if enabled:
                        results.setdefault(f"{name}: in trigger ms", []).append(trigger)
            transaction.set_rollback(True)
    report = stats.medians(results, digits=1)
    for name in ("messages", "replies"):
        report[f"{name}: trigger us/row"] = round(
            report[f"{name}: in trigger ms"] * 1000 / args.rows, 2
        )
    json.dump({"rows": args.rows, "rounds": args.rounds, **report}, sys.stdout, indent=2)
    print()


def _world(cursor, rows: int) -> int:
    cursor.execute(
        "INSERT INTO inbox_brand (name, handle, x_user_id, credit_format, timezone, "
        "business_hours, auto_reply_enabled, auto_reply_text, sla_first_response, "
        "sla_resolution, employee_id_pattern, relay_hashtag, urgent_keywords, created_at) "
        "VALUES ('Bench', 'bench_channel', 1, 'caret', 'UTC', '{}', false, '', "
        "interval '15 min', interval '4 hours', '.*', '', '[]', now()) RETURNING id"
    )
    brand = cursor.fetchone()[0]
    cursor.execute(
        "INSERT INTO inbox_customer (brand_id, x_user_id, handle, name, followers_count, "
        "verified, description, profile_image_url, tags, created_at, updated_at) "
        "VALUES (%s, 42, 'kim', 'Kim', 0, false, '', '', '{}', now(), now()) RETURNING id",
        [brand],
    )
    customer = cursor.fetchone()[0]
    cursor.execute(
        "INSERT INTO inbox_thread (brand_id, customer_id, channel, conversation_id, status, "
        "priority, preview, waiting_since, created_at, updated_at) "
        "SELECT %s, %s, 'tweet', g, 'open', 0, '', now(), now(), now() "
        "FROM generate_series(1, %s) AS g",
        [brand, customer, rows],
    )
    return brand


def _explain(cursor, sql: str, params: dict) -> tuple[float, float]:
    """(the statement's execution ms, of which in the channel trigger)."""
    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    top = plan[0]
    trigger = sum(t["Time"] for t in top.get("Triggers", []) if "channel" in t["Trigger Name"])
    return top["Execution Time"], trigger


if __name__ == "__main__":
    main()
