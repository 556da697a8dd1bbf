"""Direct messages: polled into private threads, answered by DM, public threads moved to
DM; a private answer never leaves as a public tweet. Real tweepy over HTTP to the sandbox."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from inbox import actions, dms, polling
from inbox.models import Brand, Channel, Message, Source, Thread
from tests.helpers import child_env, make_agent
from tests.sandbox import BRAND_ID, CREDENTIALS
from twelp.xsandbox import actions as x

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def acme(sandbox) -> Brand:
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


@pytest.fixture
def dm_source(acme) -> Source:
    return Source.objects.create(brand=acme, kind=Source.Kind.DMS)


def dm_many(sandbox, count: int) -> list[int]:
    customers = sandbox.customers
    return [
        x.send_dm(customers[i % len(customers)], sandbox.brand, f"private question {i}").id
        for i in range(count)
    ]


# --- polling ---------------------------------------------------------------------------


def test_it_turns_each_dm_conversation_into_one_private_thread(sandbox, dm_source):
    maya, tomasz = sandbox.customers[:2]
    first = x.send_dm(maya, sandbox.brand, "my order 123 never came")
    x.send_dm(tomasz, sandbox.brand, "hello from Kraków")
    second = x.send_dm(maya, sandbox.brand, "it has my address on it")
    result = polling.poll(dm_source.id)
    assert (result.ran, result.error, result.ingested) == (True, "", 3)
    threads = {t.customer.handle: t for t in Thread.objects.select_related("customer")}
    assert set(threads) == {"maya_rivera", "tomasz_k"}
    assert {t.channel for t in threads.values()} == {Channel.DM}
    assert threads["maya_rivera"].conversation_id == maya.id
    assert threads["maya_rivera"].preview == "it has my address on it"
    kept = threads["maya_rivera"].messages.order_by("x_id").values_list("x_id", flat=True)
    assert list(kept) == [first.id, second.id]
    assert set(Message.objects.values_list("channel", flat=True)) == {Channel.DM}
    dm_source.refresh_from_db()
    assert dm_source.since_id == second.id
    assert polling.poll(dm_source.id).ingested == 0  # nothing new, nothing twice
    assert Message.objects.count() == 3


def test_it_skips_the_brands_own_dms(sandbox, dm_source):
    maya = sandbox.customers[0]
    x.send_dm(maya, sandbox.brand, "hi")
    x.send_dm(sandbox.brand, maya, "hello Maya, how can we help?")
    result = polling.poll(dm_source.id)
    assert (result.ingested, result.skipped) == (1, 1)
    assert not Message.objects.filter(author_x_id=BRAND_ID).exists()


def test_it_pages_back_only_to_its_cursor(sandbox, dm_source):
    """X's DM events have no since_id: a poll pages back until it passes its cursor (less
    a short overlap re-read for events that show up late), never further."""
    ids = dm_many(sandbox, 230)  # three pages of 100
    first = polling.poll(dm_source.id)
    assert (first.pages, first.ingested) == (3, 230)
    now = timezone.now()
    with time_machine.travel(now + dms.OVERLAP * 2):
        ids += dm_many(sandbox, 1)
        assert polling.poll(dm_source.id).ingested == 1
    with time_machine.travel(now + dms.OVERLAP * 4):
        more = dm_many(sandbox, 5)
        second = polling.poll(dm_source.id)
    assert (second.pages, second.ingested) == (1, 5)  # the burst's pages are not read again
    assert set(Message.objects.values_list("x_id", flat=True)) == set(ids + more)
    dm_source.refresh_from_db()
    assert dm_source.since_id == max(more)


def test_it_reopens_the_dm_thread_when_the_customer_writes_again(sandbox, dm_source):
    maya = sandbox.customers[0]
    x.send_dm(maya, sandbox.brand, "is the store open?")
    polling.poll(dm_source.id)
    thread = Thread.objects.get()
    agent = make_agent(dm_source.brand, "alice")
    actions.do_claim(thread.id, agent=agent)
    actions.do_close(thread.id, agent=agent)
    x.send_dm(maya, sandbox.brand, "one more thing")
    polling.poll(dm_source.id)
    thread.refresh_from_db()
    assert Thread.objects.count() == 1
    assert (thread.status, thread.preview) == ("open", "one more thing")


def test_a_dm_and_a_public_tweet_of_one_customer_never_share_a_thread(sandbox, dm_source):
    maya = sandbox.customers[0]
    mentions = Source.objects.create(brand=dm_source.brand, kind=Source.Kind.MENTIONS)
    sandbox.tweet_at_brand(maya, "your app is down")
    x.send_dm(maya, sandbox.brand, "here is my account number 12345678")
    polling.poll(mentions.id)
    polling.poll(dm_source.id)
    public, private = Thread.objects.order_by("channel").reverse()
    assert (public.channel, private.channel) == (Channel.TWEET, Channel.DM)
    assert public.customer_id == private.customer_id
    assert [m.channel for m in private.messages.all()] == [Channel.DM]
    assert [m.channel for m in public.messages.all()] == [Channel.TWEET]


def test_it_waits_out_a_429_and_loses_nothing(sandbox, dm_source):
    dm_many(sandbox, 120)
    sandbox.fault("rate_limit", "dm_events", count=1, reset_after=120)
    result = polling.poll(dm_source.id)
    assert result.error == "rate_limited"
    dm_source.refresh_from_db()
    assert dm_source.rate_limited_until is not None and dm_source.since_id is None
    assert polling.poll(dm_source.id).ingested == 120


def test_it_quarantines_a_broken_event_and_keeps_the_good_ones(sandbox, dm_source):
    dm_many(sandbox, 4)
    sandbox.fault("missing_fields", "dm_events", count=1, drop_fields=["sender_id"])
    result = polling.poll(dm_source.id)
    assert (result.quarantined, result.ingested) == (1, 3)


def test_due_sources_include_dms(dm_source):
    assert dm_source.id in polling.due_sources()


def test_it_loses_nothing_when_the_poller_is_killed_mid_way(sandbox, dm_source):
    """A real process, SIGKILLed after its first pages landed; then polled again."""
    ids = dm_many(sandbox, 450)
    sandbox.fault("slow", "dm_events", delay=0.7)  # every page: time to kill mid-way
    env = child_env(X_API_BASE_URL=sandbox.url, **CREDENTIALS)
    code = f"from inbox import polling; polling.poll({dm_source.id})"
    poller = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while Message.objects.count() < 100 and time.monotonic() < deadline:
        assert poller.poll() is None, poller.stdout.read().decode()
        time.sleep(0.05)
    poller.send_signal(signal.SIGKILL)
    poller.wait(timeout=10)
    landed = Message.objects.count()
    assert 100 <= landed < 450
    dm_source.refresh_from_db()
    assert dm_source.since_id is None  # not advanced: the older pages are still to come
    sandbox.control("DELETE", "faults")
    polling.poll(dm_source.id)
    assert set(Message.objects.values_list("x_id", flat=True)) == set(ids)


def test_it_skips_group_conversations():
    brand = Brand(x_user_id=7)
    one_to_one = dms.customer_of(_dm(sender=9, conversation="7-9"), brand)
    group = dms.customer_of(_dm(sender=9, conversation="1600000000000000001"), brand)
    ours = dms.customer_of(_dm(sender=7, conversation="7-9"), brand)
    assert (one_to_one, group, ours) == (9, None, None)


def _dm(*, sender: int, conversation: str):
    from twelp.xgateway import XDirectMessage

    return XDirectMessage(1, "hi", sender, conversation, timezone.now())


def test_the_demo_polls_direct_messages(db):
    from inbox.demo import load_demo_data

    brand = load_demo_data()
    assert brand.sources.filter(kind=Source.Kind.DMS, active=True).exists()
