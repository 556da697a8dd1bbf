"""An idle open tab no longer keeps a claim (issue 15): the thread page renews the lease
only when its agent typed, clicked or scrolled since the last renewal. Real Chromium."""

from __future__ import annotations

import pytest

from inbox.models import Brand, Customer, Thread
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent, make_thread

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def thread():
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    make_agent(brand, "alice")
    kim = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    return make_thread(brand, kim, conversation_id=7001, preview="my router blinks red")


def test_the_lease_is_renewed_only_while_the_agent_is_active(page, thread, settings):
    settings.CLAIM_RENEW_SECONDS = 1
    renewals: list[str] = []
    page.on("request", lambda r: renewals.append(r.url) if "/renew/" in r.url else None)
    log_in(page, "alice", PASSWORD)
    page.goto(f"/t/{thread.id}/")
    page.get_by_role("button", name="Claim").click()
    renew = page.locator("[data-renew]")
    renew.wait_for(state="attached")
    claimed = Thread.objects.get(id=thread.id).claim_expires_at
    # Three ticks with no key, click or pointer on the page: nothing is renewed.
    page.locator('[data-renew][data-ticks="3"]').wait_for(state="attached")
    assert renewals == []
    assert Thread.objects.get(id=thread.id).claim_expires_at == claimed
    # Alice types: the next tick renews the lease.
    with page.expect_request(lambda r: "/renew/" in r.url and r.method == "POST") as request:
        page.get_by_label("Reply").press_sequentially("Hi Kim", delay=20)
    assert request.value.response().status == 204
    assert Thread.objects.get(id=thread.id).claim_expires_at > claimed
