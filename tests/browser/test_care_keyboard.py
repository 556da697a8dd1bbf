"""Care tools in real Chromium: the claim → canned answer → send → close loop by keyboard
alone, the `?` overlay, and the personal-data warning while typing."""

from __future__ import annotations

import pytest

from inbox.models import Brand, CannedAnswer, Customer, Reply, Thread
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent, make_thread_with_message

pytestmark = pytest.mark.django_db(transaction=True)


def keys_ready(page) -> None:
    """After a page load: twelp.js's shortcuts listen (it says so on <html>). A key pressed
    before then, while the page still parses on a busy machine, would be lost."""
    page.locator("html[data-keys=on]").wait_for(state="attached")


@pytest.fixture
def desk(db):
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim Lee")
    thread = make_thread_with_message(
        brand, customer, "@acmecares where is my refund?", preview="where is my refund?"
    )
    CannedAnswer.objects.create(
        brand=brand, title="Refund on its way", text="Hi {customer}, {agent} here: it's on its way."
    )
    CannedAnswer.objects.create(brand=brand, title="Store hours", text="We open at 9.")
    return brand, thread, make_agent(brand, "alice")


def test_it_runs_the_loop_by_keyboard_alone(page, desk):
    brand, thread, alice = desk
    log_in(page, "alice", PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    keys_ready(page)

    page.keyboard.press("n")  # claim next
    page.wait_for_url(f"**/t/{thread.id}/")
    box = page.get_by_label("Reply")
    box.wait_for()
    keys_ready(page)

    # Just claimed: the reply box has the focus, the caret after the customer's @handle.
    page.wait_for_function("() => document.activeElement.name === 'text'")
    assert page.evaluate("document.activeElement.selectionStart") == len(box.input_value())
    page.keyboard.press("Escape")  # leave the box; "r" comes back to it, caret at the end
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "text"
    page.keyboard.press("Control+/")  # the picker, from inside the reply box
    search = page.get_by_label("Search canned answers")
    search.wait_for()
    page.locator(".canned-pick", has_text="Store hours").wait_for()  # all, before a search
    page.keyboard.type("refund")
    page.keyboard.press("Enter")  # inserts the first match, once the search has answered
    page.wait_for_function("() => document.activeElement.name === 'text'")  # no eval: CSP
    assert box.input_value() == "@kim Hi Kim, Alice here: it's on its way."
    assert page.evaluate("document.activeElement.name") == "text"

    page.keyboard.press("Control+Enter")  # send
    page.get_by_text("Sent from @acmecares").wait_for()
    keys_ready(page)
    reply = Reply.objects.get()
    assert reply.text == "@kim Hi Kim, Alice here: it's on its way."

    page.keyboard.press("e")  # close
    page.get_by_text("Closed.").wait_for()
    keys_ready(page)
    thread.refresh_from_db()
    assert thread.status == "closed"

    page.keyboard.press("?")
    overlay = page.get_by_role("dialog", name="Keyboard shortcuts")
    overlay.wait_for()
    assert "Claim the next thread" in overlay.inner_text()
    page.keyboard.press("Escape")
    overlay.wait_for(state="hidden")


def test_it_opens_the_picker_with_slash_releases_with_x_and_escapes(page, desk):
    brand, thread, alice = desk
    log_in(page, "alice", PASSWORD)
    page.goto(f"/t/{thread.id}/")
    keys_ready(page)
    page.keyboard.press("c")  # claim
    page.get_by_label("Reply").wait_for()
    keys_ready(page)
    page.wait_for_function("() => document.activeElement.name === 'text'")
    page.keyboard.press("Escape")  # the reply box has the focus: leave it for the keys
    page.keyboard.press("/")
    page.get_by_label("Search canned answers").wait_for()
    page.locator(".canned-pick").nth(1).wait_for()  # both, before any search
    page.keyboard.press("Escape")  # closes the picker, stays on the thread
    page.get_by_label("Search canned answers").wait_for(state="hidden")
    assert page.url.endswith(f"/t/{thread.id}/")

    page.wait_for_load_state("networkidle")  # the picker's last search has answered
    page.keyboard.press("x")  # release
    page.get_by_text("Released back to the queue.").wait_for()
    assert Thread.objects.get(id=thread.id).status == "open"
    page.goto(f"/t/{thread.id}/")
    keys_ready(page)
    page.keyboard.press("Escape")  # back to the queue
    page.get_by_role("heading", name="Queue").wait_for()


def test_it_warns_about_personal_data_while_typing_and_asks_to_confirm(page, desk):
    brand, thread, alice = desk
    log_in(page, "alice", PASSWORD)
    page.goto(f"/t/{thread.id}/")
    keys_ready(page)
    page.get_by_role("button", name="Claim", exact=True).click()
    box = page.get_by_label("Reply")
    box.fill("@kim call us on 212-555-0199")
    box.dispatch_event("input")
    page.get_by_text("Looks like personal data in a public reply").wait_for()
    page.keyboard.press("Control+Enter")
    page.get_by_role("alert").filter(has_text="a phone number (212-555-0199)").wait_for()
    assert Reply.objects.count() == 0
    assert box.input_value() == "@kim call us on 212-555-0199"  # the text is kept
    page.get_by_label("Send anyway").check()
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Sent from @acmecares").wait_for()
    assert Reply.objects.get().text == "@kim call us on 212-555-0199"
