"""Issue 21 in real Chromium with a real push process: a note pushed to an open thread
page (rendered once for the whole brand, in the brand's zone) shows its time in the
employee's own zone, and the note's @mention reaches the top bar over the same stream."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from inbox import actions
from inbox.models import Note
from tests.browser.conftest import log_in
from tests.browser.test_push import push_for_page  # noqa: F401 (a fixture)
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_pushed_note_shows_in_the_employees_zone_and_notifies_them(
    page,
    push_for_page,  # noqa: F811
    agent,
    second_agent,
    thread,
):
    agent.time_zone = "Asia/Tokyo"  # the brand's is UTC
    agent.save(update_fields=["time_zone"])
    actions.do_claim(thread.id, agent=agent)
    log_in(page, agent.user.username, PASSWORD)
    page.goto(f"/t/{thread.id}/")
    page.locator("html[data-push=live]").wait_for()

    actions.do_add_note(thread.id, agent=second_agent, text=f"@{agent.credit_code} tokyo check")

    note = Note.objects.get()
    tokyo = note.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    expected = f"{tokyo:%b} {tokyo.day}, {tokyo:%H:%M}"
    shown = page.locator("li.note", has_text="tokyo check").locator("time")
    shown.wait_for()
    page.wait_for_function(
        "want => document.querySelector('li.note time').textContent.trim() === want",
        arg=expected,
    )
    assert shown.inner_text() == expected

    page.locator("#notices-count").wait_for(state="visible")
    assert page.locator("#notices-count [data-count]").inner_text() == "1"
    assert "mentioned you" in page.locator(".notice-toast").inner_text()
