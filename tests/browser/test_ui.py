"""The design system in real Chromium: phones (390x844) get no sideways scroll, a thread
page to work on and a folded top bar; a desk (1440x900) sees about 20 queue rows;
destructive actions ask first; flash messages are toasts that can be closed."""

from __future__ import annotations

import os

import pytest

from agents.models import AgentState
from inbox.models import Customer
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import AXE, run_axe
from tests.helpers import PASSWORD, make_thread_with_message

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}
LONG = (
    "@acmecares my order #12345678 never arrived and the tracking page has said "
    "'out for delivery' for nine days now, supercalifragilisticexpialidocious_long_word"
)


@pytest.fixture
def threads(brand):
    made = []
    for n in range(30):
        customer, _ = Customer.objects.get_or_create(
            brand=brand,
            x_user_id=7_000 + n % 12,
            defaults={"handle": f"long_handle_{n % 12:02d}", "name": "Alexandra Konstantinou"},
        )
        made.append(
            make_thread_with_message(
                brand, customer, LONG, conversation_id=50_000 + n, preview=LONG
            )
        )
    return made


def open_page(browser, live_server, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def sideways(page) -> int:
    """How many pixels the page scrolls sideways (0: none)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_a_phone_gets_no_sideways_scroll_and_a_usable_thread_page(
    browser, live_server, supervisor, threads
):
    context, page = open_page(browser, live_server, PHONE)
    try:
        log_in(page, supervisor.user.username, PASSWORD)
        page.locator("#rows tr[data-thread-id]").first.wait_for()
        assert sideways(page) == 0, "the queue"
        page.get_by_role("button", name="Claim next").click()
        page.wait_for_url("**/t/*/")
        box = page.locator("#reply-form textarea[name=text]")
        assert box.bounding_box()["width"] >= 300
        assert sideways(page) == 0, "the thread"
        conversation = page.locator("#conversation").bounding_box()
        panel = page.locator("aside.customer").bounding_box()
        assert panel["y"] >= conversation["y"] + conversation["height"], "the panel is under"
        page.goto("/sup/")
        page.locator("#dash").wait_for()
        assert sideways(page) == 0, "the dashboard"
    finally:
        context.close()


def test_the_top_bar_folds_into_a_menu_on_a_phone(browser, live_server, supervisor):
    context, page = open_page(browser, live_server, PHONE)
    try:
        log_in(page, supervisor.user.username, PASSWORD)
        dashboard = page.get_by_role("link", name="Dashboard", exact=True)
        assert not dashboard.is_visible()
        menu = page.get_by_role("button", name="Menu")
        menu.click()
        dashboard.wait_for()
        assert menu.get_attribute("aria-expanded") == "true"
        dashboard.click()
        page.wait_for_url("**/sup/")
    finally:
        context.close()


def test_a_desk_sees_about_twenty_rows_each_on_one_line(browser, live_server, agent, threads):
    context, page = open_page(browser, live_server, DESK)
    try:
        log_in(page, agent.user.username, PASSWORD)
        rows = page.locator("#rows tr[data-thread-id]")
        rows.first.wait_for()
        boxes = [rows.nth(i).bounding_box() for i in range(rows.count())]
        assert max(box["height"] for box in boxes) < 44, "one line each"
        assert sum(box["y"] + box["height"] <= DESK["height"] for box in boxes) >= 18
        # A customer's other threads are counted on their first row.
        first = page.locator("#rows tr[data-thread-id]").first
        assert "more open from @long_handle_" in first.inner_text()
    finally:
        context.close()


def test_deactivating_an_employee_asks_first(browser, page, live_server, admin_agent, agent):
    log_in(page, admin_agent.user.username, PASSWORD)
    page.goto(f"/team/{agent.id}/")
    page.get_by_role("button", name="Deactivate (a leaver)").click()
    dialog = page.get_by_role("dialog")
    assert "can no longer log in" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    agent.refresh_from_db()
    assert agent.state == AgentState.ACTIVE
    page.get_by_role("button", name="Deactivate (a leaver)").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate (a leaver)").click()
    toast = page.locator(".messages li").first
    toast.wait_for()
    agent.refresh_from_db()
    assert agent.state == AgentState.DEACTIVATED
    toast.get_by_role("button", name="Dismiss").click()
    assert page.locator(".messages li").count() == 0


def test_a_page_with_a_toast_passes_axe(browser, live_server, admin_agent, agent):
    """A flash message keeps the list a list: its role is on the words, not the <li>
    (axe's listitem rule is serious; the full axe test opens no page with a message)."""
    if not AXE.exists():
        assert not os.environ.get("CI"), "npm ci (axe-core, package.json) first"
        pytest.skip("axe-core is not installed: run `npm ci` (package.json) first")
    context = browser.new_context(base_url=live_server.url, viewport=DESK, bypass_csp=True)
    context.set_default_timeout(10_000)
    context.add_init_script(script=AXE.read_text())
    page = context.new_page()
    try:
        log_in(page, admin_agent.user.username, PASSWORD)
        page.goto(f"/team/{agent.id}/")
        page.get_by_role("button", name="Deactivate (a leaver)").click()
        page.get_by_role("dialog").get_by_role("button", name="Deactivate (a leaver)").click()
        page.locator(".messages li").first.wait_for()
        assert page.get_by_role("status").count() >= 1  # still announced
        assert run_axe(page) == []
    finally:
        context.close()


def test_claim_next_on_a_clear_queue_is_a_toast_and_the_page_stays(
    browser, page, live_server, agent
):
    """No reload when nothing is waiting (or the race is lost): the toast says so, the page
    (and its stream) stay; a second click replaces the toast instead of stacking it."""
    log_in(page, agent.user.username, PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    page.evaluate("window.keptPage = 1")
    page.get_by_role("button", name="Claim next").click()
    toast = page.locator(".messages li", has_text="The queue is clear: nothing is waiting for you.")
    toast.wait_for()
    assert toast.get_by_role("status").count() == 1
    # In line now: the header's Available form says so, swapped in place (out of band).
    page.get_by_role("button", name="Leave the line").wait_for()
    assert page.locator('[data-available="line"]').count() == 1
    page.get_by_role("button", name="Claim next").click()
    page.wait_for_timeout(500)  # the second answer's toast replaced the first
    assert toast.count() == 1
    assert page.evaluate("window.keptPage") == 1  # the same page: not reloaded
    toast.get_by_role("button", name="Dismiss").click()
    assert toast.count() == 0
