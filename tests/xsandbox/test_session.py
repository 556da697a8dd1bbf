"""XSession: tweepy's hard-coded host is rewritten to X_API_BASE_URL, with a timeout."""

from __future__ import annotations

import pytest
import tweepy
from pytest_django.fixtures import Settings

from tests.xsandbox.conftest import Sandbox
from twelp import xgateway


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.twitter.com/2/tweets", "http://127.0.0.1:8001/2/tweets"),
        ("https://api.x.com/2/users/me?x=1", "http://127.0.0.1:8001/2/users/me?x=1"),
        ("https://api.twitter.com", "http://127.0.0.1:8001"),
        ("https://upload.twitter.com/1.1/media", "https://upload.twitter.com/1.1/media"),
        ("https://api.twitter.com.evil.example/2/tweets", "https://api.twitter.com.evil.example/2/tweets"),
    ],
)  # fmt: skip
def test_it_rewrites_only_xs_api_origins(url: str, expected: str):
    assert xgateway.XSession("http://127.0.0.1:8001/", timeout=5).rewrite(url) == expected


def test_it_keeps_a_path_prefix_of_the_base_url():
    session = xgateway.XSession("https://proxy.example/x-api", timeout=5)
    assert (
        session.rewrite("https://api.twitter.com/2/tweets")
        == "https://proxy.example/x-api/2/tweets"
    )


def test_it_is_the_session_tweepy_sends_every_call_through(sandbox: Sandbox):
    client = xgateway.client()
    assert isinstance(client, tweepy.Client)
    assert isinstance(client.session, xgateway.XSession)
    assert client.session.base_url == sandbox.url
    # The real X is unreachable from here: an answer means the sandbox got the call.
    assert xgateway.get_me().id == sandbox.brand.id


def test_it_gives_each_request_the_configured_timeout(sandbox: Sandbox, settings: Settings):
    settings.X_API_TIMEOUT = 7
    seen = []

    class Spy(xgateway.XSession):
        def send(self, request, **kwargs):  # the last step before the wire
            seen.append(kwargs.get("timeout"))
            return super().send(request, **kwargs)

    session = Spy(sandbox.url, timeout=settings.X_API_TIMEOUT)
    session.get(f"{sandbox.url}/2/users/me")
    session.get(f"{sandbox.url}/2/users/me", timeout=2)
    assert seen == [7, 2]


def test_it_rebuilds_the_client_when_settings_change(sandbox: Sandbox, settings: Settings):
    first = xgateway.client()
    assert xgateway.client() is first
    settings.X_API_TIMEOUT = 3
    second = xgateway.client()
    assert second is not first and second.session.timeout == 3
