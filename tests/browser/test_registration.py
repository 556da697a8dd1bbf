"""In real Chromium: an employee registers (their X account proven by Sign in with X: the
sandbox's consent page, OAuth 2.0 with PKCE), an admin approves them, and they log in."""

from __future__ import annotations

import pytest

from agents.models import Agent, AgentState
from tests.agents.conftest import x, x_user  # noqa: F401  (x is a fixture)
from tests.agents.helpers import allow_callback
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
    settings,
):
    account = x_user("newbie_cares", "Nia Newbie")
    allow_callback(settings, live_server.url)

    page.goto("/login/")
    page.get_by_role("link", name="Register").click()
    page.get_by_role("button", name="Sign in with X").click()
    # X's consent page (the sandbox): who is signed in to X, then Authorize app.
    page.get_by_role("heading", name="Twelp wants to access your X account").wait_for()
    page.get_by_label("Signed in to X as").select_option(str(account.pk))
    page.get_by_role("button", name="Authorize app").click()
    page.get_by_text("X confirmed your account: @newbie_cares.").wait_for()
    page.get_by_label("Employee id").fill("E-9001")
    page.get_by_label("Full name").fill("Nia Newbie")
    page.get_by_label("Work e-mail").fill("nia@acme.example")
    page.get_by_label("Initials").fill("nn")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Waiting for approval").wait_for()
    nia = Agent.objects.get(employee_id="E-9001")
    assert (nia.state, nia.x_user_id, nia.x_handle) == (
        AgentState.PENDING,
        account.id,
        "newbie_cares",
    )
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
