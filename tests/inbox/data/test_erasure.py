"""Erasure and export of one customer (inbox.data.erasure), the actions themselves."""

from __future__ import annotations

import pytest

from inbox import actions
from inbox.customers import add_tag
from inbox.data import audit, erasure
from inbox.errors import ActionError
from inbox.events import seal
from inbox.models import Customer, Event, Message, Note, Quarantine, Reply, Thread, Verb
from tests.helpers import make_thread_with_message


@pytest.fixture
def answered(thread, agent):
    """The customer's thread, tagged, answered (a posted reply to their tweet), closed."""
    add_tag(thread, "vip", agent=agent)
    actions.do_claim(thread.id, agent=agent)
    actions.do_add_note(thread.id, agent=agent, text="Kim's order is #123")
    reply = actions.do_send_reply(thread.id, agent=agent, text="On its way!")
    Reply.objects.filter(id=reply.id).update(status="posted", posted_x_id=777)
    actions.do_close(thread.id, agent=agent)
    Thread.objects.filter(id=thread.id).update(preview="where is my order?")
    return thread


def test_export_holds_everything_about_them(answered, admin_agent, customer, brand):
    data = erasure.export(brand, "@KIM", actor=admin_agent)
    assert data["customer"]["handle"] == "kim" and data["customer"]["tags"] == ["vip"]
    assert [m["text"] for m in data["messages"]] == ["@acmecares where is my order?"]
    assert [r["body"] for r in data["replies"]] == ["On its way! ^AL"]
    assert {"tagged", "claimed", "replied", "closed"} <= {e["verb"] for e in data["events"]}
    event = Event.objects.get(verb=Verb.CUSTOMER_EXPORTED)
    assert event.actor == admin_agent and event.detail == {"customer": customer.id}


def test_it_finds_a_customer_by_x_user_id(customer, brand, admin_agent):
    assert erasure.find(brand, " 42 ") == customer


def test_an_unknown_handle_says_so_and_records_nothing(brand, admin_agent, customer):
    with pytest.raises(ActionError, match="No customer @nobody"):
        erasure.export(brand, "nobody", actor=admin_agent)
    with pytest.raises(ActionError, match="No customer @nobody"):
        erasure.erase(brand, "@nobody", actor=admin_agent)
    assert not Event.objects.filter(verb__startswith="customer_").exists()


def test_another_brands_customer_is_unknown(customer, admin_agent):
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="other", x_user_id=9_000_002)
    with pytest.raises(ActionError):
        erasure.erase(other, "kim", actor=admin_agent)
    customer.refresh_from_db()
    assert customer.erased_at is None


def test_erase_leaves_threads_replies_and_events_with_nothing_personal(
    answered, admin_agent, customer, brand
):
    seal()
    counts = erasure.erase(brand, "kim", actor=admin_agent)
    assert counts == {
        "threads": 1,
        "messages": 1,
        "quarantined": 0,
        "notes": 1,
        "events": 1,
        "webhook_deliveries": 0,
    }
    customer.refresh_from_db()
    assert customer.erased_at is not None and str(customer) == "erased customer"
    assert (customer.handle, customer.name, customer.tags) == ("erased", "erased customer", [])
    assert customer.x_user_id < 0
    assert not Message.objects.filter(thread=answered).exists()
    assert not Note.objects.filter(thread=answered).exists()
    reply = Reply.objects.get(thread=answered)
    assert reply.status == "posted" and reply.in_reply_to is None
    answered.refresh_from_db()
    assert answered.preview == "" and answered.status == "closed"
    tagged = Event.objects.get(verb=Verb.TAGGED)
    assert tagged.detail == {"erased": "customer"}
    erased = Event.objects.get(verb=Verb.CUSTOMER_ERASED)
    assert erased.detail == {"customer": customer.id} and erased.actor == admin_agent
    assert audit.verify(brand).ok  # the sealed, erased detail still verifies
    with pytest.raises(ActionError):  # found by neither handle nor id any more
        erasure.find(brand, "kim")


def test_a_message_a_pending_reply_needs_is_blanked_not_deleted(thread, agent, admin_agent, brand):
    actions.do_claim(thread.id, agent=agent)
    actions.do_send_reply(thread.id, agent=agent, text="Looking into it")  # still queued
    erasure.erase(brand, "kim", actor=admin_agent)
    message = Message.objects.get(thread=thread)
    assert (message.text, message.raw) == ("", {})
    assert Reply.objects.get(thread=thread).in_reply_to == message


def test_their_other_threads_go_too_and_other_customers_stay(thread, customer, brand, admin_agent):
    make_thread_with_message(brand, customer, "second one", conversation_id=200)
    other = Customer.objects.create(brand=brand, x_user_id=43, handle="lee")
    kept = make_thread_with_message(brand, other, "I stay", conversation_id=300)
    actions.do_add_note(kept.id, agent=admin_agent, text="Lee's note stays")
    counts = erasure.erase(brand, "kim", actor=admin_agent)
    assert counts["threads"] == 2 and counts["messages"] == 2 and counts["notes"] == 0
    assert list(Message.objects.values_list("text", flat=True)) == ["I stay"]
    assert list(Note.objects.values_list("text", flat=True)) == ["Lee's note stays"]


def test_their_quarantined_payloads_go_and_others_stay(customer, brand, admin_agent, source):
    Quarantine.objects.create(source=source, raw={"author_id": "42", "text": "x"}, error="bad")
    Quarantine.objects.create(source=source, raw={"author_id": "43", "text": "y"}, error="bad")
    assert erasure.erase(brand, "kim", actor=admin_agent)["quarantined"] == 1
    assert list(Quarantine.objects.values_list("raw__author_id", flat=True)) == ["43"]
