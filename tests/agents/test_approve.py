"""Approving and rejecting registrations, one or many at once, and credit codes."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection

from agents import actions
from agents.models import Agent, AgentState
from inbox.models import Brand, Event
from tests.agents.conftest import x_user
from tests.agents.helpers import pending_agent, prove_x, registration
from tests.helpers import make_agent


def test_it_lists_pending_registrations_oldest_first(client, supervisor):
    first = pending_agent(supervisor.brand, "E-0001", name="Zoe First")
    second = pending_agent(supervisor.brand, "E-0002", name="Al Second")
    client.force_login(supervisor.user)
    response = client.get("/team/")
    assert response.status_code == 200
    assert response.context["pending"] == [first, second]
    assert b"Zoe First" in response.content


def test_it_approves_one_registration_with_a_credit_code(
    client, supervisor, django_capture_on_commit_callbacks
):
    person = pending_agent(supervisor.brand, "E-0001", initials="JD")
    client.force_login(supervisor.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/team/approve/", {"ids": person.id})
    assert response.status_code == 302 and response["Location"] == "/team/"
    person.refresh_from_db()
    assert (person.state, person.credit_code) == (AgentState.ACTIVE, "JD")
    assert person.approved_by == supervisor and person.approved_at is not None
    assert person.user.has_perm("agents.work_queue")
    assert not person.user.has_perm("agents.supervise")
    event = Event.objects.get(verb="agent_approved")
    assert event.actor == supervisor and event.detail["agent"] == person.id
    assert event.detail["credit_code"] == "JD"
    assert mail.outbox[0].to == [person.user.email] and "^JD" in mail.outbox[0].body


def test_it_approves_many_at_once_each_with_its_own_code(client, admin_agent):
    brand = admin_agent.brand
    people = [pending_agent(brand, f"E-000{i}", initials="JD") for i in range(1, 4)]
    make_agent(brand, "jdee", code="JD")  # the first JD is taken already
    client.force_login(admin_agent.user)
    client.post("/team/approve/", {"ids": [p.id for p in people]})
    codes = [Agent.objects.get(id=p.id).credit_code for p in people]
    assert codes == ["JD2", "JD3", "JD4"]
    assert Event.objects.filter(verb="agent_approved").count() == 3


def test_it_keeps_a_leavers_code_out_of_reach(client, admin_agent):
    brand = admin_agent.brand
    make_agent(brand, "jdee", code="JD")
    make_agent(brand, "jdoe", code="JD2", state=AgentState.DEACTIVATED)
    person = pending_agent(brand, "E-0001", initials="jd")
    client.force_login(admin_agent.user)
    client.post("/team/approve/", {"ids": person.id})
    person.refresh_from_db()
    assert person.credit_code == "JD3"


def test_it_skips_a_registration_someone_else_handled_and_says_so(client, supervisor):
    person = pending_agent(supervisor.brand, "E-0001")
    client.force_login(supervisor.user)
    client.post("/team/approve/", {"ids": person.id})
    response = client.post("/team/approve/", {"ids": person.id}, follow=True)
    assert "no longer waiting" in response.content.decode()
    assert Event.objects.filter(verb="agent_approved").count() == 1


def test_it_asks_to_tick_someone_first(client, supervisor):
    client.force_login(supervisor.user)
    response = client.post("/team/approve/", {}, follow=True)
    assert "Tick at least one registration" in response.content.decode()
    response = client.post("/team/reject/", {"ids": "x"}, follow=True)
    assert "not registrations" in response.content.decode()


def test_it_does_not_touch_another_brands_registrations(client, supervisor):
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    person = pending_agent(other, "E-0001")
    client.force_login(supervisor.user)
    client.post("/team/approve/", {"ids": person.id})
    client.post("/team/reject/", {"ids": person.id})
    person.refresh_from_db()
    assert person.state == AgentState.PENDING


def test_agents_may_not_approve_or_reject(client, agent):
    person = pending_agent(agent.brand, "E-0001")
    client.force_login(agent.user)
    assert client.post("/team/approve/", {"ids": person.id}).status_code == 403
    assert client.post("/team/reject/", {"ids": person.id}).status_code == 403
    person.refresh_from_db()
    assert person.state == AgentState.PENDING


def test_it_rejects_registrations_and_frees_their_id_handle_and_email(
    client, supervisor, django_capture_on_commit_callbacks
):
    one = pending_agent(supervisor.brand, "E-0001", x_handle="janedoe_cares")
    two = pending_agent(supervisor.brand, "E-0002")
    client.force_login(supervisor.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/team/reject/", {"ids": [one.id, two.id]}, follow=True)
    assert "Rejected 2 registrations" in response.content.decode()
    assert not Agent.objects.filter(id__in=[one.id, two.id]).exists()
    assert not User.objects.filter(username__in=["E-0001", "E-0002"]).exists()
    events = Event.objects.filter(verb="agent_rejected").order_by("id")
    assert [e.detail["employee_id"] for e in events] == ["E-0001", "E-0002"]
    assert all(e.actor == supervisor for e in events)
    assert sorted(m.to[0] for m in mail.outbox) == ["e-0001@acme.example", "e-0002@acme.example"]
    assert "not approved" in mail.outbox[0].subject


def test_a_rejected_person_can_register_again(client, supervisor, x):
    account = x_user("janedoe_cares")
    person = pending_agent(supervisor.brand, "E-5001", x_handle="janedoe_cares", name="Impostor")
    client.force_login(supervisor.user)
    client.post("/team/reject/", {"ids": person.id})
    client.logout()
    prove_x(client, account)  # the handle is free again: X proves it is hers
    response = client.post("/register/", registration())
    assert response.status_code == 302
    assert Agent.objects.get(employee_id="E-5001").name == "Jane Doe"


def test_the_approved_employee_logs_in_and_sees_the_queue(client, supervisor):
    person = pending_agent(supervisor.brand, "E-0001")
    client.force_login(person.user)
    assert client.get("/").status_code == 403
    actions.do_approve([person.id], actor=supervisor)
    response = client.get("/")
    assert response.status_code == 200 and 'id="rows"' in response.content.decode()


def test_it_hands_out_codes_one_by_one(brand):
    make_agent(brand, "a1", code="AB")
    make_agent(brand, "a3", code="AB3")
    make_agent(brand, "a10", code="ABC")  # another base: not in AB's way
    assert actions.next_credit_code(brand.id, "ab") == "AB2"


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_share_a_code(brand, supervisor):
    """Two supervisors approve two JDs at the same moment: each gets its own code."""
    people = [pending_agent(brand, f"E-000{i}", initials="JD") for i in range(8)]
    barrier = threading.Barrier(len(people))
    errors: list[BaseException] = []

    def approve(person: Agent) -> None:
        try:
            barrier.wait()
            actions.do_approve([person.id], actor=supervisor)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    codes = sorted(
        Agent.objects.filter(id__in=[p.id for p in people]).values_list("credit_code", flat=True)
    )
    assert codes == sorted(["JD", *(f"JD{n}" for n in range(2, 9))])
