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

from bench import seeding, stats


# The measured statements, built from the models (bench.seeding.insert_select): a field
# not named here gets its model default.
def _messages_sql() -> tuple[str, dict]:
    from inbox.models import Message

    return seeding.insert_select(
        Message,
        {
            "brand": "%(brand)s",
            "thread": "t.id",
            "x_id": "t.conversation_id + %(offset)s",
            "channel": "'tweet'",
            "direction": "'in'",
            "author_x_id": "42",
            "text": "'hello'",
            "conversation_id": "t.id",
            "sent_at": "now()",
        },
        "FROM inbox_thread t WHERE t.brand_id = %(brand)s",
    )


def _replies_sql() -> tuple[str, dict]:
    from inbox.models import Reply

    return seeding.insert_select(
        Reply,
        {
            "thread": "m.thread_id",
            "in_reply_to": "m.id",
            "channel": "'tweet'",
            "text": "'hi'",
            "credit": "' ^AB'",
            "body": "'hi ^AB'",
            "status": "'queued'",
            "client_token": "gen_random_uuid()",
        },
        "FROM inbox_message m WHERE m.brand_id = %(brand)s AND m.x_id >= %(offset)s",
    )


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

    statements = {"messages": _messages_sql(), "replies": _replies_sql()}
    results: dict[str, list[float]] = {}
    for round_no in range(args.rounds):
        with transaction.atomic(), connection.cursor() as cursor:
            # Foreign keys checked per statement (both runs alike), so no deferred check is
            # pending when the triggers are switched off.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            brand = _world(args.rows)
            for enabled in (True, False):
                offset = (round_no * 2 + (0 if enabled else 1) + 1) * 10**12
                if not enabled:
                    for table in ("message", "reply"):
                        cursor.execute(
                            f"ALTER TABLE inbox_{table} DISABLE TRIGGER inbox_{table}_channel"
                        )
                for name, (sql, defaults) in statements.items():
                    params = defaults | {"brand": brand, "offset": offset}
                    total, trigger = _explain(cursor, sql, params)
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


def _world(rows: int) -> int:
    """One brand, one customer, `rows` threads (models, COPY): the brand's id."""
    from inbox.models import Brand, Customer, Thread

    brand = Brand.objects.create(name="Bench", handle="bench_channel", x_user_id=1)
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    seeding.copy(
        Thread,
        (
            {"brand_id": brand.id, "customer_id": customer.id, "conversation_id": n}
            for n in range(1, rows + 1)
        ),
    )
    return brand.id


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
