"""Collision warnings: what "who else has it open" costs per request (inbox.live.viewers).

One brand, a 50-row queue page, `--viewers` employees each with a thread open (some
typing). Timed, in process with Django's test client (server time, no network): the
queue's viewers poll (`GET /viewers/?t=<50 ids>`), the thread page's poll
(`GET /t/<id>/viewers/`, which also records "viewing"), the typing ping, and, for
comparison, the queue's unchanged refresh (204). SQL statements are counted on each.

    python -m bench.viewers --viewers 700 --requests 500
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bench import common, stats


def setup(viewers: int) -> tuple[Any, Any, list[int]]:
    from django.test import Client

    from inbox.live.viewers import touch
    from inbox.models import Brand, Customer, Thread
    from tests.helpers import make_agent

    brand = Brand.objects.create(name="Bench", handle="benchviewers", x_user_id=7_000_001)
    customers = Customer.objects.bulk_create(
        Customer(brand=brand, x_user_id=100 + i, handle=f"c{i}") for i in range(50)
    )
    threads = Thread.objects.bulk_create(
        Thread(brand=brand, customer=c, conversation_id=1000 + i) for i, c in enumerate(customers)
    )
    ids = [t.id for t in threads]
    for n in range(viewers):  # spread over the page's threads; every fifth one typing
        touch(brand.id, ids[n % len(ids)], 10_000 + n, f"Agent {n}", typing=n % 5 == 0)
    me = make_agent(brand, "benchme")
    client = Client()
    client.force_login(me.user)
    return client, ids[0], ids


def timed(client: Any, method: str, path: str, n: int, expect: int, **headers: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = getattr(client, method)
    for _ in range(5):  # warm up (the first one passes the login check)
        call(path, **headers)
    times, queries = [], 0
    for _ in range(n):
        with CaptureQueriesContext(connection) as captured:
            watch = stats.Stopwatch()
            response = call(path, **headers)
            times.append(watch.stop().ms)
        if response.status_code != expect:
            raise RuntimeError(f"{method.upper()} {path}: {response.status_code}, not {expect}")
        queries = max(queries, len(captured.captured_queries))
    return {"ms": stats.summary(times), "queries": queries, "bytes": len(response.content)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, default=700)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_viewers"))
    parser.add_argument("--redis-url", default=common.redis_url(11), help="A db it may flush.")
    parser.add_argument("--json", help="Also write the results to this file.")
    args = parser.parse_args()
    common.configure(args.database_url, args.redis_url)
    os.environ["VIEWING_SECONDS"] = "3600"  # the seeded viewers stay for the whole run
    common.setup_django()
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    client, one, ids = setup(args.viewers)
    from bench.queue import live_unchanged  # after setup_django: it imports models

    hx = {"HTTP_HX_REQUEST": "true"}
    t = ",".join(map(str, ids))
    results = {
        "viewers": args.viewers,
        "queue_viewers_poll": timed(client, "get", f"/viewers/?t={t}", args.requests, 200, **hx),
        "thread_viewers_poll": timed(client, "get", f"/t/{one}/viewers/", args.requests, 200, **hx),
        "typing_ping": timed(client, "post", f"/t/{one}/typing/", args.requests, 204, **hx),
        "queue_unchanged_refresh": live_unchanged(client, args.requests),
    }
    for name, row in results.items():
        if isinstance(row, dict):
            ms = row["ms"]
            common.log(f"{name}: {ms} ms, {row['queries']} SQL, {row.get('bytes', 0)} bytes")
    common.write_json(args.json, {"machine": common.machine(), "results": results})
    common.drop_database(args.database_url)


if __name__ == "__main__":
    main()
