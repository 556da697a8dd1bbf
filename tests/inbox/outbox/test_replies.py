"""Posting exactly once, through tweepy over real HTTP to the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import actions
from inbox.ingest import poll
from inbox.models import Brand, Event, Message, PostingBudget, Reply, Source, Thread
from inbox.outbox import replies, sending
from tests import processes
from tests.helpers import child_env, make_agent
from tests.sandbox import BRAND_ID, CREDENTIALS
from twelp import xgateway
from twelp.xsandbox.models import Tweet


@pytest.fixture
def brand(sandbox) -> Brand:
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


@pytest.fixture
def asked(sandbox, brand):
    """A customer's question, polled into a thread that Alice has claimed."""
    question = sandbox.tweet_at_brand(sandbox.customers[0], "my parcel is lost 😢")
    poll.poll(Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS).id)
    thread = Thread.objects.get()
    alice = make_agent(brand, "alice")
    actions.do_claim(thread.id, agent=alice)
    return question, thread, alice


def send(thread, agent, text="Sorry! Tracking it now: https://acme.example/track") -> Reply:
    return actions.do_send_reply(thread.id, agent=agent, text=f"@{thread.customer.handle} {text}")


def brand_replies_to(question) -> list[Tweet]:
    return list(Tweet.objects.filter(in_reply_to_tweet_id=question.id, author_id=BRAND_ID))


def test_it_posts_from_the_brand_in_reply_with_the_credit(asked):
    question, thread, alice = asked
    reply = send(thread, alice)
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    [tweet] = brand_replies_to(question)
    assert (reply.status, reply.posted_x_id) == ("posted", tweet.id)
    assert tweet.text.endswith(" ^AL")
    thread.refresh_from_db()
    assert thread.first_response_at == reply.posted_at
    assert Message.objects.get(x_id=tweet.id).direction == "out"
    assert Event.objects.filter(verb="reply_posted", thread=thread).count() == 1
    assert replies.attempt(reply.id) is None  # safe to run twice: nothing more is posted
    assert len(brand_replies_to(question)) == 1


def test_it_holds_replies_while_the_posting_budget_is_spent(sandbox, asked):
    question, thread, alice = asked
    reply = send(thread, alice)
    sandbox.fault("rate_limit", "create_tweet", count=1, reset_after=600)
    wait = replies.attempt(reply.id)
    assert wait is not None and 500 < wait.seconds <= 600
    assert not wait.by_sweep  # X's 429: the sweep, not a turn in the order
    reply.refresh_from_db()
    assert reply.status == "queued"
    posts = PostingBudget.objects.get(brand=thread.brand, kind="tweets")
    assert posts.remaining == 0
    assert posts.reset_at > timezone.now() + timedelta(minutes=9)
    assert replies.attempt(reply.id) is not None  # still paused: not even tried
    assert brand_replies_to(question) == []
    assert replies.due_replies() == []
    PostingBudget.objects.update(reset_at=timezone.now() - timedelta(seconds=10))
    Reply.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=10))
    assert replies.due_replies() == [reply.id]
    assert replies.attempt(reply.id) is None
    assert len(brand_replies_to(question)) == 1


def test_a_woken_reply_clears_its_wake_in_its_claims_own_update(asked):
    """The sweep's wake (sending, 5) is cleared by the UPDATE that takes the lease."""
    question, thread, alice = asked
    reply = send(thread, alice)
    Reply.objects.filter(id=reply.id).update(woken_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        assert replies.attempt(reply.id) is None
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "inbox_reply"')]
    claim = updates[0]
    assert "\"status\" = 'sending'" in claim and '"woken_at" = NULL' in claim, updates
    assert not any('"woken_at"' in sql for sql in updates[1:])
    reply.refresh_from_db()
    assert (reply.status, reply.woken_at) == ("posted", None)
    assert len(brand_replies_to(question)) == 1


@pytest.mark.parametrize("kind", ["unavailable", "malformed_json"])
def test_it_backs_off_on_a_transient_failure_then_posts_once(sandbox, asked, kind):
    question, thread, alice = asked
    reply = send(thread, alice)
    sandbox.fault(kind, "create_tweet", count=1)
    assert replies.attempt(reply.id) == sending.Wait(pytest.approx(2, abs=1))
    reply.refresh_from_db()
    assert reply.status == "sending" and reply.last_error
    Reply.objects.update(next_attempt_at=timezone.now())
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert reply.status == "posted"
    assert len(brand_replies_to(question)) == 1


def test_it_finds_the_tweet_x_already_has_instead_of_posting_again(asked):
    """As after a worker died between X accepting the tweet and the row being saved."""
    question, thread, alice = asked
    reply = send(thread, alice)
    already = xgateway.create_tweet(reply.body, in_reply_to_tweet_id=question.id)
    Reply.objects.filter(id=reply.id).update(
        status="sending", attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert (reply.status, reply.posted_x_id) == ("posted", already.id)
    assert len(brand_replies_to(question)) == 1


def test_it_leaves_a_reply_in_flight_to_its_worker(asked):
    question, thread, alice = asked
    reply = send(thread, alice)
    Reply.objects.filter(id=reply.id).update(
        status="sending", attempts=1, next_attempt_at=timezone.now() + timedelta(seconds=30)
    )
    assert replies.attempt(reply.id) == sending.Wait(pytest.approx(30, abs=2))
    assert brand_replies_to(question) == []


def test_it_fails_a_refused_reply_back_to_its_author_with_the_reason(sandbox, asked):
    question, thread, alice = asked
    reply = send(thread, alice)
    xgateway.create_tweet(reply.body, in_reply_to_tweet_id=question.id)  # X: duplicate
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    thread.refresh_from_db()
    assert reply.status == "failed"
    assert "duplicate" in reply.last_error.lower()
    assert (thread.status, thread.claimed_by) == ("claimed", alice)
    assert Event.objects.filter(verb="reply_failed", thread=thread).exists()


def test_it_gives_up_after_the_last_attempt(asked, settings):
    question, thread, alice = asked
    reply = send(thread, alice)
    Reply.objects.filter(id=reply.id).update(attempts=settings.POST_REPLY_MAX_ATTEMPTS)
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert reply.status == "failed" and "attempts" in reply.last_error


def test_it_sweeps_a_row_whose_worker_died(asked):
    question, thread, alice = asked
    reply = send(thread, alice)
    assert replies.due_replies() == []  # just queued: its own task carries it
    Reply.objects.filter(id=reply.id).update(
        status="sending", next_attempt_at=timezone.now() - timedelta(minutes=2)
    )
    assert replies.due_replies() == [reply.id]


def test_it_posts_once_when_the_worker_dies_after_x_accepted(sandbox, asked):
    """A real process, SIGKILLed after X stored the tweet but before the row was saved."""
    question, thread, alice = asked
    reply = send(thread, alice)
    sandbox.fault("slow_after", "create_tweet", count=1, delay=30)  # stored, answer late
    env = child_env(X_API_BASE_URL=sandbox.url, X_API_TIMEOUT="60", **CREDENTIALS)
    code = f"from inbox.outbox import replies; replies.attempt({reply.id})"
    processes.kill_mid_way(
        code, env, until=lambda: bool(brand_replies_to(question)), what="X to accept"
    )
    [accepted] = brand_replies_to(question)
    reply.refresh_from_db()
    assert reply.status == "sending" and reply.posted_x_id is None  # the row never knew

    # Its in-flight lease runs out; the sweep finds it, and the next attempt looks first.
    Reply.objects.filter(id=reply.id).update(next_attempt_at=timezone.now() - timedelta(seconds=6))
    assert replies.due_replies() == [reply.id]
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert (reply.status, reply.posted_x_id) == ("posted", accepted.id)
    assert len(brand_replies_to(question)) == 1
