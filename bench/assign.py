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
2. steady: --steady times, an agent closes one thread (not timed) and the run that
   follows (what the Celery task does on commit: turn order of the agents with room,
   then the assignment) is timed: the delay from "room" to "assigned", without the
   broker hop.
"""

from __future__ import annotations

import argparse
import os
import random
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


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    from inbox import actions
    from inbox.models import Thread
    from inbox.routing import assign

    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    with stats.Stopwatch() as watch:
        brand, agents = seed(size)
    common.log(f"seeded {size:,} threads, {AGENTS} agents in {TEAMS} teams ({watch.seconds:.0f} s)")
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
    return {"size": size, "fill": fill, "steady": steady}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="its name must contain 'bench'")
    parser.add_argument("--redis-url", required=True, help="a Redis db of its own (not 0)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--steady", type=int, default=300)
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
    common.write_json(args.json, {"args": vars(args), "results": results, "load": load})
    common.drop_database(args.database_url)


if __name__ == "__main__":
    main()
