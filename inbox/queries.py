"""The queue's reads. Keyset pagination over thread_queue_order; never OFFSET or COUNT(*)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db.models import CharField, F, Func, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import budgets
from inbox.live import version
from inbox.models import (
    Brand,
    Channel,
    Customer,
    Event,
    Message,
    Mute,
    Note,
    Reply,
    ReplyStatus,
    RetentionRun,
    Thread,
    ThreadStatus,
)
from inbox.rules import keyset, summons
from twelp.prepared import Bound, Prepared, PreparedRows, together

if TYPE_CHECKING:
    from agents.models import Agent

PAGE_SIZE = 50
QUEUE_ORDER = ("-priority", "waiting_since", "id")  # thread_queue_order's


@dataclass(frozen=True)
class Cursor:
    """The last row of a page, in queue order: (priority desc, waiting_since, id)."""

    priority: int
    waiting_since: datetime
    id: int

    def encode(self) -> str:
        return keyset.encode(self.priority, self.waiting_since, self.id)

    @classmethod
    def decode(cls, value: str) -> Cursor | None:
        """None for a missing or tampered cursor: the list starts from the top."""
        position = keyset.decode(value, int, datetime, int)
        return cls(*position) if position else None  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scope:
    """Which threads of the brand a queue lists: the teams' (None: every team's), with
    threads of no team (the default team's) or not, and one language ("" for any);
    `no_dms`: tweets only (an API token without DMs, inbox.api)."""

    teams: tuple[int, ...] | None = None
    no_team: bool = True
    lang: str = ""
    no_dms: bool = False

    def filter(self, rows: QuerySet[Thread]) -> QuerySet[Thread]:
        if self.no_dms:
            rows = rows.exclude(channel=Channel.DM)
        if self.teams is not None:
            in_teams = Q(team_id__in=self.teams)
            rows = rows.filter(in_teams | Q(team__isnull=True) if self.no_team else in_teams)
        if self.lang:
            rows = rows.filter(lang=self.lang)
        return rows


def queue_page(
    brand: Brand,
    status: str = ThreadStatus.OPEN,
    after: Cursor | None = None,
    source_id: int | None = None,
    scope: Scope | None = None,
) -> tuple[list[Thread], Cursor | None]:
    """One page of the queue in urgency order, and the cursor of the next page (or None)."""
    # x_hidden: X says its customer's content must not be shown (inbox.data.compliance).
    rows: QuerySet[Thread] = Thread.objects.filter(brand=brand, status=status, x_hidden="")
    if source_id is not None:
        rows = rows.filter(source_id=source_id)
    if scope is not None:
        rows = scope.filter(rows)
    rows = rows.select_related("customer", "claimed_by", "team").order_by(*QUEUE_ORDER)
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


# --- The queue's rows by what they show (issue 14) -----------------------------------------
#
# A queue page after a change differs from the one before by a row or two. Its rows are
# read as heads first: the few columns the page itself needs (order, grouping, the labels
# that age) and a digest of every column a row can show, computed by PostgreSQL. A row
# kept under its digest (inbox.templatetags.queue_rows) is reused as it is; only the rows
# whose digest is new are read whole and rendered.


class RowDigest(Func):
    """md5 of the given columns as PostgreSQL prints them (`ROW(...)::text`): a change of
    any of them gives another digest."""

    template = "md5(ROW(%(expressions)s)::text)"
    output_field = CharField()


# Columns that move on their own clock without anything a row shows moving: the claim's
# expiry (renewed every minute while its page is open), the offer's timers, and the
# holder's availability (inbox.routing.assign). Left out, or the rows would be new each
# time; the row template never shows them (tests/inbox/views/test_queue_rows.py).
NOT_SHOWN = {
    "": frozenset({"claim_expires_at", "offer_expires_at", "offer_at"}),
    "claimed_by": frozenset({"available_since", "last_assigned_at"}),
    "offered_to": frozenset({"available_since", "last_assigned_at"}),
}
# Of those, what a row shows only while it lasts, so its key holds it then (the offer to
# a last answerer: "Offered to Kim" until offer_expires_at; models.offer_until).
KEYED_WHILE_ON = frozenset({"offer_expires_at"})


def _shown() -> RowDigest:
    """The digest of everything a queue row may show: every column of the thread, its
    customer, team and holder, but NOT_SHOWN's (a new column is in by default: a kept
    row can only be rendered too often, never be stale)."""
    columns = [F(f.attname) for f in Thread._meta.concrete_fields if f.attname not in NOT_SHOWN[""]]
    for relation in ("customer", "claimed_by", "team", "offered_to"):
        model = Thread._meta.get_field(relation).related_model
        left_out = NOT_SHOWN.get(relation, frozenset())
        columns += [
            F(f"{relation}__{f.attname}")
            for f in model._meta.concrete_fields
            if f.attname not in left_out
        ]
    return RowDigest(*columns)


class RowHead:
    """A queue row as read first: what the page needs, and the digest of what it shows.
    `more_from` and `repeat` are the page's grouping marks (set by the view)."""

    COLUMNS = ("id", "customer_id", "priority", "waiting_since", "status", "digest")
    COLUMNS += ("claimed_by_id", "offered_to_id", "offer_expires_at")
    __slots__ = (*COLUMNS, "more_from", "repeat")

    def __init__(self, *values: object) -> None:
        for name, value in zip(self.COLUMNS, values, strict=True):
            setattr(self, name, value)
        self.more_from, self.repeat = 0, False


def _heads(rows: QuerySet[Thread]) -> QuerySet[Thread]:
    return rows.annotate(digest=_shown()).values_list(*RowHead.COLUMNS)


def _listed(brand_id: int, status: str, source_id: int | None, scope: Scope | None):
    rows = Thread.objects.filter(brand_id=brand_id, status=status, x_hidden="")
    if source_id is not None:
        rows = rows.filter(source_id=source_id)
    if scope is not None:
        rows = scope.filter(rows)
    return rows.order_by(*QUEUE_ORDER)


# The first page's heads for each filter (status, source, scope), the brand an argument:
# SQL the ORM builds once per process and filter (twelp.prepared).
_FIRST_HEADS: dict[tuple[object, ...], PreparedRows] = {}
_MINE_HEADS = PreparedRows(
    lambda agent_id: _heads(
        Thread.objects.filter(claimed_by_id=agent_id, status=ThreadStatus.CLAIMED).order_by(
            *QUEUE_ORDER
        )
    )[:PAGE_SIZE]
)


def queue_heads(
    brand_id: int,
    status: str = ThreadStatus.OPEN,
    after: Cursor | None = None,
    source_id: int | None = None,
    scope: Scope | None = None,
) -> tuple[list[RowHead], Cursor | None]:
    """`queue_page`'s rows as heads (above), and the cursor of the next page (or None)."""
    if after is None:
        return together(first_heads_read(brand_id, status, source_id, scope))[0]
    found = list(_after(_heads(_listed(brand_id, status, source_id, scope)), after))
    return _heads_page(found)


def first_heads_read(
    brand_id: int,
    status: str = ThreadStatus.OPEN,
    source_id: int | None = None,
    scope: Scope | None = None,
) -> Bound:
    """`queue_heads` of the first page as a read (twelp.prepared.together: the queue reads
    it with its sources, counts and budgets)."""
    shape = (status, source_id, scope)
    prepared = _FIRST_HEADS.get(shape)
    if prepared is None:
        if len(_FIRST_HEADS) > 1000:  # filters come and go: keep it bounded
            _FIRST_HEADS.clear()
        prepared = _FIRST_HEADS[shape] = PreparedRows(
            lambda b: _heads(_listed(b, status, source_id, scope))[: PAGE_SIZE + 1]
        )
    return prepared.bound(brand_id).then(_heads_page)


def _heads_page(found: list[tuple]) -> tuple[list[RowHead], Cursor | None]:
    page = [RowHead(*row) for row in found]
    if len(page) <= PAGE_SIZE:
        return page, None
    last = page[PAGE_SIZE - 1]
    return page[:PAGE_SIZE], Cursor(last.priority, last.waiting_since, last.id)


def mine_heads(agent: Agent) -> list[RowHead]:
    """`claimed_by(agent)`'s rows as heads."""
    return [RowHead(*row) for row in _MINE_HEADS.rows(agent.id)]


def _whole(rows: QuerySet[Thread]) -> QuerySet[Thread]:
    related = rows.select_related("customer", "claimed_by", "team", "offered_to")
    return related.annotate(digest=_shown())


# Rows whose digest is new after a change are one to three (built once, twelp.prepared);
# more (an empty cache) are read with one query the ORM builds then.
_WHOLE = {
    1: Prepared(lambda a: _whole(Thread.objects.filter(id=a))),
    2: Prepared(lambda a, b: _whole(Thread.objects.filter(id__in=(a, b))), arity=2),
    3: Prepared(lambda a, b, c: _whole(Thread.objects.filter(id__in=(a, b, c))), arity=3),
}


def queue_threads(brand_id: int, ids: list[int]) -> dict[int, Thread]:
    """{id: thread} of these threads of the brand, with their customer, holder and team,
    and their `digest` as read now (queue_heads'): a row rendered from them is kept under
    the digest of what it shows."""
    prepared = _WHOLE.get(len(ids))
    found = prepared.all(*ids) if prepared else list(_whole(Thread.objects.filter(id__in=ids)))
    return {t.id: t for t in found if t.brand_id == brand_id}


def audit_events(brand: Brand, filters: dict[str, object]) -> QuerySet[Event]:
    """The brand's events matching the audit trail's filters (inbox.forms.AuditFilter):
    actor ("system" for none, else an agent id), verb, thread, since, until."""
    rows = Event.objects.filter(brand=brand)
    actor = filters.get("actor")
    if actor == "system":
        rows = rows.filter(actor__isnull=True)
    elif actor:
        rows = rows.filter(actor_id=int(actor))  # type: ignore[call-overload]
    if filters.get("verb"):
        rows = rows.filter(verb=filters["verb"])
    if filters.get("thread"):
        rows = rows.filter(thread_id=filters["thread"])
    if filters.get("since"):
        rows = rows.filter(at__gte=filters["since"])
    if filters.get("until"):
        rows = rows.filter(at__lt=filters["until"])
    return rows


# Built by the ORM once per process, run on nearly every thread request (twelp.prepared).
_THREAD = Prepared(
    lambda thread_id, brand_id: Thread.objects.select_related(
        "customer", "claimed_by", "brand", "team"
    ).filter(id=thread_id, brand_id=brand_id),
    arity=2,
)


def access_thread(agent: Agent, thread_id: int) -> Thread:
    """The one permission-checked fetch: a thread of another brand is a plain 404."""
    thread = _THREAD.first(thread_id, agent.brand_id)
    if thread is None:
        raise Http404(_("No such thread."))
    return thread


def claimed_by(agent: Agent, limit: int = PAGE_SIZE) -> list[Thread]:
    return list(
        Thread.objects.filter(claimed_by=agent, status=ThreadStatus.CLAIMED)
        .select_related("customer", "claimed_by", "team")
        .order_by("-priority", "waiting_since", "id")[:limit]
    )


CONVERSATION_LIMIT = 500  # messages a thread page shows


class Conversation(list):
    """`conversation`'s items (messages and unposted replies, by time), with what it read
    to make them: the thread's messages (`complete` when they are all of them) and all its
    replies. The thread page's other reads take them from here instead of asking again."""

    messages: list[Message]
    replies: list[Reply]
    complete: bool


_MESSAGES = Prepared(
    lambda thread_id: Message.objects.filter(thread_id=thread_id).order_by("sent_at", "x_id")[
        :CONVERSATION_LIMIT
    ]
)
_REPLIES = Prepared(
    lambda thread_id: (
        Reply.objects.filter(thread_id=thread_id)
        .select_related("agent")
        .order_by("created_at", "id")
    )
)


def conversation(thread: Thread) -> Conversation:
    """Messages in and out, plus replies not yet on X (queued, sending, failed), by time.
    Two queries (twelp.prepared: on every thread page and reply): the messages, and the
    thread's replies (all: the posted ones name who wrote the brand's tweets)."""
    return _conversation(thread, _MESSAGES.all(thread.id), _REPLIES.all(thread.id))


def _conversation(thread: Thread, messages: list[Message], replies: list[Reply]) -> Conversation:
    pending = [r for r in replies if r.status != ReplyStatus.POSTED]
    posted = {r.posted_x_id: r for r in replies if r.status == ReplyStatus.POSTED}
    for message in messages:
        message.reply = posted.get(message.x_id)  # who wrote the brand's tweet
    now = timezone.now()
    for reply in pending:  # when each waiting answer goes out (inbox.rules.budget)
        reply.thread = thread
        reply.estimate = budgets.estimate(reply, now) if reply.status in budgets.PENDING else None
    found = Conversation(
        sorted(
            [*messages, *pending],
            key=lambda item: getattr(item, "sent_at", None) or item.created_at,
        )
    )
    found.messages, found.replies = messages, replies
    found.complete = len(messages) < CONVERSATION_LIMIT
    return found


NOTES_LIMIT = 200  # internal notes a thread page shows
_NOTES = Prepared(
    lambda thread_id: (
        Note.objects.filter(thread_id=thread_id)
        .select_related("agent")
        .order_by("id")[:NOTES_LIMIT]
    )
)


def notes(thread: Thread) -> list[Note]:
    """The thread's internal notes, oldest first, with their authors."""
    return _NOTES.all(thread.id)


def participants(thread: Thread, said: Conversation | None = None) -> list[str]:
    """Handles of the customers who wrote in this thread, its own customer first (`said`:
    the thread's conversation, already read)."""
    if said is not None and said.complete:
        inbound = (m for m in said.messages if m.direction == Message.Direction.IN)
        authors = {m.author_x_id for m in inbound}
    else:
        authors = set(
            Message.objects.filter(thread=thread, direction=Message.Direction.IN).values_list(
                "author_x_id", flat=True
            )
        )
    if not authors - {thread.customer.x_user_id}:  # only its own customer (one per X id)
        return [thread.customer.handle]
    others = Customer.objects.filter(brand_id=thread.brand_id, x_user_id__in=authors).exclude(
        id=thread.customer_id
    )
    return [thread.customer.handle, *sorted(others.values_list("handle", flat=True))]


JOINERS_LIMIT = 20  # "Others in this conversation" a thread page links to
_JOINERS = Prepared(
    lambda thread_id: Thread.objects.filter(joined_id=thread_id).order_by("id")[:JOINERS_LIMIT]
)


def joiners(thread: Thread) -> list[Thread]:
    """The later customers' threads that joined this one's conversation (Thread.joined)."""
    return _JOINERS.all(thread.id)


def customer_history(thread: Thread, limit: int = 20) -> list[Thread]:
    return list(
        Thread.objects.filter(customer_id=thread.customer_id)
        .exclude(id=thread.id)
        .order_by("-created_at")[:limit]
    )


BUDGETS_SECONDS = 5


_budgets_here: dict[int, tuple[str, float, list[budgets.BudgetView]]] = {}


def outbox_state(brand: Brand, label: str | None = None) -> list[budgets.BudgetView]:
    """Each of the brand account's budgets (posts, DMs): left, resets at, waiting. Read
    once per queue version (and at most BUDGETS_SECONDS old), not once per page: the queue,
    every thread page and each of the push process's renders of that version share it
    (three queries saved per thread page; the version moves with every send and post).

    `label`: the version label the caller read already (a shared render's, inbox.live.
    fragments): the budgets kept in this process for it are used without asking Redis
    (the push process renders many views of one version, each showing them)."""
    views, current = kept_outbox_state(brand, label)
    if views is None:
        views = budgets.budgets(brand, timezone.now())
        keep_outbox_state(brand, label, current, views)
    return views


def kept_outbox_state(
    brand: Brand, label: str | None = None
) -> tuple[list[budgets.BudgetView] | None, str]:
    """`outbox_state` if kept for this version (in this process or in Redis), else None;
    and the version read (for `keep_outbox_state`, once the caller has read them: the
    dashboard reads them with its figures, inbox.figures.build_with)."""
    here = _budgets_here.get(brand.id)
    if here is not None and here[0] == label and time.monotonic() - here[1] < BUDGETS_SECONDS:
        return here[2], here[0]
    current, kept = version.label_with(brand.id, _budgets_key(brand))
    if isinstance(kept, tuple) and kept[0] == current:
        # Kept under the label asked for as well: read now, they are as new as it or newer.
        _budgets_here[brand.id] = (label or current, time.monotonic(), kept[1])
        return kept[1], current
    return None, current


def keep_outbox_state(
    brand: Brand, label: str | None, current: str, views: list[budgets.BudgetView]
) -> None:
    """Keep the budgets read after `kept_outbox_state` found none for `current`."""
    cache.set(_budgets_key(brand), (current, views), BUDGETS_SECONDS)
    _budgets_here[brand.id] = (label or current, time.monotonic(), views)


def _budgets_key(brand: Brand) -> str:
    return f"budgets:{brand.id}"


ThreadKey = tuple[int, int]  # (conversation id, the customer's X user id)


def conversation_threads(
    brand: Brand, keys: set[ThreadKey], *, channel: Channel = Channel.TWEET
) -> dict[ThreadKey, Thread]:
    """{(conversation id, customer's X id): thread} for the keys the brand already has on
    `channel` (a DM's conversation is the customer's X id): the live thread, else the
    newest closed one (index thread_conversation). Each customer of a conversation has a
    thread of their own. The poller and the noise filter both file a page's items by it."""
    found: dict[ThreadKey, Thread] = {}
    rows = Thread.objects.filter(
        brand=brand, channel=channel, conversation_id__in={c for c, _ in keys}
    ).select_related("customer")
    for thread in rows.order_by("-created_at"):
        key = (thread.conversation_id, thread.customer.x_user_id)
        if key not in keys:
            continue
        current = found.get(key)
        if current is None or (current.status == ThreadStatus.CLOSED != thread.status):
            found[key] = thread
    return found


def first_threads(brand_id: int, channel: str, conversations: set[int]) -> dict[int, Thread]:
    """{conversation id: its first thread} (the customer who started it, as Twelp saw it):
    a later customer's thread in the conversation links to it (Thread.joined)."""
    first: dict[int, Thread] = {}
    rows = Thread.objects.filter(
        brand_id=brand_id, channel=channel, conversation_id__in=conversations
    ).order_by("created_at", "id")
    for thread in rows:
        first.setdefault(thread.conversation_id, thread)
    return first


def failed_text(thread: Thread, said: Conversation | None = None) -> str:
    """What the agent wrote, when X refused the thread's latest answer: the DM's words for
    a move to DM whose DM was refused, else the reply's own. Empty otherwise. (`said`: the
    thread's conversation, already read: its replies are all of them, oldest first.)"""
    if thread.status != ThreadStatus.CLAIMED:  # a refused answer hands the thread back
        return ""
    if said is not None:
        latest = said.replies[-1] if said.replies else None
    else:
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


# thread_customer_history: (customer, -created_at); built once per process (twelp.prepared).
_HISTORY = Prepared(
    lambda customer_id, thread_id: (
        Thread.objects.filter(customer_id=customer_id)
        .exclude(id=thread_id)
        .order_by("-created_at")[: HISTORY_LIMIT + 1]
    ),
    arity=2,
)


# The replies of those threads (not discarded), with their authors, oldest first.
_HISTORY_REPLIES = Prepared(
    lambda customer_id, thread_id: (
        Reply.objects.filter(
            thread_id__in=Thread.objects.filter(customer_id=customer_id)
            .exclude(id=thread_id)
            .order_by("-created_at")
            .values("id")[: HISTORY_LIMIT + 1]
        )
        .exclude(status=ReplyStatus.DISCARDED)
        .select_related("agent")
        .order_by("created_at", "id")
    ),
    arity=2,
)


def panel(thread: Thread) -> Panel:
    """Three queries whatever the history's size: threads, their replies, live mutes (one
    round trip on the thread page: `page_reads`)."""
    rows, replies, mutes = together(*_panel_reads(thread), prepare=True)
    return _panel(thread, rows, replies, mutes)


def _panel_reads(thread: Thread) -> tuple[Bound, Bound, Bound]:
    customer_id, thread_id = thread.customer_id, thread.id
    return (
        _HISTORY.bound_all(customer_id, thread_id),
        _HISTORY_REPLIES.bound_all(customer_id, thread_id),
        _LIVE_MUTES.bound_all(customer_id),
    )


def _panel(thread: Thread, rows: list[Thread], replies: list[Reply], mutes: list[Mute]) -> Panel:
    by_thread: dict[int, list[Reply]] = {}
    for reply in replies:
        by_thread.setdefault(reply.thread_id, []).append(reply)
    for row in rows:  # as prefetch_related("replies") leaves them: `row.replies.all`
        found = row.replies.all()
        found._result_cache = by_thread.get(row.id, [])  # noqa: SLF001
        found._prefetch_done = True  # noqa: SLF001
        row._prefetched_objects_cache = {"replies": found}  # noqa: SLF001
    return Panel(thread.customer, rows[:HISTORY_LIMIT], len(rows) > HISTORY_LIMIT, mutes)


@dataclass(frozen=True)
class PageReads:
    """What the thread page shows beside the thread itself (`page_reads`)."""

    said: Conversation
    notes: list[Note]
    joiners: list[Thread]
    panel: Panel


def page_reads(thread: Thread) -> PageReads:
    """The thread page's reads: its messages and replies, its notes, the threads that
    joined it, its customer's panel (history, their replies, live mutes). Seven statements
    in one round trip (twelp.prepared.together, prepared): on a busy box each round trip
    also waits for PostgreSQL to get a core, and these were seven of the page's nine (bench.day: the
    thread page took 57 ms in gunicorn at p50 against 12 ms on a quiet one)."""
    messages, replies, notes_, joiners_, *panel_rows = together(
        _MESSAGES.bound_all(thread.id),
        _REPLIES.bound_all(thread.id),
        _NOTES.bound_all(thread.id),
        _JOINERS.bound_all(thread.id),
        *_panel_reads(thread),
        prepare=True,
    )
    return PageReads(
        _conversation(thread, messages, replies), notes_, joiners_, _panel(thread, *panel_rows)
    )


def live_reads(thread: Thread) -> tuple[Conversation, list[Note]]:
    """The thread's conversation and notes (what its live parts show) in one round trip."""
    messages, replies, notes_ = together(
        _MESSAGES.bound_all(thread.id),
        _REPLIES.bound_all(thread.id),
        _NOTES.bound_all(thread.id),
        prepare=True,
    )
    return _conversation(thread, messages, replies), notes_


_LIVE_MUTES = Prepared(
    lambda customer_id: (
        Mute.objects.filter(customer_id=customer_id, lifted_at__isnull=True)
        .select_related("created_by")
        .order_by("kind")
    )
)


def live_mutes(customer: Customer) -> list[Mute]:
    return _LIVE_MUTES.all(customer.id)


_UNREAD = object()


def public_reply_refusal(
    thread: Thread, said: Conversation | None = None, *, latest: object = _UNREAD
) -> str | None:
    """Why X would refuse a public reply on this thread (inbox.rules.summons), or None:
    the brand's access is self-serve and the customer's latest post, the one a reply
    answers, never mentioned or quoted the brand. (`said`: the thread's conversation,
    already read; `latest`: its customer's latest tweet, or None, already read.)"""
    brand = thread.brand
    if thread.channel != Channel.TWEET or brand.x_access == Brand.XAccess.ENTERPRISE:
        return None
    if latest is not _UNREAD:
        pass
    elif said is not None and said.complete:
        inbound = [
            m
            for m in said.messages
            if m.channel == Channel.TWEET and m.direction == Message.Direction.IN
        ]
        latest = inbound[-1] if inbound else None  # ordered by (sent_at, x_id)
    else:
        latest = (
            Message.objects.filter(
                thread=thread, channel=Channel.TWEET, direction=Message.Direction.IN
            )
            .order_by("-sent_at", "-x_id")
            .first()
        )
    if latest is None:
        return None
    quoted = summons.quoted_ids(latest.raw)
    brand_tweets: set[int] = set()
    if quoted:  # the query built only when there is one to ask (most tweets quote nothing)
        ours = Message.objects.filter(brand=brand, direction=Message.Direction.OUT, x_id__in=quoted)
        brand_tweets = set(ours.values_list("x_id", flat=True))
    if summons.summons(
        latest.raw,
        text=latest.text,
        brand_id=brand.x_user_id,
        handle=brand.handle,
        brand_tweets=brand_tweets,
    ):
        return None
    return summons.refusal(brand.handle, thread.customer.handle)


_RETENTION = Prepared(
    lambda brand_id: RetentionRun.objects.filter(brand_id=brand_id).order_by("-started_at")
)


def latest_retention(brand: Brand) -> RetentionRun | None:
    """The brand's last retention sweep (inbox.data.retention), for the dashboard."""
    return _RETENTION.first(brand.id)


def latest_retention_read(brand: Brand) -> Bound:
    """`latest_retention` as a read (twelp.prepared.together: the dashboard's)."""
    return _RETENTION.bound_first(brand.id)


# --- issue 15: "@kim wrote again" (the reply form's stale check) ---------------------------


def latest_message_id(thread: Thread, said: Conversation | None = None) -> int:
    """The newest message of the thread (either way) the reply form is written against; 0
    for none (`said`: the conversation the page read, when it holds every message)."""
    if said is not None and said.complete:
        return max((m.id for m in said.messages), default=0)
    found = Message.objects.filter(thread=thread).order_by("-id").values_list("id", flat=True)
    return found.first() or 0


NEWER_LIMIT = 10
# On every send from a thread page (twelp.prepared).
_AFTER = Prepared(
    lambda thread_id, message_id: Message.objects.filter(
        thread_id=thread_id, id__gt=message_id
    ).order_by("id")[:NEWER_LIMIT],
    arity=2,
)


def messages_after(thread: Thread, message_id: int) -> list[Message]:
    """The thread's messages newer than `message_id`, oldest first (NEWER_LIMIT at most):
    what arrived while an agent was typing."""
    return _AFTER.all(thread.id, message_id)


def author_handle(thread: Thread, message: Message) -> str:
    """The @handle of a customer's message: the thread's customer, or another customer who
    wrote in it."""
    if message.author_x_id == thread.customer.x_user_id:
        return thread.customer.handle
    other = Customer.objects.filter(brand_id=thread.brand_id, x_user_id=message.author_x_id)
    return other.values_list("handle", flat=True).first() or thread.customer.handle
