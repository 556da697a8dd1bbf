"""Posting webhook deliveries: the only writer of a WebhookDelivery's status. The same
discipline as the replies' outbox (inbox.outbox.sending), toward a receiver instead of X:

1. The row exists first (a trigger wrote it with its event: inbox.integrations.webhooks).
   A worker claims a batch of due rows (SKIP LOCKED: workers share the queue without
   waiting on each other), marks them `sending` with an in-flight lease in
   `next_attempt_at`, and commits before any request goes out.
2. Each request goes out outside any transaction, to an address checked just before
   (inbox.integrations.addresses, DNS resolved now), with a timeout.
3. A 2xx marks it delivered with the response's status and first bytes. Anything else
   (an error status, a timeout, a refused address) backs off: 10 s, 20 s, 40 s, ... up to
   an hour (WEBHOOK_BACKOFF_SECONDS is the first wait); after WEBHOOK_MAX_ATTEMPTS it is
   failed, kept with its last response.
4. At-least-once: a worker that dies mid-request leaves the row `sending`; the lease runs
   out and another worker sends it again, with the same delivery id, body and a fresh
   signature. Receivers drop a `Twelp-Delivery-Id` they have seen.
5. An endpoint whose every attempt has failed for WEBHOOK_PAUSE_AFTER_HOURS is paused
   (its deliveries wait) and the brand's admins are told: an Event in the audit trail,
   the Integrations page, and an e-mail.

The signature (as Stripe's): header `Twelp-Signature: t=<unix seconds>,v1=<hex>`, where
<hex> is HMAC-SHA256 with the endpoint's secret over `<t>.<raw body>`. A receiver
recomputes it over the raw body it got, compares in constant time, and refuses a `t`
more than five minutes from its clock (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from inbox import events
from inbox.integrations import addresses
from inbox.models import Verb, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

Status = WebhookDelivery.Status
MAX_BACKOFF_SECONDS = 3600
USER_AGENT = "Twelp-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The Twelp-Signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    first = settings.WEBHOOK_BACKOFF_SECONDS
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def deliver_due(limit: int = 20, now: datetime | None = None) -> int:
    """Claim up to `limit` due deliveries and send them; how many were attempted."""
    batch = _claim(limit, now or timezone.now())
    for delivery in batch:
        _send(delivery)
    return len(batch)


@transaction.atomic
def _claim(limit: int, now: datetime) -> list[WebhookDelivery]:
    rows = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint")
        .filter(
            status__in=[Status.PENDING, Status.SENDING],
            next_attempt_at__lte=now,
            endpoint__paused_at__isnull=True,
            endpoint__removed_at__isnull=True,
        )
        .order_by("next_attempt_at")[:limit]
    )
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3 + 30)
    claimed = []
    for row in rows:
        if row.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            row.status = Status.FAILED
            row.save(update_fields=["status"])
            continue
        row.status = Status.SENDING
        row.attempts += 1
        row.next_attempt_at = lease
        claimed.append(row)
    WebhookDelivery.objects.bulk_update(claimed, ["status", "attempts", "next_attempt_at"])
    return claimed


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str
    error: str


def _send(delivery: WebhookDelivery) -> None:
    endpoint = delivery.endpoint
    answer = post(endpoint, delivery)
    ok = answer.status is not None and 200 <= answer.status < 300
    now = timezone.now()
    fields = {
        "response_status": answer.status,
        "response_body": answer.body[:500],
        "last_error": answer.error[:500],
    }
    if ok:
        WebhookDelivery.objects.filter(id=delivery.id, status=Status.SENDING).update(
            status=Status.DELIVERED, delivered_at=now, **fields
        )
        if endpoint.failing_since is not None:  # as loaded with the claim
            WebhookEndpoint.objects.filter(id=endpoint.id).update(failing_since=None)
        return
    WebhookDelivery.objects.filter(id=delivery.id, status=Status.SENDING).update(
        status=Status.PENDING, next_attempt_at=now + backoff(delivery.attempts), **fields
    )
    _failed(endpoint.id, now)


def _failed(endpoint_id: int, now: datetime) -> None:
    """Mark the endpoint failing since now (if not already); pause it past the limit."""
    WebhookEndpoint.objects.filter(id=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    limit = now - timedelta(hours=settings.WEBHOOK_PAUSE_AFTER_HOURS)
    with transaction.atomic():
        paused = WebhookEndpoint.objects.filter(
            id=endpoint_id, paused_at__isnull=True, failing_since__lte=limit
        ).update(paused_at=now)
        if not paused:
            return
        endpoint = WebhookEndpoint.objects.get(id=endpoint_id)
        events.record(
            Verb.WEBHOOK_PAUSED,
            brand_id=endpoint.brand_id,
            webhook=endpoint.id,
            url=endpoint.url,
            failing_since=endpoint.failing_since.isoformat(),
        )
        transaction.on_commit(lambda: _tell_admins(endpoint), robust=True)


def _tell_admins(endpoint: WebhookEndpoint) -> None:
    from agents.models import Agent, AgentState, Role

    emails = list(
        Agent.objects.filter(
            brand_id=endpoint.brand_id, role=Role.ADMIN, state=AgentState.ACTIVE
        ).values_list("user__email", flat=True)
    )
    emails = [e for e in emails if e]
    if emails:
        since = f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
        send_mail(
            "Twelp: a webhook was paused",
            f"Every delivery to {endpoint.url} has failed since {since}, so Twelp paused "
            "it. Its events wait; resume it on the Integrations page once the receiver "
            "works.",
            None,
            emails,
        )


def post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> Answer:
    """POST the delivery's body, signed, to the endpoint's checked address."""
    try:
        host, port, found = addresses.check(endpoint.url)
    except addresses.Refused as why:
        return Answer(None, "", f"Not sent: {why}")
    parts = urlsplit(endpoint.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Twelp-Delivery-Id": str(delivery.id),
        "Twelp-Event": delivery.event_type,
        "Twelp-Signature": sign(endpoint.secret, int(time.time()), body),
        "Host": host if port in (80, 443) else f"{host}:{port}",
    }
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPS(host, port, found[0], timeout)
    else:
        connection = _PinnedHTTP(host, port, found[0], timeout)
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(500).decode("utf-8", "replace")
        return Answer(response.status, text, "" if response.status < 300 else "Not 2xx")
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, "", f"{type(error).__name__}: {error}")
    finally:
        connection.close()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address checked, whatever DNS would answer now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def due_count() -> int:
    return WebhookDelivery.objects.filter(status__in=[Status.PENDING, Status.SENDING]).count()
