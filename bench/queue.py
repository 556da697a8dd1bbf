"""The agent's inbox at size: queue, thread page, claim next, send -> posted (issue 5).

    python -m bench.queue                       # 10,000, 100,000 and 1,000,000 threads
    python -m bench.queue --sizes 1000 --requests 20 --claims 100 --concurrency 2 \\
        --sends 5 --json out.json               # a quick look

Run with `python -m` from the repository root (a file named queue.py must not be the
script directory on sys.path: it would shadow the standard library's `queue`).

For each size, on a fresh database of its own (default twelp_bench_queue, dropped and
created by this script), after seeding through the models (bench.seeding: COPY of rows
filled from the models' own fields; the indexes that back no constraint dropped
meanwhile and rebuilt, then VACUUM ANALYZE) of `size` threads with 3 messages each
(customer, brand's answer with its posted Reply, customer again), a third as many
customers, 10 agents; thread status 30% open, 2% claimed, 8% answered, 60% closed;
priority 0-3:

1. Views, through Django's test Client in-process (the whole request: middleware,
   session in Redis, auth, view, SQL, template; no network, no WSGI server), logged in as
   an agent, each timed over --requests requests after 5 warm-up ones: GET / (first page),
   GET /?after=<cursor> (a keyset page half-way down the open queue), GET /t/<id>/ (a
   different thread each time), the live refresh with the current version (204) and with
   a stale one (the htmx partial). SQL statements per request are counted with
   CaptureQueriesContext; time inside SQL with an execute wrapper.
2. Claim next: --claims claims per run, split across N processes (each its own
   connection), through `actions.do_claim_next` and through raw SQL on psycopg
   (SELECT ... FOR NO KEY UPDATE SKIP LOCKED LIMIT 1, then UPDATE, one transaction), for
   each N in --concurrency; every run checks no thread was claimed twice, then the claims
   are undone and the table vacuumed so every run starts alike. Also what one claim costs
   on one idle connection: wall, CPU of this process, SQL statements. With --teams a
   team gives at most 80% of its open threads (a 10k seed in 20 teams has ~150 a team):
   a batch may be smaller than --claims, and the table says how many. Who claims: with
   --claimers new, agents under a cap (--cap, default the product's default of 5), each
   claiming at most their cap in a batch, each process taking its agents in turn, as a
   team of hundreds works (the cap's count reads the threads the agent holds, so one
   agent claiming hundreds would measure a count no capped agent pays); --cap 0 keeps
   one agent a process claiming its whole share under the seed's cap.
3. Send -> posted: customers tweet at the brand in the sandbox (gunicorn), Twelp polls
   them in, then an agent claims and answers --sends threads one after another through
   `actions.do_send_reply`; a live Celery worker (`python -m celery -A twelp worker`, real
   Redis) posts each through the gateway. Latency: from calling do_send_reply until the
   Reply row is `posted` (polled every 2 ms), and the row's own posted_at - created_at.
4. A probe of the poller's conversation lookup (the first query of store.threads_for)
   at this size.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import queue as stdlib_queue  # `python -m bench.queue`: this module is bench.queue
import random
import re
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench import common, seeding, stats

BENCH_CAP = 30_000  # inbox.routing.capacity's cap, not measured here

if TYPE_CHECKING:  # imported at run time only after Django is set up
    from django.test import Client

    from agents.models import Agent
    from inbox.models import Brand, Source

STATUS_MIX = {"open": 0.30, "claimed": 0.02, "answered": 0.08, "closed": 0.60}
CUMULATIVE = list(itertools.accumulate(STATUS_MIX.values()))
CUMULATIVE[-1] = 1.0  # rounding must not leave a sliver of r past the last status
AGENTS = 10
PARTS = ("views", "probe", "claims", "sends")
CHUNK = 20_000  # threads per step: 60,000 messages in memory at a time
CONVERSATION_BASE = 10**12  # seeded tweet ids: far below the sandbox's snowflakes

# --- seeding -------------------------------------------------------------------------------------

PREVIEW = "still waiting on order #{n}, tracking has not moved in 4 days. Any update?"
ANSWER = "@{handle} So sorry about the wait! Could you DM us the order number so we can look? ^AB"
AGAIN = "@twelpdemo sent it, still nothing on my side"


def create_agents(brand: Brand, count: int) -> list[Agent]:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from agents.models import Agent, AgentState

    agents = []
    for n in range(1, count + 1):
        user = User.objects.create_user(f"agent{n}", f"agent{n}@bench.example", "bench-password")
        agents.append(
            Agent.objects.create(
                user=user,
                brand=brand,
                employee_id=f"E-{n:04d}",
                name=f"Agent {n}",
                x_handle=f"agent{n}_x",
                initials="AB",
                credit_code=f"AB{n}",
                state=AgentState.ACTIVE,
                approved_at=timezone.now(),
            )
        )
    return agents


def seed(size: int, brand: Brand, source: Source, agents: list[Agent]) -> None:
    """`size` threads, 3 messages each, through the models (bench.seeding: COPY of rows filled
    from the models' fields), in chunks so progress shows."""
    from django.db import connection

    from inbox.models import Customer, Message, Reply, Thread

    models = (Customer, Thread, Message, Reply)
    customers = max(size // 3, 1)
    rng = random.Random(42)  # the same threads every run
    now = datetime.now(UTC)
    watch = stats.Stopwatch()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")  # seeding only: a crash just reruns
        cursor.execute("SET maintenance_work_mem = '512MB'")
        indexes = _drop_secondary_indexes(cursor, [m._meta.db_table for m in models])
        seeding.copy(Customer, _customers(brand, customers, now), with_pk=True)
        common.log(f"  seeded {customers:,} customers ({watch.seconds:.0f} s)")
        ids = {"message": 0}
        for lo, hi in _chunks(size):
            threads = [
                _thread(n, rng, brand, source, agents, customers, now) for n in range(lo, hi + 1)
            ]
            seeding.copy(Thread, threads, with_pk=True)
            messages = [m for t in threads for m in _messages(t, brand, ids)]
            seeding.copy(Message, messages, with_pk=True)
            seeding.copy(Reply, _replies(messages, agents), with_pk=False)
            if hi % 100_000 == 0 or hi == size:
                common.log(
                    f"  seeded {hi:,}/{size:,} threads, {3 * hi:,} messages ({watch.seconds:.0f} s)"
                )
        for definition in indexes:
            cursor.execute(definition)
        common.log(f"  rebuilt {len(indexes)} indexes ({watch.seconds:.0f} s)")
        cursor.execute("SET synchronous_commit = on")
    seeding.reset_sequence(*models)
    vacuum_analyze()
    common.log(f"  VACUUM ANALYZE done ({watch.seconds:.0f} s)")


def _customers(brand: Brand, count: int, now: datetime) -> Iterator[dict]:
    for n in range(1, count + 1):
        yield {
            "id": n,
            "brand_id": brand.id,
            "x_user_id": 5_000_000_000 + n,
            "handle": f"cust{n}",
            "name": f"Customer {n}",
            "followers_count": (n * 7919) % 50_000,
            "verified": n % 50 == 0,
            "description": f"Runner, coffee, too many gadgets. #{n}",
            "created_at": now,
            "updated_at": now,
        }


def _thread(
    n: int,
    rng: random.Random,
    brand: Brand,
    source: Source,
    agents: list[Agent],
    customers: int,
    now: datetime,
) -> dict:
    """Thread n: STATUS_MIX, priority 0-3 (70/20/8/2%), waiting up to 7 days."""
    r, r2 = rng.random(), rng.random()
    status = next(name for name, cut in zip(STATUS_MIX, CUMULATIVE, strict=True) if r < cut)
    waiting = now - timedelta(days=7) * rng.random()
    agent = agents[n % len(agents)].id
    done = status in ("answered", "closed")
    return {
        "id": n,
        "brand_id": brand.id,
        "customer_id": 1 + n % customers,
        "source_id": source.id,
        "conversation_id": CONVERSATION_BASE + 3 * n,
        "status": status,
        "priority": 0 if r2 < 0.70 else 1 if r2 < 0.90 else 2 if r2 < 0.98 else 3,
        "claimed_by_id": agent if status == "claimed" else None,
        "claim_expires_at": now + timedelta(minutes=5) if status == "claimed" else None,
        "last_answered_by_id": agent if done else None,
        "preview": PREVIEW.format(n=10_000_000 + n),
        "waiting_since": waiting,
        "first_response_at": waiting + timedelta(minutes=20) if done else None,
        "closed_at": waiting + timedelta(hours=2) if status == "closed" else None,
        "created_at": waiting - timedelta(minutes=20),
        "updated_at": now,
    }


def _messages(thread: dict, brand: Brand, ids: dict[str, int]) -> Iterator[dict]:
    """The customer, the brand's answer, the customer again; each with a tweet's `raw`."""
    customer_id, conversation_id = thread["customer_id"], thread["conversation_id"]
    customer = 5_000_000_000 + customer_id  # _customers' x_user_id
    for k, text in enumerate(
        (f"@twelpdemo {thread['preview']}", ANSWER.format(handle=f"cust{customer_id}"), AGAIN)
    ):
        ids["message"] += 1
        x_id = conversation_id + k
        author = brand.x_user_id if k == 1 else customer
        sent_at = thread["waiting_since"] + timedelta(minutes=10 * k)
        yield {
            "id": ids["message"],
            "brand_id": brand.id,
            "thread_id": thread["id"],
            "x_id": x_id,
            "direction": "out" if k == 1 else "in",
            "author_x_id": author,
            "text": text,
            "in_reply_to_x_id": x_id - 1 if k else None,
            "conversation_id": conversation_id,
            "raw": {
                "id": str(x_id),
                "text": text,
                "author_id": str(author),
                "conversation_id": str(conversation_id),
                "lang": "en",
                "created_at": sent_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{sent_at:%f}"[:3] + "Z",
                "edit_history_tweet_ids": [str(x_id)],
                "public_metrics": {
                    "retweet_count": 0,
                    "reply_count": 0,
                    "like_count": 1,
                    "quote_count": 0,
                },
            },
            "sent_at": sent_at,
        }


def _replies(messages: list[dict], agents: list[Agent]) -> Iterator[dict]:
    """The brand's answer in each thread was a posted Reply to the customer's first tweet."""
    for first, answer in zip(messages[::3], messages[1::3], strict=True):
        yield {
            "thread_id": answer["thread_id"],
            "in_reply_to_id": first["id"],
            "agent_id": agents[answer["thread_id"] % len(agents)].id,
            "text": answer["text"],
            "credit": "^AB",
            "body": answer["text"],
            "status": "posted",
            "attempts": 1,
            "claimed_at": answer["sent_at"],
            "posted_x_id": answer["x_id"],
            "created_at": answer["sent_at"] - timedelta(seconds=5),
            "posted_at": answer["sent_at"],
        }


def _drop_secondary_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """A bulk load's usual trick: drop the indexes that back no constraint, return their
    definitions (exactly as the migrations made them) to build again after the load."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname"
        " NOT IN (SELECT conname FROM pg_constraint)",
        [tables],
    )
    found = cursor.fetchall()
    for name, _ in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def _chunks(count: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + CHUNK - 1, count)) for lo in range(1, count + 1, CHUNK)]


def vacuum_analyze(*tables: str) -> None:
    """The system PostgreSQL here runs with autovacuum off: do its work, untimed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")


def table_sizes() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname IN ('inbox_thread', 'inbox_message', 'inbox_reply', 'inbox_customer')"
        )
        return dict(cursor.fetchall())


def table_rows() -> dict[str, int]:
    """Rows the database holds (what seeding really wrote), counted through the models."""
    from inbox.models import Customer, Message, Reply, Thread

    return {m._meta.db_table: m.objects.count() for m in (Customer, Thread, Message, Reply)}


# --- views -------------------------------------------------------------------------------------


def time_get(
    client: Client, paths: list[str], *, expect: int, warmup: int = 5, **headers: str
) -> dict[str, Any]:
    """Each path once (after `warmup` untimed requests): server time, SQL time, statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for path in paths[:warmup]:
        client.get(path, **headers)
    times, sql_ms, counts = [], [], []
    for path in paths[warmup:]:
        clock = common.SqlClock()
        with connection.execute_wrapper(clock):
            with stats.Stopwatch() as watch:
                response = client.get(path, **headers)
            times.append(watch.ms)
        if response.status_code != expect:
            raise RuntimeError(f"GET {path}: {response.status_code}, not {expect}")
        sql_ms.append(clock.seconds * 1000)
        counts.append(clock.count)
    with CaptureQueriesContext(connection) as captured:
        client.get(paths[-1], **headers)
    return {
        "ms": stats.summary(times),
        "sql_ms": stats.summary(sql_ms),
        "queries": len(captured.captured_queries),
        "queries_range": [min(counts), max(counts)],
        "bytes": len(response.content),
    }


def live_unchanged(client: Client, n: int) -> dict[str, Any]:
    """GET /?v=<current> n times: 204 from Redis. The version carries the minute, so a
    request that crosses a minute gets a page instead: fetch the new version, go on."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    version = _version(client)
    times, queries, pages = [], 0, 0
    while len(times) < n:
        with CaptureQueriesContext(connection) as captured:
            with stats.Stopwatch() as watch:
                response = client.get(f"/?v={version}", HTTP_HX_REQUEST="true")
            elapsed = watch.ms
        if response.status_code != 204:
            pages += 1
            version = _version(client)
            continue
        times.append(elapsed)
        queries = max(queries, len(captured.captured_queries))
    return {"ms": stats.summary(times), "queries": queries, "minute_turns": pages}


def _version(client: Client) -> str:
    html = client.get("/").content.decode()
    return re.search(r"[?&;]v=([0-9.]+)", html).group(1)


def deep_cursor(brand: Brand) -> str:
    """The keyset cursor half-way down the open queue (OFFSET here only, to find it)."""
    from inbox.models import Thread
    from inbox.queries import Cursor

    rows = Thread.objects.filter(brand=brand, status="open").order_by(
        "-priority", "waiting_since", "id"
    )
    middle = rows[rows.count() // 2]
    return Cursor(middle.priority, middle.waiting_since, middle.id).encode()


def bench_views(brand: Brand, agent: Agent, n: int) -> dict[str, Any]:
    from django.db.models import Max, Min
    from django.test import Client

    from inbox.models import Thread

    client = Client()
    client.force_login(agent.user)
    ids = Thread.objects.filter(brand=brand).aggregate(first=Min("id"), last=Max("id"))
    sample = random.Random(5).sample(range(ids["first"], ids["last"] + 1), n + 5)
    after = deep_cursor(brand)
    results = {
        "queue first page": time_get(client, ["/"] * (n + 5), expect=200),
        "queue deep keyset page": time_get(client, [f"/?after={after}"] * (n + 5), expect=200),
        "thread page": time_get(client, [f"/t/{i}/" for i in sample], expect=200),
        "live refresh, changed (htmx)": time_get(
            client, ["/?v=0.0000"] * (n + 5), expect=200, HTTP_HX_REQUEST="true"
        ),
        "live refresh, unchanged (204)": live_unchanged(client, n),
    }
    return results


# --- claim next ----------------------------------------------------------------------------------

RAW_SELECT = """
SELECT id FROM inbox_thread
WHERE brand_id = %(brand)s AND status = 'open'
  AND (offered_to_id IS NULL OR offered_to_id = %(agent)s OR offer_expires_at < now())
ORDER BY priority DESC, waiting_since, id
LIMIT 1
FOR NO KEY UPDATE SKIP LOCKED
"""
RAW_UPDATE = """
UPDATE inbox_thread SET status = 'claimed', claimed_by_id = %(agent)s,
    claim_expires_at = now() + interval '300 seconds', offered_to_id = NULL,
    offer_expires_at = NULL, updated_at = now()
WHERE id = %(id)s
"""


Plan = list[tuple[int, int]]  # one process's claims: (agent id, how many), in turn


def _turns(plan: Plan) -> list[Agent]:
    """The plan's agents (their brands loaded), each as many times as they claim, in order."""
    from agents.models import Agent

    loaded = Agent.objects.select_related("brand").in_bulk([agent_id for agent_id, _ in plan])
    return [loaded[agent_id] for agent_id, count in plan for _ in range(count)]


def _claimer(mode: str, plan: Plan, dsn: str, start: Any, out: Any) -> None:
    """One process: its plan's claims (agent id, how many), agent after agent, as fast as
    it can, after the common start."""
    from django.db import connections

    connections.close_all()  # never the parent's connection
    from inbox import actions

    turns = _turns(plan)
    claimed: list[int] = []
    if mode == "raw":
        import psycopg

        conn = psycopg.connect(dsn, autocommit=True)
    latencies: list[float] = []
    start.wait()
    began = time.perf_counter()
    for agent in turns:
        before = time.perf_counter()
        if mode == "action":
            thread = actions.do_claim_next(agent=agent)
            claimed.append(thread.id if thread else 0)
        else:
            with conn.transaction():
                row = conn.execute(RAW_SELECT, {"brand": agent.brand_id, "agent": agent.id})
                found = row.fetchone()
                if found:
                    conn.execute(RAW_UPDATE, {"agent": agent.id, "id": found[0]})
            claimed.append(found[0] if found else 0)
        latencies.append((time.perf_counter() - before) * 1000)
    out.put((began, time.perf_counter(), claimed, latencies))
    connections.close_all()


def _collect(workers: list[Any], out: Any) -> list[Any]:
    """Every worker's result; a worker that dies (or a run past 10 minutes) stops the run."""
    finished, deadline = [], time.monotonic() + 600
    try:
        while len(finished) < len(workers):
            try:
                finished.append(out.get(timeout=1))
            except stdlib_queue.Empty:
                if any(w.exitcode not in (None, 0) for w in workers):
                    raise RuntimeError("a claim-next worker died: see its traceback") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("claim next did not finish in 10 minutes") from None
    finally:
        for worker in workers:
            worker.join(30 if len(finished) == len(workers) else 0.1)
            if worker.is_alive():
                worker.terminate()
    return finished


def claim_run(mode: str, plans: list[Plan], dsn: str) -> dict[str, Any]:
    """One batch: each plan (agent id, claims) in a process of its own, all at once."""
    from django.db import connections

    connections.close_all()  # forked children must not share it
    processes = len(plans)
    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(processes, timeout=120), context.Queue()
    workers = [
        context.Process(target=_claimer, args=(mode, plans[i], dsn, start, out))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    finished = _collect(workers, out)
    wall = max(f[1] for f in finished) - min(f[0] for f in finished)
    claimed = [i for f in finished for i in f[2]]
    _undo_claims(claimed)
    return {
        "claims": len(claimed),
        "wall_s": wall,
        "per_s": len(claimed) / wall,
        "distinct": len(set(claimed)) == len(claimed) and 0 not in claimed,
        "latencies_ms": [ms for f in finished for ms in f[3]],
    }


# Of the open threads a claimer's teams hold, a batch takes at most this share: claim next
# never runs dry (a team of a 10k seed in 20 teams has ~150 open threads).
REACH_USED = 0.8


def reach(agent: Agent) -> int:
    """How many open threads claim next may give `agent`: their teams' (all the brand's
    when they are in no team), none offered to someone else."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM inbox_thread WHERE brand_id = %(brand)s AND status = 'open'"
            " AND (offered_to_id IS NULL OR offered_to_id = %(agent)s)"
            " AND (NOT EXISTS (SELECT FROM inbox_team_members WHERE agent_id = %(agent)s)"
            "      OR team_id IN (SELECT team_id FROM inbox_team_members"
            "                     WHERE agent_id = %(agent)s))",
            {"brand": agent.brand_id, "agent": agent.id},
        )
        return cursor.fetchone()[0]


def plans(agents: list[Agent], processes: int, claims: int, cap: int) -> list[Plan]:
    """`claims` split over `processes`, as [(agent id, claims)] each.

    cap 0: one agent a process (the first `processes`), each claiming its share, however
    many that is (the brand's BENCH_CAP lets them). cap N: as agents hold threads under
    their cap, each agent claims at most N, and each process takes agents of its own in
    turn (process i: agents i, i + processes, ...) until its share is claimed.
    Either way a team gives at most REACH_USED of the open threads its agents may claim
    (so the batch may be smaller than asked: the table says)."""
    even = [claims // processes + (i < claims % processes) for i in range(processes)]
    budget: dict[int, int] = {}  # reach(agent) is their teams' open threads: one per team here
    teams = _team_keys([a.id for a in agents])
    out: list[Plan] = []
    for i, share in enumerate(even):
        plan, mine = [], agents[i::processes] if cap else agents[i : i + 1]
        for agent in mine:
            if share <= 0:
                break
            key = teams.get(agent.id, 0)
            if key not in budget:
                budget[key] = int(reach(agent) * REACH_USED)
            n = min(share, budget[key], cap or share)
            if n > 0:
                plan.append((agent.id, n))
                budget[key] -= n
                share -= n
        out.append(plan)
    return out


def _count(split: list[Plan]) -> int:
    return sum(count for plan in split for _, count in plan)


def _team_keys(agent_ids: list[int]) -> dict[int, int]:
    """{agent id: the smallest id of their teams} (agents in no team: absent)."""
    from inbox.models import Team

    keys: dict[int, int] = {}
    for agent_id, team_id in Team.members.through.objects.filter(
        agent_id__in=agent_ids
    ).values_list("agent_id", "team_id"):
        keys[agent_id] = min(keys.get(agent_id, team_id), team_id)
    return keys


def claim_cost(plan: Plan, mode: str, dsn: str) -> dict[str, Any]:
    """One connection, no contention: what one claim costs this process and the database
    (the plan's agents in turn, as in claim_run)."""
    from django.db import connection

    from inbox import actions

    turns = _turns(plan)
    n = len(turns)
    clock, claimed = common.SqlClock(), []
    raw = None
    if mode == "raw":
        import psycopg

        raw = psycopg.connect(dsn, autocommit=True)
        backend = raw.info.backend_pid
    else:
        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
    server = common.backend_cpu(backend, dsn)
    watch = stats.Stopwatch()
    with connection.execute_wrapper(clock):
        for agent in turns:
            if raw is None:
                claimed.append(actions.do_claim_next(agent=agent).id)
                continue
            with raw.transaction():
                found = raw.execute(RAW_SELECT, {"brand": agent.brand_id, "agent": agent.id})
                thread_id = found.fetchone()[0]
                raw.execute(RAW_UPDATE, {"agent": agent.id, "id": thread_id})
            claimed.append(thread_id)
    watch.stop()
    server = common.backend_cpu(backend, dsn) - server
    if raw is not None:
        raw.close()
    _undo_claims(claimed)
    return {
        "ms": watch.ms / n,
        "cpu_ms": watch.cpu_ms / n,
        "server_cpu_ms": server * 1000 / n,  # 0 when PostgreSQL is on another machine
        "sql_statements": clock.count / n if raw is None else 2,
        "sql_ms": clock.seconds * 1000 / n if raw is None else None,
    }


def _undo_claims(claimed: list[int]) -> None:
    """Claimed threads back to open, their events gone, the table vacuumed: the next run
    finds the same queue."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_thread SET status = 'open', claimed_by_id = NULL, "
            "claim_expires_at = NULL WHERE id = ANY(%s)",
            [[i for i in claimed if i]],
        )
        # Events are append-only (migration 0020): the bench's own database is reset by
        # its owner, with the trigger off for this one statement.
        cursor.execute("ALTER TABLE inbox_event DISABLE TRIGGER inbox_event_append_only")
        cursor.execute("DELETE FROM inbox_event WHERE verb = 'claimed'")
        cursor.execute("ALTER TABLE inbox_event ENABLE TRIGGER inbox_event_append_only")
    vacuum_analyze("inbox_thread", "inbox_event")


def bench_claims(
    agents: list[Agent], levels: list[int], claims: int, dsn: str, rounds: int, cap: int
) -> dict[str, Any]:
    """Claim next against raw SKIP LOCKED, interleaved (common.interleaved): `rounds`
    rounds, each one batch of each, the order alternating, so the shared machine's load
    falls on both alike; the ratio is each round's own, their median reported."""
    one = plans(agents, 1, min(claims, 200), cap)[0]
    n = _count([one])
    results: dict[str, Any] = {}
    costs = common.interleaved(
        rounds,
        lambda mode: claim_cost(one, mode, dsn),
        ("raw", "action"),  # a time: raw's over the action's is the action's rate over raw's
        rate="ms",
        label=f"one connection, {n} claims, ms a claim",
    )
    for mode in ("action", "raw"):
        runs = costs[mode]
        results[f"one connection, {mode}"] = {
            key: statistics.median(run[key] for run in runs)
            for key in ("ms", "cpu_ms", "server_cpu_ms")
        } | {"claims": n, "sql_statements": runs[0]["sql_statements"], "sql_ms": runs[0]["sql_ms"]}
    results["one connection, ratio"] = _ratios(costs["ratios"])
    for processes in levels:
        split = plans(agents, processes, claims, cap)
        runs = common.interleaved(
            rounds,
            lambda mode, split=split: claim_run(mode, split, dsn),
            label=f"claim next, {processes} processes, {_count(split)} claims,"
            f" {sum(len(p) for p in split)} agents, claims/s",
        )
        for mode in ("action", "raw"):
            done = runs[mode]
            latencies = [ms for run in done for ms in run["latencies_ms"]]
            results[f"{mode}@{processes}"] = {
                "claims": done[0]["claims"],
                "per_s": statistics.median(run["per_s"] for run in done),
                "per_s_each": [round(run["per_s"], 1) for run in done],
                "latency_ms": stats.percentiles(latencies),
                "distinct": all(run["distinct"] for run in done),
            }
        results[f"plan@{processes}"] = {
            "agents": sum(len(plan) for plan in split),
            "most_by_one": max((count for plan in split for _, count in plan), default=0),
        }
        results[f"ratio@{processes}"] = _ratios(runs["ratios"]) | {
            "load_average": runs["load_average"]
        }
    return results


def _ratios(ratios: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(ratios),
        "each": [round(x, 2) for x in ratios],
        "distinct": True,  # main()'s check reads every entry
    }


def add_routing(brand: Brand, agents: list[Agent], teams: int, total_agents: int) -> list[Agent]:
    """The issue's shape: `teams` teams and `total_agents` agents (the seed's first,
    claimers, among them), agent n in team n mod `teams`, thread n in team n mod `teams`.
    Done once per database (kept by --keep-database: a reuse finds it done)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from agents.models import Agent, AgentState
    from inbox.models import Team

    if Team.objects.filter(brand=brand).count() == teams:
        return list(Agent.objects.filter(brand=brand).order_by("id"))
    watch = stats.Stopwatch()
    made = [Team.objects.create(brand=brand, name=f"Team {n}") for n in range(teams)]
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"agent{n}", password=unusable)
        for n in range(len(agents) + 1, total_agents + 1)
    )
    now = timezone.now()
    Agent.objects.bulk_create(
        Agent(
            user=user,
            brand=brand,
            employee_id=f"E-{n:04d}",
            name=f"Agent {n}",
            x_handle=f"agent{n}_x",
            initials="AB",
            credit_code=f"AB{n}",
            state=AgentState.ACTIVE,
            approved_at=now,
        )
        for n, user in enumerate(users, start=len(agents) + 1)
    )
    everyone = list(Agent.objects.filter(brand=brand).order_by("id"))
    Team.members.through.objects.bulk_create(
        Team.members.through(team_id=made[n % teams].id, agent_id=a.id)
        for n, a in enumerate(everyone)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_thread t SET team_id = (%s::bigint[])[1 + t.id %% %s]"
            " WHERE brand_id = %s",
            [[team.id for team in made], teams, brand.id],
        )
    vacuum_analyze()
    common.log(
        f"  {teams} teams, {len(everyone)} agents, every thread in a team ({watch.seconds:.0f} s)"
    )
    return everyone


# --- send -> posted ----------------------------------------------------------------------------


def customers_tweet(count: int) -> None:
    from twelp.xsandbox import actions
    from twelp.xsandbox.seed import brand_account, seed

    world = seed()
    brand = brand_account()
    for n in range(count):
        author = world.customers[n % len(world.customers)]
        actions.post_tweet(author, f"@{brand.username} my order #{4_000_000 + n} is late, help?")


def bench_sends(
    brand: Brand, agent: Agent, count: int, env: dict[str, str], port: int
) -> dict[str, Any]:
    from django.db import connections

    from inbox import actions
    from inbox.ingest import poll
    from inbox.models import Reply, Source

    source = Source.objects.get(brand=brand, kind=Source.Kind.MENTIONS)
    customers_tweet(count)
    connections.close_all()
    with common.sandbox_server(port, env), common.celery_worker(env):
        poll = poll.poll(source.id)
        threads = sorted(poll.new_thread_ids)
        observed, recorded, calls = [], [], []
        for n, thread_id in enumerate(threads):
            actions.do_claim(thread_id, agent=agent)
            watch = stats.Stopwatch()
            reply = actions.do_send_reply(
                thread_id, agent=agent, text=f"@{brand.handle} We are on it, sorry! ({n})"
            )
            calls.append(watch.ms)
            while not Reply.objects.filter(id=reply.id, status="posted").exists():
                if watch.seconds > 30:
                    raise RuntimeError(f"reply {reply.id} not posted in 30 s")
                time.sleep(0.002)
            observed.append(watch.ms)
            reply.refresh_from_db()
            recorded.append((reply.posted_at - reply.created_at).total_seconds() * 1000)
    return {
        "sends": len(threads),
        "observed_ms": stats.summary(observed),
        "send_call_ms": stats.summary(calls),
        "row_posted_minus_created_ms": stats.summary(recorded),
        "at_sandbox": _brand_replies(),
    }


def _brand_replies() -> int:
    from twelp.xsandbox.models import Tweet
    from twelp.xsandbox.seed import brand_account

    return Tweet.objects.filter(author=brand_account(), in_reply_to_tweet_id__isnull=False).count()


# --- the poller's lookup, at this size ----------------------------------------------------------


def conversation_lookup(brand: Brand, n: int = 20) -> dict[str, Any]:
    """store.threads_for's first query for a page of 80 conversations: every status, so
    the partial unique index (live threads only) cannot serve it."""
    from django.db import connection

    from inbox.models import Channel, Thread

    rng = random.Random(9)
    times = []
    for _ in range(n):
        wanted = [CONVERSATION_BASE + 3 * rng.randrange(1, 1000) for _ in range(80)]
        rows = Thread.objects.filter(
            brand=brand, channel=Channel.TWEET, conversation_id__in=wanted
        ).order_by("-created_at")
        times.append(stats.time_ms(lambda rows=rows: list(rows))[1])
    with connection.cursor() as cursor:
        sql, params = rows.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " / ".join(line[0].strip() for line in cursor.fetchall()[:3])
    return {"ms": stats.summary(times), "plan": plan}


# --- one size ------------------------------------------------------------------------------------


def set_cap(claimers: list[Agent], cap: int) -> None:
    """The claimers' own cap: `cap`, or (0) the brand's."""
    from agents.models import Agent

    Agent.objects.filter(id__in=[a.id for a in claimers]).update(max_held=cap or None)


def claimer_cap(args: argparse.Namespace) -> int:
    """The claimers' cap (--cap): given, else the product's default with --claimers new,
    else 0 (the seeded agents claim under the brand's BENCH_CAP)."""
    if args.cap is not None:
        return args.cap
    if args.claimers != "new":
        return 0
    from inbox.models import Brand

    return Brand._meta.get_field("max_held").default


def run_size(size: int, args: argparse.Namespace, env: dict[str, str]) -> dict:
    from django.db import connections

    from inbox.models import Brand, Source

    common.log(f"== {size:,} threads")
    common.flush_redis(args.redis_url)
    if args.reuse_database and _seeded(args.database_url, size):
        brand, source, agents = _reuse()
    else:
        common.fresh_database(args.database_url)
        brand = Brand.objects.create(
            name="Twelp Demo",
            handle=common.BRAND_HANDLE,
            x_user_id=common.BRAND_X_USER_ID,
            max_held=BENCH_CAP,  # the seed gives each agent many claims: no cap here
        )
        source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
        agents = create_agents(brand, AGENTS)
        seed(size, brand, source, agents)
    result: dict[str, object] = {"size": size, "tables": table_sizes(), "rows": table_rows()}
    result["load_average"] = common.load_average()  # this machine is shared: how busy it was
    if "views" in args.parts:
        common.log("  views")
        result["views"] = bench_views(brand, agents[-1], args.requests)
    if "probe" in args.parts:
        result["conversation_lookup"] = conversation_lookup(brand)
    if args.teams:
        from inbox.models import Team, Thread

        agents = add_routing(brand, agents, args.teams, args.agents)
        result["routing"] = {
            "teams": Team.objects.filter(brand=brand).count(),
            "agents": len(agents),
            "threads_in_no_team": Thread.objects.filter(team__isnull=True).count(),
        }
    if "claims" in args.parts:
        # The seeded agents hold the seed's claimed threads (2% of them: 2,000 each at 1M,
        # which the cap's count reads on every claim); with --teams, --claimers new takes
        # agents added for the teams, who hold nothing at the start, and with --cap N
        # each of them claims at most N in a batch, under a cap of N (their max_held).
        claimers = agents[AGENTS:] if args.claimers == "new" else agents
        cap = claimer_cap(args)
        set_cap(claimers, cap)
        result["claimers"], result["cap"] = args.claimers, cap
        result["claims"] = bench_claims(
            claimers, args.concurrency, args.claims, args.database_url, args.rounds, cap
        )
    if args.sends and "sends" in args.parts:
        common.log(f"  send -> posted, {args.sends} replies")
        result["sends"] = bench_sends(brand, agents[-1], args.sends, env, args.port)
    connections.close_all()
    if not args.keep_database:
        common.drop_database(args.database_url)
    return result


def _seeded(db_url: str, size: int) -> bool:
    """Whether the database holds exactly this size's seeded threads (and nothing sent)."""
    import psycopg

    try:
        with psycopg.connect(db_url) as conn:
            return conn.execute("SELECT count(*) FROM inbox_thread").fetchone()[0] == size
    except psycopg.Error:
        return False


def _reuse() -> tuple[Brand, Source, list[Agent]]:
    """A database kept by --keep-database: migrate it (new indexes), vacuum, go on."""
    from django.core.management import call_command

    from agents.models import Agent
    from inbox.models import Brand, Source

    common.log("  reusing the seeded database: migrate, VACUUM ANALYZE")
    call_command("migrate", verbosity=0, interactive=False)
    vacuum_analyze()
    brand = Brand.objects.get(handle=common.BRAND_HANDLE)
    source = Source.objects.get(brand=brand, kind=Source.Kind.MENTIONS)
    return brand, source, list(Agent.objects.filter(brand=brand).order_by("id"))


# --- report --------------------------------------------------------------------------------------


def report(results: list[dict]) -> None:
    print("\n## Views (Django test Client in-process; ms: median / p95; SQL statements)")
    head = "| threads | request | n | server ms | in SQL ms | SQL stmts | bytes |"
    print(head + "\n|" + "---|" * (head.count("|") - 1))
    for r in results:
        for name, v in r.get("views", {}).items():
            sql = v.get("sql_ms")
            sql_text = f"{sql['median']:.1f} / {sql['p95']:.1f}" if sql else "-"
            print(
                f"| {r['size']:,} | {name} | {v['ms']['n']} | {v['ms']['median']:.2f} / "
                f"{v['ms']['p95']:.2f} | {sql_text} | {v['queries']} | {v.get('bytes', 0):,} |"
            )
    print(
        "\n## Claim next against raw SKIP LOCKED, interleaved (claims/s: median of the rounds;"
        " latency ms p50 / p95 over every claim; ratio: median of each round's own)"
    )
    for r in results:
        if "claims" in r:
            cap = r.get("cap")
            who = f"cap {cap}, each claimer claims at most {cap}" if cap else "one a process"
            print(f"{r['size']:,} threads: claimers {r.get('claimers')}, {who}")
    head = (
        "| threads | processes | claims a batch | action/s | raw SQL/s | action p50 / p95 ms "
        "| raw p50 / p95 ms | action / raw (median) | each round | once each |"
    )
    print(head + "\n|" + "---|" * (head.count("|") - 1))
    for r in results:
        for level in sorted({int(k.split("@")[1]) for k in r.get("claims", {}) if "@" in k}):
            action, raw = r["claims"][f"action@{level}"], r["claims"][f"raw@{level}"]
            ratio = r["claims"][f"ratio@{level}"]
            print(
                f"| {r['size']:,} | {level} | {action['claims']:,} | {action['per_s']:,.0f} "
                f"| {raw['per_s']:,.0f} "
                f"| {action['latency_ms']['p50']:.2f} / {action['latency_ms']['p95']:.2f} "
                f"| {raw['latency_ms']['p50']:.2f} / {raw['latency_ms']['p95']:.2f} "
                f"| **{ratio['median']:.2f}** | {ratio['each']} "
                f"| {action['distinct'] and raw['distinct']} |"
            )
    print("\n## One claim, one connection (ms of wall / CPU of this process; SQL statements)")
    for r in results:
        for name, cost in r.get("claims", {}).items():
            if name == "one connection, ratio":
                print(f"- {r['size']:,} threads, raw ms / action ms: {cost['each']}")
            elif "@" not in name:
                print(
                    f"- {r['size']:,} threads, {name} ({cost['claims']} claims): "
                    f"{cost['ms']:.2f} ms, CPU {cost['cpu_ms']:.2f} ms"
                    f" (its PostgreSQL backend's {cost.get('server_cpu_ms', 0):.2f} ms),"
                    f" {cost['sql_statements']:.0f} statements"
                    + (f" taking {cost['sql_ms']:.2f} ms" if cost["sql_ms"] else "")
                )
    print("\n## Send -> posted (live Celery worker, sandbox over HTTP; ms: p50 / p95)")
    head = (
        "| threads | sends | send -> row posted (observed) | of which do_send_reply "
        "| row posted_at - created_at |"
    )
    print(head + "\n|" + "---|" * (head.count("|") - 1))
    for r in results:
        if "sends" in r:
            s = r["sends"]
            cells = [s[k] for k in ("observed_ms", "send_call_ms", "row_posted_minus_created_ms")]
            print(
                f"| {r['size']:,} | {s['sends']} | "
                + " | ".join(f"{c['median']:.1f} / {c['p95']:.1f}" for c in cells)
                + " |"
            )
    print("\n## Probe: the poller's conversation lookup (80 conversations; ms median / p95)")
    for r in results:
        if "conversation_lookup" not in r:
            continue
        probe = r["conversation_lookup"]
        print(
            f"- {r['size']:,} threads: {probe['ms']['median']:.2f} / {probe['ms']['p95']:.2f} ms;"
            f" plan: {probe['plan']}"
        )
    for r in results:
        print(f"\n{r['size']:,} threads, table sizes: {r['tables']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=60, help="Timed requests per view.")
    parser.add_argument("--claims", type=int, default=2000, help="Claims per claim-next run.")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument(
        "--rounds", type=int, default=5, help="Claim-next rounds (one batch each, alternating)."
    )
    parser.add_argument("--teams", type=int, default=0, help="Teams (0: none), e.g. 20.")
    parser.add_argument("--agents", type=int, default=AGENTS, help="Agents with --teams.")
    parser.add_argument(
        "--claimers",
        choices=("seeded", "new"),
        default="seeded",
        help="Who claims: the seeded agents (holding 2%% of the threads between them) or,"
        " with --teams, agents added for the teams (holding none at the start).",
    )
    parser.add_argument(
        "--cap",
        type=int,
        default=None,
        help="With --claimers new: each claimer's cap (max_held), and the most one claims in a"
        " batch; each process then takes its claimers in turn. Default: the product's"
        " default cap (Brand.max_held). 0: one claimer a process, claiming its whole share"
        " under the seed's cap (BENCH_CAP), as before 2026-12-04.",
    )
    parser.add_argument("--sends", type=int, default=50, help="Replies sent (0: skip).")
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_queue"))
    parser.add_argument("--redis-url", default=common.redis_url(12), help="A db it may flush.")
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="Skip seeding when the database already holds this size (kept with "
        "--keep-database; migrated first). Only for one size at a time.",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="What to measure (default: all), e.g. --parts claims.",
    )
    args = parser.parse_args()
    if max(args.concurrency) > AGENTS:
        parser.error(f"at most {AGENTS} processes (one agent each)")
    if args.claimers == "new" and (not args.teams or args.agents < AGENTS + max(args.concurrency)):
        parser.error("--claimers new needs --teams and --agents past the seeded ones")
    if args.cap is not None and not 0 <= args.cap <= 32767:
        parser.error("--cap is a number of threads from 0 to 32767 (Agent.max_held)")
    if args.cap and args.claimers != "new":
        parser.error("--cap needs --claimers new (the seeded agents hold the seed's claims)")
    args.port = common.free_port()
    env = common.configure(args.database_url, args.redis_url, sandbox_port=args.port)
    common.setup_django()
    machine = common.machine()
    common.log(f"machine: {machine}")
    results = [run_size(size, args, env) for size in args.sizes]
    report(results)
    common.write_json(args.json, {"machine": machine, "results": results})
    claims_ok = all(
        run.get("distinct", True) for r in results for run in r.get("claims", {}).values()
    )
    sends_ok = all(r["sends"]["at_sandbox"] == r["sends"]["sends"] for r in results if "sends" in r)
    if not (claims_ok and sends_ok):
        raise SystemExit("a check failed: a thread claimed twice, or a reply not at the sandbox")


if __name__ == "__main__":
    main()
