"""'@kim wrote again' shown live while the agent types (issue 15), in real Chromium: the
customer replies in the X sandbox, Twelp's poller ingests it, the push process (a real
uvicorn) sends the thread's conversation, and the composer shows the hold before Send,
without a reload; "Send as it is" then posts the kept text."""

from __future__ import annotations

import copy

import pytest

from inbox import actions
from inbox.ingest import poll
from inbox.models import Message, Reply, Thread
from tests.browser.conftest import log_in
from tests.browser.test_inbox_flow import desk, tweet_as_customer  # noqa: F401 (a fixture)
from tests.helpers import PASSWORD
from tests.push import start_push, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def push_beside_the_sandbox(desk, live_server, settings, tmp_path):  # noqa: F811
    """A real push process for the page (as tests/browser/test_push.py's push_for_page),
    after `desk`: the page runs under the sandbox's policy, which allows no connect-src."""
    started = start_push(tmp_path, PUSH_ALLOWED_ORIGINS=live_server.url)
    settings.PUSH_URL = started.url.replace("127.0.0.1", "localhost") + "/push/"
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    allowed = policy["DIRECTIVES"].setdefault("connect-src", ["'self'"])
    allowed.append(settings.PUSH_URL.removesuffix("/push/"))
    settings.CONTENT_SECURITY_POLICY = policy
    yield started
    stop(started.process)


def reply_as_customer(customer_page, text: str) -> None:
    """The customer answers their own tweet at the brand on the sandbox's page."""
    customer_page.reload()
    tweet = customer_page.locator("[data-live=conversations] article.tweet").first
    tweet.locator("summary", has_text="Reply").click()
    tweet.locator("textarea[name=text]").fill(text)
    tweet.get_by_role("button", name="Reply").click()


def test_the_hold_appears_while_typing_when_the_customer_writes_again(
    browser,
    page,
    sandbox,
    desk,  # noqa: F811
    push_beside_the_sandbox,
):
    brand, source, alice, bob = desk
    handle = sandbox.customers[0].username
    customer = browser.new_context().new_page()
    tweet_as_customer(customer, sandbox, "my order #123 never arrived")
    poll.poll(source.id)  # what beat + the worker do every few seconds
    thread = Thread.objects.get(brand=brand)
    actions.do_claim(thread.id, agent=alice)

    log_in(page, "alice", PASSWORD)
    page.goto(f"/t/{thread.id}/")
    page.locator("html[data-push=live]").wait_for()
    page.evaluate("window.loadedOnce = true")  # gone if the page were loaded again
    box = page.locator("#reply-form textarea[name=text]")
    box.press_sequentially("it ships today")
    typed = box.input_value()
    assert page.locator("[data-newer-notice]").count() == 0

    reply_as_customer(customer, "actually, cancel it please")
    poll.poll(source.id)
    assert Message.objects.filter(thread=thread, text__contains="cancel it").count() == 1

    notice = page.locator("#reply-form [data-newer-notice]")
    notice.wait_for()  # pushed: nothing was sent, nothing reloaded
    assert notice.inner_text().startswith(f"@{handle} wrote again: read it before sending.")
    assert page.evaluate("window.loadedOnce") is True
    newer = page.locator("#newer-messages")
    assert newer.inner_text().count("actually, cancel it please") == 1
    assert box.input_value() == typed  # the draft is untouched
    assert Reply.objects.count() == 0
    page.get_by_role("button", name="Send as it is").click()
    page.get_by_text("Sent from @").wait_for()  # confirmed: no second hold from the server
    assert Reply.objects.get().text == typed
