"""A cap on threads held at once (inbox.routing.capacity): claims refused past it, a
supervisor's reassign allowed past it and said so, two claims at once by one agent
cannot pass it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from inbox import actions
from inbox.models import Thread
from inbox.routing import capacity
from tests.helpers import make_thread


@pytest.fixture
def threads(brand, customer) -> list[Thread]:
    return [make_thread(brand, customer, n, priority=n) for n in range(1, 6)]


def test_claim_next_and_a_named_claim_stop_at_the_brands_cap(brand, agent, threads):
    brand.max_held = 2
    brand.save(update_fields=["max_held"])
    agent.brand.refresh_from_db()
    assert actions.do_claim_next(agent=agent) is not None
    assert actions.do_claim_next(agent=agent) is not None
    with pytest.raises(capacity.AtCapacity, match="You hold 2 threads, your limit of 2"):
        actions.do_claim_next(agent=agent)
    with pytest.raises(capacity.AtCapacity, match="answer, close or release one"):
        actions.do_claim(threads[0].id, agent=agent)
    assert Thread.objects.filter(claimed_by=agent).count() == 2
    held = Thread.objects.filter(claimed_by=agent).first()
    assert actions.do_claim(held.id, agent=agent).id == held.id  # a double click: still fine
    actions.do_release(held.id, agent=agent)
    assert actions.do_claim(threads[0].id, agent=agent).claimed_by_id == agent.id


def test_the_agents_own_cap_overrides_the_brands(agent, second_agent, threads):
    agent.max_held = 1
    agent.save(update_fields=["max_held"])
    actions.do_claim_next(agent=agent)
    with pytest.raises(capacity.AtCapacity, match="your limit of 1"):
        actions.do_claim_next(agent=agent)
    for _ in range(4):  # the brand's 5 for Bob
        assert actions.do_claim_next(agent=second_agent) is not None


def test_an_empty_queue_is_not_a_full_agent(agent):
    assert actions.do_claim_next(agent=agent) is None


def test_a_supervisor_reassigns_past_the_cap_and_is_told(client, supervisor, agent, threads):
    agent.max_held = 1
    agent.save(update_fields=["max_held"])
    actions.do_claim(threads[0].id, agent=agent)
    client.force_login(supervisor.user)
    response = client.post(f"/sup/t/{threads[1].id}/reassign/", {"agent": agent.id}, follow=True)
    assert "now holds 2 threads: past their limit of 1" in response.content.decode()
    assert Thread.objects.filter(claimed_by=agent).count() == 2


def test_the_queue_page_says_why_claim_next_took_nothing(client, agent, threads):
    agent.max_held = 1
    agent.save(update_fields=["max_held"])
    client.force_login(agent.user)
    client.post("/claim-next/")
    response = client.post("/claim-next/", follow=True)
    assert "You hold 1 thread, your limit of 1" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_claims_at_once_by_one_agent_never_pass_the_cap(brand, customer):
    from tests.helpers import make_agent

    agent = make_agent(brand, "alice")
    agent.max_held = 1
    agent.save(update_fields=["max_held"])
    make_thread(brand, customer, 1)
    make_thread(brand, customer, 2)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim() -> None:
        try:
            barrier.wait()
            actions.do_claim_next(agent=agent)
            outcomes.append("claimed")
        except capacity.AtCapacity:
            outcomes.append("full")
        finally:
            connection.close()

    workers = [threading.Thread(target=claim) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == ["claimed", "full"]
    assert Thread.objects.filter(claimed_by=agent).count() == 1
