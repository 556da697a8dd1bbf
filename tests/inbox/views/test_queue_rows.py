"""The queue's rows are rendered once per change of what they show and reused by every
page of the brand (inbox.templatetags.queue_rows): never stale, never another viewer's."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from inbox import actions
from inbox.live import version
from inbox.models import Thread
from tests.helpers import make_agent, make_thread


def _kept_rows() -> dict[int, set[str]]:
    """{thread id: its kept row keys} in this run's cache."""
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    kept: dict[int, set[str]] = {}
    for key in client.scan_iter(match=f"{prefix}:*:qrow:*", count=1000):
        thread_id = int(key.decode().rsplit(":", 2)[-2])
        kept.setdefault(thread_id, set()).add(key.decode())
    return kept


def _row(html: str, thread: Thread) -> str:
    found = re.search(rf'<tr data-thread-id="{thread.id}".*?</tr>', html, re.S)
    assert found, f"no row for thread {thread.id}"
    return found.group(0)


def test_a_row_is_kept_and_reused_until_what_it_shows_changes(client, agent, customer):
    now = timezone.now()
    first = make_thread(agent.brand, customer, 1, preview="where is my order", waiting_since=now)
    second = make_thread(agent.brand, customer, 2, preview="wrong size", waiting_since=now)
    client.force_login(agent.user)
    client.get("/")
    kept = _kept_rows()
    assert set(kept) == {first.id, second.id}

    actions.do_claim(first.id, agent=agent)
    html = client.get("/?status=claimed").content.decode()
    assert f"{agent.name} ^" in _row(html, first)
    client.get("/")
    after = _kept_rows()
    # The claimed thread got a new row (its holder and status changed); the other row is
    # the very entry kept before, not rendered again.
    assert after[second.id] == kept[second.id]
    assert after[first.id] - kept[first.id]


def test_a_changed_preview_is_shown_at_once(client, agent, customer):
    thread = make_thread(agent.brand, customer, 1, preview="first words")
    client.force_login(agent.user)
    assert "first words" in _row(client.get("/").content.decode(), thread)
    Thread.objects.filter(id=thread.id).update(preview="second words")
    version.bump(agent.brand_id)  # as every write through inbox.actions does
    html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "second words" in _row(html, thread)
    assert "first words" not in html


def test_the_waiting_label_ages_with_the_clock(client, agent, customer):
    thread = make_thread(agent.brand, customer, 1, waiting_since=timezone.now())
    client.force_login(agent.user)
    assert "just now" in _row(client.get("/").content.decode(), thread)
    with time_machine.travel(timezone.now() + timedelta(minutes=7), tick=False):
        html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "7 min" in _row(html, thread)


def test_a_supervisors_row_is_not_served_to_an_agent(client, agent, brand, customer):
    thread = make_thread(brand, customer, 1)
    boss = make_agent(brand, "boss", role="supervisor")
    client.force_login(boss.user)
    boss_row = _row(client.get("/", HTTP_HX_REQUEST="true").content.decode(), thread)
    assert 'name="thread"' in boss_row  # the pick box of bulk actions
    client.force_login(agent.user)
    agent_row = _row(client.get("/", HTTP_HX_REQUEST="true").content.decode(), thread)
    assert 'name="thread"' not in agent_row
    assert len(_kept_rows()[thread.id]) == 2


def test_rows_of_one_brand_are_never_served_to_another(client, agent, customer, db):
    from inbox.models import Brand, Customer

    thread = make_thread(agent.brand, customer, 1, preview="brand one's words")
    other_brand = Brand.objects.create(name="Other", handle="other", x_user_id=999)
    other_customer = Customer.objects.create(
        brand=other_brand, x_user_id=customer.x_user_id, handle=customer.handle
    )
    other = make_thread(other_brand, other_customer, 1, preview="brand two's words")
    client.force_login(agent.user)
    client.get("/")
    client.force_login(make_agent(other_brand, "olga").user)
    html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "brand two&#x27;s words" in _row(html, other)
    assert "brand one" not in html
    assert f'data-thread-id="{thread.id}"' not in html


def test_a_thread_offered_to_its_last_answerer_says_so_until_the_offer_ends(
    client, agent, second_agent, customer
):
    """A customer who wrote again is Bob's first (Claim next gives it to nobody else until
    the offer ends): Alice's queue says so, and stops saying it when the offer is over."""
    thread = make_thread(agent.brand, customer, 1)
    Thread.objects.filter(id=thread.id).update(
        offered_to=second_agent,
        last_answered_by=second_agent,
        offer_expires_at=timezone.now() + timedelta(minutes=5),
    )
    version.bump(agent.brand_id)
    client.force_login(agent.user)
    row = _row(client.get("/").content.decode(), thread)
    assert f'data-offered-to="{second_agent.id}"' in row
    assert f"Offered to {second_agent.name}" in row
    assert actions.do_claim_next(agent=agent) is None  # as the row says

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        version.bump(agent.brand_id)
        row = _row(client.get("/").content.decode(), thread)
        assert "data-offered-to" not in row and "Offered to" not in row
        assert actions.do_claim_next(agent=agent) == thread
