"""The recent-search query language subset, compiled to SQL and served over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.xsandbox.conftest import Sandbox
from twelp import xgateway
from twelp.xsandbox import actions, snowflake
from twelp.xsandbox.models import Tweet
from twelp.xsandbox.query import QueryError, compile_query
from twelp.xsandbox.seed import World


@pytest.fixture
def corpus(world: World) -> dict[str, Tweet]:
    maya, tomasz, aiko, _ = world.customers
    brand = world.brand
    tweets = {
        "late": actions.post_tweet(maya, "@acme_care My ORDER is late again"),
        "phrase": actions.post_tweet(tomasz, "the best buy ever, thanks @acme_care"),
        "scrambled": actions.post_tweet(tomasz, "buy the best"),
        "tag": actions.post_tweet(aiko, "Loving it #AcmeDeals"),
        "tagline": actions.post_tweet(aiko, "#AcmeDealsForever is a tagline"),
        "spanish": actions.post_tweet(maya, "mi pedido no llega", lang="es"),
        "brand": actions.post_tweet(brand, "We are open until 9 tonight"),
        "orders": actions.post_tweet(aiko, "orders are slow today"),
    }
    tweets["reply"] = actions.post_tweet(brand, "Sorry!", in_reply_to_tweet_id=tweets["late"].id)
    tweets["retweet"] = actions.retweet(tomasz, tweets["late"])
    return tweets


def _search(query: str, corpus: dict[str, Tweet]) -> set[str]:
    ids = set(Tweet.objects.filter(compile_query(query)).values_list("id", flat=True))
    return {name for name, tweet in corpus.items() if tweet.id in ids}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("order", {"late", "retweet"}),  # whole words, any case: not "orders"
        ("order -is:retweet", {"late"}),
        ('"best buy"', {"phrase"}),  # a phrase, in that order
        ("best buy", {"phrase", "scrambled"}),  # both words, any order
        ("#acmedeals", {"tag"}),  # the whole hashtag only
        ("@acme_care -from:acme_care", {"late", "phrase", "retweet"}),
        ("from:acme_care", {"brand", "reply"}),
        ("to:maya_rivera", {"reply"}),
        ("pedido OR tonight", {"spanish", "brand"}),
        ("(late OR slow) -is:retweet", {"late", "orders"}),
        ("-(late OR slow) @acme_care", {"phrase"}),
        ("is:reply", {"reply"}),
        ("lang:es", {"spanish"}),
    ],
)
def test_it_matches_the_query_language(query: str, expected: set[str], corpus: dict[str, Tweet]):
    assert _search(query, corpus) == expected


def test_it_matches_conversation_id(corpus: dict[str, Tweet]):
    query = f"conversation_id:{corpus['late'].id}"
    assert _search(query, corpus) == {"late", "reply"}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("-is:retweet", "non-negation term"),
        ("(order OR late", "Unbalanced parentheses"),
        ("order)", "Unbalanced parentheses"),
        ('"unclosed phrase', "Unmatched quotation mark"),
        ("place:paris", "invalid operator"),
        ("x" * 513, "longer than 512"),
    ],
)
def test_it_refuses_what_x_refuses(query: str, reason: str):
    with pytest.raises(QueryError, match=reason):
        compile_query(query)


def test_it_serves_the_query_language_over_http(sandbox: Sandbox):
    maya = sandbox.customers[0]
    wanted = sandbox.tweet_at_brand(maya, "my order is late")
    actions.retweet(sandbox.customers[1], wanted)
    actions.post_tweet(sandbox.brand, "@maya_rivera your order ships today")
    page = xgateway.search_recent('("order is" OR ships) -is:retweet -from:acme_care')
    assert [t.id for t in page.tweets] == [wanted.id]


def test_it_only_searches_the_last_seven_days(sandbox: Sandbox):
    eight_days_ago = snowflake.floor_for(timezone.now() - timedelta(days=8))
    old = actions.draft_tweet(sandbox.customers[0], "ancient order", tweet_id=eight_days_ago)
    actions.save_drafts([old])
    assert Tweet.objects.filter(text="ancient order").exists()
    assert xgateway.search_recent("ancient").tweets == ()
    with pytest.raises(xgateway.Permanent, match="since_id"):
        xgateway.search_recent("order", since_id=eight_days_ago)
