"""In real Chromium: single sign-on with the company's identity provider (the sandbox's
OpenID Connect stand-in): a newcomer signs in, proves their X account and registers; an
existing employee signs in and works; the provider disables them and their next page
sends them to the login page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from agents.models import Agent, AgentState
from tests.agents.conftest import x, x_user  # noqa: F401  (x is a fixture)
from tests.agents.helpers import allow_callback
from tests.agents.sso_helpers import CLIENT_ID, disable, point_at
from tests.xsandbox.conftest import sandbox, sandbox_settings, sandbox_url, world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _company_sign_in(page, who: str) -> None:
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with your company account").click()
    page.get_by_role("heading", name="Sign in with your company account").wait_for()
    page.get_by_label("Employee").select_option(label=who)
    page.get_by_role("button", name="Sign in").click()


# `page` comes first: the live server starts before the sandbox fixtures change settings.
def test_a_newcomer_registers_through_single_sign_on(page, live_server, x, brand, settings):  # noqa: F811
    point_at(settings, x.url, live_server.url)
    allow_callback(settings, live_server.url)
    settings.OIDC_ACTIVATE_VOUCHED = True
    account = x_user("nia_cares", "Nia Newbie")

    _company_sign_in(page, "Nia Newbie (E-9001)")
    page.get_by_text("Your company account is confirmed; now register.").wait_for()
    page.get_by_role("button", name="Sign in with X").click()
    page.get_by_label("Signed in to X as").select_option(str(account.pk))
    page.get_by_role("button", name="Authorize app").click()
    page.get_by_text("X confirmed your account: @nia_cares.").wait_for()
    assert page.get_by_label("Employee id").input_value() == "E-9001"
    assert page.get_by_label("Password", exact=True).count() == 0
    page.get_by_label("Initials").fill("nn")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Queue").wait_for()
    nia = Agent.objects.get(oidc_subject="idp-nia")
    assert (nia.state, nia.x_handle, nia.credit_code) == (AgentState.ACTIVE, "nia_cares", "NN")


def test_an_employee_signs_in_then_the_provider_disables_them(
    page,
    live_server,
    x,  # noqa: F811
    brand,
    agent,
    settings,  # noqa: F811
):
    point_at(settings, x.url, live_server.url)
    settings.OIDC_RECHECK_SECONDS = 0

    _company_sign_in(page, "Alice (E-alice)")
    page.get_by_role("heading", name="Queue").wait_for()
    # Leave the queue first: its background requests (the badge, the stream) would find the
    # session disowned too and take the page to the login page, aborting the goto below
    # (that path has a test of its own, further down).
    page.goto("about:blank")
    disable(x, "idp-alice")
    page.goto("/team/me/")
    page.get_by_text("Your company account no longer signs you in here").wait_for()
    page.get_by_role("heading", name="Log in to Twelp").wait_for()
    page.goto("/")
    page.get_by_role("heading", name="Log in to Twelp").wait_for()


def test_a_background_request_of_a_disowned_session_takes_the_page_to_the_login_page(
    page,
    live_server,
    x,  # noqa: F811
    brand,
    agent,
    settings,  # noqa: F811
):
    """htmx gets 401 (never the login page swapped into the queue) and follows HX-Redirect;
    the login page says why, once."""
    point_at(settings, x.url, live_server.url)
    settings.OIDC_RECHECK_SECONDS = 0
    _company_sign_in(page, "Alice (E-alice)")
    page.get_by_role("heading", name="Queue").wait_for()
    disable(x, "idp-alice")
    with page.expect_response(lambda r: r.status == 401):
        page.evaluate("htmx.ajax('GET', '/', {target: 'main', swap: 'innerHTML'})")
    page.get_by_role("heading", name="Log in to Twelp").wait_for()
    page.get_by_text("Your company account no longer signs you in here").wait_for()
    page.reload()
    page.get_by_role("heading", name="Log in to Twelp").wait_for()
    assert page.get_by_text("Your company account no longer signs you in here").count() == 0


def test_signing_out_ends_the_company_session_too(
    page,
    live_server,
    x,  # noqa: F811
    brand,
    agent,
    settings,  # noqa: F811
):
    from tests.browser.test_csp import WATCH, violations

    point_at(settings, x.url, live_server.url)
    page.add_init_script(WATCH)
    _company_sign_in(page, "Alice (E-alice)")
    page.get_by_role("heading", name="Queue").wait_for()
    at_provider = page.context.new_page()  # another tab, straight to the provider's page
    at_provider.goto(
        f"{x.url}/oidc/authorize?"
        + urlencode(
            {
                "client_id": CLIENT_ID,
                "redirect_uri": f"{live_server.url}/oidc/callback/",
                "response_type": "code",
                "scope": "openid",
                "state": "s",
                "nonce": "n",
            }
        )
    )
    at_provider.get_by_text("Signed in at the company as Alice").wait_for()
    at_provider.close()
    with page.expect_request(lambda r: "/oidc/end_session?" in r.url):
        page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in to Twelp").wait_for()
    assert page.url == f"{live_server.url}/login/"
    page.get_by_role("link", name="Sign in with your company account").click()
    page.get_by_role("heading", name="Sign in with your company account").wait_for()
    assert page.get_by_text("Signed in at the company as").count() == 0
    assert violations(page) == []
