"""Per-employee throttling (inbox.views.throttle), with small limits: the expensive endpoints
(the reply check, the viewers polls, the typing ping, the audit CSV export) and posting as
the brand (send, send & close, move to DM)."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from inbox import actions
from inbox.models import Reply, ThreadStatus
from inbox.views import throttle

MINUTE = 29_000_000 * 60.0  # a fixed minute, so no test straddles two windows


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [MINUTE + 5]
    monkeypatch.setattr(throttle, "_now", lambda: now[0])
    return now


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def assert_throttled(response, did: str) -> None:
    assert response.status_code == 429
    text = response.content.decode()
    assert text.startswith("Too many requests: you " + did), text
    assert "Please wait 55 seconds" in text
    assert response["Retry-After"] == "55"
    assert response["Content-Type"].startswith("text/plain")


def test_reply_check(settings, agent, second_agent, thread):
    settings.THROTTLE_REPLY_CHECK_PER_MINUTE = 3
    alice, path = logged_in(agent), f"/t/{thread.id}/reply/check/"
    for _ in range(3):
        assert alice.post(path, {"text": "@kim hi"}).status_code == 200
    assert_throttled(alice.post(path, {"text": "@kim hi"}), "checked a draft reply more than 3")
    # per employee: a colleague's checks are counted apart
    assert logged_in(second_agent).post(path, {"text": "@kim hi"}).status_code == 200


def test_the_next_minute_starts_afresh(settings, agent, thread, clock):
    settings.THROTTLE_REPLY_CHECK_PER_MINUTE = 1
    alice, path = logged_in(agent), f"/t/{thread.id}/reply/check/"
    assert alice.post(path, {"text": "hi"}).status_code == 200
    assert alice.post(path, {"text": "hi"}).status_code == 429
    clock[0] = MINUTE + 60
    assert alice.post(path, {"text": "hi"}).status_code == 200


def test_zero_is_no_limit(settings, agent, thread):
    settings.THROTTLE_REPLY_CHECK_PER_MINUTE = 0
    alice, path = logged_in(agent), f"/t/{thread.id}/reply/check/"
    assert all(alice.post(path, {"text": "hi"}).status_code == 200 for _ in range(5))


def test_viewers_polls_share_one_limit(settings, agent, thread):
    settings.THROTTLE_VIEWERS_PER_MINUTE = 2
    alice = logged_in(agent)
    assert alice.get(f"/t/{thread.id}/viewers/").status_code == 200
    assert alice.get(f"/viewers/?t={thread.id}").status_code == 200
    assert_throttled(alice.get(f"/t/{thread.id}/viewers/"), "asked who else is viewing more")
    assert alice.get(f"/viewers/?t={thread.id}").status_code == 429


def test_typing(settings, agent, thread):
    settings.THROTTLE_TYPING_PER_MINUTE = 2
    alice = logged_in(agent)
    assert [alice.post(f"/t/{thread.id}/typing/").status_code for _ in range(2)] == [204, 204]
    assert_throttled(alice.post(f"/t/{thread.id}/typing/"), "sent a typing signal more than 2")
    # the viewers polls are another scope
    assert alice.get(f"/t/{thread.id}/viewers/").status_code == 200


def test_audit_csv(settings, supervisor, admin_agent):
    settings.THROTTLE_AUDIT_CSV_PER_MINUTE = 1
    sue = logged_in(supervisor)
    first = sue.get("/sup/audit.csv")
    assert first.status_code == 200
    b"".join(first.streaming_content)
    assert_throttled(sue.get("/sup/audit.csv"), "exported the audit trail more than 1")
    assert logged_in(admin_agent).get("/sup/audit.csv").status_code == 200


def test_throttling_comes_after_the_access_check(settings, pending, thread):
    """A refused visitor is refused as before (no counter of theirs decides anything)."""
    settings.THROTTLE_REPLY_CHECK_PER_MINUTE = 1
    pete = logged_in(pending)
    codes = [pete.post(f"/t/{thread.id}/reply/check/").status_code for _ in range(3)]
    assert codes == [403, 403, 403]
    assert Client().post(f"/t/{thread.id}/reply/check/").status_code == 302


HTML = "text/html,application/xhtml+xml,*/*;q=0.8"  # what a browser sends for a page


def test_a_browser_navigation_gets_a_page_with_the_sentence_and_a_way_back(settings, supervisor):
    settings.THROTTLE_AUDIT_CSV_PER_MINUTE = 1
    sue = logged_in(supervisor)
    b"".join(sue.get("/sup/audit.csv").streaming_content)
    back = "http://testserver/sup/audit/?verb=claimed"
    page = sue.get("/sup/audit.csv", HTTP_ACCEPT=HTML, HTTP_REFERER=back)
    assert page.status_code == 429 and page["Retry-After"] == "55"
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "Too many requests: you exported the audit trail more than 1 times" in html
    assert 'href="http://testserver/sup/audit/?verb=claimed"' in html
    elsewhere = sue.get("/sup/audit.csv", HTTP_ACCEPT=HTML, HTTP_REFERER="https://evil.example/")
    assert (
        'href="/"' in elsewhere.content.decode()
        and "evil.example" not in elsewhere.content.decode()
    )


def test_a_throttled_form_post_comes_back_with_everything_it_sent(settings, agent, thread):
    settings.THROTTLE_REPLY_CHECK_PER_MINUTE = 1
    alice, path = logged_in(agent), f"/t/{thread.id}/reply/check/"
    assert alice.post(path, {"text": "hi"}).status_code == 200
    typed = '@kim <script>alert(1)</script> "your order" ships today'
    sent = {"text": typed, "client_token": "3f2a9c"}
    page = alice.post(path, sent, HTTP_ACCEPT=HTML)
    assert page.status_code == 429
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html  # escaped, as everywhere
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;your order&quot; ships today" in html
    assert '<input type="hidden" name="client_token" value="3f2a9c">' in html
    assert f'<form method="post" action="{path}"' in html and "csrfmiddlewaretoken" in html
    # htmx's own requests keep the short text answer (twelp.js shows it; nothing swapped)
    htmx = alice.post(path, sent, HTTP_ACCEPT=HTML, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 429 and htmx["Content-Type"].startswith("text/plain")


# --- posting as the brand (THROTTLE_POSTS_PER_MINUTE) --------------------------------------


def test_posting_as_the_brand_is_limited_across_send_and_move_to_dm(
    settings, agent, second_agent, thread
):
    """Send, Send & close and Move to DM count together; past the limit nothing is posted,
    the thread stays as it was, and a colleague is counted apart."""
    settings.THROTTLE_POSTS_PER_MINUTE = 2
    actions.do_claim(thread.id, agent=agent)
    alice = logged_in(agent)
    sent = alice.post(
        f"/t/{thread.id}/reply/", {"text": "@kim on its way", "client_token": uuid.uuid4()}
    )
    assert sent.status_code == 302 and Reply.objects.count() == 1
    # counted whatever came of it (here: no DM source, so refused, the text kept)
    moved = alice.post(
        f"/t/{thread.id}/move-to-dm/", {"text": "@kim hi", "client_token": uuid.uuid4()}
    )
    assert moved.status_code == 200
    third = {"text": "@kim and closed", "client_token": uuid.uuid4(), "then": "close"}
    refused = alice.post(f"/t/{thread.id}/reply/", third, HTTP_HX_REQUEST="true")
    assert_throttled(refused, "posted as the brand more than 2 times in a minute")
    assert refused.content.decode().endswith("Nothing was posted; what you wrote is kept.")
    assert Reply.objects.count() == 1
    thread.refresh_from_db()
    assert thread.status != ThreadStatus.CLOSED  # "& close" did not happen either
    assert_throttled(
        alice.post(f"/t/{thread.id}/move-to-dm/", {"text": "@kim x", "client_token": uuid.uuid4()}),
        "posted as the brand",
    )
    # Bob's posts are his own: his refusal (not his thread) is the ordinary one, not 429.
    assert logged_in(second_agent).post(f"/t/{thread.id}/reply/", third).status_code != 429


def test_a_throttled_send_comes_back_with_the_draft_to_send_again(settings, agent, thread):
    settings.THROTTLE_POSTS_PER_MINUTE = 1
    actions.do_claim(thread.id, agent=agent)
    alice = logged_in(agent)
    token = str(uuid.uuid4())
    alice.post(f"/t/{thread.id}/reply/", {"text": "@kim first", "client_token": uuid.uuid4()})
    draft = {"text": "@kim a careful second answer", "client_token": token, "then": "close"}
    page = alice.post(f"/t/{thread.id}/reply/", draft, HTTP_ACCEPT=HTML)
    assert page.status_code == 429 and page["Retry-After"] == "55"
    html = page.content.decode()
    assert "@kim a careful second answer</textarea>" in html
    assert f'<input type="hidden" name="client_token" value="{token}">' in html
    assert '<input type="hidden" name="then" value="close">' in html
    assert f'<form method="post" action="/t/{thread.id}/reply/"' in html
    assert [r.text for r in Reply.objects.all()] == ["@kim first"]


def test_posting_unthrottled_at_zero(settings, agent, thread):
    settings.THROTTLE_POSTS_PER_MINUTE = 0
    actions.do_claim(thread.id, agent=agent)
    alice = logged_in(agent)
    codes = [
        alice.post(
            f"/t/{thread.id}/reply/", {"text": f"@kim {n}", "client_token": uuid.uuid4()}
        ).status_code
        for n in range(12)
    ]
    assert 429 not in codes and codes[0] == 302


def test_customer_data_export(settings, admin_agent, customer, thread):
    """Each export reads all of one customer's data: limited per admin; the page itself
    and an erasure are not counted."""
    settings.THROTTLE_CUSTOMER_EXPORT_PER_MINUTE = 1
    ada, path = logged_in(admin_agent), "/brand/customer-data/"
    assert ada.post(path, {"who": "@kim", "action": "export"}).status_code == 200
    assert_throttled(
        ada.post(path, {"who": "@kim", "action": "export"}),
        "exported a customer's data more than 1",
    )
    assert ada.get(path).status_code == 200
