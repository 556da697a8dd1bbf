"""X's posting caps, paced: answers posted per hour, waits by priority class, zero 429s.

    python -m bench.budgets [--minutes 17] [--rate 10000] [--handles 1 2] [--shared]
        [--window 900] [--backlog 0] [--log-dir DIR] [--db-prefix twelp_bench_16]

At `--rate` answers an hour (X's real caps: POST /2/tweets 100 per 15 minutes per user,
10,000 per 24 hours per app; no lifted limit) for `--minutes`, with one handle and with
two (the rate split between them). By default each handle is a Twelp deployment of its own
(database, Redis db, one Celery worker with beat, the handle's X credentials in settings).
With --shared (issue 16), the handles are brands of ONE deployment (one database, one
worker): the first posts with the X_ACCESS_* settings (X_ENV_BRAND), the second with OAuth
1.0a keys its admin connected (inbox.configure.credentials, sealed in the database), each paced to
its own budget. Either way all post through tweepy to one X sandbox per configuration.

The driver stands in for agents: every 3600/rate s it claims a new thread and presses Send
(10% of threads already past the SLA target, 10% urgent, the rest calm), as do_send_reply
does for an agent; the thread has no customer tweet, so the answer is a standalone post
(same endpoint, same budget). The outbox paces to X's headers; the sandbox counts every
429 it answers (GET /_sandbox/rate_limits).

Reported per configuration: answers sent and posted, posted in the first 15-minute window
and after it, answers posted per hour (4 x one window's posts per handle, X's steady
state), the wait from Send to posted by class at Send (p50/p90/max; answers still waiting
at the end counted apart), the 429s the sandbox answered, and per handle how soon after
the first window's reset the next window's budget is used (seconds to the 1st, 50th and
100th post after it; `after_reset`). Real time: the sandbox has no clock of its own, so a
run crosses one reset in 17 minutes, unless `--window` shortens the sandbox's posting
window (X's 100 calls per `--window` seconds; bench.budgets_sandbox_settings).
`--backlog N` queues N answers (same class mix) before the first Send, as if that many
were already waiting: the outbox's depth at a reset without the minutes it takes to
build it. `--log-dir` keeps each worker's log and, every 5 s, the depth of its broker
queue and the outbox (queued, sending, posted rows).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import common, stats

REDIS_DB_BASE = 12  # issue 16: 16 mod 16 is 0 (not allowed); 12..14 here
SECOND_HANDLE = ("twelpdemo_eu", 1600000000000000077)
SECOND_TOKEN = f"{SECOND_HANDLE[1]}-bench-second-handle-token"
SECOND_SECRET = "bench-second-handle-secret"  # noqa: S105 - a sandbox-only credential
CLASSES = ("breached", "urgent", "other")
_FERNET_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()  # a Fernet key, this run's


# --- the driver: one deployment's agents (run in a process of its own) -------------------


def drive(args: argparse.Namespace) -> None:
    common.setup_django()
    from inbox import actions
    from inbox.models import Brand, Customer, Reply, Thread
    from tests.helpers import make_agent

    brand = Brand.objects.create(name=args.handle, handle=args.handle, x_user_id=args.x_user_id)
    agent = make_agent(brand, f"benchagent{args.seed}")  # active, credit ^BE
    if args.connect_token:  # --shared: this brand's own credentials, as an admin pastes them
        from agents.models import Role
        from inbox.configure import credentials

        admin = make_agent(brand, f"benchadmin{args.seed}", role=Role.ADMIN, code="ADM")
        credentials.connect_oauth1(
            brand,
            actor=admin,
            access_token=args.connect_token,
            access_token_secret=args.connect_secret,
        )
    rng = random.Random(args.seed)
    sent = _backlog(brand, agent, args.backlog, rng) if args.backlog else {}
    interval = 3600 / args.rate
    started, n = time.monotonic(), 0
    deadline = started + args.minutes * 60
    # A driver that falls behind the rate (a loaded machine) stops at the deadline anyway.
    while (due := started + n * interval) < deadline and time.monotonic() < deadline:
        time.sleep(max(due - time.monotonic(), 0))
        kind = rng.choices(CLASSES, weights=(1, 1, 8))[0]
        now = datetime.now(UTC)
        customer = Customer.objects.create(brand=brand, x_user_id=10**12 + n, handle=f"c{n}")
        thread = Thread.objects.create(
            brand=brand,
            customer=customer,
            conversation_id=10**12 + n,
            priority=60 if kind == "urgent" else rng.randint(0, 30),
            waiting_since=now - timedelta(minutes=20) if kind == "breached" else now,
        )
        actions.do_claim(thread.id, agent=agent)
        text = f"@c{n} Thanks for waiting: answer {n} from {args.handle}"
        reply = actions.do_send_reply(thread.id, agent=agent, text=text)
        sent[reply.id] = kind
        n += 1
    rows = Reply.objects.filter(id__in=sent).values_list("id", "created_at", "posted_at")
    out = [
        {
            "class": sent[reply_id],
            "sent": created.timestamp(),
            "posted": posted.timestamp() if posted else None,
        }
        for reply_id, created, posted in rows
    ]
    Path(args.out).write_text(json.dumps({"started": time.time() - (time.monotonic() - started),
                                          "replies": out}))  # fmt: skip


def _backlog(brand, agent, count: int, rng: random.Random) -> dict[int, str]:
    """`count` answers already waiting in the outbox (queued, no task: the sweep wakes
    them), on answered threads of the same class mix; their ids and classes."""
    from inbox.models import Customer, Reply, Thread, ThreadStatus

    now = datetime.now(UTC)
    kinds = rng.choices(CLASSES, weights=(1, 1, 8), k=count)
    base = 2 * 10**12  # apart from the driver's customers and conversations
    customers = Customer.objects.bulk_create(
        [Customer(brand=brand, x_user_id=base + n, handle=f"b{n}") for n in range(count)]
    )
    threads = Thread.objects.bulk_create(
        [
            Thread(
                brand=brand,
                customer=customer,
                conversation_id=base + n,
                status=ThreadStatus.ANSWERED,
                priority=60 if kind == "urgent" else rng.randint(0, 30),
                waiting_since=now - timedelta(minutes=20) if kind == "breached" else now,
            )
            for n, (customer, kind) in enumerate(zip(customers, kinds, strict=True))
        ]
    )
    rows = Reply.objects.bulk_create(
        [
            Reply(
                thread=thread,
                agent=agent,
                channel=thread.channel,
                text=f"@b{n} Thanks for waiting: backlog answer {n}",
                credit="^BE",
                body=f"@b{n} Thanks for waiting: backlog answer {n} ^BE",
            )
            for n, thread in enumerate(threads)
        ]
    )
    return {row.id: kind for row, kind in zip(rows, kinds, strict=True)}


# --- the orchestrator ---------------------------------------------------------------------


def _env(
    db_url: str, redis_db: int, sandbox_port: int, token: str, secret: str, window: int
) -> dict:
    env = common.production_env(db_url, common.redis_url(redis_db), sandbox_port=sandbox_port)
    env |= {"X_ACCESS_TOKEN": token, "X_ACCESS_TOKEN_SECRET": secret}
    env |= {"XSANDBOX_RATE_LIMITS_ENABLED": "true", "CELERY_QUEUE": f"bench-budgets-{redis_db}"}
    env["BENCH_POST_WINDOW"] = str(window)
    env["TWELP_CREDENTIALS_KEYS"] = _FERNET_KEY  # brands' connected credentials (--shared)
    return {**os.environ, **env}


def _manage(env: dict, *command: str, settings: str = "bench.settings") -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *command],
        env={**env, "DJANGO_SETTINGS_MODULE": settings},
        cwd=common.ROOT,
        check=True,
        capture_output=True,
    )


def _handles(count: int) -> list[tuple[str, int, str, str]]:
    first = (
        common.BRAND_HANDLE,
        common.BRAND_X_USER_ID,
        common.DEMO_CREDENTIALS["X_ACCESS_TOKEN"],
        common.DEMO_CREDENTIALS["X_ACCESS_TOKEN_SECRET"],
    )
    second = (*SECOND_HANDLE, SECOND_TOKEN, SECOND_SECRET)
    return [first, second][:count]


def run(handles: int, args: argparse.Namespace) -> dict:
    """One configuration: `handles` deployments sharing one sandbox."""
    import requests

    sandbox_port = common.free_port()
    accounts = _handles(handles)
    envs = []
    deployments = accounts[:1] if args.shared else accounts
    for i, (handle, _, token, secret) in enumerate(deployments):
        db_url = common.database_url(f"{args.db_prefix}_h{handles}_{i}", args.server)
        if args.database_url and (args.shared or len(deployments) == 1):
            db_url = args.database_url  # one deployment: exactly the database given
        common.recreate_database(db_url)
        redis_db = args.redis_db if args.shared else args.redis_db + handles - 1 + i
        env = _env(db_url, redis_db, sandbox_port, token, secret, args.window)
        env["X_ENV_BRAND"] = handle
        common.flush_redis(env["REDIS_URL"])
        _manage(env, "migrate", "--verbosity", "0")
        envs.append(env)
    sandbox_env = envs[0]  # the sandbox's tables live in the first deployment's database
    _manage(sandbox_env, "xsandbox_seed")
    if handles > 1:
        code = (
            "import django; django.setup();"
            "from twelp.xsandbox import actions;"
            f"actions.create_account({SECOND_HANDLE[0]!r}, 'Twelp EU', kind='brand',"
            f"access_token={SECOND_TOKEN!r}, access_token_secret={SECOND_SECRET!r},"
            " dms_open=True)"
        )
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", code],
            env={**sandbox_env, "DJANGO_SETTINGS_MODULE": "twelp.xsandbox.settings"},
            cwd=common.ROOT,
            check=True,
        )
    from contextlib import ExitStack

    from tests import processes

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-budgets-") as folder:
        sandbox = stack.enter_context(
            common.sandbox_server(sandbox_port, sandbox_env, "bench.budgets_sandbox_settings")
        )
        logs = Path(args.log_dir) if args.log_dir else None
        for i, env in enumerate(envs):
            stack.enter_context(
                processes.celery_worker(
                    env,
                    queue=env["CELERY_QUEUE"],
                    concurrency=args.workers,
                    beat_schedule=Path(folder) / f"beat-{i}",
                    log_path=logs / f"worker-h{handles}-{i}.log" if logs else None,
                )
            )
            if logs:
                stack.enter_context(_depth_log(env, logs / f"depth-h{handles}-{i}.log"))
        common.log(f"{handles} handle(s): sandbox and {len(envs)} worker(s) up; driving")
        rate = args.rate / handles
        drivers = []
        for i, (handle, x_user_id, token, secret) in enumerate(accounts):
            env = envs[0] if args.shared else envs[i]
            out = Path(folder) / f"driver-{i}.json"
            command = [sys.executable, "-m", "bench.budgets", "--drive", "--handle", handle]
            command += ["--x-user-id", str(x_user_id), "--rate", str(rate)]
            command += ["--minutes", str(args.minutes), "--out", str(out), "--seed", str(i)]
            command += ["--backlog", str(args.backlog // handles)]  # split as the rate is
            if args.shared and i > 0:
                command += ["--connect-token", token, "--connect-secret", secret]
            drivers.append((subprocess.Popen(command, env=env, cwd=common.ROOT), out))  # noqa: S603
        results = []
        for popen, out in drivers:
            if popen.wait() != 0:
                raise SystemExit(f"driver failed ({popen.returncode})")
            results.append(json.loads(out.read_text()))
        refused = requests.get(
            f"{sandbox.url}/_sandbox/rate_limits",
            headers={"X-Sandbox-Token": sandbox_env["XSANDBOX_ADMIN_TOKEN"]},
            timeout=10,
        ).json()["refused"]
    for env in envs:
        common.drop_database(env["DATABASE_URL"])
    return summarise(handles, args, results, refused)


@contextmanager
def _depth_log(env: dict, path: Path):
    """Every 5 s, one line: the broker queue's length, the messages the worker holds
    unacknowledged (running, prefetched, or a retry's countdown: kombu's `unacked`), and
    the outbox's rows by status."""
    code = (
        "import django, time, redis, sys; django.setup();"
        "from django.conf import settings; from django.db.models import Count;"
        "from inbox.models import Reply;"
        "r = redis.Redis.from_url(settings.REDIS_URL); q = settings.CELERY_TASK_DEFAULT_QUEUE\n"
        "while True:\n"
        "    by = dict(Reply.objects.values_list('status').annotate(n=Count('id')).order_by())\n"
        "    print(time.strftime('%H:%M:%S'), 'broker', r.llen(q), 'unacked', r.hlen('unacked'),"
        " 'queued', by.get('queued', 0),"
        " 'sending', by.get('sending', 0), 'posted', by.get('posted', 0), flush=True)\n"
        "    time.sleep(5)\n"
    )
    from tests import processes

    probe = processes.start([sys.executable, "-c", code], env=env, name="depth", log_path=path)
    with processes.running(probe):
        yield probe


def summarise(handles: int, args: argparse.Namespace, results: list[dict], refused: dict) -> dict:
    replies = [reply for result in results for reply in result["replies"]]
    started = min(result["started"] for result in results)
    posted = [r for r in replies if r["posted"] is not None]
    first_window = [r for r in posted if r["posted"] - started < args.window]
    waits = {}
    for kind in CLASSES:
        mine = [r for r in replies if r["class"] == kind]
        done = [r["posted"] - r["sent"] for r in mine if r["posted"] is not None]
        waits[kind] = {
            "sent": len(mine),
            "posted": len(done),
            "waiting_at_end": len(mine) - len(done),
            "p50_s": stats.percentile(done, 50) if done else None,
            "p90_s": stats.percentile(done, 90) if done else None,
            "max_s": max(done) if done else None,
        }
    return {
        "handles": handles,
        "shared": bool(args.shared and handles > 1),
        "after_reset": [after_reset(result["replies"], args.window) for result in results],
        "window_s": args.window,
        "backlog": args.backlog,
        "minutes": args.minutes,
        "rate_per_hour": args.rate,
        "sent": len(replies),
        "posted": len(posted),
        "posted_first_15_min": len(first_window),
        "posted_after_15_min": len(posted) - len(first_window),
        "posted_per_hour_steady": round(3600 / args.window * len(first_window)),
        "waits_by_class": waits,
        "x_429s": sum(refused.values()),
        "refused": refused,
        "machine": common.machine(),
    }


def after_reset(replies: list[dict], window: int = 900) -> dict:
    """One handle: how soon the next window's budget is used once the first window resets.

    X's window opens with the handle's first post; the first answer's `posted` (stamped
    once X answered) is at most the call's latency after it, so `reset` = first posted +
    the window (900 s) is that much late at most. Reported: seconds from the reset to the 1st, 50th
    and 100th post after it (None: not reached before the run ended), and the posts after
    it by class at Send (the order: breached and urgent first)."""
    posted = sorted((r["posted"], r["class"]) for r in replies if r["posted"] is not None)
    if not posted:
        return {"reset": None}
    reset = posted[0][0] + window
    after = [(at - reset, kind) for at, kind in posted if at > reset]
    nth = {n: round(after[n - 1][0], 1) if len(after) >= n else None for n in (1, 50, 100)}
    return {
        "reset": reset,
        "posted_after": len(after),
        "first_s": nth[1],
        "50th_s": nth[50],
        "100th_s": nth[100],
        "first_100_by_class": {k: sum(1 for _, c in after[:100] if c == k) for k in CLASSES},
    }


def report(result: dict) -> None:
    extra = ""
    if result.get("backlog"):
        extra += f", {result['backlog']} waiting at the start"
    if result.get("window_s", 900) != 900:
        extra += f", {result['window_s']}-s windows"
    print(
        f"\n{result['handles']} handle(s){' in one deployment' if result.get('shared') else ''}, "
        f"{result['rate_per_hour']:,} answers/h for {result['minutes']} min{extra}: "
        f"sent {result['sent']}, posted {result['posted']} "
        f"({result['posted_first_15_min']} in the first window, "
        f"{result['posted_after_15_min']} after its reset); steady state "
        f"{result['posted_per_hour_steady']} answers/h; 429s from X: {result['x_429s']}"
    )
    for i, seen in enumerate(result.get("after_reset", [])):
        if seen.get("reset") is None:
            continue
        print(
            f"  handle {i + 1} after the first reset: {seen['posted_after']} posted; "
            f"1st at +{seen['first_s']} s, 50th at +{seen['50th_s']} s, 100th at "
            f"+{seen['100th_s']} s; first 100 by class at Send {seen['first_100_by_class']}"
        )
    for kind, w in result["waits_by_class"].items():
        p50, p90, top = (common.fmt(w[k] or 0, 0) for k in ("p50_s", "p90_s", "max_s"))
        print(
            f"  {kind:9} sent {w['sent']:5}  posted {w['posted']:5}  still waiting "
            f"{w['waiting_at_end']:5}  wait p50 {p50} s  p90 {p90} s  max {top} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=17)  # one reset crossed, 2 min after
    parser.add_argument("--rate", type=float, default=10_000, help="answers per hour, in all")
    parser.add_argument("--handles", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default=None, help="PostgreSQL server URL")
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--window", type=int, default=900, help="the sandbox's posting window, seconds (X: 900)"
    )
    parser.add_argument(
        "--backlog", type=int, default=0, help="answers waiting before the first Send"
    )
    parser.add_argument("--log-dir", default="", help="keep worker logs and queue depths here")
    parser.add_argument(
        "--db-prefix", default="twelp_bench_16", help="databases <prefix>_h<handles>_<i>"
    )
    parser.add_argument(
        "--shared", action="store_true", help="the handles as brands of one deployment (issue 16)"
    )
    parser.add_argument("--database-url", default="", help="with --shared: its database")
    parser.add_argument(
        "--redis-db", type=int, default=REDIS_DB_BASE, help="the first Redis db to use (flushed)"
    )
    parser.add_argument("--connect-token", default="", help=argparse.SUPPRESS)
    parser.add_argument("--connect-secret", default="", help=argparse.SUPPRESS)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--handle", help=argparse.SUPPRESS)
    parser.add_argument("--x-user-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    from concurrent.futures import ThreadPoolExecutor

    # The configurations run side by side (each mostly waits on X's windows).
    with ThreadPoolExecutor(len(args.handles)) as pool:
        results = list(pool.map(lambda h: run(h, args), args.handles))
    for result in results:
        report(result)
    common.write_json(args.json, results)


if __name__ == "__main__":
    main()
