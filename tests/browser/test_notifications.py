"""Notifications in real Chromium (issue 21): a colleague's @mention reaches the
employee's open page without a reload (the tests' live server is WSGI, so the page takes
its fallback, the badge poll), as a count and a toast; the list opens the thread and
marks it read. At 390x844 the bell stays in the top bar, outside the folded menu."""

from __future__ import annotations

import pytest

from inbox import actions
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "viewport", [{"width": 1440, "height": 900}, {"width": 390, "height": 844}]
)
def test_a_mention_shows_up_live_and_the_list_marks_it_read(
    browser, live_server, agent, second_agent, thread, viewport
):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, second_agent.user.username, PASSWORD)
        page.goto("/proposals/")  # a page without a live part of its own
        bell = page.locator("#notices-link")
        assert bell.is_visible()
        assert page.locator("#notices-count").is_hidden()

        actions.do_add_note(thread.id, agent=agent, text=f"@{second_agent.credit_code} help?")

        count = page.locator("#notices-count")
        count.wait_for(state="visible")
        assert count.inner_text().startswith("1")
        toast = page.locator(".messages li.notice-toast")
        toast.wait_for()
        assert "mentioned you" in toast.inner_text()

        bell.click()
        page.wait_for_url("**/notifications/")
        row = page.locator("li.notice.unread")
        assert row.count() == 1 and "Alice" in row.inner_text()
        row.get_by_role("button", name="Open and mark read").click()
        page.wait_for_url(f"**/t/{thread.id}/")
        page.locator("#notices-count").wait_for(state="hidden")
        page.goto("/notifications/")
        assert page.locator("li.notice.unread").count() == 0
    finally:
        context.close()
