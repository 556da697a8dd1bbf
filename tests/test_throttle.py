"""Per-employee throttling of the expensive endpoints (inbox.views.throttle), with small limits:
the reply check, the viewers polls, the typing ping, the audit CSV export."""

from __future__ import annotations

import pytest
from django.test import Client

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
