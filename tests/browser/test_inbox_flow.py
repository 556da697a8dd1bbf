"""The whole loop in real Chromium: a customer tweets in the sandbox, the mention appears
in the queue without a reload, an agent claims and answers with credit, the customer sees
the brand's reply in the sandbox, the agent closes; a second agent loses the claim race."""

from __future__ import annotations

import pytest

from inbox.ingest import poll
from inbox.models import Brand, Reply, Source
from inbox.outbox import replies
from inbox.rules.text import weighted_length
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent
from tests.sandbox import BRAND_ID

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(sandbox, sandbox_settings):
    # The sandbox fixture gives the whole process the sandbox's settings; Twelp's own
    # live server must keep Twelp's (the sandbox thread routes by request.urlconf).
    from django.conf import settings as twelp

    from tests import settings as ours

    for name in ("ROOT_URLCONF", "SESSION_ENGINE", "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME"):
        setattr(sandbox_settings, name, getattr(ours, name, None) or _default(name))
    assert twelp.ROOT_URLCONF == "twelp.urls"
    brand = Brand.objects.create(name="Acme", handle=sandbox.brand.username, x_user_id=BRAND_ID)
    source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    return brand, source, make_agent(brand, "alice"), make_agent(brand, "bob")


def tweet_as_customer(customer_page, sandbox, text: str) -> None:
    customer_page.goto(sandbox.url + "/")
    picker = customer_page.get_by_label("Pick a persona")
    option = picker.locator("option", has_text=sandbox.customers[0].username).first
    picker.select_option(option.get_attribute("value"))
    customer_page.get_by_role("button", name="Continue as this persona").click()
    customer_page.locator("form[action$='/tweet'] textarea[name=text]").first.fill(text)
    customer_page.get_by_role("button", name="Tweet", exact=True).click()


def test_it_runs_the_claim_answer_close_loop(browser, page, live_server, sandbox, desk):
    brand, source, alice, bob = desk
    log_in(page, "alice", PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()

    customer = browser.new_context().new_page()
    tweet_as_customer(customer, sandbox, "my order #123 never arrived")
    poll.poll(source.id)  # what beat + the worker do every few seconds
    row = page.locator("tr[data-thread-id]", has_text="never arrived")
    row.wait_for(timeout=8_000)  # the live refresh, no reload

    # Bob has the thread open; Alice claims it first.
    bob_page = browser.new_context(base_url=live_server.url).new_page()
    log_in(bob_page, "bob", PASSWORD)
    thread_id = row.get_attribute("data-thread-id")
    bob_page.goto(f"/t/{thread_id}/")

    page.get_by_role("button", name="Claim next").click()
    reply_box = page.get_by_label("Reply")
    reply_box.wait_for()
    handle = sandbox.customers[0].username
    assert reply_box.input_value() == f"@{handle} "

    bob_page.get_by_role("button", name="Claim").click()
    assert "Alice (^AL) already has this thread" in bob_page.get_by_role("alert").inner_text()

    text = f"@{handle} So sorry 😢 track it here: https://acme.example/track/123"
    reply_box.fill(text)
    expected = 280 - weighted_length(text + " ^AL")
    page.get_by_text(f"{expected} left").wait_for()
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Sent from @").wait_for()

    replies.attempt(Reply.objects.get().id)  # what the Celery worker does
    customer.reload()
    brand_reply = customer.locator(".text", has_text="So sorry 😢 track it here").first
    brand_reply.wait_for()
    assert brand_reply.inner_text().endswith("^AL")

    page.get_by_role("button", name="Close").click()
    page.get_by_text("Closed.").wait_for()
    assert Reply.objects.get().status == "posted"


def test_it_blocks_send_past_280_with_the_credit(page, desk):
    brand, source, alice, bob = desk
    from inbox import actions
    from tests.helpers import make_thread

    thread = make_thread(brand, make_customer(brand), 1)
    actions.do_claim(thread.id, agent=alice)
    log_in(page, "alice", PASSWORD)
    page.goto(f"/t/{thread.id}/")
    page.get_by_label("Reply").fill("@kim " + "日本" * 68)  # 5 + 272 + 4 (^AL) = 281
    page.get_by_text("-1 left").wait_for()
    assert page.get_by_role("button", name="Send", exact=True).is_disabled()


def make_customer(brand):
    from inbox.models import Customer

    return Customer.objects.create(brand=brand, x_user_id=77, handle="kim", name="Kim")


def _default(name: str) -> str:
    from django.conf import global_settings

    return getattr(global_settings, name)
