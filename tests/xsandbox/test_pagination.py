"""Pages as X pages them: newest first, since_id/until_id exclusive, pagination_token for
timelines and DMs, next_token for search, and tweepy's Paginator walking all of them."""

from __future__ import annotations

import tweepy

from tests.xsandbox.conftest import Sandbox
from twelp import xgateway
from twelp.xsandbox import actions
from twelp.xsandbox.models import Tweet


def _mentions(sandbox: Sandbox, count: int) -> list[Tweet]:
    """`count` tweets at the brand, oldest first."""
    authors = sandbox.customers
    return [
        sandbox.tweet_at_brand(authors[n % len(authors)], f"question {n}") for n in range(count)
    ]


def test_it_pages_the_mentions_timeline_with_pagination_token(sandbox: Sandbox):
    tweets = _mentions(sandbox, 23)
    client = sandbox.tweepy_client()
    first = client.get_users_mentions(sandbox.brand.id, max_results=10)
    assert [t.id for t in first.data] == [t.id for t in reversed(tweets)][:10]
    assert first.meta["newest_id"] == str(tweets[-1].id) and "previous_token" not in first.meta
    second = client.get_users_mentions(
        sandbox.brand.id, max_results=10, pagination_token=first.meta["next_token"]
    )
    assert [t.id for t in second.data] == [t.id for t in reversed(tweets)][10:20]
    assert "previous_token" in second.meta
    third = client.get_users_mentions(
        sandbox.brand.id, max_results=10, pagination_token=second.meta["next_token"]
    )
    assert len(third.data) == 3 and "next_token" not in third.meta


def test_it_goes_back_to_the_newer_page_with_previous_token(sandbox: Sandbox):
    _mentions(sandbox, 12)
    client = sandbox.tweepy_client()
    first = client.get_users_mentions(sandbox.brand.id, max_results=5)
    second = client.get_users_mentions(
        sandbox.brand.id, max_results=5, pagination_token=first.meta["next_token"]
    )
    back = client.get_users_mentions(
        sandbox.brand.id, max_results=5, pagination_token=second.meta["previous_token"]
    )
    assert [t.id for t in back.data] == [t.id for t in first.data]


def test_it_walks_every_page_with_tweepys_paginator(sandbox: Sandbox):
    tweets = _mentions(sandbox, 27)
    client = sandbox.tweepy_client()
    pages = list(tweepy.Paginator(client.get_users_mentions, sandbox.brand.id, max_results=10))
    assert [len(page.data) for page in pages] == [10, 10, 7]
    ids = [t.id for page in pages for t in page.data]
    assert ids == sorted((t.id for t in tweets), reverse=True)
    found = tweepy.Paginator(client.search_recent_tweets, "question", max_results=10).flatten()
    assert sorted(t.id for t in found) == sorted(t.id for t in tweets)


def test_it_returns_only_tweets_after_since_id_and_before_until_id(sandbox: Sandbox):
    tweets = _mentions(sandbox, 8)
    client = sandbox.tweepy_client()
    newer = client.get_users_mentions(sandbox.brand.id, since_id=tweets[4].id)
    assert [t.id for t in newer.data] == [t.id for t in reversed(tweets[5:])]
    older = client.get_users_mentions(sandbox.brand.id, until_id=tweets[2].id)
    assert [t.id for t in older.data] == [tweets[1].id, tweets[0].id]
    between = client.get_users_mentions(
        sandbox.brand.id, since_id=tweets[1].id, until_id=tweets[4].id
    )
    assert [t.id for t in between.data] == [tweets[3].id, tweets[2].id]
    assert client.get_users_mentions(sandbox.brand.id, since_id=tweets[-1].id).data is None


def test_it_pages_recent_search_with_next_token_and_since_id(sandbox: Sandbox):
    tweets = _mentions(sandbox, 25)
    seen: list[int] = []
    token = None
    while True:
        page = xgateway.search_recent(
            "question", since_id=tweets[2].id, next_token=token, max_results=10
        )
        seen += [t.id for t in page.tweets]
        token = page.next_token
        if token is None:
            break
    assert seen == [t.id for t in reversed(tweets[3:])]


def test_it_keeps_new_tweets_out_of_a_walk_already_under_way(sandbox: Sandbox):
    tweets = _mentions(sandbox, 15)
    first = xgateway.mentions(sandbox.brand.id, max_results=10)
    late = sandbox.tweet_at_brand(sandbox.customers[0], "arrived mid-walk")
    second = xgateway.mentions(sandbox.brand.id, max_results=10, pagination_token=first.next_token)
    assert late.id not in [t.id for t in first.tweets + second.tweets]
    assert len(first.tweets) + len(second.tweets) == len(tweets)
    assert xgateway.mentions(sandbox.brand.id, since_id=first.newest_id).tweets[0].id == late.id


def test_it_pages_direct_message_events(sandbox: Sandbox):
    maya = sandbox.customers[0]
    sent = [actions.send_dm(maya, sandbox.brand, f"message {n}") for n in range(5)]
    first = xgateway.dm_events(max_results=2)
    second = xgateway.dm_events(max_results=2, pagination_token=first.next_token)
    third = xgateway.dm_events(max_results=2, pagination_token=second.next_token)
    walked = [m.id for page in (first, second, third) for m in page.messages]
    assert walked == [m.id for m in reversed(sent)]
    assert third.next_token is None


def test_it_refuses_a_token_it_did_not_make(sandbox: Sandbox):
    client = sandbox.tweepy_client()
    try:
        client.get_users_mentions(sandbox.brand.id, pagination_token="not-a-token")
    except tweepy.BadRequest as error:
        assert "is not a valid token" in str(error)
    else:
        raise AssertionError("expected a 400")
