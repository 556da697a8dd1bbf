"""429 from the throttles (inbox.views.throttle) in real Chromium: an htmx request that is
throttled (the reply check) shows the server's sentence and loses nothing typed; a link
the browser follows itself (the audit CSV export) gets a page saying so, with a way back."""

from __future__ import annotations

import pytest

from agents.models import Role
from inbox.models import Brand, Customer, Reply
from inbox.views import throttle
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent, make_thread_with_message

pytestmark = pytest.mark.django_db(transaction=True)

MINUTE = 29_000_000 * 60.0  # a fixed minute (the live server runs in this process)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "_now", lambda: MINUTE + 5)


@pytest.fixture
def brand(db):
    return Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)


def test_a_throttled_reply_check_says_so_and_keeps_the_typed_reply(page, settings, brand):
    settings.THROTTLE_REPLY_CHECK_PER_MINUTE = 1
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    thread = make_thread_with_message(brand, customer, "@acmecares refund?", preview="refund?")
    make_agent(brand, "alice")
    log_in(page, "alice", PASSWORD)
    page.goto(f"/t/{thread.id}/")
    page.locator("html[data-keys=on]").wait_for(state="attached")
    page.get_by_role("button", name="Claim", exact=True).click()
    box = page.get_by_label("Reply")
    checks: list[int] = []
    page.on("response", lambda r: checks.append(r.status) if "/reply/check/" in r.url else None)

    with page.expect_response(lambda r: "/reply/check/" in r.url) as first:
        box.fill("@kim it left the warehouse")
        box.dispatch_event("input")
    assert first.value.status == 200
    with page.expect_response(lambda r: "/reply/check/" in r.url) as second:
        box.fill("@kim it left the warehouse today")
        box.dispatch_event("input")
    assert second.value.status == 429

    notice = page.locator("#throttled [role=alert]")
    notice.wait_for()
    assert notice.inner_text().startswith("Too many requests: you checked a draft reply")
    assert "Please wait 55 seconds" in notice.inner_text()
    assert box.input_value() == "@kim it left the warehouse today"  # nothing lost
    page.get_by_role("button", name="Send", exact=True).click()  # sending is not throttled
    page.get_by_text("Sent from @acmecares").wait_for()
    assert Reply.objects.get().text == "@kim it left the warehouse today"
    assert checks == [200, 429]


def test_a_throttled_export_gets_a_page_that_says_so_and_leads_back(page, settings, brand):
    settings.THROTTLE_AUDIT_CSV_PER_MINUTE = 1
    make_agent(brand, "sue", role=Role.SUPERVISOR)
    log_in(page, "sue", PASSWORD)
    page.goto("/sup/audit/?verb=claimed")
    export = page.get_by_role("link", name="Export CSV")
    with page.expect_download() as download:
        export.click()
    assert download.value.suggested_filename.endswith(".csv")
    assert page.url.endswith("/sup/audit/?verb=claimed")  # a download: the page stays

    export.click()
    page.get_by_role("heading", name="Too many requests").wait_for()
    alert = page.get_by_role("alert").filter(has_text="exported the audit trail more than 1")
    alert.wait_for()
    page.get_by_role("link", name="Back to the page").click()
    page.wait_for_url("**/sup/audit/?verb=claimed")  # the filters as they were


def test_a_throttled_send_says_so_and_keeps_the_draft(page, settings, brand, monkeypatch):
    """Past THROTTLE_POSTS_PER_MINUTE, Send & close posts nothing: the sentence shows, the
    draft stays in the box and the buttons come back; the next minute it goes out."""
    settings.THROTTLE_POSTS_PER_MINUTE = 1
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    thread = make_thread_with_message(brand, customer, "@acmecares refund?", preview="refund?")
    alice = make_agent(brand, "alice")
    assert throttle.over_limit("posts", alice.id) is None  # she has posted once this minute
    log_in(page, "alice", PASSWORD)
    page.goto(f"/t/{thread.id}/")
    page.locator("html[data-keys=on]").wait_for(state="attached")
    page.get_by_role("button", name="Claim", exact=True).click()
    box = page.get_by_label("Reply")
    box.fill("@kim here is the tracking number")
    send = page.get_by_role("button", name="Send & close", exact=True)
    with page.expect_response(lambda r: r.url.endswith("/reply/")) as refused:
        send.click()
    assert refused.value.status == 429
    notice = page.locator("#throttled [role=alert]")
    notice.wait_for()
    assert notice.inner_text().startswith("Too many requests: you posted as the brand more than 1")
    assert "Nothing was posted; what you wrote is kept." in notice.inner_text()
    assert box.input_value() == "@kim here is the tracking number"
    assert not Reply.objects.exists()

    monkeypatch.setattr(throttle, "_now", lambda: MINUTE + 65)  # the next minute
    send.click()  # the buttons came back
    page.get_by_text("closed @kim's thread").wait_for()
    assert [r.text for r in Reply.objects.all()] == ["@kim here is the tracking number"]
