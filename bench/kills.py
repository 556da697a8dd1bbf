"""Killing Twelp processes for real: start one, wait for a moment, SIGKILL it.

Shared by the fault trials (`python -m bench.faults`) and the tests that kill a poller
or a post_reply worker (tests/inbox, tests/faults). SIGKILL, not SIGTERM: nothing in the
victim gets to clean up, as after an OOM kill or a pulled plug.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Victim:
    """`python manage.py shell -c CODE` as its own process, its output in a temp file."""

    def __init__(self, code: str, env: dict[str, str]) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix="twelp-victim-", suffix=".log")[1])
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "shell", "-c", code],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, and reap it: when this returns, the process is gone."""
        sigkill(self.process.pid)
        self.process.wait(timeout=10)
        self.log_path.unlink(missing_ok=True)

    def wait_until(self, condition: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Poll `condition` while the victim runs; fail if it ends or the time runs out."""
        wait_until(condition, timeout=timeout, what=what, alive=self._still_running)

    def _still_running(self) -> None:
        if not self.alive():
            raise RuntimeError(f"the process ended before it was killed:\n{self.output()[-3000:]}")


def sigkill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    alive: Callable[[], None] | None = None,
    interval: float = 0.02,
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None:
            alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)
