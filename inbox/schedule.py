"""Background work enqueued by task name, after the caller's transaction commits.

Modules below `inbox.tasks` (actions, the outbox, ingest) schedule work through here and
never import the tasks module, so the worker imports the actions and not the reverse
(Zulip's `queue_event_on_commit`). The hooks are robust: with the broker down (Redis
restarting) the change has still committed, the row stays due and the outbox sweep
enqueues it later; the failure is logged instead of reaching the user as an error page.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from twelp.celery import app

POST_REPLY = "inbox.tasks.post_reply"
POST_BRAND_TWEET = "inbox.tasks.post_brand_tweet"
POLL_SOURCE = "inbox.tasks.poll_source"
OFFER_SURVEY = "inbox.tasks.offer_survey"
ASSIGN_WAITING = "inbox.tasks.assign_waiting"


def _on_commit(task: str, *args: object) -> None:
    def enqueue() -> None:
        app.send_task(task, args=args)

    enqueue.__qualname__ = f"enqueue {task}"  # a robust hook's error log quotes it
    transaction.on_commit(enqueue, robust=True)


def post_reply(reply_id: int) -> None:
    """Post the reply (inbox.outbox.replies) once the row is committed."""
    _on_commit(POST_REPLY, reply_id)


def post_brand_tweet(tweet_id: int) -> None:
    """Post the approved brand tweet (inbox.outbox.brand_tweets) once it is committed."""
    _on_commit(POST_BRAND_TWEET, tweet_id)


def poll_source(source_id: int) -> None:
    """Poll the source now (inbox.ingest.poll) once the caller's changes are committed."""
    _on_commit(POLL_SOURCE, source_id)


def offer_survey(thread_id: int) -> None:
    """Ask X whether the closed thread's customer receives the brand's DMs, and queue the
    satisfaction survey if so (inbox.outbox.surveys), once the close is committed."""
    _on_commit(OFFER_SURVEY, thread_id)


# Issue 14: an assignment run takes all of the brand's waiting work, so a run that is
# queued and not yet started covers every commit after it. The first commit publishes it
# and marks it due in Redis (one SET NX); later commits publish nothing while it is
# marked; the run unmarks it before it reads anything (`assign_starts`). A run lost (a
# worker killed, the broker down) leaves the mark for ASSIGN_DUE_SECONDS at most, and the
# beat's sweep_availability runs every brand every 15 s meanwhile.
ASSIGN_DUE_SECONDS = 10


def _assign_due_key(brand_id: int) -> str:
    return f"inbox:assign-due:{brand_id}"


def assign(brand_id: int) -> None:
    """Once committed, hand waiting threads to the brand's Available agents
    (inbox.routing.assign): a thread arrived or came back, or someone has room again.
    One run queued at a time per brand (above)."""

    def enqueue() -> None:
        key = _assign_due_key(brand_id)
        if not cache.add(key, 1, ASSIGN_DUE_SECONDS):
            return  # a run is queued and has not started: it will see this commit
        try:
            app.send_task(ASSIGN_WAITING, args=(brand_id,))
        except Exception:
            cache.delete(key)  # not queued after all: the next commit tries again
            raise

    enqueue.__qualname__ = f"enqueue {ASSIGN_WAITING}"
    transaction.on_commit(enqueue, robust=True)


def assign_starts(brand_id: int) -> None:
    """The brand's queued assignment run starts (inbox.tasks): a commit from now on
    queues the next one."""
    cache.delete(_assign_due_key(brand_id))
