"""Two test runs on one PostgreSQL and one Redis db stay apart (issue 13): each run's
cache keys, Celery queue and test database carry its id, and what a run starts dies with it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest
from django.conf import settings
from django.db import connection

from tests import processes
from tests.helpers import broker_redis, clear_run_keys


def test_it_names_this_runs_queue_keys_and_database_by_its_id(db):
    run = settings.TEST_RUN_ID
    assert os.environ["TWELP_TEST_RUN_ID"] == run  # what the processes it starts inherit
    assert f"twelp-test-{run}-tasks" == settings.CELERY_TASK_DEFAULT_QUEUE
    assert settings.CACHES["default"]["KEY_PREFIX"] == f"twelp-test-{run}"
    assert connection.settings_dict["NAME"].startswith("test_")
    assert connection.settings_dict["NAME"].endswith(f"_{run}")


def test_it_clears_only_this_runs_keys_and_queue():
    broker = broker_redis()
    mine = f"{settings.CACHES['default']['KEY_PREFIX']}:1:mine"
    others = ["twelp-test-1_other:1:theirs", "twelp-test-1_other-tasks", "celery"]
    try:
        broker.set(mine, "1")
        broker.rpush(settings.CELERY_TASK_DEFAULT_QUEUE, "a task")
        broker.set(others[0], "1")
        broker.rpush(others[1], "their task")
        before = broker.llen("celery")
        clear_run_keys()
        assert not broker.exists(mine, settings.CELERY_TASK_DEFAULT_QUEUE)
        assert broker.exists(*others[:2]) == 2
        assert broker.llen("celery") == before
    finally:
        broker.delete(*others[:2])


def test_a_task_sent_here_waits_in_this_runs_queue_only():
    from twelp.celery import app

    broker = broker_redis()
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    before = broker.llen(queue)
    result = app.send_task("inbox.tasks.sweep_outbox")
    assert broker.llen(queue) == before + 1
    assert result.id in broker.lindex(queue, 0).decode()


def test_a_child_with_production_settings_inherits_the_runs_queue():
    code = "from django.conf import settings as s; print(s.CELERY_TASK_DEFAULT_QUEUE)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "twelp.settings"}
    done = processes.manage_shell(code, env)
    assert done.stdout.split()[-1] == settings.CELERY_TASK_DEFAULT_QUEUE, done.stderr


@pytest.mark.parametrize("run_id", ["", "Bad-Id", "x" * 21])
def test_it_makes_a_fresh_run_id_or_refuses_one_that_cannot_name_a_database(run_id):
    code = "import tests.settings as s; print(s.TEST_RUN_ID)"
    env = {**os.environ, "TWELP_TEST_RUN_ID": run_id}
    done = processes.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    if run_id:
        assert done.returncode != 0 and "TWELP_TEST_RUN_ID" in done.stderr
    else:  # unset: a fresh id, the process's pid and a random token
        assert re.fullmatch(r"\d+_[0-9a-f]{6}", done.stdout.strip()), done.stderr
        assert done.stdout.strip() != settings.TEST_RUN_ID


def test_it_takes_a_given_run_id_for_every_name():
    code = (
        "import tests.settings as s; "
        "print(s.CELERY_TASK_DEFAULT_QUEUE, s.CACHES['default']['KEY_PREFIX'], "
        "s.DATABASES['default']['TEST']['NAME'].endswith('_ci_7'))"
    )
    env = {**os.environ, "TWELP_TEST_RUN_ID": "ci_7"}
    done = processes.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["twelp-test-ci_7-tasks", "twelp-test-ci_7", "True"], done.stderr


PARENT = """
import time
from tests import processes
child = processes.start(["sh", "-c", "sleep 300 & sleep 300"], env={}, name="sh")
print(child.pid, flush=True)
time.sleep(300)
"""


def test_a_child_and_what_it_forked_die_when_the_run_that_started_it_is_killed(tmp_path):
    """SIGKILL, as an OOM kill or `kill -9` of pytest: no finalizer runs. The kernel tells
    the child (PR_SET_PDEATHSIG); the watchdog kills the rest of its group."""
    log = tmp_path / "log"
    parent = processes.start(
        [sys.executable, "-c", PARENT], env=dict(os.environ), name="parent", log_path=log
    )
    with processes.running(parent):
        parent.wait_until(lambda: parent.output().strip() != "", timeout=30, what="the child")
        child = psutil.Process(int(parent.output().split()[0]))
        deadline = time.monotonic() + 10
        while len(child.children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        everyone = [child, *child.children()]
        assert len(everyone) == 3
        os.kill(parent.pid, signal.SIGKILL)
        _, alive = psutil.wait_procs(everyone, timeout=10)
        assert alive == []


def test_stopping_a_process_stops_what_it_forked():
    shell = processes.start(["sh", "-c", "sleep 300 & sleep 300"], env={}, name="sh")
    deadline = time.monotonic() + 10
    while len(psutil.Process(shell.pid).children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    forked = psutil.Process(shell.pid).children()
    shell.stop(grace=2)
    _, alive = psutil.wait_procs(forked, timeout=10)
    assert alive == [] and not shell.alive()


PARENT_OF_TWO = """
import signal, subprocess, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps what dies
children = [subprocess.Popen(["sleep", "300"]) for _ in range(2)]
print(*(child.pid for child in children), flush=True)
time.sleep(300)
"""


def test_killing_a_processs_children_leaves_it_running():
    """As bench.faults kills a Celery worker's pool process: the worker lives on."""
    parent = processes.start([sys.executable, "-c", PARENT_OF_TWO], env={}, name="parent")
    with processes.running(parent, grace=2):
        parent.wait_until(lambda: parent.output().strip() != "", timeout=30, what="children")
        children = [psutil.Process(int(pid)) for pid in parent.output().split()]
        assert sorted(parent.kill_children()) == sorted(child.pid for child in children)
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [] and parent.alive()
    assert not parent.alive()


CHILD_THAT_TIDIES = """
import pathlib, signal, sys, time
def tidy(*_):
    pathlib.Path(sys.argv[1]).write_text("SIGTERM")
    sys.exit(0)
signal.signal(signal.SIGTERM, tidy)
print("ready", flush=True)
time.sleep(300)
"""


@pytest.mark.parametrize("whole_group", [True, False])
def test_a_whole_group_stop_gives_every_process_in_it_a_sigterm(tmp_path, whole_group):
    """With `whole_group`, what a script waits on gets the SIGTERM too, and can tidy up (the
    peer's run.sh and its commands); without, only the leader does, the rest a SIGKILL."""
    tidied = tmp_path / "tidied"
    child = f"{sys.executable} -c '{CHILD_THAT_TIDIES}' {tidied}; true"
    script = processes.start(["sh", "-c", child], env={}, name="sh")
    script.wait_until(lambda: "ready" in script.output(), timeout=30, what="the child")
    with pytest.raises(subprocess.TimeoutExpired):
        script.wait(timeout=0.1)
    script.stop(grace=5, whole_group=whole_group)
    assert tidied.exists() == whole_group and script.returncode is not None


def test_wait_until_polls_until_it_holds_or_times_out():
    calls = []
    processes.wait_until(lambda: calls.append(1) or len(calls) == 3, timeout=5, what="3 calls")
    assert len(calls) == 3
    with pytest.raises(TimeoutError, match="never"):
        processes.wait_until(lambda: False, timeout=0.1, what="never", interval=0.01)


def test_the_live_servers_requests_are_counted_until_they_end():
    """tests/inflight.py: what the conftest waits for before a live server test's flush."""
    import threading

    from django.http import HttpResponse

    from tests import inflight

    entered, leave = threading.Event(), threading.Event()

    def slow(request):
        entered.set()
        leave.wait(10)
        return HttpResponse("ok")

    serve = inflight.count(slow)
    worker = threading.Thread(target=serve, args=(None,))
    worker.start()
    assert entered.wait(10)
    assert inflight.wait_until_idle(timeout=0.05) is False  # one still being served
    leave.set()
    assert inflight.wait_until_idle(timeout=10) is True
    worker.join(10)
