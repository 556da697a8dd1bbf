"""'@kim wrote again' in real Chromium (issue 15): the customer writes while the agent
types; Send is held, the new message shown with the text kept, and "Send as it is"
posts it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inbox.models import Message, Reply
from tests.browser.test_thread_ui import claimed_page, desk  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_send_is_held_until_the_agent_has_seen_the_new_message(page, desk):  # noqa: F811
    brand, thread, alice = desk
    box = claimed_page(page, thread, alice)
    box.fill("@kim it ships today")
    box.dispatch_event("input")
    Message.objects.create(
        brand=brand,
        thread=thread,
        x_id=thread.conversation_id + 1,
        direction="in",
        author_x_id=thread.customer.x_user_id,
        text="@acmecares actually, cancel it please",
        conversation_id=thread.conversation_id,
        sent_at=timezone.now(),
    )
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("@kim wrote again: read it before sending.").wait_for()
    assert page.locator("#newer-messages").inner_text().count("actually, cancel it please") == 1
    assert page.locator("#reply-form textarea[name=text]").input_value() == "@kim it ships today"
    assert Reply.objects.count() == 0
    page.get_by_role("button", name="Send as it is").click()
    page.get_by_text("Sent from @acmecares").wait_for()
    assert Reply.objects.get().text == "@kim it ships today"
