"""Logging in and out in real Chromium."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_logs_an_agent_in_to_the_queue_and_out_again(page, agent):
    log_in(page, agent.user.username, PASSWORD)
    page.get_by_role("heading", name="Queue").wait_for()
    assert page.url.endswith("/")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in to Twelp").wait_for()


def test_it_says_why_a_login_failed(page, agent):
    log_in(page, agent.user.username, "wrong password")
    alert = page.get_by_role("alert")
    assert "correct username and password" in alert.inner_text()
