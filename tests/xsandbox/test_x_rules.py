"""X as it is today: separate posting and DM budgets with X's headers, DM read limits, and
the summoned-reply rule for self-serve apps (Enterprise exempt)."""

from __future__ import annotations

import pytest
import requests
import tweepy
from pytest_django.fixtures import Settings

from tests.xsandbox.conftest import CREDENTIALS, Sandbox
from twelp import xgateway
from twelp.xsandbox import actions


def test_it_limits_dm_sends_to_15_per_15_minutes_with_xs_headers(sandbox: Sandbox):
    customer = sandbox.customers[0]
    actions.send_dm(customer, sandbox.brand, "hello")  # they wrote first: the brand may answer
    client = sandbox.tweepy_client()
    client.return_type = requests.Response
    answers = [
        client.create_direct_message(participant_id=customer.id, text=f"answer {n}")
        for n in range(15)
    ]
    last = answers[-1].headers
    assert (last["x-rate-limit-limit"], last["x-rate-limit-remaining"]) == ("15", "0")
    assert last["x-user-limit-24hour-limit"] == "1440"
    assert last["x-user-limit-24hour-remaining"] == "1425"
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.create_direct_message(participant_id=customer.id, text="one too many")
    assert caught.value.response.json() == {
        "title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
        "status": 429,
    }  # fmt: skip
    # Tweets are a budget of their own: a spent DM budget leaves posting untouched.
    posted = xgateway.create_tweet("still posting")
    assert posted.rate_limit_remaining is not None and posted.rate_limit_remaining > 0


def test_it_limits_dm_reads_to_15_per_15_minutes(sandbox: Sandbox):
    for _ in range(15):
        xgateway.dm_events()
    with pytest.raises(xgateway.RateLimited):
        xgateway.dm_events()


def test_it_reports_the_apps_24_hour_posting_cap(sandbox: Sandbox):
    client = sandbox.tweepy_client()
    client.return_type = requests.Response
    answer = client.create_tweet(text="a tip from the brand")
    assert answer.headers["x-rate-limit-limit"] == "100"
    assert answer.headers["x-rate-limit-remaining"] == "99"
    assert answer.headers["x-app-limit-24hour-limit"] == "10000"
    assert answer.headers["x-app-limit-24hour-remaining"] == "9999"


def test_it_refuses_a_reply_to_a_post_that_never_tagged_the_brand(sandbox: Sandbox):
    customer = sandbox.customers[0]
    untagged = actions.post_tweet(customer, "my router from acme is broken again")
    with pytest.raises(tweepy.Forbidden) as caught:
        sandbox.tweepy_client().create_tweet(text="Sorry! DM us", in_reply_to_tweet_id=untagged.id)
    assert caught.value.response.json() == {
        "title": "Forbidden",
        "detail": actions.NOT_SUMMONED,
        "type": "about:blank",
        "status": 403,
    }
    with pytest.raises(xgateway.Permanent, match="not been mentioned"):
        xgateway.create_tweet("Sorry!", in_reply_to_tweet_id=untagged.id)


def test_it_allows_a_reply_to_a_mention_a_quote_and_a_follow_up(sandbox: Sandbox):
    customer = sandbox.customers[0]
    mention = sandbox.tweet_at_brand(customer, "help please")
    brand_tip = actions.post_tweet(sandbox.brand, "Tip: restart the router")
    quote = actions.post_tweet(customer, "did not work", quote_tweet_id=brand_tip.id)
    answer = xgateway.create_tweet("On it", in_reply_to_tweet_id=mention.id)
    # X starts a reply to the brand's post with @brand: the follow-up summons the brand.
    follow_up = actions.post_tweet(customer, "thanks", in_reply_to_tweet_id=answer.id)
    for summoned in (mention, quote, follow_up, brand_tip):
        assert xgateway.create_tweet(f"reply to {summoned.id}", in_reply_to_tweet_id=summoned.id)


def test_it_exempts_an_enterprise_app(sandbox: Sandbox, settings: Settings):
    settings.XSANDBOX_ENTERPRISE_APPS = [CREDENTIALS["X_CONSUMER_KEY"]]
    untagged = actions.post_tweet(sandbox.customers[0], "acme routers are slow")
    posted = xgateway.create_tweet("We can help", in_reply_to_tweet_id=untagged.id)
    assert posted.id > untagged.id
