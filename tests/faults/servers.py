"""Private PostgreSQL and Redis servers that a test may stop and start at will.

Never the machine's shared servers (other test runs live on them): each of these is a
new server of its own, on a free port, with its data in the test's temp dir. PostgreSQL's
binaries are the ones Twelp's embedded mode uses (the pgserver wheel, run as its
unprivileged user when we are root), so the test needs nothing installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from bench.common import free_port
from tests import processes
from twelp import embedded


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        # Not under pytest's temp dir: the server runs as an unprivileged user who must
        # traverse the path, and any other pytest run starting meanwhile sets
        # /tmp/pytest-of-<user> back to 0700 (seen: "pg_ctl: could not access directory").
        del root
        root = Path(tempfile.mkdtemp(prefix="twelp-private-pg-"))
        self.root = root
        self.data = root / "pgdata"
        self.run = root / "pgrun"
        self.port = free_port()
        embedded._prepare_for(embedded._pg_user(), self.data, self.run)
        embedded._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--locale=C")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/twelp"

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.run}"
        log = str(self.data / "server.log")
        embedded._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: every session is cut, as in a restart or a failover."""
        embedded._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self) -> None:
        admin = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE twelp")


@contextlib.contextmanager
def private_postgres(root: Path) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(root)
    server.start()
    try:
        server.create_database()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):  # stopped already
            server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


class PrivateRedis:
    """redis-server without persistence: a restart loses whatever was queued in it. With
    `persist`, an append-only file written at every command (as a deployment keeps its
    sessions): a restart, even after SIGKILL, comes back with everything."""

    def __init__(self, root: Path, *, persist: bool = False) -> None:
        self.dir = root
        self.port = free_port()
        self.persist = persist
        self.process: processes.Process | None = None

    def url(self, db: int = 11) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        import redis

        command = [processes.redis_server_binary(), "--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--dir", str(self.dir)]
        command += ["--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else []
        command += [] if self.persist else ["--appendonly", "no"]
        self.process = processes.start(
            command, env=dict(os.environ), name="redis-server", log_path=self.dir / "redis.log"
        )
        client = redis.Redis(port=self.port)
        for _ in range(200):
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            if not self.process.alive():
                break
            time.sleep(0.05)
        raise RuntimeError(f"the private redis-server did not start:\n{self.process.tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.alive():
            self.process.kill()  # abruptly: without `persist`, whatever was queued is gone


@contextlib.contextmanager
def private_redis(root: Path, *, persist: bool = False) -> Iterator[PrivateRedis]:
    server = PrivateRedis(root, persist=persist)
    server.start()
    try:
        yield server
    finally:
        server.stop()
