"""The live pages' shared parts (inbox.live.fragments): rendered once per queue version for
every employee, never older than that version, still checked per request, and with each
requester's own CSRF token."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client

from agents.models import AgentState, Role
from inbox import actions
from inbox.live import version
from inbox.models import Reply
from inbox.outbox import replies
from tests.helpers import make_agent, make_thread, pass_second_factor


def rows(response) -> list[int]:
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'data-thread-id="(\d+)"', response.content.decode())]


def logged_in(agent, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(agent.user)
    return client


def test_it_renders_the_first_page_once_per_version_for_every_agent(
    agent, second_agent, customer, django_assert_num_queries
):
    first = make_thread(agent.brand, customer, 1)
    assert rows(logged_in(agent).get("/")) == [first.id]
    # Written behind the actions' back: no version bump, so the shared render stands.
    later = make_thread(agent.brand, customer, 2)
    bob = logged_in(second_agent)
    with django_assert_num_queries(1):  # the login check: user, agent and brand at once
        assert rows(bob.get("/")) == [first.id]
    version.bump(agent.brand_id)  # what every action does after commit
    assert rows(bob.get("/")) == [first.id, later.id]


def test_it_shows_a_claim_to_everyone_at_once(
    agent, second_agent, customer, django_capture_on_commit_callbacks
):
    thread = make_thread(agent.brand, customer, 1)
    alice, bob = logged_in(agent), logged_in(second_agent)
    assert rows(alice.get("/")) == [thread.id]
    assert rows(bob.get("/?status=claimed")) == []
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_claim(thread.id, agent=second_agent)
    assert rows(alice.get("/")) == []
    claimed = alice.get("/?status=claimed").content.decode()
    assert f'data-holder="{second_agent.id}"' in claimed and "Bob ^BO" in claimed


def test_it_marks_what_the_requester_holds_in_a_shared_page(agent, second_agent, customer):
    mine = make_thread(agent.brand, customer, 1, status="claimed", claimed_by=agent)
    theirs = make_thread(agent.brand, customer, 2, status="claimed", claimed_by=second_agent)
    for who in (agent, second_agent):
        html = logged_in(who).get("/?status=claimed").content.decode()
        assert f'data-me="{who.id}"' in html  # per request: twelp.js marks their rows
        assert f'data-thread-id="{mine.id}" data-holder="{agent.id}"' in html
        assert f'data-thread-id="{theirs.id}" data-holder="{second_agent.id}"' in html


def test_it_keeps_each_agents_own_tab_to_them(agent, second_agent, customer):
    mine = make_thread(agent.brand, customer, 1, status="claimed", claimed_by=agent)
    theirs = make_thread(agent.brand, customer, 2, status="claimed", claimed_by=second_agent)
    assert rows(logged_in(agent).get("/?status=mine")) == [mine.id]
    assert rows(logged_in(second_agent).get("/?status=mine")) == [theirs.id]


def test_it_checks_the_login_even_when_the_page_is_shared(agent, second_agent, customer):
    make_thread(agent.brand, customer, 1)
    bob = logged_in(second_agent)
    assert bob.get("/").status_code == 200
    second_agent.state = AgentState.DEACTIVATED
    second_agent.save(update_fields=["state"])
    assert bob.get("/").status_code == 403
    assert logged_in(agent).get("/").status_code == 200


def test_it_gives_each_supervisor_their_own_csrf_token(supervisor, agent, customer):
    thread = make_thread(agent.brand, customer, 1)
    actions.do_claim(thread.id, agent=agent)
    reply = actions.do_send_reply(thread.id, agent=agent, text="@kim on its way")
    with transaction.atomic():
        replies.mark_failed(Reply.objects.select_for_update().get(pk=reply.pk), "X refused")
    assert b"Retry" in logged_in(supervisor).get("/sup/").content  # rendered and shared
    other = make_agent(agent.brand, "sam", role=Role.SUPERVISOR)
    sam = logged_in(other, enforce_csrf_checks=True)
    html = sam.get("/sup/").content.decode()
    retry = re.search(rf'action="/sup/r/{reply.id}/retry/">(.*?)</form>', html, re.S).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', retry).group(1)
    response = sam.post(f"/sup/r/{reply.id}/retry/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302  # a token of the first supervisor's would be a 403
    reply.refresh_from_db()
    assert reply.status == "queued"


def test_it_renders_pages_further_down_for_the_request_only(agent, customer):
    threads = [make_thread(agent.brand, customer, i) for i in range(55)]
    alice = logged_in(agent)
    first = alice.get("/").content.decode()
    more = re.search(r'class="more" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    page = alice.get(f"/?{more}")  # no JavaScript: the whole page, with the next rows
    assert b"<html" in page.content
    assert rows(page) == [t.id for t in threads[50:]]


def test_it_shows_a_flash_message_once_on_a_kept_page(agent):
    alice = logged_in(agent)
    alice.get("/")  # the page around the parts is now kept for alice
    response = alice.post("/claim-next/", follow=True)  # nothing waiting: a message
    assert "The queue is clear: nothing is waiting for you." in response.content.decode()
    assert "nothing is waiting" not in alice.get("/").content.decode()


def flashed(client: Client, level: int, text: str) -> None:
    """A flash message waiting for the client's next page, as a form's view leaves it
    (Django's message cookie)."""
    storage = CookieStorage(HttpRequest())
    storage.add(level, text)
    response = HttpResponse()
    storage.update(response)
    client.cookies["messages"] = response.cookies["messages"].value


def test_it_puts_flash_messages_in_the_kept_frame_escaped_and_once(
    agent, customer, django_assert_num_queries
):
    thread = make_thread(agent.brand, customer, 1)
    alice = logged_in(agent)
    alice.get("/")  # the frame and the parts are kept
    flashed(alice, messages.ERROR, "<b>Closed</b> & gone")
    with django_assert_num_queries(1):  # the login check: the frame is not rendered again
        html = alice.get("/").content.decode()
    assert '<ul class="messages"' in html and "&lt;b&gt;Closed&lt;/b&gt; &amp; gone" in html
    assert 'role="alert"' in html and "<b>Closed" not in html
    assert rows_in(html) == [thread.id]  # the shared parts are still filled in
    again = alice.get("/").content.decode()
    assert "&amp; gone" not in again and '<ul class="messages"' not in again
    assert "shared0fragment0slot" not in html + again


def rows_in(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-thread-id="(\d+)"', html)]


def test_it_renders_the_page_again_when_the_employee_changes(agent):
    alice = logged_in(agent)
    assert "Alice" in alice.get("/").content.decode()
    agent.user.first_name, agent.user.last_name = "Alicia", "Keys"
    agent.user.save(update_fields=["first_name", "last_name"])
    assert "Alicia Keys" in alice.get("/").content.decode()
    agent.role = Role.SUPERVISOR
    agent.save(update_fields=["role"])
    # A supervisor passes the second factor first (agents.twofactor), then sees their menu.
    assert alice.get("/")["Location"].startswith("/2fa/setup/")
    pass_second_factor(alice, agent.user)
    assert 'href="/sup/"' in alice.get("/").content.decode()


def test_it_renders_the_page_again_when_work_starts_or_stops_coming_to_the_employee(agent):
    """Available / Go away is in the page around the parts: a kept frame must not show the
    old state (no flash message forces a fresh render any more)."""
    from django.utils import timezone

    alice = logged_in(agent)
    assert 'data-available="off"' in alice.get("/").content.decode()
    agent.available_since = timezone.now()
    agent.save(update_fields=["available_since"])
    page = alice.get("/").content.decode()
    assert 'data-available="on"' in page and 'data-available="off"' not in page
