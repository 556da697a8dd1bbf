"""What the benchmarks share: a database and a Redis db of their own, the X sandbox and a
Celery worker as real processes (started and stopped by tests/processes.py), CPU
accounting, the peer's folder, and how they report.
(Timing and percentiles: bench.stats. Seeding through the models: bench.seeding.)

Order matters: `configure()` fills the environment Django's settings are read from, so it
comes before `setup_django()`; `fresh_database()` (drop, create, migrate) after it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil

from bench import stats
from tests import processes

ROOT = Path(__file__).resolve().parent.parent
HELPDESK_DIR_VARIABLE = "TWELP_HELPDESK_DIR"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"


def helpdesk_dir() -> Path:
    """The peer, django-helpdesk's harness: $TWELP_HELPDESK_DIR when set, else
    ../shared/peers/helpdesk beside the repository (the folder holding the checkout)."""
    found = os.environ.get(HELPDESK_DIR_VARIABLE)
    return Path(found).resolve() if found else ROOT.parent / "shared" / "peers" / "helpdesk"


def redis_url(db: int) -> str:
    """Each benchmark's own Redis db: they flush it, so two must never share one."""
    return f"{DEFAULT_REDIS_URL.rsplit('/', 1)[0]}/{db}"


# The sandbox's demo app and brand (twelp/settings.py, _X_DEMO_CREDENTIALS): the sandbox
# seeds its accounts from them and Twelp's gateway signs with them. X access tokens start
# with the user's id, so this is also the brand's X user id.
DEMO_CREDENTIALS = {
    "X_BEARER_TOKEN": "sandbox-demo-bearer-token",
    "X_CONSUMER_KEY": "sandbox-demo-consumer-key",
    "X_CONSUMER_SECRET": "sandbox-demo-consumer-secret",
    "X_ACCESS_TOKEN": "1600000000000000001-sandbox-demo-access-token",
    "X_ACCESS_TOKEN_SECRET": "sandbox-demo-access-token-secret",
}
BRAND_X_USER_ID = 1600000000000000001
BRAND_HANDLE = "twelpdemo"


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- environment, database, Redis -----------------------------------------------------------


def database_url(name: str, server: str | None = None) -> str:
    return f"{(server or os.environ.get('BENCH_PG_SERVER') or DEFAULT_SERVER).rstrip('/')}/{name}"


def configure(db_url: str, redis_url: str, *, sandbox_port: int | None = None) -> dict[str, str]:
    """Production settings (DEBUG off) on the benchmark's own database and Redis db."""
    env = production_env(db_url, redis_url, sandbox_port=sandbox_port)
    os.environ.update(env)
    return env


def production_env(
    db_url: str, redis_url: str, *, sandbox_port: int | None = None
) -> dict[str, str]:
    """The environment of a Twelp process with production settings (DEBUG off)."""
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "k" * 50,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "CACHE_KEY_PREFIX": "twelp-bench",
        "LOG_LEVEL": "WARNING",
        # Persistent connections, as a pooled production deploy has; it also keeps each
        # PostgreSQL backend alive for the run, so its CPU can be read (backends_cpu).
        "DB_CONN_MAX_AGE": "3600",
        "XSANDBOX_RATE_LIMITS_ENABLED": "false",
        "XSANDBOX_FAULTS": "",
        "XSANDBOX_ADMIN_TOKEN": "bench-sandbox-admin-token",
        "XSANDBOX_BRAND_USERNAME": BRAND_HANDLE,
        **DEMO_CREDENTIALS,
    }
    if sandbox_port is not None:
        env["X_API_BASE_URL"] = f"http://127.0.0.1:{sandbox_port}"
    return env


def recreate_database(db_url: str) -> None:
    """Drop and create the benchmark's database (only one whose name says `bench`)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(db_url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: a benchmark database's name has 'bench'.")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(db_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(db_url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        return
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def setup_django() -> None:
    import django

    django.setup()


def second_factor_code(user: Any) -> str | None:
    """A one-use recovery code of `user` when they must pass two-factor (supervisors and
    admins: agents.twofactor), enrolling them first; else None (tests.helpers does it)."""
    from tests.helpers import second_factor_code as fresh_code

    return fresh_code(user)


def sign_in(client: Any, user: Any) -> Any:
    """A Django test client logged in as `user`, past the second factor as a person passes
    it (a recovery code posted to /2fa/): a supervisor's pages are measured, never the
    enrolment redirect."""
    from tests.helpers import pass_second_factor

    client.force_login(user)
    pass_second_factor(client, user)
    return client


def fresh_database(db_url: str) -> None:
    """Drop, create and migrate the benchmark's database (Django is set up already)."""
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    recreate_database(db_url)
    with stats.Stopwatch() as watch:
        call_command("migrate", verbosity=0, interactive=False)
    log(f"created and migrated {urlsplit(db_url).path.lstrip('/')} in {watch.seconds:.1f} s")


def flush_redis(redis_url: str) -> None:
    """Empty the benchmark's Redis db (never db 0, which other things use by default):
    sessions, queue versions and Celery messages of an earlier run must not leak in."""
    import redis

    client = redis.Redis.from_url(redis_url)
    if client.connection_pool.connection_kwargs.get("db", 0) == 0:
        raise SystemExit("Give the benchmark a Redis db of its own (not 0), e.g. .../9")
    client.flushdb()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """`count` different free ports: the sockets stay open until all are chosen (one at a
    time, the kernel may hand the same port out twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


# --- processes: the sandbox, web (gunicorn), push (uvicorn), a Celery worker and beat ----
# Started and stopped by tests/processes.py, as the tests' are: each in a process group of
# its own that dies with this one. Here: what each is (settings, readiness) and its log line.


@contextlib.contextmanager
def _temporary_log(server: Iterator[processes.Process]) -> Iterator[processes.Process]:
    """A server's context, its temp log file deleted once it has stopped."""
    log_path = None
    try:
        with server as process:
            log_path = process.log_path
            yield process
    finally:
        if log_path is not None:
            log_path.unlink(missing_ok=True)


@contextlib.contextmanager
def gunicorn(
    name: str,
    app: str,
    port: int,
    env: dict[str, str],
    *,
    ready: Callable[[str], bool],
    workers: int = 1,
    threads: int = 4,
    extra: tuple[str, ...] = (),
) -> Iterator[processes.Process]:
    """`python -m gunicorn <app>` on 127.0.0.1:<port>, until `ready(url)` says it answers."""
    server = processes.gunicorn(
        app,
        port,
        {**os.environ, **env},
        ready=ready,
        workers=workers,
        threads=threads,
        extra=extra,
        name=name,
    )
    with _temporary_log(server) as process:
        log(f"{name} (gunicorn pid {process.pid}, {workers}x{threads}) on {process.url}")
        yield process


@contextlib.contextmanager
def sandbox_server(
    port: int, env: dict[str, str], settings: str = "twelp.xsandbox.settings"
) -> Iterator[processes.Process]:
    """The X sandbox as production runs it: gunicorn, one worker, 4 threads, its own port."""
    import requests

    def ready(url: str) -> bool:
        # No credentials: X's 401 proves the app answers.
        return requests.get(f"{url}/2/users/me", timeout=5).status_code == 401

    sandbox_env = {**env, "DJANGO_SETTINGS_MODULE": settings}
    with gunicorn(
        "sandbox", "twelp.xsandbox.wsgi:application", port, sandbox_env, ready=ready
    ) as s:
        yield s


ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'


# As the Dockerfile: longer than nginx's upstream keepalive_timeout (60 s), so nginx never
# sends a request on a kept-alive connection gunicorn is closing (gunicorn's default, 2 s,
# made POSTs fail with 502: nginx does not retry them).
KEEP_ALIVE = "75"


@contextlib.contextmanager
def web_server(
    port: int, env: dict[str, str], *, workers: int, threads: int
) -> Iterator[processes.Process]:
    """Twelp's web as the Dockerfile runs it (`gunicorn twelp.wsgi:application`), with the
    benchmark's production settings; the access log goes to the server's log file."""
    import requests

    def ready(url: str) -> bool:
        return requests.get(f"{url}/login/", timeout=20).status_code == 200

    # The access log ends with the time gunicorn's thread spent on the request (ms, from
    # reading it to the response): what the client waited beyond it was queueing.
    extra = ("--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT)
    extra += ("--keep-alive", KEEP_ALIVE)
    with gunicorn(
        "web",
        "twelp.wsgi:application",
        port,
        env,
        ready=ready,
        workers=workers,
        threads=threads,
        extra=extra,
    ) as server:
        yield server


@contextlib.contextmanager
def push_server(
    port: int, env: dict[str, str], *, db_threads: int = 4, workers: int = 1
) -> Iterator[processes.Process]:
    """Twelp's push process as docker-compose runs it (`uvicorn twelp.asgi:application`,
    no access log), `PUSH_DB_THREADS` threads (and database connections) for its renders;
    `workers` > 1: uvicorn's own worker processes on the one port (each a hub of its own,
    as replicas are: the events come through Redis)."""
    import requests

    def ready(url: str) -> bool:
        return requests.get(f"{url}/push/healthz", timeout=20).status_code == 200

    push_env = {**os.environ, **env, "PUSH_DB_THREADS": str(db_threads)}
    extra = ("--no-access-log", "--backlog", "8192", "--timeout-graceful-shutdown", "5")
    if workers > 1:
        extra += ("--workers", str(workers))
    server = processes.uvicorn("twelp.asgi:application", port, push_env, ready=ready, extra=extra)
    with _temporary_log(server) as process:
        each = f"{workers} workers x " if workers > 1 else ""
        log(f"push (uvicorn pid {process.pid}, {each}{db_threads} db threads) on {process.url}")
        yield process


@contextlib.contextmanager
def celery_beat(env: dict[str, str]) -> Iterator[processes.Process]:
    """`python -m celery -A twelp beat` with a schedule file of its own, until it ticks."""
    with tempfile.TemporaryDirectory(prefix="bench-beat-") as folder:
        beat = processes.celery_beat(
            {**os.environ, **env},
            schedule=Path(folder) / "celerybeat-schedule",
            log_path=Path(folder) / "beat.log",
        )
        with beat as process:
            log(f"celery beat (pid {process.pid}) started")
            yield process


@contextlib.contextmanager
def celery_worker(env: dict[str, str], concurrency: int = 2) -> Iterator[processes.Process]:
    """`python -m celery -A twelp worker` against the benchmark's Redis db, until ready,
    on the queue this process's tasks go to (Django is set up already)."""
    from django.conf import settings

    worker = processes.celery_worker(
        {**os.environ, **env}, queue=settings.CELERY_TASK_DEFAULT_QUEUE, concurrency=concurrency
    )
    with _temporary_log(worker) as process:
        log(f"celery worker (pid {process.pid}, {concurrency} processes) ready")
        yield process


# --- CPU accounting ---------------------------------------------------------------------------


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (gunicorn's worker)."""
    try:
        root = psutil.Process(pid)
        total = sum(root.cpu_times()[:4])  # user, system, and reaped children's
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += sum(child.cpu_times()[:2])
        return total
    except psutil.NoSuchProcess:
        return 0.0


def process_tree_rss(pid: int) -> int:
    """Resident bytes of a process and its live children."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


def backends_cpu() -> dict[int, float]:
    """{pid: CPU seconds} of the PostgreSQL backends connected to the benchmark's database
    (this process's and the sandbox's: DB_CONN_MAX_AGE keeps them for the whole run).
    Empty when the server is on another machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend'"
        )
        pids = [row[0] for row in cursor.fetchall()]
    found = {}
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            found[pid] = sum(psutil.Process(pid).cpu_times()[:2])
    return found


def backend_cpu(pid: int, db_url: str) -> float:
    """CPU seconds of the PostgreSQL backend `pid` of a connection to `db_url`; 0 when the
    server is on another machine (the pid is not ours to read)."""
    if (urlsplit(db_url).hostname or "localhost") not in ("localhost", "127.0.0.1", "::1"):
        return 0.0
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        return sum(psutil.Process(pid).cpu_times()[:2])
    return 0.0


def backends_cpu_since(before: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in backends_cpu().items())


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine (all cores), every process counted."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class SqlClock:
    """A connection.execute_wrapper: counts statements and the time spent in them (the
    round trip: psycopg's adaptation, the network, PostgreSQL)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        watch = stats.Stopwatch()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += watch.seconds


# --- against raw SKIP LOCKED, interleaved (bench.queue's claims, bench.assign) ---------------


def interleaved(
    rounds: int,
    batch: Callable[[str], dict[str, Any]],
    modes: tuple[str, str] = ("action", "raw"),
    *,
    rate: str = "per_s",
    label: str = "",
) -> dict[str, Any]:
    """`rounds` rounds of one `batch(mode)` of each mode, the order alternating (the first
    mode first in even rounds), so the shared machine's load falls on both alike. Returns
    {mode: [batch results]}, "ratios" (each round's first-mode `rate` over the second's:
    higher is better for a rate; pass a time with its modes reversed) and "load_average"
    (at the start of each round)."""
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    loads: list[str] = []
    for r in range(rounds):
        loads.append(load_average())
        for mode in modes if r % 2 == 0 else modes[::-1]:
            runs[mode].append(batch(mode))
        first, second = (runs[mode][-1][rate] for mode in modes)
        if label:
            log(
                f"  {label}, round {r + 1}: {modes[0]} {first:,.2f}, {modes[1]} {second:,.2f},"
                f" ratio {first / second:.2f} (load {loads[-1]})"
            )
    ratios = [a[rate] / b[rate] for a, b in zip(*runs.values(), strict=True)]
    return {**runs, "ratios": ratios, "load_average": loads}


# --- reporting ----------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, str]:
    def run(*command: str) -> str:
        try:
            done = processes.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        return done.stdout.strip()

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in run("lscpu").splitlines()
            if "Model name" in line
        ),
        platform.processor(),
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": run("git", "rev-parse", "--short", "HEAD"),
        "uncommitted_files": str(len(run("git", "status", "--porcelain").splitlines())),
        "load_average": load_average(),
        "nproc": run("nproc"),
        "cpu": model,
        "memory_gib": f"{psutil.virtual_memory().total / 2**30:.0f}",
        "python": platform.python_version(),
        "postgres_autovacuum": postgres_setting("autovacuum"),
    }


def postgres_setting(name: str) -> str:
    """A setting of the benchmarks' PostgreSQL server ("?" when it cannot be read).
    autovacuum matters most: with it off (as this machine's server is configured), a
    table a benchmark fills from empty is never analyzed, and the plans PostgreSQL makes
    for empty tables can run many times slower than production's (BENCHMARKS.md,
    "bench.day with the tables analyzed"). Production servers run it; so should a bench."""
    import psycopg

    try:
        with psycopg.connect(database_url("postgres"), connect_timeout=5) as connection:
            found = connection.execute("SELECT current_setting(%s)", (name,)).fetchone()
    except psycopg.Error:
        return "?"
    return str(found[0]) if found else "?"


def write_json(path: str | None, data: object) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2, default=str))


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"
