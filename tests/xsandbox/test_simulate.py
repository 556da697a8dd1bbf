"""The simulated customers: a realistic mix, the same for the same seed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from tests.xsandbox.conftest import Sandbox
from twelp import xgateway
from twelp.xsandbox.models import Account, App, Tweet
from twelp.xsandbox.seed import EMPLOYEES, World
from twelp.xsandbox.simulate import simulate


def test_it_makes_the_same_tweets_for_the_same_seed(world: World):
    first = simulate(60, seed=11)
    second = simulate(60, seed=11)
    other = simulate(60, seed=12)
    shape = lambda run: [(t.author.username, t.text, t.lang) for t in run.tweets]  # noqa: E731
    assert shape(first) == shape(second)
    assert shape(first) != shape(other)
    assert first.kinds == second.kinds


def test_it_mixes_what_real_customers_send(world: World):
    run = simulate(400, seed=5)
    assert Tweet.objects.count() == 400
    assert sum(run.kinds.values()) == 400
    assert {"question", "complaint", "praise", "foreign", "link", "follow_up", "retweet",
            "quote"} <= set(run.kinds)  # fmt: skip
    tweets = Tweet.objects.all()
    retweet = tweets.filter(retweeted_tweet_id__isnull=False).first()
    assert retweet.text.startswith("RT @")
    assert tweets.filter(quoted_tweet_id__isnull=False).exists()
    assert set(tweets.values_list("lang", flat=True)) >= {"en", "es", "ja"}
    assert tweets.filter(text__contains="https://t.co/").exists()
    assert any(ord(char) > 0xFFFF for tweet in tweets for char in tweet.text)  # emoji


def test_it_grows_threads_that_stay_addressed_to_the_brand(world: World):
    simulate(300, seed=8)
    follow_ups = Tweet.objects.filter(in_reply_to_tweet_id__isnull=False)
    assert follow_ups.count() > 10
    for reply in follow_ups.select_related("author"):
        parent = Tweet.objects.get(pk=reply.in_reply_to_tweet_id)
        assert reply.conversation_id == parent.conversation_id
        assert "@acme_care" in reply.text
    deepest = max(
        Tweet.objects.filter(conversation_id=c).count()
        for c in follow_ups.values_list("conversation_id", flat=True)
    )
    assert deepest >= 3


def test_it_serves_simulated_tweets_to_the_gateway(sandbox: Sandbox):
    run = simulate(150, seed=3)
    seen, token = [], None
    while True:
        page = xgateway.mentions(sandbox.brand.id, pagination_token=token)
        assert page.malformed == ()
        seen += page.tweets
        if (token := page.next_token) is None:
            break
    assert len(seen) == len(run.tweets)  # every simulated tweet mentions the brand
    assert sum(t.is_retweet for t in seen) == run.kinds["retweet"]


def test_it_runs_from_the_command_line(world: World):
    out = StringIO()
    call_command("xsandbox_simulate", "--count", "25", "--seed", "4", stdout=out)
    assert "Posted 25 tweets" in out.getvalue()
    assert Tweet.objects.count() == 25
    with pytest.raises(CommandError, match="at least 1"):
        call_command("xsandbox_simulate", "--count", "0")


def test_it_seeds_idempotently(world: World):
    out = StringIO()
    call_command("xsandbox_seed", stdout=out)
    call_command("xsandbox_seed", stdout=out)
    assert "Brand @acme_care (id 1500000000000000007)" in out.getvalue()
    assert App.objects.count() == 1
    # The brand and the training account (training mode), once each.
    brands = Account.objects.filter(kind=Account.Kind.BRAND).order_by("username")
    assert [account.username for account in brands] == ["acme_care", "twelpdemo_train"]
    # Four customers and the demo employees' own accounts (inbox.demo, the relay).
    assert Account.objects.count() == 6 + len(EMPLOYEES)
    jane = Account.objects.get(username="janedoe_cares")
    assert (jane.id, jane.kind) == (EMPLOYEES["janedoe_cares"][1], Account.Kind.CUSTOMER)


def test_it_needs_a_brand_first(transactional_db: None, sandbox_settings: Settings):
    with pytest.raises(CommandError, match="xsandbox_seed"):
        call_command("xsandbox_simulate", "--count", "5")
