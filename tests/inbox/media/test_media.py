"""Images in tweets and DMs: requested from X (the sandbox, over real tweepy), stored on
the message, shown as thumbnails loaded from X's media host only, and never a URL of any
other host."""

from __future__ import annotations

import re

import pytest
import requests
from django.utils import timezone

from inbox.ingest import poll
from inbox.models import Brand, Message, Source, Thread
from inbox.rules import media
from tests.helpers import make_thread
from tests.sandbox import BRAND_ID
from twelp.xsandbox import actions as x

PBS = "https://pbs.twimg.com"


@pytest.fixture
def acme(sandbox) -> Brand:
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


@pytest.fixture
def sandbox_media(sandbox, sandbox_settings):
    """The sandbox serves its media from its own URL; the demo's pages may load them."""
    sandbox_settings.XSANDBOX_URL = sandbox.url
    sandbox_settings.X_MEDIA_ORIGINS = [PBS, sandbox.url]
    return sandbox


def test_a_tweets_photo_is_stored_with_its_size_and_alt_text(sandbox_media, acme):
    source = Source.objects.create(brand=acme, kind=Source.Kind.MENTIONS)
    maya = sandbox_media.customers[0]
    photo = x.photo("Receipt showing order 4411", width=1024, height=768)
    sandbox_media.tweet_at_brand(maya, "this is what I was charged", media=[photo])
    sandbox_media.tweet_at_brand(maya, "and no picture here")
    assert poll.poll(source.id).ingested == 2
    stored = {m.text.split(" ", 1)[1]: m.media for m in Message.objects.all()}
    assert stored["and no picture here"] == []
    [item] = stored["this is what I was charged"]
    assert item["type"] == "photo" and item["key"] == photo["key"]
    assert (item["width"], item["height"]) == (1024, 768)
    assert item["alt_text"] == "Receipt showing order 4411"
    assert item["url"] == f"{sandbox_media.url}/media/{photo['key']}.png"
    served = requests.get(item["url"], timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/png"
    assert served.content.startswith(b"\x89PNG")


def test_a_dms_attachment_is_stored_too(sandbox_media, acme):
    source = Source.objects.create(brand=acme, kind=Source.Kind.DMS)
    maya = sandbox_media.customers[0]
    x.send_dm(maya, sandbox_media.brand, "the error screen", media=[x.photo("Error 500")])
    assert poll.poll(source.id).ingested == 1
    [item] = Message.objects.get().media
    assert item["alt_text"] == "Error 500" and item["url"].startswith(sandbox_media.url)


@pytest.fixture
def shown(db, brand, customer):
    def show(client, agent, entries: list[dict]) -> str:
        thread = make_thread(brand, customer, 1)
        Message.objects.create(
            brand=brand,
            thread=thread,
            x_id=1,
            direction="in",
            author_x_id=customer.x_user_id,
            text="look",
            conversation_id=1,
            sent_at=timezone.now(),
            media=entries,
        )
        client.force_login(agent.user)
        return client.get(f"/t/{thread.id}/").content.decode()

    return show


def test_the_thread_shows_a_thumbnail_from_x_that_opens_larger(client, agent, shown):
    page = shown(
        client,
        agent,
        [{"type": "photo", "url": f"{PBS}/media/abc.jpg", "alt_text": "A <b>receipt</b>"}],
    )
    assert f'<img src="{PBS}/media/abc.jpg" alt="A &lt;b&gt;receipt&lt;/b&gt;"' in page
    assert f'<a href="{PBS}/media/abc.jpg" target="_blank" rel="noopener noreferrer"' in page


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/media/abc.jpg",
        "http://pbs.twimg.com/media/abc.jpg",  # not https
        "https://pbs.twimg.com.evil.example/abc.jpg",
        "https://pbs.twimg.com@evil.example/abc.jpg",
        "https://user:pw@pbs.twimg.com/abc.jpg",
        "javascript:alert(1)//pbs.twimg.com/x",
        "//pbs.twimg.com/abc.jpg",
        "https://pbs.twimg.com/",
        "/media/abc.jpg",  # never from Twelp itself: it proxies nothing
    ],
)
def test_a_url_not_on_xs_media_host_is_never_rendered(client, agent, shown, url):
    page = shown(client, agent, [{"type": "photo", "url": url, "preview_url": url}])
    assert '<ul class="media">' not in page
    assert url not in page


def test_a_video_shows_its_preview_and_junk_entries_are_skipped(client, agent, shown):
    page = shown(
        client,
        agent,
        [
            "not a dict",
            {"type": "video", "preview_url": f"{PBS}/ext_tw_video_thumb/1/pu/img/v.jpg"},
            {"type": "photo"},
        ],
    )
    assert re.findall(r'<img src="([^"]+)"', page) == [f"{PBS}/ext_tw_video_thumb/1/pu/img/v.jpg"]
    assert '<span class="badge">video</span>' in page


def test_at_most_four_are_shown():
    entries = [{"type": "photo", "url": f"{PBS}/media/{i}.jpg"} for i in range(6)]
    assert len(media.thumbs(entries, [PBS])) == 4


def test_search_finds_messages_with_images(client, agent, brand, customer):
    with_photo = make_thread(brand, customer, 1)
    without = make_thread(brand, customer, 2)
    for thread, entries in (
        (with_photo, [{"type": "photo", "url": f"{PBS}/m/1.jpg"}]),
        (without, []),
    ):
        Message.objects.create(
            brand=brand,
            thread=thread,
            x_id=thread.conversation_id,
            direction="in",
            author_x_id=customer.x_user_id,
            text="broken screen",
            conversation_id=thread.conversation_id,
            sent_at=timezone.now(),
            media=entries,
        )
    client.force_login(agent.user)
    page = client.get("/search/", {"q": "screen", "has_image": "on"}).content.decode()
    assert re.findall(r'data-thread-id="(\d+)"', page) == [str(with_photo.id)]
    assert f'<img src="{PBS}/m/1.jpg"' in page
    assert Thread.objects.count() == 2
