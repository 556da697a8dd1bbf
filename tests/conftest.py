"""Shared fixtures: real PostgreSQL and Redis, and the personas every test can use.

The personas follow healthchecks' alice/bob/charlie: an agent, a second agent who must
lose races, a supervisor, an admin, a pending registration, a deactivated employee, and
an outsider who has a login but no place in the brand.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from agents.models import Agent, AgentState, Role
from inbox.models import Brand, Customer
from tests.helpers import PASSWORD, make_agent

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


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    from inbox.live import presence

    cache.clear()
    presence._written.clear()  # what this process remembers writing to the cache


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
