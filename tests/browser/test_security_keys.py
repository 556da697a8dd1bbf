"""In real Chromium with its virtual authenticator (CDP WebAuthn.addVirtualAuthenticator):
a supervisor adds a security key on their two-factor section, then signs in with it at the
two-factor check, under the Content-Security-Policy (no violation). WebAuthn needs a host
name, not an IP: live_server answers as localhost."""

from __future__ import annotations

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from inbox.models import Event, Verb
from tests.browser.conftest import log_in
from tests.browser.test_csp import WATCH, violations
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def keys_here(settings, live_server):
    assert live_server.url.startswith("http://localhost:"), live_server.url
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]


def _authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_a_supervisor_adds_a_key_and_signs_in_with_it(page, supervisor, keys_here):
    page.add_init_script(WATCH)
    _authenticator(page)
    log_in(page, "sue", PASSWORD)  # password, then a recovery code (the app is enrolled)

    page.goto("/team/me/")
    page.get_by_role("heading", name="Security keys and passkeys").wait_for()
    page.get_by_role("button", name="Add a security key or passkey").click()
    page.get_by_text("Registration successful!").wait_for()
    key = WebAuthnCredential.objects.get(user=supervisor.user)
    added = Event.objects.get(verb=Verb.TWO_FACTOR_KEY_ADDED, actor=supervisor)
    assert added.detail["key"] == key.id
    assert violations(page) == []

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in to Twelp").wait_for()
    page.get_by_label("Username").fill("sue")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Two-factor check").wait_for()
    with page.expect_navigation(url=lambda url: "/2fa/" not in url):
        page.get_by_role("button", name="Use a security key or passkey").click()
    assert "/login/" not in page.url
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert violations(page) == []
