"""In line for one (inbox.routing.assign 4.): Claim next that finds nothing puts the agent
in line, the next thread of their teams is assigned to them once, in the order they
joined, and then they are out of line; a claim of their own or leaving ends it too."""

from __future__ import annotations

import json
from functools import partial

import pytest

from agents.models import Agent
from inbox import actions
from inbox.live import presence
from inbox.models import Customer, Event, Thread, ThreadStatus
from inbox.routing import assign
from tests.helpers import make_agent, make_thread, run_at_once


def online(*agents: Agent) -> None:
    for agent in agents:
        presence.seen(agent.brand_id, agent.id)


def claim_next(client) -> dict:
    response = client.post("/claim-next/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "HX-Redirect" not in response
    return json.loads(response["HX-Trigger"])["twelp:toast"]


def toast_body(client) -> str:
    return client.post("/claim-next/", HTTP_HX_REQUEST="true").content.decode()


def test_joining_the_line_swaps_the_pages_available_form_with_its_csrf_token(client, agent):
    client.force_login(agent.user)
    body = toast_body(client)
    assert 'id="availability"' in body and 'hx-swap-oob="true"' in body
    assert 'data-available="line"' in body and "Leave the line" in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_claim_next_on_a_clear_queue_puts_the_agent_in_line_with_an_event(client, agent):
    client.force_login(agent.user)
    toast = claim_next(client)
    assert "You are in line" in toast["text"] and toast["level"] == "info"
    agent.refresh_from_db()
    assert agent.available_since is not None and agent.available_once
    event = Event.objects.get(verb="availability_changed")
    assert event.detail == {"agent": agent.id, "available": True, "line": True}
    page = client.get("/").content.decode()
    assert 'data-available="line"' in page and "Leave the line" in page
    assert 'data-available="line"' not in toast_body(client)  # shown already: no swap
    claim_next(client)  # again while in line: the same words, no second Event
    assert Event.objects.filter(verb="availability_changed").count() == 1


def test_the_next_thread_goes_to_whoever_joined_the_line_first_once(
    client, brand, customer, agent, second_agent
):
    for someone in (second_agent, agent):  # bob first, then alice
        assert assign.do_join_line(someone)
    online(agent, second_agent)
    first = make_thread(brand, customer, 1)
    assert assign.assign_waiting(brand.id) == [(first.id, second_agent.id)]
    second_agent.refresh_from_db()
    assert (second_agent.available_since, second_agent.available_once) == (None, False)
    # Served: bob is out of line, so the next two threads go to alice once, then nobody.
    later = [make_thread(brand, customer, n) for n in (2, 3)]
    assert assign.assign_waiting(brand.id) == [(later[0].id, agent.id)]
    agent.refresh_from_db()
    assert agent.available_since is None and not agent.available_once
    assert Thread.objects.get(id=later[1].id).status == ThreadStatus.OPEN


def test_a_claim_of_their_own_takes_the_agent_out_of_line(brand, customer, agent):
    assert assign.do_join_line(agent)
    thread = make_thread(brand, customer, 1)
    assert actions.do_claim_next(agent=agent) == thread
    agent.refresh_from_db()
    assert agent.available_since is None and not agent.available_once
    online(agent)
    make_thread(brand, customer, 2)
    assert assign.assign_waiting(brand.id) == []  # nothing more comes to them


def test_a_named_claim_takes_the_agent_out_of_line(brand, customer, agent):
    assert assign.do_join_line(agent)
    thread = make_thread(brand, customer, 1)
    actions.do_claim(thread.id, agent=agent)
    agent.refresh_from_db()
    assert agent.available_since is None and not agent.available_once


def test_a_deactivated_employee_is_never_put_in_line(deactivated):
    assert not assign.do_join_line(deactivated)
    deactivated.refresh_from_db()
    assert deactivated.available_since is None and not deactivated.available_once
    assert not Event.objects.filter(verb="availability_changed").exists()


def test_an_available_agent_is_not_put_in_line(agent):
    assign.do_set_available(agent, available=True)
    assert not assign.do_join_line(agent)
    agent.refresh_from_db()
    assert agent.available_since is not None and not agent.available_once


def test_leaving_the_line_from_the_queue_page(client, agent):
    client.force_login(agent.user)
    claim_next(client)
    response = client.post("/available/", {"available": "off"}, follow=True)
    assert "You left the line" in response.content.decode()
    agent.refresh_from_db()
    assert agent.available_since is None and not agent.available_once
    assert 'data-available="off"' in client.get("/").content.decode()


def test_going_available_from_the_line_stays_available_after_a_thread(brand, customer, agent):
    assign.do_join_line(agent)
    assign.do_set_available(agent, available=True)
    online(agent)
    make_thread(brand, customer, 1)
    make_thread(brand, customer, 2)
    assert len(assign.assign_waiting(brand.id)) == 2
    agent.refresh_from_db()
    assert agent.available_since is not None and not agent.available_once


def test_an_agent_at_their_cap_is_refused_not_put_in_line(client, brand, customer, agent):
    agent.max_held = 1
    agent.save(update_fields=["max_held"])
    actions.do_claim(make_thread(brand, customer, 1).id, agent=agent)
    client.force_login(agent.user)
    toast = claim_next(client)
    assert toast["level"] == "error" and "You are in line" not in toast["text"]
    agent.refresh_from_db()
    assert agent.available_since is None


def test_the_line_words_are_spanish_for_a_spanish_agent(client, agent):
    Agent.objects.filter(id=agent.id).update(language="es")
    client.force_login(agent.user)
    assert "Estás en la fila" in claim_next(client)["text"]


# 300 agents in line at once, 50 threads arriving, over real connections.
AGENTS, THREADS, JOINERS = 300, 50, 10
CONNECTIONS = THREADS + JOINERS


@pytest.mark.django_db(transaction=True)
def test_300_agents_joining_the_line_while_50_threads_arrive_each_gets_at_most_one(brand):
    """60 real connections, all open at once: 300 agents join the line in 10 of them, each
    followed by an assignment run as the task would; 50 threads arrive, one per
    connection, each commit followed by a run. No cap (the brand's default): only the line
    keeps anyone from getting a second thread."""
    agents = [make_agent(brand, f"agent{n:03}", code=f"L{n:03}") for n in range(AGENTS)]
    online(*agents)
    customers = [
        Customer.objects.create(brand=brand, x_user_id=2000 + n, handle=f"c{n}", name=f"C{n}")
        for n in range(THREADS)
    ]

    def join(mine: list[Agent]) -> None:
        for agent in mine:
            assign.do_join_line(agent)
            assign.assign_waiting(brand.id)

    def arrive(customer: Customer) -> None:
        make_thread(brand, customer, customer.x_user_id)
        assign.assign_waiting(brand.id)

    results, backends = run_at_once(
        [partial(join, agents[n::JOINERS]) for n in range(JOINERS)]
        + [partial(arrive, customer) for customer in customers]
    )
    assert results == [None] * CONNECTIONS  # no job raised
    assert len(backends) == CONNECTIONS  # 60 backends, all open at the barrier
    presence._written.clear()
    online(*agents)
    assign.assign_waiting(brand.id)  # the beat's backstop
    assigned = list(Event.objects.filter(verb="assigned").values_list("thread_id", flat=True))
    assert sorted(assigned) == sorted(set(assigned)) and len(assigned) == THREADS
    held = list(
        Thread.objects.filter(status=ThreadStatus.CLAIMED).values_list("claimed_by", flat=True)
    )
    assert len(held) == len(set(held)) == THREADS  # one thread each
    served = Agent.objects.filter(id__in=held)
    assert not served.filter(available_once=True).exists()  # served: out of line
    assert served.filter(available_since__isnull=False).count() == 0
    waiting = Agent.objects.filter(available_once=True).count()
    assert waiting == AGENTS - THREADS  # the rest still in line
