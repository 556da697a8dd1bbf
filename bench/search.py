"""Search at size (issue 17): a handle, a word, a phrase, with filters, and a second page.

    python -m bench.search                          # 100,000 and 1,000,000 messages
    python -m bench.search --sizes 2000 --runs 5    # a quick look

For each size, on a fresh database of its own (default twelp_bench_search, dropped and
created here), seeded through the models (bench.seeding: COPY; the indexes that back no
constraint dropped meanwhile and rebuilt, then VACUUM ANALYZE): `size` customer messages
(tweets, one in ten a DM) in threads of 2, a third as many customers, one reply per
thread, a note on one thread in ten. Texts are drawn from care-ish sentences with random
products and order numbers, so a word's frequency is realistic: "charger" is in ~9% of
messages, "refurbished" in ~10%, "smoke" in 0.05%, the phrase "label created" in ~10%.

Each query runs `inbox.search.find.search` (the whole read the page does: three kinds,
customers, keyset) --runs times after 3 warm-ups, as a supervisor; p50/p95 in ms. The
message part's plan (EXPLAIN) is printed for each query, to show which index it uses.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import common, seeding, stats
from bench.queue import _drop_secondary_indexes, vacuum_analyze

CHUNK = 50_000
RARE_EVERY = 2000  # "smoke": one message in 2,000
PRODUCTS = ["charger", "laptop", "phone", "headphones", "router", "tv", "blender", "camera"]
PRODUCTS += ["refurbished " + p for p in ("laptop", "phone")]  # the rare word
SENTENCES = [
    "My order #{n} never arrived and the tracking link says 'label created' for {d} days.",
    "the {p} I bought last week stopped working, can someone help?",
    "still waiting on my refund for the {p}, order {n}",
    "why is the {p} out of stock again?? third time this month",
    "thanks for the quick fix on my {p}, you folks rock",
    "is the {p} compatible with my old one? asking before I buy",
    "store on main street said they can't repair the {p}, what now",
    "great, another delay. love waiting {d} days for a {p} 🙄",
    "delivery driver left my {p} in the rain, box soaked",
    "how do I reset the {p} to factory settings",
]


def seed(size: int, brand: Any, agents: list[Any]) -> None:
    from django.db import connection

    from inbox.models import Channel, Customer, Message, Note, Reply, Thread

    models = (Customer, Thread, Message, Reply, Note)
    customers = max(size // 3, 1)
    rng = random.Random(17)
    now = datetime.now(UTC)
    watch = stats.Stopwatch()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        indexes = _drop_secondary_indexes(cursor, [m._meta.db_table for m in models])
        seeding.copy(Customer, _customers(brand, customers, now), with_pk=True)
        threads = size // 2
        for lo in range(1, threads + 1, CHUNK // 2):
            hi = min(lo + CHUNK // 2 - 1, threads)
            rows, messages, replies, notes = [], [], [], []
            for t in range(lo, hi + 1):
                customer = 1 + t % customers
                channel = Channel.DM if t % 10 == 0 else Channel.TWEET
                start = now - timedelta(days=30) * rng.random()
                status = rng.choice(["open", "answered", "closed", "closed", "closed"])
                rows.append(
                    {
                        "id": t,
                        "brand_id": brand.id,
                        "customer_id": customer,
                        "channel": channel,
                        "conversation_id": 10**12 + t,
                        "status": status,
                        "last_answered_by_id": agents[t % len(agents)].id
                        if status != "open"
                        else None,
                        "waiting_since": start,
                        "created_at": start,
                        "updated_at": now,
                    }
                )
                for k in range(2):
                    text = rng.choice(SENTENCES).format(
                        n=rng.randint(1000, 99999), d=rng.randint(2, 14), p=rng.choice(PRODUCTS)
                    )
                    if (2 * t + k) % RARE_EVERY == 0:
                        text += " and now it smells of smoke"
                    messages.append(
                        {
                            "id": 2 * t + k - 1,
                            "brand_id": brand.id,
                            "thread_id": t,
                            "x_id": 10**12 + 2 * t + k,
                            "channel": channel,
                            "direction": "in",
                            "author_x_id": 5_000_000_000 + customer,
                            "text": text,
                            "conversation_id": 10**12 + t,
                            "sent_at": start + timedelta(minutes=30 * k),
                        }
                    )
                replies.append(
                    {
                        "thread_id": t,
                        "agent_id": agents[t % len(agents)].id,
                        "channel": channel,
                        "text": f"So sorry about the {rng.choice(PRODUCTS)}! Could you DM us?",
                        "body": "So sorry! ^AB",
                        "status": "queued",
                        "created_at": start + timedelta(minutes=10),
                    }
                )
                if t % 10 == 0:
                    notes.append(
                        {
                            "thread_id": t,
                            "agent_id": agents[0].id,
                            "text": "Escalated to the recall team, see batch list",
                            "created_at": start + timedelta(minutes=5),
                        }
                    )
            seeding.copy(Thread, rows, with_pk=True)
            seeding.copy(Message, messages, with_pk=True)
            seeding.copy(Reply, replies)
            seeding.copy(Note, notes)
        common.log(f"  seeded {size:,} messages ({watch.seconds:.0f} s)")
        for definition in indexes:
            cursor.execute(definition)
        common.log(f"  rebuilt {len(indexes)} indexes ({watch.seconds:.0f} s)")
        cursor.execute("SET synchronous_commit = on")
    seeding.reset_sequence(*models)
    vacuum_analyze(*[m._meta.db_table for m in models])
    common.log(f"  VACUUM ANALYZE done ({watch.seconds:.0f} s)")


def _customers(brand: Any, count: int, now: datetime) -> Iterator[dict]:
    for n in range(1, count + 1):
        yield {
            "id": n,
            "brand_id": brand.id,
            "x_user_id": 5_000_000_000 + n,
            "handle": f"cust{n}",
            "name": f"Customer {n}",
            "followers_count": (n * 7919) % 50_000,
            "tags": ["vip"] if n % 100 == 0 else [],
            "created_at": now,
            "updated_at": now,
        }


def queries(size: int) -> dict[str, tuple[str, dict[str, Any]]]:
    handle = f"@cust{max(size // 3 // 2, 1)}"
    since = (datetime.now(UTC) - timedelta(days=3)).date()
    return {
        "handle": (handle, {}),
        "word (common)": ("charger", {}),
        "word (1 in 10)": ("refurbished", {}),
        "word (1 in 2,000)": ("smoke", {}),
        "word (in none)": ("xylophone", {}),
        "phrase": ('"label created"', {}),
        "word + status + channel": ("charger", {"status": "open", "channel": "tweet"}),
        "word + since 3 days": ("charger", {"since": since}),
        "handle + word": (f"{handle} order", {}),
        "tag + word": ("#vip refund", {}),
    }


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    from agents.models import Role
    from bench.queue import create_agents
    from inbox.models import Brand
    from inbox.search import find
    from inbox.search.terms import parse

    common.log(f"== {size:,} messages")
    if args.reuse and _seeded(args.database_url, size):
        from django.core.management import call_command

        from agents.models import Agent

        call_command("migrate", verbosity=0, interactive=False)
        brand = Brand.objects.get(handle=common.BRAND_HANDLE)
        agents = list(Agent.objects.filter(brand=brand).order_by("id"))
        vacuum_analyze("inbox_message", "inbox_reply", "inbox_note")
        common.log("  reused the seeded database (migrated, VACUUM ANALYZE)")
    else:
        common.fresh_database(args.database_url)
        brand = Brand.objects.create(
            name="Twelp Demo", handle=common.BRAND_HANDLE, x_user_id=common.BRAND_X_USER_ID
        )
        agents = create_agents(brand, 5)
        seed(size, brand, agents)
    boss = agents[0]
    boss.role = Role.SUPERVISOR
    boss.save(update_fields=["role"])
    boss.refresh_from_db()
    result: dict[str, Any] = {"size": size, "load_average": common.load_average(), "queries": {}}
    for name, (text, filters) in queries(size).items():
        terms, chosen = parse(text), find.Filters(**filters)
        for _ in range(3):
            page = find.search(boss, terms, chosen)
        times = [stats.time_ms(lambda t=terms, c=chosen: find.search(boss, t, c))[1]]
        times += [
            stats.time_ms(lambda t=terms, c=chosen: find.search(boss, t, c))[1]
            for _ in range(args.runs - 1)
        ]
        second = []
        cursor = page.next_cursor
        if cursor is not None:
            second = [
                stats.time_ms(lambda t=terms, c=chosen, a=cursor: find.search(boss, t, c, a))[1]
                for _ in range(args.runs)
            ]
        plan = _plan(find, boss, terms, chosen)
        result["queries"][name] = {
            "query": text,
            "filters": {k: str(v) for k, v in filters.items()},
            "hits": len(page.hits),
            "ms": _rounded(stats.percentiles(times, (50, 95))),
            "next_page_ms": _rounded(stats.percentiles(second, (50, 95))) if second else None,
            "plan": plan,
        }
        common.log(f"  {name}: {result['queries'][name]['ms']} ({len(page.hits)} hits)")
    return result


def _seeded(db_url: str, size: int) -> bool:
    """--reuse: the database exists and holds this size's seed (its message count)."""
    from django.db import Error, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM inbox_message")
            return cursor.fetchone()[0] == size
    except Error:
        connection.close()
        return False


def _rounded(found: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in found.items()}


def _plan(find: Any, agent: Any, terms: Any, filters: Any) -> str:
    """The indexes each statement of one search reads, in the order it ran (EXPLAIN of the
    very SQL it sent, captured): `kind: [indexes]`, kind being the table searched."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        find.search(agent, terms, filters)
    parts = []
    for query in captured.captured_queries:
        sql = query["sql"]
        table = re.match(r'SELECT .*? FROM "inbox_(message|reply|note|customer)"', sql, re.S)
        if table is None:
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            text = "\n".join(row[0] for row in cursor.fetchall())
        used = list(
            dict.fromkeys(
                re.findall(
                    r"(?:Index|Bitmap Index) (?:Only )?Scan (?:Backward )?(?:using|on) (\w+)",
                    text,
                )
            )
        )
        seq = sorted(set(re.findall(r"Seq Scan on (\w+)", text)))
        parts.append(f"{table[1]}: {', '.join(used)}" + (f" (seq scan {seq})" if seq else ""))
    return "; ".join(parts)


def report(results: list[dict[str, Any]]) -> None:
    print("\n| query | size | hits | p50 ms | p95 ms | page 2 p50 | message plan |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        for name, q in r["queries"].items():
            nxt = q["next_page_ms"]["p50"] if q["next_page_ms"] else "-"
            print(
                f"| {name} `{q['query']}` | {r['size']:,} | {q['hits']} | {q['ms']['p50']} |"
                f" {q['ms']['p95']} | {nxt} | {q['plan']} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=30, help="Timed searches per query.")
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_17"))
    parser.add_argument("--redis-url", default=common.redis_url(1), help="A db it may flush.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Keep the database when it already holds this size's seed (one size only):"
        " migrate it and measure again (to compare changes on the same data).",
    )
    parser.add_argument("--json", help="Also write the results to this file.")
    args = parser.parse_args()
    common.configure(args.database_url, args.redis_url)
    common.setup_django()
    machine = common.machine()
    common.log(f"machine: {machine}")
    results = [run_size(size, args) for size in args.sizes]
    report(results)
    common.write_json(args.json, {"machine": machine, "results": results})


if __name__ == "__main__":
    main()
