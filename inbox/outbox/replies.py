"""Posting agents' replies (and the brand's auto-replies) once, as a tweet or a DM.

One attempt (`attempt`), on inbox.outbox.sending's machinery (`KIND` says what a reply
does its own way):
1. Lock the reply and take the in-flight lease (`sending.begin`). A move to DM's public
   note waits until X holds the DM it announces, and fails if the DM failed; either way
   the DM's outcome wakes the note (`_release_waiting`).
2. If an earlier attempt was `sending`, look on X for the brand's reply to that tweet (or
   its DM in that conversation) with this body before posting again.
3. Post by the reply's channel, which a database trigger keeps equal to its thread's: a
   private answer can only leave as a DM, to the thread's own customer.
4. The outcome is written on the row here; the thread's side (its first response, its
   message, handing a refused answer back to its author) is inbox.actions'.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox import actions, budgets, events, schedule
from inbox.events import why
from inbox.models import Brand, Channel, Reply, ReplyStatus, Thread, Verb
from inbox.outbox import budget, sending
from inbox.rules import cost, reasons
from inbox.rules.reasons import Reason
from twelp import xgateway

if TYPE_CHECKING:
    from agents.models import Agent

WAIT_FOR_DM_SECONDS = 5.0
CLOCK_SKEW = timedelta(minutes=2)  # between our clock and X's, for the look-up's start


def _hold(reply: Reply) -> float | Reason | None:
    """A move to DM's public note is posted only once X has the DM it announces: seconds
    to wait while the DM is pending, why the note fails if the DM did not go."""
    dm = reply.waits_for
    if dm is None or dm.status == ReplyStatus.POSTED:
        return None
    if dm.status in sending.PENDING:
        return WAIT_FOR_DM_SECONDS
    return note_not_sent_reason(dm)


def _already_posted(reply: Reply) -> int | None:
    if reply.channel == Channel.DM:
        return _already_sent_dm(reply)
    if reply.in_reply_to is None:
        return None
    return xgateway.find_reply(
        author_id=reply.thread.brand.x_user_id,
        in_reply_to_tweet_id=reply.in_reply_to.x_id,
        text=reply.body,
    )


def _already_sent_dm(reply: Reply) -> int | None:
    """The brand's DM with this body in this conversation, sent since the reply was
    written and not recorded for another reply."""
    recorded = Reply.objects.filter(
        thread__brand_id=reply.thread.brand_id,
        channel=Channel.DM,
        posted_x_id__isnull=False,
        created_at__gte=reply.created_at - CLOCK_SKEW,
    ).values_list("posted_x_id", flat=True)
    return xgateway.find_dm(
        author_id=reply.thread.brand.x_user_id,
        participant_id=reply.thread.customer.x_user_id,
        text=reply.body,
        since=reply.created_at - CLOCK_SKEW,
        skip=frozenset(recorded),
    )


def _post(reply: Reply) -> xgateway.PostedTweet:
    if reply.channel == Channel.DM:
        return xgateway.send_dm(reply.thread.customer.x_user_id, reply.body)
    in_reply_to = reply.in_reply_to.x_id if reply.in_reply_to else None
    return xgateway.create_tweet(reply.body, in_reply_to_tweet_id=in_reply_to)


def _refusal(reply: Reply, error: xgateway.XError) -> Reason:
    """Why X refused it, as a code; X's own words kept verbatim as `detail`."""
    if isinstance(error, xgateway.DMRefused):
        return refused_reason(reply)  # its public note fails too: nothing public
    if isinstance(error, xgateway.NotSummoned):
        return reasons.make(
            "not_summoned", handle=reply.thread.customer.handle, brand=reply.thread.brand.handle
        )
    if isinstance(error, xgateway.Permanent) and "403" in str(error):
        return reasons.make("x_forbidden", detail=_plain(error))
    return reasons.make("x_refused", detail=str(error))


def _plain(error: xgateway.XError) -> str:
    """X's words without tweepy's "403 Forbidden" line in front."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[1:]) if len(lines) > 1 else str(error)


def _release_waiting(reply: Reply) -> None:
    """The replies waiting for this one (a move to DM's note) try after commit: post, or fail."""
    for waiting in Reply.objects.filter(
        waits_for_id=reply.id, status__in=sending.PENDING
    ).values_list("id", flat=True):
        schedule.post_reply(waiting)


def mark_posted(reply: Reply, x_id: int) -> None:
    """X has the reply: its id recorded once, and the thread's side (inbox.actions).
    Caller holds the reply's row lock in a transaction."""
    sending.mark_posted(reply, x_id)
    actions.reply_posted(reply)
    _release_waiting(reply)


def mark_failed(reply: Reply, reason: Reason) -> None:
    """X refused for good: the reply is failed and its thread goes back to its author.
    Caller holds the reply's row lock in a transaction."""
    sending.mark_failed(reply, reason)
    actions.reply_refused(reply, reason)
    _release_waiting(reply)


KIND = sending.Kind(
    model=Reply,
    related=("thread__brand", "thread__customer", "in_reply_to", "agent", "waits_for"),
    brand=lambda reply: reply.thread.brand,
    budget=lambda reply: budgets.kind_of(reply.channel),
    cost=lambda reply: cost.cost_class(
        reply.body,
        dm=reply.channel == Channel.DM,
        reply=reply.in_reply_to_id is not None,
        prices=cost.current_prices(),
    ),
    ahead=budgets.ahead,
    look_up=_already_posted,
    post=_post,
    refusal=_refusal,
    posted=mark_posted,
    failed=mark_failed,
    hold=_hold,
)


def attempt(reply_id: int) -> sending.Wait | None:
    """Try to post once: when it is due again (sending.Wait), or None when done."""
    return sending.attempt(KIND, reply_id)


def due_replies(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Replies whose attempt is due but which no task seems to be carrying: the sweep's
    work (at most `limit`), each marked woken (inbox.outbox.sending, 5).

    1. Every reply left `sending` whose in-flight lease ran out (its worker died, or X
       timed out): first, in send order. It must be looked up on X, whatever the budget.
    2. Queued replies, per brand account and kind (posts, DMs): only as many as that
       budget has calls left now (inbox.outbox.budget.left) less the wakes still in
       flight, the first in the outbox's order (inbox.budgets.waiting_in_order:
       SLA-breached, then urgent, then oldest). When a window resets, the waiting
       answers are all due at once: waking them all made a herd (each looked up its place
       in the order, found the window's calls taken by those ahead, and slept again,
       while the heads waited in the broker behind it). Those beyond the budget stay due,
       untouched, for a later sweep.
    3. A reply whose wake is in flight (`woken_at` within sending.WAKE) is not woken
       again: re-waking the same heads every 5 s while they waited in a busy broker
       multiplied them there.
    Nothing is kept between sweeps but the rows and the budgets in the database: each
    sweep decides afresh, so a wake lost with its message (Redis restarted) is woken
    again by the first sweep after its lease, and `take` still checks each woken reply's
    turn.
    """
    now = now or timezone.now()
    due = Reply.objects.filter(sending.due(now))
    woken = list(
        due.filter(status=ReplyStatus.SENDING)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    waiting = (
        due.filter(status=ReplyStatus.QUEUED)
        .values_list("thread__brand_id", "channel")
        .distinct()
        .order_by()
    )
    accounts = sorted({(brand_id, budgets.kind_of(channel)) for brand_id, channel in waiting})
    brands = Brand.objects.in_bulk({brand_id for brand_id, _ in accounts})
    for brand_id, kind in accounts:
        queued = budgets.waiting_in_order(brands[brand_id], kind, now)
        in_flight = queued.filter(sending.woken(now)).count()
        room = min(budget.left(brand_id, kind, now) - in_flight, limit - len(woken))
        if room <= 0:
            continue
        woken += queued.filter(sending.due(now)).values_list("id", flat=True)[:room]
    return sending.mark_woken(Reply, woken, now)


def refused_reason(reply: Reply) -> Reason:
    return reasons.make(
        "dm_refused", handle=reply.thread.customer.handle, brand=reply.thread.brand.handle
    )


def note_not_sent_reason(dm_reply: Reply) -> Reason:
    """The move to DM's public note fails with its DM: the DM's own reason inside."""
    return reasons.make("dm_not_sent", dm=sending.why_failed(dm_reply) or None)


# --- supervisors: failed replies (views in inbox.views.supervision) --------------------


def _lock_failed(reply_id: int, actor: Agent) -> Reply:
    """The failed reply `reply_id` of the actor's brand, row-locked (reply, then thread,
    the outbox's order). Reply.DoesNotExist for another brand's or none."""
    replies = Reply.objects.select_related("agent").filter(thread__brand_id=actor.brand_id)
    return sending.lock_failed(replies, reply_id, actor=actor, noun=gettext("reply"))


@transaction.atomic(durable=True)
def do_retry_reply(reply_id: int, *, actor: Agent) -> Reply:
    """A supervisor sends a failed reply again: queued, attempts reset, posted after
    commit; its thread is answered again (inbox.actions.reply_retried says when not)."""
    reply = _lock_failed(reply_id, actor)
    actions.reply_retried(reply, actor=actor, reason=sending.why_failed(reply))
    sending.requeue(reply)
    schedule.post_reply(reply.id)
    return reply


@transaction.atomic(durable=True)
def do_discard_reply(reply_id: int, *, actor: Agent) -> Reply:
    """A supervisor gives up on a failed reply; its thread stays with whoever has it."""
    reply = _lock_failed(reply_id, actor)
    reason = sending.discard(reply)
    thread = Thread.objects.get(id=reply.thread_id)
    events.record(Verb.REPLY_DISCARDED, thread=thread, actor=actor, reply=reply.id, **why(reason))
    return reply
