"""Move to DM in real Chromium: from the personal-data warning, the text goes by DM (its
own thread) and only a short note is queued in public."""

from __future__ import annotations

import pytest

from inbox.models import Brand, Customer, Reply, Thread
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent, make_thread_with_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(db):
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim Lee")
    thread = make_thread_with_message(
        brand, customer, "@acmecares charged twice!", preview="charged twice!"
    )
    return thread, make_agent(brand, "alice")


def test_the_warning_moves_the_answer_to_dm(page, desk):
    thread, alice = desk
    log_in(page, "alice", PASSWORD)
    page.goto(f"/t/{thread.id}/")
    page.get_by_role("button", name="Claim", exact=True).click()
    box = page.get_by_label("Reply")
    box.fill("@kim call us on 212-555-0199")
    page.keyboard.press("Control+Enter")
    page.get_by_role("alert").filter(has_text="a phone number (212-555-0199)").wait_for()
    assert Reply.objects.count() == 0
    page.get_by_role("button", name="Move to DM").click()
    page.get_by_text("Sent to @kim by DM").wait_for()
    private = Thread.objects.get(channel="dm")
    assert page.url.endswith(f"/t/{private.id}/")
    assert page.get_by_text("DM", exact=True).first.is_visible()
    dm, note = Reply.objects.order_by("id")
    assert (dm.thread, dm.channel, dm.text) == (private, "dm", "call us on 212-555-0199")
    assert (note.thread_id, note.channel, note.body) == (
        thread.id,
        "tweet",
        "@kim we've sent you a DM ^AL",
    )
