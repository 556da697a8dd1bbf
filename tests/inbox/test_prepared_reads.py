"""The thread page's and the send's reads built once per process (twelp.prepared.Prepared,
PreparedRows) answer what the ORM's own QuerySets answer: the budgets' waiting counts, an
answer's place in the outbox's order, the thread's lock, the customer's other threads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox import actions, budgets, queries
from inbox.models import BrandTweet, Customer, Proposal, Reply, Thread
from tests.helpers import make_agent, make_thread, make_thread_with_message
from twelp.prepared import PreparedRows


def _queued(thread: Thread, agent, text: str, *, channel: str = "tweet", **fields) -> Reply:
    return Reply.objects.create(
        thread=thread, agent=agent, channel=channel, text=text, body=text, **fields
    )


@pytest.fixture
def outbox(brand, customer, agent):
    """Queued answers of both kinds across threads that differ in priority and waiting
    time, some of another status, and another brand's, as the order's CASE sees them."""
    now = timezone.now()
    long_ago = make_thread(brand, customer, 1, waiting_since=now - timedelta(days=3))
    urgent = make_thread(
        brand, Customer.objects.create(brand=brand, x_user_id=43, handle="lee"), 2, priority=90
    )
    plain = make_thread(brand, Customer.objects.create(brand=brand, x_user_id=44, handle="max"), 3)
    dm = make_thread(
        brand, Customer.objects.create(brand=brand, x_user_id=45, handle="ned"), 45, channel="dm"
    )
    same_time = now - timedelta(minutes=1)
    replies = [
        _queued(plain, agent, "a"),
        _queued(urgent, agent, "b"),
        _queued(long_ago, agent, "c"),
        _queued(plain, agent, "d", status="sending"),
        _queued(plain, agent, "e", status="posted", posted_x_id=555),
        _queued(dm, agent, "f", channel="dm"),
        _queued(dm, agent, "g", channel="dm", status="sending"),
        _queued(urgent, agent, "h"),
        _queued(plain, agent, "i"),
    ]
    # Two made a minute before the rest: they go first in their classes.
    Reply.objects.filter(id__in=[replies[7].id, replies[8].id]).update(created_at=same_time)
    approved = Proposal.objects.create(
        brand=brand, author=agent, text="Open at 9", credit=" ^AL", body="Open at 9 ^AL",
        status="approved",
    )  # fmt: skip
    BrandTweet.objects.create(brand=brand, proposal=approved, body=approved.body)
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="other", x_user_id=4242)
    stranger = Customer.objects.create(brand=other, x_user_id=42, handle="kim")
    _queued(make_thread(other, stranger, 1), make_agent(other, "olga"), "x")
    return [Reply.objects.select_related("thread__brand").get(id=r.id) for r in replies]


def _ahead_by_the_orm(reply: Reply, now) -> int:
    """inbox.budgets.ahead as it was written with the ORM alone."""
    mine = budgets.order_class(reply, now)
    before = Q(order_class__lt=mine) | Q(order_class=mine, created_at__lt=reply.created_at)
    before |= Q(order_class=mine, created_at=reply.created_at, id__lt=reply.id)
    others = budgets.waiting_in_order(reply.thread.brand, budgets.kind_of(reply.channel), now)
    return others.exclude(id=reply.id).filter(before).count()


def test_each_answers_place_in_line_is_the_orms(outbox):
    now = timezone.now()
    places = {r.text: budgets.ahead(r, now) for r in outbox}
    assert places == {r.text: _ahead_by_the_orm(r, now) for r in outbox}
    # Breached first, then urgent, then the rest; in a class, oldest first (h and i were
    # made a minute older than the rest).
    assert places["c"] == 0 and places["h"] == 1 and places["b"] == 2
    assert places["i"] == 3 and places["a"] == 4
    assert places["f"] == 0  # DMs wait in a line of their own


def test_waiting_counts_are_the_orms(brand, outbox):
    pending = Reply.objects.filter(thread__brand=brand, status__in=budgets.PENDING)
    assert budgets.waiting_counts(brand) == {
        "tweets": pending.filter(channel="tweet").count() + 1,  # the brand tweet
        "dms": pending.filter(channel="dm").count(),
    }
    assert budgets.waiting_counts(brand) == {"tweets": 7, "dms": 2}


def test_prepared_rows_refuse_a_naive_time_and_the_wrong_arguments(brand):
    rows = PreparedRows(
        lambda brand_id, after: Thread.objects.filter(
            brand_id=brand_id, created_at__gt=after
        ).values_list("id"),
        times=1,
    )
    assert rows.count(brand.id, timezone.now() - timedelta(days=1)) == 0
    with pytest.raises(TypeError):
        rows.count(brand.id, timezone.now().replace(tzinfo=None))
    with pytest.raises(TypeError):
        rows.count(brand.id)


def test_the_lock_reads_the_thread_and_its_brand_and_refuses_another_brands(brand, agent, thread):
    from inbox.models import Brand

    with transaction.atomic():
        locked = actions.lock_thread(thread.id, agent)
        assert locked.id == thread.id and locked.status == "open"
        assert Thread.brand.is_cached(locked) and locked.brand.handle == brand.handle
    other = Brand.objects.create(name="Other", handle="other", x_user_id=4242)
    with transaction.atomic(), pytest.raises(Thread.DoesNotExist):
        actions.lock_thread(thread.id, make_agent(other, "olga"))


def test_the_panel_lists_the_customers_other_threads_newest_first(brand, customer, agent):
    current = make_thread_with_message(brand, customer, "@acmecares now", conversation_id=500)
    older = [make_thread(brand, customer, n) for n in (501, 502, 503)]
    _queued(older[0], agent, "answered before")
    Reply.objects.filter(thread=older[0]).update(status="posted", posted_x_id=777)
    found = queries.panel(current)
    assert [t.id for t in found.history] == [t.id for t in reversed(older)]
    assert [r.text for r in found.history[-1].replies.all()] == ["answered before"]
    assert found.more is False
    around = [older[2].id, older[0].id, current.id]  # newest first, itself left out
    assert [t.id for t in queries.panel(older[1]).history] == around


def test_the_thread_pages_reads_come_in_one_round_trip_and_answer_what_the_orm_does(
    brand, customer, agent
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox.models import Mute, Note

    current = make_thread_with_message(brand, customer, "@acmecares now", conversation_id=600)
    older = [make_thread(brand, customer, n) for n in range(601, 601 + queries.HISTORY_LIMIT + 2)]
    for n, past in enumerate(older):  # each its reply, the oldest two beyond the panel's reach
        _queued(past, agent, f"answer {n}")
    _queued(older[-1], agent, "dropped", status="discarded")
    _queued(older[-1], agent, "second")
    _queued(current, agent, "refused here", status="failed")  # no estimate to read
    Note.objects.create(thread=current, agent=agent, text="called the store")
    joiner = make_thread(
        brand, Customer.objects.create(brand=brand, x_user_id=77, handle="jo"), 700
    )
    Thread.objects.filter(id=joiner.id).update(joined=current)
    Mute.objects.create(brand=brand, customer=customer, kind="customer", created_by=agent)

    with CaptureQueriesContext(connection) as captured:
        reads = queries.page_reads(current)
    assert len(captured.captured_queries) == 1  # seven statements, one execute

    assert [m.text for m in reads.said.messages] == [
        m.text for m in queries.conversation(current).messages
    ]
    assert [r.text for r in reads.said.replies] == ["refused here"]
    assert [n.text for n in reads.notes] == ["called the store"]
    assert [t.id for t in reads.joiners] == [joiner.id]
    assert [m.kind for m in reads.panel.mutes] == ["customer"]
    # The panel: the 20 newest other threads, a 21st read to say there are more; each
    # thread's replies as the ORM's prefetch gives them (not discarded, oldest first).
    orm = list(
        Thread.objects.filter(customer=customer).exclude(id=current.id).order_by("-created_at")
    )
    assert [t.id for t in reads.panel.history] == [t.id for t in orm[: queries.HISTORY_LIMIT]]
    assert reads.panel.more is True
    for past in reads.panel.history:
        with CaptureQueriesContext(connection) as again:
            shown = [r.text for r in past.replies.all()]
        assert len(again.captured_queries) == 0  # already read with the page
        expected = (
            Reply.objects.filter(thread=past)
            .exclude(status="discarded")
            .order_by("created_at", "id")
        )
        assert shown == [r.text for r in expected]
    assert [r.text for r in reads.panel.history[0].replies.all()] == [
        f"answer {len(older) - 1}",
        "second",
    ]
