"""The supervisors' dashboard at size, against django-helpdesk's dashboard (issue 7).

    python -m bench.dashboard                        # 10k, 100k, 1M threads; the peer too
    python -m bench.dashboard --sizes 10000 --requests 20 --no-peer   # a quick look

For each size, on a fresh database of its own (default twelp_bench_dashboard, dropped and
created here), a year of history is seeded: `size` threads created uniformly over the
last 365 days with the peer's status mix (35% open, of which a seventh reopened after a
close; 10% answered; 55% closed; 50 claimed by the 50 agents), a fifth as many customers,
one customer message per thread, one posted Reply per answered thread, and every Event
the actions would have written (claimed, replied, reply_posted, closed, reopened: about
2.3 per thread). Rows are filled from the models' fields and go in with COPY (bench.seeding), so the
thread triggers run as in production (queue counts, arrivals); the rollup rows for the
Events are computed here with the same code `actions._event` runs (inbox.rollups:
buckets, business hours, histograms), then folded by `rollups.compact()`; then VACUUM
ANALYZE.

Measured in-process with Django's test Client (middleware, session in Redis, auth, view,
SQL, template; no network), logged in as a supervisor, like the peer's `client` mode, each
over --requests requests after 3 warm-up ones: the dashboard page (every request reads
everything: no version is sent), and the live refresh carrying the current version (204
from Redis). SQL statements per page and their time: CaptureQueriesContext, once. Then
the write side: --transitions claim + release pairs through `inbox.actions` (each writes
its Event and rollup rows in its transaction).

The peer: django-helpdesk's run.sh (common.helpdesk_dir(): ../shared/peers/helpdesk beside
the repository, or $TWELP_HELPDESK_DIR) at the same N (its own PostgreSQL 15 cluster
on port 55432, its seed of N tickets with 3 follow-ups each, its measure.py in `client`
mode; fewer requests at 1M, where one dashboard takes tens of seconds), one after the
other on the same machine, with a time limit (--peer-timeout); if it does not finish, the
report says which stage it reached.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import common, seeding, stats
from tests import processes

BENCH_CAP = 30_000  # inbox.routing.capacity's cap, not measured here

PEER = common.helpdesk_dir()
AGENTS = 50
YEAR = timedelta(days=365)
DAY = timedelta(days=1)
PEER_REQUESTS = {10_000: 50, 100_000: 20, 1_000_000: 5}
CHUNK = 100_000
X_BASE = 10**12  # seeded tweet ids, far below real snowflakes


# --- seeding ---------------------------------------------------------------------------------


def seed_people():
    from django.contrib.auth.models import User

    from agents.models import Agent, AgentState, Role
    from inbox.models import Brand, Source

    brand = Brand.objects.create(
        name="Bench",
        handle=common.BRAND_HANDLE,
        x_user_id=common.BRAND_X_USER_ID,
        max_held=BENCH_CAP,  # the seed gives each agent many claims: no cap here
    )
    sources = [
        Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS),
        Source.objects.create(brand=brand, kind=Source.Kind.SEARCH, query='"bench" -is:retweet'),
    ]
    now = datetime.now(UTC)
    for source in sources:
        source.last_polled_at = now - timedelta(seconds=7)
        source.since_id = X_BASE * 3
        source.save()
    agents = []
    for i in range(AGENTS + 1):
        role = Role.SUPERVISOR if i == AGENTS else Role.AGENT
        name = f"agent{i:03d}" if i < AGENTS else "boss"
        user = User.objects.create_user(name, f"{name}@bench.example", "bench-pass")
        agents.append(
            Agent.objects.create(
                user=user,
                brand=brand,
                employee_id=f"E{i:04d}",
                name=name.title(),
                x_handle=name,
                initials=f"A{i:02d}"[:4],
                credit_code=f"A{i:02d}",
                role=role,
                state=AgentState.ACTIVE,
                approved_at=now,
            )
        )
    return brand, sources, agents[:AGENTS], agents[AGENTS]


class Rollups:
    """What `rollups.record` would have written for each Event, summed per key."""

    def __init__(self, brand, now: datetime) -> None:
        from inbox import rollups
        from inbox.rules import sla

        self.r, self.hours, self.brand = rollups, sla.hours_for(brand), brand
        self.minutes_from = now - timedelta(hours=48)
        self.rows: dict[tuple, dict] = {}

    def _row(self, key: tuple) -> dict:
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = defaultdict(int)
            row["first_response_hist"] = [0] * self.r.NBUCKETS
            row["resolution_hist"] = [0] * self.r.NBUCKETS
        return row

    def add(self, at: datetime, counter: str, actor: int | None, sample: tuple | None) -> None:
        keys = [("q", self.r.floor_to(at, 15), None)]
        if at >= self.minutes_from:
            keys.append(("m", self.r.floor_to(at, 1), None))
        if actor:
            keys.append(("d", self.r.local_midnight(at, self.hours), actor))
        for key in keys:
            row = self._row(key)
            row[counter] += 1
            if sample:
                measure, seconds, breached = sample
                row[f"{measure}_n"] += 1
                row[f"{measure}_seconds"] += round(seconds)
                row[f"{measure}_breached"] += int(breached)
                row[f"{measure}_hist"][self.r.bucket_of(seconds)] += 1


def seed_history(
    size: int, brand, sources, agents, *, messages_per_thread: int = 1
) -> dict[str, int]:
    """Customers, threads, messages, replies, events and rollups for `size` threads,
    through the models (bench.seeding: COPY of rows filled from the models' fields).

    `messages_per_thread` 3 (bench.compare): two more messages per thread, so a thread has
    three as a peer ticket has three follow-ups: the brand's answer where a reply was
    posted (the Reply then names that tweet), else the customer again; then the customer.
    """
    from inbox.models import Customer, Event, Message, Reply, Rollup, Thread

    rnd = random.Random(42)
    now = datetime.now(UTC)
    roll = Rollups(brand, now)
    customers = max(size // 5, 1)
    counts: dict[str, int] = defaultdict(int)
    _copy(Customer, (_customer(c, brand, now) for c in range(1, customers + 1)), with_pk=True)
    # Newest first, so the threads held by the 50 agents are the freshest open ones.
    created = sorted((now - YEAR * rnd.random() for _ in range(size)), reverse=True)
    state = {"reply_id": 0, "claimers": [a.id for a in agents]}
    for start in range(0, size, CHUNK):
        rows = _history_chunk(
            rnd, now, brand, sources, agents, created, start, state, roll, messages_per_thread
        )
        for model in (Thread, Message, Reply, Event):  # messages and replies point at threads
            _copy(model, rows[model], with_pk=model is not Event)
        for thread in rows[Thread]:
            counts[thread["status"]] += 1
        counts["events"] += len(rows[Event])
        counts["replies"] += len(rows[Reply])
        counts["messages"] += len(rows[Message])
    _copy(Rollup, _rollups(brand, roll))
    seeding.reset_sequence(Customer, Thread, Message, Reply)
    return dict(counts)


def _customer(c: int, brand, now: datetime) -> dict:
    return {
        "id": c,
        "brand_id": brand.id,
        "x_user_id": 5_000_000_000 + c,
        "handle": f"cust{c}",
        "name": f"Customer {c}",
        "followers_count": c % 5000,
        "verified": c % 50 == 0,
        "created_at": now,
        "updated_at": now,
    }


def _history_chunk(
    rnd, now, brand, sources, agents, created, start, state, roll, messages_per_thread
) -> dict:
    """Rows (bench.seeding) for threads start+1 .. start+CHUNK: the peer's mix of statuses."""
    from inbox.models import Event, Message, Reply, Thread

    first_target = brand.sla_first_response.total_seconds()
    resolution_target = brand.sla_resolution.total_seconds()
    size = len(created)
    customers = max(size // 5, 1)
    agent_ids = [a.id for a in agents]
    credits = {a.id: f" ^{a.credit_code}" for a in agents}
    rows: dict[type, list] = {Thread: [], Message: [], Reply: [], Event: []}
    for tid in range(start + 1, min(start + CHUNK, size) + 1):
        born = created[tid - 1]
        r = rnd.random()
        agent = rnd.choice(agent_ids)
        source = sources[0].id if rnd.random() < 0.7 else sources[1].id
        status, claimed_by, first_response_at, closed_at, waiting = "open", None, None, None, born
        events: list[tuple[str, datetime, int | None, dict]] = []
        reply = None
        answered = r >= 0.30  # 30% never answered
        if answered:
            claim = born + timedelta(seconds=rnd.uniform(30, 1800))
            replied = claim + timedelta(seconds=rnd.uniform(30, 600))
            posted = replied + timedelta(seconds=rnd.uniform(1, 60))
            answered = posted <= now
        if answered:
            state["reply_id"] += 1
            reply_id = state["reply_id"]
            first_response_at, status = posted, "answered"  # 10%
            events += [
                ("claimed", claim, agent, {}),
                ("replied", replied, agent, {"reply": reply_id}),
                ("reply_posted", posted, agent, {"reply": reply_id, "x_id": X_BASE + tid}),
            ]
            credit = credits[agent]
            reply = {
                "id": reply_id,
                "thread_id": tid,
                "in_reply_to_id": tid,
                "agent_id": agent,
                "text": f"@cust{tid} answer",
                "credit": credit,
                "body": f"@cust{tid} answer{credit}",
                "status": "posted",
                "attempts": 1,
                "claimed_at": replied,
                # With three messages a thread, the brand's answer message is that tweet.
                "posted_x_id": (X_BASE * 2 if messages_per_thread > 1 else X_BASE) + tid,
                "client_token": uuid.UUID(int=rnd.getrandbits(128)),
                "created_at": replied,
                "posted_at": posted,
            }
            rows[Reply].append(reply)
            if r >= 0.40:  # closed: 55%, of which 5% reopened since
                close = posted + timedelta(seconds=rnd.uniform(60, 2 * 86400))
                if close <= now:
                    closed_at, status = close, "closed"
                    events.append(("closed", close, agent, {}))
                    back = close + timedelta(seconds=rnd.uniform(3600, 5 * 86400))
                    if r < 0.45 and back <= now:
                        events.append(("reopened", back, None, {"message": X_BASE + tid}))
                        status, closed_at, waiting = "open", None, back
        if status == "open" and r < 0.30 and state["claimers"]:
            claimed_by, status = state["claimers"].pop(), "claimed"
            events.append(("claimed", max(born, now - timedelta(minutes=3)), claimed_by, {}))
        for verb, at, actor, detail in events:
            sample = None
            if verb in ("reply_posted", "closed"):
                seconds = (at - born).total_seconds()
                if verb == "reply_posted":
                    sample = ("first_response", seconds, seconds > first_target)
                else:
                    sample = ("resolution", seconds, seconds > resolution_target)
            roll.add(at, roll.r.COUNTERS[verb], actor, sample)
            rows[Event].append(
                {
                    "brand_id": brand.id,
                    "actor_id": actor,
                    "verb": verb,
                    "thread_id": tid,
                    "at": at,
                    "detail": detail,
                }
            )
        customer = (tid - 1) % customers + 1
        rows[Thread].append(
            {
                "id": tid,
                "brand_id": brand.id,
                "customer_id": customer,
                "source_id": source,
                "conversation_id": X_BASE + tid,
                "status": status,
                "priority": tid % 3,
                "claimed_by_id": claimed_by,
                "claim_expires_at": now + timedelta(minutes=5) if claimed_by else None,
                "last_answered_by_id": agent if first_response_at else None,
                "preview": f"help with order {tid}",
                "waiting_since": waiting,
                "first_response_at": first_response_at,
                "closed_at": closed_at,
                "created_at": born,
                "updated_at": now,
            }
        )
        rows[Message].append(
            {
                "id": tid,
                "brand_id": brand.id,
                "thread_id": tid,
                "x_id": X_BASE + tid,
                "direction": "in",
                "author_x_id": 5_000_000_000 + customer,
                "text": f"@{common.BRAND_HANDLE} help with order {tid}",
                "conversation_id": X_BASE + tid,
                "raw": {},
                "sent_at": born,
                "ingested_at": born,
            }
        )
        for k in range(1, messages_per_thread):
            out = k == 1 and reply is not None
            if out:
                text = reply["body"]
            elif k == 1:
                text = f"@{common.BRAND_HANDLE} anyone there? still waiting on this"
            else:
                text = f"@{common.BRAND_HANDLE} thanks, but the tracking page still shows nothing"
            rows[Message].append(
                {
                    "id": k * size + tid,
                    "brand_id": brand.id,
                    "thread_id": tid,
                    "x_id": X_BASE * (k + 1) + tid,
                    "direction": "out" if out else "in",
                    "author_x_id": brand.x_user_id if out else 5_000_000_000 + customer,
                    "text": text,
                    "in_reply_to_x_id": X_BASE * k + tid,
                    "conversation_id": X_BASE + tid,
                    "raw": {},
                    "sent_at": born + timedelta(minutes=10 * k),
                    "ingested_at": now,
                }
            )
    return rows


def _rollups(brand, roll: Rollups):
    """The Rollup rows (folded, not deltas) of every seeded Event."""
    from inbox.rollups import _summed_columns

    counters, hists = _summed_columns()
    for (grain, bucket, agent), row in roll.rows.items():
        yield dict(
            brand_id=brand.id,
            agent_id=agent,
            grain=grain,
            bucket=bucket,
            delta=False,
            **{c: row.get(c, 0) for c in counters},
            **{h: row[h] if any(row[h]) else [] for h in hists},
        )


def _copy(model, objs, *, with_pk: bool = False) -> None:
    watch = stats.Stopwatch()
    rows = seeding.copy(model, objs, with_pk=with_pk)
    common.log(f"  {model._meta.db_table}: {rows:,} rows in {watch.seconds:.1f} s")


# --- measuring -----------------------------------------------------------------------------------


def timed(client, url: str, requests: int, expect: int, **headers) -> list[float]:
    for _ in range(3):
        assert client.get(url, **headers).status_code == expect, url
    out = []
    for _ in range(requests):
        with stats.Stopwatch() as watch:
            response = client.get(url, **headers)
            _ = response.content
        out.append(watch.ms)
        assert response.status_code == expect, (url, response.status_code)
    return out


def queries(client, url: str) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return {
        "queries": len(captured),
        "sql_ms": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 1),
    }


def measure(supervisor, agents, requests: int, transitions: int) -> dict:
    import re

    from django.test import Client

    from inbox import actions
    from inbox.models import Thread

    client = common.sign_in(Client(), supervisor.user)
    page = client.get("/sup/").content.decode()
    version = re.search(r"\?v=([\d.]+)", page).group(1)
    out = {
        "dashboard": stats.summary(timed(client, "/sup/", requests, 200)),
        "dashboard_sql": queries(client, "/sup/"),
        "refresh_unchanged": stats.summary(
            timed(client, f"/sup/?v={version}", requests, 204, HTTP_HX_REQUEST="true")
        ),
        "refresh_sql": queries(client, f"/sup/?v={version}"),
    }
    open_ids = list(
        Thread.objects.filter(status="open")
        .order_by("-waiting_since")
        .values_list("id", flat=True)[:transitions]
    )
    pairs = []
    for i, thread_id in enumerate(open_ids):
        agent = agents[i % len(agents)]
        with stats.Stopwatch() as watch:
            actions.do_claim(thread_id, agent=agent)
            actions.do_release(thread_id, agent=agent)
        pairs.append(watch.ms)
    out["claim_release_pair"] = stats.summary(pairs)
    return out


def run_twelp(size: int, args) -> dict:
    from django.db import connection

    from inbox import rollups

    common.log(f"== Twelp, {size:,} threads")
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    seeding_watch = stats.Stopwatch()
    brand, sources, agents, supervisor = seed_people()
    counts = seed_history(size, brand, sources, agents)
    with stats.Stopwatch() as folding:
        rollups.compact()
    common.log(f"  compact: {folding.seconds:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        db_mb = cursor.fetchone()[0] / 2**20
    seed_s = seeding_watch.seconds
    common.log(f"  seeded {counts} in {seed_s:.0f} s, {db_mb:,.0f} MB")
    result = {"size": size, "seed": counts | {"seconds": round(seed_s), "db_mb": round(db_mb)}}
    result |= measure(supervisor, agents, args.requests, args.transitions)
    d = result["dashboard"]
    common.log(
        f"  dashboard median {d['median']:.1f} ms p95 {d['p95']:.1f} ms, "
        f"{result['dashboard_sql']['queries']} queries "
        f"({result['dashboard_sql']['sql_ms']} ms SQL); "
        f"unchanged refresh median {result['refresh_unchanged']['median']:.2f} ms"
    )
    return result


# --- the peer ------------------------------------------------------------------------------------


def run_peer(size: int, args) -> dict:
    """django-helpdesk's harness at `size`, in its own process group, with a time limit."""
    out_dir = Path(args.peer_out)
    out_dir.mkdir(parents=True, exist_ok=True)
    requests = PEER_REQUESTS.get(size, args.requests)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))},
        "N": str(size),
        "REQUESTS": str(requests),
        "MEASURE_MODE": "client",
        "OUT_DIR": str(out_dir),
        # Paths and ports of this benchmark's own: another run of the harness (another
        # benchmark) may share the machine.
        "PEER_VENV": args.peer_prefix + "-venv",
        "PEER_PROJECT": args.peer_prefix + "-proj",
        "PGDATA_DIR": args.peer_prefix + "-pgdata",
        "PGPORT": str(args.peer_port),
        "HTTP_PORT": str(common.free_port()),
    }
    common.log(f"== django-helpdesk, {size:,} tickets ({requests} requests per page)")
    log_path = out_dir / f"bench-N{size}.log"
    watch = stats.Stopwatch()
    # A SIGTERM if this process dies: run.sh's EXIT trap stops the PostgreSQL it started.
    # In this process's folder, as before: the folders in `env` may be relative to it.
    peer = processes.start(
        [str(PEER / "run.sh")],
        env=env,
        name="peer",
        log_path=log_path,
        death_signal=signal.SIGTERM,
        cwd=Path.cwd(),
    )
    try:
        peer.wait(timeout=args.peer_timeout)
    except subprocess.TimeoutExpired:
        peer.stop(grace=30, whole_group=True)  # its commands end, then its trap runs
        with contextlib.suppress(subprocess.TimeoutExpired):
            processes.run([str(PEER / "pg.sh"), "stop"], env=env, cwd=Path.cwd(), timeout=300)
    except BaseException:  # interrupted (Ctrl-C): the peer stops too
        peer.stop(grace=30, whole_group=True)
        raise
    seconds = watch.seconds
    text = log_path.read_text(errors="replace")
    result_path = out_dir / f"measure-N{size}.json"
    fresh = result_path.exists() and result_path.stat().st_mtime > time.time() - seconds - 5
    if peer.returncode != 0 or not fresh:
        lines = [line for line in text.splitlines() if line.strip()]
        stage = next(
            (ln for ln in reversed(lines) if ln.startswith(("==", "  seeded", "  client"))), ""
        )
        common.log(f"  the peer stopped after {seconds:.0f} s at: {stage!r}")
        return {
            "size": size,
            "finished": False,
            "seconds": round(seconds),
            "stopped_at": stage,
            "log_tail": lines[-5:],
        }
    data = json.loads(result_path.read_text())
    dash = data["client"]["dashboard"]
    common.log(
        f"  peer dashboard median {dash['median_ms']:.0f} ms p95 {dash['p95_ms']:.0f} ms, "
        f"{data['queries']['dashboard']['queries']} queries"
    )
    return {
        "size": size,
        "finished": True,
        "seconds": round(seconds),
        "requests": requests,
        "dashboard": dash,
        "dashboard_sql": data["queries"]["dashboard"],
        "context": data["context"],
    }


# --- report --------------------------------------------------------------------------------------


def report(rows: list[dict]) -> None:
    print()
    print(
        f"{'N':>10} {'Twelp med':>10} {'p95':>8} {'q':>3} {'SQL ms':>7} {'204 med':>8} "
        f"{'helpdesk med':>13} {'p95':>9} {'q':>3} {'ratio':>7}"
    )
    for row in rows:
        ours, peer = row["twelp"], row.get("peer") or {}
        d = ours["dashboard"]
        line = (
            f"{ours['size']:>10,} {d['median']:>10.1f} {d['p95']:>8.1f} "
            f"{ours['dashboard_sql']['queries']:>3} {ours['dashboard_sql']['sql_ms']:>7.1f} "
            f"{ours['refresh_unchanged']['median']:>8.2f} "
        )
        if peer.get("finished"):
            p = peer["dashboard"]
            line += (
                f"{p['median_ms']:>13.1f} {p['p95_ms']:>9.1f} "
                f"{peer['dashboard_sql']['queries']:>3} "
                f"{p['median_ms'] / d['median']:>6.0f}x"
            )
        elif peer:
            line += f"{'did not finish':>13}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=50, help="Timed requests per page.")
    parser.add_argument("--transitions", type=int, default=200, help="Claim+release pairs.")
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_dashboard"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--no-peer", action="store_true", help="Skip django-helpdesk.")
    parser.add_argument("--peer-timeout", type=int, default=3600, help="Seconds per size.")
    parser.add_argument("--peer-out", default="/tmp/peer-helpdesk-dashboard-results")
    parser.add_argument("--peer-prefix", default="/tmp/peer-helpdesk-dashboard")
    parser.add_argument("--peer-port", type=int, default=55433)
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    if not args.no_peer and not (PEER / "run.sh").exists():
        parser.error(
            f"django-helpdesk's harness is not at {PEER}: set {common.HELPDESK_DIR_VARIABLE}"
            " to its folder, or pass --no-peer"
        )
    common.configure(args.database_url, args.redis_url)
    common.setup_django()
    machine = common.machine()
    common.log(f"machine: {machine}")
    rows = []
    for size in args.sizes:
        row = {"twelp": run_twelp(size, args)}
        if not args.no_peer:
            from django.db import connections

            connections.close_all()  # the peer's turn: leave its PostgreSQL the machine
            row["peer"] = run_peer(size, args)
        rows.append(row)
        common.write_json(args.json, {"machine": machine, "results": rows})
    report(rows)
    if not args.keep_database:
        from django.db import connections

        connections.close_all()
        common.drop_database(args.database_url)


if __name__ == "__main__":
    main()
