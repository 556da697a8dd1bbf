"""axe-core (npm, node_modules/axe-core: `npm ci`) on every page of the access matrix, in
real Chromium at 1440x900 and 390x844: no critical and no serious violation, and no page
scrolls sideways.

Each page of tests/test_access_matrix.py that some persona may GET with 200 and that is a
whole page (not an htmx fragment, a CSV or an event stream) is opened as the first
persona of agent, supervisor, admin, anonymous allowed to see it; also the pages of
"no": the 404, the 403 and the waiting-for-approval page. The Django admin is not ours.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from inbox import actions
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD
from tests.test_access_matrix import PERSONAS, all_routes
from tests.test_access_matrix import objects as matrix_objects  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desk": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
ORDER = ("agent", "supervisor", "admin_agent", "anonymous")
NOT_PAGES = ("push_events", "csp_report", "healthz", "push_healthz", "metrics", "inbox:audit_csv")
NOT_PAGES += ("inbox:notifications_badge",)  # issue 21: the badge's JSON, for the page's poll
EXTRA = (("/t/999999/", "agent"), ("/team/", "agent"), ("/", "pending"))


def pages(objects) -> list[tuple[str, str]]:
    found = []
    for route in all_routes():
        statuses = route.expected().get("GET")
        if not statuses or route.key in NOT_PAGES or route.key.startswith("admin:"):
            continue
        if route.route.startswith("django-admin/"):
            continue
        allowed = dict(zip(PERSONAS, statuses, strict=True))
        persona = next((p for p in ORDER if allowed[p] == 200), None)
        if persona is not None:
            found.append((route.path(objects), persona))
    return [*found, *EXTRA]


def run_axe(page) -> list[dict]:
    """Serious and critical violations of the page as it is now."""
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return result


@pytest.mark.parametrize("size", list(SIZES))
def test_no_serious_or_critical_violation_on_any_page(browser, live_server, matrix_objects, size):  # noqa: F811, E501
    if not AXE.exists():
        # CI always has it (.ci/run: npm ci); a laptop that skipped `npm ci` is told so.
        assert not os.environ.get("CI"), "npm ci (axe-core, package.json) first"
        pytest.skip("axe-core is not installed: run `npm ci` (package.json) first")
    objects = matrix_objects
    actions.do_claim(objects["thread"].id, agent=objects["agent"])  # the reply box shows
    contexts = {}
    found = {}
    checked = []
    try:
        for path, persona in pages(objects):
            if persona not in contexts:
                context = browser.new_context(
                    base_url=live_server.url, viewport=SIZES[size], bypass_csp=True
                )
                context.set_default_timeout(10_000)
                context.add_init_script(script=AXE.read_text())  # before the page's own
                if persona != "anonymous":
                    login_page = context.new_page()
                    log_in(login_page, objects[persona].user.username, PASSWORD)
                    login_page.wait_for_load_state()
                    login_page.close()
                contexts[persona] = context
            page = contexts[persona].new_page()
            response = page.goto(path)
            body = response.text() if response else ""
            if "text/html" not in (response.headers.get("content-type", "") if response else ""):
                page.close()
                continue
            if not body.lstrip().lower().startswith("<!doctype html"):
                page.close()  # an htmx fragment, not a page
                continue
            page.wait_for_load_state("load")
            checked.append(path)
            violations = run_axe(page)
            # Nor does any page scroll sideways (wide tables scroll in their own box).
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                wide = page.evaluate(
                    "[...document.querySelectorAll('main *')]"
                    ".filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
                    ".slice(0, 4).map(e => e.tagName + '.' + e.className + '#' + e.id)"
                )
                violations.append({"id": "sideways-scroll", "pixels": overflow, "wide": wide})
            if violations:
                found[f"{path} as {persona}"] = violations
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    assert len(checked) >= 20, checked
    assert found == {}, json.dumps(found, indent=1)


def test_spanish_pages_on_a_phone(browser, live_server, matrix_objects):  # noqa: F811
    """Issue 21: the queue, a thread, the dashboard and the profile in Spanish (a longer
    language) at 390x844 in a browser asking for es-ES: axe finds no serious or critical
    violation and no page scrolls sideways."""
    if not AXE.exists():
        assert not os.environ.get("CI"), "npm ci (axe-core, package.json) first"
        pytest.skip("axe-core is not installed: run `npm ci` (package.json) first")
    objects = matrix_objects
    actions.do_claim(objects["thread"].id, agent=objects["supervisor"])  # the reply box shows
    supervisor = objects["supervisor"]
    english = browser.new_context(base_url=live_server.url)  # log_in reads English labels
    login_page = english.new_page()
    log_in(login_page, supervisor.user.username, PASSWORD)
    login_page.wait_for_load_state()
    session = english.storage_state()
    english.close()
    supervisor.language = "es"  # their pick, and their browser's (locale) too
    supervisor.save(update_fields=["language"])
    context = browser.new_context(
        base_url=live_server.url,
        viewport=SIZES["phone"],
        locale="es-ES",
        bypass_csp=True,
        storage_state=session,
    )
    context.set_default_timeout(10_000)
    context.add_init_script(script=AXE.read_text())
    found = {}
    try:
        for path in ("/", f"/t/{objects['thread'].id}/", "/sup/", "/team/me/"):
            page = context.new_page()
            page.goto(path)
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.lang") == "es", path
            violations = run_axe(page)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                violations.append({"id": "sideways-scroll", "pixels": overflow})
            if violations:
                found[path] = violations
            page.close()
    finally:
        context.close()
    assert found == {}, json.dumps(found, indent=1)
