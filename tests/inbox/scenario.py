"""A hand-built day of a brand's queue, with known answers (see `scenario`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import time_machine
from django.db import transaction

from inbox import actions
from inbox.models import Reply, Thread
from inbox.outbox import replies
from tests.helpers import make_thread

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday, noon UTC
MIN = timedelta(minutes=1)


def at(when: datetime):
    return time_machine.travel(when, tick=False)


def new_thread(brand, customer, conversation: int, waiting_since: datetime, **fields) -> Thread:
    with at(waiting_since):
        return make_thread(brand, customer, conversation, waiting_since=waiting_since, **fields)


def post(reply: Reply) -> None:
    """What the outbox does once X accepted the tweet."""
    with transaction.atomic():
        locked = Reply.objects.select_for_update().get(pk=reply.pk)
        replies.mark_posted(locked, 700_000 + reply.pk)


def answer(thread: Thread, agent, *, claimed: datetime, sent: datetime, posted: datetime) -> Reply:
    with at(claimed):
        actions.do_claim(thread.id, agent=agent)
    with at(sent):
        reply = actions.do_send_reply(thread.id, agent=agent, text=f"@kim answer {thread.id}")
    with at(posted):
        post(reply)
    return reply


def close(thread: Thread, agent, when: datetime) -> None:
    with at(when):
        actions.do_close(thread.id, agent=agent)


@dataclass
class Scenario:
    t1: Thread
    t2: Thread
    t3: Thread
    t4: Thread
    t5: Thread
    t6: Thread
    t7: Thread
    t8: Thread


def build_scenario(brand, customer, alice, bob) -> Scenario:
    """Eight threads; the expected figures at NOW are spelled out in test_figures.py.

    t1  waiting 11:00, Alice answers, posted 11:05 (first response 5 min), closed 11:30
    t2  waiting 11:40, Bob answers, posted 11:51 (11 min), left answered
    t3  waiting 09:00, Alice answers, posted 09:20 (20 min: past the 15 min target),
        closed 10:00 (resolution 1 h)
    t4  three days ago: answered after 2 h (past target), closed a day later (past 4 h)
    t5  ten days ago: answered and closed; outside every window
    t6  open, waiting since 11:47 (13 min: nearing the target)
    t7  open, waiting since 11:30 (30 min: past it)
    t8  waiting since 11:58, claimed by Alice at 11:59
    """
    today = NOW.replace(hour=0)
    t1 = new_thread(brand, customer, 1, today.replace(hour=11))
    answer(t1, alice, claimed=_hm(11, 2), sent=_hm(11, 4), posted=_hm(11, 5))
    close(t1, alice, _hm(11, 30))
    t2 = new_thread(brand, customer, 2, _hm(11, 40))
    answer(t2, bob, claimed=_hm(11, 41), sent=_hm(11, 50), posted=_hm(11, 51))
    t3 = new_thread(brand, customer, 3, _hm(9, 0))
    answer(t3, alice, claimed=_hm(9, 10), sent=_hm(9, 19), posted=_hm(9, 20))
    close(t3, alice, _hm(10, 0))
    start = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    t4 = new_thread(brand, customer, 4, start)
    answer(t4, alice, claimed=start + 60 * MIN, sent=start + 119 * MIN, posted=start + 120 * MIN)
    close(t4, alice, start + timedelta(days=1))
    old = datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
    t5 = new_thread(brand, customer, 5, old)
    answer(t5, alice, claimed=old + MIN / 4, sent=old + MIN / 2, posted=old + MIN)
    close(t5, alice, old + 2 * MIN)
    t6 = new_thread(brand, customer, 6, _hm(11, 47))
    t7 = new_thread(brand, customer, 7, _hm(11, 30))
    t8 = new_thread(brand, customer, 8, _hm(11, 58))
    with at(_hm(11, 59)):
        actions.do_claim(t8.id, agent=alice)
    return Scenario(t1, t2, t3, t4, t5, t6, t7, t8)


def _hm(hour: int, minute: int) -> datetime:
    return NOW.replace(hour=hour, minute=minute)
