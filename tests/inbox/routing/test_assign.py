"""Work that comes to you (inbox.routing.assign): Available agents online get the next
thread of their teams as they have room, least recently assigned first, never past
their cap; going away hands back what they have not opened."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from agents.models import Agent
from inbox import actions, schedule
from inbox.live import presence
from inbox.models import Customer, Event, Thread, ThreadStatus
from inbox.routing import assign, teams
from tests.helpers import make_agent, make_thread, run_at_once


def online(*agents: Agent) -> None:
    for agent in agents:
        presence.seen(agent.brand_id, agent.id)


def available(*agents: Agent) -> None:
    for agent in agents:
        assign.do_set_available(agent, available=True)
        online(agent)


def test_an_available_online_agent_is_assigned_the_next_thread_with_an_event(
    brand, customer, agent
):
    low = make_thread(brand, customer, 1, priority=0)
    high = make_thread(brand, customer, 2, priority=100)
    available(agent)
    assert assign.assign_waiting(brand.id) == [(high.id, agent.id), (low.id, agent.id)]
    high.refresh_from_db()
    assert (high.status, high.claimed_by_id) == (ThreadStatus.CLAIMED, agent.id)
    assert high.assigned_at is not None
    event = Event.objects.get(thread=high, verb="assigned")
    assert (event.actor_id, event.detail) == (agent.id, {"auto": True})
    agent.refresh_from_db()
    assert agent.last_assigned_at is not None


def test_the_least_recently_assigned_agent_is_served_first(brand, customer, agent, second_agent):
    available(agent, second_agent)
    Agent.objects.filter(id=agent.id).update(last_assigned_at=timezone.now())
    threads = [make_thread(brand, customer, n, priority=10 - n) for n in range(3)]
    done = assign.assign_waiting(brand.id)
    assert done == [
        (threads[0].id, second_agent.id),  # never assigned: first
        (threads[1].id, agent.id),
        (threads[2].id, second_agent.id),
    ]


def test_nobody_offline_or_not_available_is_assigned(brand, customer, agent, second_agent):
    make_thread(brand, customer, 1)
    assign.do_set_available(agent, available=True)  # Available, but not online
    online(second_agent)  # online, not Available
    assert assign.assign_waiting(brand.id) == []
    assert Thread.objects.filter(status=ThreadStatus.CLAIMED).count() == 0


def test_an_agent_is_never_assigned_past_their_cap(brand, customer, agent):
    agent.max_held = 2
    agent.save(update_fields=["max_held"])
    for n in range(5):
        make_thread(brand, customer, n)
    available(agent)
    assert len(assign.assign_waiting(brand.id)) == 2
    assert Thread.objects.filter(claimed_by=agent).count() == 2
    held = Thread.objects.filter(claimed_by=agent).first()
    actions.do_close(held.id, agent=agent)  # room again: the next run fills it
    assert len(assign.assign_waiting(brand.id)) == 1
    assert Thread.objects.filter(claimed_by=agent, status=ThreadStatus.CLAIMED).count() == 2


def test_only_threads_of_the_agents_teams_are_assigned(brand, customer, supervisor, agent):
    billing = teams.do_create_team("Billing", agent=supervisor)
    store = teams.do_create_team("Store", agent=supervisor)
    teams.do_set_member(billing.id, agent, agent=supervisor, add=True)
    make_thread(brand, customer, 1, team=store, priority=100)
    mine = make_thread(brand, customer, 2, team=billing)
    available(agent)
    assert assign.assign_waiting(brand.id) == [(mine.id, agent.id)]


def test_going_away_hands_back_unstarted_assignments_only(brand, customer, agent):
    first, second = make_thread(brand, customer, 1, priority=9), make_thread(brand, customer, 2)
    available(agent)
    assign.assign_waiting(brand.id)
    assert actions.do_start_assignment(first.id, agent=agent)  # opened: started
    returned = assign.do_set_available(agent, available=False)
    assert returned == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.claimed_by_id) == (ThreadStatus.CLAIMED, agent.id)
    assert (second.status, second.claimed_by_id) == (ThreadStatus.OPEN, None)
    back = Event.objects.get(thread=second, verb="assignment_returned")
    assert back.detail == {"holder": agent.id, "reason": "away"}
    changed = Event.objects.filter(verb="availability_changed").order_by("id").last()
    assert changed.detail == {"agent": agent.id, "available": False, "returned": 1}
    assert assign.assign_waiting(brand.id) == []  # away: nothing more comes


def test_a_named_claim_is_not_an_assignment_and_stays_when_going_away(brand, customer, agent):
    thread = make_thread(brand, customer, 1)
    available(agent)
    actions.do_claim(thread.id, agent=agent)
    assert assign.do_set_available(agent, available=False) == 0
    thread.refresh_from_db()
    assert thread.claimed_by_id == agent.id


def test_the_sweep_sets_offline_agents_away(brand, customer, agent, second_agent):
    thread = make_thread(brand, customer, 1)
    available(agent)
    assign.assign_waiting(brand.id)
    assign.do_set_available(second_agent, available=True)  # never seen online
    presence.cache.delete(presence._key(brand.id, agent.id))  # their key expired
    assert assign.sweep_away() == 2
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN
    assert not Agent.objects.filter(available_since__isnull=False).exists()
    event = Event.objects.get(verb="assignment_returned")
    assert event.detail["reason"] == "offline"


def test_a_deactivated_agent_cannot_set_themselves_available(deactivated):
    with pytest.raises(actions.ActionError, match="active employee"):
        assign.do_set_available(deactivated, available=True)


def _scheduled(callbacks) -> list[str]:
    return [c.__qualname__ for c in callbacks if "assign_waiting" in c.__qualname__]


@pytest.mark.parametrize("how", ["release", "close", "reply"])
def test_room_freed_schedules_an_assignment_run(
    brand, customer, agent, how, django_capture_on_commit_callbacks
):
    thread = make_thread(brand, customer, 1)
    actions.do_claim(thread.id, agent=agent)
    with django_capture_on_commit_callbacks() as callbacks:
        if how == "release":
            actions.do_release(thread.id, agent=agent)
        elif how == "close":
            actions.do_close(thread.id, agent=agent)
        else:
            actions.do_send_reply(thread.id, agent=agent, text="@kim on its way")
    assert _scheduled(callbacks) == [f"enqueue {schedule.ASSIGN_WAITING}"]


def test_setting_available_schedules_an_assignment_run(agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assign.do_set_available(agent, available=True)
    assert _scheduled(callbacks) == [f"enqueue {schedule.ASSIGN_WAITING}"]


def test_a_thread_offered_to_its_answerer_goes_to_them_not_a_colleague(
    brand, customer, agent, second_agent
):
    offered = make_thread(
        brand,
        customer,
        1,
        offered_to=agent,
        offer_expires_at=timezone.now() + timedelta(minutes=5),
    )
    available(second_agent, agent)
    assert assign.assign_waiting(brand.id) == [(offered.id, agent.id)]


# --- the race: real connections, one per thread --------------------------------------------

# 60 connections at once: the number agreed for one test on the shared server (PostgreSQL's
# max_connections 100, shared with other runs): one per arriving thread, and 10 for the
# 200 agents going Available.
AGENTS, THREADS, SETTERS = 200, 50, 10
CONNECTIONS = THREADS + SETTERS


@pytest.mark.django_db(transaction=True)
def test_200_agents_going_available_while_50_threads_arrive_each_thread_assigned_once(brand):
    """60 real connections, all open at once: 200 agents set Available in 10 of them, each
    followed by an assignment run as the task would; 50 threads arrive, one per
    connection, each commit followed by a run. Caps of 1: any double assignment would
    show."""
    brand.max_held = 1
    brand.save(update_fields=["max_held"])
    agents = [make_agent(brand, f"agent{n:03}", code=f"A{n:03}") for n in range(AGENTS)]
    online(*agents)
    customers = [
        Customer.objects.create(brand=brand, x_user_id=1000 + n, handle=f"c{n}", name=f"C{n}")
        for n in range(THREADS)
    ]

    def go_available(mine: list[Agent]) -> None:
        for agent in mine:
            assign.do_set_available(agent, available=True)
            assign.assign_waiting(brand.id)

    def arrive(customer: Customer) -> None:
        make_thread(brand, customer, customer.x_user_id)
        assign.assign_waiting(brand.id)

    results, backends = run_at_once(
        [partial(go_available, agents[n::SETTERS]) for n in range(SETTERS)]
        + [partial(arrive, customer) for customer in customers]
    )
    assert results == [None] * CONNECTIONS  # no job raised
    assert len(backends) == CONNECTIONS  # 60 backends, all open at the barrier
    presence._written.clear()  # a slow machine: keep everyone online for the backstop
    online(*agents)
    assign.assign_waiting(brand.id)  # the beat's backstop, for a run that found all busy
    assigned = list(Event.objects.filter(verb="assigned").values_list("thread_id", flat=True))
    assert len(assigned) == THREADS
    assert len(set(assigned)) == THREADS  # each thread assigned once
    held = Thread.objects.filter(status=ThreadStatus.CLAIMED).values_list("claimed_by", flat=True)
    assert len(held) == THREADS
    assert len(set(held)) == THREADS  # nobody holds two: the cap of 1 held
    available_now = Agent.objects.filter(available_since__isnull=False).count()
    assert available_now == AGENTS  # every agent's Available went through


# --- the queue page: Available beside "Claim next" -----------------------------------------


def test_the_queue_page_sets_an_agent_available_and_away(client, agent):
    client.force_login(agent.user)
    page = client.get("/").content.decode()
    assert 'data-available="off"' in page
    response = client.post("/available/", {"available": "on"}, follow=True)
    assert "Available: work comes to you" in response.content.decode()
    agent.refresh_from_db()
    assert agent.available_since is not None
    response = client.post("/available/", {"available": "off"}, follow=True)
    assert "Away: nothing more comes to you." in response.content.decode()
    agent.refresh_from_db()
    assert agent.available_since is None


def test_the_availability_post_needs_the_csrf_token(csrf_client, agent):
    csrf_client.force_login(agent.user)
    assert csrf_client.post("/available/", {"available": "on"}).status_code == 403
    agent.refresh_from_db()
    assert agent.available_since is None


def test_the_queue_shows_the_assignment_and_opening_it_starts_it(client, brand, customer, agent):
    thread = make_thread(brand, customer, 1, preview="where is my parcel")
    client.force_login(agent.user)
    client.post("/available/", {"available": "on"})
    assign.assign_waiting(brand.id)
    mine = client.get("/?status=mine").content.decode()
    assert f'href="/t/{thread.id}/"' in mine
    client.get(f"/t/{thread.id}/")
    thread.refresh_from_db()
    assert thread.assigned_at is None  # opened: it stays theirs when they go away
    assert assign.do_set_available(agent, available=False) == 0


# --- reopened threads: back to the answerer only while online with room ---------------------


def _answered_and_closed(thread: Thread, agent: Agent) -> None:
    actions.do_claim(thread.id, agent=agent)
    actions.do_send_reply(thread.id, agent=agent, text="@kim done")
    actions.do_close(thread.id, agent=agent)


@pytest.mark.parametrize("answerer", ["online with room", "offline", "at their cap"])
def test_a_reopened_thread_goes_back_to_its_answerer_only_online_with_room(
    brand, customer, agent, supervisor, answerer
):
    thread = make_thread(brand, customer, 1)
    _answered_and_closed(thread, agent)
    if answerer != "offline":
        online(agent)
    if answerer == "at their cap":
        agent.max_held = 1
        agent.save(update_fields=["max_held"])
        actions.do_claim(make_thread(brand, customer, 2).id, agent=agent)
    actions.do_reopen(thread.id, agent=supervisor)
    thread.refresh_from_db()
    expected = agent.id if answerer == "online with room" else None
    assert (thread.status, thread.offered_to_id) == (ThreadStatus.OPEN, expected)
    if expected is None:  # the team's at once: a colleague's claim next takes it
        assert thread.offer_expires_at is None


def test_a_customer_reopening_goes_to_the_team_at_once_when_the_answerer_is_offline(
    brand, customer, agent, second_agent
):
    from inbox.models import Message

    thread = make_thread(brand, customer, 1)
    _answered_and_closed(thread, agent)
    message = Message.objects.create(
        brand=brand,
        thread=thread,
        x_id=301,
        direction="in",
        author_x_id=customer.x_user_id,
        text="still nothing",
        conversation_id=1,
        sent_at=timezone.now(),
    )
    actions.do_customer_wrote(thread, message)
    thread.refresh_from_db()
    assert (thread.status, thread.offered_to_id) == (ThreadStatus.OPEN, None)
    assert actions.do_claim_next(agent=second_agent).id == thread.id


def test_a_follow_up_claim_is_refused_past_the_cap(brand, customer, agent):
    thread = make_thread(brand, customer, 1)
    actions.do_claim(thread.id, agent=agent)
    actions.do_send_reply(thread.id, agent=agent, text="@kim done")
    agent.max_held = 1
    agent.save(update_fields=["max_held"])
    actions.do_claim(make_thread(brand, customer, 2).id, agent=agent)
    with pytest.raises(actions.ActionError, match="your limit of 1"):
        actions.do_claim_follow_up(thread.id, agent=agent)


def test_an_available_agent_of_another_brand_never_gets_this_brands_threads(brand, customer, agent):
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    outsider = make_agent(other, "olga")
    make_thread(brand, customer, 1)
    available(outsider)
    assert assign.assign_waiting(other.id) == []
    assert assign.assign_waiting(brand.id) == []  # not one of this brand's agents
    assert not Thread.objects.filter(claimed_by=outsider).exists()


def test_each_agent_is_told_of_the_threads_that_came_to_them_in_their_language(
    client, brand, customer, agent, second_agent
):
    """Work that comes to you is told wherever you are (the Open tab does not list it):
    a notification each, the customer's handle and a link, in the reader's language."""
    from inbox.models import Notification

    Agent.objects.filter(id=second_agent.id).update(language="es")
    second_agent.refresh_from_db()
    threads = [make_thread(brand, customer, n, priority=10 - n) for n in range(2)]
    available(agent, second_agent)
    done = dict(assign.assign_waiting(brand.id))
    told = {n.thread_id: n for n in Notification.objects.filter(kind="assigned")}
    assert set(told) == {t.id for t in threads}
    for thread_id, notice in told.items():
        assert notice.agent_id == done[thread_id] and notice.read_at is None
    mine = told[next(t for t, a in done.items() if a == agent.id)]
    assert mine.text == f"A thread with @{customer.handle} came to you (you are Available)."
    theirs = told[next(t for t, a in done.items() if a == second_agent.id)]
    assert (
        theirs.text == f"Te ha llegado la conversación con @{customer.handle} (estás Disponible)."
    )
    client.force_login(agent.user)
    listed = client.get("/notifications/").content.decode()
    assert mine.text in listed and "Te ha llegado" not in listed  # their own only


def test_a_run_that_assigns_nothing_tells_nobody(brand, customer, agent):
    from inbox.models import Notification

    make_thread(brand, customer, 1)
    assert assign.assign_waiting(brand.id) == []  # nobody Available
    assert not Notification.objects.exists()
