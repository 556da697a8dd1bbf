"""The supervisors' dashboard in real Chromium: a mention arrives through the X sandbox and
the poller, then an agent answers it through tweepy; the open dashboard follows both
without a reload (htmx refresh, answered 204 from Redis while nothing changes)."""

from __future__ import annotations

import pytest

from inbox import actions
from inbox.ingest import poll
from inbox.models import Brand, Reply, Source, Thread
from inbox.outbox import replies
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent
from tests.sandbox import BRAND_ID

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(sandbox, sandbox_settings):
    # As in test_inbox_flow: Twelp's live server keeps Twelp's own URLs and cookies.
    from django.conf import global_settings

    from tests import settings as ours

    for name in ("ROOT_URLCONF", "SESSION_ENGINE", "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME"):
        setattr(sandbox_settings, name, getattr(ours, name, None) or getattr(global_settings, name))
    sandbox_settings.DASHBOARD_REFRESH_SECONDS = 1
    brand = Brand.objects.create(name="Acme", handle=sandbox.brand.username, x_user_id=BRAND_ID)
    source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    return brand, source, make_agent(brand, "alice"), make_agent(brand, "sue", role="supervisor")


def figure(page, name: str):
    return page.locator(f'[data-figure="{name}"]')


def test_it_follows_a_mention_and_its_answer_without_a_reload(page, sandbox, desk):
    brand, source, alice, sue = desk
    log_in(page, "sue", PASSWORD)
    page.goto("/sup/")
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert figure(page, "open").inner_text() == "0"
    page.evaluate("window.notReloaded = true")

    sandbox.tweet_at_brand(sandbox.customers[0], "my blender arrived broken")
    poll.poll(source.id)  # what beat and the worker do every few seconds
    page.wait_for_function(
        "() => document.querySelector('[data-figure=open]').textContent.trim() === '1'",
        timeout=8_000,
    )
    assert page.locator("#longest", has_text="my blender arrived broken").count() == 1

    thread = Thread.objects.get(brand=brand)
    actions.do_claim(thread.id, agent=alice)
    handle = sandbox.customers[0].username
    reply = actions.do_send_reply(thread.id, agent=alice, text=f"@{handle} So sorry, DM us")
    replies.attempt(reply.id)  # the Celery worker's job: tweepy to the sandbox
    assert Reply.objects.get(id=reply.id).status == "posted"
    page.wait_for_function(
        "() => document.querySelector('[data-figure=posted-hour]').textContent.trim() === '1'",
        timeout=8_000,
    )
    assert figure(page, "open").inner_text() == "0"
    assert figure(page, "answered").inner_text() == "1"
    credits = page.locator(f'tr[data-agent-id="{alice.id}"] [data-figure=credits]')
    assert credits.inner_text() == "1"
    first_response = page.locator('tr[data-window="hour"] td').nth(2)  # n
    assert first_response.inner_text() == "1"
    assert page.evaluate("window.notReloaded") is True
