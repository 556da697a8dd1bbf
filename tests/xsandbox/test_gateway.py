"""The gateway: typed records out, named errors for X's failures, one tweet at a time."""

from __future__ import annotations

from datetime import UTC

import pytest
import tweepy
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings

from tests.xsandbox.conftest import Sandbox
from twelp import xgateway
from twelp.xsandbox import actions


def test_it_returns_mentions_as_plain_records(sandbox: Sandbox):
    maya = sandbox.customers[0]
    first = sandbox.tweet_at_brand(maya, "where is my order?")
    second = actions.post_tweet(maya, "also it was a gift", in_reply_to_tweet_id=first.id)
    page = xgateway.mentions(sandbox.brand.id)
    assert [t.id for t in page.tweets] == [second.id, first.id]
    newest = page.tweets[0]
    assert isinstance(newest, xgateway.XTweet)
    assert not isinstance(newest, tweepy.Tweet)
    assert newest.text == "@acme_care also it was a gift"  # X addressed the self-reply
    assert (newest.author_id, newest.conversation_id) == (maya.id, first.id)
    assert newest.in_reply_to_tweet_id == first.id and newest.referenced == (
        ("replied_to", first.id),
    )
    assert newest.created_at.tzinfo is not None
    assert newest.created_at.utcoffset() == UTC.utcoffset(None)
    assert page.users[maya.id] == xgateway.XUser(
        id=maya.id, username="maya_rivera", name="Maya Rivera",
        description=maya.description, followers_count=812,
        created_at=page.users[maya.id].created_at,
    )  # fmt: skip
    assert (page.newest_id, page.oldest_id, page.next_token) == (second.id, first.id, None)
    assert page.rate_limit_remaining == 449


def test_it_unescapes_the_text_and_expands_links(sandbox: Sandbox):
    sandbox.tweet_at_brand(sandbox.customers[0], "Q&A <here>: https://example.com/a?b=1")
    [tweet] = xgateway.mentions(sandbox.brand.id).tweets
    assert tweet.text.startswith("@acme_care Q&A <here>: https://t.co/")
    assert tweet.expanded_text == "@acme_care Q&A <here>: https://example.com/a?b=1"
    assert "&amp;" in tweet.raw["text"]


def test_it_flags_a_plain_retweet_but_not_a_quote(sandbox: Sandbox):
    maya, tomasz = sandbox.customers[:2]
    original = sandbox.tweet_at_brand(maya, "broken again")
    actions.retweet(tomasz, original)
    actions.post_tweet(tomasz, "same here @acme_care", quote_tweet_id=original.id)
    quote, retweet, _ = xgateway.mentions(sandbox.brand.id).tweets
    assert retweet.is_retweet and retweet.referenced_id("retweeted") == original.id
    assert not quote.is_retweet and quote.referenced_id("quoted") == original.id


def test_it_posts_a_reply_and_reports_the_posting_budget(sandbox: Sandbox):
    question = sandbox.tweet_at_brand(sandbox.customers[0], "open on Sunday?")
    posted = xgateway.create_tweet("Yes & gladly! ^JD", in_reply_to_tweet_id=question.id)
    assert isinstance(posted, xgateway.PostedTweet)
    assert posted.text == "@maya_rivera Yes & gladly! ^JD"
    assert posted.rate_limit_remaining == 99  # 100 per 15 minutes per user
    assert posted.rate_limit_reset is not None
    assert xgateway.get_tweet(posted.id).conversation_id == question.id


def test_it_raises_duplicate_content_for_the_same_text_twice(sandbox: Sandbox):
    xgateway.create_tweet("We are open 9 to 5 today.")
    with pytest.raises(xgateway.DuplicateContent, match="duplicate content"):
        xgateway.create_tweet("We are open 9 to 5 today.")


def test_it_raises_permanent_for_a_reply_to_a_tweet_that_is_gone(sandbox: Sandbox):
    with pytest.raises(xgateway.Permanent, match="deleted or not visible"):
        xgateway.create_tweet("hello", in_reply_to_tweet_id=12345)


def test_it_raises_permanent_for_text_too_long(sandbox: Sandbox):
    with pytest.raises(xgateway.Permanent, match="too long"):
        xgateway.create_tweet("é" * 281)


def test_it_finds_a_reply_x_already_has_despite_added_mentions_and_links(sandbox: Sandbox):
    maya, tomasz = sandbox.customers[:2]
    question = sandbox.tweet_at_brand(maya, "how do I reset it?")
    other = sandbox.tweet_at_brand(tomasz, "how do I reset mine?")
    body = "Hold the button 10s: https://help.example.com/reset ^JD"
    posted = xgateway.create_tweet(body, in_reply_to_tweet_id=question.id)
    xgateway.create_tweet(body, in_reply_to_tweet_id=other.id)  # same text, other tweet
    assert posted.text.startswith("@maya_rivera Hold the button 10s: https://t.co/")
    found = xgateway.find_reply(
        author_id=sandbox.brand.id, in_reply_to_tweet_id=question.id, text=body
    )
    assert found == posted.id
    assert (
        xgateway.find_reply(
            author_id=sandbox.brand.id, in_reply_to_tweet_id=question.id, text="Something else"
        )
        is None
    )


def test_it_finds_a_reply_whose_bare_link_x_gave_back_with_a_scheme(sandbox: Sandbox):
    maya = sandbox.customers[0]
    question = sandbox.tweet_at_brand(maya, "where do I start a return?")
    body = "Start it at bestbuy.com/returns ^JD"
    posted = xgateway.create_tweet(body, in_reply_to_tweet_id=question.id)
    assert "bestbuy.com" not in posted.text  # X wrapped the bare link in t.co
    found = xgateway.find_reply(
        author_id=sandbox.brand.id, in_reply_to_tweet_id=question.id, text=body
    )
    assert found == posted.id


def test_it_accepts_a_long_bare_link_that_x_counts_as_23(sandbox: Sandbox):
    body = "Here: example.com/" + "a" * 300 + " ^JD"
    posted = xgateway.create_tweet(body)
    assert posted.text.startswith("Here: https://t.co/")


def test_it_lists_the_brands_replies_to_one_tweet_across_timeline_pages(sandbox: Sandbox):
    maya = sandbox.customers[0]
    question = sandbox.tweet_at_brand(maya, "hello?")
    answer = xgateway.create_tweet("Hi! ^JD", in_reply_to_tweet_id=question.id)
    for n in range(120):  # more than one page of the brand's timeline after it
        actions.post_tweet(sandbox.brand, f"Announcement {n}")
    replies = xgateway.recent_replies_by(sandbox.brand.id, question.id)
    assert [reply.id for reply in replies] == [answer.id]


def test_it_looks_up_users_and_tweets_and_says_what_is_missing(sandbox: Sandbox):
    me = xgateway.get_me()
    assert (me.id, me.username, me.verified) == (sandbox.brand.id, "acme_care", True)
    assert xgateway.get_user_by_username("tomasz_k").id == sandbox.customers[1].id
    assert xgateway.get_user(sandbox.customers[2].id).name == "田中 愛子"
    assert xgateway.get_user_by_username("nobody") is None
    assert xgateway.get_user(99) is None
    tweet = sandbox.tweet_at_brand(sandbox.customers[0], "hi")
    page = xgateway.get_tweets([tweet.id, 77])
    assert [t.id for t in page.tweets] == [tweet.id] and page.missing == (77,)
    assert xgateway.get_tweet(78) is None


def test_it_sends_and_reads_direct_messages(sandbox: Sandbox):
    maya = sandbox.customers[0]
    actions.send_dm(maya, sandbox.brand, "Order 123, it's urgent")
    sent = xgateway.send_dm(maya.id, "Thanks, looking now ^JD")
    assert sent.dm_conversation_id == "-".join(map(str, sorted((maya.id, sandbox.brand.id))))
    page = xgateway.dm_events()
    assert [(m.sender_id, m.text) for m in page.messages] == [
        (sandbox.brand.id, "Thanks, looking now ^JD"),
        (maya.id, "Order 123, it's urgent"),
    ]
    assert page.messages[0].id == sent.id
    assert page.users[maya.id].username == "maya_rivera"


def test_it_maps_x_failures_to_named_errors(sandbox: Sandbox, settings: Settings):
    settings.X_BEARER_TOKEN = "wrong"
    with pytest.raises(xgateway.Unauthorized):
        xgateway.mentions(sandbox.brand.id)
    settings.X_BEARER_TOKEN = "test-bearer-token"
    with pytest.raises(xgateway.Permanent):  # 400: max_results below X's minimum of 5
        xgateway.mentions(sandbox.brand.id, max_results=1)
    with pytest.raises(xgateway.Permanent):  # 400: an invalid query
        xgateway.search_recent("-is:retweet")


def test_it_maps_an_unreachable_x_to_transient(sandbox: Sandbox, settings: Settings):
    settings.X_API_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(xgateway.Transient, match="could not be reached"):
        xgateway.mentions(sandbox.brand.id)


def test_it_refuses_to_call_x_without_credentials(settings: Settings):
    settings.X_BEARER_TOKEN = ""
    with pytest.raises(ImproperlyConfigured, match="X_BEARER_TOKEN"):
        xgateway.mentions(1)
    settings.X_ACCESS_TOKEN = ""
    with pytest.raises(ImproperlyConfigured, match="X_ACCESS_TOKEN"):
        xgateway.create_tweet("hello")
