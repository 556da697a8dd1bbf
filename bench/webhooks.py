"""Webhook deliveries (issue 20): how many a worker posts per second, and 10,000 events to
a receiver that fails a fifth of requests, every one delivered and none processed twice.

    python -m bench.webhooks                       # 10,000 events each phase
    python -m bench.webhooks --events 500 --throughput-events 500   # a quick look

On a database of its own (default twelp_bench_20, dropped and created here) and Redis db
4 (flushed), with production settings except WEBHOOK_ALLOW_PRIVATE (the receiver listens
on 127.0.0.1) and WEBHOOK_BACKOFF_SECONDS=1 (so retries finish in seconds, not hours):

1. Fan-out: `--events` Events inserted through inbox.events.record_many in batches of
   1,000, with one subscribed endpoint: the trigger writes a delivery per event in the
   same statement; the time per 1,000 events with and without an endpoint is reported.
2. Throughput: a receiver that always answers 200 (tests/receiver.py, threads, in this
   process); one Celery worker process (concurrency 1) and beat (deliver_webhooks every
   2 s). Deliveries per second from the first delivered_at to the last.
3. Failures: a second receiver that answers 500 to 20% of requests (seeded), checks each
   signature and processes a Twelp-Delivery-Id once; `--workers` worker processes. The run
   waits until every delivery is `delivered` (or --timeout), then checks that the receiver
   processed each delivery id exactly once and counts the re-sends it acknowledged
   without processing (at-least-once: a lease that ran out).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from bench import common, stats

BATCH = 1_000


def seed():
    from django.contrib.auth.models import User

    from agents.models import Agent, AgentState, Role
    from inbox.models import Brand, Customer, Thread

    brand = Brand.objects.create(
        name="Bench", handle=common.BRAND_HANDLE, x_user_id=common.BRAND_X_USER_ID
    )
    user = User.objects.create_user("ada", "ada@bench.example", "x" * 20)
    admin = Agent.objects.create(
        user=user,
        brand=brand,
        employee_id="E-1",
        name="Ada",
        x_handle="ada_x",
        initials="AD",
        credit_code="AD",
        role=Role.ADMIN,
        state=AgentState.ACTIVE,
    )
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim")
    threads = Thread.objects.bulk_create(
        Thread(brand=brand, customer=customer, conversation_id=n) for n in range(1, 101)
    )
    return brand, admin, threads


def make_events(brand, threads, count: int) -> float:
    """`count` Events (noted) in batches; ms per 1,000."""
    from django.db import transaction

    from inbox import events
    from inbox.models import Verb

    watch = stats.Stopwatch()
    made = 0
    while made < count:
        n = min(BATCH, count - made)
        with transaction.atomic():
            events.record_many(
                Verb.NOTED,
                brand,
                [(threads[(made + i) % len(threads)], {"n": made + i}) for i in range(n)],
            )
        made += n
    return watch.ms * 1000 / count


def trigger_cost(brand, admin, url: str, rows: int = 1000, rounds: int = 5) -> dict:
    """Time PostgreSQL spends in the fan-out trigger (EXPLAIN ANALYZE's trigger time), per
    INSERT of one Event and of `rows` Events, with no endpoint, with one subscribed to
    another type, and with one subscribed to this one; each in a rolled-back transaction."""
    import json as json_module

    from django.db import connection, transaction

    from inbox.models import WebhookEndpoint

    insert = (
        "INSERT INTO inbox_event (brand_id, verb, at, detail) "
        "SELECT %s, 'noted', now(), '{}'::jsonb FROM generate_series(1, %s)"
    )
    out: dict[str, float] = {}
    for case, types in (
        ("no endpoint", None),
        ("other type", ["closed"]),
        ("subscribed", ["noted"]),
    ):
        for n in (1, rows):
            samples = []
            for _ in range(rounds):
                with transaction.atomic(), connection.cursor() as cursor:
                    if types is not None:
                        WebhookEndpoint.objects.create(
                            brand=brand,
                            url=url,
                            secret="bench",  # noqa: S106 - a rolled-back row's
                            event_types=types,
                            created_by=admin,
                        )
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + insert, [brand.id, n])
                    plan = cursor.fetchone()[0]
                    plan = json_module.loads(plan) if isinstance(plan, str) else plan
                    samples.append(
                        sum(
                            t["Time"]
                            for t in plan[0].get("Triggers", [])
                            if "webhooks" in t["Trigger Name"]
                        )
                    )
                    transaction.set_rollback(True)
            out[f"{case}, {n} event{'s' if n > 1 else ''}: trigger ms"] = round(
                stats.median(samples), 3
            )
    return out


def wait_delivered(endpoint, total: int, timeout: float) -> bool:
    from inbox.models import WebhookDelivery

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = WebhookDelivery.objects.filter(endpoint=endpoint, status="delivered").count()
        if done >= total:
            return True
        time.sleep(0.5)
    return False


def rate(endpoint) -> float:
    from django.db.models import Max, Min

    from inbox.models import WebhookDelivery

    span = WebhookDelivery.objects.filter(endpoint=endpoint, status="delivered").aggregate(
        first=Min("delivered_at"), last=Max("delivered_at")
    )
    n = WebhookDelivery.objects.filter(endpoint=endpoint, status="delivered").count()
    seconds = (span["last"] - span["first"]).total_seconds() if n > 1 else 0
    return n / seconds if seconds else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--throughput-events", type=int, default=10_000)
    parser.add_argument("--fail-share", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_20"))
    parser.add_argument("--redis-url", default=common.redis_url(4))
    parser.add_argument("--json")
    args = parser.parse_args()

    env = common.configure(args.database_url, args.redis_url)
    extra = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_BACKOFF_SECONDS": "1"}
    env |= extra
    import os

    os.environ.update(extra)
    common.setup_django()
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)

    from inbox.integrations import webhooks
    from inbox.models import WebhookDelivery
    from tests.receiver import Receiver

    brand, admin, threads = seed()
    results: dict[str, object] = {"machine": common.machine()}

    # 0. the trigger's own cost on an Event insert
    results["trigger"] = trigger_cost(brand, admin, "http://127.0.0.1:9/x")
    common.log(f"trigger: {results['trigger']}")

    # 1. fan-out cost, without and with an endpoint
    no_endpoint = make_events(brand, threads, min(args.events, 5_000))
    with Receiver() as fast, Receiver(fail_share=args.fail_share) as flaky:
        endpoint = webhooks.add_endpoint(actor=admin, url=fast.url, event_types=["noted"])
        fast.secret = endpoint.secret
        with_endpoint = make_events(brand, threads, args.throughput_events)
        results["fanout_ms_per_1000_events"] = {
            "no endpoint": round(no_endpoint, 1),
            "one endpoint": round(with_endpoint, 1),
        }
        common.log(f"fan-out ms per 1,000 events: {results['fanout_ms_per_1000_events']}")

        # 2. throughput of one worker process
        with common.celery_worker(env, concurrency=1), common.celery_beat(env):
            watch = stats.Stopwatch()
            complete = wait_delivered(endpoint, args.throughput_events, args.timeout)
            results["throughput"] = {
                "deliveries": args.throughput_events,
                "all delivered": complete,
                "per second, one worker process": round(rate(endpoint), 1),
                "wall seconds incl. beat start": round(watch.seconds, 1),
                "bad signatures": fast.bad_signatures,
            }
        common.log(f"throughput: {results['throughput']}")
        webhooks.remove_endpoint(endpoint.id, actor=admin)

        # 3. a receiver failing 20%
        flaky_endpoint = webhooks.add_endpoint(actor=admin, url=flaky.url, event_types=["noted"])
        flaky.secret = flaky_endpoint.secret
        make_events(brand, threads, args.events)
        with common.celery_worker(env, concurrency=args.workers), common.celery_beat(env):
            watch = stats.Stopwatch()
            complete = wait_delivered(flaky_endpoint, args.events, args.timeout)
            seconds = watch.seconds
        rows = WebhookDelivery.objects.filter(endpoint=flaky_endpoint)
        ids = {str(i) for i in rows.values_list("id", flat=True)}
        processed = Counter(str(h["Twelp-Delivery-Id"]) for h in flaky.headers)
        attempts = Counter(rows.values_list("attempts", flat=True))
        results["failing_receiver"] = {
            "events": args.events,
            "fail share": args.fail_share,
            "worker processes": args.workers,
            "all delivered": complete,
            "deliveries": len(ids),
            "processed by the receiver": len(processed),
            "processed twice or more": sum(1 for n in processed.values() if n > 1),
            "missing": len(ids - set(processed)),
            "requests answered 500": flaky.failed,
            "re-sends acknowledged as seen": flaky.duplicates,
            "bad signatures": flaky.bad_signatures,
            "attempts per delivery": dict(sorted(attempts.items())),
            "wall seconds": round(seconds, 1),
        }
        common.log(f"failing receiver: {results['failing_receiver']}")
    common.write_json(args.json, {"results": results})
    common.drop_database(args.database_url)


if __name__ == "__main__":
    main()
