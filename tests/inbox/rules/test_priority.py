"""Priority: the documented score (inbox.rules.priority), computed at ingest and on reopen; the
queue and "claim next" follow it."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from inbox import actions
from inbox.models import Message, Thread
from inbox.rules import priority
from inbox.rules.priority import Signals
from tests.helpers import make_thread
from tests.inbox.ingest.pages import ingest, tweet, user

ANGRY = "@acmecares this is ridiculous!!! worst service ever"


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (Signals(), 0),
        (Signals(followers=999), 0),
        (Signals(followers=1_000), 10),
        (Signals(followers=54_000), 20),
        (Signals(followers=250_000), 30),
        (Signals(followers=80_000_000), 40),  # capped
        (Signals(verified=True), 15),
        (Signals(sentiment=0.9), 0),
        (Signals(sentiment=-0.04), 0),
        (Signals(sentiment=-0.3), 15),
        (Signals(sentiment=-0.8), 30),
        (Signals(urgent=True), 50),
        (Signals(followers=2_000_000, verified=True, sentiment=-0.9, urgent=True), 135),
    ],
)
def test_it_scores_by_the_documented_table(signals, expected):
    assert priority.score(signals) == expected


@pytest.mark.parametrize(
    ("keywords", "text", "hit"),
    [
        (["outage"], "Is there an OUTAGE in Boston?", True),
        (["outage"], "#outage again", True),
        (["cancel"], "I want to cancel my plan", True),
        (["cancel"], "my flight was cancelled", False),  # whole words unless *
        (["cancel*"], "my flight was cancelled", True),
        (["down"], "the download is slow", False),
        (["not working"], "wifi NOT   working since noon", True),
        (["not working"], "working fine, not a problem", False),
        (["", "  ", "*"], "anything", None),  # nothing to match: no regex at all
        ([], "outage", None),
    ],
)
def test_it_matches_urgent_keywords_as_documented(keywords, text, hit):
    matcher = priority.keyword_matcher(keywords)
    if hit is None:
        assert matcher is None
    else:
        assert bool(matcher.search(text)) is hit


def test_it_ranks_new_threads_at_ingest_and_the_queue_follows(client, brand, source, agent):
    brand.urgent_keywords = ["outage"]
    brand.save(update_fields=["urgent_keywords"])
    ingest(
        source,
        [
            tweet(1, "@acmecares what time do you open?", author=1),
            tweet(2, "@acmecares is there an outage? nothing loads", author=2),
            tweet(3, ANGRY, author=3),
            tweet(4, "@acmecares hi", author=4),
        ],
        [user(1), user(2), user(3), user(4, followers=120_000, verified=True)],
    )
    ranks = dict(Thread.objects.values_list("conversation_id", "priority"))
    # 2: urgent (50), and "nothing loads" is a complaint (10) sounding negative (15);
    # 3: frustrated (30) and a complaint (10)
    assert ranks == {1: 0, 2: 75, 3: 40, 4: 45}
    client.force_login(agent.user)
    rows = re.findall(r'data-thread-id="(\d+)"', client.get("/").content.decode())
    order = dict(Thread.objects.values_list("id", "conversation_id"))
    assert [order[int(r)] for r in rows] == [2, 4, 3, 1]
    assert actions.do_claim_next(agent=agent).conversation_id == 2


def test_it_never_lowers_a_waiting_thread_and_raises_it_on_an_urgent_word(brand, source):
    brand.urgent_keywords = ["cancel*"]
    brand.save(update_fields=["urgent_keywords"])
    ingest(source, [tweet(1, ANGRY, author=7)], [user(7)])
    ingest(source, [tweet(2, "@acmecares hello?", author=7, conversation=1)], [user(7)])
    thread = Thread.objects.get()
    assert thread.priority == 40  # frustrated (30), a complaint (10)
    ingest(source, [tweet(3, "@acmecares I'm cancelling", author=7, conversation=1)], [user(7)])
    thread.refresh_from_db()
    assert thread.priority == 90  # still frustrated, a complaint, and now urgent


def test_it_recomputes_afresh_when_a_closed_thread_reopens(brand, source, agent):
    ingest(source, [tweet(1, ANGRY, author=7)], [user(7)])
    thread = Thread.objects.get()
    actions.do_claim(thread.id, agent=agent)
    actions.do_close(thread.id, agent=agent)
    ingest(
        source, [tweet(2, "@acmecares thanks, all good now!", author=7, conversation=1)], [user(7)]
    )
    thread.refresh_from_db()
    assert (thread.status, thread.priority) == ("open", 0)


def test_it_scores_a_reopen_without_signals_from_the_message_and_customer(brand, customer, agent):
    brand.urgent_keywords = ["outage"]
    brand.save(update_fields=["urgent_keywords"])
    customer.followers_count = 5_000
    customer.save(update_fields=["followers_count"])
    thread = make_thread(brand, customer, 9, status="answered")
    message = Message.objects.create(
        brand=brand,
        thread=thread,
        x_id=9,
        direction="in",
        author_x_id=customer.x_user_id,
        text="still an outage here",
        conversation_id=9,
        sentiment=-0.6,
        sent_at=timezone.now(),
    )
    actions.do_customer_wrote(thread, message)
    thread.refresh_from_db()
    assert (thread.status, thread.priority, thread.sentiment) == ("open", 90, -0.6)
