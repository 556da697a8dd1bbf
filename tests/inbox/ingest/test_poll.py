"""Polling the sandbox over real HTTP: nothing lost, nothing twice, faults survived."""

from __future__ import annotations

import zlib

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from inbox import actions
from inbox.ingest import poll
from inbox.models import Brand, Message, Quarantine, Source, Thread
from tests import processes
from tests.helpers import child_env, make_agent
from tests.sandbox import BRAND_ID, CREDENTIALS
from twelp.xsandbox import actions as x


@pytest.fixture
def source(sandbox) -> Source:
    brand = Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)
    return Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)


def tweet_many(sandbox, count: int, topic: str = "question") -> list[int]:
    customers = sandbox.customers
    return [
        sandbox.tweet_at_brand(customers[i % len(customers)], f"{topic} number {i}").id
        for i in range(count)
    ]


def test_it_ingests_every_page_once_and_advances_since_id(sandbox, source):
    ids = tweet_many(sandbox, 230)  # three pages of 100
    result = poll.poll(source.id)
    assert (result.ingested, result.pages) == (230, 3)
    assert set(Message.objects.values_list("x_id", flat=True)) == set(ids)
    source.refresh_from_db()
    assert source.since_id == max(ids)
    assert poll.poll(source.id).ingested == 0  # nothing new, nothing twice
    assert Message.objects.count() == 230


def test_it_threads_by_conversation_and_reopens_a_closed_one(sandbox, source):
    kim = sandbox.customers[0]
    first = sandbox.tweet_at_brand(kim, "my router blinks red")
    poll.poll(source.id)
    thread = Thread.objects.get()
    agent = make_agent(source.brand, "alice")
    actions.do_claim(thread.id, agent=agent)
    actions.do_close(thread.id, agent=agent)
    x.post_tweet(kim, f"@{sandbox.brand.username} still red!", in_reply_to_tweet_id=first.id)
    poll.poll(source.id)
    thread.refresh_from_db()
    assert Thread.objects.count() == 1
    assert (thread.status, thread.preview) == ("open", f"@{sandbox.brand.username} still red!")
    assert thread.messages.count() == 2


def test_it_skips_the_brands_own_tweets_and_plain_retweets_but_keeps_quotes(sandbox, source):
    kim, lee = sandbox.customers[:2]
    original = sandbox.tweet_at_brand(kim, "love the new store")
    x.retweet(lee, original)
    x.post_tweet(lee, f"@{sandbox.brand.username} same here", quote_tweet_id=original.id)
    x.post_tweet(sandbox.brand, f"@{kim.username} thanks!", in_reply_to_tweet_id=original.id)
    result = poll.poll(source.id)
    assert result.ingested == 2
    assert result.skipped >= 1
    assert not Message.objects.filter(text__startswith="RT @").exists()
    assert not Message.objects.filter(author_x_id=BRAND_ID).exists()


def test_it_lets_a_second_concurrent_poll_return_at_once(sandbox, source):
    tweet_many(sandbox, 3)
    key = zlib.crc32(f"twelp.poll.{source.id}".encode())
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [key])  # another poll is running
        assert poll.poll(source.id).ran is False
        assert Message.objects.count() == 0
        other.execute("SELECT pg_advisory_unlock(%s)", [key])  # that poll ends
    assert poll.poll(source.id).ingested == 3


def test_it_waits_out_a_429_and_loses_nothing(sandbox, source):
    tweet_many(sandbox, 120)
    sandbox.fault("rate_limit", "mentions", count=1, reset_after=120, probability=1.0)
    result = poll.poll(source.id)
    assert result.error == "rate_limited"
    source.refresh_from_db()
    assert source.rate_limited_until is not None and source.since_id is None
    assert "Rate limited" in source.last_error
    assert poll.poll(source.id).ingested == 120
    source.refresh_from_db()
    assert source.rate_limited_until is None and source.last_error == ""


@pytest.mark.parametrize("kind", ["unavailable", "malformed_json"])
def test_it_backs_off_on_a_transient_failure_mid_way_and_loses_nothing(sandbox, source, kind):
    ids = tweet_many(sandbox, 250)
    poll.poll(source.id)  # the first 250
    more = tweet_many(sandbox, 250, topic="follow-up")
    # The second page of the next poll fails: nothing may be skipped.
    sandbox.fault(kind, "mentions", count=1)
    result = poll.poll(source.id)
    assert result.error
    assert poll.poll(source.id).error == ""
    assert set(Message.objects.values_list("x_id", flat=True)) == set(ids + more)


def test_it_times_out_a_slow_x_and_tries_again(sandbox, source, sandbox_settings):
    tweet_many(sandbox, 5)
    sandbox_settings.X_API_TIMEOUT = 1
    sandbox.fault("slow", "mentions", count=1, delay=3)
    assert poll.poll(source.id).error
    assert poll.poll(source.id).ingested == 5


def test_it_quarantines_a_broken_tweet_and_keeps_the_good_ones(sandbox, source):
    tweet_many(sandbox, 10)
    sandbox.fault("missing_fields", "mentions", count=1, drop_fields=["author_id"])
    result = poll.poll(source.id)
    assert result.quarantined == 1
    assert result.ingested == 9
    assert Quarantine.objects.get().source == source


def test_it_loses_nothing_when_the_poller_is_killed_mid_way(sandbox, source):
    """A real process, SIGKILLed after its first pages landed; then polled again."""
    ids = tweet_many(sandbox, 450)
    sandbox.fault("slow", "mentions", delay=0.7)  # every page: time to kill mid-way
    env = child_env(X_API_BASE_URL=sandbox.url, **CREDENTIALS)
    code = f"from inbox.ingest import poll; poll.poll({source.id})"
    processes.kill_mid_way(code, env, until=lambda: Message.objects.count() >= 100, what="a page")
    landed = Message.objects.count()
    assert 100 <= landed < 450
    source.refresh_from_db()
    assert source.since_id is None  # not advanced: the older pages are still to come
    sandbox.control("DELETE", "faults")
    poll.poll(source.id)
    assert Message.objects.count() == 450
    assert set(Message.objects.values_list("x_id", flat=True)) == set(ids)


def test_it_lists_only_due_sources(source):
    from datetime import timedelta

    from django.utils import timezone

    assert poll.due_sources() == [source.id]
    Source.objects.filter(id=source.id).update(next_poll_after=timezone.now() + timedelta(1))
    assert poll.due_sources() == []


def test_the_next_poll_is_counted_from_the_start_of_this_one(sandbox, source):
    """A 15 s source is polled every 15 s: not 15 s after the poll finished (which, with
    beat's 5 s tick, made it every 20 s and the README's 60 requests per 15 minutes 45)."""
    from datetime import timedelta

    from django.utils import timezone

    before = timezone.now()
    poll.poll(source.id)
    after = timezone.now()
    source.refresh_from_db()
    assert before + source.poll_interval <= source.next_poll_after <= after + source.poll_interval
    # Dispatched by the tick 15 s after the last one, though the poll began a moment after
    # its own tick: due within half a tick counts.
    tick = timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["poll-due-sources"]["schedule"])
    started_late = timezone.now() + tick / 4
    Source.objects.filter(id=source.id).update(next_poll_after=started_late)
    assert poll.due_sources() == [source.id]
    Source.objects.filter(id=source.id).update(next_poll_after=timezone.now() + tick)
    assert poll.due_sources() == []


assert settings  # the sandbox fixtures configure it
