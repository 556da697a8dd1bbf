"""The thread page in real Chromium: the reply box ready to type in, Send refusing a second
click while it sends, Send & close, and the reply's fate told live on the author's page."""

from __future__ import annotations

import pytest
from django.db import transaction

from inbox import actions
from inbox.models import Brand, Customer, Reply, Thread
from inbox.outbox import replies
from tests.browser.conftest import log_in
from tests.browser.test_push import push_for_page  # noqa: F401 (a fixture: a real push process)
from tests.helpers import PASSWORD, make_agent, make_thread_with_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(db):
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim Lee")
    thread = make_thread_with_message(
        brand, customer, "@acmecares where is my refund?", preview="where is my refund?"
    )
    return brand, thread, make_agent(brand, "alice")


def claimed_page(page, thread, agent):
    log_in(page, agent.user.username, PASSWORD)
    actions.do_claim(thread.id, agent=agent)
    page.goto(f"/t/{thread.id}/")
    page.wait_for_function("() => document.activeElement.name === 'text'")
    return page.locator("#reply-form textarea[name=text]")


def test_the_reply_box_is_ready_with_the_caret_after_the_handle(page, desk):
    brand, thread, alice = desk
    box = claimed_page(page, thread, alice)
    assert box.input_value() == "@kim "
    assert page.evaluate("document.activeElement.selectionStart") == len("@kim ")
    page.keyboard.type("it ships today")
    assert box.input_value() == "@kim it ships today"


def test_send_says_sending_and_refuses_a_second_click(page, desk):
    brand, thread, alice = desk
    box = claimed_page(page, thread, alice)
    box.fill("@kim it ships today")
    box.dispatch_event("input")
    # Hold the server's answer so the page can be seen while it sends.
    held = []
    page.route(f"**/t/{thread.id}/reply/", lambda route: held.append(route))
    send = page.get_by_role("button", name="Send", exact=True)
    send.click()
    page.get_by_role("button", name="Sending...").wait_for()
    assert page.locator("#reply-form button[data-busy]:enabled").count() == 0
    assert len(held) == 1
    held[0].continue_()
    page.get_by_text("Sent from @acmecares").wait_for()
    assert Reply.objects.count() == 1


def test_send_and_close_answers_closes_and_goes_back_to_the_queue(page, desk):
    brand, thread, alice = desk
    box = claimed_page(page, thread, alice)
    box.fill("@kim it ships today")
    box.dispatch_event("input")
    page.get_by_role("button", name="Send & close").click()
    page.get_by_text("and closed @kim's thread").wait_for()
    assert page.url.endswith("/")
    assert Thread.objects.get(id=thread.id).status == "closed"
    assert Reply.objects.get().text == "@kim it ships today"


@pytest.mark.slow
@pytest.mark.usefixtures("push_for_page")
def test_the_authors_page_is_told_live_when_x_refuses_the_reply(page, desk):
    brand, thread, alice = desk
    box = claimed_page(page, thread, alice)
    box.fill("@kim it ships today")
    box.dispatch_event("input")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Queued to post").wait_for()
    page.locator("html[data-push=live]").wait_for(state="attached")
    with transaction.atomic():  # as the outbox does when X refuses for good
        reply = Reply.objects.select_for_update().get()
        replies.mark_failed(reply, "403 Forbidden: duplicate content")
    alert = page.get_by_role("alert").filter(has_text="X refused your reply")
    alert.wait_for()
    assert "duplicate content" in alert.inner_text()
    assert "send again" in alert.inner_text()
