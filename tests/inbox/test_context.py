"""The conversation around a thread (inbox.ingest.context, GET /t/<id>/context/): the
tweets replied to and quoted, fetched from X (the sandbox, real tweepy) once and cached;
a deleted or unreachable one says "unavailable", never an error."""

from __future__ import annotations

import pytest

from inbox.ingest import poll
from inbox.models import Brand, Source, Thread
from tests.sandbox import BRAND_ID
from twelp.xsandbox import actions as x
from twelp.xsandbox.models import Tweet


@pytest.fixture
def source(twelp_urls) -> Source:
    brand = Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)
    return Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)


@pytest.fixture
def page(client, source):
    from tests.helpers import make_agent

    agent = make_agent(source.brand, "alice")
    client.force_login(agent.user)

    def get(thread: Thread) -> str:
        response = client.get(f"/t/{thread.id}/context/", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return response.content.decode()

    return get


def test_it_shows_the_brand_tweet_replied_to_and_a_quoted_tweet(sandbox, source, page):
    announcement = x.post_tweet(sandbox.brand, "Stores open at 9 today, 11 on Sunday")
    maya, tomasz = sandbox.customers[:2]
    other = x.post_tweet(tomasz, "the new phones look great")
    x.post_tweet(maya, "@acme_care it did not open at 9", in_reply_to_tweet_id=announcement.id)
    x.post_tweet(maya, "@acme_care same problem as this", quote_tweet_id=other.id)
    assert poll.poll(source.id).ingested == 2
    threads = list(Thread.objects.order_by("id"))
    reply_page, quote_page = page(threads[0]), page(threads[1])
    assert "Replying to <strong>" in reply_page and "Stores open at 9 today" in reply_page
    assert f"@{sandbox.brand.username}" in reply_page
    assert "Quoted <strong>" in quote_page and "the new phones look great" in quote_page
    assert f"@{tomasz.username}" in quote_page


def test_it_fetches_once_then_answers_from_the_cache(sandbox, source, page):
    parent = x.post_tweet(sandbox.brand, "We are aware of the outage")
    x.post_tweet(sandbox.customers[0], "@acme_care still down", in_reply_to_tweet_id=parent.id)
    poll.poll(source.id)
    thread = Thread.objects.get()
    assert "We are aware of the outage" in page(thread)
    Tweet.objects.filter(id=parent.id).delete()  # X would now say it is gone
    assert "We are aware of the outage" in page(thread)  # the cached copy; X not asked


def test_a_deleted_parent_is_unavailable_not_an_error(sandbox, source, page):
    parent = x.post_tweet(sandbox.brand, "A tweet we later deleted")
    x.post_tweet(sandbox.customers[0], "@acme_care what?", in_reply_to_tweet_id=parent.id)
    poll.poll(source.id)
    Tweet.objects.filter(id=parent.id).delete()
    body = page(Thread.objects.get())
    assert "This tweet is unavailable" in body and "later deleted" not in body


def test_x_failing_is_unavailable_not_an_error(sandbox, source, page):
    parent = x.post_tweet(sandbox.brand, "Maintenance tonight")
    x.post_tweet(sandbox.customers[0], "@acme_care when?", in_reply_to_tweet_id=parent.id)
    poll.poll(source.id)
    sandbox.fault("unavailable", "tweet_lookup")
    assert "This tweet is unavailable" in page(Thread.objects.get())


def test_a_thread_with_nothing_around_it_shows_nothing(client, agent, thread):
    client.force_login(agent.user)
    response = client.get(f"/t/{thread.id}/context/")
    assert response.status_code == 200 and "around" not in response.content.decode()
    thread_page = client.get(f"/t/{thread.id}/").content.decode()
    assert f'hx-get="/t/{thread.id}/context/"' in thread_page
