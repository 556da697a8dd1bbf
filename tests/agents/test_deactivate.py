"""A leaver: claims back to the queue at once, logged out everywhere, no more logins,
credits kept. And back again: reactivation."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from agents.models import AgentState
from inbox.models import Event, Reply, Thread, ThreadStatus
from tests.helpers import PASSWORD, make_thread


def claim(thread_agent, customer, conversation_id):
    return make_thread(
        thread_agent.brand,
        customer,
        conversation_id,
        status=ThreadStatus.CLAIMED,
        claimed_by=thread_agent,
        claim_expires_at=timezone.now() + timedelta(minutes=5),
    )


def test_it_returns_the_leavers_claims_to_the_queue_with_events(
    client, admin_agent, agent, second_agent, customer, django_capture_on_commit_callbacks
):
    mine = [claim(agent, customer, 1), claim(agent, customer, 2)]
    theirs = claim(second_agent, customer, 3)
    client.force_login(admin_agent.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/team/{agent.id}/deactivate/", follow=True)
    assert "2 claimed threads went back to the queue" in response.content.decode()
    for thread in mine:
        thread.refresh_from_db()
        assert (thread.status, thread.claimed_by) == (ThreadStatus.OPEN, None)
    theirs.refresh_from_db()
    assert theirs.claimed_by == second_agent
    released = Event.objects.filter(verb="released").order_by("thread_id")
    assert [e.thread_id for e in released] == [t.id for t in mine]
    assert all(e.actor == admin_agent and e.detail["holder"] == agent.id for e in released)
    assert all(e.detail["reason"] == "deactivated" for e in released)
    event = Event.objects.get(verb="agent_deactivated")
    assert event.actor == admin_agent and event.detail["agent"] == agent.id


def test_a_leaver_cannot_log_in_and_is_logged_out_everywhere(
    client, admin_agent, agent, django_capture_on_commit_callbacks
):
    from django.test import Client

    leaver = Client()
    leaver.force_login(agent.user)
    session_key = leaver.session.session_key
    assert leaver.get("/").status_code == 200
    client.force_login(admin_agent.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/team/{agent.id}/deactivate/")

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    assert not store.exists(session_key)
    response = leaver.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = Client().post("/login/", {"username": agent.user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    agent.refresh_from_db()
    assert agent.state == AgentState.DEACTIVATED and agent.deactivated_at is not None
    assert not agent.user.is_active
    assert not agent.user.groups.exists()


def test_a_leaver_keeps_credit_code_and_credits(client, admin_agent, agent, customer):
    thread = make_thread(agent.brand, customer, 1, status=ThreadStatus.ANSWERED)
    reply = Reply.objects.create(
        thread=thread, agent=agent, text="Fixed!", credit="^AL", body="Fixed! ^AL",
        status="posted", posted_x_id=123, posted_at=timezone.now(),
    )  # fmt: skip
    client.force_login(admin_agent.user)
    client.post(f"/team/{agent.id}/deactivate/")
    agent.refresh_from_db()
    assert agent.credit_code == "AL"
    response = client.get(f"/team/{agent.id}/")
    assert response.context["credits"] == [reply]
    assert Reply.objects.get(id=reply.id).agent == agent


def test_it_reactivates_with_the_same_code_and_role(
    client, admin_agent, supervisor, django_capture_on_commit_callbacks
):
    client.force_login(admin_agent.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/team/{supervisor.id}/deactivate/")
    response = client.post(f"/team/{supervisor.id}/reactivate/", follow=True)
    assert "can log in again, as ^SU" in response.content.decode()
    supervisor.refresh_from_db()
    assert supervisor.state == AgentState.ACTIVE and supervisor.deactivated_at is None
    assert supervisor.user.is_active and supervisor.user.has_perm("agents.supervise")
    assert Event.objects.filter(verb="agent_reactivated", actor=admin_agent).count() == 1
    response = client.post("/login/", {"username": "sue", "password": PASSWORD})
    assert response.status_code == 302


def test_it_refuses_what_makes_no_sense(client, admin_agent, agent, pending):
    client.force_login(admin_agent.user)
    response = client.post(f"/team/{admin_agent.id}/deactivate/", follow=True)
    assert "You cannot deactivate yourself" in response.content.decode()
    response = client.post(f"/team/{agent.id}/reactivate/", follow=True)
    assert "is not deactivated" in response.content.decode()
    response = client.post(f"/team/{pending.id}/deactivate/", follow=True)
    assert "is not active" in response.content.decode()
    assert client.post("/team/999999/deactivate/").status_code == 404
    admin_agent.refresh_from_db()
    assert admin_agent.state == AgentState.ACTIVE
    assert not Event.objects.filter(verb__startswith="agent_").exists()


def test_supervisors_may_not_deactivate(client, supervisor, agent):
    client.force_login(supervisor.user)
    assert client.post(f"/team/{agent.id}/deactivate/").status_code == 403
    agent.refresh_from_db()
    assert agent.state == AgentState.ACTIVE
    assert Thread.objects.count() == 0
