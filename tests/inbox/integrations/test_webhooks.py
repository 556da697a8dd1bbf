"""Outbound webhooks: rows written with their events, signed posts, back-off, pausing, and
no SSRF (inbox.integrations.webhooks, inbox.outbox.webhooks, inbox.integrations.addresses)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from agents.models import Role
from inbox import actions
from inbox.errors import ActionError
from inbox.integrations import addresses, webhooks
from inbox.models import Brand, Event, Thread, WebhookDelivery, WebhookEndpoint
from inbox.outbox import webhooks as sender
from tests.helpers import make_agent
from tests.receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(admin_agent, receiver, thread) -> WebhookEndpoint:
    """Subscribed after `thread` was made: that thread's creation is no delivery."""
    made = webhooks.add_endpoint(
        actor=admin_agent, url=receiver.url, event_types=["noted", "closed", "thread_created"]
    )
    receiver.secret = made.secret
    return made


def test_a_subscribed_event_writes_a_delivery_in_its_own_transaction(endpoint, thread, agent):
    note = actions.do_add_note(thread.id, agent=agent, text="hello")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_type="noted")
    event = Event.objects.get(verb="noted")
    body = json.loads(delivery.body)
    assert delivery.ref_id == event.id and delivery.status == "pending"
    assert body["type"] == "noted" and body["thread_id"] == thread.id
    assert body["detail"]["note"] == note.id and body["at"].endswith("Z")


def test_an_event_rolled_back_leaves_no_delivery(endpoint, thread, agent):
    from inbox import events
    from inbox.models import Verb

    with pytest.raises(RuntimeError), transaction.atomic():
        events.record(Verb.NOTED, thread=thread, actor=agent)
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()


def test_unsubscribed_events_and_other_brands_get_no_delivery(endpoint, thread, agent):
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    boss = make_agent(other, "olga", role=Role.ADMIN)
    webhooks.add_endpoint(actor=boss, url="http://127.0.0.1:9/x", event_types=["noted"])
    actions.do_claim(thread.id, agent=agent)  # "claimed": nobody subscribed
    actions.do_add_note(thread.id, agent=agent, text="ours")
    assert list(WebhookDelivery.objects.values_list("endpoint_id", "event_type")) == [
        (endpoint.id, "noted")
    ]


def test_a_new_thread_is_a_thread_created_delivery(endpoint, brand, customer):
    Thread.objects.bulk_create(
        [Thread(brand=brand, customer=customer, conversation_id=n) for n in (7, 8)]
    )
    rows = WebhookDelivery.objects.filter(event_type="thread_created")
    assert sorted(json.loads(r.body)["detail"]["conversation_id"] for r in rows) == [7, 8]


def test_claim_next_single_statement_event_gets_its_delivery(admin_agent, receiver, thread, agent):
    webhooks.add_endpoint(actor=admin_agent, url=receiver.url, event_types=["claimed"])
    assert actions.do_claim_next(agent=agent) is not None
    assert WebhookDelivery.objects.filter(event_type="claimed").count() == 1


def test_it_posts_signed_and_records_the_response(endpoint, receiver, thread, agent):
    actions.do_add_note(thread.id, agent=agent, text="hello")
    assert sender.deliver_due() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.response_status == 200
    assert delivery.response_body == "ok" and delivery.attempts == 1
    assert receiver.bad_signatures == 0 and len(receiver.received) == 1
    headers = receiver.headers[0]
    assert headers["Twelp-Delivery-Id"] == str(delivery.id)
    assert headers["Twelp-Event"] == "noted"
    assert headers["Twelp-Signature"].startswith("t=")
    assert sender.deliver_due() == 0  # delivered once


def test_a_wrong_secret_fails_the_receivers_check(endpoint, receiver, thread, agent):
    receiver.secret = "whsec_not_it"
    actions.do_add_note(thread.id, agent=agent, text="hello")
    sender.deliver_due()
    assert receiver.bad_signatures == 1
    assert WebhookDelivery.objects.get().status == "pending"


def test_a_failure_backs_off_and_is_retried(endpoint, receiver, thread, agent):
    receiver.fail_share = 1.0
    actions.do_add_note(thread.id, agent=agent, text="hello")
    sender.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.response_status == 500
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=5)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    assert sender.deliver_due() == 0  # not due yet
    receiver.fail_share = 0.0
    sender.deliver_due(now=delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert endpoint.failing_since is None


def test_an_unreachable_receiver_is_a_failure_with_its_error(admin_agent, thread, agent):
    webhooks.add_endpoint(actor=admin_agent, url="http://127.0.0.1:9/gone", event_types=["noted"])
    actions.do_add_note(thread.id, agent=agent, text="hello")
    sender.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.response_status is None
    assert "Error" in delivery.last_error


def test_attempts_spent_is_failed(endpoint, receiver, thread, agent, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.fail_share = 1.0
    actions.do_add_note(thread.id, agent=agent, text="hello")
    sender.deliver_due()
    later = timezone.now() + timedelta(hours=2)
    sender.deliver_due(now=later)
    assert WebhookDelivery.objects.get().status == "failed"


def test_failing_for_a_day_pauses_the_endpoint_and_tells_admins(
    endpoint, receiver, thread, agent, admin_agent, django_capture_on_commit_callbacks
):
    receiver.fail_share = 1.0
    WebhookEndpoint.objects.filter(id=endpoint.id).update(
        failing_since=timezone.now() - timedelta(hours=25)
    )
    actions.do_add_note(thread.id, agent=agent, text="hello")
    with django_capture_on_commit_callbacks(execute=True):
        sender.deliver_due()
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert Event.objects.filter(verb="webhook_paused", detail__webhook=endpoint.id).exists()
    assert [m.to for m in mail.outbox] == [[admin_agent.user.email]]
    # Paused: its deliveries wait, even when due.
    receiver.fail_share = 0.0
    assert sender.deliver_due(now=timezone.now() + timedelta(hours=2)) == 0
    webhooks.resume_endpoint(endpoint.id, actor=admin_agent)
    assert sender.deliver_due(now=timezone.now() + timedelta(hours=2)) == 1


def test_a_removed_endpoint_gets_no_new_deliveries(endpoint, admin_agent, thread, agent):
    webhooks.remove_endpoint(endpoint.id, actor=admin_agent)
    actions.do_add_note(thread.id, agent=agent, text="hello")
    assert not WebhookDelivery.objects.exists()


# --- SSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://user:pw@example.com/hook",
    ],
)
def test_production_refuses_private_loopback_and_plain_urls(settings, admin_agent, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ActionError):
        webhooks.add_endpoint(actor=admin_agent, url=url, event_types=["noted"])
    assert not WebhookEndpoint.objects.exists()


def test_production_accepts_a_public_address(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    host, port, found = addresses.check("https://8.8.8.8/hook")
    assert (host, port, found) == ("8.8.8.8", 443, ["8.8.8.8"])


def test_delivery_time_checks_the_address_again(settings, endpoint, receiver, thread, agent):
    """Registered while allowed, then the rule tightens (or DNS now points inside): the
    delivery is not sent, and says why."""
    actions.do_add_note(thread.id, agent=agent, text="hello")
    settings.WEBHOOK_ALLOW_PRIVATE = False
    sender.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "Not sent" in delivery.last_error
    assert receiver.seen == {}


def test_only_admins_add_webhooks(supervisor):
    with pytest.raises(ActionError):
        webhooks.add_endpoint(actor=supervisor, url="https://8.8.8.8/", event_types=["noted"])


def test_unknown_event_types_are_refused(admin_agent):
    with pytest.raises(ActionError):
        webhooks.add_endpoint(actor=admin_agent, url="http://127.0.0.1:9/", event_types=["x"])


def test_an_erasure_is_an_event_type_and_strips_the_deliveries_copies(
    admin_agent, thread, agent, brand, customer
):
    from inbox.customers import add_tag
    from inbox.data import erasure

    made = webhooks.add_endpoint(
        actor=admin_agent,
        url="http://127.0.0.1:9/x",
        event_types=["tagged", "customer_erased", "thread_created"],
    )
    other = Thread.objects.create(brand=brand, customer=customer, conversation_id=42, channel="dm")
    add_tag(thread, "vip-kim", agent=agent)
    erasure.erase(brand, "kim", actor=admin_agent)
    bodies = {
        row.event_type: json.loads(row.body)
        for row in WebhookDelivery.objects.filter(endpoint=made)
    }
    assert bodies["tagged"]["detail"]["erased"] is True
    assert "vip-kim" not in json.dumps(bodies["tagged"])
    created = bodies["thread_created"]
    assert created["thread_id"] == other.id and "conversation_id" not in created["detail"]
    assert bodies["customer_erased"]["detail"] == {"customer": customer.id}
