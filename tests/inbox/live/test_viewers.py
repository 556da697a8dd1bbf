"""Collision warnings: "Alice is viewing" / "Alice is typing…" for the other employees, on
the thread page and the queue's rows, from Redis with expiry, and no SQL to read them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from inbox.live import viewers
from tests.helpers import make_thread


@pytest.fixture
def thread(brand, customer):
    return make_thread(brand, customer, conversation_id=7001, preview="router blinks red")


@pytest.fixture
def alice(agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


@pytest.fixture
def bob(second_agent) -> Client:
    client = Client()
    client.force_login(second_agent.user)
    return client


def labels(brand_id, thread_id, besides) -> list[str]:
    found = viewers.viewers(brand_id, [thread_id], besides=besides)
    return [v.label for v in found.get(thread_id, [])]


def test_others_see_who_views_and_who_types_and_it_expires(brand, agent, second_agent, thread):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        viewers.touch(brand.id, thread.id, agent.id, "Alice")
        viewers.touch(brand.id, thread.id, second_agent.id, "Bob")
        assert labels(brand.id, thread.id, besides=second_agent.id) == ["Alice is viewing"]
        assert labels(brand.id, thread.id, besides=agent.id) == ["Bob is viewing"]
        viewers.touch(brand.id, thread.id, agent.id, "Alice", typing=True)
        assert labels(brand.id, thread.id, besides=second_agent.id) == ["Alice is typing…"]
    with time_machine.travel(start + timedelta(seconds=6), tick=False):  # TYPING_SECONDS: 5
        assert labels(brand.id, thread.id, besides=second_agent.id) == ["Alice is viewing"]
        viewers.touch(brand.id, thread.id, second_agent.id, "Bob")  # Bob's page asks again
    with time_machine.travel(start + timedelta(seconds=11), tick=False):  # VIEWING_SECONDS: 10
        assert labels(brand.id, thread.id, besides=second_agent.id) == []  # Alice left
        assert labels(brand.id, thread.id, besides=agent.id) == ["Bob is viewing"]


def test_typists_come_first_and_each_thread_has_its_own(brand, agent, second_agent, thread):
    viewers.touch(brand.id, thread.id, agent.id, "Zoe")
    viewers.touch(brand.id, thread.id, second_agent.id, "Bob", typing=True)
    viewers.touch(brand.id, thread.id + 1, agent.id, "Zoe")
    found = viewers.viewers(brand.id, [thread.id, thread.id + 1, thread.id + 2], besides=0)
    assert [v.label for v in found[thread.id]] == ["Bob is typing…", "Zoe is viewing"]
    assert [v.label for v in found[thread.id + 1]] == ["Zoe is viewing"]
    assert thread.id + 2 not in found


def test_the_thread_page_shows_who_else_has_it_open_with_no_sql(
    alice, bob, thread, django_assert_num_queries
):
    page = alice.get(f"/t/{thread.id}/").content.decode()
    assert f'hx-get="/t/{thread.id}/viewers/"' in page
    assert alice.get(f"/t/{thread.id}/viewers/").content.decode() == ""  # nobody else
    first = bob.get(f"/t/{thread.id}/viewers/")
    assert "Alice is viewing" in first.content.decode()
    with django_assert_num_queries(0):
        again = bob.get(f"/t/{thread.id}/viewers/")
        mine = alice.get(f"/t/{thread.id}/viewers/")
    assert "Alice is viewing" in again.content.decode()
    assert "Bob is viewing" in mine.content.decode()
    assert "<html" not in again.content.decode()


def test_typing_is_a_post_with_csrf_and_shows_as_typing(agent, bob, thread, brand):
    typist = Client(enforce_csrf_checks=True)
    typist.force_login(agent.user)
    page = typist.get(f"/t/{thread.id}/").content.decode()
    assert typist.post(f"/t/{thread.id}/typing/").status_code == 403  # no CSRF token
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    assert typist.get(f"/t/{thread.id}/typing/").status_code == 405
    response = typist.post(f"/t/{thread.id}/typing/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 204
    assert "Alice is typing…" in bob.get(f"/t/{thread.id}/viewers/").content.decode()


def test_the_queue_rows_show_viewers_and_the_unchanged_refresh_stays_free(
    alice, bob, thread, django_assert_num_queries
):
    queue = bob.get("/").content.decode()
    assert f'data-viewers-for="{thread.id}"' in queue
    assert 'id="viewers"' in queue and 'data-me="' in queue
    version = re.search(r"v=([\d.]+)", queue).group(1)
    alice.get(f"/t/{thread.id}/viewers/")  # Alice opens the thread
    bob.get(f"/viewers/?t={thread.id}")  # Bob's first ask passes the login check
    with django_assert_num_queries(0):
        rows = bob.get(f"/viewers/?t={thread.id},999999,x", HTTP_HX_REQUEST="true")
        unchanged = bob.get(f"/?v={version}", HTTP_HX_REQUEST="true")
    assert rows.content.decode() == f'<span data-thread="{thread.id}">Alice is viewing</span>'
    assert unchanged.status_code == 204  # viewers never bump the queue version
    assert alice.get(f"/viewers/?t={thread.id}").content.decode() == ""  # not herself


def test_a_name_is_escaped(brand, agent, bob, thread):
    viewers.touch(brand.id, thread.id, agent.id, "<b>Al</b>")
    body = bob.get(f"/t/{thread.id}/viewers/").content.decode()
    assert "&lt;b&gt;Al&lt;/b&gt; is viewing" in body and "<b>" not in body


def test_an_open_thread_keeps_its_viewer_online(brand, agent, alice, thread):
    from inbox.live import presence

    presence._written.clear()
    alice.get(f"/t/{thread.id}/viewers/")
    assert agent.id in presence.last_seen(brand.id, [agent.id])
