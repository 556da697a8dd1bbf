"""Real Chromium on the queue with its 2 s polling cut off: a new thread still appears,
pushed by a real push process (uvicorn) over server-sent events."""

from __future__ import annotations

import copy

import pytest

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
