"""The guarantees the database itself enforces."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox.models import Channel, Customer, Message, Reply, Thread
from tests.helpers import make_thread


def make_message(thread: Thread, x_id: int) -> Message:
    return Message.objects.create(
        brand=thread.brand,
        thread=thread,
        x_id=x_id,
        direction=Message.Direction.IN,
        author_x_id=thread.customer.x_user_id,
        text="hello",
        conversation_id=thread.conversation_id,
        sent_at=timezone.now(),
    )


def test_it_refuses_a_duplicate_x_message_id(brand, customer):
    thread = make_thread(brand, customer, 100)
    make_message(thread, 555)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_message(thread, 555)
    assert Message.objects.filter(x_id=555).count() == 1


def test_it_refuses_a_second_live_thread_for_a_conversation(brand, customer):
    make_thread(brand, customer, 100)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_thread(brand, customer, 100, status="answered")
    assert Thread.objects.filter(conversation_id=100).count() == 1


def test_it_allows_a_new_thread_once_the_old_one_is_closed(brand, customer):
    make_thread(brand, customer, 100, status="closed", closed_at=timezone.now())
    make_thread(brand, customer, 100)
    assert Thread.objects.filter(conversation_id=100).count() == 2


def test_it_keeps_a_dm_and_a_tweet_with_the_same_id_apart(brand, customer):
    make_thread(brand, customer, 100)
    make_thread(brand, customer, 100, channel=Channel.DM)
    assert Thread.objects.filter(conversation_id=100).count() == 2


def test_it_refuses_a_claimed_thread_without_an_owner(brand, customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_thread(brand, customer, 100, status="claimed")


def test_it_refuses_a_second_reply_with_the_same_posted_tweet(brand, customer, agent):
    thread = make_thread(brand, customer, 100)
    fields = {"thread": thread, "agent": agent, "text": "hi", "body": "hi ^AL"}
    Reply.objects.create(**fields, status="posted", posted_x_id=777)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reply.objects.create(**fields, status="posted", posted_x_id=777)


def test_it_refuses_a_posted_reply_without_a_tweet_id(brand, customer, agent):
    thread = make_thread(brand, customer, 100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reply.objects.create(thread=thread, agent=agent, text="hi", body="hi", status="posted")


def test_it_refuses_the_same_customer_twice_per_brand(brand, customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(brand=brand, x_user_id=customer.x_user_id, handle="kim2")


def test_it_plans_the_queue_over_its_index(brand, customer):
    """The open queue's first page reads the queue index, not the whole table."""
    from django.db import connection

    Thread.objects.bulk_create(
        Thread(
            brand=brand,
            customer=customer,
            conversation_id=i,
            status=("open", "answered", "closed")[i % 3],
            priority=i % 7,
        )
        for i in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_thread")
        cursor.execute("SET enable_seqscan = off")  # tiny tables may prefer a scan anyway
        query = (
            Thread.objects.filter(brand=brand, status="open")
            .order_by("-priority", "waiting_since", "id")[:50]
            .query
        )
        sql, params = query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "thread_queue_order" in plan
    assert "Sort" not in plan.split("\n")[1], plan  # ordered by the index, not sorted after


def test_it_plans_a_deep_queue_page_as_index_ranges(brand, customer):
    """A page after a cursor reads two ranges of the queue index (the rest of the cursor's
    priority, then the lower ones), never every row before the cursor."""
    from django.db import connection

    from inbox.queries import QUEUE_ORDER, Cursor, _after

    Thread.objects.bulk_create(
        Thread(brand=brand, customer=customer, conversation_id=i, priority=i % 4)
        for i in range(5000)
    )
    middle = Thread.objects.order_by("-priority", "waiting_since", "id")[2500]
    after = Cursor(middle.priority, middle.waiting_since, middle.id)
    rows = Thread.objects.filter(brand=brand, status="open").order_by(*QUEUE_ORDER)  # as queue_page
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_thread")
        cursor.execute("SET enable_seqscan = off")
        sql, params = _after(rows, after).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    scans = [line for line in plan.split("\n") if "Index Cond" in line]
    assert plan.count("Index Scan using thread_queue_order") == 2, plan
    assert any("priority = " in s and "waiting_since >= " in s for s in scans), plan
    assert any("priority < " in s for s in scans), plan
