"""Posting exactly once: the outbox row is the truth, X is called outside transactions.

One attempt (`attempt`):
1. Lock the row (SKIP LOCKED: another worker busy with it finishes it). Leave it alone
   unless it is queued/sending and due. Mark it `sending`, with a lease in
   `next_attempt_at` so no second worker posts while this request is in flight.
2. If an earlier attempt was `sending` (its worker died, or X timed out), X may already
   have the tweet: look for the brand's reply to that tweet with this body first.
3. Post. Success stores the tweet id (unique in the database). A 429 puts the row back
   to `queued` until X's reset and pauses the whole brand (one handle, one budget).
   A 5xx/timeout leaves it `sending` with a back-off. A permanent refusal marks it
   failed and hands the thread back to its author with the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from inbox import actions, dms, live
from inbox.models import Brand, Channel, Reply, ReplyStatus
from twelp import xgateway

PENDING = (ReplyStatus.QUEUED, ReplyStatus.SENDING)
WAIT_FOR_DM_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 300


def enqueue_on_commit(reply_id: int) -> None:
    """post_reply once the row is committed. With the broker down (Redis restarting) the
    Send has still succeeded: the row stays queued and the sweep enqueues it later, so the
    failure is logged (robust) instead of reaching the agent as an error page."""
    from inbox.tasks import post_reply

    def enqueue_post_reply() -> None:  # named: a robust hook's error log quotes its name
        post_reply.delay(reply_id)

    transaction.on_commit(enqueue_post_reply, robust=True)


def in_flight_lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_STUCK_SECONDS)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, MAX_BACKOFF_SECONDS))


def attempt(reply_id: int) -> float | None:
    """Try to post once. Returns seconds until the row is due again, or None when done."""
    now = timezone.now()
    claimed = _claim(reply_id, now)
    if not isinstance(claimed, tuple):
        return claimed
    reply, was_sending = claimed
    try:
        with xgateway.acting_for(reply.thread.brand):
            found = _already_posted(reply) if was_sending else None
            if found is not None:
                _finish(reply.id, lambda r: actions.mark_posted(r, found))
                _release_waiting(reply.id)
                return None
            posted = _post(reply)
    except xgateway.RateLimited as error:
        _pause_brand(reply, error.reset_at)
        return max((error.reset_at - timezone.now()).total_seconds(), 1.0)
    except xgateway.Transient as error:
        return _back_off(reply.id, str(error))
    except xgateway.DMRefused:
        reason = dms.refused_reason(reply)
        _finish(reply.id, lambda r: actions.mark_failed(r, reason))
        _release_waiting(reply.id)  # its public note fails too: nothing public is posted
        return None
    except (xgateway.Permanent, xgateway.Unauthorized) as error:
        reason = f"X refused the reply: {error}"
        _finish(reply.id, lambda r: actions.mark_failed(r, reason))
        _release_waiting(reply.id)
        return None
    _finish(reply.id, lambda r: actions.mark_posted(r, posted.id))
    _release_waiting(reply.id)
    if posted.rate_limit_remaining == 0 and posted.rate_limit_reset is not None:
        _pause_brand(None, posted.rate_limit_reset, brand_id=reply.thread.brand_id)
    return None


@transaction.atomic
def _claim(reply_id: int, now: datetime) -> tuple[Reply, bool] | float | None:
    reply = (
        Reply.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("thread__brand", "thread__customer", "in_reply_to", "agent", "waits_for")
        .filter(id=reply_id, status__in=PENDING)
        .first()
    )
    if reply is None:
        return None  # done already, gone, or another worker holds it this instant
    if reply.waits_for is not None and reply.waits_for.status != ReplyStatus.POSTED:
        # A move to DM's public note: only once X has the DM it announces.
        if reply.waits_for.status in PENDING:
            return WAIT_FOR_DM_SECONDS
        actions.mark_failed(reply, dms.note_not_sent_reason(reply.waits_for))
        return None
    paused = reply.thread.brand.posting_paused_until
    return _begin(reply, now, paused_until=paused, fail=actions.mark_failed)


def _begin(row, now: datetime, *, paused_until: datetime | None, fail):
    """A locked pending outbox row (a Reply, or inbox.proposals' BrandTweet): seconds to
    wait; None once `fail` marked it (attempts spent); else (row, was it `sending`) with
    the in-flight lease taken."""
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


def _already_posted(reply: Reply) -> int | None:
    if reply.channel == Channel.DM:
        return dms.already_sent(reply)
    if reply.in_reply_to is None:
        return None
    return xgateway.find_reply(
        author_id=reply.thread.brand.x_user_id,
        in_reply_to_tweet_id=reply.in_reply_to.x_id,
        text=reply.body,
    )


def _post(reply: Reply) -> xgateway.PostedTweet:
    # The channel is the thread's (a database trigger keeps them equal): a private answer
    # can only leave as a DM, to the thread's own customer.
    if reply.channel == Channel.DM:
        return xgateway.send_dm(reply.thread.customer.x_user_id, reply.body)
    in_reply_to = reply.in_reply_to.x_id if reply.in_reply_to else None
    return xgateway.create_tweet(reply.body, in_reply_to_tweet_id=in_reply_to)


def _finish(reply_id: int, outcome, *, model=Reply) -> None:
    with transaction.atomic():
        reply = model.objects.select_for_update().get(id=reply_id)
        if reply.status == ReplyStatus.SENDING:
            reply.next_attempt_at = None
            outcome(reply)


def _release_waiting(reply_id: int) -> None:
    """The replies waiting for this one (a move to DM's note) try now: post, or fail."""
    from inbox.tasks import post_reply

    for waiting in Reply.objects.filter(waits_for_id=reply_id, status__in=PENDING).values_list(
        "id", flat=True
    ):
        post_reply.delay(waiting)


@transaction.atomic
def _back_off(reply_id: int, reason: str, *, model=Reply) -> float:
    reply = model.objects.select_for_update().get(id=reply_id)
    delay = backoff(reply.attempts)
    reply.next_attempt_at = timezone.now() + delay
    reply.last_error = reason[:1000]
    reply.save(update_fields=["next_attempt_at", "last_error"])
    return delay.total_seconds()


@transaction.atomic
def _pause_brand(
    reply: Reply | None, until: datetime, *, brand_id: int | None = None, model=Reply
) -> None:
    """X said the account's posting budget is spent: hold every reply until `until`."""
    brand_id = brand_id or reply.thread.brand_id
    Brand.objects.filter(id=brand_id).update(posting_paused_until=until)
    if reply is not None:
        # A 429 means X refused this request: it was certainly not posted.
        model.objects.filter(id=reply.id, status=ReplyStatus.SENDING).update(
            status=ReplyStatus.QUEUED, next_attempt_at=until, last_error="Posting paused by X"
        )
    transaction.on_commit(lambda: live.bump(brand_id))


def due_replies(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Rows whose attempt is due but which no task seems to be carrying: the sweep's work.

    In send order, so the outbox resumes in the order agents pressed Send.
    """
    now = now or timezone.now()
    rows = Reply.objects.exclude(thread__brand__posting_paused_until__gt=now)
    return due_rows(rows, now, limit)


def due_rows(rows: QuerySet, now: datetime, limit: int) -> list[int]:
    """The due pending ids of an outbox queryset (Reply or BrandTweet), oldest first."""
    grace = now - timedelta(seconds=5)
    due = Q(next_attempt_at__isnull=True, created_at__lt=grace) | Q(next_attempt_at__lt=grace)
    return list(
        rows.filter(due, status__in=PENDING)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
