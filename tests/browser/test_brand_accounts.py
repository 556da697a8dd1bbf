"""Several brand accounts in real Chromium (issue 16): the top bar's brand switcher at a
desk (1440x900) and on a phone (390x844, folded under Menu, no sideways scroll), and an
admin connecting the brand's X account through X's OAuth 2.0 consent page (PKCE): the
wrong X account is refused plainly, the right one connects (tokens sealed at rest)."""

from __future__ import annotations

import json

import pytest

from agents.models import Membership, Role
from inbox.models import Brand, BrandCredentials, Event
from tests.agents.conftest import x  # noqa: F401  (a fixture)
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import AXE, run_axe
from tests.helpers import PASSWORD, make_agent
from tests.xsandbox.conftest import sandbox, sandbox_settings, sandbox_url, world  # noqa: F401
from twelp import sealing
from twelp.xsandbox.models import Account

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}
B_ID = 1500000000000000099


def open_page(browser, live_server, viewport, *, axe: bool = False):
    context = browser.new_context(base_url=live_server.url, viewport=viewport, bypass_csp=axe)
    context.set_default_timeout(10_000)
    if axe:  # axe-core (npm ci), as tests/browser/test_accessibility.py runs it
        context.add_init_script(script=AXE.read_text())
    return context, context.new_page()


def sideways(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.fixture
def eu(brand) -> Brand:
    return Brand.objects.create(name="Acme EU", handle="acme_eu", x_user_id=B_ID)


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desk", "phone"])
def test_an_employee_of_two_brands_switches_in_the_top_bar(
    browser, live_server, admin_agent, eu, viewport
):
    # An admin: the fullest top bar there is.
    Membership.objects.create(agent=admin_agent, brand=eu)
    context, page = open_page(browser, live_server, viewport, axe=AXE.exists())
    try:
        log_in(page, admin_agent.user.username, PASSWORD)
        page.locator("#rows").wait_for(state="attached")
        switcher = page.get_by_label("Brand", exact=True)
        if viewport is PHONE:
            assert not switcher.is_visible()  # folded with the links
            page.get_by_role("button", name="Menu").click()
        switcher.wait_for()
        assert sideways(page) == 0
        form = page.locator("#brand-switch-form").bounding_box()
        assert form["x"] >= 0 and form["x"] + form["width"] <= viewport["width"]
        button = page.locator("#brand-switch-form button").bounding_box()
        assert button["x"] + button["width"] <= viewport["width"]
        if viewport is DESK:  # an admin's bar keeps its two rows (73 px without a switcher)
            assert page.locator("#topbar").bounding_box()["height"] <= 80
            assert page.get_by_role("link", name="My profile").is_visible()
            assert switcher.bounding_box()["width"] >= 90  # "@acmecares" readable, not squeezed
        assert switcher.input_value() == str(admin_agent.brand_id)
        if AXE.exists():  # no serious or critical accessibility violation with it
            assert run_axe(page) == []

        switcher.select_option(label="@acme_eu")
        page.get_by_role("button", name="Switch", exact=True).click()
        page.get_by_text("You now work in @acme_eu.").wait_for()
        admin_agent.refresh_from_db()
        assert admin_agent.brand_id == eu.id
        assert Event.objects.filter(brand=eu, verb="agent_switched_brand").count() == 1
        if viewport is PHONE:
            page.get_by_role("button", name="Menu").click()
        assert page.get_by_label("Brand", exact=True).input_value() == str(eu.id)
        assert sideways(page) == 0
        # The brands page of a colleague: give and take, usable at this size too.
        colleague = make_agent(eu, "carl")
        page.goto(f"/team/{colleague.id}/brands/")
        page.get_by_role("button", name="Give @acmecares").click()
        page.get_by_text("Carl now works for @acmecares too.").wait_for()
        assert sideways(page) == 0
        # axe once the toast is read (a flash toast's <li role="status"> in its <ul> is
        # axe's "list" finding on every page that shows one: not this page's; in the notes).
        page.reload()
        page.get_by_role("button", name="Take @acmecares").wait_for()
        if AXE.exists():
            assert run_axe(page) == []
        assert Event.objects.filter(verb="agent_brand_given", brand__handle="acmecares").exists()
    finally:
        context.close()


def test_an_employee_of_one_brand_has_no_switcher(browser, live_server, agent):
    context, page = open_page(browser, live_server, DESK)
    try:
        log_in(page, agent.user.username, PASSWORD)
        page.locator("#rows").wait_for(state="attached")
        assert page.locator("#brand-switch-form").count() == 0
    finally:
        context.close()


def allow_brand_callback(settings, base_url: str) -> None:
    """Admin -> X account's callback at the live server, registered with the sandbox."""
    clients = json.loads(settings.XSANDBOX_OAUTH2_CLIENTS)
    clients[0]["redirect_uris"].append(base_url.rstrip("/") + "/admin/x-account/callback/")
    settings.XSANDBOX_OAUTH2_CLIENTS = json.dumps(clients)


# `page` comes first: the live server starts before the sandbox fixtures change settings.
def test_an_admin_connects_the_brand_with_x_and_the_wrong_account_is_refused(
    page,
    live_server,
    x,  # noqa: F811
    brand,
    eu,
    settings,
):
    Account.objects.create(id=B_ID, kind=Account.Kind.BRAND, username="acme_eu", name="Acme EU")
    allow_brand_callback(settings, live_server.url)
    bea = make_agent(eu, "bea", role=Role.ADMIN)
    log_in(page, bea.user.username, PASSWORD)
    page.goto("/admin/x-account/")
    # @acme_eu has no account connected yet: its admins see why on every page.
    banner = page.locator(".x-account-banner")
    banner.filter(has_text="@acme_eu has no X account connected").wait_for()

    page.get_by_role("button", name="Connect @acme_eu with X").click()
    page.get_by_role("heading", name="Twelp wants to access your X account").wait_for()
    wrong = x.brand  # signed in to X as the deployment's other brand account
    page.get_by_label("Signed in to X as").select_option(str(wrong.pk))
    page.get_by_role("button", name="Authorize app").click()
    page.get_by_text(
        f"These credentials are @{wrong.username}'s (X id {wrong.pk}), not @acme_eu's: "
        "sign in to X as @acme_eu and connect again."
    ).wait_for()
    assert not BrandCredentials.objects.exists()

    page.get_by_role("button", name="Connect @acme_eu with X").click()
    page.get_by_role("heading", name="Twelp wants to access your X account").wait_for()
    page.get_by_label("Signed in to X as").select_option(str(B_ID))
    page.get_by_role("button", name="Authorize app").click()
    page.get_by_text("Connected with X: @acme_eu.").wait_for()
    page.get_by_text("Posting as @acme_eu (OAuth 2.0 (Sign in with X))").wait_for()
    assert page.locator(".x-account-banner").count() == 0

    row = BrandCredentials.objects.get(brand=eu)
    assert (row.kind, row.x_user_id, row.x_username, row.connected_by_id) == (
        "oauth2",
        B_ID,
        "acme_eu",
        bea.id,
    )
    tokens = sealing.open_sealed(row.sealed)
    assert tokens["access_token"] and tokens["refresh_token"]
    assert tokens["access_token"].encode() not in bytes(row.sealed)  # sealed at rest
    assert Event.objects.filter(brand=eu, verb="brand_x_connected").count() == 1
