r"""Customer data duties at size (issue 19): X's batch compliance job and the retention
sweep over `--messages` messages, and what each does to "claim next" meanwhile.

    python -m bench.data_duties                        # 1,000,000 messages
    python -m bench.data_duties --messages 100000 --json out.json
    python -m bench.data_duties --messages 100000 --only retention --rest-percent 900 \
        --sync-commit on                               # the former defaults, to compare

On a fresh database of its own (twelp_bench_19, dropped and created; the sandbox's
tables live in it too, as in the demo), Redis db 3:

1. Seed, set-based (bench.seeding.insert_select): one brand, messages/10 customers,
   messages/2 threads (80% closed about 400 days ago, 20% open), two customer tweets a
   thread with a ~300-byte raw payload, stored in arrival order, ingested as long ago,
   messages/100 quarantined payloads as old; VACUUM ANALYZE.
2. Claim next, alone: `--claims` claims by one agent (actions.do_claim_next), each timed;
   each claimed thread is closed at once, untimed (so every claim does the same work).
   Measured before and after each child, as well as during it.
3. X's compliance: the sandbox (gunicorn, its own process) holds a redaction for
   `--deleted` of the stored tweet ids; a child process runs the day's jobs as the beat
   tasks do (start: collect every stored id, create the job through tweepy, PUT the ids;
   poll until complete: download, apply in batches, resting between them). Meanwhile this
   process claims next without pause; the claims made while the child ran are timed apart.
4. The retention sweep (inbox.data.retention, defaults: 365 days for closed threads, 30
   for raw payloads and quarantine, RETENTION_BATCH rows a batch, resting
   DATA_DUTIES_REST_PERCENT of each batch's time, committing with synchronous_commit off
   unless DATA_DUTIES_SYNC_COMMIT) in a child process, with claims alongside as in 3.
   `--rest-percent` and `--sync-commit on|off` set those two for the children (and X's
   compliance apply), to compare a setting with the defaults.
Printed: rows a second of each part, each batch's transaction time (the longest lock it
held), claim next's p50/p95/p99 alone (before and after) and during each child, and what
claim next's database session waited on in each period (pg_stat_activity sampled every
5 ms: "IO:WALSync" is its commit waiting for the WAL flush, "Lock:..." a row lock).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from bench import common, seeding, stats

DB_NAME = "twelp_bench_19"
REDIS_DB = 19 % 16


# --- seeding ---------------------------------------------------------------------------------


def seed(messages: int) -> dict[str, int]:
    from django.db import connection, transaction
    from django.utils import timezone

    from agents.models import Agent
    from inbox.models import Brand, Customer, Message, Quarantine, Source, Thread

    customers, threads = max(messages // 10, 1), max(messages // 2, 1)
    brand = Brand.objects.create(
        name="Twelp Demo", handle=common.BRAND_HANDLE, x_user_id=common.BRAND_X_USER_ID
    )
    source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    _agent(brand)
    old = "now() - interval '400 days'"
    # Thread g came in g seconds after the first, 400 days ago; closed ones were closed an
    # hour later; its two tweets came in then and a minute later, and are stored in that
    # order. (All alike, as at first, the sweep's closed_at order was random against where
    # the messages lie: each batch dirtied a page a message, each page a full-page image
    # in the WAL.)
    at = f"({old} + g * interval '1 second')"
    raw = (
        "jsonb_build_object('id', ({x})::text, 'text', repeat('help me please ', 12),"
        " 'author_id', '1', 'lang', 'en', 'entities', jsonb_build_object('mentions',"
        " jsonb_build_array(jsonb_build_object('username', 'twelpdemo'))))"
    )
    statements = [
        seeding.insert_select(
            Customer,
            {"brand": "%(brand)s", "x_user_id": "1000000000000 + g", "handle": "'c' || g"},
            "FROM generate_series(1, %(customers)s) g",
        ),
        seeding.insert_select(
            Thread,
            {
                "brand": "%(brand)s",
                "customer": "c.id",
                "source": "%(source)s",
                "conversation_id": "2000000000000 + g",
                "status": "CASE WHEN g %% 5 = 0 THEN 'open' ELSE 'closed' END",
                "closed_at": f"CASE WHEN g %% 5 = 0 THEN NULL ELSE {at} + interval '1 hour' END",
                "preview": "'help me please'",
                "waiting_since": at,
            },
            "FROM generate_series(1, %(threads)s) g JOIN inbox_customer c"
            " ON c.brand_id = %(brand)s AND c.x_user_id = 1000000000000 + 1 + g %% %(customers)s",
        ),
        seeding.insert_select(
            Message,
            {
                "brand": "%(brand)s",
                "thread": "t.id",
                "x_id": "t.conversation_id * 2 + k",
                "direction": "'in'",
                "author_x_id": "c.x_user_id",
                "text": "'help me please'",
                "conversation_id": "t.conversation_id",
                "raw": raw.format(x="t.conversation_id * 2 + k"),
                "sent_at": "t.waiting_since + k * interval '1 minute'",
                "ingested_at": "t.waiting_since + k * interval '1 minute'",
            },
            "FROM inbox_thread t JOIN inbox_customer c ON c.id = t.customer_id"
            " CROSS JOIN generate_series(0, 1) k WHERE t.brand_id = %(brand)s"
            " ORDER BY t.id, k",  # stored in arrival order, as messages are
        ),
        seeding.insert_select(
            Quarantine,
            {
                "source": "%(source)s",
                "raw": "jsonb_build_object('n', g)",
                "error": "'bad'",
                "created_at": old,
            },
            "FROM generate_series(1, %(quarantined)s) g",
        ),
    ]
    params = {"brand": brand.id, "source": source.id, "customers": customers}
    params |= {"threads": threads, "quarantined": max(messages // 100, 1)}
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, defaults in statements:
            cursor.execute(sql, params | defaults)
    with connection.cursor() as cursor:
        for table in ("inbox_customer", "inbox_thread", "inbox_message", "inbox_quarantine"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    assert timezone.now()
    return {
        "customers": Customer.objects.count(),
        "threads": Thread.objects.count(),
        "messages": Message.objects.count(),
        "quarantined": Quarantine.objects.count(),
        "agents": Agent.objects.count(),
    }


def _agent(brand) -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from agents.models import Agent

    user = User.objects.create_user("bench_alice", "alice@bench.example", None)
    Agent.objects.create(
        user=user,
        brand=brand,
        employee_id="E-alice",
        name="Alice",
        x_handle="alice_x",
        initials="AL",
        credit_code="AL",
        approved_at=timezone.now(),
        max_held=30_000,  # she claims thousands and answers none: no cap here
    )


def redact(fraction: float) -> int:
    """The sandbox's world, and a redaction (a tweet deleted on X) for `fraction` of the
    stored tweet ids, spread evenly."""
    from inbox.models import Message
    from twelp.xsandbox.models import Redaction
    from twelp.xsandbox.seed import seed as seed_sandbox

    seed_sandbox()
    step = max(round(1 / fraction), 1) if fraction > 0 else 0
    if not step:
        return 0
    ids = list(Message.objects.order_by("x_id").values_list("x_id", flat=True))[::step]
    return len(Redaction.objects.bulk_create(Redaction(tweet_id=i, author_id=1) for i in ids))


# --- measuring -----------------------------------------------------------------------------


def claims_while(child: subprocess.Popen | None, limit: int) -> list[float]:
    """Claim next, timed, `limit` times, or for as long as `child` runs (then up to 20,000).

    Each claimed thread is closed at once (untimed), as an agent closes what they took:
    the agent holds one thread at a time, so every claim does the same work. (Holding
    them all made each claim count the agent's held threads, thousands after a while:
    claims during a child, made later, were slower for that alone.)"""
    from agents.models import Agent
    from inbox import actions

    agent = Agent.objects.select_related("brand").get()
    timings: list[float] = []
    while (len(timings) < limit) if child is None else (child.poll() is None):
        claimed, ms = stats.time_ms(lambda: actions.do_claim_next(agent=agent))
        if claimed is None or len(timings) >= 20_000:
            if child is not None:
                child.wait()
            break
        timings.append(ms)
        actions.do_close(claimed.id, agent=agent)
    return timings


class Waits:
    """What claim next's database session waits on: pg_stat_activity sampled every 5 ms
    from a connection of its own (a thread), for the claiming session (`pid`) and for the
    others in the database (the child's). Each sample of an active session counts its
    wait event ("CPU" when it waits on none); `shares()` gives them as fractions."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.claim: collections.Counter[str] = collections.Counter()
        self.others: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Waits:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psycopg
        from django.db import connection

        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            while not self._stop.wait(0.005):
                rows = conn.execute(
                    "SELECT pid, coalesce(wait_event_type || ':' || wait_event, 'CPU')"
                    " FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                    " AND pid <> pg_backend_pid()",
                    [connection.settings_dict["NAME"]],
                ).fetchall()
                for pid, wait in rows:
                    (self.claim if pid == self.pid else self.others)[wait] += 1

    def shares(self) -> dict[str, dict[str, float]]:
        def share(counter: collections.Counter[str]) -> dict[str, float]:
            total = sum(counter.values()) or 1
            return {k: round(v / total, 3) for k, v in counter.most_common(8)} | {"samples": total}

        return {"claim": share(self.claim), "others": share(self.others)}


def in_child(role: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    out = os.path.join(tempfile.gettempdir(), f"bench19-{role}-{os.getpid()}.json")
    command = [sys.executable, "-m", "bench.data_duties", "--role", role, "--out", out]
    return subprocess.Popen(command, env={**os.environ, **env}), out  # noqa: S603


def child_compliance(out: str) -> None:
    from inbox.data import compliance
    from inbox.models import ComplianceJob

    result: dict[str, Any] = {}
    began = time.perf_counter()
    ids, result["collect_ids_s"] = stats.time_ms(lambda: compliance.stored_ids("tweets"))
    result["collect_ids_s"] /= 1000
    started = time.perf_counter()
    for kind in compliance.KINDS:
        compliance.start(kind)
    result["create_and_upload_s"] = time.perf_counter() - started
    batches: list[float] = []
    polls = 0
    while ComplianceJob.objects.filter(status="uploaded").exists() and polls < 20:
        for row in compliance.poll():
            batches += getattr(row, "batch_ms", [])
        polls += 1
    result["total_s"] = time.perf_counter() - began
    tweets = ComplianceJob.objects.filter(kind="tweets").latest("id")
    users = ComplianceJob.objects.filter(kind="users").latest("id")
    result |= {
        "tweet_ids_sent": tweets.ids_sent,
        "user_ids_sent": users.ids_sent,
        "result_lines": tweets.lines + users.lines,
        "removed": tweets.removed,
        "statuses": [tweets.status, users.status],
        "polls": polls,
        "ids_per_s": (tweets.ids_sent + users.ids_sent) / result["total_s"],
        "apply_batch_ms": stats.summary(batches) if batches else {},
        "stored_ids_checked": len(ids),
    }
    with open(out, "w") as f:
        json.dump(result, f)


def child_retention(out: str) -> None:
    from django.conf import settings

    from inbox.data import retention
    from inbox.models import Brand

    brand = Brand.objects.get()
    began = time.perf_counter()
    run = retention.sweep(brand)
    seconds = time.perf_counter() - began
    rows = run.messages + run.raw_payloads + run.quarantined + run.threads
    result = {
        "seconds": seconds,
        "threads_emptied": run.threads,
        "messages_removed": run.messages,
        "raw_payloads_emptied": run.raw_payloads,
        "quarantine_deleted": run.quarantined,
        "batches": run.batches,
        "rows_per_s": rows / seconds,
        "messages_removed_per_s": run.messages / seconds,
        "batch_ms": stats.summary(run.batch_ms),  # type: ignore[attr-defined]
        "rest_percent": settings.DATA_DUTIES_REST_PERCENT,
        "sync_commit": settings.DATA_DUTIES_SYNC_COMMIT,
    }
    with open(out, "w") as f:
        json.dump(result, f)


def _read(out: str) -> dict[str, Any]:
    with open(out) as f:
        data = json.load(f)
    os.unlink(out)
    return data


# --- the run ---------------------------------------------------------------------------------


def _claim_pid() -> int:
    from django.db import connection

    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _alone(result: dict[str, Any], label: str, claims: int) -> None:
    from django.db import connections

    connections.close_all()
    with Waits(_claim_pid()) as waits:
        timings = claims_while(None, claims)
    result[f"claim_next_{label}_ms"] = stats.percentiles(timings)
    result[f"waits_{label}"] = waits.shares()
    common.log(f"claim next {label}: {result[f'claim_next_{label}_ms']}")


def _during(result: dict[str, Any], role: str, env: dict[str, str], claims: int) -> None:
    from django.db import connections

    connections.close_all()
    pid = _claim_pid()
    with Waits(pid) as waits:
        child, out = in_child(role, env)
        during = claims_while(child, claims)
    result[role] = _read(out)
    result[f"claim_next_during_{role}_ms"] = stats.percentiles(during) | {"n": len(during)}
    result[f"waits_during_{role}"] = waits.shares()
    result[f"load_average_{role}"] = common.load_average()
    common.log(f"{role}: {result[role]}")
    common.log(f"claim next meanwhile: {result[f'claim_next_during_{role}_ms']}")
    common.log(f"waits meanwhile: {result[f'waits_during_{role}']}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Claim next alone, before and after each child (the same claims, the same state),
    and while it runs."""
    env = common.configure(args.database_url, args.redis_url, sandbox_port=args.port)
    common.setup_django()
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    with stats.Stopwatch() as watch:
        rows = seed(args.messages)
    common.log(f"seeded {rows} in {watch.seconds:.0f} s")
    redactions = redact(args.deleted)
    common.log(f"{redactions:,} tweets deleted on X (sandbox redactions)")
    result: dict[str, Any] = {"messages": args.messages, "rows": rows, "deleted_on_x": redactions}
    from django.conf import settings

    result["settings"] = {
        name: getattr(settings, name)
        for name in ("RETENTION_BATCH", "DATA_DUTIES_REST_PERCENT", "DATA_DUTIES_SYNC_COMMIT")
    }
    common.log(f"settings: {result['settings']}")
    result["load_average_start"] = common.load_average()
    if args.only != "retention":
        _alone(result, "alone_before_compliance", args.claims)
        with common.sandbox_server(args.port, env):
            _during(result, "compliance", env, args.claims)
        _alone(result, "alone_after_compliance", args.claims)
    if args.only != "compliance":
        _alone(result, "alone_before_retention", args.claims)
        _during(result, "retention", env, args.claims)
        _alone(result, "alone_after_retention", args.claims)
    if not args.keep_database:
        common.drop_database(args.database_url)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--deleted", type=float, default=0.01, help="Share deleted on X.")
    parser.add_argument("--claims", type=int, default=300, help="Claims timed alone.")
    parser.add_argument("--database-url", default=common.database_url(DB_NAME))
    parser.add_argument("--redis-url", default=common.redis_url(REDIS_DB))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--json", help="Write the results here too.")
    parser.add_argument("--only", choices=["compliance", "retention"], help="Run one child.")
    parser.add_argument("--rest-percent", type=int, help="DATA_DUTIES_REST_PERCENT.")
    parser.add_argument(
        "--sync-commit", choices=["on", "off"], help="DATA_DUTIES_SYNC_COMMIT (default off)."
    )
    parser.add_argument("--role", choices=["compliance", "retention"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:  # a child: the environment is the parent's (configure)
        common.setup_django()
        {"compliance": child_compliance, "retention": child_retention}[args.role](args.out)
        return
    # Through the environment, which the children inherit (in_child).
    if args.rest_percent is not None:
        os.environ["DATA_DUTIES_REST_PERCENT"] = str(args.rest_percent)
    if args.sync_commit:
        os.environ["DATA_DUTIES_SYNC_COMMIT"] = "true" if args.sync_commit == "on" else "false"
    args.port = args.port or common.free_port()
    result = run(args)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": [result]}, f, indent=2)


if __name__ == "__main__":
    main()
