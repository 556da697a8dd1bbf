"""Self-registration: every field checked, duplicates refused, the X account proven with X
(Sign in with X: tests/agents/test_sign_in_with_x.py), and a new registration waits for
approval."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from agents.models import Agent, AgentState
from inbox.models import Event
from tests.agents.conftest import x_user
from tests.agents.helpers import prove_in_session, prove_x, registration
from tests.helpers import PASSWORD


def test_it_shows_the_form_to_anyone_once_x_proved_their_account(client, brand):
    response = client.get("/register/")
    assert response.status_code == 200
    assert b"Sign in with X" in response.content and b"@acmecares" in response.content
    prove_in_session(client)
    assert b'name="employee_id"' in client.get("/register/").content


def test_it_sends_a_logged_in_employee_to_the_queue(client, agent):
    client.force_login(agent.user)
    response = client.get("/register/")
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.django_db(transaction=True)
def test_it_registers_a_pending_employee_with_their_x_user_id(client, brand, x):
    account = x_user("JaneDoe_Cares")
    prove_x(client, account)
    response = client.post("/register/", registration())
    assert response.status_code == 302 and response["Location"] == "/"
    agent = Agent.objects.get(employee_id="E-5001")
    assert agent.state == AgentState.PENDING
    assert agent.x_user_id == account.id
    assert agent.x_handle == "JaneDoe_Cares"  # as X spells it
    assert (agent.initials, agent.credit_code, agent.brand) == ("JD", "", brand)
    assert agent.user.username == "E-5001" and agent.user.email == "jane.doe@acme.example"
    assert agent.user.check_password(PASSWORD)
    event = Event.objects.get(verb="agent_registered")
    assert event.actor is None and event.detail["agent"] == agent.id


def test_it_logs_the_new_employee_in_to_the_waiting_page_not_the_queue(client, brand):
    prove_in_session(client)
    response = client.post("/register/", registration(), follow=True)
    assert response.status_code == 403
    assert b"Waiting for approval" in response.content
    assert b"janedoe_cares" in response.content
    assert "threads" not in response.context


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("employee_id", "", "This field is required"),
        ("employee_id", "E 5001!", "is not an employee id of Acme"),
        ("employee_id", "E1", "is not an employee id of Acme"),
        ("name", "   ", "This field is required"),
        ("email", "jane.doe", "Enter a valid email address"),
        ("initials", "J2", "Initials are 1–4 letters"),
        ("initials", "", "This field is required"),
        ("password2", "something else entirely", "The two passwords differ"),
    ],
)
def test_it_refuses_a_bad_field_with_a_clear_message(client, brand, field, value, message):
    prove_in_session(client)
    response = client.post("/register/", registration(**{field: value}))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Agent.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "E-5001-jane"])
def test_it_refuses_a_weak_password(client, brand, password):
    prove_in_session(client)
    response = client.post("/register/", registration(password1=password, password2=password))
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not Agent.objects.exists()


def test_it_checks_the_employee_id_with_the_brands_own_format(client, brand):
    brand.employee_id_pattern = r"BB\d{6}"
    brand.save()
    prove_in_session(client)
    response = client.post("/register/", registration(employee_id="E-5001"))
    assert "expected format: BB\\d{6}" in response.context["form"].errors["employee_id"][0]
    response = client.post("/register/", registration(employee_id="BB123456"))
    assert response.status_code == 302
    assert Agent.objects.filter(employee_id="BB123456").exists()


def test_it_says_so_when_the_brands_format_is_broken(client, brand):
    brand.employee_id_pattern = "[unclosed"
    brand.save()
    prove_in_session(client)
    response = client.post("/register/", registration())
    assert "format is broken" in response.context["form"].errors["employee_id"][0]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"employee_id": "E-alice"}, "employee_id", "Employee id E-alice is already registered"),
        ({"employee_id": "e-ALICE"}, "employee_id", "is already registered"),
        ({"email": "ALICE@acme.example"}, "email", "alice@acme.example is already registered"),
        ({"x_handle": "Alice_X"}, "__all__", "@Alice_X is already registered"),
    ],
)
def test_it_refuses_a_duplicate_case_insensitively(client, agent, changes, field, message):
    # The X account as X proved it (a race: someone registered it since the callback).
    prove_in_session(client, username=changes.get("x_handle", "janedoe_cares"))
    response = client.post("/register/", registration(**changes))
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert Agent.objects.count() == 1


def test_it_is_closed_until_a_brand_exists(client, db):
    assert client.get("/register/").status_code == 404


def test_a_pending_employee_cannot_reach_the_queue_or_the_team_pages(client, pending):
    client.force_login(pending.user)
    for url in ("/", "/team/me/", "/team/"):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Waiting for approval" in response.content
    assert pending.state == AgentState.PENDING
