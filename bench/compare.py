"""Twelp side by side with django-helpdesk at the same N, in one run (issue 9, part 3).

    python -m bench.compare                          # 10,000 and 100,000 (~15 min)
    python -m bench.compare --sizes 1000000          # 1M: ~35 min (the peer seeds for
                                                     # ~12 min; 5 requests per page, its
                                                     # dashboard takes ~30 s each)
    python -m bench.compare --sizes 1000 --requests 10 --no-peer   # Twelp only, a look

For each N, one after the other on the same machine:

1. Twelp, on a fresh database of its own (default twelp_bench_compare, dropped and created
   here; Redis db 9, flushed): bench.dashboard's seeding (a year of history with
   django-helpdesk's status mix, 50 agents and a supervisor, every Event and its rollup
   rows), plus two more messages per thread so a thread has three, as a peer ticket has
   three follow-ups (the brand's answer where one was posted, else the customer again;
   then the customer). VACUUM ANALYZE.
2. The peer: django-helpdesk's own scripts in ../shared/peers/helpdesk beside the
   repository ($TWELP_HELPDESK_DIR overrides it), unchanged: setup.sh (its venv, its
   PostgreSQL 15 cluster on $PGPORT, default 55432), seed.py with N (N tickets, 3 follow-ups
   each), measure.py in `client` mode with the same request count. Its cluster is stopped
   at the end (stop.sh, by the postmaster's PID).

Both are measured the same way: in-process django.test.Client logged in (Twelp: an agent
for the queue and the thread, the supervisor for the dashboard; the peer: staff user
agent001), 3 warm-up requests, then --requests timed requests per page; median and p95
(interpolated, as measure.py computes them); SQL statements and their time for one
request (CaptureQueriesContext). Twelp's requests are taken in two rounds of half each,
one before the peer runs and one after, so they span the same stretch of a shared
machine's load as the peer's (the table pools them; each round's median is kept). The
pairs:

- list: Twelp's queue, first page (`GET /`, 50 rows in the HTML) vs the peer's ticket list,
  which is an empty HTML page plus the DataTables JSON call that fills its first 25 rows:
  a user needs both to see rows, so the peer's list is the sum of the two (medians summed,
  p95s summed).
- thread: `GET /t/<id>/` vs `GET /helpdesk/tickets/<id>/`, a random one per request.
- dashboard: the supervisors' `GET /sup/` (the full page) vs `GET /helpdesk/dashboard/`.

Twelp renders the queue's first page and the dashboard's figures once per queue version
and shares them (inbox.live.fragments), so a request with nothing new since the last render
reads no rows. "after a change" rows make a real change before each request (untimed): a
colleague claims a thread of the open queue's first page through inbox.actions, and
releases it before the next request, in turn (`Change`); the action commits and bumps the
queue version naming its thread, as every transition does. Each such request is the
first viewer's after a change.

With `--push`, Twelp's push process runs beside it (`uvicorn twelp.asgi:application`, as
docker-compose runs it, on the same database and Redis) and two more rows are measured:
"after a change, pushed". A tab of the page is open on its push stream (`Stream`: the queue
as the agent, the dashboard as the supervisor), as every agent's and supervisor's open tab
is in production; after each change the request waits (untimed) until that stream has
delivered the change, i.e. until the push process has rendered the page's live part once
for every viewer of the brand into the shared fragments, then loads the page. That is
what a page load costs after a change on a day with the page open anywhere in the brand
(at 700 agents, always). The push process's own CPU per change (both views rendered) is
reported beside it: the render did not vanish, it is done once for every viewer. The
streams are open only for these rows, so the other rows' first viewer renders alone.

The table gives each side's median / p95, statements, and the ratio of medians
(peer / Twelp). Targets (issue 9): list >= 50x, dashboard >= 100x, flat as N grows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench import common, stats
from bench import dashboard as history
from tests import processes

PEER = common.helpdesk_dir()
WARMUP = 3
PAGES = ("list", "thread", "dashboard")

# --- Twelp ---------------------------------------------------------------------------------------


def seed_twelp(size: int, args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    from inbox import rollups
    from inbox.models import Message

    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    watch = stats.Stopwatch()
    brand, sources, agents, supervisor = history.seed_people()
    counts = history.seed_history(size, brand, sources, agents, messages_per_thread=3)
    counts["messages"] = Message.objects.count()  # what the database holds
    rollups.compact()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_database_size(current_database())")
        db_mb = cursor.fetchone()[0] / 2**20
    seconds = watch.seconds
    common.log(f"  Twelp seeded {dict(counts)} in {seconds:.0f} s, {db_mb:,.0f} MB")
    return {
        "brand": brand,
        "agent": agents[0],
        "colleague": agents[1],  # who claims and releases in "after a change" (Change)
        "supervisor": supervisor,
        "seed": dict(counts) | {"seconds": round(seconds), "db_mb": round(db_mb)},
    }


def timed(
    client: Any, url: Any, requests: int, before: Any = None
) -> tuple[list[float], list[float]]:
    """`url()` WARMUP times untimed, then `requests` times timed (`before()`, if given,
    runs untimed before each); every answer must be 200. Wall ms, and CPU ms of this
    process (what the machine's load does not inflate; PostgreSQL's and Redis's excluded)."""
    for _ in range(WARMUP):
        assert client.get(url()).status_code == 200
    ms, cpu = [], []
    for _ in range(requests):
        path = url()
        if before:
            before()
        with stats.Stopwatch() as watch:
            response = client.get(path)
            _ = response.content
        ms.append(watch.ms)
        cpu.append(watch.cpu_ms)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
    return ms, cpu


def statements(client: Any, url: str, before: Any = None) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if before:
        before()
    else:
        client.get(url)  # what a repeated request costs
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return {
        "queries": len(captured.captured_queries),
        "sql_ms": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 1),
    }


class Change:
    """A real change of a named thread, through the app's own actions: a colleague claims
    a thread of the open queue's first page (it leaves it, the next one comes up), then
    releases it (it comes back), one at each call. Each commits, writes its Event and
    rollups, and bumps the queue version naming the thread (inbox.live.version). The
    rollups' delta rows are folded every COMPACT_SECONDS, as the beat does in production
    (settings' compact-rollups): without it the dashboard's windows read sums every delta
    row of the run (25 ms after ~700 changes)."""

    COMPACT_SECONDS = 10.0

    def __init__(self, brand: Any, colleague: Any, rnd: random.Random) -> None:
        self.brand, self.colleague, self.rnd = brand, colleague, rnd
        self.held: int | None = None
        self.compacted = time.monotonic()

    def __call__(self) -> None:
        from inbox import actions, queries, rollups
        from inbox.models import Thread, ThreadStatus

        if time.monotonic() - self.compacted >= self.COMPACT_SECONDS:
            rollups.compact()
            self.compacted = time.monotonic()

        if self.held is not None:
            actions.do_release(self.held, agent=self.colleague)
            self.held = None
            return
        first = Thread.objects.filter(brand=self.brand, status=ThreadStatus.OPEN, x_hidden="")
        ids = list(first.order_by(*queries.QUEUE_ORDER).values_list("id", flat=True)[:50])
        self.held = self.rnd.choice(ids)
        actions.do_claim(self.held, agent=self.colleague)


class Stream:
    """An open tab's push stream (`GET /push/events/?view=<view>`), read by a thread of this
    process as the page's EventSource reads it. `wait(change_id)` blocks until the stream
    has delivered a state at or after that change: the push process has rendered it into
    the shared fragments (inbox.live.fragments) a page load then reads."""

    def __init__(self, url: str, session: str, view: str) -> None:
        import httpx

        self.newest: tuple[int, int] = (0, 0)
        self.error: BaseException | None = None
        self.changed = threading.Condition()
        self.client = httpx.Client(
            base_url=url,
            headers={"Cookie": f"sessionid={session}", "Accept": "text/event-stream"},
            timeout=httpx.Timeout(10.0, read=None),
        )
        self.reader = threading.Thread(target=self._read, args=(view,), daemon=True)
        self.reader.start()

    def _read(self, view: str) -> None:
        from inbox.live.hub import parse_id

        try:
            with self.client.stream("GET", f"/push/events/?view={view}") as response:
                if response.status_code != 200:
                    raise RuntimeError(f"push stream {view}: {response.status_code}")
                # An event counts once all of it is read (its blank line), so a timed
                # request never shares this process with the reading of its data.
                pending = b""
                for chunk in response.iter_raw():
                    *events, pending = (pending + chunk).split(b"\n\n")
                    ids = [
                        parse_id(line[4:].decode())
                        for event in events
                        for line in event.split(b"\n")
                        if line.startswith(b"id: ")
                    ]
                    found = max((i for i in ids if i), default=None)
                    if found:
                        with self.changed:
                            self.newest = max(self.newest, found)
                            self.changed.notify_all()
        except BaseException as error:  # the stream ended: any wait fails loudly
            with self.changed:
                self.error = error
                self.changed.notify_all()

    def wait(self, change_id: str, timeout: float = 10.0) -> None:
        from inbox.live.hub import parse_id

        target = parse_id(change_id) or (0, 0)
        with self.changed:
            done = self.changed.wait_for(
                lambda: self.newest >= target or self.error is not None, timeout
            )
        if self.error is not None or not done:
            raise RuntimeError(f"the push stream did not deliver {change_id}: {self.error}")

    def close(self) -> None:
        self.client.close()
        self.reader.join(5)


class Pushed:
    """A change (`Change`), then the wait until the page's open stream has it (untimed)."""

    def __init__(self, change: Change, brand_id: int, view: str) -> None:
        self.change, self.brand_id, self.view = change, brand_id, view
        self.stream: Stream | None = None  # open only for the rows that use it (round)
        self.changes = 0

    def __call__(self) -> None:
        from inbox.live import version

        self.change()
        self.changes += 1
        assert self.stream is not None
        self.stream.wait(version.newest(self.brand_id))


class TwelpPages:
    """Twelp's pages, measured in rounds (one before the peer runs, one after, so Twelp's
    samples span the same stretch of a shared machine's load as the peer's do)."""

    def __init__(
        self, seeded: dict[str, Any], requests: int, push: processes.Process | None = None
    ) -> None:
        from django.test import Client

        from inbox.models import Thread

        agent, boss = Client(), Client()
        common.sign_in(agent, seeded["agent"].user)
        common.sign_in(boss, seeded["supervisor"].user)
        rnd = random.Random(7)
        ids = list(
            Thread.objects.filter(brand=seeded["brand"])
            .order_by("?")
            .values_list("id", flat=True)[: max(requests * 4, 200)]
        )

        bump = Change(seeded["brand"], seeded["colleague"], rnd)
        self.pages: dict[str, tuple[Any, Any, Any]] = {
            "list": (agent, lambda: "/", None),
            "thread": (agent, lambda: f"/t/{rnd.choice(ids)}/", None),
            "dashboard": (boss, lambda: "/sup/", None),
            "list_changed": (agent, lambda: "/", bump),
            "dashboard_changed": (boss, lambda: "/sup/", bump),
        }
        self.push = push
        self.pushed: dict[str, tuple[Any, Pushed]] = {}
        if push is not None:
            brand_id = seeded["brand"].id
            self.pushed = {
                "list_pushed": (agent, Pushed(bump, brand_id, "queue")),
                "dashboard_pushed": (boss, Pushed(bump, brand_id, "dashboard")),
            }
            for name, (client, pushed) in self.pushed.items():
                url = "/" if pushed.view == "queue" else "/sup/"
                self.pages[name] = (client, lambda url=url: url, pushed)
        self.push_cpu: dict[str, list[float]] = {name: [] for name in self.pushed}
        self.samples: dict[str, list[list[float]]] = {name: [] for name in self.pages}
        self.cpu: dict[str, list[float]] = {name: [] for name in self.pages}
        self.loads: list[str] = []
        with self.streams():
            self.queries = {
                name: statements(client, url(), before)
                for name, (client, url, before) in self.pages.items()
            }

    @contextlib.contextmanager
    def streams(self) -> Any:
        """The pushed rows' tabs open on their streams, for as long as they are measured."""
        for client, pushed in self.pushed.values():
            assert self.push is not None
            pushed.stream = Stream(self.push.url, client.cookies["sessionid"].value, pushed.view)
        try:
            yield
        finally:
            for _, pushed in self.pushed.values():
                if pushed.stream is not None:
                    pushed.stream.close()
                    pushed.stream = None

    def round(self, requests: int) -> None:
        self.loads.append(common.load_average())
        for name, (client, url, before) in self.pages.items():
            if name in self.pushed:
                continue
            ms, cpu = timed(client, url, requests, before)
            self.samples[name].append(ms)
            self.cpu[name] += cpu
        with self.streams():
            for name, (client, pushed) in self.pushed.items():
                assert self.push is not None
                cpu_before, changes = common.process_tree_cpu(self.push.pid), pushed.changes
                ms, cpu = timed(client, self.pages[name][1], requests, pushed)
                spent = common.process_tree_cpu(self.push.pid) - cpu_before
                self.push_cpu[name].append(1000 * spent / max(pushed.changes - changes, 1))
                self.samples[name].append(ms)
                self.cpu[name] += cpu

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"load_average": self.loads}
        for name, rounds in self.samples.items():
            pooled = [ms for one in rounds for ms in one]
            out[name] = stats.peer_summary(pooled) | self.queries[name]
            out[name]["round_medians"] = [stats.median(one, 2) for one in rounds]
            out[name]["cpu_median_ms"] = stats.median(self.cpu[name], 2)
            if name in self.push_cpu:  # the push process's CPU per change, per round
                out[name]["push_cpu_ms_per_change"] = [round(v, 2) for v in self.push_cpu[name]]
            common.log(
                f"  Twelp {name:17s} median {out[name]['median_ms']:7.2f} ms  "
                f"p95 {out[name]['p95_ms']:7.2f} ms  CPU {out[name]['cpu_median_ms']:6.2f} ms  "
                f"{out[name]['queries']} queries  "
                f"(rounds {out[name]['round_medians']})"
            )
        return out


def requests_at(size: int, args: argparse.Namespace) -> int:
    return args.requests or (5 if size >= 1_000_000 else 50)


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connections

    requests = requests_at(size, args)
    common.log(f"== Twelp, {size:,} threads")
    seeded = seed_twelp(size, args)
    with contextlib.ExitStack() as stack:
        push = None
        if args.push:
            env = common.production_env(args.database_url, args.redis_url)
            push = stack.enter_context(common.push_server(common.free_port(), env))
        pages = TwelpPages(seeded, requests, push)
        first = requests // 2
        pages.round(first)
        row: dict[str, Any] = {}
        if not args.no_peer:
            connections.close_all()  # the peer's turn: leave it the machine
            row["peer"] = run_peer(size, args)
        common.log(f"== Twelp, {size:,} threads, second round")
        pages.round(requests - first)
    row["twelp"] = {"size": size, "seed": seeded["seed"]} | pages.result()
    if "peer" in row:
        row["ratios"] = ratios(row)
    return row


# --- the peer ------------------------------------------------------------------------------------


def peer_env(size: int, args: argparse.Namespace) -> dict[str, str]:
    """The peer's own environment: none of Twelp's Django or database variables."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO", "DATABASE", "REDIS", "PG", "PEER_"))
    }
    return keep | {
        "N": str(size),
        "REQUESTS": str(requests_at(size, args)),
        "MEASURE_MODE": "client",
        "PGPORT": str(args.peer_port),
        "OUT_DIR": args.peer_out,
    }


def peer_step(script: str, env: dict[str, str], timeout: int, log_path: Path) -> str:
    """One of the peer's scripts (sh, or a .py run by its venv's python after env.sh)."""
    if script.endswith(".py"):
        command = ["bash", "-c", f'source ./env.sh && exec "$PEER_VENV/bin/python" {script}']
    else:
        command = [f"./{script}"]
    watch = stats.Stopwatch()
    done = processes.run(
        command, cwd=PEER, env=env, capture_output=True, text=True, timeout=timeout
    )
    with log_path.open("a") as log:
        log.write(f"== {script} ({watch.seconds:.0f} s)\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        raise RuntimeError(f"the peer's {script} failed:\n{(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def tagged_json(output: str, tag: str) -> dict[str, Any]:
    found = re.search(rf"^{tag} (.*)$", output, re.MULTILINE)
    if not found:
        raise RuntimeError(f"no {tag} line in the peer's output:\n{output[-2000:]}")
    return json.loads(found.group(1))


def run_peer(size: int, args: argparse.Namespace) -> dict[str, Any]:
    common.log(f"== django-helpdesk, {size:,} tickets")
    env = peer_env(size, args)
    log_path = Path(args.peer_out) / f"compare-N{size}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    watch = stats.Stopwatch()
    peer_step("setup.sh", env, 1800, log_path)
    seed = tagged_json(peer_step("seed.py", env, args.peer_timeout, log_path), "SEED_JSON")
    common.log(f"  peer seeded in {seed['total_s']:.0f} s, {seed['db_mb']:,.0f} MB")
    load = common.load_average()
    data = tagged_json(peer_step("measure.py", env, args.peer_timeout, log_path), "RESULT_JSON")
    client, sql = data["client"], data["queries"]
    html, rows = "ticket_list_html", "ticket_list_data_json"
    out: dict[str, Any] = {
        "size": size,
        "seed": seed,
        "context": data["context"],
        "load_average": load,
        "seconds": round(watch.seconds),
        "list_html": client[html] | sql[html],
        "list_rows_json": client[rows] | sql[rows],
        "thread": client["ticket_view"] | sql["ticket_view"],
        "dashboard": client["dashboard"] | sql["dashboard"],
    }
    # What a user waits for to see rows: the page, then its DataTables call.
    out["list"] = {
        key: round(client[html][key] + client[rows][key], 2) for key in ("median_ms", "p95_ms")
    } | {
        "queries": sql[html]["queries"] + sql[rows]["queries"],
        "sql_ms": round(sql[html]["sql_ms"] + sql[rows]["sql_ms"], 1),
        "n": client[rows]["n"],
    }
    for name in PAGES:
        common.log(
            f"  peer  {name:9s} median {out[name]['median_ms']:9.2f} ms  "
            f"p95 {out[name]['p95_ms']:9.2f} ms  {out[name]['queries']} queries"
        )
    return out


def stop_peer(args: argparse.Namespace) -> None:
    env = peer_env(0, args)
    with contextlib.suppress(subprocess.TimeoutExpired):
        processes.run(["./stop.sh"], cwd=PEER, env=env, capture_output=True, timeout=300)


# --- report --------------------------------------------------------------------------------------


# Twelp's row, the peer's row it is compared with, and the name in the table.
COMPARED = [
    ("list", "list", "queue / ticket list"),
    ("list_changed", "list", "queue after a change / ticket list"),
    ("thread", "thread", "thread / ticket"),
    ("dashboard", "dashboard", "dashboard"),
    ("dashboard_changed", "dashboard", "dashboard after a change / dashboard"),
    ("list_pushed", "list", "queue after a change, pushed / ticket list"),
    ("dashboard_pushed", "dashboard", "dashboard after a change, pushed / dashboard"),
]


def ratios(row: dict[str, Any]) -> dict[str, float]:
    ours, peer = row["twelp"], row.get("peer")
    if not peer:
        return {}
    return {
        name: round(peer[theirs]["median_ms"] / ours[name]["median_ms"], 1)
        for name, theirs, _ in COMPARED
        if name in ours
    }


def report(rows: list[dict[str, Any]]) -> None:
    print()
    head = (
        "| N | page | Twelp median / p95 ms | its CPU ms | SQL | django-helpdesk median / p95 ms "
        "| SQL | ratio (medians) |"
    )
    print(head + "\n|" + "---|" * (head.count("|") - 1))
    for row in rows:
        ours, peer, ratio = row["twelp"], row.get("peer"), ratios(row)
        for name, theirs, label in COMPARED:
            if name not in ours:
                continue
            o = ours[name]
            line = (
                f"| {ours['size']:,} | {label} | {o['median_ms']:.2f} / {o['p95_ms']:.2f} "
                f"| {o['cpu_median_ms']:.2f} | {o['queries']} |"
            )
            if peer:
                p = peer[theirs]
                line += (
                    f" {p['median_ms']:,.1f} / {p['p95_ms']:,.1f} | {p['queries']} "
                    f"| {ratio[name]:,.0f}x |"
                )
            else:
                line += " - | - | - |"
            print(line)
    for row in rows:
        if row.get("peer"):
            p = row["peer"]
            print(
                f"\nN={row['twelp']['size']:,}: the peer's list = HTML "
                f"{p['list_html']['median_ms']:.1f} ms ({p['list_html']['queries']} q) + rows "
                f"JSON {p['list_rows_json']['median_ms']:.1f} ms "
                f"({p['list_rows_json']['queries']} q); load {row['twelp']['load_average']} "
                f"(Twelp) / {p['load_average']} (peer)"
            )
    for row in rows:
        for name in ("list_pushed", "dashboard_pushed"):
            spent = row["twelp"].get(name, {}).get("push_cpu_ms_per_change")
            if spent:
                print(
                    f"N={row['twelp']['size']:,}: {name}: the push process's CPU per change "
                    f"(its render for every viewer, and the stream's write), per round: {spent} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[10_000, 100_000],
        help="Comma-separated N (default 10000,100000; 1000000 takes the peer ~1 h).",
    )
    parser.add_argument(
        "--requests",
        type=int,
        help="Timed requests per page, on both sides (default 50; 5 at 1M and above, where "
        "one peer dashboard takes ~30 s).",
    )
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_compare"))
    parser.add_argument("--redis-url", default=common.redis_url(9), help="A db it may flush.")
    parser.add_argument("--no-peer", action="store_true", help="Measure Twelp only.")
    parser.add_argument("--peer-port", type=int, default=55432, help="The peer's PostgreSQL.")
    parser.add_argument("--peer-timeout", type=int, default=5400, help="Seconds per step.")
    parser.add_argument("--peer-out", default="/tmp/peer-helpdesk-compare")
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--push",
        action="store_true",
        help="Also run the push process and measure the pages after a change with their tab "
        "open on its stream (the 'pushed' rows).",
    )
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
    rows: list[dict[str, Any]] = []
    try:
        for size in args.sizes:
            rows.append(run_size(size, args))
            common.write_json(args.json, {"machine": machine, "results": rows})
    finally:
        if not args.no_peer:
            stop_peer(args)
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            common.drop_database(args.database_url)
    report(rows)


if __name__ == "__main__":
    main()
