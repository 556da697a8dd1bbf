"""The X sandbox as a real HTTP server in a thread, seeded, and tweepy pointed at it.

The server thread opens its own database connections, so tests that call it use
`transactional_db` (through `world`): what the test writes is committed and visible to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import tweepy
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.db import connections
from django.http import HttpResponse
from django.test.testcases import LiveServerThread
from pytest_django.fixtures import Settings

from twelp import xgateway
from twelp.xsandbox import actions, conf
from twelp.xsandbox.models import Account, Tweet
from twelp.xsandbox.seed import World, seed

ADMIN_TOKEN = "test-sandbox-admin-token"
CREDENTIALS = {
    "X_BEARER_TOKEN": "test-bearer-token",
    "X_CONSUMER_KEY": "test-consumer-key",
    "X_CONSUMER_SECRET": "test-consumer-secret",
    "X_ACCESS_TOKEN": "1500000000000000007-test-access-token",
    "X_ACCESS_TOKEN_SECRET": "test-access-token-secret",
}
BRAND_ID = 1500000000000000007


class SandboxHandler(WSGIHandler):
    """Serves the sandbox's URLs whatever ROOT_URLCONF the test process has."""

    def get_response(self, request: WSGIRequest) -> HttpResponse:
        request.urlconf = "twelp.xsandbox.urls"
        try:
            return super().get_response(request)
        finally:
            # A keep-alive connection keeps its server thread (and, with CONN_MAX_AGE, a
            # database session) alive between requests; the test database must be free
            # to flush and drop, so each request closes its own.
            connections.close_all()


@dataclass(frozen=True)
class Sandbox:
    url: str
    world: World

    @property
    def brand(self) -> Account:
        return self.world.brand

    @property
    def customers(self) -> list[Account]:
        return self.world.customers

    def control(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """Call /_sandbox/ with the admin token."""
        headers = {"X-Sandbox-Token": ADMIN_TOKEN}
        return requests.request(method, f"{self.url}/_sandbox/{path}", headers=headers, **kwargs)

    def fault(self, kind: str, endpoint: str = "*", **spec: object) -> dict:
        response = self.control("POST", "faults", json={"kind": kind, "endpoint": endpoint, **spec})
        assert response.status_code == 201, response.text
        return response.json()

    def tweepy_client(self, account: Account | None = None) -> tweepy.Client:
        """A plain tweepy client (default Response objects), as the brand or `account`."""
        account = account or self.brand
        client = tweepy.Client(
            bearer_token=CREDENTIALS["X_BEARER_TOKEN"],
            consumer_key=CREDENTIALS["X_CONSUMER_KEY"],
            consumer_secret=CREDENTIALS["X_CONSUMER_SECRET"],
            access_token=account.access_token,
            access_token_secret=account.access_token_secret,
        )
        client.session = xgateway.XSession(self.url, timeout=10)
        return client

    def tweet_at_brand(self, author: Account, text: str, **kwargs: object) -> Tweet:
        return actions.post_tweet(author, f"@{self.brand.username} {text}", **kwargs)


@pytest.fixture
def sandbox_settings(settings: Settings) -> Settings:
    """The sandbox process's settings (cookies, no SSL redirect) and test credentials."""
    for name, value in conf.sandbox_settings().items():
        setattr(settings, name, value)
    for name, value in CREDENTIALS.items():
        setattr(settings, name, value)
    settings.XSANDBOX_ADMIN_TOKEN = ADMIN_TOKEN
    settings.XSANDBOX_BRAND_USERNAME = "acme_care"
    settings.XSANDBOX_RATE_LIMITS_ENABLED = True
    settings.XSANDBOX_FAULTS = ""
    # Twelp's OAuth 2.0 client, calling back to the test client's host (a browser test
    # adds its live server's: tests.agents.helpers.allow_callback).
    settings.XSANDBOX_OAUTH2_CLIENTS = json.dumps(
        [
            {
                "client_id": settings.X_OAUTH2_CLIENT_ID,
                "client_secret": settings.X_OAUTH2_CLIENT_SECRET,
                "name": "Twelp",
                "redirect_uris": ["http://testserver/x/callback/"],
            }
        ]
    )
    return settings


@pytest.fixture
def world(transactional_db: None, sandbox_settings: Settings) -> World:
    return seed()


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    """One server for the session: it reads settings and the database at each request, so
    every test's own overrides and rows apply to it."""
    # static_handler wraps Django's handler; we hand the thread our own instead.
    server = LiveServerThread("127.0.0.1", static_handler=lambda _inner: SandboxHandler())
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield f"http://127.0.0.1:{server.port}"
    server.terminate()


@pytest.fixture
def sandbox(world: World, sandbox_settings: Settings, sandbox_url: str) -> Sandbox:
    """The seeded sandbox, live; the gateway (X_API_BASE_URL) points at it."""
    sandbox_settings.X_API_BASE_URL = sandbox_url
    sandbox_settings.X_OAUTH2_AUTHORIZE_URL = f"{sandbox_url}/i/oauth2/authorize"
    return Sandbox(url=sandbox_url, world=world)


@pytest.fixture
def twelp_urls(sandbox: Sandbox, sandbox_settings: Settings) -> Sandbox:
    """The sandbox, live, while this process's own requests (django.test.Client) reach
    Twelp: the sandbox server thread routes by request.urlconf, not by these settings."""
    from django.conf import global_settings

    from tests import settings as ours

    for name in ("ROOT_URLCONF", "SESSION_ENGINE", "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME"):
        setattr(sandbox_settings, name, getattr(ours, name, None) or getattr(global_settings, name))
    return sandbox
