"""Polling a Source without loss or duplicates: one page loop for every kind of source.

1. One poll per source at a time: a PostgreSQL advisory lock (session level, so it spans
   the HTTP calls); a second poll of the same source returns at once.
2. Fetch every page newer than `since_id`, following `next_token` until it runs out or
   the kind's stop rule says the page is the last (DMs, which X lists without since_id:
   a page that reaches back past the cursor, inbox.ingest.dms). Each page is ingested in
   its own short transaction with ON CONFLICT DO NOTHING (inbox.ingest.store), so a poll
   killed at any point loses nothing and a re-run inserts nothing twice.
3. `since_id` advances only in the transaction of the last page: until then a re-run
   fetches the same pages again (X returns newest first, so advancing earlier would skip
   the older pages of the batch).
4. A 429 parks the source until X's reset; a transient error backs off; a malformed item
   is quarantined (raw + reason, for admins) and never stops the good items of its page.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from inbox.configure import credentials
from inbox.ingest import dms, relay, store, tweets
from inbox.models import Source
from inbox.rules import reasons
from twelp import xgateway

log = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 50  # 5,000 items; X keeps 7 days of search and 30 of DM events anyway


def _newest_tweet(page: xgateway.XPage) -> int | None:
    return page.newest_id


def _never(source: Source, page: object) -> bool:
    return False


@dataclass(frozen=True)
class Kind:
    """How a kind of source is paged: its fetch, the newest id of a page, its stop rule
    besides `next_token` running out, and its page step (one transaction)."""

    fetch: Callable[[Source, str | None], Any]
    ingest_page: Callable[..., None]
    newest: Callable[[Any], int | None] = _newest_tweet
    last: Callable[[Source, Any], bool] = _never


KINDS = {
    Source.Kind.MENTIONS: Kind(tweets.fetch, tweets.ingest_page),
    Source.Kind.SEARCH: Kind(tweets.fetch, tweets.ingest_page),
    Source.Kind.RELAY: Kind(relay.fetch, relay.ingest_page),
    Source.Kind.DMS: Kind(dms.fetch, dms.ingest_page, newest=dms.newest, last=dms.reached),
}


@contextmanager
def source_lock(source_id: int) -> Iterator[bool]:
    """pg_try_advisory_lock: True if this process now polls the source alone."""
    key = zlib.crc32(f"twelp.poll.{source_id}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def poll(source_id: int) -> store.PollResult:
    with source_lock(source_id) as alone:
        if not alone:
            return store.PollResult(source_id, ran=False)
        source = Source.objects.select_related("brand").get(id=source_id)
        why = credentials.problem_reason(source.brand)
        if why:  # no usable credentials: nothing is asked of X (inbox.configure.credentials 1, 4)
            store.park(source, timezone.now() + credentials.HOLD, why)
            return store.PollResult(source_id, error=reasons.english(why))
        try:
            with credentials.acting_for(source.brand):
                return _poll(source, KINDS[source.kind])
        except xgateway.NotConnected as error:
            why = reasons.make("credentials", detail=str(error))
            store.park(source, timezone.now() + credentials.HOLD, why)
            return store.PollResult(source_id, error=str(error))


def _poll(source: Source, kind: Kind) -> store.PollResult:
    result = store.PollResult(source.id, started=timezone.now())
    token: str | None = None
    newest: int | None = None
    try:
        while result.pages < MAX_PAGES_PER_POLL:
            page = kind.fetch(source, token)
            result.pages += 1
            newest = newest or kind.newest(page)  # the first page holds the newest item
            token = page.next_token
            last = token is None or kind.last(source, page) or result.pages == MAX_PAGES_PER_POLL
            kind.ingest_page(source, page, result, advance_to=newest if last else None)
            if last:
                break
    except xgateway.RateLimited as error:
        until = f"{error.reset_at:%H:%M:%S}"
        store.park(source, error.reset_at, reasons.make("rate_limited", until=until))
        result.error = "rate_limited"
    except xgateway.Unauthorized as error:  # X's 401: this brand's pollers stop (credentials 4)
        credentials.mark_revoked(source.brand, str(error))
        why = credentials.problem_reason(source.brand) or reasons.make(
            "credentials", detail=str(error)
        )
        store.park(source, timezone.now() + credentials.HOLD, why)
        result.error = reasons.english(why)
    except store.Unpollable as error:  # ours to say, not X's (inbox.ingest.relay)
        store.park(source, timezone.now() + store.TRANSIENT_BACKOFF, error.reason)
        result.error = str(error)
    except (xgateway.Transient, xgateway.Permanent) as error:
        code = "x_unavailable" if isinstance(error, xgateway.Transient) else "x_request_refused"
        store.park(
            source, timezone.now() + store.TRANSIENT_BACKOFF, reasons.make(code, detail=str(error))
        )
        result.error = str(error)
    return result


def due_slack() -> timedelta:
    """Half of beat's dispatch tick (settings.CELERY_BEAT_SCHEDULE["poll-due-sources"]).

    A poll starts a moment after the tick that dispatched it, so the next one (due
    `poll_interval` after that start) falls a moment after a later tick: counted strictly,
    a 15 s source would wait for the tick after that and be polled every 20 s. A source
    due within half a tick counts as due, so it is polled every 15 s (60 requests per
    15 minutes, README) and never earlier than half a tick before its time.
    """
    tick = settings.CELERY_BEAT_SCHEDULE["poll-due-sources"]["schedule"]
    return timedelta(seconds=float(tick) / 2)


def due_sources(now=None) -> list[int]:
    now = (now or timezone.now()) + due_slack()
    return list(
        Source.objects.filter(active=True)
        .filter(Q(next_poll_after__isnull=True) | Q(next_poll_after__lte=now))
        .values_list("id", flat=True)
    )
