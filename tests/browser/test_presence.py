"""Collision warnings in real Chromium, two employees in two browser contexts: Alice opens
a thread; Bob sees "Alice is viewing" on its queue row and on the thread page; Alice types;
Bob sees "Alice is typing…". Alice never sees herself."""

from __future__ import annotations

import pytest

from inbox.models import Brand, Customer
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent, make_thread

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def thread():
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    make_agent(brand, "alice")
    make_agent(brand, "bob")
    kim = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    return make_thread(brand, kim, conversation_id=7001, preview="my router blinks red")


def test_bob_sees_alice_viewing_then_typing(browser, page, live_server, thread, settings):
    settings.VIEWING_SECONDS = 4  # so that Alice's leaving shows soon
    settings.TYPING_SECONDS = 30  # "typing" outlasts the checks below
    log_in(page, "bob", PASSWORD)
    row = page.locator(f'tr[data-thread-id="{thread.id}"]')
    row.wait_for()
    assert row.locator("[data-viewers-for]").inner_text() == ""

    alice = browser.new_context(base_url=live_server.url).new_page()
    alice.set_default_timeout(10_000)
    log_in(alice, "alice", PASSWORD)
    alice.goto(f"/t/{thread.id}/")
    row.get_by_text("Alice is viewing").wait_for()  # the queue's live poll, no reload

    bob_thread = page.context.new_page()
    bob_thread.goto(f"/t/{thread.id}/")
    bob_thread.locator("#viewers", has_text="Alice is viewing").wait_for()

    alice.get_by_role("button", name="Claim").click()
    box = alice.get_by_label("Reply")
    box.wait_for()
    alice.locator("#viewers", has_text="Bob is viewing").wait_for()
    page.goto("/?status=claimed")  # Alice holds it now: Bob looks at the claimed threads
    row.get_by_text("Alice is viewing").wait_for()
    box.press_sequentially("Hi Kim, checking your router", delay=30)
    bob_thread.locator("#viewers", has_text="Alice is typing…").wait_for()
    row.get_by_text("Alice is typing…").wait_for()
    assert "Alice" not in alice.locator("#viewers").inner_text()

    alice.context.close()  # Alice leaves: her entry expires (VIEWING_SECONDS)
    bob_thread.locator("#viewers", has_text="Alice").wait_for(state="detached")
