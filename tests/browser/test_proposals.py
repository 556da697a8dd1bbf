"""Proposed brand tweets in real Chromium: the counter counts X's way with the credit, and
a supervisor's Approve swaps the row in place (htmx) without a page load."""

from __future__ import annotations

import pytest

from agents.models import Role
from inbox.models import Brand, BrandTweet, Proposal
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(db):
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    return make_agent(brand, "alice"), make_agent(brand, "sue", role=Role.SUPERVISOR)


def test_an_employee_proposes_and_a_supervisor_approves_in_place(page, team, browser, live_server):
    alice, sue = team
    log_in(page, "alice", PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    page.goto("/proposals/")
    box = page.get_by_label("Your tweet")
    box.fill("🔧" * 139)  # emoji weigh 2: 278 + " ^AL" = 282
    counter = page.locator("output[data-counter-for]")
    assert counter.text_content() == "-2 left"
    assert page.get_by_role("button", name="Propose").is_disabled()
    box.fill("Tip: hold the power button for 10 seconds to reset the router.")
    page.get_by_role("button", name="Propose").click()
    page.get_by_text("Waiting for a supervisor").wait_for()
    proposal = Proposal.objects.get()

    context = browser.new_context(base_url=live_server.url)
    supervisor = context.new_page()
    log_in(supervisor, "sue", PASSWORD)
    supervisor.get_by_role("heading", name="Queue").wait_for()
    supervisor.goto("/sup/proposals/")
    loads = []
    supervisor.on("load", lambda _: loads.append(1))
    row = supervisor.locator(f"#proposal-{proposal.id}")
    row.get_by_role("button", name="Approve and post").click()
    row.get_by_text("Approved").wait_for()
    assert "by Sue" in row.text_content()
    assert loads == []  # swapped by htmx, no navigation
    assert BrandTweet.objects.get().proposal_id == proposal.id
    context.close()
