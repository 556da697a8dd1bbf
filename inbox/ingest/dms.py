"""Direct messages: polling the brand's DM events into private threads.

A DM is private: its thread has channel "dm", is never on the public stream, and every
answer to it leaves as a DM (the outbox sends by the reply's channel, which a database
trigger keeps equal to its thread's: migration inbox 0006).

Polled by inbox.ingest.poll's page loop, under the same advisory lock as every source; this
module gives it the DM's fetch, stop rule and page step:

1. X's GET /2/dm_events has no since_id: it lists every event, newest first. The cursor
   is `Source.since_id`, the newest event id of the last complete poll. Pages are fetched
   until one reaches back past the cursor (less an overlap, `OVERLAP`, for events that
   become visible a little late: `reached`), or `next_token` runs out.
2. Each page is ingested in its own short transaction; an event already stored is skipped
   (unique x_id, ON CONFLICT DO NOTHING), so pages fetched twice insert nothing twice.
3. `since_id` moves only with the last page of a poll: a poll killed half-way leaves the
   cursor where it was, and the next one fetches the same pages again. Nothing is skipped.
4. Only MessageCreate events the customer sent become messages; the brand's own DMs (our
   answers, stored by the outbox when posted) and group conversations are skipped.

One thread per one-to-one conversation: its `conversation_id` is the customer's X user id
(X names the conversation "<smaller id>-<larger id>"; the raw name is kept in the message).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from inbox import actions
from inbox.ingest import store
from inbox.live import version
from inbox.models import (
    Brand,
    Channel,
    Customer,
    Message,
    Source,
    Thread,
    ThreadStatus,
)
from inbox.rules import priority, sentiment
from twelp import xgateway

OVERLAP = timedelta(seconds=10)  # re-read behind the cursor: an event visible late is kept
SNOWFLAKE_SEQUENCE_BITS = 22  # X's ids: milliseconds << 22, so an id carries its time


def fetch(source: Source, token: str | None) -> xgateway.DMPage:
    return xgateway.dm_events(pagination_token=token)


def newest(page: xgateway.DMPage) -> int | None:
    return max((m.id for m in page.messages), default=None)


def reached(source: Source, page: xgateway.DMPage) -> bool:
    """The page reaches back past the cursor, less the overlap: the poll's last page."""
    if source.since_id is None:
        return False
    overlap_ms = int(OVERLAP.total_seconds() * 1000)
    stop_below = source.since_id - (overlap_ms << SNOWFLAKE_SEQUENCE_BITS)
    return any(m.id <= stop_below for m in page.messages)


def customer_of(message: xgateway.XDirectMessage, brand: Brand) -> int | None:
    """The customer's X id for a one-to-one DM they sent to the brand, else None."""
    if message.sender_id == brand.x_user_id:
        return None  # our own answer: the outbox stored it when X accepted it
    pair = message.conversation_id.split("-")
    if message.conversation_id and (len(pair) != 2 or str(brand.x_user_id) not in pair):
        return None  # a group conversation: Twelp answers one customer at a time
    return message.sender_id


@transaction.atomic
def ingest_page(
    source: Source, page: xgateway.DMPage, result: store.PollResult, *, advance_to: int | None
) -> None:
    """One page, one transaction; `advance_to` set on the last page moves since_id."""
    brand = source.brand
    wanted = [m for m in page.messages if customer_of(m, brand) is not None]
    result.skipped += len(page.messages) - len(wanted)
    store.quarantine(source, page.malformed, result)
    known = set(
        Message.objects.filter(brand=brand, x_id__in=[m.id for m in wanted]).values_list(
            "x_id", flat=True
        )
    )
    fresh = sorted((m for m in wanted if m.id not in known), key=lambda m: m.id)
    if fresh:
        signals = _signals(brand, fresh, page.users)
        customers = _upsert_customers(brand, fresh, page.users)
        threads = _threads_for(brand, source, fresh, customers, signals, result)
        _insert_messages(brand, fresh, threads, signals, result)
    now = timezone.now()
    update = {"last_polled_at": now, "next_poll_after": now + source.poll_interval}
    if advance_to is not None:
        update |= {"last_error": "", "rate_limited_until": None}
        if advance_to > (source.since_id or 0):
            update["since_id"] = advance_to
    Source.objects.filter(id=source.id).update(**update)


def _signals(brand: Brand, messages, users) -> dict[int, priority.Signals]:
    urgent = priority.keyword_matcher(brand.urgent_keywords or [])
    out = {}
    for message in messages:
        user = users.get(message.sender_id)
        out[message.id] = priority.Signals(
            followers=user.followers_count if user else 0,
            verified=bool(user and user.verified),
            sentiment=sentiment.score(message.text),
            urgent=bool(urgent and urgent.search(message.text)),
        )
    return out


def _upsert_customers(brand: Brand, messages, users) -> dict[int, int]:
    """{x user id: customer id}; a sender X did not describe keeps the profile we have."""
    ids = {m.sender_id for m in messages}
    described = [users[i] for i in ids if i in users]
    Customer.objects.bulk_create(
        [
            Customer(
                brand=brand,
                x_user_id=user.id,
                handle=user.username[:15],
                name=user.name[:100],
                followers_count=max(user.followers_count, 0),
                verified=user.verified,
                description=user.description,
                profile_image_url=user.profile_image_url[:200],
            )
            for user in described
        ],
        update_conflicts=True,
        unique_fields=["brand", "x_user_id"],
        update_fields=["handle", "name", "followers_count", "verified", "updated_at"],
    )
    Customer.objects.bulk_create(
        [Customer(brand=brand, x_user_id=i, handle=str(i)[:15]) for i in ids if i not in users],
        ignore_conflicts=True,
    )
    return dict(
        Customer.objects.filter(brand=brand, x_user_id__in=ids).values_list("x_user_id", "id")
    )


def dm_threads(brand: Brand, customer_x_ids) -> dict[int, Thread]:
    """{customer x id: their DM thread}: the live one, else the newest closed one."""
    found: dict[int, Thread] = {}
    for thread in Thread.objects.filter(
        brand=brand, channel=Channel.DM, conversation_id__in=list(customer_x_ids)
    ).order_by("-created_at"):
        current = found.get(thread.conversation_id)
        if current is None or (current.status == ThreadStatus.CLOSED != thread.status):
            found[thread.conversation_id] = thread
    return found


def _threads_for(
    brand: Brand, source: Source, messages, customers, signals, result: store.PollResult
) -> dict[int, Thread]:
    found = dm_threads(brand, {m.sender_id for m in messages})
    batches: dict[int, list[xgateway.XDirectMessage]] = {}
    for message in messages:  # oldest first
        batches.setdefault(message.sender_id, []).append(message)
    new = []
    for sender, batch in batches.items():
        if sender in found:
            continue
        urgency = priority.combine(signals[m.id] for m in batch)
        new.append(
            Thread(
                brand=brand,
                source=source,
                channel=Channel.DM,
                customer_id=customers[sender],
                conversation_id=sender,
                waiting_since=batch[0].created_at,
                preview=batch[-1].text[:280],
                sentiment=urgency.sentiment,
                priority=priority.score(urgency),
            )
        )
    if new:
        # A thread made meanwhile (move to DM by an agent) wins: read it back below.
        Thread.objects.bulk_create(new, ignore_conflicts=True)
        for thread in Thread.objects.filter(
            brand=brand, channel=Channel.DM, conversation_id__in=[t.conversation_id for t in new]
        ).exclude(status=ThreadStatus.CLOSED):
            if thread.conversation_id not in found:
                found[thread.conversation_id] = thread
                result.new_thread_ids.append(thread.id)
        transaction.on_commit(lambda: version.bump(brand.id))
    return found


def _insert_messages(brand: Brand, messages, threads, signals, result) -> None:
    created = Message.objects.bulk_create(
        [
            Message(
                brand=brand,
                thread=threads[m.sender_id],
                x_id=m.id,
                channel=Channel.DM,
                direction=Message.Direction.IN,
                author_x_id=m.sender_id,
                text=m.text,
                conversation_id=m.sender_id,
                sentiment=signals[m.id].sentiment,
                raw=dict(m.raw),
                sent_at=m.created_at,
            )
            for m in messages
        ],
        ignore_conflicts=True,
    )
    result.ingested += len(created)
    new_threads = set(result.new_thread_ids)
    latest: dict[int, xgateway.XDirectMessage] = {}
    batches: dict[int, list[priority.Signals]] = {}
    for message in messages:  # oldest first: the last one per customer is the latest
        batches.setdefault(message.sender_id, []).append(signals[message.id])
        latest[message.sender_id] = message
    for sender, message in latest.items():
        thread = threads[sender]
        if thread.id in new_threads:
            continue
        stored = Message.objects.get(brand=brand, x_id=message.id)
        actions.do_customer_wrote(thread, stored, signals=priority.combine(batches[sender]))
