"""A viral conversation: each customer who joins it gets a thread of their own, linked to
the first, and is answered in reply to their own tweet (real tweepy over HTTP to the
sandbox)."""

from __future__ import annotations

import pytest

from inbox import actions
from inbox.ingest import poll
from inbox.models import Brand, Message, Reply, Source, Thread
from inbox.outbox import replies
from tests.helpers import make_agent
from tests.sandbox import BRAND_ID
from twelp.xsandbox import actions as x
from twelp.xsandbox.models import Tweet


@pytest.fixture
def source(twelp_urls) -> Source:
    brand = Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)
    return Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)


def test_a_second_customer_gets_their_own_thread_linked_to_the_first(sandbox, source):
    maya, tomasz, third = sandbox.customers[:3]
    root = sandbox.tweet_at_brand(maya, "my order never arrived")
    poll.poll(source.id)
    joined = x.post_tweet(tomasz, "@acme_care same here!", in_reply_to_tweet_id=root.id)
    again = x.post_tweet(maya, "@acme_care still nothing", in_reply_to_tweet_id=root.id)
    x.post_tweet(third, "@acme_care me too", in_reply_to_tweet_id=joined.id)
    poll.poll(source.id)
    threads = {t.customer.handle: t for t in Thread.objects.select_related("customer")}
    assert len(threads) == 3
    first = threads[maya.username]
    assert first.joined_id is None
    assert threads[tomasz.username].joined_id == first.id
    assert threads[third.username].joined_id == first.id
    assert {t.conversation_id for t in threads.values()} == {root.id}
    assert set(first.messages.values_list("x_id", flat=True)) == {root.id, again.id}
    assert list(threads[tomasz.username].messages.values_list("x_id", flat=True)) == [joined.id]


def test_the_joiner_is_answered_in_reply_to_their_own_tweet(sandbox, source, client):
    maya, tomasz = sandbox.customers[:2]
    root = sandbox.tweet_at_brand(maya, "the app is down")
    poll.poll(source.id)
    joined = x.post_tweet(tomasz, "@acme_care for me too", in_reply_to_tweet_id=root.id)
    poll.poll(source.id)
    thread = Thread.objects.get(customer__x_user_id=tomasz.id)
    agent = make_agent(source.brand, "alice")
    actions.do_claim(thread.id, agent=agent)
    reply = actions.do_send_reply(
        thread.id, agent=agent, text=f"@{tomasz.username} we are on it", client_token=None
    )
    assert reply.in_reply_to.x_id == joined.id
    replies.attempt(reply.id)
    reply.refresh_from_db()
    assert Tweet.objects.get(id=reply.posted_x_id).in_reply_to_tweet_id == joined.id
    client.force_login(agent.user)
    first = Thread.objects.get(customer__x_user_id=maya.id)
    page = client.get(f"/t/{thread.id}/").content.decode()
    assert f'href="/t/{first.id}/"' in page and "Joined the conversation" in page
    assert Message.objects.filter(thread=first).count() == 1
    assert Reply.objects.filter(thread=first).count() == 0
