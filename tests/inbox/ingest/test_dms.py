"""Direct messages: polled into private threads, answered by DM, public threads moved to
DM; a private answer never leaves as a public tweet. Real tweepy over HTTP to the sandbox."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from agents.models import Agent
from inbox import actions
from inbox.ingest import dms, poll
from inbox.models import Brand, Channel, Customer, Event, Message, Reply, Source, Thread
from inbox.outbox import replies, sending
from tests import processes
from tests.helpers import child_env, login, make_agent
from tests.sandbox import BRAND_ID, CREDENTIALS
from twelp import xgateway
from twelp.xsandbox import actions as x
from twelp.xsandbox.models import DirectMessage, Tweet


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
    result = poll.poll(dm_source.id)
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
    assert poll.poll(dm_source.id).ingested == 0  # nothing new, nothing twice
    assert Message.objects.count() == 3


def test_it_skips_the_brands_own_dms(sandbox, dm_source):
    maya = sandbox.customers[0]
    x.send_dm(maya, sandbox.brand, "hi")
    x.send_dm(sandbox.brand, maya, "hello Maya, how can we help?")
    result = poll.poll(dm_source.id)
    assert (result.ingested, result.skipped) == (1, 1)
    assert not Message.objects.filter(author_x_id=BRAND_ID).exists()


def test_it_pages_back_only_to_its_cursor(sandbox, dm_source):
    """X's DM events have no since_id: a poll pages back until it passes its cursor (less
    a short overlap re-read for events that show up late), never further."""
    ids = dm_many(sandbox, 230)  # three pages of 100
    first = poll.poll(dm_source.id)
    assert (first.pages, first.ingested) == (3, 230)
    now = timezone.now()
    with time_machine.travel(now + dms.OVERLAP * 2):
        ids += dm_many(sandbox, 1)
        assert poll.poll(dm_source.id).ingested == 1
    with time_machine.travel(now + dms.OVERLAP * 4):
        more = dm_many(sandbox, 5)
        second = poll.poll(dm_source.id)
    assert (second.pages, second.ingested) == (1, 5)  # the burst's pages are not read again
    assert set(Message.objects.values_list("x_id", flat=True)) == set(ids + more)
    dm_source.refresh_from_db()
    assert dm_source.since_id == max(more)


def test_it_reopens_the_dm_thread_when_the_customer_writes_again(sandbox, dm_source):
    maya = sandbox.customers[0]
    x.send_dm(maya, sandbox.brand, "is the store open?")
    poll.poll(dm_source.id)
    thread = Thread.objects.get()
    agent = make_agent(dm_source.brand, "alice")
    actions.do_claim(thread.id, agent=agent)
    actions.do_close(thread.id, agent=agent)
    x.send_dm(maya, sandbox.brand, "one more thing")
    poll.poll(dm_source.id)
    thread.refresh_from_db()
    assert Thread.objects.count() == 1
    assert (thread.status, thread.preview) == ("open", "one more thing")


def test_a_dm_and_a_public_tweet_of_one_customer_never_share_a_thread(sandbox, dm_source):
    maya = sandbox.customers[0]
    mentions = Source.objects.create(brand=dm_source.brand, kind=Source.Kind.MENTIONS)
    sandbox.tweet_at_brand(maya, "your app is down")
    x.send_dm(maya, sandbox.brand, "here is my account number 12345678")
    poll.poll(mentions.id)
    poll.poll(dm_source.id)
    public, private = Thread.objects.order_by("channel").reverse()
    assert (public.channel, private.channel) == (Channel.TWEET, Channel.DM)
    assert public.customer_id == private.customer_id
    assert [m.channel for m in private.messages.all()] == [Channel.DM]
    assert [m.channel for m in public.messages.all()] == [Channel.TWEET]


def test_it_waits_out_a_429_and_loses_nothing(sandbox, dm_source):
    dm_many(sandbox, 120)
    sandbox.fault("rate_limit", "dm_events", count=1, reset_after=120)
    result = poll.poll(dm_source.id)
    assert result.error == "rate_limited"
    dm_source.refresh_from_db()
    assert dm_source.rate_limited_until is not None and dm_source.since_id is None
    assert poll.poll(dm_source.id).ingested == 120


def test_it_quarantines_a_broken_event_and_keeps_the_good_ones(sandbox, dm_source):
    dm_many(sandbox, 4)
    sandbox.fault("missing_fields", "dm_events", count=1, drop_fields=["sender_id"])
    result = poll.poll(dm_source.id)
    assert (result.quarantined, result.ingested) == (1, 3)


def test_due_sources_include_dms(dm_source):
    assert dm_source.id in poll.due_sources()


def test_it_loses_nothing_when_the_poller_is_killed_mid_way(sandbox, dm_source):
    """A real process, SIGKILLed after its first pages landed; then polled again."""
    ids = dm_many(sandbox, 450)
    sandbox.fault("slow", "dm_events", delay=0.7)  # every page: time to kill mid-way
    env = child_env(X_API_BASE_URL=sandbox.url, **CREDENTIALS)
    code = f"from inbox.ingest import poll; poll.poll({dm_source.id})"
    processes.kill_mid_way(
        code, env, until=lambda: Message.objects.count() >= 100, what="the first pages"
    )
    landed = Message.objects.count()
    assert 100 <= landed < 450
    dm_source.refresh_from_db()
    assert dm_source.since_id is None  # not advanced: the older pages are still to come
    sandbox.control("DELETE", "faults")
    poll.poll(dm_source.id)
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


# --- answering by DM -------------------------------------------------------------------


@pytest.fixture
def dm_thread(sandbox, dm_source) -> Thread:
    """Maya (who neither follows the brand nor accepts DMs from anyone) DMs the brand;
    polled into a private thread."""
    x.send_dm(sandbox.customers[0], sandbox.brand, "my card was charged twice")
    poll.poll(dm_source.id)
    return Thread.objects.get(channel=Channel.DM)


@pytest.fixture
def alice(acme) -> Agent:
    return make_agent(acme, "alice")


def brand_tweets() -> list[Tweet]:
    return list(Tweet.objects.filter(author_id=BRAND_ID))


def brand_dms_to(account) -> list[DirectMessage]:
    return list(DirectMessage.objects.filter(sender_id=BRAND_ID, recipient=account).order_by("id"))


def test_it_answers_a_dm_by_dm_end_to_end(twelp_urls, dm_thread, alice):
    maya = twelp_urls.customers[0]
    client = login(Client(), alice.user)
    queue = client.get("/").content.decode()
    assert 'title="Direct message: private, answered by DM">DM</span>' in queue
    client.post(f"/t/{dm_thread.id}/claim/")
    page = client.get(f"/t/{dm_thread.id}/").content.decode()
    assert "Reply by DM (private)" in page
    assert "@maya_rivera </textarea>" not in page  # a DM does not start with @handles
    form = {"text": "Refunded, card ending 4111 1111 1111 1111", "client_token": uuid.uuid4()}
    response = client.post(f"/t/{dm_thread.id}/reply/", form)
    assert response.status_code == 302  # no personal-data warning in a private answer
    reply = Reply.objects.get()
    assert (reply.channel, reply.in_reply_to.channel) == (Channel.DM, Channel.DM)
    assert reply.status == "queued"
    assert replies.attempt(reply.id) is None  # the task's body
    reply.refresh_from_db()
    [sent] = brand_dms_to(maya)
    assert (reply.status, reply.posted_x_id) == ("posted", sent.id)
    assert sent.text == "Refunded, card ending 4111 1111 1111 1111 ^AL"
    assert brand_tweets() == []
    out = Message.objects.get(direction="out")
    assert (out.thread, out.channel, out.x_id) == (dm_thread, Channel.DM, sent.id)
    assert poll.poll(dm_thread.source_id).ingested == 0  # our own DM is not a new message


def test_a_forged_post_can_never_send_a_private_answer_as_a_public_tweet(
    twelp_urls, dm_thread, alice
):
    maya = twelp_urls.customers[0]
    public = twelp_urls.tweet_at_brand(maya, "why was I charged twice?")
    Source.objects.create(brand=dm_thread.brand, kind=Source.Kind.MENTIONS)
    poll.poll(Source.objects.get(kind="mentions").id)
    public_message = Message.objects.get(x_id=public.id)
    client = login(Client(), alice.user)
    client.post(f"/t/{dm_thread.id}/claim/")
    forged = {
        "text": "your account number is 12345678",
        "client_token": uuid.uuid4(),
        "channel": "tweet",
        "in_reply_to": public.id,
        "in_reply_to_id": public_message.id,
        "thread": public_message.thread_id,
    }
    assert client.post(f"/t/{dm_thread.id}/reply/", forged).status_code == 302
    reply = Reply.objects.get()
    assert (reply.thread, reply.channel) == (dm_thread, Channel.DM)
    assert reply.in_reply_to.channel == Channel.DM
    replies.attempt(reply.id)
    assert [dm.text for dm in brand_dms_to(maya)] == ["your account number is 12345678 ^AL"]
    assert brand_tweets() == []  # nothing public, whatever the form said
    assert not Reply.objects.filter(thread=public_message.thread).exists()


def test_the_database_refuses_a_reply_on_another_channel_than_its_thread(dm_thread, alice):
    public = Thread.objects.create(
        brand=dm_thread.brand, customer=dm_thread.customer, conversation_id=77
    )
    tweet = Message.objects.create(
        brand=public.brand, thread=public, x_id=77, direction="in", author_x_id=1,
        text="public", conversation_id=77, sent_at=timezone.now(),
    )  # fmt: skip
    fields = {"agent": alice, "text": "t", "body": "t ^AL"}
    attempts = [
        lambda: Reply.objects.create(thread=dm_thread, channel=Channel.TWEET, **fields),
        lambda: Reply.objects.create(
            thread=dm_thread, channel=Channel.DM, in_reply_to=tweet, **fields
        ),
        lambda: Message.objects.create(
            brand=public.brand,
            thread=dm_thread,
            x_id=78,
            channel=Channel.TWEET,
            direction="out",
            author_x_id=BRAND_ID,
            text="t",
            conversation_id=78,
            sent_at=timezone.now(),
        ),  # fmt: skip
        lambda: Thread.objects.filter(id=dm_thread.id).update(channel=Channel.TWEET),
    ]
    reply = Reply.objects.create(thread=dm_thread, channel=Channel.DM, **fields)
    attempts.append(lambda: Reply.objects.filter(id=reply.id).update(channel=Channel.TWEET))
    attempts.append(lambda: Reply.objects.filter(id=reply.id).update(thread=public))
    for attempt in attempts:
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()
    assert list(Reply.objects.values_list("channel", flat=True)) == [Channel.DM]


def test_it_looks_for_the_dm_x_already_has_before_sending_again(sandbox, dm_thread, alice):
    """As after a worker died between X accepting the DM and the row being saved."""
    maya = sandbox.customers[0]
    actions.do_claim(dm_thread.id, agent=alice)
    earlier = xgateway.send_dm(maya.id, "Done! ^AL")  # the same words, for an older question
    reply = actions.do_send_reply(dm_thread.id, agent=alice, text="Done!")
    Reply.objects.create(
        thread=dm_thread, channel=Channel.DM, agent=alice, text="Done!", body="Done! ^AL",
        status="posted", posted_x_id=earlier.id, posted_at=timezone.now(),
    )  # fmt: skip  # that older answer, recorded
    already = xgateway.send_dm(maya.id, reply.body)  # X took it; the row never knew
    Reply.objects.filter(id=reply.id).update(
        status="sending", attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert (reply.status, reply.posted_x_id) == ("posted", already.id)
    assert len(brand_dms_to(maya)) == 2  # the older answer and this one: never a third


def test_it_sends_once_after_x_stored_the_dm_but_answered_too_late(
    sandbox, sandbox_settings, dm_thread, alice
):
    maya = sandbox.customers[0]
    actions.do_claim(dm_thread.id, agent=alice)
    reply = actions.do_send_reply(dm_thread.id, agent=alice, text="Looking into it")
    sandbox_settings.X_API_TIMEOUT = 1
    sandbox.fault("slow_after", "dm_send", count=1, delay=3)  # stored, answer late
    assert replies.attempt(reply.id) is not None  # timed out: uncertain
    reply.refresh_from_db()
    assert reply.status == "sending" and reply.posted_x_id is None
    Reply.objects.filter(id=reply.id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    [sent] = brand_dms_to(maya)
    assert (reply.status, reply.posted_x_id) == ("posted", sent.id)


def test_a_dm_x_refuses_fails_back_to_its_author_with_a_clear_message_and_the_text(
    twelp_urls, acme, alice
):
    """A private thread whose customer never wrote to us by DM (a move to DM makes one),
    who neither follows the brand nor accepts DMs from anyone: X answers 403."""
    maya = twelp_urls.customers[0]
    customer = Customer.objects.create(brand=acme, x_user_id=maya.id, handle="maya_rivera")
    thread = Thread.objects.create(
        brand=acme, customer=customer, channel=Channel.DM, conversation_id=maya.id
    )
    actions.do_claim(thread.id, agent=alice)
    reply = actions.do_send_reply(thread.id, agent=alice, text="Your refund: ref 5531")
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    thread.refresh_from_db()
    assert reply.status == "failed"
    assert "@maya_rivera does not accept direct messages from @acme_care" in reply.last_error
    assert reply.text == "Your refund: ref 5531"  # kept
    assert (thread.status, thread.claimed_by) == ("claimed", alice)  # back to its author
    assert brand_dms_to(maya) == [] and brand_tweets() == []
    page = login(Client(), alice.user).get(f"/t/{thread.id}/").content.decode()
    assert "does not accept direct messages" in page
    box = re.search(r"<textarea[^>]*>([^<]*)</textarea>", page).group(1)
    assert box.strip() == "Your refund: ref 5531"  # back in the reply box


def test_dm_answers_never_appear_on_the_public_stream(twelp_urls, dm_thread, alice):
    actions.do_claim(dm_thread.id, agent=alice)
    replies.attempt(actions.do_send_reply(dm_thread.id, agent=alice, text="private words").id)
    assert Reply.objects.get().status == "posted"
    html = Client().get("/stream/").content.decode()
    assert "private words" not in html
    assert "my card was charged twice" not in html


# --- moving a public thread to DM --------------------------------------------------------


@pytest.fixture
def public_thread(twelp_urls, acme, alice):
    """A public tweet at the brand, polled, claimed by Alice; (thread, its tweet)."""

    def make(customer_index: int) -> tuple[Thread, Tweet]:
        customer = twelp_urls.customers[customer_index]
        tweet = twelp_urls.tweet_at_brand(customer, "I was charged twice, help")
        mentions, _ = Source.objects.get_or_create(brand=acme, kind=Source.Kind.MENTIONS)
        poll.poll(mentions.id)
        thread = Thread.objects.get(channel=Channel.TWEET, customer__x_user_id=customer.id)
        actions.do_claim(thread.id, agent=alice)
        return thread, tweet

    return make


def move(client: Client, thread: Thread, text: str, token: uuid.UUID | None = None):
    form = {"text": text, "client_token": token or uuid.uuid4()}
    return client.post(f"/t/{thread.id}/move-to-dm/", form)


def test_it_moves_a_public_thread_to_dm_with_a_short_public_note(
    twelp_urls, public_thread, alice, dm_source
):
    devon = twelp_urls.customers[3]  # follows the brand: X lets it DM him
    thread, tweet = public_thread(3)
    client = login(Client(), alice.user)
    response = move(client, thread, "@devon_b Please send me the last 4 digits of your card")
    dm_reply = Reply.objects.get(channel=Channel.DM)
    note = Reply.objects.get(channel=Channel.TWEET)
    assert response.status_code == 302 and response["Location"] == f"/t/{dm_reply.thread_id}/"
    assert dm_reply.text == "Please send me the last 4 digits of your card"
    assert (note.body, note.waits_for) == ("@devon_b we've sent you a DM ^AL", dm_reply)
    # Not before the DM: its own task looks again in a moment.
    assert replies.attempt(note.id) == sending.Wait(replies.WAIT_FOR_DM_SECONDS)
    assert brand_tweets() == []
    assert replies.attempt(dm_reply.id) is None
    assert replies.attempt(note.id) is None
    [dm] = brand_dms_to(devon)
    [public_note] = brand_tweets()
    assert dm.text == "Please send me the last 4 digits of your card ^AL"
    assert public_note.text == "@devon_b we've sent you a DM ^AL"
    assert public_note.in_reply_to_tweet_id == tweet.id
    thread.refresh_from_db()
    dm_thread = Thread.objects.get(channel=Channel.DM)
    assert (thread.status, dm_thread.status) == ("answered", "answered")
    assert (dm_thread.customer_id, dm_thread.conversation_id) == (thread.customer_id, devon.id)
    verbs = {(e.thread_id, e.verb) for e in Event.objects.filter(actor=alice)}
    assert {(thread.id, "moved_to_dm"), (dm_thread.id, "replied")} <= verbs
    sue = make_agent(thread.brand, "sue", role="supervisor")
    audit = login(Client(), sue.user).get("/sup/audit/?verb=moved_to_dm").content.decode()
    assert f"/sup/t/{thread.id}/" in audit and f"/sup/t/{dm_thread.id}/" not in audit
    # Devon answers by DM: the same private thread reopens, offered to Alice.
    x.send_dm(devon, twelp_urls.brand, "5531")
    poll.poll(dm_source.id)
    dm_thread.refresh_from_db()
    assert (dm_thread.status, dm_thread.offered_to) == ("open", alice)
    assert Thread.objects.filter(channel=Channel.DM).count() == 1


def test_a_dm_x_refuses_posts_nothing_public_and_comes_back_with_the_text(
    twelp_urls, public_thread, alice
):
    """Maya neither follows the brand nor accepts DMs from anyone: X answers 403."""
    maya = twelp_urls.customers[0]
    thread, _ = public_thread(0)
    client = login(Client(), alice.user)
    move(client, thread, "@maya_rivera Which card did we charge? Reply here.")
    dm_reply = Reply.objects.get(channel=Channel.DM)
    note = Reply.objects.get(channel=Channel.TWEET)
    assert replies.attempt(dm_reply.id) is None
    assert replies.attempt(note.id) is None
    dm_reply.refresh_from_db()
    note.refresh_from_db()
    assert (dm_reply.status, note.status) == ("failed", "failed")
    assert brand_dms_to(maya) == [] and brand_tweets() == []  # nothing sent, nothing public
    assert "@maya_rivera does not accept direct messages from @acme_care" in dm_reply.last_error
    assert note.last_error.startswith("Not posted: the DM it announces was not sent")
    assert dm_reply.text == "Which card did we charge? Reply here."  # kept
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by) == ("claimed", alice)  # back to her, to answer
    page = client.get(f"/t/{thread.id}/").content.decode()
    assert "does not accept direct messages from @acme_care" in page
    # The words come back in the reply box, to answer in public (or edit) at once.
    box = re.search(r"<textarea[^>]*>([^<]*)</textarea>", page).group(1)
    assert box.strip() == "@maya_rivera Which card did we charge? Reply here."


def test_the_personal_data_warning_offers_move_to_dm_and_it_works(twelp_urls, public_thread, alice):
    thread, _ = public_thread(2)  # Aiko accepts DMs from anyone
    client = login(Client(), alice.user)
    text = "@aiko_tanaka call us at 212-555-0199"
    warned = client.post(f"/t/{thread.id}/reply/", {"text": text, "client_token": uuid.uuid4()})
    html = warned.content.decode()
    assert warned.status_code == 200 and "personal data" in html
    assert f'formaction="/t/{thread.id}/move-to-dm/"' in html
    assert not Reply.objects.exists()
    move(client, thread, text)
    replies.attempt(Reply.objects.get(channel=Channel.DM).id)
    replies.attempt(Reply.objects.get(channel=Channel.TWEET).id)
    assert [dm.text for dm in brand_dms_to(twelp_urls.customers[2])] == [
        "call us at 212-555-0199 ^AL"
    ]
    assert [t.text for t in brand_tweets()] == ["@aiko_tanaka we've sent you a DM ^AL"]


def test_it_refuses_when_a_colleague_holds_the_customers_dm_thread(
    twelp_urls, public_thread, alice, dm_source
):
    devon = twelp_urls.customers[3]
    x.send_dm(devon, twelp_urls.brand, "also, by DM: hello")
    poll.poll(dm_source.id)
    bob = make_agent(dm_source.brand, "bob")
    actions.do_claim(Thread.objects.get(channel=Channel.DM).id, agent=bob)
    thread, _ = public_thread(3)
    response = move(login(Client(), alice.user), thread, "private words for Devon")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Bob (^BO) already has this thread" in html
    assert "private words for Devon" in html  # the text is kept
    assert not Reply.objects.exists()
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by) == ("claimed", alice)


def test_moving_twice_with_the_same_form_sends_once(twelp_urls, public_thread, alice):
    thread, _ = public_thread(3)
    client = login(Client(), alice.user)
    token = uuid.uuid4()
    move(client, thread, "once", token)
    move(client, thread, "once", token)
    assert Reply.objects.filter(channel=Channel.DM).count() == 1
    assert Reply.objects.filter(channel=Channel.TWEET).count() == 1


def test_a_dm_thread_cannot_be_moved_to_dm(twelp_urls, dm_thread, alice):
    actions.do_claim(dm_thread.id, agent=alice)
    with pytest.raises(actions.ActionError, match="already private"):
        actions.do_move_to_dm(dm_thread.id, agent=alice, text="hi")


@pytest.mark.django_db(transaction=True)
def test_a_dm_thread_the_poller_makes_at_the_same_moment_is_the_one_used(brand, customer, agent):
    """Real concurrent connections: the poller's transaction inserts the customer's DM
    thread and has not committed when Move to DM inserts its own; Move to DM waits on the
    unique index, loses, and uses the poller's thread."""
    import threading

    from django.db import connection, connections

    public = Thread.objects.create(brand=brand, customer=customer, conversation_id=500)
    Message.objects.create(
        brand=brand, thread=public, x_id=500, direction="in", author_x_id=customer.x_user_id,
        text="@acmecares help", conversation_id=500, sent_at=timezone.now(),
    )  # fmt: skip
    actions.do_claim(public.id, agent=agent)
    inserted, commit = threading.Event(), threading.Event()
    made: dict[str, object] = {}

    def poller() -> None:
        try:
            with transaction.atomic():
                made["thread"] = Thread.objects.create(
                    brand=brand, customer=customer, channel=Channel.DM,
                    conversation_id=customer.x_user_id,
                )  # fmt: skip
                inserted.set()
                commit.wait(30)
        finally:
            connections.close_all()

    def mover() -> None:
        try:
            made["reply"] = actions.do_move_to_dm(public.id, agent=agent, text="privately")
        except Exception as error:  # reported below
            made["error"] = error
        finally:
            connections.close_all()

    first = threading.Thread(target=poller)
    first.start()
    assert inserted.wait(30)
    second = threading.Thread(target=mover)
    second.start()
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:  # until Move to DM waits on the poller's row
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.02)
        else:
            pytest.fail("Move to DM never waited for the poller's thread")
    commit.set()
    first.join(30)
    second.join(30)
    assert "error" not in made, made.get("error")
    assert made["reply"].thread_id == made["thread"].id
    assert Thread.objects.filter(channel=Channel.DM).count() == 1
