"""An admin registers an employee directly: approved at once, with a set-password e-mail."""

from __future__ import annotations

import re

from django.core import mail

from agents.models import Agent, AgentState, Role
from inbox.models import Event
from tests.agents.conftest import x_user

FORM = {
    "employee_id": "E-7001",
    "name": "Sam Lee",
    "email": "Sam.Lee@acme.example",
    "x_handle": "samlee_helps",
    "initials": "sl",
    "role": Role.SUPERVISOR,
}


def test_it_registers_an_active_employee_who_sets_a_password_by_email(
    client, admin_agent, x, django_capture_on_commit_callbacks
):
    account = x_user("samlee_helps")
    client.force_login(admin_agent.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/team/add/", FORM)
    sam = Agent.objects.get(employee_id="E-7001")
    assert response.status_code == 302 and response["Location"] == f"/team/{sam.id}/"
    assert (sam.state, sam.role, sam.credit_code) == (AgentState.ACTIVE, Role.SUPERVISOR, "SL")
    assert sam.x_user_id == account.id and sam.approved_by == admin_agent
    assert sam.user.email == "sam.lee@acme.example"
    assert sam.user.has_perm("agents.approve_agents")
    assert Event.objects.get(verb="agent_added").detail["credit_code"] == "SL"

    link = re.search(r"http://\S+/reset/\S+/\S+/", mail.outbox[0].body).group(0)
    path = link.split("127.0.0.1:8000", 1)[1]
    client.logout()
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    new_password = "a brand new secret 42"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    response = client.post("/login/", {"username": "E-7001", "password": new_password})
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_refuses_an_unknown_handle_and_a_duplicate(client, admin_agent, agent, x):
    client.force_login(admin_agent.user)
    response = client.post("/team/add/", FORM)
    assert "X has no user @samlee_helps" in response.context["form"].errors["x_handle"][0]
    response = client.post("/team/add/", {**FORM, "employee_id": agent.employee_id})
    assert "already registered" in response.context["form"].errors["employee_id"][0]
    assert not Agent.objects.filter(name="Sam Lee").exists()


def test_supervisors_may_not_register_employees(client, supervisor):
    client.force_login(supervisor.user)
    assert client.get("/team/add/").status_code == 403
    assert client.post("/team/add/", FORM).status_code == 403
