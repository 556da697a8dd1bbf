"""Work that comes to you (issue 15): auto-assignment's throughput and latency at 10k and
100k open threads across 20 teams and 700 Available agents.

    python -m bench.assign --database-url postgres://postgres@127.0.0.1:5432/twelp_wt15_bench \\
        --redis-url redis://127.0.0.1:6379/2 --sizes 10000 100000

For each size, on a fresh database (dropped at the end): one brand, 20 teams, 700 active
agents (agent n in team n mod 20; cap 5, the brand's default), all Available and online
(presence in Redis), and `size` open threads spread over the teams (COPY, priorities
0-135, waits up to 8 h, so the offer order's three tiers all have rows).

1. fill: one `assign.assign_waiting(brand)` run from empty hands: 700 x 5 = 3,500
   assignments, each `actions.do_assign_next` (its own transaction in one round trip:
   lock the agent, count, claim by the offer order with SKIP LOCKED, Event, rollups)
   timed; throughput is assignments over the run's wall time (the turn-order read
   included).
2. against raw SKIP LOCKED, interleaved: --rounds rounds, each one batch of --batch
   assignments through `assign.assign_waiting(brand, limit=batch)` and one of as many
   claims by bench.queue's raw SQL (SELECT ... FOR NO KEY UPDATE SKIP LOCKED LIMIT 1, then
   UPDATE, one transaction on psycopg) for the same agents in turn, the order alternating
   (assignment first in even rounds); after each batch its claims are undone (threads
   open, turn order reset, Events gone, VACUUM ANALYZE), so every batch finds the same
   queue. The ratio is each round's own; their median is reported. Run before 1.
3. steady: --steady times, an agent closes one thread (not timed) and the run that
   follows (what the Celery task does on commit: turn order of the agents with room,
   then the assignment) is timed: the delay from "room" to "assigned", without the
   broker hop.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import common, seeding, stats

AGENTS, TEAMS, CAP = 700, 20, 5


def seed(size: int) -> tuple[Any, list[Any]]:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from agents.models import Agent, AgentState
    from inbox.models import Brand, Customer, Team, Thread

    brand = Brand.objects.create(name="Bench", handle="benchassign", x_user_id=1, max_held=CAP)
    teams = [Team.objects.create(brand=brand, name=f"Team {n}") for n in range(TEAMS)]
    unusable = make_password(None)  # nobody signs in: no hashing 700 passwords
    users = User.objects.bulk_create(
        User(username=f"agent{n}", password=unusable) for n in range(AGENTS)
    )
    now = timezone.now()
    agents = Agent.objects.bulk_create(
        Agent(
            user=user,
            brand=brand,
            employee_id=f"E-{n:04d}",
            name=f"Agent {n}",
            x_handle=f"agent{n}_x",
            initials="AB",
            credit_code=f"A{n}",
            state=AgentState.ACTIVE,
            approved_at=now,
            available_since=now,
        )
        for n, user in enumerate(users)
    )
    Team.members.through.objects.bulk_create(
        Team.members.through(team_id=teams[n % TEAMS].id, agent_id=a.id)
        for n, a in enumerate(agents)
    )
    customers = Customer.objects.bulk_create(
        Customer(brand=brand, x_user_id=10_000 + n, handle=f"c{n}", name=f"C{n}")
        for n in range(1000)
    )
    rng = random.Random(15)
    start = datetime.now(UTC)
    rows = (
        {
            "id": n,
            "brand_id": brand.id,
            "customer_id": customers[n % 1000].id,
            "conversation_id": 1_000_000 + n,
            "team_id": teams[n % TEAMS].id,
            "priority": rng.randrange(0, 136),
            "waiting_since": start - timedelta(seconds=rng.randrange(0, 8 * 3600)),
            "preview": "where is my order?",
        }
        for n in range(1, size + 1)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        seeding.copy(Thread, rows, with_pk=True)
        cursor.execute("SET synchronous_commit = on")
    seeding.reset_sequence(Thread)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inbox_thread")
        cursor.execute("VACUUM ANALYZE agents_agent")
    return brand, agents


def keep_online(brand: Any, agents: list[Any]) -> None:
    from inbox.live import presence

    presence._written.clear()  # rewrite every key: a phase may outlast PRESENCE_SECONDS
    for agent in agents:
        presence.seen(brand.id, agent.id)


def undo(brand: Any) -> None:
    """Every claim and assignment back to open, the turn order and Events reset, vacuumed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_thread SET status = 'open', claimed_by_id = NULL, claim_expires_at ="
            " NULL, assigned_at = NULL WHERE brand_id = %s AND status = 'claimed'",
            [brand.id],
        )
        cursor.execute(
            "UPDATE agents_agent SET last_assigned_at = NULL WHERE brand_id = %s", [brand.id]
        )
        # Events are append-only (migration 0020): the bench's own database, trigger off.
        cursor.execute("ALTER TABLE inbox_event DISABLE TRIGGER inbox_event_append_only")
        cursor.execute("DELETE FROM inbox_event WHERE brand_id = %s", [brand.id])
        cursor.execute("ALTER TABLE inbox_event ENABLE TRIGGER inbox_event_append_only")
        cursor.execute("VACUUM ANALYZE inbox_thread, agents_agent, inbox_event")


def action_batch(brand: Any, batch: int) -> dict[str, Any]:
    from inbox.routing import assign

    with stats.Stopwatch() as watch:
        done = assign.assign_waiting(brand.id, limit=batch)
    undo(brand)
    return {
        "n": len(done),
        "per_s": len(done) / watch.seconds,
        "once": len({t for t, _ in done}) == len(done),
    }


def raw_batch(brand: Any, agents: list[Any], batch: int, dsn: str) -> dict[str, Any]:
    import psycopg

    from bench.queue import RAW_SELECT, RAW_UPDATE

    claimed, latencies = [], []
    with psycopg.connect(dsn, autocommit=True) as conn, stats.Stopwatch() as watch:
        for n in range(batch):
            agent = agents[n % len(agents)]
            before = stats.Stopwatch()
            with conn.transaction():
                found = conn.execute(RAW_SELECT, {"brand": brand.id, "agent": agent.id}).fetchone()
                if found:
                    conn.execute(RAW_UPDATE, {"agent": agent.id, "id": found[0]})
                    claimed.append(found[0])
            latencies.append(before.ms)
    undo(brand)
    return {
        "n": len(claimed),
        "per_s": len(claimed) / watch.seconds,
        "once": len(set(claimed)) == len(claimed),
        "latencies_ms": latencies,
    }


def interleaved(brand: Any, agents: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    """2. above: assignment against raw SKIP LOCKED, batch by batch."""
    from inbox import actions
    from inbox.routing import assign

    timings: list[float] = []
    real = actions.do_assign_next

    def timed(agent: Any, **kw: Any) -> Any:
        found, ms = stats.time_ms(lambda: real(agent, **kw))
        if found is not None:
            timings.append(ms)
        return found

    def batch(mode: str) -> dict[str, Any]:
        if mode == "assign":
            keep_online(brand, agents)
            return action_batch(brand, args.batch)
        return raw_batch(brand, agents, args.batch, args.database_url)

    assign.actions.do_assign_next = timed  # type: ignore[attr-defined]
    try:
        runs = common.interleaved(
            args.rounds, batch, ("assign", "raw"), label="assignments/s against raw"
        )
    finally:
        assign.actions.do_assign_next = real  # type: ignore[attr-defined]
    ratios, loads = runs["ratios"], runs["load_average"]
    raw_ms = [ms for run in runs["raw"] for ms in run.pop("latencies_ms")]
    return {
        "batch": args.batch,
        "assign_per_s": statistics.median(run["per_s"] for run in runs["assign"]),
        "raw_per_s": statistics.median(run["per_s"] for run in runs["raw"]),
        "assign_ms": stats.percentiles(timings),
        "raw_ms": stats.percentiles(raw_ms),
        "ratio_median": statistics.median(ratios),
        "ratios": [round(x, 2) for x in ratios],
        "once": all(run["once"] and run["n"] == args.batch for run in runs["assign"] + runs["raw"]),
        "load_average": loads,
    }


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    from inbox import actions
    from inbox.models import Thread
    from inbox.routing import assign

    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    with stats.Stopwatch() as watch:
        brand, agents = seed(size)
    common.log(f"seeded {size:,} threads, {AGENTS} agents in {TEAMS} teams ({watch.seconds:.0f} s)")
    against_raw = interleaved(brand, agents, args) if args.rounds else None
    if against_raw:
        common.log(f"against raw: {against_raw}")
    keep_online(brand, agents)

    timings: list[float] = []
    real = actions.do_assign_next

    def timed(agent: Any, **kw: Any) -> Any:
        found, ms = stats.time_ms(lambda: real(agent, **kw))
        if found is not None:
            timings.append(ms)
        return found

    assign.actions.do_assign_next = timed  # type: ignore[attr-defined]
    try:
        with stats.Stopwatch() as watch:
            done = assign.assign_waiting(brand.id)
    finally:
        assign.actions.do_assign_next = real  # type: ignore[attr-defined]
    fill = {
        "assigned": len(done),
        "seconds": round(watch.seconds, 2),
        "per_second": round(len(done) / watch.seconds, 1),
        **{f"assign_{k}_ms": round(v, 1) for k, v in stats.percentiles(timings).items()},
    }
    common.log(f"fill: {fill}")

    keep_online(brand, agents)
    rng = random.Random(16)
    by_id = {a.id: a for a in agents}
    runs: list[float] = []
    assigned = 0
    for _ in range(args.steady):
        held = list(
            Thread.objects.filter(brand=brand, status="claimed").values_list("id", "claimed_by_id")[
                :50
            ]
        )
        thread_id, holder = rng.choice(held)
        actions.do_close(thread_id, agent=by_id[holder])
        found, ms = stats.time_ms(lambda: assign.assign_waiting(brand.id))
        assigned += len(found)
        runs.append(ms)
    steady = {
        "runs": len(runs),
        "assigned": assigned,
        **{f"room_to_assigned_{k}_ms": round(v, 1) for k, v in stats.percentiles(runs).items()},
    }
    common.log(f"steady: {steady}")
    return {"size": size, "fill": fill, "steady": steady, "against_raw": against_raw}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="its name must contain 'bench'")
    parser.add_argument("--redis-url", required=True, help="a Redis db of its own (not 0)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--steady", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5, help="Against raw (0: skip).")
    parser.add_argument("--batch", type=int, default=700, help="Assignments per batch.")
    parser.add_argument("--json")
    args = parser.parse_args()
    common.configure(args.database_url, args.redis_url)
    common.setup_django()
    results = [run_size(size, args) for size in args.sizes]
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        "| open threads | fill: assigned | per s | assign p50 / p95 ms "
        "| steady: room to assigned p50 / p95 ms |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        f, s = r["fill"], r["steady"]
        print(
            f"| {r['size']:,} | {f['assigned']:,} | {f['per_second']} "
            f"| {f['assign_p50_ms']} / {f['assign_p95_ms']} "
            f"| {s['room_to_assigned_p50_ms']} / {s['room_to_assigned_p95_ms']} |"
        )
    print(
        "\n| open threads | batch | assign/s | raw SKIP LOCKED/s | assign p50 / p95 ms "
        "| raw p50 / p95 ms | assign / raw (median) | each round | once each |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in results:
        a = r["against_raw"]
        if a:
            print(
                f"| {r['size']:,} | {a['batch']} | {a['assign_per_s']:.0f} | {a['raw_per_s']:.0f} "
                f"| {a['assign_ms']['p50']:.2f} / {a['assign_ms']['p95']:.2f} "
                f"| {a['raw_ms']['p50']:.2f} / {a['raw_ms']['p95']:.2f} "
                f"| **{a['ratio_median']:.2f}** | {a['ratios']} | {a['once']} |"
            )
    common.write_json(args.json, {"args": vars(args), "results": results, "load": load})
    common.drop_database(args.database_url)


if __name__ == "__main__":
    main()
