"""Posting exactly once: the machinery every outbox row shares (a Reply, a BrandTweet).

The outbox row is the truth, and X is called outside transactions. One attempt:
1. Lock the row (SKIP LOCKED: another worker busy with it finishes it). Leave it alone
   unless it is queued/sending and due. Mark it `sending`, with a lease in
   `next_attempt_at` so no second worker posts while this request is in flight (`begin`).
2. If an earlier attempt was `sending` (its worker died, or X timed out), X may already
   have it: the caller looks on X before posting again.
3. Post. Success stores the X id (unique in the database). A 429 puts the row back to
   `queued` until X's reset and pauses the whole brand (one handle, one budget:
   `pause_brand`). A 5xx/timeout leaves it `sending` with a back-off (`back_off`). A
   permanent refusal marks it failed.

This package (sending, replies, brand_tweets) is the only writer of an outbox row's status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from inbox.errors import ActionError
from inbox.live import version
from inbox.models import Brand, ReplyStatus

PENDING = (ReplyStatus.QUEUED, ReplyStatus.SENDING)
MAX_BACKOFF_SECONDS = 300


def in_flight_lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_STUCK_SECONDS)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, MAX_BACKOFF_SECONDS))


def begin(row, now: datetime, *, paused_until: datetime | None, fail: Callable):
    """A locked pending outbox row: seconds to wait; None once `fail` marked it (attempts
    spent); else (row, was it `sending`) with the in-flight lease taken."""
    due = max(filter(None, [row.next_attempt_at, paused_until]), default=now)
    if due > now:
        return (due - now).total_seconds()
    if row.attempts >= settings.POST_REPLY_MAX_ATTEMPTS:
        fail(row, f"X did not accept it after {row.attempts} attempts.")
        return None
    was_sending = row.status == ReplyStatus.SENDING
    row.status = ReplyStatus.SENDING
    row.attempts += 1
    row.claimed_at = now
    row.next_attempt_at = now + in_flight_lease()
    row.save(update_fields=["status", "attempts", "claimed_at", "next_attempt_at"])
    return row, was_sending


def finish(model: type[Model], row_id: int, outcome: Callable) -> None:
    """Apply `outcome` (mark posted or failed) to the row, if it is still `sending`."""
    with transaction.atomic():
        row = model.objects.select_for_update().get(id=row_id)
        if row.status == ReplyStatus.SENDING:
            row.next_attempt_at = None
            outcome(row)


@transaction.atomic
def back_off(model: type[Model], row_id: int, reason: str) -> float:
    """X failed for now (5xx, timeout): try again after a growing wait; its seconds."""
    row = model.objects.select_for_update().get(id=row_id)
    delay = backoff(row.attempts)
    row.next_attempt_at = timezone.now() + delay
    row.last_error = reason[:1000]
    row.save(update_fields=["next_attempt_at", "last_error"])
    return delay.total_seconds()


@transaction.atomic
def pause_brand(brand_id: int, until: datetime, *, refused: Model | None = None) -> None:
    """X said the account's posting budget is spent: hold every row until `until`.
    `refused`, the row X answered 429, was certainly not posted: queued again."""
    Brand.objects.filter(id=brand_id).update(posting_paused_until=until)
    if refused is not None:
        type(refused).objects.filter(id=refused.id, status=ReplyStatus.SENDING).update(
            status=ReplyStatus.QUEUED, next_attempt_at=until, last_error="Posting paused by X"
        )
    transaction.on_commit(lambda: version.bump(brand_id))


def due_rows(rows: QuerySet, now: datetime, limit: int) -> list[int]:
    """The due pending ids of an outbox queryset (Reply or BrandTweet), oldest first."""
    grace = now - timedelta(seconds=5)
    due = Q(next_attempt_at__isnull=True, created_at__lt=grace) | Q(next_attempt_at__lt=grace)
    return list(
        rows.filter(due, status__in=PENDING)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )


def lock_failed(rows: QuerySet, row_id: int, *, actor, noun: str):
    """The failed outbox row `row_id` among `rows`, row-locked, for a supervisor to retry
    or discard; DoesNotExist when none."""
    if not actor.is_supervisor:
        raise ActionError(f"Only supervisors can retry or discard a failed {noun}.")
    row = rows.select_for_update(of=("self",)).get(id=row_id)
    if row.status != ReplyStatus.FAILED:
        raise ActionError(f"This {noun} is {row.get_status_display().lower()}, not failed.")
    return row


def requeue(row) -> str:
    """A locked failed outbox row queued afresh (attempts reset); returns why it had failed.
    The caller schedules its posting on commit."""
    reason = row.last_error
    row.status = ReplyStatus.QUEUED
    row.attempts = 0
    row.claimed_at = None
    row.next_attempt_at = None
    row.last_error = ""
    row.save(update_fields=["status", "attempts", "claimed_at", "next_attempt_at", "last_error"])
    return reason


def discard(row) -> str:
    """A locked failed outbox row given up for good; returns why it had failed."""
    row.status = ReplyStatus.DISCARDED
    row.save(update_fields=["status"])
    return row.last_error


def mark_failed(row, reason: str) -> None:
    """X refused the row for good. Caller holds its lock."""
    row.status = ReplyStatus.FAILED
    row.last_error = reason[:1000]
    row.save(update_fields=["status", "last_error"])


def mark_posted(row, x_id: int, posted_at: datetime | None = None) -> None:
    """X has it, as `x_id`. Caller holds its lock."""
    row.status = ReplyStatus.POSTED
    row.posted_x_id = x_id
    row.posted_at = posted_at or timezone.now()
    row.last_error = ""
    row.save(update_fields=["status", "posted_x_id", "posted_at", "last_error"])
