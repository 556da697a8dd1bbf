"""The audit trail: filter, page (keyset), export (streamed CSV), and a thread's timeline."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from inbox import actions
from inbox.models import Event
from inbox.views import supervision
from tests.helpers import login, make_agent, make_thread
from tests.inbox.scenario import NOW, at


@pytest.fixture
def history(brand, customer, agent, second_agent):
    """30 claim/release pairs at one instant (ids break the ties), then Bob closes one."""
    thread = make_thread(brand, customer, 1)
    with at(NOW):
        for _ in range(30):
            actions.do_claim(thread.id, agent=agent)
            actions.do_release(thread.id, agent=agent)
    other = make_thread(brand, customer, 2)
    with at(NOW + timedelta(hours=1)):
        actions.do_claim(other.id, agent=second_agent)
        actions.do_close(other.id, agent=second_agent)
    return thread, other


def ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-event-id="(\d+)"', html)]


def test_it_pages_every_event_once_newest_first(client, supervisor, history):
    login(client, supervisor.user)
    first = client.get("/sup/audit/").content.decode()
    older = re.search(r'href="\?after=([\d_]+)"', first).group(1)
    second = client.get(f"/sup/audit/?after={older}", HTTP_HX_REQUEST="true")
    assert b"<html" not in second.content
    everything = ids(first) + ids(second.content.decode())
    expected = list(Event.objects.order_by("-at", "-id").values_list("id", flat=True))
    assert len(ids(first)) == supervision.AUDIT_PAGE
    assert everything == expected and len(expected) == 62


def test_it_filters_by_actor_verb_thread_and_time(client, supervisor, history, second_agent):
    thread, other = history
    login(client, supervisor.user)

    def found(query: str) -> set[int]:
        return set(ids(client.get(f"/sup/audit/?{query}").content.decode()))

    bobs = set(Event.objects.filter(actor=second_agent).values_list("id", flat=True))
    assert found(f"actor={second_agent.id}") == bobs and len(bobs) == 2
    closed = set(Event.objects.filter(verb="closed").values_list("id", flat=True))
    assert found("verb=closed") == closed and len(closed) == 1
    assert found(f"thread={other.id}") == bobs
    later = (NOW + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    assert found(f"since={later}") == bobs
    assert len(found(f"until={later}")) == 50  # the first page of the 60 earlier ones


def test_it_reads_times_in_the_brands_time_zone(client, supervisor, history, brand):
    brand.timezone = "Europe/Paris"  # UTC+1 in March
    brand.save()
    login(client, supervisor.user)
    # 13:30 in Paris is 12:30 UTC: after the 60 events at noon UTC, before Bob's.
    response = client.get("/sup/audit/?since=2026-03-10T13:30")
    assert len(ids(response.content.decode())) == 2


def test_it_exports_csv_streamed_in_batches(client, supervisor, history, monkeypatch):
    monkeypatch.setattr(supervision, "CSV_BATCH", 7)  # several keyset batches
    login(client, supervisor.user)
    response = client.get("/sup/audit.csv")
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "at_utc", "verb", "actor_id", "actor", "thread_id", "detail"]
    expected = list(Event.objects.order_by("at", "id").values_list("id", flat=True))
    assert [int(r[0]) for r in rows[1:]] == expected


def test_it_exports_a_date_range_only(client, supervisor, history):
    login(client, supervisor.user)
    later = (NOW + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    body = b"".join(client.get(f"/sup/audit.csv?since={later}").streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert [r[2] for r in rows] == ["claimed", "closed"]


def test_it_defuses_spreadsheet_formulas_in_the_export(client, supervisor, brand, customer):
    thread = make_thread(brand, customer, 3)
    Event.objects.create(brand=brand, thread=thread, verb="noted", detail={"x": 1})
    evil = make_agent(brand, "eve")
    evil.name = '=HYPERLINK("http://evil")'
    evil.save()
    Event.objects.create(brand=brand, thread=thread, actor=evil, verb="claimed")
    login(client, supervisor.user)
    body = b"".join(client.get("/sup/audit.csv").streaming_content).decode()
    actor_cells = [row[4] for row in csv.reader(io.StringIO(body))][1:]
    assert all(not cell.startswith("=") for cell in actor_cells)
    assert "'=HYPERLINK" in body


def test_it_shows_a_threads_timeline_in_order(client, supervisor, history):
    thread, other = history
    login(client, supervisor.user)
    html = client.get(f"/sup/t/{other.id}/").content.decode()
    assert re.findall(r'data-verb="(\w+)"', html) == ["claimed", "closed"]


def test_it_hides_another_brands_thread_and_refuses_agents(client, supervisor, agent, brand):
    from inbox.models import Brand, Customer

    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=5)
    stranger = Customer.objects.create(brand=other, x_user_id=9, handle="zz")
    foreign = make_thread(other, stranger, 9)
    login(client, supervisor.user)
    assert client.get(f"/sup/t/{foreign.id}/").status_code == 404
    login(client, agent.user)
    assert client.get("/sup/audit/").status_code == 403
    assert client.get("/sup/audit.csv").status_code == 403


def test_it_starts_from_the_newest_on_a_tampered_cursor(client, supervisor, history):
    login(client, supervisor.user)
    newest = ids(client.get("/sup/audit/").content.decode())
    for cursor in ("garbage", "1_2_3", "99999999999999999999999_1", "1_-"):
        response = client.get(f"/sup/audit/?after={cursor}")
        assert response.status_code == 200 and ids(response.content.decode()) == newest


def test_it_says_what_happened_in_plain_words(client, supervisor, brand, customer, agent):
    thread = make_thread(brand, customer, 4)
    john = make_agent(brand, "john")
    Event.objects.create(
        brand=brand, thread=thread, actor=agent, verb="claimed", detail={"next": True}
    )
    Event.objects.create(
        brand=brand,
        thread=thread,
        actor=agent,
        verb="noted",
        detail={"note": 1, "mentions": [john.id]},
    )
    Event.objects.create(
        brand=brand, thread=thread, verb="reply_posted", detail={"x_id": 42, "reply": 1}
    )
    Event.objects.create(
        brand=brand, thread=thread, actor=agent, verb="reply_posted", detail={"x_id": 43}
    )
    login(client, supervisor.user)
    for page in (client.get("/sup/audit/"), client.get(f"/sup/t/{thread.id}/")):
        text = re.sub(r"<[^>]+>", "", page.content.decode())
        assert "Alice claimed the thread (with Claim next)" in text
        assert "Alice added a note mentioning John" in text
        assert "The reply was posted (view on X)" in text
        assert "Alice’s reply was posted" in text
        assert "mentions=" not in text and "next=True" not in text and "note=1" not in text


def test_it_names_the_team_a_thread_was_routed_to(client, supervisor, brand, customer):
    """Issue 21: "routed to a team" said which by its number ("team: 3")."""
    from inbox.models import Team

    billing = Team.objects.create(brand=brand, name="Billing desk")
    thread = make_thread(brand, customer, 5)
    detail = {"team": billing.id, "rule": 7, "matched": "keyword: refund"}
    Event.objects.create(brand=brand, thread=thread, verb="routed", detail=detail)
    gone = {"team": billing.id + 1000, "rule": None, "matched": "default team"}
    Event.objects.create(
        brand=brand, thread=thread, verb="routed", detail=gone | {"reopened": True}
    )
    login(client, supervisor.user)
    for page in (client.get("/sup/audit/"), client.get(f"/sup/t/{thread.id}/")):
        text = " ".join(re.sub(r"<[^>]+>", "", page.content.decode()).split())
        assert "Routed to the team Billing desk" in text
        assert "matched: Text matches (regular expression): refund" in text
        assert "team: " not in text and "rule: " not in text  # no numbers for names
        gone_id = billing.id + 1000
        assert f"wrote again: routed to the team #{gone_id} (deleted since)" in text
