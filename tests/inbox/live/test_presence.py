"""Presence: an employee's own requests (even an "unchanged" 204 from Redis) mark them
online for PRESENCE_SECONDS; nothing else does."""

from __future__ import annotations

import re

from inbox.live import presence
from tests.helpers import login
from tests.inbox.scenario import NOW, at


def online(brand, agent) -> bool:
    return agent.id in presence.last_seen(brand.id, [agent.id])


def test_it_marks_an_agent_online_when_they_use_the_queue(client, brand, agent):
    assert not online(brand, agent)
    login(client, agent.user)
    client.get("/")
    assert online(brand, agent)


def test_it_keeps_them_online_on_unchanged_refreshes_without_postgresql(
    client, brand, agent, django_assert_num_queries
):
    login(client, agent.user)
    page = client.get("/").content.decode()
    version = re.search(r"v=([\d.]+)", page).group(1)
    presence.cache.delete(presence._key(brand.id, agent.id))
    presence._written.clear()  # as when the key expired: its last write is long past
    with django_assert_num_queries(0):
        assert client.get(f"/?v={version}", HTTP_HX_REQUEST="true").status_code == 204
    assert online(brand, agent)


def test_it_rewrites_the_key_only_every_few_seconds(brand, agent, settings):
    presence.seen(brand.id, agent.id)
    presence.cache.delete(presence._key(brand.id, agent.id))
    presence.seen(brand.id, agent.id)  # a second later: the key is known to be fresh
    assert not online(brand, agent)
    key = (brand.id, agent.id)
    presence._written[key] -= presence.REWRITE_SECONDS  # ... and 10 s later (monotonic)
    presence.seen(brand.id, agent.id)
    assert online(brand, agent)


def test_it_forgets_them_after_the_expiry(brand, agent, settings):
    settings.PRESENCE_SECONDS = 90
    presence.seen(brand.id, agent.id)
    # Redis expires the key itself; check the expiry it was given.
    key = presence.cache.make_key(presence._key(brand.id, agent.id))
    ttl = presence.cache._cache.get_client(key).ttl(key)
    assert 80 < ttl <= 90


def test_it_does_not_mark_anonymous_visitors_or_other_pages(client, brand, agent):
    client.get("/stream/")
    client.get("/login/")
    assert not online(brand, agent)


def test_the_dashboard_lists_only_who_is_online_or_working(client, supervisor, agent, second_agent):
    login(client, supervisor.user)
    with at(NOW):
        presence.seen(agent.brand_id, agent.id)
        html = client.get("/sup/").content.decode()
    assert f'data-agent-id="{agent.id}"' in html
    assert f'data-agent-id="{second_agent.id}"' not in html  # away, holding nothing
