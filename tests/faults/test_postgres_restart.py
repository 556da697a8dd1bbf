"""PostgreSQL restarted under load: a clear 503 page while it is down, then normal service,
with the same Twelp processes (gunicorn, production settings, DEBUG off) throughout."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import OperationalError
from django.test import RequestFactory

from bench.common import free_port, production_env
from tests import processes
from tests.faults.servers import PrivatePostgres, private_postgres
from tests.helpers import PASSWORD
from tests.processes import wait_until
from twelp.views import server_error

pytestmark = [pytest.mark.faults, pytest.mark.slow]

SEED = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from inbox.models import Brand
from tests.helpers import make_agent
make_agent(Brand.objects.create(name="Acme", handle="acme_care", x_user_id=7), "alice")
"""


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[PrivatePostgres, str, processes.Process]]:
    """Twelp's web (gunicorn, as production runs it) on a private PostgreSQL."""
    with private_postgres(tmp_path) as postgres:
        # This run's Redis db and key prefix (the cache only: no task is sent here).
        env = production_env(postgres.url, settings.CACHES["default"]["LOCATION"])
        env["CACHE_KEY_PREFIX"] = f"{settings.CACHES['default']['KEY_PREFIX']}:faults"
        env["DB_CONN_MAX_AGE"] = "60"  # persistent connections: the restart breaks them
        done = processes.manage_shell(SEED, env)
        assert done.returncode == 0, done.stderr[-3000:]
        port = free_port()

        def ready(url: str) -> bool:
            return requests.get(f"{url}/login/", timeout=20).status_code == 200

        app = "twelp.wsgi:application"
        with processes.gunicorn(app, port, env, ready=ready, workers=1, threads=4) as server:
            yield postgres, f"http://127.0.0.1:{port}", server


def log_in(url: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{url}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        f"{url}/login/",
        data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
        timeout=10,
    )
    assert answer.url.rstrip("/") == url, answer.text[:500]
    return session


class Load(threading.Thread):
    """Agents keep loading the queue and the public stream; every answer is kept."""

    def __init__(self, session: requests.Session, url: str) -> None:
        super().__init__(daemon=True)
        self.session, self.url = session, url
        self.answers: list[tuple[int, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for path in ("/", "/stream/"):
                answer = self.session.get(f"{self.url}{path}", timeout=20)
                self.answers.append((answer.status_code, answer.text))

    def stop(self) -> list[tuple[int, str]]:
        self.stopping.set()
        self.join(30)
        return self.answers


def looks_down(status: int, body: str) -> bool:
    return status == 503 and "Twelp is briefly unavailable" in body


def test_it_answers_a_clear_503_while_postgres_is_down_and_recovers_by_itself(web):
    postgres, url, gunicorn = web
    session = log_in(url)
    assert session.get(f"{url}/", timeout=10).status_code == 200
    load = Load(session, url)
    load.start()
    wait_until(lambda: len(load.answers) >= 4, timeout=30, what="load")

    postgres.stop()
    down = session.get(f"{url}/", timeout=20)
    assert looks_down(down.status_code, down.text), down.text[:1000]
    assert down.headers["Retry-After"] == "10"
    assert "Traceback" not in down.text and "OperationalError" not in down.text
    assert session.get(f"{url}/stream/", timeout=20).status_code == 503

    postgres.start()
    wait_until(
        lambda: session.get(f"{url}/", timeout=20).status_code == 200,
        timeout=60,
        what="the queue to load again",
        interval=0.5,
    )
    answers = load.stop()
    assert gunicorn.alive()  # the same Twelp, never restarted
    assert session.get(f"{url}/stream/", timeout=20).status_code == 200
    statuses = {status for status, _ in answers}
    assert {200, 503} <= statuses
    assert all(status == 200 or looks_down(status, body) for status, body in answers)


def test_it_answers_500_with_a_plain_page_for_any_other_error():
    request = RequestFactory().get("/")
    try:
        raise OperationalError("connection to server at 127.0.0.1 failed")
    except OperationalError:
        down = server_error(request)
    try:
        raise KeyError("a bug")
    except KeyError:
        bug = server_error(request)
    assert (down.status_code, down["Retry-After"]) == (503, "10")
    assert bug.status_code == 500 and b"Something went wrong" in bug.content
    assert b"KeyError" not in bug.content and b"connection to server" not in down.content
