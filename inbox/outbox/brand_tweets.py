"""Posting approved brand tweets (inbox.proposals) once, on inbox.outbox.sending's
machinery, and a supervisor's retry or discard of one X refused.

Before re-posting an uncertain attempt it looks on X (xgateway.find_tweet), so a worker
that dies after X accepted the tweet does not post it twice. Every outcome writes an
Event (no thread: the audit trail shows them) and the proposal's side is
inbox.proposals' (`tweet_posted`, `tweet_event`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from inbox import proposals, schedule
from inbox.models import BrandTweet, Verb
from inbox.outbox import sending
from twelp import xgateway

if TYPE_CHECKING:
    from agents.models import Agent

# A worker's clock and X's may disagree: the look-up reads a little further back.
LOOKUP_MARGIN = timedelta(minutes=5)


def attempt(tweet_id: int) -> float | None:
    """Try to post once. Returns seconds until the row is due again, or None when done."""
    claimed = _claim(tweet_id, timezone.now())
    if not isinstance(claimed, tuple):
        return claimed
    tweet, was_sending = claimed
    brand = tweet.brand
    try:
        with xgateway.acting_for(brand):
            found = _already_posted(tweet) if was_sending else None
            posted = None if found is not None else xgateway.create_tweet(tweet.body)
    except xgateway.RateLimited as error:
        sending.pause_brand(brand.id, error.reset_at, refused=tweet)
        return max((error.reset_at - timezone.now()).total_seconds(), 1.0)
    except xgateway.Transient as error:
        return sending.back_off(BrandTweet, tweet.id, str(error))
    except (xgateway.Permanent, xgateway.Unauthorized) as error:
        reason = f"X refused the tweet: {error}"
        sending.finish(BrandTweet, tweet.id, lambda row: mark_failed(row, reason))
        return None
    x_id = found if posted is None else posted.id
    sending.finish(BrandTweet, tweet.id, lambda row: mark_posted(row, x_id))
    if posted and posted.rate_limit_remaining == 0 and posted.rate_limit_reset is not None:
        sending.pause_brand(brand.id, posted.rate_limit_reset)
    return None


@transaction.atomic
def _claim(tweet_id: int, now: datetime):
    tweet = (
        BrandTweet.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("brand", "proposal")
        .filter(id=tweet_id, status__in=sending.PENDING)
        .first()
    )
    if tweet is None:
        return None  # done already, gone, or another worker holds it this instant
    paused = tweet.brand.posting_paused_until
    return sending.begin(tweet, now, paused_until=paused, fail=mark_failed)


def _already_posted(tweet: BrandTweet) -> int | None:
    since = (tweet.claimed_at or tweet.created_at) - LOOKUP_MARGIN
    since = min(since, tweet.created_at - LOOKUP_MARGIN)
    return xgateway.find_tweet(author_id=tweet.brand.x_user_id, text=tweet.body, since=since)


def mark_posted(tweet: BrandTweet, x_id: int) -> None:
    """X has it: the tweet and its proposal are posted. Caller holds the row lock."""
    sending.mark_posted(tweet, x_id)
    proposals.tweet_posted(tweet)


def mark_failed(tweet: BrandTweet, reason: str) -> None:
    """X refused for good: shown to the author and in the audit trail. Caller holds the lock."""
    sending.mark_failed(tweet, reason)
    proposals.tweet_event(tweet, Verb.PROPOSAL_FAILED, None, reason=reason[:200])


def due_tweets(now: datetime | None = None, limit: int = 500) -> list[int]:
    """The sweep's work: approved tweets due but carried by no task (a dead worker)."""
    now = now or timezone.now()
    rows = BrandTweet.objects.exclude(brand__posting_paused_until__gt=now)
    return sending.due_rows(rows, now, limit)


def _lock_failed(tweet_id: int, actor: Agent) -> BrandTweet:
    tweets = BrandTweet.objects.select_related("proposal").filter(brand_id=actor.brand_id)
    return sending.lock_failed(tweets, tweet_id, actor=actor, noun="brand tweet")


@transaction.atomic(durable=True)
def do_retry_tweet(tweet_id: int, *, actor: Agent) -> BrandTweet:
    """A supervisor sends a failed brand tweet again: queued afresh, posted after commit."""
    tweet = _lock_failed(tweet_id, actor)
    reason = sending.requeue(tweet)
    proposals.tweet_event(tweet, Verb.PROPOSAL_RETRIED, actor, reason=reason[:200])
    schedule.post_brand_tweet(tweet.id)
    return tweet


@transaction.atomic(durable=True)
def do_discard_tweet(tweet_id: int, *, actor: Agent) -> BrandTweet:
    """A supervisor gives up on a failed brand tweet; its author sees it was discarded."""
    tweet = _lock_failed(tweet_id, actor)
    reason = sending.discard(tweet)
    proposals.tweet_event(tweet, Verb.PROPOSAL_DISCARDED, actor, reason=reason[:200])
    return tweet
