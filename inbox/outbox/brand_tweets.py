"""Posting approved brand tweets (inbox.proposals) once, on inbox.outbox.sending's
machinery (`KIND` says what a brand tweet does its own way), and a supervisor's retry or
discard of one X refused.

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
from django.utils.translation import gettext

from inbox import proposals, schedule
from inbox.events import why
from inbox.models import BrandTweet, Verb
from inbox.outbox import sending
from inbox.rules import cost, reasons
from inbox.rules.budget import TWEETS
from inbox.rules.reasons import Reason
from twelp import xgateway

if TYPE_CHECKING:
    from agents.models import Agent

# A worker's clock and X's may disagree: the look-up reads a little further back.
LOOKUP_MARGIN = timedelta(minutes=5)


def _already_posted(tweet: BrandTweet) -> int | None:
    since = (tweet.claimed_at or tweet.created_at) - LOOKUP_MARGIN
    since = min(since, tweet.created_at - LOOKUP_MARGIN)
    return xgateway.find_tweet(author_id=tweet.brand.x_user_id, text=tweet.body, since=since)


def _post(tweet: BrandTweet) -> xgateway.PostedTweet:
    return xgateway.create_tweet(tweet.body)


def _refusal(tweet: BrandTweet, error: xgateway.XError) -> Reason:
    return reasons.make("tweet_refused", detail=str(error))


def mark_posted(tweet: BrandTweet, x_id: int) -> None:
    """X has it: the tweet and its proposal are posted. Caller holds the row lock."""
    sending.mark_posted(tweet, x_id)
    proposals.tweet_posted(tweet)


def mark_failed(tweet: BrandTweet, reason: Reason) -> None:
    """X refused for good: shown to the author and in the audit trail. Caller holds the lock."""
    sending.mark_failed(tweet, reason)
    proposals.tweet_event(tweet, Verb.PROPOSAL_FAILED, None, **why(reason))


KIND = sending.Kind(
    model=BrandTweet,
    related=("brand", "proposal"),
    brand=lambda tweet: tweet.brand,
    budget=lambda tweet: TWEETS,
    cost=lambda tweet: cost.cost_class(
        tweet.body, dm=False, reply=False, prices=cost.current_prices()
    ),
    ahead=lambda tweet, now: 0,  # a supervisor's tweet takes the next free call
    look_up=_already_posted,
    post=_post,
    refusal=_refusal,
    posted=mark_posted,
    failed=mark_failed,
)


def attempt(tweet_id: int) -> sending.Wait | None:
    """Try to post once: when it is due again (sending.Wait), or None when done."""
    return sending.attempt(KIND, tweet_id)


def due_tweets(now: datetime | None = None, limit: int = 500) -> list[int]:
    """The sweep's work: approved tweets due but carried by no task (a dead worker)."""
    now = now or timezone.now()
    return sending.due_rows(BrandTweet.objects.all(), now, limit)


def _lock_failed(tweet_id: int, actor: Agent) -> BrandTweet:
    tweets = BrandTweet.objects.select_related("proposal").filter(brand_id=actor.brand_id)
    return sending.lock_failed(tweets, tweet_id, actor=actor, noun=gettext("brand tweet"))


@transaction.atomic(durable=True)
def do_retry_tweet(tweet_id: int, *, actor: Agent) -> BrandTweet:
    """A supervisor sends a failed brand tweet again: queued afresh, posted after commit."""
    tweet = _lock_failed(tweet_id, actor)
    reason = sending.requeue(tweet)
    proposals.tweet_event(tweet, Verb.PROPOSAL_RETRIED, actor, **why(reason))
    schedule.post_brand_tweet(tweet.id)
    return tweet


@transaction.atomic(durable=True)
def do_discard_tweet(tweet_id: int, *, actor: Agent) -> BrandTweet:
    """A supervisor gives up on a failed brand tweet; its author sees it was discarded."""
    tweet = _lock_failed(tweet_id, actor)
    reason = sending.discard(tweet)
    proposals.tweet_event(tweet, Verb.PROPOSAL_DISCARDED, actor, **why(reason))
    return tweet
