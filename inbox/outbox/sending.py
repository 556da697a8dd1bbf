"""Posting exactly once: the machinery every outbox row (inbox.models.OutboxRow) shares.

The outbox row is the truth, and X is called outside transactions. One attempt (`attempt`,
over a `Kind`: what a Reply or a BrandTweet does its own way):
1. Lock the row (SKIP LOCKED: another worker busy with it finishes it). Leave it alone
   unless it is queued/sending and due, and its kind does not hold it back (a move to
   DM's note waits for its DM). Mark it `sending`, with a lease in `next_attempt_at` so no
   second worker posts while this request is in flight (`begin`). Its attempts spent, it
   is failed instead.
2. If an earlier attempt was `sending` (its worker died, or X timed out), X may already
   have it: look on X (the kind's `look_up`) before posting again.
   Before the lease, one call is taken from the row's budget (brand account and kind:
   posts or DMs; inbox.outbox.budget), in the outbox's order: while the answers ahead of
   it use up what X has left, the row stays `queued` until its estimated turn (a `Wait`
   by the sweep).
   Its place in the order is counted only when the budget has a call left: a spent
   budget is one locked row read, however many answers wait.
3. Post. Success stores the X id (unique in the database) and X's headers correct the
   budget. A 429 (the account used elsewhere) puts the row back to `queued` until X's
   reset and empties only that kind's budget (`budget.exhausted`); a 429 on a look-up
   (a read) holds only this row. A 5xx/timeout leaves it `sending` with a back-off
   (`back_off`). A permanent refusal marks it failed. The kind's `posted`/`failed` mark
   the row (with `mark_posted`/`mark_failed` here) and do its side effects in the same
   transaction.
4. Who tries a row again (`retry_after`): its own task for a short wait (a back-off, a DM
   it waits for); the sweep (`due`, and inbox.outbox.replies.due_replies) for a long one
   and for a row waiting its turn in the budget's order. A task that retried itself each
   time it was not its turn made a herd at every reset (BENCHMARKS.md, issue 16, h16):
   thousands of tasks counting their place in the order every few seconds while the
   heads of the order waited behind them in the broker.
5. The sweep's wake is marked on the row (`woken_at`, the `WAKE` lease): while a wake is
   in flight the sweep does not enqueue the row again, and a wake lost with its message
   (Redis restarted) ends with the lease: the row is woken again. Only the database
   remembers it; the task clears it when it runs, in the same UPDATE as what else it
   writes on the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Generic, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.configure import credentials
from inbox.errors import ActionError
from inbox.live import version
from inbox.models import Brand, OutboxRow, ReplyStatus
from inbox.outbox import budget
from inbox.rules import cost, reasons
from inbox.rules.reasons import Reason
from twelp import xgateway

if TYPE_CHECKING:
    from agents.models import Agent

Row = TypeVar("Row", bound=OutboxRow)

PENDING = (ReplyStatus.QUEUED, ReplyStatus.SENDING)
MAX_BACKOFF_SECONDS = 300
RETRY_WITHIN = 60.0  # seconds: a longer wait is the sweep's, not a message in the broker
WAKE = timedelta(seconds=60)  # the sweep's wake in flight (point 5)


@dataclass(frozen=True)
class Wait:
    """`attempt`'s answer for a row not done yet: due again in `seconds`, and whose wake
    that is. `by_sweep`: it waits for its turn in the budget's order, and only the sweep
    wakes it then, first in the order; otherwise its own task may retry (point 4)."""

    seconds: float
    by_sweep: bool = False


def retry_after(wait: Wait | None) -> float | None:
    """What a post task does with `attempt`'s answer: retry itself after this many
    seconds, or None (done, or the sweep wakes it)."""
    if wait is None or wait.by_sweep or wait.seconds > RETRY_WITHIN:
        return None
    return wait.seconds


def _never_held(row: OutboxRow) -> None:
    return None


@dataclass(frozen=True)
class Kind(Generic[Row]):
    """What one kind of outbox row does its own way; `attempt` does the rest."""

    model: type[Row]
    related: tuple[str, ...]  # loaded with the locked row: what the functions below read
    brand: Callable[[Row], Brand]  # whose handle posts it
    budget: Callable[[Row], str]  # which of the account's budgets it spends (tweets, dms)
    ahead: Callable[[Row, datetime], int]  # rows that go before it (inbox.rules.budget)
    look_up: Callable[[Row], int | None]  # X's id for it, if X has it already
    post: Callable[[Row], xgateway.PostedTweet]
    refusal: Callable[[Row, xgateway.XError], Reason]  # X refused it for good: why (a code)
    cost: Callable[[Row], cost.CostClass]  # what X charges for posting it
    posted: Callable[[Row, int], None]  # mark_posted and its side effects
    failed: Callable[[Row, Reason], None]  # mark_failed and its side effects
    # Seconds to wait before it may be tried, or why it fails untried; None: try it now.
    hold: Callable[[Row], float | Reason | None] = _never_held


def attempt(kind: Kind[Row], row_id: int) -> Wait | None:
    """Try to post once. Returns when the row is due again (and who wakes it then), or
    None when done."""
    claimed = _claim(kind, row_id, timezone.now())
    if not isinstance(claimed, tuple):
        return claimed
    row, was_sending = claimed
    brand, spends = kind.brand(row), kind.budget(row)
    try:
        with xgateway.acting_for(brand, credentials.account_for(brand)):
            try:
                found = kind.look_up(row) if was_sending else None
            except xgateway.RateLimited as error:  # a read's window: not the posting budget
                why = reasons.make("lookup_rate_limited")
                return Wait(hold_until(kind.model, row.id, error.reset_at, why))
            posted = None if found is not None else kind.post(row)
    except xgateway.RateLimited as error:
        until = budget.exhausted(brand.id, spends, error.windows, error.reset_at, timezone.now())
        requeue_until(row, until)
        return Wait(max((until - timezone.now()).total_seconds(), 1.0))
    except xgateway.Transient as error:
        why = reasons.make("x_unavailable", detail=str(error))
        return Wait(back_off(kind.model, row.id, why))
    except (xgateway.Unauthorized, xgateway.NotConnected) as error:
        # X's 401, or no usable credentials: certainly not posted. The brand's outbox
        # holds (inbox.configure.credentials 4): queued again, never failed, never another account.
        if isinstance(error, xgateway.Unauthorized):
            credentials.mark_revoked(brand, str(error))
        until = timezone.now() + credentials.HOLD
        why = credentials.problem_reason(brand) or reasons.make("credentials", detail=str(error))
        if was_sending:  # an earlier attempt may have reached X: still looked up first
            return Wait(hold_until(kind.model, row.id, until, why))
        requeue_until(row, until, why)
        return Wait(credentials.HOLD.total_seconds())
    except xgateway.Permanent as error:
        reason = kind.refusal(row, error)
        finish(kind.model, row.id, lambda locked: kind.failed(locked, reason))
        return None
    x_id = found if posted is None else posted.id
    price = kind.cost(row).price
    finish(kind.model, row.id, lambda locked: _posted(kind, locked, x_id, price))
    if posted is not None:
        budget.record(brand.id, spends, posted.windows, timezone.now())
        version.bump(brand.id, [], banner=True)  # what is left of the budget, on every page
    return None


@transaction.atomic
def _claim(kind: Kind[Row], row_id: int, now: datetime) -> tuple[Row, bool] | Wait | None:
    """Step 1: the row with the lease taken and whether it was `sending`; or how long to
    wait; or None when there is nothing to post (done, gone, held by another worker, or
    failed here)."""
    row = (
        kind.model.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(*kind.related)
        .filter(id=row_id, status__in=PENDING)
        .first()
    )
    if row is None:
        return None  # done already, gone, or another worker holds it this instant
    # The sweep's wake has arrived (point 5): every write below clears it in its own
    # UPDATE of the row; the two waits that write nothing else clear it alone.
    woken, row.woken_at = row.woken_at is not None, None
    held = kind.hold(row)
    if isinstance(held, dict):
        kind.failed(row, held)
        return None
    if held is not None:
        return _unwoken(row, woken, Wait(held))
    why = credentials.problem_reason(kind.brand(row))
    if why:  # the brand cannot post (inbox.configure.credentials 1, 4): it waits, untried
        row.next_attempt_at = now + credentials.HOLD
        _note(row, why)
        row.save(update_fields=["next_attempt_at", "last_error", "last_reason", "woken_at"])
        return Wait(credentials.HOLD.total_seconds())
    if row.next_attempt_at is not None and row.next_attempt_at > now:
        return _unwoken(row, woken, Wait((row.next_attempt_at - now).total_seconds()))
    if row.attempts < settings.POST_REPLY_MAX_ATTEMPTS:  # else begin fails it, untried
        turn = budget.take(
            kind.brand(row).id, kind.budget(row), now, ahead=lambda: kind.ahead(row, now)
        )
        if turn is not None:
            return wait_turn(row, turn, now)
    return begin(row, now, paused_until=None, fail=kind.failed)


def _unwoken(row: OutboxRow, woken: bool, wait: Wait) -> Wait:
    """A wait that changes nothing on the row but its wake, if it had one."""
    if woken:
        row.save(update_fields=["woken_at"])
    return wait


def wait_turn(row: OutboxRow, turn: datetime, now: datetime) -> Wait:
    """The budget has no call for this row yet: it waits, as it was, until its turn, when
    the sweep wakes it if it is first in the order then (its wake, if any, has arrived).
    The version bump keeps the estimates shown on pages current."""
    row.next_attempt_at = turn
    row.woken_at = None
    row.save(update_fields=["next_attempt_at", "woken_at"])
    _bump_outbox(row)
    return Wait((turn - now).total_seconds(), by_sweep=True)


def _bump_outbox(row: OutboxRow) -> None:
    """After commit: the row's thread (if it has one) and every page's outbox banner
    changed (inbox.live.version, `banner`), not every thread page's whole."""
    brand_id = getattr(row, "brand_id", None) or row.thread.brand_id  # type: ignore[attr-defined]
    threads = [row.thread_id] if getattr(row, "thread_id", None) else []
    transaction.on_commit(lambda: version.bump(brand_id, threads, banner=True))


def in_flight_lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_STUCK_SECONDS)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, MAX_BACKOFF_SECONDS))


def begin(
    row: Row, now: datetime, *, paused_until: datetime | None, fail: Callable[[Row, Reason], None]
) -> tuple[Row, bool] | Wait | None:
    """A locked pending outbox row: how long to wait; None once `fail` marked it (attempts
    spent); else (row, was it `sending`) with the in-flight lease taken (and the sweep's
    wake, if any, cleared in the same UPDATE)."""
    due = max(filter(None, [row.next_attempt_at, paused_until]), default=now)
    if due > now:
        return Wait((due - now).total_seconds())
    if row.attempts >= settings.POST_REPLY_MAX_ATTEMPTS:
        fail(row, reasons.make("attempts_spent", attempts=row.attempts))
        return None
    was_sending = row.status == ReplyStatus.SENDING
    row.status = ReplyStatus.SENDING
    row.attempts += 1
    row.claimed_at = now
    row.next_attempt_at = now + in_flight_lease()
    row.woken_at = None
    row.save(update_fields=["status", "attempts", "claimed_at", "next_attempt_at", "woken_at"])
    return row, was_sending


def _posted(kind: Kind[Row], row: Row, x_id: int, price: Decimal) -> None:
    row.cost = price
    row.save(update_fields=["cost"])
    kind.posted(row, x_id)


def finish(model: type[Row], row_id: int, outcome: Callable[[Row], None]) -> None:
    """Apply `outcome` (mark posted or failed) to the row, if it is still `sending`."""
    with transaction.atomic():
        row = model.objects.select_for_update().get(id=row_id)
        if row.status == ReplyStatus.SENDING:
            row.next_attempt_at = None
            outcome(row)


@transaction.atomic
def back_off(model: type[OutboxRow], row_id: int, reason: Reason) -> float:
    """X failed for now (5xx, timeout): try again after a growing wait; its seconds."""
    row = model.objects.select_for_update().get(id=row_id)
    delay = backoff(row.attempts)
    row.next_attempt_at = timezone.now() + delay
    _note(row, reason)
    row.save(update_fields=["next_attempt_at", "last_error", "last_reason"])
    return delay.total_seconds()


@transaction.atomic
def hold_until(model: type[OutboxRow], row_id: int, until: datetime, reason: Reason) -> float:
    """The row, still `sending` (uncertain), waits until `until`; its seconds."""
    model.objects.filter(id=row_id).update(
        next_attempt_at=until, last_error=reasons.english(reason)[:1000], last_reason=reason
    )
    return max((until - timezone.now()).total_seconds(), 1.0)


@transaction.atomic
def requeue_until(refused: OutboxRow, until: datetime, reason: Reason | None = None) -> None:
    """X answered 429 (or 401): the row was certainly not posted; queued again until `until`."""
    reason = reason or reasons.make("posting_paused")
    type(refused).objects.filter(id=refused.id, status=ReplyStatus.SENDING).update(
        status=ReplyStatus.QUEUED,
        next_attempt_at=until,
        last_error=reasons.english(reason)[:1000],
        last_reason=reason,
    )
    _bump_outbox(refused)


def due(now: datetime) -> Q:
    """Outbox rows whose attempt is due and which no task seems to be carrying: their
    wait ended (or, never tried, they were queued) over 5 seconds ago, and no wake of
    the sweep's is in flight (point 5). The 5 seconds leave a row to its own task: the
    one scheduled on Send, or a short wait's retry."""
    grace = now - timedelta(seconds=5)
    waited = Q(next_attempt_at__isnull=True, created_at__lt=grace) | Q(next_attempt_at__lt=grace)
    return waited & ~woken(now)


def woken(now: datetime) -> Q:
    """Rows whose wake by the sweep is in flight: its task has not run yet (point 5)."""
    return Q(woken_at__gt=now - WAKE)


def mark_woken(model: type[OutboxRow], ids: list[int], now: datetime) -> list[int]:
    """The sweep enqueues a task for each of `ids`: their wake is in flight."""
    if ids:
        model.objects.filter(id__in=ids).update(woken_at=now)
    return ids


def due_rows(rows: QuerySet[OutboxRow], now: datetime, limit: int) -> list[int]:
    """The due pending ids of an outbox queryset (Reply or BrandTweet), oldest first,
    marked woken."""
    ids = list(
        rows.filter(due(now), status__in=PENDING)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    return mark_woken(rows.model, ids, now)


# --- supervisors: a failed row retried or discarded ------------------------------------


def lock_failed(rows: QuerySet[Row], row_id: int, *, actor: Agent, noun: str) -> Row:
    """The failed outbox row `row_id` among `rows`, row-locked, for a supervisor to retry
    or discard; DoesNotExist when none. Of two supervisors at once, the second finds it
    no longer failed and is told so."""
    if not actor.is_supervisor:
        raise ActionError(
            _("Only supervisors can retry or discard a failed %(noun)s.") % {"noun": noun}
        )
    row = rows.select_for_update(of=("self",)).get(id=row_id)
    if row.status != ReplyStatus.FAILED:
        raise ActionError(
            _("This %(noun)s is %(lower)s, not failed.")
            % {"noun": noun, "lower": row.get_status_display().lower()}
        )
    return row


def why_failed(row: OutboxRow) -> Reason | str:
    """The row's reason as data; a row failed before codes has its English sentence."""
    return row.last_reason or row.last_error


def requeue(row: OutboxRow) -> Reason | str:
    """A locked failed outbox row queued afresh (attempts reset); returns why it had failed.
    The caller schedules its posting on commit."""
    reason = why_failed(row)
    row.status = ReplyStatus.QUEUED
    row.attempts = 0
    row.claimed_at = None
    row.next_attempt_at = None
    row.last_error, row.last_reason = "", None
    row.save(
        update_fields=[
            "status",
            "attempts",
            "claimed_at",
            "next_attempt_at",
            "last_error",
            "last_reason",
        ]
    )
    return reason


def discard(row: OutboxRow) -> Reason | str:
    """A locked failed outbox row given up for good; returns why it had failed."""
    row.status = ReplyStatus.DISCARDED
    row.save(update_fields=["status"])
    return why_failed(row)


# --- the outcome, written on the row (the kind adds its side effects) -------------------


def _note(row: OutboxRow, reason: Reason) -> None:
    """Why, on the row: as data for pages (any language), in English for operators."""
    row.last_reason = reason
    row.last_error = reasons.english(reason)[:1000]


def mark_failed(row: OutboxRow, reason: Reason) -> None:
    """X refused the row for good. Caller holds its lock."""
    row.status = ReplyStatus.FAILED
    row.woken_at = None  # no wake of the sweep's matters any more
    _note(row, reason)
    row.save(update_fields=["status", "last_error", "last_reason", "woken_at"])


def mark_posted(row: OutboxRow, x_id: int) -> None:
    """X has it, as `x_id`. Caller holds its lock."""
    row.status = ReplyStatus.POSTED
    row.posted_x_id = x_id
    row.posted_at = timezone.now()
    row.last_error, row.last_reason = "", None
    row.save(update_fields=["status", "posted_x_id", "posted_at", "last_error", "last_reason"])
