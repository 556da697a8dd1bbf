"""The queue's reads. Keyset pagination over thread_queue_order; never OFFSET or COUNT(*)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from inbox.models import (
    Brand,
    Channel,
    Customer,
    Message,
    Mute,
    Reply,
    ReplyStatus,
    Thread,
    ThreadStatus,
)

if TYPE_CHECKING:
    from agents.models import Agent

PAGE_SIZE = 50
QUEUE_ORDER = ("-priority", "waiting_since", "id")  # thread_queue_order's
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    """The last row of a page, in queue order: (priority desc, waiting_since, id)."""

    priority: int
    waiting_since: datetime
    id: int

    def encode(self) -> str:
        # Whole microseconds, exactly: a float timestamp would round and skip or repeat rows.
        micros = (self.waiting_since - _EPOCH) // timedelta(microseconds=1)
        return f"{self.priority}_{micros}_{self.id}"

    @classmethod
    def decode(cls, value: str) -> Cursor | None:
        """None for a missing or tampered cursor: the list starts from the top."""
        try:
            priority, micros, pk = value.split("_")
            when = _EPOCH + timedelta(microseconds=int(micros))
            return cls(int(priority), when, int(pk))
        except (ValueError, OverflowError):
            return None


def queue_page(
    brand: Brand,
    status: str = ThreadStatus.OPEN,
    after: Cursor | None = None,
    source_id: int | None = None,
) -> tuple[list[Thread], Cursor | None]:
    """One page of the queue in urgency order, and the cursor of the next page (or None)."""
    rows: QuerySet[Thread] = Thread.objects.filter(brand=brand, status=status)
    if source_id is not None:
        rows = rows.filter(source_id=source_id)
    rows = rows.select_related("customer", "claimed_by").order_by(*QUEUE_ORDER)
    page = list(_after(rows, after) if after else rows[: PAGE_SIZE + 1])
    if len(page) <= PAGE_SIZE:
        return page, None
    last = page[PAGE_SIZE - 1]
    return page[:PAGE_SIZE], Cursor(last.priority, last.waiting_since, last.id)


def _after(rows: QuerySet[Thread], after: Cursor) -> QuerySet[Thread]:
    """The PAGE_SIZE + 1 rows after the cursor, as two ranges of thread_queue_order.

    The order mixes DESC (priority) and ASC (waiting_since, id), so "after" is no single
    row comparison, and as one OR PostgreSQL filters every row before the cursor (525 ms
    half-way down 1M threads, BENCHMARKS.md problem 4). Split by priority, each part is an
    index range read in order, with its own limit: the rest of the cursor's priority
    (`waiting_since >= w` is the range; the OR drops only rows at exactly w), then the
    lower priorities.
    """
    limit = PAGE_SIZE + 1
    same = rows.filter(
        Q(waiting_since__gt=after.waiting_since) | Q(id__gt=after.id),
        priority=after.priority,
        waiting_since__gte=after.waiting_since,
    )
    lower = rows.filter(priority__lt=after.priority)
    return same[:limit].union(lower[:limit], all=True).order_by(*QUEUE_ORDER)[:limit]


def access_thread(agent: Agent, thread_id: int) -> Thread:
    """The one permission-checked fetch: a thread of another brand is a plain 404."""
    try:
        return Thread.objects.select_related("customer", "claimed_by", "brand").get(
            id=thread_id, brand_id=agent.brand_id
        )
    except Thread.DoesNotExist:
        raise Http404("No such thread.") from None


def claimed_by(agent: Agent, limit: int = PAGE_SIZE) -> list[Thread]:
    return list(
        Thread.objects.filter(claimed_by=agent, status=ThreadStatus.CLAIMED)
        .select_related("customer", "claimed_by")
        .order_by("-priority", "waiting_since", "id")[:limit]
    )


def conversation(thread: Thread) -> list[Message | Reply]:
    """Messages in and out, plus replies not yet on X (queued, sending, failed), by time."""
    messages = list(Message.objects.filter(thread=thread).order_by("sent_at", "x_id")[:500])
    pending = list(
        Reply.objects.filter(thread=thread)
        .exclude(status=ReplyStatus.POSTED)
        .select_related("agent")
        .order_by("created_at")
    )
    posted = {
        r.posted_x_id: r
        for r in Reply.objects.filter(thread=thread, status=ReplyStatus.POSTED).select_related(
            "agent"
        )
    }
    for message in messages:
        message.reply = posted.get(message.x_id)  # who wrote the brand's tweet
    return sorted(
        [*messages, *pending], key=lambda item: getattr(item, "sent_at", None) or item.created_at
    )


def participants(thread: Thread) -> list[str]:
    """Handles of the customers who wrote in this thread, its own customer first."""
    authors = set(
        Message.objects.filter(thread=thread, direction=Message.Direction.IN).values_list(
            "author_x_id", flat=True
        )
    )
    others = Customer.objects.filter(brand_id=thread.brand_id, x_user_id__in=authors).exclude(
        id=thread.customer_id
    )
    return [thread.customer.handle, *sorted(others.values_list("handle", flat=True))]


def customer_history(thread: Thread, limit: int = 20) -> list[Thread]:
    return list(
        Thread.objects.filter(customer_id=thread.customer_id)
        .exclude(id=thread.id)
        .order_by("-created_at")[:limit]
    )


@dataclass(frozen=True)
class OutboxState:
    paused_until: datetime | None
    waiting: int


def outbox_state(brand: Brand) -> OutboxState | None:
    """ "Sending paused until HH:MM, N waiting" while X's posting window is spent."""
    from django.utils import timezone

    paused = brand.posting_paused_until
    if paused is None or paused <= timezone.now():
        return None
    waiting = Reply.objects.filter(
        thread__brand=brand, status__in=[ReplyStatus.QUEUED, ReplyStatus.SENDING]
    ).count()
    return OutboxState(paused, waiting)


def conversation_threads(
    brand: Brand, conversations: set[int], *, channel: Channel = Channel.TWEET
) -> dict[int, Thread]:
    """{conversation id: thread} for the conversations the brand already has on `channel`
    (a DM's is the customer's X id): the live thread, else the newest closed one (index
    thread_conversation). The poller and the noise filter both file a page's items by it."""
    found: dict[int, Thread] = {}
    for thread in Thread.objects.filter(
        brand=brand, channel=channel, conversation_id__in=conversations
    ).order_by("-created_at"):
        current = found.get(thread.conversation_id)
        if current is None or (current.status == ThreadStatus.CLOSED != thread.status):
            found[thread.conversation_id] = thread
    return found


def failed_text(thread: Thread) -> str:
    """What the agent wrote, when X refused the thread's latest answer: the DM's words for
    a move to DM whose DM was refused, else the reply's own. Empty otherwise."""
    if thread.status != ThreadStatus.CLAIMED:  # a refused answer hands the thread back
        return ""
    latest = (
        Reply.objects.filter(thread=thread)
        .select_related("waits_for")
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None or latest.status != ReplyStatus.FAILED:
        return ""
    return latest.waits_for.text if latest.waits_for is not None else latest.text


HISTORY_LIMIT = 20


@dataclass(frozen=True)
class Panel:
    customer: Customer
    history: list[Thread]  # newest first, at most HISTORY_LIMIT, replies prefetched
    more: bool
    mutes: list[Mute]


def panel(thread: Thread) -> Panel:
    """Three queries whatever the history's size: threads, their replies, live mutes."""
    replies = Reply.objects.exclude(status=ReplyStatus.DISCARDED).select_related("agent")
    rows = list(
        # thread_customer_history: (customer, -created_at)
        Thread.objects.filter(customer_id=thread.customer_id)
        .exclude(id=thread.id)
        .order_by("-created_at")
        .prefetch_related(Prefetch("replies", queryset=replies.order_by("created_at")))[
            : HISTORY_LIMIT + 1
        ]
    )
    return Panel(
        thread.customer,
        rows[:HISTORY_LIMIT],
        len(rows) > HISTORY_LIMIT,
        live_mutes(thread.customer),
    )


def live_mutes(customer: Customer) -> list[Mute]:
    return list(
        Mute.objects.filter(customer=customer, lifted_at__isnull=True)
        .select_related("created_by")
        .order_by("kind")
    )
