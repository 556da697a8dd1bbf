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
2. Each page is ingested in its own short transaction through inbox.ingest.store, as
   tweets are; an event already stored is skipped (unique x_id, ON CONFLICT DO NOTHING),
   so pages fetched twice insert nothing twice.
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

from inbox.ingest import store
from inbox.models import Brand, Channel, Source
from inbox.rules.routing import known_lang
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
    items = store.unseen(brand, [_item(m) for m in wanted])
    if items:
        customers = store.upsert_customers(brand, items, page.users)
        signals = store.signals(brand, items, page.users)
        threads = store.threads_for(source, Channel.DM, items, customers, signals, result)
        messages = store.insert_messages(brand, Channel.DM, items, threads, signals, result)
        store.follow_ups(brand, items, threads, messages, signals, result)
    store.advance_cursor(source, advance_to, started=result.started)


def _item(message: xgateway.XDirectMessage) -> store.Item:
    return store.Item(
        id=message.id,
        author=message.sender_id,
        conversation=message.sender_id,  # one thread per customer: DMs are one-to-one
        text=message.text,
        created_at=message.created_at,
        in_reply_to=None,
        raw=message.raw,
        media=tuple(m.stored() for m in message.media),
        lang=known_lang(message.raw.get("lang")),  # X's DM events carry none today
    )
