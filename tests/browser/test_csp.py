"""The Content-Security-Policy in real Chromium: Twelp's pages work under it and break
none of its rules (no eval for htmx, no inline style, the push stream allowed), and an
injected inline script is blocked and reported to /csp-report/. The XSS corpus under the
policy: tests/faults/test_xss.py."""

from __future__ import annotations

import time

import pytest

from inbox.models import Thread
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_thread_with_message
from twelp import security

pytestmark = pytest.mark.django_db(transaction=True)

# Every violation the page sees, as the browser reports it to the page itself.
WATCH = """window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.effectiveDirective + " " + e.blockedURI);
});"""


def violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def wait_for_count(directive: str, at_least: int, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while (count := security.violation_counts()[directive]) < at_least:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return count


def test_an_injected_inline_script_is_blocked_and_reported(page, settings):
    settings.ROOT_URLCONF = "tests.csp_urls"
    page.add_init_script(WATCH)
    before = security.violation_counts()
    page.goto("/_test/injected/")
    page.wait_for_load_state("load")
    assert page.title() == "untouched"
    assert sorted(violations(page)) == ["script-src-attr inline", "script-src-elem inline"]
    assert wait_for_count("script-src-elem", before["script-src-elem"] + 1) == (
        before["script-src-elem"] + 1
    )
    assert wait_for_count("script-src-attr", before["script-src-attr"] + 1) == (
        before["script-src-attr"] + 1
    )


def test_the_pages_work_under_the_policy_and_break_none_of_its_rules(
    page, agent, supervisor, customer
):
    thread = make_thread_with_message(agent.brand, customer, "where is my order?")
    Thread.objects.filter(id=thread.id).update(status="claimed", claimed_by=agent)
    page.add_init_script(WATCH)
    before = security.violation_counts()
    log_in(page, agent.user.username, PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    # twelp.js marks the agent's own rows (no per-request inline <style> any more).
    page.goto("/?status=claimed")
    page.locator(f'tr.mine[data-thread-id="{thread.id}"]').wait_for()
    # The viewers poll sends the rows on screen without htmx's eval (hx-vals="js:").
    with page.expect_request(lambda r: "/viewers/?" in r.url and f"t={thread.id}" in r.url):
        pass
    assert violations(page) == []
    page.goto(f"/t/{thread.id}/")
    page.get_by_text("where is my order?").wait_for()
    page.locator("#reply-form textarea[name=text]").fill("On its way")
    page.get_by_text("left").first.wait_for()  # the counter's script ran
    page.keyboard.press("Escape")
    page.keyboard.press("?")  # the shortcuts dialog, built by twelp.js
    page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
    assert violations(page) == []
    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    log_in(page, supervisor.user.username, PASSWORD)
    for url in ("/sup/", "/sup/audit/", "/noise/", "/proposals/", "/team/", "/stream/"):
        page.goto(url)
        page.wait_for_load_state("load")
        assert violations(page) == [], url
    assert security.violation_counts() == before
