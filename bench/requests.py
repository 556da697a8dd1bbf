"""What one work request costs the web process (issue 14): CPU per request of each page an
agent uses in a day, measured in-process with Django's test client on production settings
(DEBUG off), against its own database and Redis db, with nothing else running.

    python -m bench.requests                          # 300 rounds, 2,000 waiting threads
    python -m bench.requests --rounds 100 --profile thread_page   # + cProfile's top 25
    python -m bench.requests --rounds 100 --profile all           # every request together

One round is what bench.day's agent does for one thread: the queue page, claim next, the
thread page, a reply check, the reply, the thread page again, renew, the viewers polls,
close. Each request's process CPU (`time.process_time`, this process: Django, psycopg's
client side, templates) and wall time are recorded; the PostgreSQL and Redis servers' CPU
is not in it (bench.day measures the whole box). Queries per request come from Django's
`CaptureQueriesContext`-free counter (`connection.execute_wrapper`); a connection's health
check (`SELECT 1`, run on the raw connection when settings.DB_HEALTH_CHECKS is on) is not
counted there, but its time is in the figures: each request is wrapped in
`close_old_connections()` as a server's request_started/request_finished do.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import time
from collections import defaultdict

from bench import common, stats

PAGES = (
    "queue page",
    "claim next",
    "thread page",
    "reply check",
    "reply",
    "thread page after reply",
    "renew",
    "viewers",
    "viewers (thread)",
    "close",
)
CLIENT_TOKEN = re.compile(r'name="client_token" value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2000, help="Waiting threads seeded.")
    parser.add_argument(
        "--profile",
        choices=[*(p.replace(" ", "_") for p in PAGES), "all"],
        help="cProfile one request kind, or all of them together (the fixed cost they share).",
    )
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_requests"))
    parser.add_argument("--redis-url", default=common.redis_url(11))
    parser.add_argument("--json", help="Also write the results to this file.")
    args = parser.parse_args()

    common.configure(args.database_url, args.redis_url)
    # One agent here works far faster than a person: the per-user throttles (issue 22) stay
    # on, and are counted, with limits it cannot reach.
    for name in ("REPLY_CHECK", "VIEWERS", "TYPING", "POSTS"):
        os.environ[f"THROTTLE_{name}_PER_MINUTE"] = "1000000"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    common.setup_django()
    common.log(f"machine: {common.machine()}")
    common.flush_redis(args.redis_url)
    common.fresh_database(args.database_url)
    agent = _seed(args.threads)

    from django.db import close_old_connections, connection
    from django.test import Client

    client = Client(enforce_csrf_checks=False)
    client.force_login(agent.user)
    cpu: dict[str, list[float]] = defaultdict(list)
    wall: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[int]] = defaultdict(list)
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    target = args.profile.replace("_", " ") if args.profile else None
    count = [0]

    def counting(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    def timed(name: str, call):
        count[0] = 0
        if profiler and target in (name, "all"):
            profiler.enable()
        c0, w0 = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(counting):
            # As a server's handler does around each request (request_started and
            # request_finished; Django's test client leaves it out): a kept connection is
            # health-checked again before the request's first query when that is on.
            close_old_connections()
            response = call()
            close_old_connections()
        c1, w1 = time.process_time(), time.perf_counter()
        if profiler and target in (name, "all"):
            profiler.disable()
        cpu[name].append((c1 - c0) * 1000)
        wall[name].append((w1 - w0) * 1000)
        queries[name].append(count[0])
        if response.status_code >= 400:
            raise SystemExit(f"{name}: HTTP {response.status_code}")
        return response

    htmx = {"HTTP_HX_REQUEST": "true"}
    # Warm up: templates compiled, connections open, caches filled, as a running server.
    for _ in range(3):
        _round(client, lambda name, call: call(), htmx)
    for n in range(args.rounds):
        _round(client, timed, htmx)
        if (n + 1) % 50 == 0:
            common.log(f"  {n + 1} rounds")

    size = f"{args.rounds} rounds, {args.threads:,} waiting"
    print(f"\n## CPU of the web process per request ({size})")
    print("| request | CPU ms p50 / p95 | wall ms p50 / p95 | SQL queries |")
    print("|---|---:|---:|---:|")
    total = 0.0
    for name in PAGES:
        c, w = stats.percentiles(cpu[name]), stats.percentiles(wall[name])
        total += sum(cpu[name]) / len(cpu[name])
        print(
            f"| {name} | {c['p50']:.1f} / {c['p95']:.1f} | {w['p50']:.1f} / {w['p95']:.1f} |"
            f" {max(queries[name])} |"
        )
    print(f"| one round (mean CPU, sum) | {total:.1f} | | |")
    results = {
        "rounds": args.rounds,
        "threads": args.threads,
        "cpu_ms": {name: stats.percentiles(cpu[name]) for name in PAGES},
        "queries": {name: max(queries[name]) for name in PAGES},
        "round_cpu_ms": total,
    }
    common.write_json(args.json, {"machine": common.machine(), "results": results})
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
        if os.environ.get("BENCH_PROFILE_DUMP"):
            profiler.dump_stats(os.environ["BENCH_PROFILE_DUMP"])
    connection.close()
    common.drop_database(args.database_url)


def _round(client, timed, htmx) -> None:
    timed("queue page", lambda: client.get("/"))
    claimed = timed("claim next", lambda: client.post("/claim-next/"))
    where = claimed["Location"]
    page = timed("thread page", lambda: client.get(where))
    token = CLIENT_TOKEN.search(page.content.decode()).group(1)
    text = "Sorry about that! We have sent a new tracking link by DM."
    timed("reply check", lambda: client.post(f"{where}reply/check/", {"text": text}, **htmx))
    sent = timed(
        "reply",
        lambda: client.post(f"{where}reply/", {"text": text, "client_token": token}, **htmx),
    )
    timed("thread page after reply", lambda: client.get(sent.get("HX-Redirect", where)))
    timed("renew", lambda: client.post(f"{where}renew/", **htmx))
    timed("viewers", lambda: client.get("/viewers/", **htmx))
    timed("viewers (thread)", lambda: client.get(f"{where}viewers/", **htmx))
    timed("close", lambda: client.post(f"{where}close/"))


def _seed(threads: int):
    """A brand, one agent, `threads` waiting threads with one tweet each (bench.day's
    shape: one customer per thread)."""
    from django.utils import timezone

    from bench import seeding
    from inbox.models import Brand, Customer, Message, Thread
    from tests.helpers import make_agent

    brand = Brand.objects.create(name="Acme", handle=common.BRAND_HANDLE, x_user_id=1)
    agent = make_agent(brand, "kim")
    agent.max_threads = None if hasattr(agent, "max_threads") else None
    now = timezone.now()
    seeding.copy(
        Customer,
        (
            {"id": n, "brand_id": brand.id, "x_user_id": 10_000 + n, "handle": f"cust{n}"}
            for n in range(1, threads + 1)
        ),
        with_pk=True,
    )
    seeding.copy(
        Thread,
        (
            {
                "id": n,
                "brand_id": brand.id,
                "customer_id": n,
                "conversation_id": 1_000_000 + n,
                "preview": f"@{common.BRAND_HANDLE} my order #{n} has not arrived",
                "created_at": now,
                "waiting_since": now,
            }
            for n in range(1, threads + 1)
        ),
        with_pk=True,
    )
    seeding.copy(
        Message,
        (
            {
                "brand_id": brand.id,
                "thread_id": n,
                "x_id": 1_000_000 + n,
                "direction": "in",
                "author_x_id": 10_000 + n,
                "text": f"@{common.BRAND_HANDLE} my order #{n} has not arrived, can you help?",
                "conversation_id": 1_000_000 + n,
                "sent_at": now,
            }
            for n in range(1, threads + 1)
        ),
    )
    seeding.reset_sequence(Customer, Thread, Message)
    common.log(f"  seeded {threads:,} waiting threads")
    return agent


if __name__ == "__main__":
    main()
