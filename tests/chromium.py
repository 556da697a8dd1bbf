"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright, against live_server:
the `browser` and `page` fixtures, a plugin for the whole suite (tests/conftest.py), so
browser tests outside tests/browser/ share the one session-wide Playwright.

Playwright's sync API runs an event loop in the test thread; Django would then refuse
ORM calls from that thread, so tests here allow them (the loop never runs our ORM code).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """The one Chromium of the session (tests take `browser`, which closes their pages)."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium) -> Iterator[object]:
    """The session's Chromium for one test: every context the test opened is closed when
    it ends. A page left open keeps running: the sandbox's page refreshes itself every
    3 s, and its requests then reached the sandbox server thread during later tests, whose
    failures (no database for them) Django's test client, listening to every thread's
    got_request_exception, raised in whatever request that later test was making."""
    yield chromium
    for context in list(chromium.contexts):
        context.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (its own cookies) per test; `page.base` is the server."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str, password: str) -> None:
    """The login page, then (supervisors and admins) the two-factor page, with a fresh
    recovery code of theirs (tests.helpers.second_factor_code)."""
    from django.contrib.auth.models import User

    from tests.helpers import second_factor_code

    user = User.objects.filter(username=username).first()
    code = second_factor_code(user) if user is not None else None  # enrolled if need be
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if code is not None and "/2fa/" in page.url:
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Verify").click()
