"""Every endpoint Twelp uses, through plain tweepy over real HTTP: tweepy parses each answer
into its Response / Tweet / User / DirectMessageEvent objects without an error."""

from __future__ import annotations

import requests
import tweepy

from tests.xsandbox.conftest import Sandbox
from twelp.xsandbox import actions

TWEET_FIELDS = [
    "author_id", "conversation_id", "created_at", "in_reply_to_user_id", "referenced_tweets",
    "entities", "lang", "public_metrics",
]  # fmt: skip
USER_FIELDS = ["created_at", "description", "public_metrics", "verified", "profile_image_url"]


def test_it_serves_the_mentions_timeline_with_fields_and_authors(sandbox: Sandbox):
    maya = sandbox.customers[0]
    tweet = sandbox.tweet_at_brand(maya, "my order #123 is late 😡 https://example.com/o/123")
    response = sandbox.tweepy_client().get_users_mentions(
        sandbox.brand.id, tweet_fields=TWEET_FIELDS, expansions=["author_id"],
        user_fields=USER_FIELDS,
    )  # fmt: skip
    [got] = response.data
    assert isinstance(got, tweepy.Tweet)
    assert (got.id, got.author_id, got.conversation_id) == (tweet.id, maya.id, tweet.id)
    assert got.edit_history_tweet_ids == [tweet.id]
    assert got.created_at == tweet.created_at  # milliseconds survive the trip
    assert got.text.startswith("@acme_care my order #123 is late 😡 https://t.co/")
    assert got.entities["urls"][0]["expanded_url"] == "https://example.com/o/123"
    assert got.entities["mentions"][0] == {
        "start": 0, "end": 10, "username": "acme_care", "id": str(sandbox.brand.id)
    }  # fmt: skip
    assert got.public_metrics["reply_count"] == 0
    [author] = response.includes["users"]
    assert (author.id, author.username, author.public_metrics["followers_count"]) == (
        maya.id, maya.username, maya.followers_count
    )  # fmt: skip
    assert response.meta == {
        "result_count": 1, "newest_id": str(tweet.id), "oldest_id": str(tweet.id)
    }  # fmt: skip


def test_it_answers_an_empty_page_with_only_a_result_count(sandbox: Sandbox):
    raw = sandbox.tweepy_client().session.get(
        f"{sandbox.url}/2/users/{sandbox.brand.id}/mentions",
        headers={"Authorization": "Bearer test-bearer-token"},
    )
    assert raw.json() == {"meta": {"result_count": 0}}
    response = sandbox.tweepy_client().get_users_mentions(sandbox.brand.id)
    assert response.data is None and response.meta == {"result_count": 0}


def test_it_leaves_out_fields_that_were_not_asked_for(sandbox: Sandbox):
    sandbox.tweet_at_brand(sandbox.customers[0], "hello")
    [got] = sandbox.tweepy_client().get_users_mentions(sandbox.brand.id).data
    assert set(got.data) == {"id", "text", "edit_history_tweet_ids"}


def test_it_posts_a_reply_that_joins_the_customers_conversation(sandbox: Sandbox):
    maya = sandbox.customers[0]
    question = sandbox.tweet_at_brand(maya, "is the store open on Sunday?")
    client = sandbox.tweepy_client()
    posted = client.create_tweet(text="Yes, 10 to 6! ^JD", in_reply_to_tweet_id=question.id)
    assert posted.data["text"] == "@maya_rivera Yes, 10 to 6! ^JD"  # X adds the mention
    assert posted.data["edit_history_tweet_ids"] == [posted.data["id"]]
    reply = client.get_tweet(posted.data["id"], tweet_fields=TWEET_FIELDS).data
    assert reply.author_id == sandbox.brand.id
    assert reply.conversation_id == question.id
    assert reply.in_reply_to_user_id == maya.id
    assert [(ref.type, ref.id) for ref in reply.referenced_tweets] == [("replied_to", question.id)]
    assert client.get_tweet(question.id, tweet_fields=["public_metrics"]).data.public_metrics[
        "reply_count"
    ] == 1  # fmt: skip


def test_it_escapes_ampersands_and_angle_brackets_in_tweet_text_as_x_does(sandbox: Sandbox):
    tweet = sandbox.tweet_at_brand(sandbox.customers[0], "R&D <3 you")
    got = sandbox.tweepy_client().get_tweet(tweet.id).data
    assert got.text == "@acme_care R&amp;D &lt;3 you"


def test_it_looks_up_tweets_and_lists_the_missing_ones_as_errors(sandbox: Sandbox):
    tweet = sandbox.tweet_at_brand(sandbox.customers[1], "hi")
    response = sandbox.tweepy_client().get_tweets([tweet.id, 42], tweet_fields=["author_id"])
    assert [t.id for t in response.data] == [tweet.id]
    assert response.errors == [
        {
            "value": "42",
            "detail": "Could not find tweet with ids: [42].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "ids",
            "resource_id": "42",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
    ]
    single = sandbox.tweepy_client().get_tweet(43)
    assert (
        single.data is None and single.errors[0]["detail"] == "Could not find tweet with id: [43]."
    )


def test_it_expands_referenced_tweets_and_their_authors(sandbox: Sandbox):
    maya, tomasz = sandbox.customers[:2]
    original = sandbox.tweet_at_brand(maya, "broken again")
    retweet = actions.retweet(tomasz, original)
    response = sandbox.tweepy_client().get_tweet(
        retweet.id, tweet_fields=["referenced_tweets"],
        expansions=["referenced_tweets.id", "referenced_tweets.id.author_id"],
    )  # fmt: skip
    assert response.data.text == "RT @maya_rivera: @acme_care broken again"
    assert [(r.type, r.id) for r in response.data.referenced_tweets] == [("retweeted", original.id)]
    assert [t.id for t in response.includes["tweets"]] == [original.id]
    assert [u.username for u in response.includes["users"]] == ["maya_rivera"]


def test_it_serves_users_me_and_user_lookups(sandbox: Sandbox):
    client = sandbox.tweepy_client()
    me = client.get_me(user_fields=USER_FIELDS).data
    assert (me.id, me.username, me.verified) == (sandbox.brand.id, "acme_care", True)
    assert me.created_at is not None
    by_name = client.get_user(username="Maya_Rivera", user_fields=["description"]).data
    assert by_name.id == sandbox.customers[0].id and by_name.description
    assert client.get_user(id=sandbox.customers[1].id).data.username == "tomasz_k"
    missing = client.get_user(username="nobody")
    assert missing.data is None
    assert missing.errors[0]["detail"] == "Could not find user with username: [nobody]."
    assert client.get_user(id=7).errors[0]["detail"] == "Could not find user with id: [7]."


def test_it_sends_and_lists_direct_messages(sandbox: Sandbox):
    maya = sandbox.customers[0]
    sent = sandbox.tweepy_client(maya).create_direct_message(
        participant_id=sandbox.brand.id, text="my card number is in here"
    )
    low, high = sorted((maya.id, sandbox.brand.id))
    assert sent.data["dm_conversation_id"] == f"{low}-{high}"
    response = sandbox.tweepy_client().get_direct_message_events(
        dm_event_fields=["created_at", "dm_conversation_id", "sender_id"],
        expansions=["sender_id"], event_types="MessageCreate",
    )  # fmt: skip
    [event] = response.data
    assert isinstance(event, tweepy.DirectMessageEvent)
    assert (event.id, event.sender_id, event.text) == (
        int(sent.data["dm_event_id"]), maya.id, "my card number is in here"
    )  # fmt: skip
    assert event.created_at is not None
    assert response.includes["users"][0].username == "maya_rivera"


def test_it_puts_rate_limit_headers_on_every_authenticated_answer(sandbox: Sandbox):
    headers = {"Authorization": "Bearer test-bearer-token"}
    for path in (
        f"2/users/{sandbox.brand.id}/mentions",
        "2/tweets/search/recent?query=hello",
        "2/tweets/search/recent?query=hello&max_results=5",  # a 400
        "2/tweets/1",
        "2/users/by/username/nobody",
    ):
        response = requests.get(f"{sandbox.url}/{path}", headers=headers)
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= {
            name.lower() for name in response.headers
        }, path


def test_it_refuses_max_results_outside_xs_bounds_with_xs_error_shape(sandbox: Sandbox):
    client = sandbox.tweepy_client()
    for call in (
        lambda: client.get_users_mentions(sandbox.brand.id, max_results=4),
        lambda: client.get_users_mentions(sandbox.brand.id, max_results=101),
        lambda: client.search_recent_tweets("hello", max_results=9),
    ):
        try:
            call()
        except tweepy.BadRequest as error:
            body = error.response.json()
            assert body["title"] == "Invalid Request"
            assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
            assert "max_results" in body["errors"][0]["parameters"]
        else:
            raise AssertionError("expected a 400")


def test_it_refuses_unknown_fields_and_parameters(sandbox: Sandbox):
    client = sandbox.tweepy_client()
    try:
        client.get_users_mentions(sandbox.brand.id, tweet_fields=["nonsense"])
    except tweepy.BadRequest as error:
        assert "[nonsense] is not one of" in str(error)
    else:
        raise AssertionError("expected a 400")
    response = requests.get(
        f"{sandbox.url}/2/tweets/search/recent?query=a&pagination_tokn=x",
        headers={"Authorization": "Bearer test-bearer-token"},
    )
    assert response.status_code == 400
    assert "[pagination_tokn]" in response.json()["errors"][0]["message"]


def test_it_answers_an_unknown_route_with_xs_json_404(sandbox: Sandbox):
    response = requests.get(f"{sandbox.url}/2/spaces/search")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"message": "Sorry, that page does not exist", "code": 34}]
    }
