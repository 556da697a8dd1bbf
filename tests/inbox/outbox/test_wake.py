"""The sweep after a window's reset wakes only as many waiting answers as the budget has
left, first in the outbox's order (inbox.outbox.replies.due_replies), once while its wake
is in flight; nothing but the database remembers a wake, so a lost one is woken again
when its lease ends. An answer that is not first in the order waits for the sweep: its
task does not retry itself (inbox.outbox.sending, 4 and 5)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import Agent
from inbox import actions, tasks
from inbox.models import Brand, Customer, PostingBudget, Reply, Thread
from inbox.outbox import budget, replies, sending
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
    # Two calls left, and the other two wakes still in flight: nobody more is woken.
    assert replies.due_replies(after + timedelta(seconds=5)) == []
    # Their messages lost, they are woken again when the lease ends: the same two.
    assert replies.due_replies(after + sending.WAKE + timedelta(seconds=1)) == first[1:]


def test_a_wake_in_flight_is_not_woken_again_until_its_lease_ends(brand, waiting):
    """Re-waking the same heads every 5 s while their tasks waited in a busy broker put
    them there again and again (BENCHMARKS.md, issue 16, h16). Redis restarted: the woken
    answers' messages are gone; only the rows remember the wake, and its lease ends."""
    after = timezone.now() + timedelta(minutes=10, seconds=10)
    first = replies.due_replies(after)
    assert len(first) == 3
    assert replies.due_replies(after + timedelta(seconds=5)) == []
    assert replies.due_replies(after + sending.WAKE - timedelta(seconds=1)) == []
    assert replies.due_replies(after + sending.WAKE + timedelta(seconds=1)) == first


def test_the_sweep_enqueues_each_head_once_while_its_task_waits(brand, waiting, monkeypatch):
    """Beat's sweep, three times in a row, with the woken tasks still in the broker."""
    now = timezone.now()
    PostingBudget.objects.filter(brand=brand).update(reset_at=now - timedelta(minutes=1))
    Reply.objects.update(next_attempt_at=now - timedelta(minutes=1) + budget.GRACE)
    enqueued: list[int] = []
    monkeypatch.setattr(tasks.post_reply, "delay", enqueued.append)
    for _ in range(3):
        tasks.sweep_outbox()
    names = ["breached", "urgent", "urgent_2"]
    assert enqueued == [waiting[name].id for name in names]


def test_a_woken_answer_clears_its_wake_when_its_task_runs(brand, waiting):
    after = timezone.now() + timedelta(minutes=10, seconds=10)
    [head, *_] = replies.due_replies(after)
    assert Reply.objects.get(id=head).woken_at is not None
    # Its task runs before the reset (a stale wake): not due yet; it waits, unmarked (one
    # UPDATE of the row: its wake, nothing else changed), for the sweep.
    with CaptureQueriesContext(connection) as queries:
        wait = replies.attempt(head)
    assert wait is not None and sending.retry_after(wait) is None
    assert Reply.objects.get(id=head).woken_at is None
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "inbox_reply"')]
    assert len(updates) == 1 and '"woken_at" = NULL' in updates[0], updates


def test_a_woken_answer_whose_turn_has_not_come_clears_its_wake_with_its_turn(brand, waiting):
    """Woken after the reset, but the one call left went to another: it waits for its turn
    (the sweep's to wake) and its wake is cleared in the same UPDATE."""
    after = timezone.now() + timedelta(minutes=10, seconds=10)
    woken = replies.due_replies(after)
    PostingBudget.objects.filter(brand=brand).update(  # a fresh window of one call
        reset_at=timezone.now() - timedelta(seconds=1), limit=1, remaining=0
    )
    Reply.objects.filter(id__in=woken).update(next_attempt_at=None)
    with CaptureQueriesContext(connection) as queries:
        wait = replies.attempt(woken[-1])
    assert wait is not None and wait.by_sweep and sending.retry_after(wait) is None
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "inbox_reply"')]
    assert len(updates) == 1, updates
    assert '"next_attempt_at" = ' in updates[0] and '"woken_at" = NULL' in updates[0]
    assert Reply.objects.get(id=woken[-1]).woken_at is None


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


class Retried(Exception):
    """What the task's self.retry raised, with its countdown."""


def run_task(reply_id: int, monkeypatch) -> float | None:
    """post_reply as the worker runs it: the countdown it retried itself with, or None."""

    def retry(countdown: float) -> Retried:
        return Retried(countdown)

    monkeypatch.setattr(tasks.post_reply, "retry", retry)
    try:
        tasks.post_reply.run(reply_id)
    except Retried as retried:
        return retried.args[0]
    return None


def test_an_answer_behind_the_budget_leaves_its_wake_to_the_sweep(brand, monkeypatch):
    """Its window resets in 30 s, and others are first in the order: its task does not
    retry itself at the reset (thousands did, a herd in the broker at every reset)."""
    calm = answered(brand, 0)
    breached = answered(brand, 1, waiting_since=timezone.now() - timedelta(hours=1))
    now = timezone.now()
    PostingBudget.objects.create(
        brand=brand, kind="tweets", limit=1, remaining=0, reset_at=now + timedelta(seconds=30),
        day_limit=10_000, day_remaining=9_000, day_reset_at=now + timedelta(hours=20),
    )  # fmt: skip
    assert run_task(calm.id, monkeypatch) is None
    assert run_task(breached.id, monkeypatch) is None
    calm.refresh_from_db()
    assert calm.status == "queued" and calm.next_attempt_at > now  # waits for the reset
    # At the reset the sweep wakes the one call's worth: the breached answer.
    assert replies.due_replies(now + timedelta(seconds=40)) == [breached.id]


def test_behind_a_fresh_window_it_waits_for_the_sweep_not_its_own_retry(brand, monkeypatch):
    """The window has reset and nobody has opened the next yet; 3 answers are ahead of
    this one and 1 call is left: it does not retry itself every 5 s until one does."""
    for n in range(3):
        answered(brand, n, waiting_since=timezone.now() - timedelta(hours=1))
    calm = answered(brand, 3)
    now = timezone.now()
    PostingBudget.objects.create(
        brand=brand, kind="tweets", limit=1, remaining=0, reset_at=now - timedelta(minutes=1),
        day_limit=10_000, day_remaining=9_000, day_reset_at=now + timedelta(hours=20),
    )  # fmt: skip
    assert run_task(calm.id, monkeypatch) is None
    assert Reply.objects.get(id=calm.id).status == "queued"


def test_a_spent_budget_is_not_counted_against_the_waiting_outbox(brand):
    """Where an answer stands in the order (a count over every waiting answer) is asked
    only when a call is left."""
    now = timezone.now()
    PostingBudget.objects.create(
        brand=brand, kind="tweets", limit=100, remaining=0, reset_at=now + timedelta(minutes=5),
        day_limit=10_000, day_remaining=9_000, day_reset_at=now + timedelta(hours=20),
    )  # fmt: skip
    counted: list[int] = []

    def ahead() -> int:
        counted.append(1)
        return 0

    turn = budget.take(brand.id, "tweets", now, ahead=ahead)
    assert turn == now + timedelta(minutes=5) + budget.GRACE
    assert counted == []
    later = now + timedelta(minutes=6)  # the window has reset: a call is left
    assert budget.take(brand.id, "tweets", later, ahead=ahead) is None
    assert counted == [1]
