"""After the answer (inbox.actions.do_claim_follow_up, do_reopen and their views): the
agent who answered adds a follow-up; a supervisor or the last answerer reopens a closed
thread; both are Events."""

from __future__ import annotations

import pytest

from agents.models import Role
from inbox import actions
from inbox.live import presence
from inbox.models import Event, Reply, ThreadStatus
from tests.helpers import make_agent, make_thread


def answered(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    actions.do_send_reply(thread.id, agent=agent, text="@kim on its way")
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.ANSWERED
    return thread


def test_the_answerer_follows_up_in_reply_to_the_customer(agent, thread):
    answered(thread, agent)
    actions.do_claim_follow_up(thread.id, agent=agent)
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by_id, thread.follow_up) == ("claimed", agent.id, True)
    reply = actions.do_send_reply(thread.id, agent=agent, text="@kim update: it shipped today")
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.ANSWERED and not thread.follow_up
    first = Reply.objects.exclude(id=reply.id).get()
    assert reply.in_reply_to_id == first.in_reply_to_id  # the customer's tweet, both times
    verbs = list(Event.objects.filter(thread=thread).order_by("id").values_list("verb", flat=True))
    assert verbs == ["claimed", "replied", "follow_up_claimed", "replied"]


def test_another_agent_may_not_follow_up(agent, second_agent, thread):
    answered(thread, agent)
    with pytest.raises(actions.ActionError, match="answered last"):
        actions.do_claim_follow_up(thread.id, agent=second_agent)
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.ANSWERED


def test_a_follow_up_needs_an_answered_thread(agent, thread):
    with pytest.raises(actions.ActionError, match="a follow-up is for an answered thread"):
        actions.do_claim_follow_up(thread.id, agent=agent)


def test_releasing_a_follow_up_hands_it_back_answered_not_to_the_queue(agent, thread):
    answered(thread, agent)
    actions.do_claim_follow_up(thread.id, agent=agent)
    actions.do_release(thread.id, agent=agent)
    thread.refresh_from_db()
    assert (thread.status, thread.follow_up) == ("answered", False)


def test_the_last_answerer_and_supervisors_reopen_a_closed_thread(
    agent, second_agent, supervisor, thread
):
    answered(thread, agent)
    presence.seen(agent.brand_id, agent.id)  # online, with room: offered back (issue 15)
    actions.do_close(thread.id, agent=agent)
    with pytest.raises(actions.ActionError, match="supervisor or the employee who answered"):
        actions.do_reopen(thread.id, agent=second_agent)
    actions.do_reopen(thread.id, agent=agent)
    thread.refresh_from_db()
    assert (thread.status, thread.offered_to_id, thread.closed_at) == ("open", agent.id, None)
    event = Event.objects.filter(thread=thread).latest("id")
    assert (event.verb, event.actor_id) == ("reopened_by_staff", agent.id)
    actions.do_claim(thread.id, agent=agent)
    actions.do_close(thread.id, agent=agent)
    actions.do_reopen(thread.id, agent=supervisor)
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN


def test_reopen_is_refused_while_the_customer_has_a_newer_live_thread(
    brand, customer, supervisor, thread
):
    actions.do_claim(thread.id, agent=supervisor)
    actions.do_close(thread.id, agent=supervisor)
    make_thread(brand, customer, thread.conversation_id)  # the customer wrote again
    with pytest.raises(actions.ActionError, match="newer open thread"):
        actions.do_reopen(thread.id, agent=supervisor)
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.CLOSED


def test_the_page_offers_follow_up_and_reopen_to_who_may(client, agent, second_agent, thread):
    answered(thread, agent)
    client.force_login(agent.user)
    assert f'action="/t/{thread.id}/follow-up/"' in client.get(f"/t/{thread.id}/").content.decode()
    client.force_login(second_agent.user)
    page = client.get(f"/t/{thread.id}/").content.decode()
    assert f'action="/t/{thread.id}/follow-up/"' not in page
    client.force_login(agent.user)
    assert client.post(f"/t/{thread.id}/follow-up/").status_code == 302
    thread.refresh_from_db()
    assert thread.claimed_by_id == agent.id
    actions.do_close(thread.id, agent=agent)
    boss = make_agent(thread.brand, "sue2", role=Role.SUPERVISOR)
    client.force_login(boss.user)
    assert f'action="/t/{thread.id}/reopen/"' in client.get(f"/t/{thread.id}/").content.decode()
    assert client.post(f"/t/{thread.id}/reopen/").status_code == 302
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN


def test_an_agent_who_may_not_gets_a_message_and_nothing_changes(client, second_agent, thread):
    client.force_login(second_agent.user)
    response = client.post(f"/t/{thread.id}/reopen/", follow=True)
    assert "not closed" in response.content.decode()
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN


def test_both_refuse_a_post_without_csrf(csrf_client, agent, thread):
    answered(thread, agent)
    csrf_client.force_login(agent.user)
    for url in (f"/t/{thread.id}/follow-up/", f"/t/{thread.id}/reopen/"):
        assert csrf_client.post(url).status_code == 403
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.ANSWERED
