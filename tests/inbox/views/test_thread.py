"""The inbox pages: literal URLs, the database checked after each POST."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import timezone

from inbox import actions
from inbox.live import version
from inbox.models import Message, Reply, Thread, ThreadStatus
from tests.helpers import make_thread


@pytest.fixture
def message_text() -> str:
    return "@acmecares where is <b>my</b> order?"


@pytest.fixture
def thread_preview() -> str:
    return "where is my order?"


def test_it_claims_next_and_opens_the_thread(client, agent, thread):
    client.force_login(agent.user)
    response = client.post("/claim-next/")
    assert response.status_code == 302
    assert response["Location"] == f"/t/{thread.id}/"
    thread.refresh_from_db()
    assert thread.claimed_by == agent


def test_it_says_when_the_queue_is_clear(client, agent):
    client.force_login(agent.user)
    response = client.post("/claim-next/", follow=True)
    assert "The queue is clear" in response.content.decode()


def test_it_shows_the_conversation_escaped_with_the_reply_box(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    body = client.get(f"/t/{thread.id}/").content.decode()
    assert "where is &lt;b&gt;my&lt;/b&gt; order?" in body
    assert "<b>my</b>" not in body
    assert re.search(r'<textarea[^>]*name="text"[^>]*>\s*@kim </textarea>', body)
    assert 'data-credit=" ^AL"' in body


def test_it_tells_the_loser_of_a_claim_race_who_won(client, agent, second_agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(second_agent.user)
    response = client.post(f"/t/{thread.id}/claim/", follow=True)
    assert "Alice (^AL) already has this thread" in response.content.decode()


def test_it_keeps_the_text_of_a_too_long_reply(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    text = "@kim " + "é" * 300
    response = client.post(
        f"/t/{thread.id}/reply/",
        {"text": text, "client_token": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "too long for X" in body and text in body
    assert "<html" not in body
    assert not Reply.objects.exists()


def test_it_sends_a_reply_and_keeps_the_typed_text_when_the_claim_was_lost(
    client, agent, second_agent, thread
):
    actions.do_claim(thread.id, agent=agent)
    actions.do_release(thread.id, agent=agent)
    actions.do_claim(thread.id, agent=second_agent)
    client.force_login(agent.user)
    response = client.post(
        f"/t/{thread.id}/reply/", {"text": "@kim my careful answer", "client_token": uuid.uuid4()}
    )
    body = response.content.decode()
    assert "Bob (^BO) already has this thread" in body
    assert "my careful answer" in body


def test_it_sends_a_reply_from_the_thread_page(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    response = client.post(
        f"/t/{thread.id}/reply/", {"text": "@kim on its way!", "client_token": uuid.uuid4()}
    )
    assert response.status_code == 302
    reply = Reply.objects.get()
    assert reply.body == "@kim on its way! ^AL"
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.ANSWERED


def test_it_closes_and_releases(client, agent, thread):
    client.force_login(agent.user)
    client.post(f"/t/{thread.id}/claim/")
    client.post(f"/t/{thread.id}/release/")
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN
    client.post(f"/t/{thread.id}/claim/")
    client.post(f"/t/{thread.id}/close/")
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.CLOSED


def test_it_offers_close_only_to_those_who_may_close(
    client, agent, second_agent, supervisor, thread
):
    close = f'action="/t/{thread.id}/close/"'
    client.force_login(agent.user)
    assert close not in client.get(f"/t/{thread.id}/").content.decode()  # open: claim first
    actions.do_claim(thread.id, agent=agent)
    assert close in client.get(f"/t/{thread.id}/").content.decode()
    client.force_login(second_agent.user)  # Alice holds it: Close would only be refused
    assert close not in client.get(f"/t/{thread.id}/").content.decode()
    client.force_login(supervisor.user)
    assert close in client.get(f"/t/{thread.id}/").content.decode()
    client.force_login(second_agent.user)
    thread.refresh_from_db()
    thread.status, thread.claimed_by = ThreadStatus.ANSWERED, None
    thread.save(update_fields=["status", "claimed_by"])
    assert close in client.get(f"/t/{thread.id}/").content.decode()  # anyone closes it


@pytest.mark.parametrize("status", ["open", "claimed", "answered"])
@pytest.mark.parametrize("who", ["holder", "another agent", "supervisor"])
def test_close_is_offered_exactly_when_do_close_would_close(
    client, agent, second_agent, supervisor, thread, status, who
):
    Thread.objects.filter(id=thread.id).update(
        status=status, claimed_by=agent if status == "claimed" else None
    )
    closer = {"holder": agent, "another agent": second_agent, "supervisor": supervisor}[who]
    client.force_login(closer.user)
    offered = f'action="/t/{thread.id}/close/"' in client.get(f"/t/{thread.id}/").content.decode()
    try:
        actions.do_close(thread.id, agent=closer)
    except actions.ActionError:
        closed = False
    else:
        closed = True
    thread.refresh_from_db()
    assert offered == closed == (thread.status == ThreadStatus.CLOSED)


def test_it_hides_threads_of_other_brands(client, thread):
    from inbox.models import Brand
    from tests.helpers import make_agent

    other = Brand.objects.create(name="Other", handle="other", x_user_id=5)
    stranger = make_agent(other, "zed")
    client.force_login(stranger.user)
    assert client.get(f"/t/{thread.id}/").status_code == 404
    assert client.post(f"/t/{thread.id}/claim/").status_code == 404


def test_it_answers_an_unchanged_live_refresh_without_postgresql(
    client, agent, thread, django_assert_num_queries
):
    client.force_login(agent.user)
    page = client.get("/").content.decode()
    shown = re.search(r"v=([\d.]+)", page).group(1)
    with django_assert_num_queries(0):
        response = client.get(f"/?status=open&v={shown}", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    version.bump(agent.brand_id)
    response = client.get(f"/?status=open&v={shown}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'data-thread-id="{thread.id}"' in response.content.decode()


def test_it_refuses_state_changes_without_csrf(csrf_client, agent, thread):
    csrf_client.force_login(agent.user)
    for url in ("/claim-next/", f"/t/{thread.id}/claim/", f"/t/{thread.id}/close/"):
        assert csrf_client.post(url).status_code == 403
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN


def test_it_filters_the_queue_by_source(client, agent, customer):
    from inbox.models import Source

    mentions = Source.objects.create(brand=agent.brand, kind="mentions")
    listening = Source.objects.create(brand=agent.brand, kind="search", query='"acme" -is:retweet')
    heard = make_thread(agent.brand, customer, 1, source=listening)
    make_thread(agent.brand, customer, 2, source=mentions)
    client.force_login(agent.user)
    body = client.get(f"/?source={listening.id}").content.decode()
    assert re.findall(r'data-thread-id="(\d+)"', body) == [str(heard.id)]


def test_it_starts_the_reply_with_everyone_in_the_conversation(client, agent, thread):
    from inbox.models import Customer

    lee = Customer.objects.create(brand=thread.brand, x_user_id=43, handle="lee")
    Message.objects.create(
        brand=thread.brand,
        thread=thread,
        x_id=101,
        direction="in",
        author_x_id=43,
        text="same problem here",
        conversation_id=100,
        sent_at=timezone.now(),
    )
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    body = client.get(f"/t/{thread.id}/").content.decode()
    assert re.search(r"<textarea[^>]*>\s*@kim @lee </textarea>", body)
    assert lee.handle == "lee"


def test_the_thread_page_reads_its_messages_and_replies_once(client, agent, thread):
    """The reply box's @handles, a refused answer's words and X's reply rule come from the
    conversation the page already read (bench.day: the thread page is the web's costliest
    work request), not from queries of their own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/t/{thread.id}/").content.decode()
    # Statements, also those sent together in one execute (inbox.queries.page_reads).
    selects = [s for q in queries.captured_queries for s in q["sql"].split(";\n")]
    assert sum(sql.startswith('SELECT "inbox_message"') for sql in selects) == 1
    own = 'WHERE "inbox_reply"."thread_id" = %s '  # the thread's own, not its customer's others
    assert sum(sql.startswith('SELECT "inbox_reply"') and own in sql for sql in selects) == 1
    assert len(queries.captured_queries) <= 5  # employee, thread, the page's batch, budgets
    assert re.search(r"<textarea[^>]*>\s*@kim </textarea>", body)


def test_it_links_urls_in_tweets_as_user_content(client, agent, thread):
    Message.objects.filter(thread=thread).update(
        text='see https://evil.example/x?a=1&b="2" <img src=x onerror=alert(1)>'
    )
    client.force_login(agent.user)
    body = client.get(f"/t/{thread.id}/").content.decode()
    assert 'rel="noopener nofollow ugc"' in body
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_it_links_the_threads_that_joined_its_conversation(client, agent, thread):
    """The header's "Others in this conversation" (read by the view, not the template)."""
    from inbox.models import Customer

    lee = Customer.objects.create(brand=thread.brand, x_user_id=43, handle="lee")
    joined = make_thread(thread.brand, lee, 100, joined=thread)
    client.force_login(agent.user)
    body = client.get(f"/t/{thread.id}/").content.decode()
    assert f'href="/t/{joined.id}/">thread #{joined.id}</a>' in body
    assert "Others in this conversation" in body
    own = client.get(f"/t/{joined.id}/").content.decode()
    assert "Others in this conversation" not in own
    assert f'href="/t/{thread.id}/">thread #{thread.id}</a>' in own  # "Joined ... of"


def test_only_its_own_customer_asks_no_one_else(client, agent, thread):
    """A thread only its customer wrote in starts the reply with their handle alone,
    without looking for other customers (a query saved on every thread page)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/t/{thread.id}/").content.decode()
    assert not [q for q in queries.captured_queries if 'FROM "inbox_customer"' in q["sql"]]
    assert re.search(r"<textarea[^>]*>\s*@kim </textarea>", body)
