"""In real Chromium: an employee registers (their X handle checked with the sandbox over
HTTP), an admin approves them, and they log in to the queue."""

from __future__ import annotations

import pytest

from agents.models import Agent, AgentState
from tests.agents.conftest import x, x_user  # noqa: F401  (x is a fixture)
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD
from tests.xsandbox.conftest import sandbox, sandbox_settings, sandbox_url, world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "my own long secret 2024"


# `page` comes first: the live server starts before the sandbox fixtures change settings.
def test_it_registers_then_an_admin_approves_then_the_agent_works_the_queue(
    page,
    browser,
    live_server,
    x,  # noqa: F811
    admin_agent,
):
    x_user("newbie_cares", "Nia Newbie")

    page.goto("/login/")
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Employee id").fill("E-9001")
    page.get_by_label("Full name").fill("Nia Newbie")
    page.get_by_label("Work e-mail").fill("nia@acme.example")
    page.get_by_label("Your own X handle").fill("@newbie_cares")
    page.get_by_label("Initials").fill("nn")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Waiting for approval").wait_for()
    assert Agent.objects.get(employee_id="E-9001").state == AgentState.PENDING
    page.get_by_role("button", name="Log out").click()

    admin = browser.new_context(base_url=live_server.url).new_page()
    admin.set_default_timeout(10_000)
    log_in(admin, admin_agent.user.username, PASSWORD)
    admin.get_by_role("link", name="Team").click()
    admin.get_by_role("button", name="Approve Nia Newbie").click()
    admin.get_by_text("Approved: Nia Newbie (^NN).").wait_for()
    assert "No one is waiting" in admin.content()
    admin.context.close()

    log_in(page, "E-9001", NEW_PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    page.get_by_role("link", name="My profile").click()
    page.get_by_role("heading", name="Nia Newbie ^NN").wait_for()
