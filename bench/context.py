"""The conversation around a tweet (issue 17): what fetching and showing the tweets a
customer replied to and quoted costs, and how many of those fetches X's read limit allows.

    python -m bench.context                     # 200 threads
    python -m bench.context --threads 50        # a quick look

On a fresh database of its own (default twelp_bench_context, dropped and created here; the
sandbox's tables live in it too, as in the demo): the sandbox's world, ANNOUNCEMENTS brand
tweets, and `threads` customers each replying to one of them (the brand tweet is not in
Twelp: it is fetched), every other one also tweeting at the brand quoting another
customer's tweet; Twelp polls them in, one thread per conversation (so 1.5 × `threads`
threads, each wanting one tweet around it). The sandbox's rate limits are on. It runs
as production runs it (gunicorn, its own port); Twelp reaches it through the real gateway
(tweepy over HTTP). Then for every thread:

1. wanted: the references read from the thread's messages (inbox.ingest.context.wanted);
2. cold: context_for with an empty cache: one lookup at X (GET /2/tweets?ids=);
3. warm: context_for again: from the cache, X not asked;
4. shown: GET /t/<id>/context/ (the htmx fragment of the thread page) as an agent, warm.

Each is timed (ms p50 / p95 over the threads) with its X lookups counted. X's read limit for
the lookup (the first answer's x-rate-limit-remaining + 1, per 15 minutes) then says how
many thread openings an hour may fetch their context cold; a cached one costs none for
CACHE_SECONDS.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bench import common, stats

ANNOUNCEMENTS = 20


def seed(threads: int) -> dict[str, Any]:
    """The sandbox's tweets around `threads` customer tweets; Twelp's brand and source."""
    from inbox.models import Brand, Source
    from twelp.xsandbox import actions as x
    from twelp.xsandbox.seed import seed as sandbox_seed

    world = sandbox_seed()
    brand = world.brand
    posts = [
        x.post_tweet(brand, f"Announcement {n}: stores open at 9 today, 11 on Sunday")
        for n in range(ANNOUNCEMENTS)
    ]
    names = [(f"ctx{n}", f"Customer {n}") for n in range(threads)]
    customers = x.create_customers(names)
    quoted = 0
    for n, customer in enumerate(customers):
        parent = posts[n % ANNOUNCEMENTS]
        x.post_tweet(
            customer, f"@{brand.username} store {n} was shut", in_reply_to_tweet_id=parent.id
        )
        if n % 2:
            other = x.post_tweet(customers[n - 1], f"the new phones look great, says {n}")
            x.post_tweet(customer, f"@{brand.username} same as this ({n})", quote_tweet_id=other.id)
            quoted += 1
    twelp = Brand.objects.create(name="Twelp Demo", handle=brand.username, x_user_id=brand.id)
    source = Source.objects.create(brand=twelp, kind=Source.Kind.MENTIONS)
    return {"brand": twelp, "source": source, "quoted": quoted}


def drain(source_id: int) -> int:
    from inbox.ingest import poll

    total = 0
    while True:
        got = poll.poll(source_id).ingested
        total += got
        if not got:
            return total


def measure(threads: list[Any], agent: Any, redis_url: str) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from inbox.ingest import context
    from twelp import xgateway

    lookups, remaining = [0], []
    real = xgateway.get_tweets

    def counted(ids: list[int]) -> Any:
        lookups[0] += 1
        page = real(ids)
        remaining.append(page.rate_limit_remaining)
        return page

    xgateway.get_tweets = counted
    times: dict[str, list[float]] = {"wanted": [], "cold": [], "warm": [], "shown": []}
    calls = dict.fromkeys(times, 0)
    queries: dict[str, list[int]] = {"cold": [], "shown": []}
    shown_around = 0
    common.flush_redis(redis_url)  # the cache starts empty (sessions too: log in after)
    client = Client()
    client.force_login(agent.user)
    try:
        for thread in threads:
            for step in ("wanted", "cold", "warm", "shown"):
                before = lookups[0]
                with CaptureQueriesContext(connection) as captured:
                    if step == "wanted":
                        _, ms = stats.time_ms(lambda t=thread: context.wanted(t))
                    elif step in ("cold", "warm"):
                        around, ms = stats.time_ms(lambda t=thread: context.context_for(t))
                    else:
                        response, ms = stats.time_ms(
                            lambda t=thread: client.get(
                                f"/t/{t.id}/context/", HTTP_HX_REQUEST="true"
                            )
                        )
                        assert response.status_code == 200, (
                            response.status_code,
                            response.get("Location"),
                        )
                        shown_around += response.content.decode().count("Announcement")
                times[step].append(ms)
                calls[step] += lookups[0] - before
                if step in queries:
                    queries[step].append(len(captured))
            assert all(a.tweet is not None for a in around), "a tweet came back unavailable"
    finally:
        xgateway.get_tweets = real
    limit = remaining[0] + 1 if remaining and remaining[0] is not None else None
    return {
        "ms": {k: _rounded(stats.percentiles(v, (50, 95))) for k, v in times.items()},
        "x_lookups": calls,
        "sql_median": {k: sorted(v)[len(v) // 2] for k, v in queries.items()},
        "announcements_shown": shown_around,
        "lookup_limit_per_15_min": limit,
        "cold_openings_per_hour": limit * 4 if limit else None,
    }


def _rounded(found: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_context"))
    parser.add_argument("--redis-url", default=common.redis_url(11), help="A db it may flush.")
    parser.add_argument("--json", help="Also write the results to this file.")
    args = parser.parse_args()
    port = common.free_port()
    env = common.configure(args.database_url, args.redis_url, sandbox_port=port)
    env["XSANDBOX_RATE_LIMITS_ENABLED"] = "true"  # X's read limits, as X answers them
    # One agent opening hundreds of threads a minute: the per-user throttle of the context
    # fragment (THROTTLE_SEARCH_PER_MINUTE, issue 22) stays on, at a limit it cannot reach.
    os.environ["THROTTLE_SEARCH_PER_MINUTE"] = "1000000"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    common.setup_django()
    machine = common.machine()
    common.log(f"machine: {machine}")
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)

    from bench.queue import create_agents
    from inbox.models import Thread

    seeded = seed(args.threads)
    agent = create_agents(seeded["brand"], 1)[0]
    with common.sandbox_server(port, env):
        ingested = drain(seeded["source"].id)
        threads = list(Thread.objects.filter(brand=seeded["brand"]).order_by("id"))
        common.log(f"  {ingested} tweets in {len(threads)} threads ({seeded['quoted']} quote)")
        result = measure(threads, agent, args.redis_url)
    result |= {"threads": len(threads), "quoting": seeded["quoted"]}
    report(result)
    common.write_json(args.json, {"machine": machine, "results": [result]})
    common.drop_database(args.database_url)


def report(r: dict[str, Any]) -> None:
    print(f"\n{r['threads']} threads ({r['quoting']} of them quote a tweet), ms per thread")
    print("| step | p50 ms | p95 ms | X lookups (all threads) |")
    print("| --- | ---: | ---: | ---: |")
    for step, ms in r["ms"].items():
        print(f"| {step} | {ms['p50']} | {ms['p95']} | {r['x_lookups'][step]} |")
    print(
        f"SQL per thread (median): cold {r['sql_median']['cold']}, shown {r['sql_median']['shown']}"
        f"; X's lookup limit {r['lookup_limit_per_15_min']} per 15 min: "
        f"{r['cold_openings_per_hour']} cold thread openings an hour"
    )


if __name__ == "__main__":
    main()
