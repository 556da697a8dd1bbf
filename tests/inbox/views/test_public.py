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


# --- one stream per brand account (issue 16) -------------------------------------------------


@pytest.fixture
def eu_thread(brand):
    from inbox.models import Brand, Customer

    eu = Brand.objects.create(name="Acme EU", handle="acme_eu", x_user_id=9_000_002)
    lena = Customer.objects.create(brand=eu, x_user_id=43, handle="lena", name="Lena")
    return make_thread(eu, lena, 7)


def test_each_brand_account_has_its_own_stream(client, thread, eu_thread, agent):
    from tests.helpers import make_agent

    posted(thread, agent, "@kim answered by the main handle", minutes_ago=2)
    posted(eu_thread, make_agent(eu_thread.brand, "eva"), "@lena answered from EU", minutes_ago=1)
    eu = client.get("/stream/?account=acme_eu").content.decode()
    assert "answered from EU" in eu and "answered by the main handle" not in eu
    assert "https://x.com/acme_eu/status/" in eu and "x.com/acmecares" not in eu
    main = client.get("/stream/?account=@AcmeCares").content.decode()  # as X: any case, an @
    assert "answered by the main handle" in main and "answered from EU" not in main
    # Without an account: the oldest brand's, as before.
    assert "answered from EU" not in client.get("/stream/").content.decode()


def test_an_unknown_account_is_a_404_that_says_so(client, thread, agent):
    response = client.get("/stream/?account=nobody_here")
    assert response.status_code == 404
    html = response.content.decode()
    assert "No brand account @nobody_here answers here" in html
    hostile = client.get("/stream/?account=<script>x</script>")
    assert hostile.status_code == 404
    assert "<script>x" not in hostile.content.decode()  # the handle is escaped


def test_a_training_brands_stream_is_not_public(client, brand):
    from inbox.models import Brand

    Brand.objects.create(name="Practice", handle="acme_practice", x_user_id=5, training_for=brand)
    assert client.get("/stream/?account=acme_practice").status_code == 404


def test_a_brands_stream_pages_within_that_account(client, thread, eu_thread, agent, monkeypatch):
    from tests.helpers import make_agent

    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    eva = make_agent(eu_thread.brand, "eva")
    for i in range(5):
        posted(eu_thread, eva, f"@lena eu answer {i:02d}", minutes_ago=i)
        posted(thread, agent, f"@kim main answer {i:02d}", minutes_ago=i)
    seen: list[str] = []
    url = "/stream/?account=acme_eu"
    while url:
        html = client.get(url).content.decode()
        assert "main answer" not in html
        seen += re.findall(r"eu answer (\d\d)", html)
        more = re.search(r'href="(\?account=acme_eu&amp;after=[\d_]+)"', html)
        url = "/stream/" + more.group(1).replace("&amp;", "&") if more else None
    assert sorted(seen) == [f"{i:02d}" for i in range(5)]
