"""Send says when the answer goes out ("about 14:05 UTC, 23 ahead"), the thread page keeps
saying it while it waits, and the queue, thread page and dashboard show each budget."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from inbox import actions
from inbox.models import PostingBudget, Reply
from tests.helpers import make_thread_with_message


def spent_until(brand, minutes: int) -> PostingBudget:
    return PostingBudget.objects.create(
        brand=brand, kind="tweets", limit=100, remaining=0,
        reset_at=timezone.now() + timedelta(minutes=minutes),
        day_limit=10_000, day_remaining=9_000,
    )  # fmt: skip


def test_send_says_the_answer_goes_out_now_when_the_budget_has_room(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    response = client.post(
        f"/t/{thread.id}/reply/", {"text": "@kim on its way!", "client_token": uuid.uuid4()},
        follow=True,
    )  # fmt: skip
    assert "it goes out now, 0 ahead" in response.content.decode()


def test_send_says_when_and_how_many_ahead_while_the_budget_is_spent(
    client, agent, second_agent, brand, customer, thread
):
    budget = spent_until(brand, 10)
    other = make_thread_with_message(brand, customer, "@acmecares hello?", conversation_id=200)
    actions.do_claim(other.id, agent=second_agent)
    actions.do_send_reply(other.id, agent=second_agent, text="@kim first in line")
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    response = client.post(
        f"/t/{thread.id}/reply/", {"text": "@kim on its way!", "client_token": uuid.uuid4()},
        follow=True,
    )  # fmt: skip
    body = response.content.decode()
    expected = f"about {budget.reset_at:%H:%M} UTC, 1 ahead"
    assert f"it goes out {expected}." in body
    # The thread page keeps saying it, and shows the spent budget.
    assert f"goes out {expected}" in body
    assert "Sending paused by X until" in body
    # Once the other answer is gone, this one is first in line.
    Reply.objects.filter(thread=other).update(status="discarded")
    page = client.get(f"/t/{thread.id}/").content.decode()
    assert f"goes out about {budget.reset_at:%H:%M} UTC, 0 ahead" in page


def test_queue_and_dashboard_show_each_budget(client, agent, supervisor, brand):
    spent_until(brand, 10)
    client.force_login(agent.user)
    queue = client.get("/").content.decode()
    assert 'data-budget="tweets"' in queue and 'data-budget="dms"' in queue
    assert 'Posts: <strong data-figure="left">0</strong> of 100 left' in queue
    assert 'Direct messages: <strong data-figure="left">15</strong> of 15 left' in queue
    client.force_login(supervisor.user)
    dashboard = client.get("/sup/").content.decode()
    assert "Sending paused by X until" in dashboard and 'data-budget="dms"' in dashboard
