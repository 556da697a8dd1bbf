"""Every refused company sign-in, and every session the provider disowns, is an audited
Event (Verb.SSO_REFUSED with its reason, agents.sso (5)) that supervisors see on the team
page and in the audit trail."""

from __future__ import annotations

import pytest

from agents.models import AgentState
from inbox.models import Event, Verb
from tests.agents.sso_helpers import disable, point_at, sign_in
from tests.helpers import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def idp(x, settings):
    point_at(settings, x.url)
    return x


def _refusals(brand) -> list[Event]:
    return list(Event.objects.filter(brand=brand, verb=Verb.SSO_REFUSED).order_by("id"))


def _only_reason(brand) -> str:
    rows = _refusals(brand)
    assert len(rows) == 1, [r.detail for r in rows]
    return rows[0].detail["reason"]


def test_a_wrong_state_is_an_event(client, brand, agent, idp):
    response = sign_in(client, "idp-alice", tamper={"state": "forged-state"})
    assert response.status_code == 400
    assert _only_reason(brand) == "state"


def test_a_wrong_nonce_is_an_event(client, brand, agent, idp, monkeypatch):
    from mozilla_django_oidc import utils

    real = utils.add_state_and_verifier_and_nonce_to_session

    def other_nonce(request, state, params, code_verifier=None):
        real(request, state, params, code_verifier)
        request.session["oidc_states"][state]["nonce"] = "a-nonce-we-never-sent"
        request.session.save()

    monkeypatch.setattr(
        "mozilla_django_oidc.views.add_state_and_verifier_and_nonce_to_session", other_nonce
    )
    assert sign_in(client, "idp-alice").status_code == 400
    assert _only_reason(brand) == "nonce"


def test_a_wrong_issuer_is_an_event(client, brand, agent, idp, settings):
    settings.OIDC_OP_ISSUER = "https://login.example.com/realms/acme"
    assert sign_in(client, "idp-alice").status_code == 400
    assert _only_reason(brand) == "issuer"


def test_a_wrong_audience_is_an_event(client, brand, agent, idp, monkeypatch):
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    real = OIDCAuthenticationBackend.verify_token

    def for_another_client(self, token, **kwargs):
        return {**real(self, token, **kwargs), "aud": "another-app"}

    monkeypatch.setattr(OIDCAuthenticationBackend, "verify_token", for_another_client)
    assert sign_in(client, "idp-alice").status_code == 400
    assert _only_reason(brand) == "audience"
    assert client.session.get("_auth_user_id") is None


def test_the_providers_error_answer_is_an_event(client, brand, agent, idp):
    response = sign_in(client, "idp-alice", tamper={"error": "access_denied"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    event = _refusals(brand)[0]
    assert event.detail["reason"] == "provider_error"
    assert "access_denied" in event.detail["why"]


def test_a_provider_out_of_reach_is_an_event(client, brand, agent, idp, settings):
    begin = client.get("/oidc/authenticate/")
    assert begin.status_code == 302
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/oidc/token"  # nothing listens
    response = sign_in(client, "idp-alice")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert _only_reason(brand) == "provider_unreachable"
    assert client.session.get("_auth_user_id") is None


def test_a_closed_account_is_an_event_with_the_employee(client, brand, idp):
    dora = make_agent(brand, "alice", state=AgentState.DEACTIVATED)
    dora.oidc_subject = "idp-alice"
    dora.save(update_fields=["oidc_subject"])
    sign_in(client, "idp-alice")
    event = _refusals(brand)[0]
    assert event.detail["reason"] == "closed_account"
    assert event.actor_id == dora.id and event.detail["sub"] == "idp-alice"


def test_a_session_the_provider_disowns_is_an_event(client, brand, agent, idp, settings):
    settings.OIDC_RECHECK_SECONDS = 0
    sign_in(client, "idp-alice")
    assert _refusals(brand) == []
    disable(idp, "idp-alice")
    assert client.get("/").status_code == 302
    event = _refusals(brand)[0]
    assert event.detail["reason"] == "disowned" and event.actor_id == agent.id


def test_supervisors_see_the_refusals_on_the_team_page_and_in_the_audit_trail(
    client, brand, agent, supervisor, idp
):
    sign_in(client, "idp-alice", tamper={"state": "forged-state"})
    client.logout()
    client.force_login(supervisor.user)
    team = client.get("/team/").content.decode()
    assert "Refused: company sign-ins" in team and "did not start" in team
    audit = client.get("/sup/audit/").content.decode()
    assert "Company sign-in refused" in audit


def test_agents_do_not_see_the_team_pages_refusals(client, brand, agent, idp):
    sign_in(client, "idp-alice", tamper={"state": "forged-state"})
    client.force_login(agent.user)
    assert client.get("/team/").status_code == 403


def test_forged_callbacks_cannot_fill_the_audit_trail(client, brand, idp, monkeypatch):
    from agents import sso

    monkeypatch.setattr(sso, "REFUSAL_EVENTS_PER_MINUTE", 3)
    for _ in range(5):
        assert client.get("/oidc/callback/?code=x&state=forged").status_code == 400
    assert len(_refusals(brand)) == 3  # the rest only logged
