"""The public stream: posted public answers with their credit, and nothing private."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Reply
from inbox.views import public
from tests.helpers import make_thread


def posted(thread, agent, text: str, *, minutes_ago: int, channel: str = "tweet", **fields):
    credit = f" ^{agent.credit_code}"
    defaults = {
        "status": "posted",
        "posted_x_id": 880_000 + Reply.objects.count(),
        "posted_at": timezone.now() - timedelta(minutes=minutes_ago),
    }
    if fields.get("status", "posted") != "posted":
        defaults.update(posted_x_id=None, posted_at=None)
    return Reply.objects.create(
        thread=thread,
        agent=agent,
        channel=channel,
        text=text,
        credit=credit,
        body=text + credit,
        **(defaults | fields),
    )


@pytest.fixture
def thread(brand, customer):
    return make_thread(brand, customer, 1)


def test_it_shows_posted_answers_newest_first_with_the_credit(client, thread, agent, second_agent):
    posted(thread, agent, "@kim older answer", minutes_ago=10)
    posted(thread, second_agent, "@kim newer answer", minutes_ago=1)
    html = client.get("/stream/").content.decode()
    assert html.index("newer answer") < html.index("older answer")
    assert (
        '<a class="credit" href="https://x.com/alice_x" rel="noopener nofollow ugc">^AL</a>' in html
    )
    assert 'href="https://x.com/bob_x"' in html
    assert "https://x.com/acmecares/status/" in html


def test_it_shows_nothing_private(client, thread, agent, brand):
    agent.name = "Alice Secretname"
    agent.save()
    posted(thread, agent, "@kim public words", minutes_ago=5)
    private = make_thread(brand, thread.customer, 2, channel="dm")  # a reply keeps its thread's
    posted(private, agent, "a DM with an order number", minutes_ago=4, channel="dm")
    for status in ("queued", "sending", "failed", "discarded"):
        posted(thread, agent, f"not on X: {status}", minutes_ago=3, status=status)
    html = client.get("/stream/").content.decode()
    assert "public words" in html
    assert "DM with an order number" not in html
    assert "not on X" not in html
    assert "Secretname" not in html and agent.employee_id not in html
    assert agent.user.email not in html


def test_it_escapes_tweet_text_and_does_not_endorse_its_links(client, thread, agent):
    posted(
        thread, agent, "@kim <script>alert(1)</script> see https://acme.example/x", minutes_ago=1
    )
    html = client.get("/stream/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    link = re.search(r'<a href="https://acme.example/x"[^>]*>', html).group(0)
    assert 'rel="noopener nofollow ugc"' in link


def test_it_pages_with_a_cursor_without_repeats(client, thread, agent, monkeypatch):
    monkeypatch.setattr(public, "PAGE_SIZE", 4)
    for i in range(10):
        posted(thread, agent, f"@kim answer {i:02d}", minutes_ago=i % 3)  # ties on time
    seen: list[str] = []
    url = "/stream/"
    while url:
        html = client.get(url, HTTP_HX_REQUEST="true" if seen else None).content.decode()
        seen += re.findall(r"answer (\d\d)", html)
        more = re.search(r'href="(\?after=[\d_]+)"', html)
        url = f"/stream/{more.group(1)}" if more else None
    assert sorted(seen) == [f"{i:02d}" for i in range(10)]
    assert len(seen) == len(set(seen))


def test_it_needs_no_login(client, thread, agent):
    posted(thread, agent, "@kim hello", minutes_ago=1)
    response = client.get("/stream/")
    assert response.status_code == 200 and "hello" in response.content.decode()


def test_it_pages_answers_and_approved_brand_tweets_together(client, thread, agent, monkeypatch):
    from inbox.models import BrandTweet, Proposal

    monkeypatch.setattr(public, "PAGE_SIZE", 3)
    for i in range(8):
        if i % 2:
            posted(thread, agent, f"@kim answer {i:02d}", minutes_ago=i % 3)
            continue
        proposal = Proposal.objects.create(
            brand=thread.brand, author=agent, text=f"tip {i:02d}", credit=" ^AL", status="posted"
        )
        BrandTweet.objects.create(
            brand=thread.brand,
            proposal=proposal,
            body=f"tip {i:02d} ^AL",
            status="posted",
            posted_x_id=990_000 + i,
            posted_at=timezone.now() - timedelta(minutes=i % 3),
        )
    seen: list[str] = []
    url = "/stream/"
    while url:
        html = client.get(url, HTTP_HX_REQUEST="true" if seen else None).content.decode()
        seen += re.findall(r"(?:answer|tip) (\d\d)", html)
        more = re.search(r'href="(\?after=[\d_]+)"', html)
        url = f"/stream/{more.group(1)}" if more else None
    assert sorted(seen) == [f"{i:02d}" for i in range(8)]
    assert len(seen) == len(set(seen))


def test_it_starts_from_the_newest_on_a_tampered_cursor(client, thread, agent):
    posted(thread, agent, "@kim the newest", minutes_ago=1)
    for cursor in ("garbage", "1_2_3", "99999999999999999999999_1", "%00"):
        response = client.get(f"/stream/?after={cursor}")
        assert response.status_code == 200 and "the newest" in response.content.decode()
