"""Admins see the brand's quarantine, fetch an item again from X (the sandbox, over HTTP)
or discard it; both are Events."""

from __future__ import annotations

import pytest

from inbox.models import Brand, Event, Message, Quarantine, Source
from tests.xsandbox.conftest import sandbox, sandbox_settings, sandbox_url, world  # noqa: F401


@pytest.fixture
def admin_client(client, admin_agent):
    client.force_login(admin_agent.user)
    return client


def test_it_lists_and_discards(admin_client, brand, source):
    row = Quarantine.objects.create(source=source, raw={"id": "1", "<b>": 1}, error="no author_id")
    page = admin_client.get("/admin/quarantine/").content.decode()
    assert "no author_id" in page and "&lt;b&gt;" in page
    assert admin_client.post(f"/admin/quarantine/{row.id}/discard/").status_code == 302
    assert not Quarantine.objects.exists()
    event = Event.objects.get(verb="quarantine_discarded")
    assert (event.detail["error"], event.detail["x_id"]) == ("no author_id", 1)
    # Twice: gone (404), nothing more recorded.
    assert admin_client.post(f"/admin/quarantine/{row.id}/discard/").status_code == 404
    assert Event.objects.filter(verb="quarantine_discarded").count() == 1


def test_another_brands_quarantine_is_not_shown_nor_touched(admin_client, db):
    other = Brand.objects.create(name="Other", handle="other", x_user_id=5)
    theirs = Quarantine.objects.create(
        source=Source.objects.create(brand=other, kind="mentions"), raw={}, error="theirs"
    )
    assert "theirs" not in admin_client.get("/admin/quarantine/").content.decode()
    assert admin_client.post(f"/admin/quarantine/{theirs.id}/discard/").status_code == 404
    assert admin_client.post(f"/admin/quarantine/{theirs.id}/retry/").status_code == 404
    assert Quarantine.objects.filter(id=theirs.id).exists()


def test_retry_fetches_the_tweet_again_and_stores_it(sandbox, twelp_urls, client):  # noqa: F811
    from tests.helpers import make_agent

    brand = Brand.objects.create(name="Acme", handle="acme_care", x_user_id=sandbox.brand.id)
    admin = make_agent(brand, "ada", role="admin")
    client.force_login(admin.user)
    source = Source.objects.create(brand=brand, kind="mentions")
    tweet = sandbox.tweet_at_brand(sandbox.customers[0], "my order is late")
    row = Quarantine.objects.create(
        source=source, raw={"id": str(tweet.id), "text": "cut"}, error="no author_id"
    )
    response = client.post(f"/admin/quarantine/{row.id}/retry/", follow=True)
    assert f"Tweet {tweet.id} was fetched again and stored." in response.content.decode()
    assert Message.objects.get(x_id=tweet.id).text.endswith("my order is late")
    assert not Quarantine.objects.exists()
    assert Event.objects.get(verb="quarantine_retried").detail["x_id"] == tweet.id


def test_a_dm_cannot_be_fetched_again(admin_client, brand):
    dms = Source.objects.create(brand=brand, kind="dms")
    row = Quarantine.objects.create(source=dms, raw={"id": "5"}, error="bad")
    page = admin_client.post(f"/admin/quarantine/{row.id}/retry/", follow=True).content.decode()
    assert "X cannot send one DM event again by itself; discard it." in page
    assert Quarantine.objects.filter(id=row.id).exists()


def test_the_csrf_token_is_required(csrf_client, admin_agent, source):
    row = Quarantine.objects.create(source=source, raw={}, error="x")
    csrf_client.force_login(admin_agent.user)
    assert csrf_client.post(f"/admin/quarantine/{row.id}/discard/").status_code == 403
    assert csrf_client.post(f"/admin/quarantine/{row.id}/retry/").status_code == 403
    assert Quarantine.objects.filter(id=row.id).exists()
