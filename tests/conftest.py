"""Shared fixtures: real PostgreSQL and Redis, and the personas every test can use.

The personas follow healthchecks' alice/bob/charlie: an agent, a second agent who must
lose races, a supervisor, an admin, a pending registration, a deactivated employee, and
an outsider who has a login but no place in the brand.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from agents.models import Agent, AgentState, Role
from inbox.models import Brand, Customer, Source, Thread
from tests.helpers import (
    PASSWORD,
    clear_run_keys,
    forget_run_queue,
    make_agent,
    make_thread_with_message,
    pass_second_factor,
)

# The X sandbox as a live server (fixtures `sandbox`, `world`, `sandbox_url`, ...); the
# push process (`push`).
pytest_plugins = ["tests.sandbox", "tests.chromium", "tests.push"]


def pytest_configure(config: pytest.Config) -> None:
    """With no DATABASE_URL / REDIS_URL, the suite runs on the embedded servers."""
    from django.conf import settings

    from twelp import embedded

    embedded.ensure_running(
        settings.VAR_DIR, postgres=settings.EMBEDDED_POSTGRES, redis=settings.EMBEDDED_REDIS
    )


@pytest.fixture(scope="session")
def private_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of this run's own (db 9), for the benchmarks, which FLUSHDB theirs."""
    from tests.faults.servers import private_redis

    with private_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url(9)


@pytest.fixture(scope="session", autouse=True)
def _leave_nothing_in_redis() -> Iterator[None]:
    """At the end the run's keys, queue and queue bindings leave the shared Redis db."""
    yield
    clear_run_keys()
    forget_run_queue()


@pytest.fixture(autouse=True)
def _live_server_idle_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test with a live server: its requests still running (a closed page's last poll)
    end before the database is flushed (tests/inflight.py). Set up before the live server
    and its database, so torn down before them."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("live_server")
    yield
    from tests import inflight

    inflight.wait_until_idle()  # at most 10 s: then the flush goes on as before


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    from inbox import queries
    from inbox.live import presence
    from inbox.templatetags import queue_rows

    clear_run_keys()
    presence._written.clear()  # what this process remembers writing to the cache
    queue_rows._local.clear()  # rows and budgets this process keeps beside the cache
    queries._budgets_here.clear()


@pytest.fixture(autouse=True)
def _second_factor_on_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test client logged in as a supervisor or an admin (who must pass two-factor,
    agents.twofactor) passes it as a person does: one of their recovery codes posted to
    the verify page and checked by django-otp (tests.helpers.pass_second_factor)."""
    force_login = Client.force_login

    def logged_in_with_second_factor(self: Client, user: User, backend: str | None = None):
        force_login(self, user, backend)
        pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", logged_in_with_second_factor)


@pytest.fixture
def brand(db: None) -> Brand:
    return Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)


@pytest.fixture
def agent(brand: Brand) -> Agent:
    return make_agent(brand, "alice")


@pytest.fixture
def second_agent(brand: Brand) -> Agent:
    return make_agent(brand, "bob")


@pytest.fixture
def supervisor(brand: Brand) -> Agent:
    return make_agent(brand, "sue", role=Role.SUPERVISOR)


@pytest.fixture
def admin_agent(brand: Brand) -> Agent:
    return make_agent(brand, "ada", role=Role.ADMIN)


@pytest.fixture
def pending(brand: Brand) -> Agent:
    return make_agent(brand, "pete", state=AgentState.PENDING)


@pytest.fixture
def deactivated(brand: Brand) -> Agent:
    return make_agent(brand, "dora", state=AgentState.DEACTIVATED)


@pytest.fixture
def outsider(db: None) -> User:
    return User.objects.create_user("charlie", "charlie@example.com", PASSWORD)


@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def customer(brand: Brand) -> Customer:
    return Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")


@pytest.fixture
def message_text() -> str:
    """What the customer's tweet in `thread` says; a module overrides it to say more."""
    return "@acmecares where is my order?"


@pytest.fixture
def thread_preview() -> str:
    """The queue's preview of `thread` (empty, as the model's default); a module may set it."""
    return ""


@pytest.fixture
def thread(brand: Brand, customer: Customer, message_text: str, thread_preview: str) -> Thread:
    """An open thread with the customer's one tweet (conversation 100) in it."""
    return make_thread_with_message(brand, customer, message_text, preview=thread_preview)


@pytest.fixture
def source(brand: Brand) -> Source:
    return Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)


@pytest.fixture
def twelp_pages(sandbox_settings):
    """Twelp's own pages in this process (the sandbox fixture gave it the sandbox's)."""
    from django.conf import global_settings

    from tests import settings as ours
    from twelp.xsandbox import conf

    for name in conf.sandbox_settings():
        default = getattr(global_settings, name, None)
        setattr(sandbox_settings, name, getattr(ours, name, default))


@pytest.fixture
def scenario(brand, customer, agent, second_agent):
    """A day of threads, answers and closes (tests.inbox.scenario) for the figures."""
    from tests.inbox.scenario import build_scenario

    return build_scenario(brand, customer, agent, second_agent)
