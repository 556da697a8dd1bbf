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
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from inbox import actions, autoreply, live, noise, priority, queries, relay, sentiment
from inbox.models import (
    Brand,
    Channel,
    Customer,
    Message,
    Quarantine,
    Source,
    Thread,
    ThreadStatus,
)
from twelp import xgateway

log = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 50  # 5,000 tweets; X's recent search reaches back 7 days anyway
TRANSIENT_BACKOFF = timedelta(seconds=30)


@dataclass
class PollResult:
    source_id: int
    ran: bool = True
    pages: int = 0
    ingested: int = 0
    skipped: int = 0
    quarantined: int = 0
    error: str = ""
    new_thread_ids: list[int] = field(default_factory=list)


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


def poll(source_id: int) -> PollResult:
    with source_lock(source_id) as alone:
        if not alone:
            return PollResult(source_id, ran=False)
        source = Source.objects.select_related("brand").get(id=source_id)
        with xgateway.acting_for(source.brand):
            if source.kind == Source.Kind.DMS:
                from inbox import dms  # its own cursor rules (no since_id on X's DM events)

                return dms.poll(source)
            return _poll(source)


def _poll(source: Source) -> PollResult:
    result = PollResult(source.id)
    token: str | None = None
    newest: int | None = None
    try:
        while result.pages < MAX_PAGES_PER_POLL:
            page = _fetch(source, token)
            result.pages += 1
            newest = newest or page.newest_id  # the first page holds the newest tweet
            token = page.next_token
            last = token is None or result.pages == MAX_PAGES_PER_POLL
            ingest = relay.ingest_page if source.kind == Source.Kind.RELAY else ingest_page
            ingest(source, page, result, advance_to=newest if last else None)
            if last:
                break
    except xgateway.RateLimited as error:
        _park(source, error.reset_at, f"Rate limited by X until {error.reset_at:%H:%M:%S} UTC")
        result.error = "rate_limited"
    except (xgateway.Transient, xgateway.Unauthorized, xgateway.Permanent) as error:
        _park(source, timezone.now() + TRANSIENT_BACKOFF, f"{type(error).__name__}: {error}")
        result.error = str(error)
    return result


def _fetch(source: Source, token: str | None) -> xgateway.XPage:
    if source.kind == Source.Kind.MENTIONS:
        return xgateway.mentions(
            source.brand.x_user_id, since_id=source.since_id, pagination_token=token
        )
    query = relay.query_for(source.brand) if source.kind == Source.Kind.RELAY else source.query
    return xgateway.search_recent(query, since_id=source.since_id, next_token=token)


def _park(source: Source, until, reason: str) -> None:
    Source.objects.filter(id=source.id).update(
        next_poll_after=until,
        last_error=reason[:1000],
        last_polled_at=timezone.now(),
        rate_limited_until=until if "Rate limited" in reason else None,
    )


@transaction.atomic
def ingest_page(
    source: Source, page: xgateway.XPage, result: PollResult, *, advance_to: int | None
) -> None:
    """One page, one transaction; `advance_to` set on the last page moves since_id."""
    _quarantine(source, page.malformed, result)
    ingest_tweets(source, page.tweets, page.users, result)
    advance_cursor(source, advance_to)


def ingest_tweets(source: Source, tweets, users, result: PollResult) -> None:
    """Customers' tweets into their threads (the caller's transaction); also inbox.relay's."""
    brand = source.brand
    wanted = [t for t in tweets if _wanted(t, brand)]
    relayed = relay.employees_tagged(brand, wanted)  # the relay answers those
    wanted = [t for t in wanted if t.id not in relayed]
    result.skipped += len(tweets) - len(wanted)
    wanted = noise.keep_out(source, wanted, users, result)  # stored, never queued
    if wanted:
        signals = _signals(brand, wanted, users)
        customers = _upsert_customers(brand, wanted, users)
        threads = _threads_for(brand, source, wanted, customers, signals, result)
        fresh = _insert_messages(brand, wanted, threads, signals, result)
        if source.kind != Source.Kind.RELAY:  # an employee is answering those (inbox.relay)
            autoreply.answer(source, fresh, threads, customers)  # out of hours: once per window


def advance_cursor(source: Source, advance_to: int | None) -> None:
    """Record the poll; on the last page (`advance_to` set) move since_id forward."""
    now = timezone.now()
    update = {"last_polled_at": now, "next_poll_after": now + source.poll_interval}
    if advance_to is not None:
        update |= {"last_error": "", "rate_limited_until": None}
        if advance_to > (source.since_id or 0):
            update["since_id"] = advance_to
    Source.objects.filter(id=source.id).update(**update)


def _signals(brand: Brand, tweets, users) -> dict[int, priority.Signals]:
    """{tweet id: its sentiment, its author's reach, whether it says an urgent word}."""
    urgent = priority.keyword_matcher(brand.urgent_keywords or [])
    out = {}
    for tweet in tweets:
        text = tweet.expanded_text
        user = users.get(tweet.author_id)
        out[tweet.id] = priority.Signals(
            followers=user.followers_count if user else 0,
            verified=bool(user and user.verified),
            sentiment=sentiment.score(text),
            urgent=bool(urgent and urgent.search(text)),
        )
    return out


def _wanted(tweet: xgateway.XTweet, brand: Brand) -> bool:
    """Skip the brand's own tweets and plain retweets; keep quotes and replies."""
    return tweet.author_id != brand.x_user_id and not tweet.is_retweet


def _quarantine(source: Source, malformed, result: PollResult) -> None:
    if malformed:
        Quarantine.objects.bulk_create(
            Quarantine(source=source, raw=_jsonable(m.raw), error=m.error[:1000]) for m in malformed
        )
        result.quarantined += len(malformed)


def _jsonable(raw: object) -> object:
    return raw if isinstance(raw, dict | list | str | int | float | bool | None) else repr(raw)


def _upsert_customers(brand: Brand, tweets, users) -> dict[int, int]:
    """{x user id: customer id}, profiles refreshed from this page's `includes.users`."""
    rows = {}
    for tweet in tweets:
        user = users.get(tweet.author_id)
        rows[tweet.author_id] = Customer(
            brand=brand,
            x_user_id=tweet.author_id,
            handle=(user.username if user else str(tweet.author_id))[:15],
            name=(user.name if user else "")[:100],
            followers_count=max(user.followers_count, 0) if user else 0,
            verified=bool(user and user.verified),
            description=user.description if user else "",
            profile_image_url=(user.profile_image_url if user else "")[:200],
        )
    Customer.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["brand", "x_user_id"],
        update_fields=[
            "handle",
            "name",
            "followers_count",
            "verified",
            "description",
            "profile_image_url",
            "updated_at",
        ],
    )
    return dict(
        Customer.objects.filter(brand=brand, x_user_id__in=rows).values_list("x_user_id", "id")
    )


def _threads_for(
    brand, source, tweets, customers, signals: dict[int, priority.Signals], result: PollResult
) -> dict[int, Thread]:
    """{conversation id: thread}: the live thread, else the newest closed one, else new."""
    found = queries.conversation_threads(brand, {t.conversation_id for t in tweets})
    by_conversation: dict[int, list[xgateway.XTweet]] = {}
    for tweet in sorted(tweets, key=lambda t: t.id):
        by_conversation.setdefault(tweet.conversation_id, []).append(tweet)
    new = []
    for conversation, batch in by_conversation.items():
        if conversation in found:
            continue
        urgency = priority.combine(signals[t.id] for t in batch)
        new.append(
            Thread(
                brand=brand,
                source=source,
                customer_id=customers[batch[0].author_id],
                conversation_id=conversation,
                waiting_since=batch[0].created_at,
                preview=batch[-1].expanded_text[:280],
                sentiment=urgency.sentiment,
                priority=priority.score(urgency),
            )
        )
    if new:
        # A concurrent poll of another source may create the same conversation: its row
        # wins (the partial unique index), and we read it back below.
        Thread.objects.bulk_create(new, ignore_conflicts=True)
        for thread in Thread.objects.filter(
            brand=brand,
            channel=Channel.TWEET,
            conversation_id__in=[t.conversation_id for t in new],
        ).exclude(status=ThreadStatus.CLOSED):
            if thread.conversation_id not in found:
                found[thread.conversation_id] = thread
                result.new_thread_ids.append(thread.id)
        transaction.on_commit(lambda: live.bump(brand.id))
    return found


def _insert_messages(
    brand, tweets, threads: dict[int, Thread], signals: dict[int, priority.Signals], result
) -> list[xgateway.XTweet]:
    """Stores the page's new tweets; returns them (those not stored before)."""
    ids = [t.id for t in tweets]
    known = set(Message.objects.filter(brand=brand, x_id__in=ids).values_list("x_id", flat=True))
    fresh = [t for t in tweets if t.id not in known]
    messages = Message.objects.bulk_create(
        [
            Message(
                brand=brand,
                thread=threads[t.conversation_id],
                x_id=t.id,
                channel=Channel.TWEET,
                direction=Message.Direction.IN,
                author_x_id=t.author_id,
                text=t.expanded_text,
                in_reply_to_x_id=t.in_reply_to_tweet_id,
                conversation_id=t.conversation_id,
                sentiment=signals[t.id].sentiment,
                raw=dict(t.raw),
                sent_at=t.created_at,
            )
            for t in fresh
        ],
        ignore_conflicts=True,  # another source's poll may hold the same tweet
    )
    result.ingested += len(fresh)
    new_threads = set(result.new_thread_ids)
    latest: dict[int, xgateway.XTweet] = {}
    batches: dict[int, list[priority.Signals]] = {}
    for tweet in fresh:
        batches.setdefault(tweet.conversation_id, []).append(signals[tweet.id])
        if tweet.id > getattr(latest.get(tweet.conversation_id), "id", 0):
            latest[tweet.conversation_id] = tweet
    by_x_id = {m.x_id: m for m in messages}
    wrote = {
        threads[conversation].id: (by_x_id[tweet.id], priority.combine(batches[conversation]))
        for conversation, tweet in latest.items()
        if threads[conversation].id not in new_threads
    }
    if wrote:  # one batch for the page's follow-ups (BENCHMARKS.md, problem 2)
        actions.do_customers_wrote(brand, wrote)
    return fresh


def due_sources(now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        Source.objects.filter(active=True)
        .filter(Q(next_poll_after__isnull=True) | Q(next_poll_after__lte=now))
        .values_list("id", flat=True)
    )
