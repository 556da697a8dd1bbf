"""Real Chromium with the pages' polls cut off (the live refresh, the viewers polls): a
new thread still appears on the queue, and another employee's claim, note and viewing
reach the thread page and the queue, pushed by a real push process (uvicorn)."""

from __future__ import annotations

import copy
import re
import time

import pytest

from inbox import actions
from inbox.live import version
from inbox.models import Brand, Customer
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent, make_thread
from tests.push import start_push, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def push_for_page(live_server, settings, tmp_path):
    # The page is served by live_server (http://localhost:<port>); the push process at
    # another port of the same host gets its session cookie (cookies ignore ports).
    started = start_push(tmp_path, PUSH_ALLOWED_ORIGINS=live_server.url)
    settings.PUSH_URL = started.url.replace("127.0.0.1", "localhost") + "/push/"
    # What twelp.settings derives from an absolute PUSH_URL at start: the page may connect.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"].append(settings.PUSH_URL.removesuffix("/push/"))
    settings.CONTENT_SECURITY_POLICY = policy
    yield started
    stop(started.process)


def test_a_new_thread_reaches_a_queue_that_cannot_poll(page, push_for_page):
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    make_agent(brand, "alice")
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    polls: list[str] = []

    def cut(route) -> None:
        polls.append(route.request.url)
        route.abort()

    page.route(lambda url: "v=" in url and "/push/" not in url, cut)  # the 2 s refresh
    log_in(page, "alice", PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    page.locator("html[data-push=live]").wait_for()

    thread = make_thread(brand, customer, 777, preview="pushed, not polled")
    version.bump(brand.id, [thread.id])  # what the poller does after its commit

    page.locator("tr[data-thread-id]", has_text="pushed, not polled").wait_for(timeout=5_000)
    assert not any("v=" in url for url in polls)  # polling paused while the stream is open


def test_the_thread_page_and_the_queue_live_on_their_streams_alone(
    browser, page, live_server, push_for_page
):
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    make_agent(brand, "alice")
    bob = make_agent(brand, "bob")
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    thread = make_thread(brand, customer, 777, preview="my router blinks red")
    polls: list[str] = []

    def cut(route) -> None:
        polls.append(route.request.url)
        route.abort()

    def polling(url: str) -> bool:  # the live refresh and both viewers polls
        return "/push/" not in url and ("v=" in url or "/viewers/" in url)

    log_in(page, "bob", PASSWORD)
    page.route(polling, cut)
    page.goto("/")
    page.locator("html[data-push=live]").wait_for()

    alice = browser.new_context(base_url=live_server.url).new_page()
    alice.set_default_timeout(10_000)
    log_in(alice, "alice", PASSWORD)
    alice.route(polling, cut)
    alice.goto(f"/t/{thread.id}/")
    alice.locator("html[data-push=live]").wait_for()
    row = page.locator(f'tr[data-thread-id="{thread.id}"]')
    row.get_by_text("Alice is viewing").wait_for(timeout=5_000)  # her stream, not a poll

    actions.do_claim(thread.id, agent=bob)
    alice.locator("#thread-status", has_text="Claimed by Bob").wait_for(timeout=5_000)
    assert alice.get_by_role("button", name="Claim", exact=True).count() == 0
    assert not alice.get_by_role("button", name="Release").is_visible()  # Bob's, not hers
    assert not alice.get_by_role("button", name="Close").is_visible()
    actions.do_add_note(thread.id, agent=bob, text="Router model is X200")
    alice.locator("#conversation", has_text="Router model is X200").wait_for(timeout=5_000)
    assert "Alice" not in alice.locator("#viewers").inner_text()  # never herself


def test_a_change_patches_the_rows_in_place(page, push_for_page):
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    make_agent(brand, "alice")
    bob = make_agent(brand, "bob")
    # One customer each: a row says "+N more from @x", which a customer's other thread moves.
    kept, taken = (
        make_thread(brand, Customer.objects.create(brand=brand, x_user_id=n, handle=f"c{n}"), n)
        for n in (701, 702)
    )
    patches: list[str] = []
    page.route(lambda url: "v=" in url and "/push/" not in url, lambda route: route.abort())
    page.on("request", lambda r: patches.append(r.url) if "patch=1" in r.url else None)
    # The stream's first message (the current state) replaces the part whole: probe after it.
    page.add_init_script(
        "window.twelpLives = 0; document.addEventListener('twelp:live', () => window.twelpLives++)"
    )
    log_in(page, "alice", PASSWORD)
    page.locator("html[data-push=live]").wait_for()
    # Not every stream opens with one (none when the page already shows the newest change).
    # Polled from here: wait_for_function's predicate is an eval, which the app's CSP
    # refuses once the first check is false (it failed CI when the message came late).
    waited = time.monotonic() + 3
    while not page.evaluate("window.twelpLives") and time.monotonic() < waited:
        page.wait_for_timeout(100)
    row = page.locator(f'tr[data-thread-id="{kept.id}"]')
    row.evaluate("row => { row.dataset.probe = 'the same element' }")

    actions.do_claim(taken.id, agent=bob)  # it leaves the open queue
    page.locator(f'tr[data-thread-id="{taken.id}"]').wait_for(state="detached", timeout=5_000)
    someone = Customer.objects.create(brand=brand, x_user_id=799, handle="kim", name="Kim")
    new = make_thread(brand, someone, 799, preview="arrived by patch")
    version.bump(brand.id, [new.id])
    page.locator("tr[data-thread-id]", has_text="arrived by patch").wait_for(timeout=5_000)

    assert patches  # the page asked for patches
    assert row.get_attribute("data-probe") == "the same element"  # moved, never re-rendered
    shown = page.locator("#rows tr[data-thread-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.threadId)"
    )
    fresh = page.request.get("/", headers={"HX-Request": "true"}).text()
    assert shown == re.findall(r'data-thread-id="(\d+)"', fresh)  # what a fresh load shows
