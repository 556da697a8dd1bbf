r"""Customer data duties at size (issue 19): X's batch compliance job and the retention
sweep over `--messages` messages, and what each does to "claim next" meanwhile.

    python -m bench.data_duties                        # 1,000,000 messages, both duties
    python -m bench.data_duties --only retention --rounds 3 --window 60
    python -m bench.data_duties --messages 100000 --rest-percent 900 --sync-commit on

1. The database (`--database-url`, twelp_bench_19 by default; the sandbox's tables live in
   it too, as in the demo), seeded set-based (bench.seeding.insert_select): one brand,
   messages/10 customers, messages/2 threads (80% closed about 400 days ago, 20% open), two
   customer tweets a thread with a ~300-byte raw payload, stored in arrival order,
   ingested as long ago, messages/100 quarantined payloads as old; VACUUM ANALYZE. The
   seeded database is kept as a template (`<name>_seed_<messages>`, with a fingerprint of
   the migrations and this seed's code): the next run is a file copy of it (CREATE
   DATABASE ... TEMPLATE, STRATEGY FILE_COPY), seconds instead of minutes at 1M.
2. Claim next, by one agent, `--gap-ms` apart; each claimed thread is closed at once
   (untimed), so every claim does the same work. `--warm-up` untimed claims first.
3. Alternating, so the machine's load moving over the run touches both alike: a window
   of claims alone (`--window` seconds), a window during the duty, `--rounds` times, and
   a last window alone (A B A B ... A). What claim next's session waits on is sampled
   every 5 ms in each window (pg_stat_activity: "IO:WALSync" is its commit waiting for
   the WAL flush, "Lock:..." a row lock, "CPU" none).
4. X's compliance, each round: the sandbox (gunicorn, its own process) gets a redaction
   for `--deleted` of the stored tweet ids (a slice of its own each round); a child
   process runs the day's jobs as the beat tasks do (collect every stored id, create the
   job through tweepy, PUT the ids; poll until complete: download, apply in batches,
   resting between them). Its window is the whole job.
5. The retention sweep (inbox.data.retention, its settings: RETENTION_BATCH,
   DATA_DUTIES_REST_PERCENT, DATA_DUTIES_SYNC_COMMIT) in a child process for one window,
   then stopped by SIGTERM after the batch it is in (a stopped sweep resumes where it
   left). Odd rounds empty closed threads (the first may go on to raw payloads), even
   rounds raw payloads alone (no closed thread due), so both parts are measured at 1M
   without running the whole sweep (hours, resting by design).
   `--rest-percent` and `--sync-commit on|off` set those two for the children.
Printed: rows a second (wall, and of batch time), each batch's transaction time (the
longest lock it held), claim next's p50/p95/p99 per window and pooled alone vs during.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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


def redact(fraction: float, round_: int) -> int:
    """A redaction (a tweet deleted on X) in the sandbox for `fraction` of the stored tweet
    ids, a slice of its own each round (x_id modulo 1/fraction), so every round's job has
    as much to remove."""
    from django.db import connection

    from twelp.xsandbox.models import Redaction

    step = max(round(1 / fraction), 1) if fraction > 0 else 0
    if not step:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x_id FROM inbox_message WHERE x_id %% %s = %s", [step, round_ % step]
        )
        ids = [row[0] for row in cursor.fetchall()]
    return len(Redaction.objects.bulk_create(Redaction(tweet_id=i, author_id=1) for i in ids))


# --- measuring -----------------------------------------------------------------------------


class Claims:
    """Claim next, timed, by the one agent, paced (`gap_ms` between claims, as agents
    spaced in time; it also spares the open threads: the queue is messages/10 of them).
    Each claimed thread is closed at once (untimed), as an agent closes what they took:
    the agent holds one thread at a time, so every claim does the same work."""

    def __init__(self, gap_ms: float) -> None:
        from agents.models import Agent

        self.agent = Agent.objects.select_related("brand").get()
        self.gap = gap_ms / 1000

    def one(self) -> float | None:
        from inbox import actions

        claimed, ms = stats.time_ms(lambda: actions.do_claim_next(agent=self.agent))
        if claimed is None:
            return None
        actions.do_close(claimed.id, agent=self.agent)
        time.sleep(self.gap)
        return ms

    def window(self, seconds: float, child: subprocess.Popen | None = None) -> list[float]:
        """Claims for `seconds`, or until `child` ends if it ends first."""
        timings: list[float] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and (child is None or child.poll() is None):
            ms = self.one()
            if ms is None:
                raise SystemExit("The queue ran out of open threads: fewer rounds or a longer gap.")
            timings.append(ms)
        return timings


class Waits:
    """What claim next's database session waits on: pg_stat_activity sampled every 5 ms
    from a connection of its own (a thread), for the claiming session (`pid`) and for the
    others in the database (the child's). Each sample of an active session counts its
    wait event ("CPU" when it waits on none); `shares()` gives the 8 commonest as
    fractions, and every row lock wait together ("Lock:*")."""

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
            locks = sum(v for k, v in counter.items() if k.startswith("Lock:"))
            shares = {k: round(v / total, 3) for k, v in counter.most_common(8)}
            return shares | {"Lock:*": round(locks / total, 4), "samples": total}

        return {"claim": share(self.claim), "others": share(self.others)}


def in_child(role: str, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen, str]:
    out = os.path.join(tempfile.gettempdir(), f"bench19-{role}-{os.getpid()}.json")
    command = [sys.executable, "-m", "bench.data_duties", "--role", role, "--out", out, *extra]
    return subprocess.Popen(command, env={**os.environ, **env}), out  # noqa: S603


def child_compliance(out: str, phase: str) -> None:
    from inbox.data import compliance
    from inbox.models import ComplianceJob

    result: dict[str, Any] = {}
    _started(out)
    began = time.perf_counter()
    ids, result["collect_ids_s"] = stats.time_ms(lambda: compliance.stored_ids("tweets"))
    result["collect_ids_s"] /= 1000
    started = time.perf_counter()
    jobs = [compliance.start(kind) for kind in compliance.KINDS]
    result["create_and_upload_s"] = time.perf_counter() - started
    batches: list[float] = []
    polls = 0
    applying = time.perf_counter()
    while ComplianceJob.objects.filter(status="uploaded").exists() and polls < 20:
        for row in compliance.poll():
            batches += getattr(row, "batch_ms", [])
        polls += 1
    result["apply_s"] = time.perf_counter() - applying
    result["total_s"] = time.perf_counter() - began
    tweets, users = (ComplianceJob.objects.filter(kind=j.kind).latest("id") for j in jobs)
    result |= {
        "tweet_ids_sent": tweets.ids_sent,
        "user_ids_sent": users.ids_sent,
        "result_lines": tweets.lines + users.lines,
        "removed": tweets.removed,
        "statuses": [tweets.status, users.status],
        "polls": polls,
        "ids_per_s": (tweets.ids_sent + users.ids_sent) / result["total_s"],
        "removed_per_s_applying": tweets.removed / result["apply_s"] if result["apply_s"] else 0,
        "apply_batch_ms": stats.summary(batches) if batches else {},
        "stored_ids_checked": len(ids),
    }
    with open(out, "w") as f:
        json.dump(result, f)


class _Stoppable:
    """The sweep's batch timer (retention._Timer), stopping at SIGTERM: once it is
    asked, each next batch does nothing, so every loop of `sweep` ends, and the run is
    counted and saved as on any other end. A stopped sweep resumes where it left: the
    next run takes what is still due."""

    stop = False

    def __init__(self, timer: Any) -> None:
        self.timer = timer

    def __call__(self, work: Any) -> int:
        return 0 if _Stoppable.stop else self.timer(work)


def child_retention(out: str, phase: str) -> None:
    import signal
    from datetime import timedelta

    from django.conf import settings

    from inbox.data import retention
    from inbox.models import Brand

    signal.signal(signal.SIGTERM, lambda *_: setattr(_Stoppable, "stop", True))
    timer = retention._Timer
    retention._Timer = lambda run: _Stoppable(timer(run))  # type: ignore[assignment,misc]
    if phase == "raw":  # the raw payloads' part alone: no closed thread is due
        keep = retention.keep_for
        retention.keep_for = lambda brand: keep(brand) | {"closed_threads": timedelta(days=10**5)}
    brand = Brand.objects.get()
    _started(out)
    began = time.perf_counter()
    run = retention.sweep(brand)
    seconds = time.perf_counter() - began
    rows = run.messages + run.raw_payloads + run.quarantined + run.threads
    batch_ms: list[float] = run.batch_ms  # type: ignore[attr-defined]
    result = {
        "phase": phase,
        "seconds": seconds,
        "stopped": _Stoppable.stop,
        "threads_emptied": run.threads,
        "messages_removed": run.messages,
        "raw_payloads_emptied": run.raw_payloads,
        "quarantine_deleted": run.quarantined,
        "batches": run.batches,
        "rows": rows,
        "rows_per_s": rows / seconds,
        "rows_per_s_of_batch_time": rows / (sum(batch_ms) / 1000) if batch_ms else 0,
        "batch_ms": stats.summary(batch_ms),
        "batch_ms_all": batch_ms,
        "rest_percent": settings.DATA_DUTIES_REST_PERCENT,
        "sync_commit": settings.DATA_DUTIES_SYNC_COMMIT,
    }
    with open(out, "w") as f:
        json.dump(result, f)


def _started(out: str) -> None:
    """The child says its duty begins (Django is set up): the window starts then."""
    open(f"{out}.started", "w").close()


def _wait_started(child: subprocess.Popen, out: str) -> None:
    while not os.path.exists(f"{out}.started") and child.poll() is None:
        time.sleep(0.01)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(f"{out}.started")


def _read(out: str) -> dict[str, Any]:
    with open(out) as f:
        data = json.load(f)
    os.unlink(out)
    return data


# --- the seed, kept between runs ----------------------------------------------------------


def _fingerprint(messages: int) -> str:
    """What the seeded database depends on: the size, the migrations on disk, the seed's
    code. A template whose fingerprint differs is seeded again."""
    import hashlib
    import inspect

    from django.db.migrations.loader import MigrationLoader

    migrations = sorted(f"{app}.{name}" for app, name in MigrationLoader(None).disk_migrations)
    code = inspect.getsource(seed) + inspect.getsource(_agent)
    text = f"{messages}\n" + "\n".join(migrations) + code
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _admin(db_url: str) -> tuple[Any, str]:
    import psycopg

    parts = urlsplit(db_url)
    conn = psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)
    return conn, parts.path.lstrip("/")


def seeded_database(args: argparse.Namespace) -> dict[str, int]:
    """The run's database, seeded: a file copy of a template seeded by an earlier run with
    the same fingerprint (`<name>_seed_<messages>`, kept), else migrated, seeded and
    copied to such a template for the next run (--reseed forces it)."""
    from django.db import connections
    from psycopg import sql

    fingerprint = _fingerprint(args.messages)
    conn, name = _admin(args.database_url)
    template = f"{name}_seed_{args.messages}"
    with conn:
        found = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [template],
        ).fetchone()
        if args.seed_copy and found and found[0] == fingerprint and not args.reseed:
            connections.close_all()
            with stats.Stopwatch() as watch:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
            common.log(f"copied the seeded {template} to {name} in {watch.seconds:.0f} s")
            return _counts()
    common.fresh_database(args.database_url)
    with stats.Stopwatch() as watch:
        rows = seed(args.messages)
    common.log(f"seeded {rows} in {watch.seconds:.0f} s")
    from twelp.xsandbox.seed import seed as seed_sandbox

    seed_sandbox()
    if not args.seed_copy:
        return rows
    connections.close_all()
    conn, _ = _admin(args.database_url)
    with conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(template), sql.Identifier(name)
            )
        )
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(template), sql.Literal(fingerprint)
            )
        )
    common.log(f"kept the seed as {template} for the next run")
    return rows


def _counts() -> dict[str, int]:
    from agents.models import Agent
    from inbox.models import Customer, Message, Quarantine, Thread

    return {
        "customers": Customer.objects.count(),
        "threads": Thread.objects.count(),
        "messages": Message.objects.count(),
        "quarantined": Quarantine.objects.count(),
        "agents": Agent.objects.count(),
    }


# --- the run ---------------------------------------------------------------------------------


def _claim_pid() -> int:
    from django.db import connection

    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _window(label: str, timings: list[float], waits: Waits) -> dict[str, Any]:
    found = {"window": label, **stats.percentiles(timings), "load_average": common.load_average()}
    found["waits"] = waits.shares()["claim"]
    common.log(f"claim next {label}: { ({k: v for k, v in found.items() if k != 'waits'}) }")
    return found


def alternate(
    duty: str, rounds: int, args: argparse.Namespace, claims: Claims, start: Any
) -> dict[str, Any]:
    """Claim next alone, then during the duty, `rounds` times, and alone once more:
    A B A B ... A, windows of `args.window` seconds (a compliance job's window is the whole
    job), so the machine's load moving over the run touches both alike. `start(round)`
    starts the duty's child for one round and returns (child, its out file, stop at the
    window's end or not)."""
    windows: list[dict[str, Any]] = []
    children: list[dict[str, Any]] = []
    alone: list[float] = []
    during: list[float] = []
    pid = _claim_pid()
    for round_ in range(rounds + 1):
        with Waits(pid) as waits:
            timings = claims.window(args.window)
        windows.append(_window(f"alone {round_ + 1}", timings, waits))
        alone += timings
        if round_ == rounds:
            break
        child, out, stop = start(round_)
        _wait_started(child, out)
        with Waits(pid) as waits:
            timings = claims.window(args.window if stop else 24 * 3600, child)
            if stop and child.poll() is None:
                child.send_signal(15)  # SIGTERM: the sweep ends after the batch it is in
            child.wait()
        windows.append(_window(f"during {duty} {round_ + 1}", timings, waits))
        windows[-1]["others_waits"] = waits.shares()["others"]
        during += timings
        children.append(_read(out))
        shown = {k: v for k, v in children[-1].items() if k != "batch_ms_all"}
        common.log(f"{duty} {round_ + 1}: {shown}")
    return {
        "claim_next_alone_ms": stats.percentiles(alone),
        "claim_next_during_ms": stats.percentiles(during),
        "windows": windows,
        "runs": children,
    }


def _retention_totals(runs: list[dict[str, Any]]) -> dict[str, Any]:
    batch_ms = [ms for run in runs for ms in run.pop("batch_ms_all")]
    total: dict[str, Any] = {
        key: sum(run[key] for run in runs)
        for key in (
            "threads_emptied",
            "messages_removed",
            "raw_payloads_emptied",
            "quarantine_deleted",
            "batches",
            "rows",
            "seconds",
        )
    }
    total["rows_per_s"] = total["rows"] / total["seconds"] if total["seconds"] else 0
    total["rows_per_s_of_batch_time"] = total["rows"] / (sum(batch_ms) / 1000) if batch_ms else 0
    total["batch_ms"] = stats.percentiles(batch_ms) if batch_ms else {"n": 0}
    total["rest_percent"], total["sync_commit"] = runs[0]["rest_percent"], runs[0]["sync_commit"]
    return total


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = common.configure(args.database_url, args.redis_url, sandbox_port=args.port)
    common.setup_django()
    common.flush_redis(args.redis_url)
    rows = seeded_database(args)
    result: dict[str, Any] = {"messages": args.messages, "rows": rows, "machine": common.machine()}
    from django.conf import settings

    result["settings"] = {
        name: getattr(settings, name)
        for name in ("RETENTION_BATCH", "DATA_DUTIES_REST_PERCENT", "DATA_DUTIES_SYNC_COMMIT")
    }
    options = ("rounds", "compliance_rounds", "window", "gap_ms", "deleted")
    result["options"] = {k: getattr(args, k) for k in options}
    common.log(f"settings: {result['settings']}, options: {result['options']}")
    result["load_average_start"] = common.load_average()
    claims = Claims(args.gap_ms)
    for _ in range(args.warm_up):  # the copied database's pages into the cache, untimed
        claims.one()
    if args.only != "retention":

        def compliance(round_: int) -> tuple[subprocess.Popen, str, bool]:
            redacted = redact(args.deleted, round_)
            result.setdefault("deleted_on_x", []).append(redacted)
            return (*in_child("compliance", env, "--phase", "all"), False)

        with common.sandbox_server(args.port, env):
            result["compliance"] = alternate(
                "compliance", args.compliance_rounds or args.rounds, args, claims, compliance
            )
        result["load_average_after_compliance"] = common.load_average()
    if args.only != "compliance":

        def retention(round_: int) -> tuple[subprocess.Popen, str, bool]:
            phase = "raw" if round_ % 2 else "threads"  # the first round goes on past threads
            return (*in_child("retention", env, "--phase", phase), True)

        result["retention"] = alternate("retention", args.rounds, args, claims, retention)
        result["retention"]["totals"] = _retention_totals(result["retention"]["runs"])
        result["load_average_after_retention"] = common.load_average()
    if not args.keep_database:
        common.drop_database(args.database_url)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--deleted", type=float, default=0.01, help="Share deleted on X a round.")
    parser.add_argument("--rounds", type=int, default=4, help="Windows during each duty.")
    parser.add_argument("--compliance-rounds", type=int, help="Jobs, if not --rounds.")
    parser.add_argument("--window", type=float, default=60, help="Seconds a window.")
    parser.add_argument("--gap-ms", type=float, default=10, help="Pause between claims.")
    parser.add_argument("--warm-up", type=int, default=200, help="Untimed claims first.")
    parser.add_argument(
        "--seed-copy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Keep the seeded database as a template for the next run (and use one kept).",
    )
    parser.add_argument("--reseed", action="store_true", help="Seed again, not from the kept copy.")
    parser.add_argument("--database-url", default=common.database_url(DB_NAME))
    parser.add_argument("--redis-url", default=common.redis_url(REDIS_DB))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--json", help="Write the results here too.")
    parser.add_argument("--only", choices=["compliance", "retention"], help="Run one duty.")
    parser.add_argument("--rest-percent", type=int, help="DATA_DUTIES_REST_PERCENT.")
    parser.add_argument(
        "--sync-commit", choices=["on", "off"], help="DATA_DUTIES_SYNC_COMMIT (default off)."
    )
    parser.add_argument("--role", choices=["compliance", "retention"], help=argparse.SUPPRESS)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:  # a child: the environment is the parent's (configure)
        common.setup_django()
        {"compliance": child_compliance, "retention": child_retention}[args.role](
            args.out, args.phase
        )
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
