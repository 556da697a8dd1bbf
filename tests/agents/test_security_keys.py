"""Security keys and passkeys (agents.twofactor (4), (5); django-otp-webauthn's views as
Twelp's): who may start a ceremony, a refused key counted by django-axes, the lockout
before any key is checked, and the admin's reset taking keys away. A real key added and
used, in Chromium's virtual authenticator: tests/browser/test_security_keys.py."""

from __future__ import annotations

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from agents.models import Agent
from inbox.models import Event, Verb
from tests.agents.test_two_factor import enrol, password_login

BEGIN_REGISTRATION = "/2fa/keys/registration/begin/"
COMPLETE_REGISTRATION = "/2fa/keys/registration/complete/"
BEGIN_CHECK = "/2fa/keys/authentication/begin/"
COMPLETE_CHECK = "/2fa/keys/authentication/complete/"
FORGED = {
    "id": "AAAA",
    "rawId": "AAAA",
    "type": "public-key",
    "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA"},
}


@pytest.fixture
def enrolled(supervisor) -> tuple[Agent, list[str]]:
    client = Client()
    password_login(client, supervisor)
    _, codes = enrol(client, supervisor)
    return supervisor, codes


def _key_of(agent: Agent) -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(
        user=agent.user,
        name="YubiKey",
        credential_id=b"\x01" * 16,
        public_key=b"\x02" * 77,
        sign_count=0,
        confirmed=True,
    )


def _failures(agent: Agent) -> int:
    return AxesProxyHandler.get_failures(
        Client().request().wsgi_request, {"username": agent.user.username}
    )


def test_a_verified_employee_may_start_adding_a_key(enrolled):
    supervisor, codes = enrolled
    client = Client()
    password_login(client, supervisor)
    client.post("/2fa/", {"token": codes[0]})
    answer = client.post(BEGIN_REGISTRATION, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json()["rp"]["id"] == "localhost" and answer.json()["challenge"]


def test_a_key_comes_after_the_second_factor_is_passed(enrolled):
    supervisor, _ = enrolled
    client = Client()
    password_login(client, supervisor)  # the password only
    answer = client.post(BEGIN_REGISTRATION, content_type="application/json")
    assert answer.status_code == 403 and answer.json()["code"] == "user_not_verified"


def test_a_key_comes_after_the_app(agent):
    client = Client()
    password_login(client, agent)
    answer = client.post(BEGIN_REGISTRATION, content_type="application/json")
    assert answer.status_code == 403 and answer.json()["code"] == "app_first"
    assert not WebAuthnCredential.objects.exists()


def test_no_key_no_keys_check(agent):
    client = Client()
    password_login(client, agent)
    before = _failures(agent)
    answer = client.post(BEGIN_CHECK, content_type="application/json")
    assert answer.status_code == 403 and answer.json()["code"] == "no_keys"
    assert _failures(agent) == before  # refused before any key was looked at: not counted


def test_no_one_signed_out_starts_a_ceremony():
    for url in (BEGIN_REGISTRATION, BEGIN_CHECK):
        answer = Client().post(url, content_type="application/json")
        assert answer.status_code == 403 and answer.json()["code"] == "not_authenticated"


def test_the_check_page_offers_a_key_only_to_who_has_one(enrolled):
    supervisor, _ = enrolled
    client = Client()
    password_login(client, supervisor)
    assert "Use a security key or passkey" not in client.get("/2fa/").content.decode()
    _key_of(supervisor)
    page = client.get("/2fa/").content.decode()
    assert "Use a security key or passkey" in page and 'id="otp_webauthn_config"' in page


def test_a_refused_key_counts_toward_the_lockout(enrolled, settings):
    supervisor, codes = enrolled
    _key_of(supervisor)
    client = Client()
    password_login(client, supervisor)
    before = _failures(supervisor)
    assert client.post(BEGIN_CHECK, content_type="application/json").status_code == 200
    answer = client.post(COMPLETE_CHECK, FORGED, content_type="application/json")
    assert answer.status_code >= 400
    assert _failures(supervisor) == before + 1
    assert client.get("/sup/").status_code == 302  # still not verified


def test_a_locked_out_employee_cannot_start_a_keys_check(enrolled, settings):
    supervisor, codes = enrolled
    _key_of(supervisor)
    client = Client()
    password_login(client, supervisor)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/2fa/", {"token": "123456"})
    answer = client.post(BEGIN_CHECK, content_type="application/json")
    assert answer.status_code == 403 and answer.json()["code"] == "locked_out"


def test_a_check_without_a_begun_ceremony_is_refused_and_counted(enrolled):
    supervisor, _ = enrolled
    _key_of(supervisor)
    client = Client()
    password_login(client, supervisor)
    before = _failures(supervisor)
    answer = client.post(COMPLETE_CHECK, FORGED, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_state"
    assert _failures(supervisor) == before + 1


def test_the_admins_reset_takes_the_keys_away(enrolled, admin_agent, client):
    supervisor, _ = enrolled
    _key_of(supervisor)
    client.force_login(admin_agent.user)
    assert client.post(f"/team/{supervisor.id}/2fa-reset/").status_code == 302
    assert not WebAuthnCredential.objects.filter(user=supervisor.user).exists()
    assert Event.objects.filter(verb=Verb.TWO_FACTOR_RESET, actor=admin_agent).exists()


def test_the_profile_lists_the_keys(enrolled):
    supervisor, codes = enrolled
    _key_of(supervisor)
    client = Client()
    password_login(client, supervisor)
    client.post("/2fa/", {"token": codes[0]})
    page = client.get("/team/me/").content.decode()
    assert "YubiKey" in page and "Add a security key or passkey" in page


@pytest.mark.parametrize("url", [BEGIN_REGISTRATION, COMPLETE_REGISTRATION, COMPLETE_CHECK])
def test_the_csrf_token_is_required(csrf_client, enrolled, url):
    supervisor, _ = enrolled
    csrf_client.force_login(supervisor.user)
    response = csrf_client.post(url, {}, content_type="application/json")
    assert response.status_code == 403 and b"CSRF" in response.content
