"""X's summoned-reply rule in the composer: a thread whose post never tagged the brand
offers a DM and says why (self-serve access), and X's 403 reaches the agent in plain words."""

from __future__ import annotations

import re
import uuid

import pytest

from inbox import actions
from inbox.ingest import poll
from inbox.models import Brand, Reply, Source, Thread
from inbox.outbox import replies
from tests.helpers import make_agent
from tests.sandbox import BRAND_ID
from twelp.xsandbox import actions as x


@pytest.fixture
def brand(twelp_urls) -> Brand:
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


@pytest.fixture
def listening(twelp_urls, brand) -> Thread:
    """A listening query's match: a post about the brand that never tagged it."""
    x.post_tweet(twelp_urls.customers[0], "my acme router keeps dropping wifi")
    source = Source.objects.create(brand=brand, kind=Source.Kind.SEARCH, query="acme")
    poll.poll(source.id)
    return Thread.objects.get(brand=brand)


@pytest.fixture
def alice(brand):
    return make_agent(brand, "alice")


def test_the_reply_box_offers_a_dm_and_says_why_public_is_unavailable(client, listening, alice):
    actions.do_claim(listening.id, agent=alice)
    client.force_login(alice.user)
    page = client.get(f"/t/{listening.id}/").content.decode()
    assert 'id="public-refusal"' in page and "never mentioned or quoted @acme_care" in page
    assert ">Send by DM</button>" in page
    assert not re.search(
        r'<button type="submit" class="primary" data-key="mod\+Enter"[^>]*>Send<', page
    )
    # A forged public Send is refused with the same reason, and the text is kept.
    response = client.post(
        f"/t/{listening.id}/reply/",
        {"text": "@maya_rivera sorry!", "client_token": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "never mentioned or quoted" in body
    assert "@maya_rivera sorry!" in body
    assert not Reply.objects.exists()


def test_send_by_dm_sends_the_dm_alone_with_no_public_note(client, listening, alice):
    actions.do_claim(listening.id, agent=alice)
    client.force_login(alice.user)
    response = client.post(
        f"/t/{listening.id}/move-to-dm/",
        {"text": "Sorry! Try channel 6", "client_token": uuid.uuid4()},
    )
    assert response.status_code == 302
    [dm] = Reply.objects.all()
    assert dm.channel == "dm" and dm.waits_for is None
    assert not Reply.objects.filter(thread=listening).exists()


def test_an_enterprise_brand_answers_in_public(client, listening, alice, brand):
    Brand.objects.filter(id=brand.id).update(x_access=Brand.XAccess.ENTERPRISE)
    actions.do_claim(listening.id, agent=alice)
    client.force_login(alice.user)
    page = client.get(f"/t/{listening.id}/").content.decode()
    assert 'id="public-refusal"' not in page
    assert re.search(
        r'<button type="submit" class="primary" data-key="mod\+Enter"[^>]*>Send</button>', page
    )
    assert "Send by DM" not in page


def test_xs_403_is_shown_to_the_agent_plainly(client, listening, alice, brand):
    # Twelp believes it is Enterprise; the sandbox's app is self-serve: X answers 403.
    Brand.objects.filter(id=brand.id).update(x_access=Brand.XAccess.ENTERPRISE)
    actions.do_claim(listening.id, agent=alice)
    reply = actions.do_send_reply(listening.id, agent=alice, text="@maya_rivera sorry!")
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert reply.status == "failed"
    assert reply.last_error.startswith(
        "X refused the public reply (403): @maya_rivera's post never"
    )
    client.force_login(alice.user)
    page = client.get(f"/t/{listening.id}/").content.decode()
    assert "X refused your reply: X refused the public reply (403)" in page
