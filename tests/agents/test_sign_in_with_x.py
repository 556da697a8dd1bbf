"""Sign in with X (agents.xlink; the sandbox's OAuth 2.0 with PKCE over HTTP): the handle
and X user id come from X; a callback for an X account another employee holds is refused
and shown to supervisors; a callback with a wrong state is refused and logged."""

from __future__ import annotations

import logging

import pytest

from agents.models import Agent, AgentState
from inbox.models import Event
from tests.agents.conftest import x_user
from tests.agents.helpers import prove_x, registration
from tests.helpers import make_agent

pytestmark = pytest.mark.django_db(transaction=True)


def test_registration_takes_the_handle_and_id_from_x(client, brand, x):
    account = x_user("JaneDoe_Cares")
    response = prove_x(client, account)
    assert response["Location"] == "/register/"
    page = client.get("/register/").content.decode()
    assert "@JaneDoe_Cares" in page and 'name="x_handle"' not in page
    typed = registration(x_handle="someone_else")  # a typed handle is ignored
    assert client.post("/register/", typed).status_code == 302
    agent = Agent.objects.get(employee_id="E-5001")
    assert (agent.x_handle, agent.x_user_id) == ("JaneDoe_Cares", account.id)
    assert agent.state == AgentState.PENDING


def test_without_x_there_is_no_form(client, brand, x):
    page = client.get("/register/").content.decode()
    assert "Sign in with X" in page and 'name="employee_id"' not in page
    assert client.post("/register/", registration()).status_code == 200
    assert not Agent.objects.exists()


def test_cancelling_on_x_proves_nothing(client, brand, x):
    response = prove_x(client, x_user("janedoe_cares"), decision="cancel")
    assert response["Location"] == "/register/"
    page = client.get("/register/").content.decode()
    assert "You did not authorize Twelp on X" in page
    assert 'name="employee_id"' not in page


def test_a_wrong_state_is_refused_and_logged(client, brand, x, caplog):
    with caplog.at_level(logging.WARNING, logger="agents.xlink"):
        response = prove_x(client, x_user("janedoe_cares"), state="forged-state")
    assert response.status_code == 400
    assert "was not started here" in response.content.decode()
    assert any("wrong or expired state" in r.getMessage() for r in caplog.records)
    assert 'name="employee_id"' not in client.get("/register/").content.decode()


def test_a_handle_another_employee_holds_is_refused_and_shown_to_supervisors(
    client, brand, x, supervisor
):
    account = x_user("janedoe_cares")
    holder = make_agent(brand, "jane")
    Agent.objects.filter(id=holder.id).update(x_handle="old_name", x_user_id=account.id)
    response = prove_x(client, account, state=None)
    assert response["Location"] == "/register/"
    assert "is registered to an employee already" in client.get("/register/").content.decode()
    event = Event.objects.get(verb="x_claim_refused")
    assert (event.detail["x_user_id"], event.detail["held_by"]) == (account.id, holder.id)
    boss = type(client)()
    boss.force_login(supervisor.user)
    team = boss.get("/team/").content.decode()
    assert "Refused: X accounts already registered" in team and "@janedoe_cares" in team


def test_an_employee_proves_a_renamed_handle(client, brand, x, agent):
    account = x_user("alice_new")
    client.force_login(agent.user)
    response = prove_x(client, account)
    assert response["Location"] == "/team/me/"
    agent.refresh_from_db()
    assert (agent.x_handle, agent.x_user_id) == ("alice_new", account.id)
    event = Event.objects.get(verb="x_account_linked")
    assert event.detail["x_handle"] == ["alice_x", "alice_new"]


def test_an_employee_cannot_take_a_colleagues_x_account(client, brand, x, agent, second_agent):
    account = x_user("bob_x")
    Agent.objects.filter(id=second_agent.id).update(x_user_id=account.id)
    client.force_login(agent.user)
    prove_x(client, account)
    agent.refresh_from_db()
    assert agent.x_handle == "alice_x"
    event = Event.objects.get(verb="x_claim_refused")
    assert event.actor_id == agent.id and event.detail["held_by"] == second_agent.id


def test_x_down_at_the_exchange_says_to_start_again(client, brand, x):
    x.fault("unavailable", "users_me", count=3)
    prove_x(client, x_user("janedoe_cares"))
    assert "X could not confirm your account just now" in client.get("/register/").content.decode()


def test_the_sign_in_posts_need_the_csrf_token(csrf_client, brand, agent):
    assert csrf_client.post("/register/x/").status_code == 403
    csrf_client.force_login(agent.user)
    assert csrf_client.post("/team/me/x/").status_code == 403
