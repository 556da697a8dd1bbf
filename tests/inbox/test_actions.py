"""Each transition of a thread, each illegal one, and the Event each writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import Agent
from inbox import actions, rollups
from inbox.live import presence
from inbox.models import Event, Message, Reply, Rollup, ThreadStatus
from inbox.routing import offer, teams
from inbox.rules import priority
from tests.helpers import make_agent, make_thread


def verbs(thread) -> list[str]:
    return list(Event.objects.filter(thread=thread).order_by("id").values_list("verb", flat=True))


@pytest.fixture
def message_text() -> str:
    return "@acmecares my order is late"


@pytest.fixture
def thread_preview() -> str:
    return "my order is late"


def test_it_claims_an_open_thread_with_an_event(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.CLAIMED
    assert thread.claimed_by == agent
    assert thread.claim_expires_at > timezone.now()
    assert verbs(thread) == ["claimed"]


def test_it_tells_the_loser_who_holds_the_thread(thread, agent, second_agent):
    actions.do_claim(thread.id, agent=agent)
    with pytest.raises(actions.AlreadyClaimed, match="Alice"):
        actions.do_claim(thread.id, agent=second_agent)
    thread.refresh_from_db()
    assert thread.claimed_by == agent
    assert verbs(thread) == ["claimed"]


def test_it_treats_a_second_claim_by_the_holder_as_a_no_op(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    actions.do_claim(thread.id, agent=agent)
    assert verbs(thread) == ["claimed"]


def test_it_refuses_to_claim_a_closed_thread(thread, agent):
    thread.status = ThreadStatus.CLOSED
    thread.save()
    with pytest.raises(actions.ActionError, match="closed"):
        actions.do_claim(thread.id, agent=agent)
    assert verbs(thread) == []


def test_it_claims_next_the_most_urgent_thread_of_about_the_same_age(brand, customer, agent):
    # 4 points of priority outweigh 30 s of waiting (inbox.routing.offer: 20 s a point);
    # an hour would not (tests/inbox/routing/test_offer.py)
    now = timezone.now()
    make_thread(brand, customer, 1, priority=1, waiting_since=now - timedelta(seconds=30))
    urgent = make_thread(brand, customer, 2, priority=5, waiting_since=now)
    assert actions.do_claim_next(agent=agent) == urgent


def test_it_answers_none_when_nothing_is_waiting(brand, agent):
    assert actions.do_claim_next(agent=agent) is None
    assert not Event.objects.exists() and not Rollup.objects.exists()


def test_it_claims_next_with_its_event_and_rollups_in_one_statement(thread, agent):
    agent = Agent.objects.select_related("brand").get(id=agent.id)  # as request.agent is
    with CaptureQueriesContext(connection) as captured:
        claimed = actions.do_claim_next(agent=agent)
    statements = [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]  # the test's
    # The agent's row lock (inbox.routing.capacity: the cap), then the one claim statement.
    assert len(statements) == 2, statements
    assert (
        statements[0].startswith("SELECT 1 FROM agents_agent")
        and "FOR NO KEY UPDATE" in statements[0]
    )
    assert (claimed, claimed.status, claimed.claimed_by) == (thread, "claimed", agent)
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by, thread.preview) == ("claimed", agent, thread.preview)
    assert thread.claim_expires_at > timezone.now()
    event = Event.objects.get(thread=thread)
    assert (event.verb, event.actor, event.brand_id, event.detail) == (
        "claimed",
        agent,
        thread.brand_id,
        {"next": True},
    )
    # One rollup row, the Event's minute and actor (inbox.rollups: compaction spreads it).
    rows = Rollup.objects.filter(claimed=1).values_list("grain", "agent_id", "bucket")
    assert list(rows) == [("e", agent.id, rollups.floor_to(event.at, 1))]
    assert rollups.per_agent_today(agent.brand, timezone.now())[agent.id]["claimed"] == 1


def test_it_claims_next_in_queue_order_also_once_the_statement_is_prepared(brand, customer, agent):
    now = timezone.now()
    threads = [
        make_thread(brand, customer, i, priority=i % 3, waiting_since=now - timedelta(minutes=i))
        for i in range(12)
    ]
    # the offer order (inbox.routing.offer): none is past its SLA target here
    expected = sorted(threads, key=lambda t: (offer.offer_at(t.waiting_since, t.priority), t.id))
    agent.max_held = 13  # past the brand's cap of 5 (inbox.routing.capacity)
    claimed = [actions.do_claim_next(agent=agent) for _ in range(12)]  # past prepare_threshold
    assert claimed == expected
    assert actions.do_claim_next(agent=agent) is None


def test_it_claims_next_the_thread_offered_to_me_before_a_more_urgent_one(
    brand, customer, agent, second_agent
):
    urgent = make_thread(brand, customer, 1, priority=5)
    offered = make_thread(
        brand,
        customer,
        2,
        priority=0,
        offered_to=agent,
        offer_expires_at=timezone.now() + timedelta(minutes=5),
    )
    assert actions.do_claim_next(agent=second_agent) == urgent
    assert actions.do_claim_next(agent=second_agent) is None  # still Alice's offer
    claimed = actions.do_claim_next(agent=agent)
    assert claimed == offered
    offered.refresh_from_db()
    assert (offered.offered_to, offered.offer_expires_at) == (None, None)


def test_it_releases_to_the_queue(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    actions.do_release(thread.id, agent=agent)
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by) == (ThreadStatus.OPEN, None)
    assert verbs(thread) == ["claimed", "released"]


def test_it_lets_only_the_holder_or_a_supervisor_release(thread, agent, second_agent, supervisor):
    actions.do_claim(thread.id, agent=agent)
    with pytest.raises(actions.AlreadyClaimed):
        actions.do_release(thread.id, agent=second_agent)
    actions.do_release(thread.id, agent=supervisor)
    assert Event.objects.get(verb="released").actor == supervisor


def test_it_releases_all_claims_of_a_leaver(brand, customer, agent, admin_agent):
    for conversation in (1, 2):
        actions.do_claim(make_thread(brand, customer, conversation).id, agent=agent)
    assert actions.do_release_all(agent, actor=admin_agent, reason="deactivated") == 2
    assert not agent.claims.filter(status=ThreadStatus.CLAIMED).exists()
    assert Event.objects.filter(verb="released", actor=admin_agent).count() == 2


def test_it_expires_leases_back_to_the_queue(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert actions.do_expire_leases() == 1
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.OPEN
    assert verbs(thread) == ["claimed", "lease_expired"]


def test_it_keeps_a_renewed_lease(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    with time_machine.travel(timezone.now() + timedelta(minutes=4)):
        actions.do_renew(thread.id, agent=agent)
        with time_machine.travel(timezone.now() + timedelta(minutes=4)):
            assert actions.do_expire_leases() == 0


def test_it_refuses_to_renew_a_lost_claim(thread, agent, second_agent):
    actions.do_claim(thread.id, agent=agent)
    actions.do_release(thread.id, agent=agent)
    actions.do_claim(thread.id, agent=second_agent)
    with pytest.raises(actions.ActionError, match="no longer hold"):
        actions.do_renew(thread.id, agent=agent)


def test_it_queues_a_credited_reply_and_schedules_the_post(
    thread, agent, django_capture_on_commit_callbacks
):
    actions.do_claim(thread.id, agent=agent)
    with django_capture_on_commit_callbacks() as callbacks:
        reply = actions.do_send_reply(thread.id, agent=agent, text="@kim Sorry! Checking now.")
    assert reply.body == "@kim Sorry! Checking now. ^AL"
    assert reply.status == "queued"
    assert reply.in_reply_to.x_id == 100
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by, thread.last_answered_by) == (
        ThreadStatus.ANSWERED,
        None,
        agent,
    )
    assert verbs(thread) == ["claimed", "replied"]
    # the queue version bump, post_reply.delay, and an assignment run (issue 15: room freed)
    assert len(callbacks) == 3


def test_it_refuses_a_reply_without_a_claim(thread, agent):
    with pytest.raises(actions.ActionError, match="Claim this thread"):
        actions.do_send_reply(thread.id, agent=agent, text="hello")
    assert not Reply.objects.exists()


def test_it_refuses_a_reply_on_someone_elses_claim(thread, agent, second_agent):
    actions.do_claim(thread.id, agent=agent)
    with pytest.raises(actions.AlreadyClaimed):
        actions.do_send_reply(thread.id, agent=second_agent, text="hello")
    assert not Reply.objects.exists()


def test_it_refuses_a_reply_too_long_with_the_credit(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    text = "a" * 277  # 277 + " ^AL" = 281
    with pytest.raises(actions.ActionError, match="1 character too long"):
        actions.do_send_reply(thread.id, agent=agent, text=text)
    reply = actions.do_send_reply(thread.id, agent=agent, text="a" * 276)
    assert len(reply.body) == 280


def test_it_posts_once_per_client_token(thread, agent):
    import uuid

    token = uuid.uuid4()
    actions.do_claim(thread.id, agent=agent)
    first = actions.do_send_reply(thread.id, agent=agent, text="hi", client_token=token)
    again = actions.do_send_reply(thread.id, agent=agent, text="hi", client_token=token)
    assert first.id == again.id
    assert Reply.objects.count() == 1


def test_it_credits_by_handle_when_the_brand_says_so(thread, agent):
    thread.brand.credit_format = "handle"
    thread.brand.save()
    agent.refresh_from_db()
    actions.do_claim(thread.id, agent=agent)
    reply = actions.do_send_reply(thread.id, agent=agent, text="hi")
    assert reply.body == "hi —@alice_x"


def test_it_closes_an_answered_thread(thread, agent, second_agent):
    actions.do_claim(thread.id, agent=agent)
    actions.do_send_reply(thread.id, agent=agent, text="done")
    actions.do_close(thread.id, agent=second_agent)
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.CLOSED and thread.closed_at is not None
    assert verbs(thread)[-1] == "closed"


def test_it_refuses_to_close_an_unclaimed_open_thread_for_an_agent(thread, agent, supervisor):
    with pytest.raises(actions.ActionError, match="Claim this thread"):
        actions.do_close(thread.id, agent=agent)
    actions.do_close(thread.id, agent=supervisor)
    thread.refresh_from_db()
    assert thread.status == ThreadStatus.CLOSED


def test_it_reopens_when_the_customer_writes_again_offered_to_who_answered(
    thread, agent, second_agent, customer
):
    presence.seen(agent.brand_id, agent.id)  # online, with room (issue 15)
    actions.do_claim(thread.id, agent=agent)
    actions.do_send_reply(thread.id, agent=agent, text="done")
    actions.do_close(thread.id, agent=agent)
    message = Message.objects.create(
        brand=thread.brand,
        thread=thread,
        x_id=300,
        direction="in",
        author_x_id=customer.x_user_id,
        text="still late!",
        conversation_id=100,
        sent_at=timezone.now(),
    )
    actions.do_customer_wrote(thread, message)
    thread.refresh_from_db()
    assert (thread.status, thread.offered_to, thread.preview) == ("open", agent, "still late!")
    assert verbs(thread)[-2:] == ["reopened", "routed"]  # routed again (inbox.routing)
    assert actions.do_claim_next(agent=second_agent) is None  # offered to Alice first
    with pytest.raises(actions.AlreadyClaimed, match="Alice"):
        actions.do_claim(thread.id, agent=second_agent)
    assert actions.do_claim_next(agent=agent) == thread


def test_it_lets_anyone_take_a_reopened_thread_once_the_offer_lapses(thread, agent, second_agent):
    thread.status, thread.offered_to = "open", agent
    thread.offer_expires_at = timezone.now() - timedelta(seconds=1)
    thread.save()
    assert actions.do_claim_next(agent=second_agent) == thread


def test_it_reassigns_only_for_supervisors(thread, agent, second_agent, supervisor):
    actions.do_claim(thread.id, agent=agent)
    with pytest.raises(actions.ActionError, match="Only supervisors"):
        actions.do_reassign(thread.id, to=second_agent, actor=agent)
    actions.do_reassign(thread.id, to=second_agent, actor=supervisor)
    thread.refresh_from_db()
    assert thread.claimed_by == second_agent
    assert verbs(thread) == ["claimed", "reassigned"]


def test_it_refuses_to_reassign_to_a_deactivated_employee(thread, supervisor, deactivated):
    with pytest.raises(actions.ActionError, match="not an active employee"):
        actions.do_reassign(thread.id, to=deactivated, actor=supervisor)


def test_it_never_shows_a_thread_of_another_brand(thread, brand):
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="other", x_user_id=5)
    stranger = make_agent(other, "zed")
    with pytest.raises(Exception, match="does not exist"):
        actions.do_claim(thread.id, agent=stranger)


def _wrote(thread, x_id: int, text: str) -> tuple[Message, priority.Signals]:
    message = Message.objects.create(
        brand=thread.brand,
        thread=thread,
        x_id=x_id,
        direction="in",
        author_x_id=thread.customer.x_user_id,
        text=text,
        conversation_id=thread.conversation_id,
        sent_at=timezone.now(),
    )
    return message, priority.Signals(sentiment=-0.5)


def test_it_applies_a_page_of_follow_ups_as_one_customer_wrote_each(
    brand, customer, agent, second_agent
):
    kinds = [
        {"status": "answered", "last_answered_by": agent, "priority": 1, "sentiment": 0.4},
        {"status": "closed", "closed_at": timezone.now()},
        {"priority": 2, "sentiment": -0.9},  # waiting: keeps its worst mood, its priority
        {"status": "claimed", "claimed_by": second_agent},
    ]
    presence.seen(brand.id, agent.id)  # online, with room: offered back (issue 15)
    batch = [make_thread(brand, customer, n, **kind) for n, kind in enumerate(kinds)]
    alone = [make_thread(brand, customer, 10 + n, **kind) for n, kind in enumerate(kinds)]
    for thread in alone:  # the reference: the one-thread action
        message, signals = _wrote(thread, 100 + thread.conversation_id, "again")
        actions.do_customer_wrote(thread, message, signals=signals)
    wrote = {t.id: _wrote(t, 100 + t.conversation_id, "again") for t in batch}
    actions.do_customers_wrote(brand, wrote)

    def state(thread):
        thread.refresh_from_db()
        return (
            thread.status,
            thread.priority,
            thread.sentiment,
            thread.preview,
            thread.claimed_by_id,
            thread.offered_to_id,
            thread.offer_expires_at is not None,
            thread.closed_at,
        )

    assert [state(t) for t in batch] == [state(t) for t in alone]
    assert [t.status for t in batch] == ["open", "open", "open", "claimed"]
    assert (batch[0].offered_to, batch[0].waiting_since) == (agent, wrote[batch[0].id][0].sent_at)
    reopens = Event.objects.filter(verb="reopened", thread__in=batch).order_by("thread_id")
    assert [(e.thread_id, e.detail, e.actor) for e in reopens] == [
        (batch[0].id, {"message": 100}, None),
        (batch[1].id, {"message": 101}, None),
    ]
    assert verbs(batch[2]) == verbs(batch[3]) == []
    assert sum(Rollup.objects.filter(grain="e").values_list("reopened", flat=True)) == 4
    rollups.compact()
    assert sum(Rollup.objects.filter(grain="q").values_list("reopened", flat=True)) == 4
    assert sum(Rollup.objects.filter(grain="m").values_list("reopened", flat=True)) == 4


def test_it_applies_follow_ups_in_the_same_statements_for_3_threads_or_30(brand, customer, agent):
    teams.default_team(brand.id)  # made once, on the brand's first routing

    def statements(first: int, count: int) -> int:
        threads = [
            make_thread(brand, customer, first + i, status=("answered", "open")[i % 2])
            for i in range(count)
        ]
        wrote = {t.id: _wrote(t, 1000 + t.conversation_id, "hi") for t in threads}
        with CaptureQueriesContext(connection) as captured:
            actions.do_customers_wrote(brand, wrote)
        return len(captured)

    assert statements(0, 3) == statements(100, 30)
