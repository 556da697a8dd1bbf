"""Single sign-on (agents.sso, mozilla-django-oidc) against the sandbox's OpenID Connect
provider, live over HTTP: who signs in, what a first sign-in creates, the refused
callbacks, a disabled account, the second factor, and password sign-in by a setting."""

from __future__ import annotations

import logging

import jwt
import pytest
from django.core.exceptions import SuspiciousOperation

from agents.models import Agent, AgentState, Role
from inbox.models import Event, Verb
from tests.agents.helpers import prove_x
from tests.agents.sso_helpers import disable, point_at, sign_in
from tests.helpers import PASSWORD, make_agent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def idp(x, settings):
    point_at(settings, x.url)
    return x


def _user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def test_an_employee_signs_in_and_is_linked_by_the_vouched_employee_id(client, brand, agent, idp):
    response = sign_in(client, "idp-alice")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _user_id(client) == str(agent.user_id)
    agent.refresh_from_db()
    assert agent.oidc_subject == "idp-alice"
    assert client.get("/").status_code == 200  # the queue


def test_the_discovery_document_names_the_endpoints_and_the_key_verifies_tokens(idp):
    import requests

    document = requests.get(f"{idp.url}/oidc/.well-known/openid-configuration", timeout=5).json()
    assert document["issuer"] == f"{idp.url}/oidc"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = requests.get(document["jwks_uri"], timeout=5).json()["keys"]
    assert keys[0]["kty"] == "RSA" and "d" not in keys[0]  # the public half only


def test_a_newcomer_registers_after_proving_x_and_waits_for_approval(client, brand, idp):
    from tests.agents.conftest import x_user

    response = sign_in(client, "idp-nia")
    assert response["Location"] == "/register/"
    assert _user_id(client) is None
    page = client.get("/register/").content.decode()
    assert "Nia Newbie" in page and "E-9001" in page and "Sign in with X" in page
    prove_x(client, x_user("nia_cares"))
    page = client.get("/register/").content.decode()
    assert 'name="password1"' not in page
    typed = {"employee_id": "E-6666", "name": "Someone", "email": "x@y.example", "initials": "NN"}
    assert client.post("/register/", typed).status_code == 302
    nia = Agent.objects.get(oidc_subject="idp-nia")
    assert (nia.employee_id, nia.name, nia.state) == ("E-9001", "Nia Newbie", AgentState.PENDING)
    assert nia.x_handle == "nia_cares" and not nia.user.has_usable_password()
    assert _user_id(client) == str(nia.user_id)
    assert client.get("/").status_code == 403  # waiting for approval
    assert Event.objects.filter(verb=Verb.AGENT_REGISTERED, detail__via="sso").exists()


def test_a_vouched_newcomer_is_active_at_once_by_a_setting(client, brand, idp, settings):
    from tests.agents.conftest import x_user

    settings.OIDC_ACTIVATE_VOUCHED = True
    sign_in(client, "idp-nia")
    prove_x(client, x_user("nia_cares"))
    assert client.post("/register/", {"initials": "NN"}).status_code == 302
    nia = Agent.objects.get(oidc_subject="idp-nia")
    assert (nia.state, nia.credit_code) == (AgentState.ACTIVE, "NN")
    assert client.get("/").status_code == 200


def test_without_an_employee_id_claim_the_newcomer_stays_pending(client, brand, idp, settings):
    from tests.agents.conftest import x_user

    settings.OIDC_ACTIVATE_VOUCHED = True
    sign_in(client, "idp-noid")
    prove_x(client, x_user("omar_cares"))
    form = {"employee_id": "E-7001", "initials": "ON"}
    assert client.post("/register/", form).status_code == 302
    omar = Agent.objects.get(oidc_subject="idp-noid")
    assert (omar.employee_id, omar.state) == ("E-7001", AgentState.PENDING)


@pytest.mark.parametrize(
    ("tamper", "logged"),
    [
        ({"state": "forged-state"}, "did not start"),
        ({"code": "not-a-code"}, "refused a callback"),
    ],
)
def test_a_callback_with_a_wrong_state_or_code_is_refused(
    client, brand, agent, idp, caplog, tamper, logged
):
    with caplog.at_level(logging.WARNING):
        response = sign_in(client, "idp-alice", tamper=tamper)
    assert response.status_code in (400, 302)
    assert _user_id(client) is None
    if response.status_code == 400:
        assert any(logged in r.getMessage() for r in caplog.records)


def test_a_wrong_nonce_is_refused_and_logged(client, brand, agent, idp, caplog, monkeypatch):
    from mozilla_django_oidc import utils

    real = utils.add_state_and_verifier_and_nonce_to_session

    def other_nonce(request, state, params, code_verifier=None):
        real(request, state, params, code_verifier)
        request.session["oidc_states"][state]["nonce"] = "a-nonce-we-never-sent"
        request.session.save()

    monkeypatch.setattr(
        "mozilla_django_oidc.views.add_state_and_verifier_and_nonce_to_session", other_nonce
    )
    with caplog.at_level(logging.WARNING, logger="agents.sso_views"):
        response = sign_in(client, "idp-alice")
    assert response.status_code == 400
    assert _user_id(client) is None
    assert any("Nonce verification failed" in r.getMessage() for r in caplog.records)


def test_a_wrong_issuer_is_refused_and_logged(client, brand, agent, idp, caplog, settings):
    settings.OIDC_OP_ISSUER = "https://login.example.com/realms/acme"  # not the token's iss
    with caplog.at_level(logging.WARNING, logger="agents.sso_views"):
        response = sign_in(client, "idp-alice")
    assert response.status_code == 400
    assert _user_id(client) is None
    assert any("issuer" in r.getMessage() for r in caplog.records)


def test_another_clients_token_is_refused(client, brand, agent, idp, settings):
    from agents.sso import SSOBackend

    backend = SSOBackend()
    claims = {"iss": settings.OIDC_OP_ISSUER, "aud": "other", "sub": "x", "nonce": "n"}
    token = jwt.encode({**claims, "exp": 4102444800}, "k" * 32)
    backend.OIDC_RP_SIGN_ALGO = "HS256"
    backend.OIDC_RP_CLIENT_SECRET = "k" * 32
    with pytest.raises(SuspiciousOperation, match="not issued to this client"):
        backend.verify_token(token, nonce="n")


def test_a_disabled_account_stops_working_at_its_next_request(client, brand, agent, idp, settings):
    settings.OIDC_RECHECK_SECONDS = 0
    sign_in(client, "idp-alice")
    assert client.get("/").status_code == 200
    disable(idp, "idp-alice")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert _user_id(client) is None
    assert client.get("/").status_code == 302  # still out
    with pytest.raises(AssertionError, match="That account is disabled"):
        sign_in(client, "idp-alice")  # the provider's page refuses them now


def test_an_enabled_account_survives_the_recheck_and_an_expired_access_token(
    client, brand, agent, idp, settings
):
    from django.core.cache import cache

    from agents import sso

    settings.OIDC_RECHECK_SECONDS = 0
    sign_in(client, "idp-alice")
    key = f"agents:sso:tokens:{client.session.session_key}"
    kept = cache.get(key)
    cache.set(key, {**kept, "access": "expired-or-revoked"})  # userinfo refuses it
    assert client.get("/").status_code == 200  # the refresh token renewed it
    assert cache.get(key)["refresh"] != kept["refresh"]  # rotated
    assert client.session.get(sso.SESSION_KEY) == {"sub": "idp-alice"}


def test_an_htmx_request_of_a_disabled_account_gets_401_and_goes_to_the_login_page(
    client, brand, agent, idp, settings
):
    settings.OIDC_RECHECK_SECONDS = 0
    sign_in(client, "idp-alice")
    disable(idp, "idp-alice")
    response = client.get("/", HTTP_HX_REQUEST="true")
    assert response.status_code == 401 and response["HX-Redirect"] == "/login/"


def test_supervisors_still_pass_twelps_second_factor(client, brand, supervisor, idp):
    sign_in(client, "idp-sue", mfa=True)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/2fa/setup/")


def test_the_providers_mfa_counts_by_a_setting(client, brand, supervisor, idp, settings):
    settings.OIDC_MFA_COUNTS = True
    sign_in(client, "idp-sue", mfa=False)
    assert client.get("/").status_code == 302  # no mfa in amr: Twelp's own
    client.post("/logout/")
    sign_in(client, "idp-sue", mfa=True)
    assert client.get("/").status_code == 200


def test_a_deactivated_employee_is_not_signed_in(client, brand, idp):
    dora = make_agent(brand, "alice", state=AgentState.DEACTIVATED)
    response = sign_in(client, "idp-alice")
    assert response["Location"] == "/login/"
    assert _user_id(client) is None
    assert dora.role == Role.AGENT


def test_password_sign_in_is_refused_when_turned_off(client, brand, agent, idp, settings):
    settings.PASSWORD_LOGIN = False
    page = client.get("/login/").content.decode()
    assert "Sign in with your company account" in page and 'name="password"' not in page
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and _user_id(client) is None
    assert client.get("/register/")["Location"] == "/login/"


def test_password_sign_in_stays_by_default(client, brand, agent, idp):
    page = client.get("/login/").content.decode()
    assert "Sign in with your company account" in page and 'name="password"' in page
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert _user_id(client) == str(agent.user_id)


def test_the_provider_is_asked_once_per_recheck_interval(client, brand, agent, idp, settings):
    import time

    import time_machine

    settings.OIDC_RECHECK_SECONDS = 60
    sign_in(client, "idp-alice")
    disable(idp, "idp-alice")
    assert client.get("/").status_code == 200  # checked at sign-in: not asked again yet
    with time_machine.travel(time.time() + 61):
        response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/"
