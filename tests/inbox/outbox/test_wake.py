"""The sweep after a window's reset wakes only as many waiting answers as the budget has
left, first in the outbox's order (inbox.outbox.replies.due_replies); nothing but the
database remembers a wake, so a lost one is woken again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from agents.models import Agent
from inbox import actions
from inbox.models import Brand, Customer, PostingBudget, Reply, Thread
from inbox.outbox import budget, replies
from tests.helpers import make_agent


@pytest.fixture
def brand(db) -> Brand:
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=42, max_held=50)


def answered(brand: Brand, n: int, *, channel: str = "tweet", **thread: object) -> Reply:
    customer = Customer.objects.create(brand=brand, x_user_id=10_000 + n, handle=f"c{n}")
    made = Thread.objects.create(
        brand=brand, customer=customer, conversation_id=10_000 + n, channel=channel, **thread
    )
    agent = Agent.objects.filter(brand=brand).first() or make_agent(brand, f"agent{brand.id}")
    actions.do_claim(made.id, agent=agent)
    return actions.do_send_reply(made.id, agent=agent, text=f"@c{n} on it")


def spent_until(brand: Brand, reset: datetime, *, kind: str = "tweets", limit: int = 3) -> None:
    """The window of `limit` calls is spent until `reset`; every answer waits for it."""
    PostingBudget.objects.create(
        brand=brand, kind=kind, limit=limit, remaining=0, reset_at=reset,
        day_limit=10_000, day_remaining=9_000, day_reset_at=reset + timedelta(hours=20),
    )  # fmt: skip
    Reply.objects.update(next_attempt_at=reset + budget.GRACE)


@pytest.fixture
def waiting(brand) -> dict[str, Reply]:
    """Six answers waiting for the reset, sent in this order."""
    now = timezone.now()
    sent = {
        "calm_1": answered(brand, 0),
        "calm_2": answered(brand, 1),
        "urgent": answered(brand, 2, priority=80),
        "breached": answered(brand, 3, waiting_since=now - timedelta(hours=1)),
        "calm_3": answered(brand, 4),
        "urgent_2": answered(brand, 5, priority=60),
    }
    spent_until(brand, now + timedelta(minutes=10))
    return sent


def test_at_the_reset_it_wakes_what_the_budget_has_left_first_in_order(brand, waiting):
    before = timezone.now() + timedelta(minutes=9)
    assert replies.due_replies(before) == []  # nothing left until the reset
    after = timezone.now() + timedelta(minutes=10, seconds=10)
    woken = replies.due_replies(after)
    # Three calls in the fresh window: the breached answer, then the urgent ones by age.
    names = ["breached", "urgent", "urgent_2"]
    assert woken == [waiting[name].id for name in names]


def test_it_wakes_fewer_as_the_woken_take_the_calls(brand, waiting):
    after = timezone.now() + timedelta(minutes=10, seconds=10)
    first = replies.due_replies(after)
    assert (
        budget.take(brand.id, "tweets", after, ahead=0) is None
    )  # the first one's call, in flight
    Reply.objects.filter(id=first[0]).update(
        status="sending", next_attempt_at=after + timedelta(minutes=1)
    )
    assert replies.due_replies(after) == first[1:]  # two calls left: the same two, no more


def test_a_wake_lost_with_its_message_is_woken_again(brand, waiting):
    """Redis restarted: the woken answers' messages are gone. No marker anywhere says
    they were woken, so the next sweep wakes them again, from the rows and the budget."""
    after = timezone.now() + timedelta(minutes=10, seconds=10)
    first = replies.due_replies(after)
    assert len(first) == 3
    assert replies.due_replies(after + timedelta(seconds=5)) == first


def test_a_reply_whose_worker_died_is_woken_whatever_the_budget(brand, waiting):
    stuck = waiting["calm_3"]
    past = timezone.now() - timedelta(minutes=2)
    Reply.objects.filter(id=stuck.id).update(status="sending", next_attempt_at=past)
    assert replies.due_replies() == [stuck.id]  # the window is spent; it is looked up anyway


def test_each_account_and_kind_wakes_from_its_own_budget(brand, waiting):
    other = Brand.objects.create(name="Beta", handle="beta_care", x_user_id=43, max_held=50)
    theirs = answered(other, 0)
    dm = answered(brand, 6, channel="dm")
    long_ago = timezone.now() - timedelta(minutes=1)
    Reply.objects.filter(id__in=[theirs.id, dm.id]).update(next_attempt_at=long_ago)
    # The brand's posting window is spent; its DMs and the other brand's posts are not.
    assert sorted(replies.due_replies()) == sorted([theirs.id, dm.id])
