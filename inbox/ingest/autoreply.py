"""Business hours and auto-reply: when the brand is closed, or open with nobody online,
it answers each customer who writes to it once per window, through the outbox.

1. Opt-in per brand (`Brand.auto_reply_enabled` and a text). The calendar is inbox.rules.sla's.
2. The window: out of hours, the closed period (it starts at the last closing time);
   in hours with no employee online (inbox.live.presence), the open span (for an always-open
   brand, the local day). "When a human will answer" fills `{next_open}` in the text.
3. Only tweets addressed to the brand: from the mentions timeline, or mentioning or
   replying to the brand. A listening query's match that does not mention the brand, a
   retweet (skipped by the poller), a DM: never.
4. "Never twice" is the database's: the AutoReply ledger's unique (brand, customer,
   window start), inserted ON CONFLICT DO NOTHING in the poller's page transaction, which
   also queues the Reply. A poll killed mid-way rolls both back; a repeated or concurrent
   poll finds the row and queues nothing.
5. The thread stays open and waiting: an auto-reply is not an agent's answer (no status
   change, no first response), so the customer still waits in the queue for a human.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from inbox import events, schedule
from inbox.live import presence
from inbox.models import Brand, Channel, Customer, Message, Reply, Source, Thread, Verb
from inbox.rules import sla
from inbox.rules.text import MAX_WEIGHTED_LENGTH, weighted_length

if TYPE_CHECKING:
    from twelp import xgateway

log = logging.getLogger(__name__)

PLACEHOLDER = "{next_open}"
SOON = "shortly"  # open, but nobody online: someone will be back within the span
NEVER = "as soon as we can"  # hours that never open again (a misconfiguration)
# The longest `{next_open}` can render (a weekday, a date, a time, a zone abbreviation):
# the form checks the text's weighted length with it and the longest @handle.
LONGEST_WHEN = "on Wed 30 Sep at 23:59 +0530"
LONGEST_PREFIX = "@" + "x" * 15 + " "


@dataclass(frozen=True)
class Window:
    start: datetime
    when: str  # what `{next_open}` becomes


def window(brand: Brand, now: datetime | None = None) -> Window | None:
    """The auto-reply window open now, or None when the brand should not auto-reply."""
    if not brand.auto_reply_enabled or not brand.auto_reply_text.strip():
        return None
    now = now or timezone.now()
    hours = sla.hours_for(brand)
    span = None if hours.always_open else hours.open_span(now)
    if hours.always_open or span is not None:
        if _anyone_online(brand):
            return None
        start = span[0] if span else _local_midnight(now, hours)
        return Window(start, SOON)
    closed_since = hours.last_close(now) or datetime(2000, 1, 1, tzinfo=UTC)
    opens = hours.next_open(now)
    return Window(closed_since, describe(opens, now, hours) if opens else NEVER)


def describe(opens: datetime, now: datetime, hours: sla.Hours) -> str:
    """'today at 09:00 CET', 'tomorrow at 09:00 CET', 'on Mon 30 Nov at 09:00 CET'."""
    local, today = opens.astimezone(hours.tz), now.astimezone(hours.tz).date()
    clock = f"{local:%H:%M} {local.tzname()}"
    if local.date() == today:
        return f"today at {clock}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow at {clock}"
    return f"on {local:%a} {local.day} {local:%b} at {clock}"


def render(text: str, handle: str, when: str) -> str:
    """What X receives: the customer's @handle, then the brand's text with `{next_open}`."""
    return f"@{handle} {text.strip().replace(PLACEHOLDER, when)}"


def longest_length(text: str) -> int:
    """The weighted length of `text` at its longest (the longest handle and time)."""
    return weighted_length(LONGEST_PREFIX + text.strip().replace(PLACEHOLDER, LONGEST_WHEN))


def _anyone_online(brand: Brand) -> bool:
    from agents.models import Agent, AgentState

    ids = Agent.objects.filter(brand=brand, state=AgentState.ACTIVE).values_list("id", flat=True)
    return bool(presence.last_seen(brand.id, list(ids)))


def _local_midnight(now: datetime, hours: sla.Hours) -> datetime:
    day = now.astimezone(hours.tz).date()
    return datetime.combine(day, time(0), tzinfo=hours.tz).astimezone(UTC)


def addressed_to(source: Source, tweet: xgateway.XTweet) -> bool:
    """From the brand's mentions timeline, or a tweet that mentions or answers the brand."""
    brand = source.brand
    if source.kind == Source.Kind.MENTIONS or tweet.in_reply_to_user_id == brand.x_user_id:
        return True
    entities = tweet.raw.get("entities") or {}
    mentions = entities.get("mentions", []) if isinstance(entities, dict) else []
    return any(
        str(m.get("id")) == str(brand.x_user_id)
        or str(m.get("username", "")).lower() == brand.handle.lower()
        for m in mentions
        if isinstance(m, dict)
    )


# One statement decides every customer of the page: the rows it returns won their window.
_CLAIM_WINDOWS = """
INSERT INTO inbox_autoreply (brand_id, customer_id, window_start, thread_id, created_at)
SELECT %(brand)s, c, %(start)s, t, %(now)s
FROM unnest(%(customers)s::bigint[], %(threads)s::bigint[]) AS x(c, t)
ON CONFLICT (brand_id, customer_id, window_start) DO NOTHING
RETURNING id, customer_id
"""
_LINK_REPLIES = """
UPDATE inbox_autoreply a SET reply_id = x.r
FROM unnest(%(ledger)s::bigint[], %(replies)s::bigint[]) AS x(l, r) WHERE a.id = x.l
"""


def answer(
    source: Source,
    tweets: Iterable[xgateway.XTweet],
    threads: dict[int, Thread],
    customers: dict[int, int],
    now: datetime | None = None,
) -> list[Reply]:
    """Queue the auto-replies a page of new tweets earns (the poller calls this inside
    the page's transaction, after inserting its messages). `threads` is the page's
    {(conversation id, author X id): thread}, `customers` its {X user id: customer id}. Returns the
    queued replies."""
    brand = source.brand
    tweets = [t for t in tweets if not t.is_retweet and addressed_to(source, t)]
    if not tweets:
        return []
    now = now or timezone.now()
    current = window(brand, now)
    if current is None:
        return []
    latest: dict[int, xgateway.XTweet] = {}  # per author: the newest tweet of the page
    for tweet in tweets:
        if tweet.id > getattr(latest.get(tweet.author_id), "id", 0):
            latest[tweet.author_id] = tweet
    by_customer = {
        customers[t.author_id]: (t, threads[(t.conversation_id, t.author_id)])
        for t in latest.values()
    }
    won = _claim_windows(brand, current.start, by_customer, now)
    if not won:
        return []
    return _queue(brand, current, {c: by_customer[c] for c in won}, won)


def _claim_windows(brand, start, by_customer, now) -> dict[int, int]:
    """{customer id: ledger id} of the customers who had no auto-reply in this window."""
    customers = list(by_customer)
    params = {
        "brand": brand.id,
        "start": start,
        "now": now,
        "customers": customers,
        "threads": [by_customer[c][1].id for c in customers],
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_WINDOWS, params)
        return {customer: ledger for ledger, customer in cursor.fetchall()}


def _queue(brand, current: Window, chosen, ledger: dict[int, int]) -> list[Reply]:
    handles = dict(Customer.objects.filter(id__in=list(chosen)).values_list("id", "handle"))
    messages = dict(
        Message.objects.filter(
            brand=brand, x_id__in=[t.id for t, _ in chosen.values()]
        ).values_list("x_id", "id")
    )
    replies, owners = [], []
    for customer_id, (tweet, thread) in chosen.items():
        body = render(brand.auto_reply_text, handles[customer_id], current.when)
        if weighted_length(body) > MAX_WEIGHTED_LENGTH:
            log.warning("Auto-reply for brand %s is too long for X; not sent", brand.id)
            continue
        replies.append(
            Reply(
                thread=thread,
                in_reply_to_id=messages.get(tweet.id),
                agent=None,  # the brand's own voice: no employee's credit
                channel=Channel.TWEET,
                text=body,
                credit="",
                body=body,
            )
        )
        owners.append(customer_id)
    Reply.objects.bulk_create(replies)
    pairs = [(ledger[c], r.id) for c, r in zip(owners, replies, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            _LINK_REPLIES, {"ledger": [p[0] for p in pairs], "replies": [p[1] for p in pairs]}
        )
    window = current.start.isoformat()
    events.record_many(
        Verb.AUTO_REPLIED, brand, [(r.thread, {"reply": r.id, "window": window}) for r in replies]
    )
    for reply in replies:
        schedule.post_reply(reply.id)
    return replies
