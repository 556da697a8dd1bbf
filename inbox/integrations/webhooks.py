"""Webhook endpoints: admins register, remove and resume them; each subscribed event
becomes a WebhookDelivery row in the event's own transaction (a trigger on inbox_event
and inbox_thread, migration 0021_integrations), posted by inbox.outbox.webhooks.

1. The row first: an event and its deliveries commit together or not at all, whoever
   wrote the event (an action, the poller's batch, claim-next's single statement).
2. Only endpoints not removed get deliveries; a paused endpoint's still accrue, and are
   sent when an admin resumes it (nothing is lost while a receiver is down).
3. Every delivery is signed with the endpoint's secret (header format in
   inbox.outbox.webhooks).
4. An erased customer leaves no personal field in a delivery's body either, sent or not
   (`erase_from_deliveries`, in the erasure's transaction): the body is a copy of the
   Event's detail, which the erasure strips. The delivery keeps its id, so a receiver
   that checks ids still processes a re-sent one once.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ActionError
from inbox.integrations import addresses
from inbox.models import Verb, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from agents.models import Agent

THREAD_CREATED = "thread_created"
# What an admin may subscribe to: (type, label). A type is an Event verb (the payload's
# `type`), or thread_created (a new thread, from the poller or a move to DM).
EVENT_TYPES = [
    (THREAD_CREATED, "Thread created"),
    (Verb.CLAIMED.value, "Thread claimed"),
    (Verb.REPLIED.value, "Answer written (queued to post)"),
    (Verb.REPLY_POSTED.value, "Answer posted on X"),
    (Verb.REPLY_FAILED.value, "Answer refused by X"),
    (Verb.CLOSED.value, "Thread closed"),
    (Verb.REOPENED.value, "Thread reopened (customer wrote again)"),
    (Verb.RELEASED.value, "Claim released"),
    (Verb.REASSIGNED.value, "Thread reassigned"),
    (Verb.NOTED.value, "Note added"),
    (Verb.TAGGED.value, "Customer tagged"),
    (Verb.UNTAGGED.value, "Customer untagged"),
    (Verb.BLOCKED.value, "Customer blocked"),
    (Verb.ANSWER_REVIEWED.value, "Answer reviewed"),
    (Verb.SURVEY_ANSWERED.value, "Satisfaction survey answered"),
    # Issue 20: so a CRM erases its copy too; the body names the customer by row id only.
    (Verb.CUSTOMER_ERASED.value, "Customer erased"),
]
# Besides the Events' personal keys: a DM thread's conversation id is its customer's X id.
DELIVERY_PERSONAL_KEYS = [*events.PERSONAL_KEYS, "conversation_id"]
TYPES = {value for value, _ in EVENT_TYPES}


def add_endpoint(*, actor: Agent, url: str, event_types: list[str]) -> WebhookEndpoint:
    """Check the URL (resolving its host: slow I/O, so before the transaction), then add."""
    if not actor.is_admin:
        raise ActionError(_("Only admins can add webhooks."))
    chosen = sorted(set(event_types))
    if not chosen or not set(chosen) <= TYPES:
        raise ActionError(_("Pick at least one event type from the list."))
    try:
        addresses.check(url)
    except addresses.Refused as why:
        raise ActionError(str(why)) from None
    return _add(actor, url, chosen)


@transaction.atomic(durable=True)
def _add(actor: Agent, url: str, event_types: list[str]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(
        brand_id=actor.brand_id,
        url=url,
        secret="whsec_" + secrets.token_urlsafe(32),
        event_types=event_types,
        created_by=actor,
    )
    events.record(
        Verb.WEBHOOK_ADDED, brand_id=actor.brand_id, actor=actor, webhook=endpoint.id, url=url
    )
    return endpoint


def _locked(endpoint_id: int, actor: Agent) -> WebhookEndpoint:
    if not actor.is_admin:
        raise ActionError(_("Only admins can change webhooks."))
    return WebhookEndpoint.objects.select_for_update().get(
        id=endpoint_id, brand_id=actor.brand_id, removed_at__isnull=True
    )


@transaction.atomic(durable=True)
def remove_endpoint(endpoint_id: int, *, actor: Agent) -> WebhookEndpoint:
    """No new deliveries; those waiting are left unsent (their rows stay, as history)."""
    endpoint = _locked(endpoint_id, actor)
    endpoint.removed_at = timezone.now()
    endpoint.save(update_fields=["removed_at"])
    events.record(
        Verb.WEBHOOK_REMOVED, brand_id=endpoint.brand_id, actor=actor, webhook=endpoint.id
    )
    return endpoint


@transaction.atomic(durable=True)
def resume_endpoint(endpoint_id: int, *, actor: Agent) -> WebhookEndpoint:
    """A paused endpoint sends again: its waiting deliveries go as each comes due."""
    endpoint = _locked(endpoint_id, actor)
    if endpoint.paused_at is None:
        return endpoint
    endpoint.paused_at = None
    endpoint.failing_since = None
    endpoint.save(update_fields=["paused_at", "failing_since"])
    events.record(
        Verb.WEBHOOK_RESUMED, brand_id=endpoint.brand_id, actor=actor, webhook=endpoint.id
    )
    return endpoint


def endpoints_of(brand_id: int) -> list[WebhookEndpoint]:
    return list(
        WebhookEndpoint.objects.filter(brand_id=brand_id, removed_at__isnull=True).order_by(
            "created_at", "id"
        )
    )


def recent_deliveries(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")[:limit])


def erase_from_deliveries(brand_id: int, thread_ids: list[int]) -> int:
    """Rule 4: strip the personal keys from the detail of every delivery of the brand
    about these threads, marked "erased"; how many rows. In the erasure's transaction."""
    if not thread_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_webhookdelivery d SET body = jsonb_set("
            " d.body::jsonb, '{detail}',"
            " ((d.body::jsonb -> 'detail') - %s::text[]) || jsonb_build_object('erased', true)"
            ")::text"
            " FROM inbox_webhookendpoint w"
            " WHERE w.id = d.endpoint_id AND w.brand_id = %s"
            " AND (d.body::jsonb ->> 'thread_id')::bigint = ANY(%s)"
            " AND jsonb_typeof(d.body::jsonb -> 'detail') = 'object'",
            [DELIVERY_PERSONAL_KEYS, brand_id, thread_ids],
        )
        return cursor.rowcount
