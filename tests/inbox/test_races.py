"""Races decided by the database, with real concurrent connections to real PostgreSQL."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from functools import partial

import pytest

from inbox import actions
from inbox.models import Reply, Thread
from tests.helpers import claim_until_done, make_agent, make_thread, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(workers: list[Callable[[], object]]) -> list[object]:
    """Start every worker at once, each in its own thread with its own DB connection; the
    loser's error is the result under test (tests.helpers.run_at_once)."""
    return run_at_once(workers)[0]


def test_it_claims_each_of_20_threads_exactly_once_among_50_agents(brand, customer):
    for conversation in range(20):
        make_thread(brand, customer, conversation)
    agents = [make_agent(brand, f"agent{i:02d}", code=f"A{i}") for i in range(50)]

    results = run_together([partial(claim_until_done, agent) for agent in agents])
    assert not [r for r in results if isinstance(r, Exception)]
    claimed = Counter(thread_id for ids in results for thread_id in ids)
    assert len(claimed) == 20
    assert set(claimed.values()) == {1}
    assert Thread.objects.filter(status="claimed").count() == 20


def test_it_gives_a_named_thread_to_exactly_one_of_50_agents(brand, customer):
    thread = make_thread(brand, customer, 1)
    agents = [make_agent(brand, f"agent{i:02d}", code=f"A{i}") for i in range(50)]
    results = run_together([lambda a=a: actions.do_claim(thread.id, agent=a) for a in agents])
    winners = [r for r in results if isinstance(r, Thread)]
    losers = [r for r in results if isinstance(r, actions.AlreadyClaimed)]
    assert (len(winners), len(losers)) == (1, 49)
    thread.refresh_from_db()
    assert all(loser.holder == thread.claimed_by for loser in losers)


def test_it_sends_one_reply_when_20_agents_race_to_answer(brand, customer):
    thread = make_thread(brand, customer, 1)
    agents = [make_agent(brand, f"agent{i:02d}", code=f"A{i}") for i in range(20)]

    def answer(agent):
        def work():
            actions.do_claim(thread.id, agent=agent)
            return actions.do_send_reply(thread.id, agent=agent, text="On it!")

        return work

    results = run_together([answer(agent) for agent in agents])
    assert len([r for r in results if isinstance(r, Reply)]) == 1
    assert Reply.objects.filter(thread=thread).count() == 1


def test_it_sends_one_reply_when_one_form_is_submitted_20_times_at_once(brand, customer):
    thread = make_thread(brand, customer, 1)
    agent = make_agent(brand, "clicky")
    actions.do_claim(thread.id, agent=agent)
    token = uuid.uuid4()
    results = run_together(
        [
            lambda: actions.do_send_reply(thread.id, agent=agent, text="Hi!", client_token=token)
            for _ in range(20)
        ]
    )
    assert {r.id for r in results if isinstance(r, Reply)} == {Reply.objects.get().id}
    assert all(isinstance(r, Reply) for r in results)
