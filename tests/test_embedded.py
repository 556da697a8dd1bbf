"""The embedded default: real servers from wheels, data kept, crashes recovered."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
import redis

from twelp import embedded

pytestmark = pytest.mark.slow


@pytest.fixture
def var(tmp_path: Path):
    yield tmp_path / "var"
    embedded.stop(tmp_path / "var")


def pg(var: Path) -> psycopg.Connection:
    paths = embedded.Paths(var)
    return psycopg.connect(
        f"host={paths.run} port={embedded.PG_PORT} user=postgres dbname={embedded.DB_NAME}",
        autocommit=True,
    )


def rd(var: Path) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(embedded.Paths(var).redis_socket))


def test_it_keeps_rows_and_keys_across_a_restart(var):
    assert embedded.ensure_running(var) == {"postgres": True, "redis": True}
    with pg(var) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    rd(var).set("kept", "still here")

    embedded.stop(var)
    assert embedded.status(var) == {"postgres": None, "redis": None}
    assert embedded.ensure_running(var) == {"postgres": True, "redis": True}

    with pg(var) as conn:
        assert conn.execute("SELECT note FROM kept").fetchone() == ("still here",)
    assert rd(var).get("kept") == b"still here"


def test_it_reuses_running_servers(var):
    embedded.ensure_running(var)
    pids = embedded.status(var)
    assert embedded.ensure_running(var) == {"postgres": False, "redis": False}
    assert embedded.status(var) == pids


def test_it_starts_over_stale_pid_socket_and_lock_files(var):
    """As after a crash: files left behind, their pid now some other live process."""
    embedded.ensure_running(var)
    embedded.stop(var)
    paths = embedded.Paths(var)
    imposter = str(os.getpid())  # alive, but not a postgres or a redis-server
    (paths.pgdata / "postmaster.pid").write_text(
        f"{imposter}\n{paths.pgdata}\n1700000000\n5432\n{paths.run}\n\n  1234 5678\nready\n"
    )
    (paths.run / ".s.PGSQL.5432.lock").write_text(f"{imposter}\n")
    paths.redis_pidfile.write_text(imposter)
    paths.redis_socket.touch()

    assert embedded.ensure_running(var) == {"postgres": True, "redis": True}
    with pg(var) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert rd(var).ping() is True


def test_it_puts_sockets_in_a_short_path_when_var_is_deep(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "var"
    assert len(str(embedded.Paths(deep).run / ".s.PGSQL.5432.lock")) <= 100
    assert embedded.Paths(deep).run != deep / "run"
