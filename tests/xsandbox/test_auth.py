"""Authentication as X does it: Bearer for the app, OAuth 1.0a (signed) for a user."""

from __future__ import annotations

import time

import pytest
import requests
import tweepy
from oauthlib.oauth1 import Client as OAuthClient
from pytest_django.fixtures import Settings

from tests.xsandbox.conftest import CREDENTIALS, Sandbox
from twelp import xgateway
from twelp.xsandbox.models import Tweet

UNAUTHORIZED = {
    "title": "Unauthorized",
    "detail": "Unauthorized",
    "type": "about:blank",
    "status": 401,
}


def _signed(sandbox: Sandbox, path: str, **overrides: str) -> requests.Response:
    """GET `path` with an OAuth 1.0a header signed as tweepy would, with some values changed."""
    keys = {
        "client_key": CREDENTIALS["X_CONSUMER_KEY"],
        "client_secret": CREDENTIALS["X_CONSUMER_SECRET"],
        "resource_owner_key": CREDENTIALS["X_ACCESS_TOKEN"],
        "resource_owner_secret": CREDENTIALS["X_ACCESS_TOKEN_SECRET"],
    }
    timestamp = overrides.pop("timestamp", None)
    client = OAuthClient(**(keys | overrides), timestamp=timestamp)
    url, headers, _ = client.sign(f"{sandbox.url}/{path}")
    return requests.get(url, headers=headers)


def test_it_accepts_a_correctly_signed_user_context_request(sandbox: Sandbox):
    response = _signed(sandbox, "2/users/me")
    assert response.status_code == 200
    assert response.json()["data"]["username"] == "acme_care"


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_key": "unknown-app"},
        {"client_secret": "not-the-secret"},  # signature does not match
        {"resource_owner_key": "1-unknown-token"},
        {"resource_owner_secret": "not-the-token-secret"},
        {"timestamp": str(int(time.time()) - 3600)},  # an hour old: a replay
    ],
)
def test_it_answers_401_to_bad_oauth_credentials(sandbox: Sandbox, overrides: dict[str, str]):
    response = _signed(sandbox, "2/users/me", **overrides)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_it_answers_401_to_a_wrong_or_missing_bearer_token(sandbox: Sandbox):
    url = f"{sandbox.url}/2/users/{sandbox.brand.id}/mentions"
    for headers in ({"Authorization": "Bearer nope"}, {}):
        response = requests.get(url, headers=headers)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_it_maps_401_to_unauthorized_in_the_gateway(sandbox: Sandbox, settings: Settings):
    settings.X_ACCESS_TOKEN_SECRET = "stale"
    with pytest.raises(xgateway.Unauthorized, match="401"):
        xgateway.create_tweet("hello")
    with pytest.raises(tweepy.Unauthorized):
        client = sandbox.tweepy_client()
        client.access_token_secret = "stale"
        client.get_me()


def test_it_refuses_app_only_auth_where_a_user_must_act(sandbox: Sandbox):
    response = requests.post(
        f"{sandbox.url}/2/tweets", json={"text": "hi"},
        headers={"Authorization": "Bearer test-bearer-token"},
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json()["title"] == "Unsupported Authentication"
    assert not Tweet.objects.exists()


def test_it_posts_as_whichever_user_the_access_token_belongs_to(sandbox: Sandbox):
    maya = sandbox.customers[0]
    posted = sandbox.tweepy_client(maya).create_tweet(text="@acme_care hi from Maya")
    assert Tweet.objects.get(pk=posted.data["id"]).author_id == maya.id
    assert maya.access_token.startswith(f"{maya.id}-")  # X's token format
