"""What every poll stores, tweets and DMs alike. inbox.ingest.tweets and inbox.ingest.dms
adapt their X objects to an `Item` and keep their own rules; these are the shared steps of
a page, called in this order inside the page's transaction:

1. `unseen`: the items not stored before (a page fetched twice, or by two polls, is
   mostly known), oldest first.
2. `upsert_customers`: the authors, profiles refreshed from the page's users; an author X
   did not describe keeps the profile we have.
3. `signals`: each item scored once (sentiment, the author's reach, urgent words); its
   message keeps the sentiment, its thread the page's sum.
4. `threads_for`: each conversation's thread (by its key: a tweet's conversation id, a DM's
   customer): the live one, else the newest closed one, else a new one. A thread another
   poll or an agent made meanwhile wins (the partial unique index) and is read back. A new
   thread is routed to its team (inbox.routing.teams: an Event `routed` each).
5. `insert_messages`: ON CONFLICT DO NOTHING, so no item is ever stored twice.
6. `follow_ups`: the customers' new words in threads we had, in one batch
   (actions.do_customers_wrote: reopen or re-rank, the Events, one queue bump).

`quarantine` and `advance_cursor` run in the same transaction, so a poll killed at any point
loses nothing and stores nothing twice; `park` records a 429 or a failure (inbox.ingest.poll),
X's or ours (`Unpollable`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from inbox import actions, queries, schedule
from inbox.live import version
from inbox.models import Brand, Channel, Customer, Message, Quarantine, Source, Thread, ThreadStatus
from inbox.routing import teams
from inbox.rules import priority, reasons, triage

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
    # When the poll started: the next one is counted from here (inbox.ingest.poll).
    started: datetime | None = None


@dataclass(frozen=True)
class Item:
    """A tweet or a DM, as the store sees it."""

    id: int
    author: int  # X user id
    conversation: int  # the thread's key: a tweet's conversation id, a DM's customer X id
    text: str
    created_at: datetime
    in_reply_to: int | None
    raw: Mapping[str, object]
    lang: str = ""  # X's `lang`, "" when none (inbox.rules.routing.known_lang)

    @property
    def key(self) -> tuple[int, int]:
        """Its thread's key: each customer of a conversation has a thread of their own."""
        return (self.conversation, self.author)

    media: tuple[dict[str, object], ...] = ()  # xgateway.XMedia.stored() of each attachment


# --- the source: parking, cursor, quarantine ---------------------------------------------


class Unpollable(Exception):
    """The source cannot be polled for a reason of ours (a relay hashtag X cannot search),
    not because X refused: the poller parks it with `reason`, in our own words."""

    def __init__(self, reason: reasons.Reason) -> None:
        super().__init__(reasons.english(reason))
        self.reason = reason


def park(source: Source, until, reason: reasons.Reason) -> None:
    """The source waits until `until`; why, as data and in English (inbox.rules.reasons)."""
    Source.objects.filter(id=source.id).update(
        next_poll_after=until,
        last_error=reasons.english(reason)[:1000],
        last_reason=reason,
        last_polled_at=timezone.now(),
        rate_limited_until=until if reason.get("code") == "rate_limited" else None,
    )


def advance_cursor(
    source: Source, advance_to: int | None, *, started: datetime | None = None
) -> None:
    """Record the poll; on the last page (`advance_to` set) move since_id forward. The next
    poll is due `poll_interval` after this one *started* (not after it finished, which
    would add the poll's own time and a beat tick to every cycle)."""
    now = timezone.now()
    update = {"last_polled_at": now, "next_poll_after": (started or now) + source.poll_interval}
    if advance_to is not None:
        update |= {"last_error": "", "rate_limited_until": None}
        if advance_to > (source.since_id or 0):
            update["since_id"] = advance_to
    Source.objects.filter(id=source.id).update(**update)


def quarantine(source: Source, malformed, result: PollResult) -> None:
    if malformed:
        Quarantine.objects.bulk_create(
            Quarantine(source=source, raw=jsonable(m.raw), error=m.error[:1000]) for m in malformed
        )
        result.quarantined += len(malformed)


def jsonable(raw: object) -> object:
    return raw if isinstance(raw, dict | list | str | int | float | bool | None) else repr(raw)


# --- a page's walk -------------------------------------------------------------------------


def unseen(brand: Brand, items: list[Item]) -> list[Item]:
    """The items not stored yet, oldest first."""
    known = set(
        Message.objects.filter(brand=brand, x_id__in=[i.id for i in items]).values_list(
            "x_id", flat=True
        )
    )
    return sorted((i for i in items if i.id not in known), key=lambda i: i.id)


def upsert_customers(brand: Brand, items: list[Item], users) -> dict[int, int]:
    """{x user id: customer id}, profiles refreshed from this page's users; an author X
    did not describe gets a bare row, or keeps the profile we have."""
    authors = sorted({i.author for i in items})  # one lock order for concurrent polls
    Customer.objects.bulk_create(
        [_profile(brand, users[a]) for a in authors if a in users],
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
    bare = [
        Customer(brand=brand, x_user_id=a, handle=str(a)[:15]) for a in authors if a not in users
    ]
    if bare:
        Customer.objects.bulk_create(bare, ignore_conflicts=True)
    return dict(
        Customer.objects.filter(brand=brand, x_user_id__in=authors).values_list("x_user_id", "id")
    )


def _profile(brand: Brand, user) -> Customer:
    return Customer(
        brand=brand,
        x_user_id=user.id,
        handle=user.username[:15],
        name=user.name[:100],
        followers_count=max(user.followers_count, 0),
        verified=bool(user.verified),
        description=user.description,
        profile_image_url=user.profile_image_url[:200],
    )


def signals(brand: Brand, items: list[Item], users) -> dict[int, priority.Signals]:
    """{item id: its sentiment (the one place it is scored), its author's reach, whether it
    says an urgent word}."""
    urgent = priority.keyword_matcher(brand.urgent_keywords or [])
    out = {}
    for item in items:
        user = users.get(item.author)
        reading = triage.read(item.text)
        out[item.id] = priority.Signals(
            followers=user.followers_count if user else 0,
            verified=bool(user and user.verified),
            sentiment=reading.score,
            urgent=bool(urgent and urgent.search(item.text)),
            intent=reading.intent,
        )
    return out


def threads_for(
    source: Source,
    channel: Channel,
    items: list[Item],
    customers: dict[int, int],
    signals: dict[int, priority.Signals],
    result: PollResult,
) -> dict[int, Thread]:
    """{conversation: thread}: the live thread, else the newest closed one, else a new one
    (its new id in result.new_thread_ids). `items` oldest first."""
    if not items:
        return {}
    brand = source.brand
    found = queries.conversation_threads(brand, {i.key for i in items}, channel=channel)
    batches: dict[tuple[int, int], list[Item]] = {}
    for item in items:
        batches.setdefault(item.key, []).append(item)
    unmade = {
        key: _new_thread(source, channel, batch, customers, signals)
        for key, batch in batches.items()
        if key not in found
    }
    new = list(unmade.values())
    routed = teams.route_new(
        brand, [(t, " ".join(i.text for i in batches[key])) for key, t in unmade.items()]
    )
    if new:
        # A concurrent poll of another source (or an agent's move to DM) may create the same
        # customer's thread: its row wins (the partial unique index); read it back.
        Thread.objects.bulk_create(new, ignore_conflicts=True)
        fresh = []
        for thread in (
            Thread.objects.filter(
                brand=brand, channel=channel, conversation_id__in=[t.conversation_id for t in new]
            )
            .exclude(status=ThreadStatus.CLOSED)
            .select_related("customer")
        ):
            key = (thread.conversation_id, thread.customer.x_user_id)
            if key in batches and key not in found:
                found[key] = thread
                fresh.append(thread)
                result.new_thread_ids.append(thread.id)
        _link_joiners(brand, channel, fresh)
        new_ids = list(result.new_thread_ids)
        # This call's new threads (result may hold an earlier call's of the same page).
        made = [(t, routed.get((t.conversation_id, t.customer_id))) for t in fresh]
        teams.record_routed(brand, [(t, detail) for t, detail in made if detail is not None])
        transaction.on_commit(lambda: version.bump(brand.id, new_ids))
        schedule.assign(brand.id)  # to Available agents (inbox.routing.assign)
    return found


def _link_joiners(brand: Brand, channel: Channel, fresh: list[Thread]) -> None:
    """A customer who joins another's conversation (a viral tweet's replies) has a thread
    of their own, answered in reply to their own tweets, linked to the conversation's
    first thread (Thread.joined)."""
    if channel != Channel.TWEET or not fresh:
        return
    first = queries.first_threads(brand.id, channel, {t.conversation_id for t in fresh})
    for thread in fresh:
        root = first.get(thread.conversation_id)
        if root is not None and root.id != thread.id and root.customer_id != thread.customer_id:
            Thread.objects.filter(id=thread.id).update(joined=root)
            thread.joined = root


def _new_thread(source: Source, channel: Channel, batch: list[Item], customers, signals) -> Thread:
    urgency = priority.combine(signals[i.id] for i in batch)
    return Thread(
        brand=source.brand,
        source=source,
        channel=channel,
        customer_id=customers[batch[0].author],
        conversation_id=batch[0].conversation,
        waiting_since=batch[0].created_at,
        preview=batch[-1].text[:280],
        lang=next((i.lang for i in reversed(batch) if i.lang), ""),
        sentiment=urgency.sentiment,
        intent=urgency.intent,
        priority=priority.score(urgency),
    )


def insert_messages(
    brand: Brand,
    channel: Channel,
    items: list[Item],
    threads: dict[int, Thread],
    signals: dict[int, priority.Signals],
    result: PollResult,
) -> list[Message]:
    """The items' messages, each in its conversation's thread."""
    messages = Message.objects.bulk_create(
        [
            Message(
                brand=brand,
                thread=threads[i.key],
                x_id=i.id,
                channel=channel,
                direction=Message.Direction.IN,
                author_x_id=i.author,
                text=i.text,
                in_reply_to_x_id=i.in_reply_to,
                conversation_id=i.conversation,
                sentiment=signals[i.id].sentiment,
                intent=signals[i.id].intent,
                media=list(i.media),
                lang=i.lang,
                raw=dict(i.raw),
                sent_at=i.created_at,
            )
            for i in items
        ],
        ignore_conflicts=True,  # another source's poll may hold the same item
    )
    result.ingested += len(items)
    return messages


def follow_ups(
    brand: Brand,
    items: list[Item],
    threads: dict[int, Thread],
    messages: list[Message],
    signals: dict[int, priority.Signals],
    result: PollResult,
) -> None:
    """The customers wrote again in threads this poll did not open: one batch for the page
    (BENCHMARKS.md, problem 2). `items` oldest first."""
    opened = set(result.new_thread_ids)
    stored = {m.x_id: m for m in messages}
    latest: dict[tuple[int, int], Item] = {}
    batches: dict[tuple[int, int], list[priority.Signals]] = {}
    for item in items:  # oldest first: the last of a thread is its latest
        batches.setdefault(item.key, []).append(signals[item.id])
        latest[item.key] = item
    wrote = {
        threads[key].id: (stored[item.id], priority.combine(batches[key]))
        for key, item in latest.items()
        if threads[key].id not in opened
    }
    if wrote:
        actions.do_customers_wrote(brand, wrote)
