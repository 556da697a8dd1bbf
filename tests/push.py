"""A real push process (`uvicorn twelp.asgi:application`) on this test's database and
Redis, and a small reader of its server-sent events. Used by tests/inbox/test_push.py
and the browser test of the queue's stream."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests import processes
from tests.helpers import child_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Push:
    url: str
    process: processes.Process


def start_push(tmp_path: Path, *, port: int | None = None, **env: str) -> Push:
    """A real uvicorn serving the ASGI app (tests.processes: it dies with this run), on
    `port` (a restart on the same one) or a free one."""
    port = port or free_port()
    command = [sys.executable, "-m", "uvicorn", "twelp.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log"]
    process = processes.start(
        command,
        env=child_env(DJANGO_SETTINGS_MODULE="tests.settings", PUSH_DB_THREADS="4", **env),
        name="push",
        log_path=tmp_path / f"push-{port}-{time.monotonic_ns()}.log",
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/push/healthz", timeout=1).text == "ok"
        except httpx.HTTPError:
            return False

    process.wait_until(healthy, timeout=30, what="the push process's /push/healthz")
    return Push(url, process)


def stop(process: processes.Process) -> None:
    process.stop(grace=10)


@pytest.fixture
def push(transactional_db: None, tmp_path: Path) -> Iterator[Push]:
    """The push process: its data must be committed, hence transactional_db."""
    started = start_push(tmp_path)
    yield started
    stop(started.process)


def session_cookie(user: User) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


class Events:
    """`event:`/`id:`/`data:` blocks of an open stream, pings and `retry:` skipped."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self, kinds: tuple[str, ...] = ("live", "reload")) -> dict[str, str]:
        """The next event of one of `kinds` (by default not `viewers`, which a stream
        sends on its own every second or so when they change)."""
        while True:
            found = self._next()
            if found["event"] in kinds:
                return found

    def _next(self) -> dict[str, str]:
        block: dict[str, str] = {}
        data: list[str] = []
        for line in self.lines:
            if not line:
                if "event" in block:
                    return block | {"data": "\n".join(data)}
                block, data = {}, []
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name in ("event", "id"):
                block[name] = value
        raise EOFError("the stream ended")


def open_stream(
    client: httpx.Client, push: Push, user: User, query: str, *, read: float = 10, **headers
):
    """The streaming request (a context manager), with the user's session."""
    return client.stream(
        "GET",
        f"{push.url}/push/events/?{query}",
        cookies=session_cookie(user),
        headers=headers,
        timeout=httpx.Timeout(10, read=read),
    )
