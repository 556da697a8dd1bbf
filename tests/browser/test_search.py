"""Search in real Chromium: "/" focuses the top bar's box from the queue (on a thread page
it keeps opening the canned answers: test_care_keyboard.py), and Enter searches."""

from __future__ import annotations

import pytest

from inbox.models import Brand, Customer
from tests.browser.conftest import log_in
from tests.browser.test_care_keyboard import keys_ready
from tests.helpers import PASSWORD, make_agent, make_thread_with_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(db):
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim Lee")
    thread = make_thread_with_message(
        brand,
        customer,
        "My order #4411 never arrived and the tracking link says 'label created'",
        preview="My order #4411 never arrived",
    )
    return brand, thread, make_agent(brand, "alice")


def test_slash_focuses_the_search_box_and_enter_finds_the_thread(page, desk):
    brand, thread, alice = desk
    log_in(page, "alice", PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    keys_ready(page)
    page.keyboard.press("/")
    box = page.locator("#topbar-search")
    assert box.evaluate("el => el === document.activeElement")
    page.keyboard.type('"label created"')
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Messages, replies and notes").wait_for()
    hit = page.locator(f'.hit[data-thread-id="{thread.id}"]')
    hit.wait_for()
    assert "never arrived" in hit.inner_text()
