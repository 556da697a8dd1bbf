"""The REST API's list and read endpoints at size (issue 20).

    python -m bench.api                                 # 100k threads
    python -m bench.api --sizes 100000 1000000          # and 1M
    python -m bench.api --sizes 10000 --requests 20     # a quick look
    python -m bench.api --seed search --sizes 100000    # list and search, 100k threads

For each size, on a database of its own (default twelp_bench_20api, dropped and created
here) and Redis db 4, one of two seeds:

- `--seed history` (default): bench.dashboard's year of history (`size` threads with the
  peer's status mix, a fifth as many customers, 1 message per thread, replies, ~2.3
  Events per thread), 1% of customers tagged "vip". Lists, reads, customers, events.
- `--seed search`: bench.search's care texts (`size` threads of 2 customer messages, one
  thread in ten a DM, a third as many customers, a reply per thread, a note on one in
  ten: "charger" in ~9% of messages, "smoke" in 0.05%). Lists, reads, customers and
  GET /api/v1/search (the app's search, inbox.search.find), with a token without DMs
  and one with.

Then VACUUM ANALYZE and a read token (throttle off: THROTTLE_API_PER_MINUTE=0). Measured
in-process with Django's test Client (middleware, token check, view, SQL, JSON; no
network), each URL --requests times after 3 warm-up requests: p50 and p95 ms, and SQL
statements per request (CaptureQueriesContext, once).
"""

from __future__ import annotations

import argparse
import os
import random

from bench import common, stats
from bench.dashboard import seed_history, seed_people, timed


def urls(size: int) -> dict[str, str]:
    """Each endpoint, at the top and deep into its list."""
    from django.test import Client

    from inbox.models import Customer, Event, Thread

    rnd = random.Random(20)  # noqa: S311 - which thread to read, not a secret
    thread_ids = list(Thread.objects.values_list("id", flat=True)[:1000])
    events = Event.objects.order_by("id").values_list("id", flat=True)
    middle_event = events[events.count() // 2]
    middle_customer = Customer.objects.order_by("id").values_list("id", flat=True)[
        Customer.objects.count() // 2
    ]
    deep = _cursor_after_pages(Client(), 20)
    return {
        "threads open, page 1": "/api/v1/threads",
        "threads open, page 21": f"/api/v1/threads?after={deep}",
        "threads closed, page 1": "/api/v1/threads?status=closed",
        "thread read": f"/api/v1/threads/{rnd.choice(thread_ids)}",
        "customers, page 1": "/api/v1/customers",
        "customers, from the middle": f"/api/v1/customers?after={middle_customer}",
        "customers tagged vip": "/api/v1/customers?tag=vip",
        "events, from the start (100)": "/api/v1/events",
        "events, from the middle (100)": f"/api/v1/events?after={middle_event}",
        "events, from the middle (500)": f"/api/v1/events?after={middle_event}&limit=500",
    }


def search_urls(size: int) -> dict[str, str]:
    """The list endpoints and GET /search on bench.search's texts."""
    from urllib.parse import urlencode

    from django.test import Client

    from inbox.models import Channel, Thread

    rnd = random.Random(20)  # noqa: S311 - which thread to read, not a secret
    tweets = Thread.objects.exclude(channel=Channel.DM).values_list("id", flat=True)[:1000]
    deep = _cursor_after_pages(Client(), 20)
    handle = f"@cust{max(size // 3 // 2, 1)}"
    charger = Client().get("/api/v1/search?q=charger", **_auth()).json()["next"]
    out = {
        "threads open, page 1": "/api/v1/threads",
        "threads open, page 21": f"/api/v1/threads?after={deep}",
        "threads closed, page 1": "/api/v1/threads?status=closed",
        "thread read": f"/api/v1/threads/{rnd.choice(list(tweets))}",
        "customers, page 1": "/api/v1/customers",
    }
    searches = {
        "search word, common (charger)": {"q": "charger"},
        "search word, common, page 2": {"q": "charger", "after": charger or ""},
        "search word, 1 in 2,000 (smoke)": {"q": "smoke"},
        "search word found nowhere": {"q": "zyxwvut"},
        'search phrase "label created"': {"q": '"label created"'},
        "search handle": {"q": handle},
        "search word + status=open": {"q": "charger", "status": "open"},
    }
    out |= {name: "/api/v1/search?" + urlencode(params) for name, params in searches.items()}
    return out


TOKEN: dict[str, str] = {}


def _auth(which: str = "value") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN[which]}"}


def _cursor_after_pages(client, pages: int) -> str:
    after = ""
    for _ in range(pages):
        body = client.get(f"/api/v1/threads?after={after}", **_auth()).json()
        if not body["next"]:
            break
        after = body["next"]
    return after


def run(size: int, args) -> dict:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from agents.models import Agent, AgentState, Role
    from inbox.integrations import tokens
    from inbox.models import Customer

    common.log(f"== API, {size:,} threads, seed {args.seed}")
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    watch = stats.Stopwatch()
    if args.seed == "search":
        brand, counts = _seed_search(size)
    else:
        brand, sources, agents, _ = seed_people()
        counts = seed_history(size, brand, sources, agents)
        Customer.objects.filter(id__in=range(1, size // 5 + 1, 100)).update(tags=["vip"])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seeded_s = watch.seconds
    common.log(f"  seeded {counts} in {seeded_s:.0f} s")
    user = User.objects.create_user("ada", "ada@bench.example", "bench-pass")
    admin = Agent.objects.create(
        user=user,
        brand=brand,
        employee_id="E-ADMIN",
        name="Ada",
        x_handle="ada",
        initials="AD",
        credit_code="AD",
        role=Role.ADMIN,
        state=AgentState.ACTIVE,
    )
    TOKEN["value"] = tokens.create_token(actor=admin, name="bench", scope="read").token
    TOKEN["dms"] = tokens.create_token(actor=admin, name="dms", scope="read", dms=True).token
    client = Client()
    result: dict[str, object] = {"size": size, "seed": counts, "seed_s": round(seeded_s)}
    result["load_average_before"] = common.load_average()
    cases = [
        (name, url, "value")
        for name, url in (search_urls if args.seed == "search" else urls)(size).items()
    ]
    if args.seed == "search":
        cases.append(("search word, common, DM token", "/api/v1/search?q=charger", "dms"))
    for name, url, which in cases:
        times = timed(client, url, args.requests, 200, **_auth(which))
        summary = stats.summary(times)
        sql = _queries(client, url, which)
        result[name] = {"p50_ms": summary["median"], "p95_ms": summary["p95"], **sql}
        common.log(f"  {name}: p50 {summary['median']:.1f} ms, p95 {summary['p95']:.1f} ms, {sql}")
    result["load_average_after"] = common.load_average()
    common.log(f"  load average {result['load_average_before']} -> {result['load_average_after']}")
    return result


def _seed_search(size: int):
    from bench import search
    from bench.queue import create_agents
    from inbox.models import Brand, Message

    brand = Brand.objects.create(
        name="Twelp Demo", handle=common.BRAND_HANDLE, x_user_id=common.BRAND_X_USER_ID
    )
    search.seed(2 * size, brand, create_agents(brand, 5))
    return brand, {"threads": size, "messages": Message.objects.count()}


def _queries(client, url: str, which: str = "value") -> dict[str, float]:
    """SQL statements of one request and their time (CaptureQueriesContext)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, **_auth(which))
    return {
        "queries": len(captured),
        "sql_ms": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", choices=["history", "search"], default="history")
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_20api"))
    parser.add_argument("--redis-url", default=common.redis_url(4))
    parser.add_argument("--json")
    args = parser.parse_args()
    common.configure(args.database_url, args.redis_url)
    os.environ["THROTTLE_API_PER_MINUTE"] = "0"
    common.setup_django()
    results = {"machine": common.machine(), "runs": [run(size, args) for size in args.sizes]}
    common.write_json(args.json, {"results": results})
    common.drop_database(args.database_url)


if __name__ == "__main__":
    main()
