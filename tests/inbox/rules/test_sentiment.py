"""Sentiment of each incoming tweet: scored at ingest, on the message and the thread,
shown as a badge in the queue and on the thread page."""

from __future__ import annotations

import pytest

from inbox import actions
from inbox.models import Message, Thread
from inbox.rules import sentiment
from tests.inbox.ingest.pages import ingest, tweet, user

ANGRY = "@acmecares my order never arrived, this is ridiculous!!! worst service ever 😡"
HAPPY = "@acmecares love the new store, thanks so much! 😍"
PLAIN = "@acmecares what time do you open on sunday?"


@pytest.mark.parametrize(
    ("text", "band"),
    [
        (ANGRY, "frustrated"),
        ("@acmecares my package is late again, disappointed", "negative"),
        (PLAIN, "neutral"),
        (HAPPY, "positive"),
        ("@terrible_user https://acme.example/awful/hate", "neutral"),  # handle, link: no mood
        ("", "neutral"),
    ],
)
def test_it_bands_tweets_by_vader_score(text, band):
    assert sentiment.band(sentiment.score(text)) == band


def test_it_scores_each_message_and_the_thread_by_its_worst_tweet(source):
    kim = user(42)
    ingest(
        source,
        [
            tweet(1, HAPPY, author=42, conversation=1),
            tweet(2, ANGRY, author=42, conversation=1),
            tweet(3, PLAIN, author=42, conversation=3),
        ],
        [kim],
    )
    moods = dict(Message.objects.values_list("x_id", "sentiment"))
    assert moods[1] > 0.5 and moods[2] < -0.5 and moods[3] == 0.0
    first = Thread.objects.get(conversation_id=1)
    assert first.sentiment == moods[2]
    assert Thread.objects.get(conversation_id=3).sentiment == 0.0


def test_it_keeps_a_waiting_threads_worst_mood_and_starts_afresh_on_reopen(source, agent):
    ingest(source, [tweet(1, ANGRY, author=42)], [user(42)])
    thread = Thread.objects.get()
    ingest(source, [tweet(2, PLAIN, author=42, conversation=1)], [user(42)])
    thread.refresh_from_db()
    assert sentiment.band(thread.sentiment) == "frustrated"  # still waiting: still upset

    actions.do_claim(thread.id, agent=agent)
    actions.do_close(thread.id, agent=agent)
    ingest(source, [tweet(3, HAPPY, author=42, conversation=1)], [user(42)])
    thread.refresh_from_db()
    assert thread.status == "open"
    assert sentiment.band(thread.sentiment) == "positive"


def test_it_shows_the_badge_in_the_queue_and_on_the_thread(client, agent, source):
    ingest(source, [tweet(1, ANGRY, author=42), tweet(2, PLAIN, author=43)], [user(42), user(43)])
    client.force_login(agent.user)
    queue = client.get("/").content.decode()
    assert queue.count('class="badge mood mood-frustrated"') == 1
    thread = Thread.objects.get(conversation_id=1)
    page = client.get(f"/t/{thread.id}/").content.decode()
    # the thread's badge in the header, the message's beside the tweet
    assert page.count('class="badge mood mood-frustrated"') == 2
    calm = Thread.objects.get(conversation_id=2)
    assert "mood-" not in client.get(f"/t/{calm.id}/").content.decode()
