"""Polling a Source without loss or duplicates.

1. One poll per source at a time: a PostgreSQL advisory lock (session level, so it spans
   the HTTP calls); a second poll of the same source returns at once.
2. Fetch every page newer than `since_id`, following `next_token` until it runs out. Each
   page is ingested in its own short transaction with ON CONFLICT DO NOTHING, so a poll
   killed at any point loses nothing and a re-run inserts nothing twice.
3. `since_id` advances only in the transaction of the last page: until then a re-run
   fetches the same pages again (X returns newest first, so advancing earlier would skip
   the older pages of the batch).
4. A 429 parks the source until X's reset; a transient error backs off; a malformed tweet
   is quarantined (raw + reason, for admins) and never stops the good tweets of its page.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from inbox.ingest import dms, relay, store, tweets
from inbox.models import Source
from twelp import xgateway

log = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 50  # 5,000 tweets; X's recent search reaches back 7 days anyway


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
        with xgateway.acting_for(source.brand):
            if source.kind == Source.Kind.DMS:  # its own cursor rules (no since_id on DMs)
                return dms.poll(source)
            return _poll(source)


def _poll(source: Source) -> store.PollResult:
    result = store.PollResult(source.id)
    token: str | None = None
    newest: int | None = None
    try:
        while result.pages < MAX_PAGES_PER_POLL:
            page = _fetch(source, token)
            result.pages += 1
            newest = newest or page.newest_id  # the first page holds the newest tweet
            token = page.next_token
            last = token is None or result.pages == MAX_PAGES_PER_POLL
            ingest = relay.ingest_page if source.kind == Source.Kind.RELAY else tweets.ingest_page
            ingest(source, page, result, advance_to=newest if last else None)
            if last:
                break
    except xgateway.RateLimited as error:
        store.park(source, error.reset_at, f"Rate limited by X until {error.reset_at:%H:%M:%S} UTC")
        result.error = "rate_limited"
    except (xgateway.Transient, xgateway.Unauthorized, xgateway.Permanent) as error:
        store.park(
            source, timezone.now() + store.TRANSIENT_BACKOFF, f"{type(error).__name__}: {error}"
        )
        result.error = str(error)
    return result


def _fetch(source: Source, token: str | None) -> xgateway.XPage:
    if source.kind == Source.Kind.MENTIONS:
        return xgateway.mentions(
            source.brand.x_user_id, since_id=source.since_id, pagination_token=token
        )
    query = relay.query_for(source.brand) if source.kind == Source.Kind.RELAY else source.query
    return xgateway.search_recent(query, since_id=source.since_id, next_token=token)


def due_sources(now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        Source.objects.filter(active=True)
        .filter(Q(next_poll_after__isnull=True) | Q(next_poll_after__lte=now))
        .values_list("id", flat=True)
    )
