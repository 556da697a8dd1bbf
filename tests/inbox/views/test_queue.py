"""The queue page: who may see it, what it lists, and its htmx fragment."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from inbox.models import Thread
from tests.helpers import make_thread


def test_it_sends_anonymous_visitors_to_the_login_page(client, brand):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_refuses_people_who_are_not_active_employees(client, outsider, pending, deactivated):
    for user in (outsider, pending.user, deactivated.user):
        client.force_login(user)
        assert client.get("/").status_code == 403


def test_it_lists_open_threads_most_urgent_first(client, agent, customer):
    now = timezone.now()
    earlier = now - timedelta(hours=2)
    older = make_thread(agent.brand, customer, 1, priority=1, waiting_since=earlier)
    urgent = make_thread(agent.brand, customer, 2, priority=9, waiting_since=now)
    make_thread(agent.brand, customer, 3, status="closed")
    client.force_login(agent.user)
    response = client.get("/")
    assert response.status_code == 200
    rows = re.findall(r'data-thread-id="(\d+)"', response.content.decode())
    assert rows == [str(urgent.id), str(older.id)]


def test_it_pages_with_a_cursor_and_answers_htmx_with_rows_only(
    client, agent, customer, django_assert_max_num_queries
):
    Thread.objects.bulk_create(
        Thread(brand=agent.brand, customer=customer, conversation_id=i, priority=i % 3)
        for i in range(120)
    )
    client.force_login(agent.user)
    seen: list[int] = []
    url = "/"
    while url:
        # 8: the first page also shows X's budgets (their rows and the waiting outbox), the
        # tabs' counts (one grouped query) and the brand's teams (the team filter); rows are
        # read as heads, and those not kept yet (all, here) read whole in one more query.
        with django_assert_max_num_queries(8):
            response = client.get(url, HTTP_HX_REQUEST="true")
        assert b"<html" not in response.content
        html = response.content.decode()
        seen += [int(pk) for pk in re.findall(r'data-thread-id="(\d+)"', html)]
        more = re.search(r'class="more" href="([^"]+)"', html)
        url = "/" + more.group(1).replace("&amp;", "&") if more else ""
    assert len(seen) == len(set(seen)) == 120


def test_it_escapes_customer_handles(client, agent, brand):
    from inbox.models import Customer

    evil = Customer.objects.create(
        brand=brand, x_user_id=7, handle="<b>x", name="<script>alert(1)</script>"
    )
    make_thread(brand, evil, 1)
    client.force_login(agent.user)
    body = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in body and "<b>x" not in body
    assert "&lt;script&gt;alert(1)" in body and "@&lt;b&gt;x" in body


def test_it_starts_from_the_top_on_a_tampered_cursor(client, agent, customer):
    make_thread(agent.brand, customer, 1)
    client.force_login(agent.user)
    for cursor in ("garbage", "1_2", "1_99999999999999999999999_3", "a_b_c"):
        response = client.get(f"/?after={cursor}")
        assert response.status_code == 200
        assert b'data-thread-id="' in response.content


def test_it_pages_through_ties_in_priority_and_waiting_time_in_queue_order(agent, customer):
    from inbox.queries import queue_page

    now = timezone.now()
    Thread.objects.bulk_create(
        Thread(
            brand=agent.brand,
            customer=customer,
            conversation_id=i,
            priority=i % 3,
            waiting_since=now - timedelta(minutes=i % 7),  # many share a waiting time
        )
        for i in range(180)
    )
    expected = list(
        Thread.objects.filter(status="open")
        .order_by("-priority", "waiting_since", "id")
        .values_list("id", flat=True)
    )
    seen, after = [], None
    while True:
        page, after = queue_page(agent.brand, after=after)
        seen += [t.id for t in page]
        if after is None:
            break
    assert seen == expected


def test_it_opens_the_thread_from_its_message_too(client, agent, customer):
    thread = make_thread(agent.brand, customer, 1, preview="my <b>order</b> is late")
    client.force_login(agent.user)
    body = client.get("/").content.decode()
    assert re.search(
        rf'<a href="/t/{thread.id}/"[^>]*>my &lt;b&gt;order&lt;/b&gt; is late</a>', body
    )


def test_it_spans_the_empty_row_over_every_column(client, agent, supervisor):
    for who, columns in ((agent, 5), (supervisor, 6)):
        client.force_login(who.user)
        body = client.get("/").content.decode()
        header = re.search(r"<thead>.*?</thead>", body, re.S).group()
        assert len(re.findall(r"<th[ >]", header)) == columns
        assert f'<td colspan="{columns}" class="empty">' in body


def _toast(response) -> dict:
    import json

    return json.loads(response["HX-Trigger"])["twelp:toast"]


def test_claim_next_from_the_page_answers_a_clear_queue_with_a_toast(client, agent):
    client.force_login(agent.user)
    response = client.post("/claim-next/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "HX-Redirect" not in response
    assert _toast(response) == {
        "text": "The queue is clear: nothing is waiting for you. You are in line: the next "
        "thread of your teams comes to you.",
        "level": "info",
    }
    # Said once, as the toast: not flashed again on the next page.
    assert "nothing is waiting" not in client.get("/").content.decode()


def test_claim_next_from_the_page_opens_the_thread_it_claimed(client, agent, customer):
    thread = make_thread(agent.brand, customer, 1)
    client.force_login(agent.user)
    response = client.post("/claim-next/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"/t/{thread.id}/"
    thread.refresh_from_db()
    assert thread.claimed_by == agent


def test_claim_next_past_the_cap_is_an_error_toast_in_the_agents_language(client, agent, customer):
    for n in range(2):
        make_thread(agent.brand, customer, n)
    agent.max_held = 1
    agent.language = "es"
    agent.save(update_fields=["max_held", "language"])
    client.force_login(agent.user)
    client.post("/claim-next/", HTTP_HX_REQUEST="true")
    said = _toast(client.post("/claim-next/", HTTP_HX_REQUEST="true"))
    assert said["level"] == "error"
    assert "1" in said["text"] and "You hold" not in said["text"]  # Spanish words
    assert Thread.objects.filter(claimed_by=agent).count() == 1


def test_its_first_page_after_a_change_reads_rows_counts_and_budgets_in_one_round_trip(
    client, agent, customer
):
    """The sources, the first page's rows (as heads), the tabs' counts and X's budgets (not
    kept yet for the new version) in one execute (twelp.prepared.together); then the rows
    not kept yet, whole. A source of the brand filters them; an id that is no source of
    the brand shows the whole queue, as none."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox.live import version
    from inbox.models import Source

    mentions = Source.objects.create(brand=agent.brand, kind=Source.Kind.MENTIONS)
    make_thread(agent.brand, customer, 1, source=mentions)
    make_thread(agent.brand, customer, 2)
    client.force_login(agent.user)
    assert client.get("/").status_code == 200
    version.bump(agent.brand_id)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    together = [q["sql"] for q in queries.captured_queries if "inbox_queuecount" in q["sql"]]
    assert len(together) == 1
    for table in ("inbox_source", "inbox_thread", "inbox_postingbudget", "inbox_brandtweet"):
        assert table in together[0]
    assert len(re.findall(r'data-thread-id="(\d+)"', html)) == 2
    filtered = client.get(f"/?source={mentions.id}").content.decode()
    assert len(re.findall(r'data-thread-id="(\d+)"', filtered)) == 1
    unknown = client.get(f"/?source={mentions.id + 1000}").content.decode()
    assert len(re.findall(r'data-thread-id="(\d+)"', unknown)) == 2
