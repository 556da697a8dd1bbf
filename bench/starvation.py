"""Nobody starves (issue 15): the longest wait of a priority-0 thread under a backlog that
never empties, with claim next's real query on a real database.

    python -m bench.starvation                       # 8 virtual hours, 20 arrivals a minute
    python -m bench.starvation --hours 2 --per-minute 10 --backlog 200   # a quick look

On a fresh database of its own (twelp_bench_starvation, or --database-url), in virtual
time: a backlog of --backlog open threads to start, then each virtual minute
--per-minute new threads arrive (priority 0 for a third of them, the rest 15-135: the
urgent inflow that starves the quiet ones under "most urgent first") and the agents take
exactly --per-minute, so the backlog never empties. Each claim is
`actions.do_claim_next(now=<virtual minute>)` (the offer order: breached first-response
targets oldest first, then offer_at; a 15 min target by default, --target-minutes;
always open) and, for comparison, the old order (priority DESC, waiting_since) by SQL on
the same rows. A claimed thread is closed at once (by SQL: only the order is measured).
Printed per order: how many priority-0 threads were served, their longest and p95 wait,
and the oldest priority-0 thread still waiting at the end (a starving one).

The bound inbox.routing.offer states: a priority-0 thread waits at most the time needed
to serve what arrived before it plus 45 min (135 x 20 s), here backlog / rate + 45 min.
A target longer than the run (--target-minutes 100000) leaves the offer key alone to
keep it; the default 15 min target adds tier 2 (breached, oldest first) on top.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import common, stats

DB_NAME = "twelp_bench_starvation"
REDIS_DB = 13  # issue 15 mod 16 is 15, which is reserved: 13


def arrivals(rng: random.Random, count: int) -> list[int]:
    return [0 if rng.random() < 1 / 3 else rng.randrange(15, 136) for _ in range(count)]


def run(order: str, args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from agents.models import Agent, AgentState
    from inbox import actions
    from inbox.models import Brand, Customer, Thread
    from tests.helpers import make_agent

    # Its own database: start empty. TRUNCATE, as the audit's Events refuse DELETE.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE inbox_event, inbox_thread, inbox_customer, agents_agent, auth_user,"
            " inbox_brand CASCADE"
        )
    brand = Brand.objects.create(
        name="Bench",
        handle="benchstarve",
        x_user_id=1,
        sla_first_response=timedelta(minutes=args.target_minutes),
        max_held=30_000,
    )
    customer = Customer.objects.create(brand=brand, x_user_id=2, handle="kim")
    agent = make_agent(brand, "agent")
    Agent.objects.filter(id=agent.id).update(state=AgentState.ACTIVE)
    agent = Agent.objects.select_related("brand").get(id=agent.id)
    rng = random.Random(15)
    start = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    conversation = 0

    def arrive(at: datetime, count: int) -> None:
        nonlocal conversation
        rows = []
        for priority in arrivals(rng, count):
            conversation += 1
            rows.append(
                Thread(
                    brand=brand,
                    customer=customer,
                    conversation_id=conversation,
                    priority=priority,
                    waiting_since=at,
                )
            )
        Thread.objects.bulk_create(rows)

    arrive(start - timedelta(minutes=args.backlog // args.per_minute), args.backlog)
    waits: list[float] = []
    minutes = int(args.hours * 60)
    for minute in range(minutes):
        now = start + timedelta(minutes=minute)
        arrive(now, args.per_minute)
        for _ in range(args.per_minute):
            if order == "offer":
                thread = actions.do_claim_next(agent=agent, now=now)
                thread_id, priority, since = thread.id, thread.priority, thread.waiting_since
            else:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT id, priority, waiting_since FROM inbox_thread WHERE brand_id = %s"
                        " AND status = 'open' ORDER BY priority DESC, waiting_since, id LIMIT 1",
                        [brand.id],
                    )
                    thread_id, priority, since = cursor.fetchone()
            with connection.cursor() as cursor:  # done at once: only the order is measured
                cursor.execute(
                    "UPDATE inbox_thread SET status = 'closed', claimed_by_id = NULL, "
                    "closed_at = %s WHERE id = %s",
                    [timezone.now(), thread_id],
                )
            if priority == 0:
                waits.append((now - since).total_seconds() / 60)
    end = start + timedelta(minutes=minutes)
    oldest = (
        Thread.objects.filter(brand=brand, status="open", priority=0)
        .order_by("waiting_since")
        .values_list("waiting_since", flat=True)
        .first()
    )
    return {
        "order": order,
        "served_priority_0": len(waits),
        "max_wait_min": round(max(waits), 1) if waits else None,
        "p95_wait_min": round(stats.percentile(waits, 95), 1) if waits else None,
        "oldest_unserved_priority_0_min": round((end - oldest).total_seconds() / 60, 1)
        if oldest
        else 0,
        "open_at_end": Thread.objects.filter(brand=brand, status="open").count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--per-minute", type=int, default=20)
    parser.add_argument("--backlog", type=int, default=600)
    parser.add_argument(
        "--orders", nargs="+", choices=("offer", "priority"), default=["offer", "priority"]
    )
    parser.add_argument(
        "--target-minutes",
        type=float,
        default=15,
        help="The first-response target (tier 2 of the offer order); longer than the run"
        " (e.g. 100000): the offer key alone decides.",
    )
    parser.add_argument("--json")
    parser.add_argument("--database-url", default=common.database_url(DB_NAME))
    parser.add_argument("--redis-url", default=common.redis_url(REDIS_DB), help="Its own db.")
    args = parser.parse_args()
    db_url = args.database_url
    common.configure(db_url, args.redis_url)
    common.setup_django()
    common.fresh_database(db_url)
    results = []
    for order in args.orders:
        with stats.Stopwatch() as watch:
            result = run(order, args)
        result["seconds"] = round(watch.seconds, 1)
        common.log(str(result))
        results.append(result)
    bound = args.backlog / args.per_minute + 45
    print(
        f"\nbacklog {args.backlog}, {args.per_minute} arrivals and claims a minute, "
        f"{args.hours} virtual hours, first-response target {args.target_minutes:g} min; "
        f"stated bound for priority 0: {bound:.0f} min"
    )
    print("| order | priority-0 served | longest wait (min) | p95 (min) | oldest unserved (min) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['order']} | {r['served_priority_0']:,} | {r['max_wait_min']} "
            f"| {r['p95_wait_min']} | {r['oldest_unserved_priority_0_min']} |"
        )
    common.write_json(args.json, {"args": vars(args), "results": results, "bound_min": bound})
    common.drop_database(db_url)


if __name__ == "__main__":
    main()
