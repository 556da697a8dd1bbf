"""Bulk dismiss in real Chromium: ticks survive the queue's live refresh (hx-preserve),
and "Dismiss selected" closes exactly the ticked threads."""

from __future__ import annotations

import pytest

from inbox.live import version
from inbox.models import Customer, Event, Thread
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent, make_thread

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_keeps_the_ticks_across_a_live_refresh_and_dismisses_them(page, brand):
    make_agent(brand, "sue", role="supervisor")
    threads = [
        make_thread(
            brand,
            Customer.objects.create(brand=brand, x_user_id=i, handle=f"spammer{i}"),
            i,
            preview=f"buy followers {i}",
        )
        for i in range(1, 4)
    ]
    log_in(page, "sue", PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    page.get_by_label("Select @spammer1").check()
    page.get_by_label("Select @spammer2").check()

    # Something changes: the live region is swapped in place with the new row.
    late = Customer.objects.create(brand=brand, x_user_id=99, handle="realcustomer")
    make_thread(brand, late, 99, preview="where is my order")
    version.bump(brand.id)
    page.locator("tr[data-thread-id]", has_text="where is my order").wait_for(timeout=8_000)
    assert page.get_by_label("Select @spammer1").is_checked()
    assert page.get_by_label("Select @spammer2").is_checked()
    assert not page.get_by_label("Select @spammer3").is_checked()

    page.get_by_role("button", name="Dismiss selected").click()
    page.get_by_text("Dismissed 2 threads.").wait_for()
    statuses = dict(Thread.objects.values_list("id", "status"))
    assert [statuses[t.id] for t in threads] == ["closed", "closed", "open"]
    assert Event.objects.filter(verb="dismissed").count() == 2
