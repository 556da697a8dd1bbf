"""README command 1, as a real subprocess on a fresh var/: everything comes up, then
SIGTERM leaves no process behind; and it works a second time in a row."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests import processes
from twelp import embedded

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, demo: processes.Process, log: Path, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Its log's end says why (a port taken meanwhile by another process, for one).
        assert demo.alive(), "the demo exited early:\n" + log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def celery_ping(env: dict[str, str], attempts: int = 12) -> str:
    """The worker's answer to a Celery ping; it may boot a little after the web server."""
    for _ in range(attempts):
        result = processes.run(
            [sys.executable, "-m", "celery", "-A", "twelp", "inspect", "ping", "-t", "5"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if "pong" in result.stdout:
            break
    return result.stdout + result.stderr


def family(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


@pytest.fixture
def demo_env(tmp_path: Path):
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(TWELP_VAR_DIR=str(tmp_path / "var"), DEBUG="true", PYTHONUNBUFFERED="1")
    yield env
    embedded.stop(tmp_path / "var")


def run_demo_once(env: dict[str, str], log: Path) -> None:
    port, sandbox_port = free_port(), free_port()
    everyone: list[psutil.Process] = []
    command = [sys.executable, "manage.py", "demo", "--port", str(port)]
    command += ["--sandbox-port", str(sandbox_port), "--push-port", str(free_port())]
    # SIGTERM if pytest dies: the demo then stops its whole group and its embedded servers.
    demo = processes.start(command, env=env, name="demo", log_path=log, death_signal=signal.SIGTERM)
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/login/", demo, log) == 200
        everyone = family(demo.pid)
        assert "pong" in celery_ping(env)
        servers = [p for p in embedded.status(Path(env["TWELP_VAR_DIR"])).values() if p]
        assert len(servers) == 2
        everyone += [psutil.Process(pid) for pid in servers]
        demo.popen.send_signal(signal.SIGTERM)
        demo.popen.wait(timeout=60)
        _, alive = psutil.wait_procs(everyone, timeout=15)
        assert alive == [], f"left behind: {alive}"
    finally:
        demo.stop(grace=30)
        for process in everyone:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
    text = log.read_text()
    assert "Open      http://127.0.0.1:" in text
    assert "jane" in text and "twelp-demo" in text


def test_it_runs_the_whole_group_and_stops_it_twice_in_a_row(demo_env, tmp_path):
    run_demo_once(demo_env, tmp_path / "first.log")
    run_demo_once(demo_env, tmp_path / "second.log")
    second = (tmp_path / "second.log").read_text()
    for name in ("web", "push", "worker", "beat"):
        assert f"{name} started" in second
