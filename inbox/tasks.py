"""Every Celery task: shims over the actions, the outbox and ingest; ids in, safe to run
twice. Code below this module schedules them by name (inbox.schedule)."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings

from inbox import actions, events, schedule
from inbox.data import compliance, retention
from inbox.ingest import poll
from inbox.models import Brand
from inbox.outbox import brand_tweets, replies, sending, surveys, webhooks
from inbox.routing import assign
from twelp import xgateway

# A task must end well inside the in-flight lease, or a second worker could post while
# the first is still waiting on X.
POST_TIME_LIMIT = max(settings.OUTBOX_STUCK_SECONDS // 2, 5)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=None,  # attempts are counted on the row (POST_REPLY_MAX_ATTEMPTS)
    time_limit=POST_TIME_LIMIT,
    soft_time_limit=POST_TIME_LIMIT - 2,
)
def post_reply(self, reply_id: int) -> None:
    # Short waits retry here; long ones (X's 15-minute window) and a turn in the budget's
    # order are the sweep's job (inbox.outbox.sending, 4), so no message sits in the
    # broker past its visibility timeout, and no herd retries at a reset.
    retry_in = sending.retry_after(replies.attempt(reply_id))
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=None,  # attempts are counted on the row, as for replies
    time_limit=POST_TIME_LIMIT,
    soft_time_limit=POST_TIME_LIMIT - 2,
)
def post_brand_tweet(self, tweet_id: int) -> None:
    """An approved proposal's tweet (inbox.outbox.brand_tweets), posted as post_reply posts."""
    retry_in = sending.retry_after(brand_tweets.attempt(tweet_id))
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(
    acks_late=True,
    autoretry_for=(xgateway.Transient, xgateway.RateLimited),
    retry_backoff=60,
    max_retries=5,  # then no survey: it is a courtesy, not an answer
    time_limit=60,
    soft_time_limit=55,
)
def offer_survey(thread_id: int) -> None:
    """The satisfaction survey where the customer never DMed us: X says first whether
    they take the brand's DMs (inbox.outbox.surveys)."""
    surveys.offer(thread_id)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=55)
def sweep_outbox() -> int:
    """Re-enqueue replies (and approved brand tweets) whose attempt is due but whose task
    was lost (a dead worker)."""
    due = replies.due_replies()
    for reply_id in due:
        post_reply.delay(reply_id)
    tweets = brand_tweets.due_tweets()
    for tweet_id in tweets:
        post_brand_tweet.delay(tweet_id)
    return len(due) + len(tweets)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=55)
def expire_leases() -> int:
    return actions.do_expire_leases()


@shared_task(acks_late=True, time_limit=120, soft_time_limit=110)
def assign_waiting(brand_id: int) -> int:
    """Hand waiting threads to the brand's Available agents (inbox.routing.assign)."""
    schedule.assign_starts(brand_id)  # before any read: a commit from now on queues another
    return len(assign.assign_waiting(brand_id))


@shared_task(acks_late=True, time_limit=120, soft_time_limit=110)
def sweep_availability() -> int:
    """Available agents seen offline go away; then every brand's waiting threads are
    offered once more (a backstop for an assignment run lost with a worker)."""
    gone = assign.sweep_away()
    for brand_id in Brand.objects.values_list("id", flat=True):
        assign.assign_waiting(brand_id)
    return gone


@shared_task(acks_late=True, time_limit=600, soft_time_limit=570)
def poll_source(source_id: int) -> dict[str, object]:
    """Safe to run twice at once: the second returns at once (advisory lock)."""
    result = poll.poll(source_id)
    return {"ran": result.ran, "ingested": result.ingested, "error": result.error}


@shared_task(acks_late=True, time_limit=30, soft_time_limit=25)
def poll_due_sources() -> int:
    due = poll.due_sources()
    for source_id in due:
        poll_source.delay(source_id)
    return len(due)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def seal_audit() -> int:
    """Seal new Events into their brands' hash chains, a batch at a time (inbox.events)."""
    sealed = 0
    while batch := events.seal():
        sealed += batch
    return sealed


@shared_task(acks_late=True, time_limit=3600, soft_time_limit=3500)
def sweep_retention() -> dict[str, int]:
    """Each brand's retention sweep (inbox.data.retention), then sourceless quarantine."""
    removed = {"threads": 0, "raw_payloads": 0, "quarantined": 0}
    for brand in Brand.objects.order_by("id"):
        run = retention.sweep(brand)
        for kind in removed:
            removed[kind] += getattr(run, kind)
    removed["quarantined"] += retention.sweep_unowned_quarantine()
    return removed


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1750)
def start_x_compliance() -> list[int]:
    """X's batch compliance jobs for every stored tweet and user id (inbox.data.compliance);
    poll_x_compliance applies their results."""
    return [compliance.start(kind).id for kind in compliance.KINDS]


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1750)
def poll_x_compliance() -> int:
    return len(compliance.poll())


WEBHOOK_DRAIN_SECONDS = 40


@shared_task(acks_late=True, time_limit=WEBHOOK_DRAIN_SECONDS + 20, soft_time_limit=55)
def deliver_webhooks() -> int:
    """Send due webhook deliveries (inbox.outbox.webhooks) in batches until none is due or
    WEBHOOK_DRAIN_SECONDS have passed; several workers drain side by side (SKIP LOCKED)."""
    started, sent = time.monotonic(), 0
    while time.monotonic() - started < WEBHOOK_DRAIN_SECONDS:
        batch = webhooks.deliver_due()
        sent += batch
        if not batch:
            break
    return sent
