"""Search: customers' messages (tweets and DMs), our replies and the internal notes,
newest first, with the customers whose handle, name or tags match.

1. Scope: always the reader's own brand (a trainee's Agent belongs to the training
   brand, so a trainee searches only practice threads), and DMs only for who may see
   them (`sees_dms`: today every employee of the brand, as the thread page allows; an
   API token only when made with `dms`). The reader is a `Reader`: an employee's
   (`Reader.of`) or an API token's (inbox.api), the same search for both.
2. Text: to_tsvector('english', text) @@ websearch_to_tsquery('english', words), the very
   stored column of the GIN indexes message/reply/note_search_gin (rule 5).
   Handles and names: ILIKE '%..%' on UPPER(col), the trigram indexes' expression.
3. Paging: a keyset over (time desc, kind, id desc) across the three kinds: each kind
   reads at most PAGE_SIZE + 1 rows after the cursor, the pages are merged here. Never
   OFFSET, never a COUNT.
4. With words, two steps, so that a query costs neither the table nor every match of a
   common word (BENCHMARKS.md, issue 17):
   a. the walk: the time of the WALK-th newest row of the kind in scope is read first
      (message_search_recent / reply_search_recent alone, after the cursor); the rows
      since then are walked newest first, each tested against the stored tsvector
      (`search`) and the filters, stopping at a full page. If it finds one, or the scope
      holds fewer than WALK rows, that is the page (the newest matches, in order).
   b. otherwise the text index: the GIN index decides which rows match (a rare word, a
      word only in old rows, strict filters), sorted by `time + 0`, an expression no
      index provides, so PostgreSQL never walks every row testing each one.
   A search scoped to customers (a handle, a tag) skips the walk: their threads are few.
5. The text is the stored column `search`, to_tsvector('english', text) (migration
   0027_search_stored): a phrase's recheck and the walk read it, never parse the text
   again, and PostgreSQL keeps statistics of its words.
6. Rare words go straight to the text index (`_rare_first`): PostgreSQL's own estimate of
   the words' matches (EXPLAIN's row count for `search @@ query`, from the column's
   statistics, most_common_elems) against the table's rows says how many matches the
   newest WALK rows should hold; fewer than a page and the walk would be wasted (rule 4a
   then 4b), so 4b alone runs. A wrong guess costs time, never results: both steps give
   the same page.
7. A search is a few short reads, each bounded by a page after an index: for its
   transaction PostgreSQL's parallel workers (max_parallel_workers_per_gather) are off,
   they cost more to start than they save, and so are hash joins (enable_hashjoin): one
   comes only from a rare word's misestimate (a word absent from the column's statistics
   is guessed at 0.5% of the rows: 5,000 at 1M messages for 500 found), and then hashes
   every thread (400-1,600 ms at 1M without workers, against 35 ms by the threads' primary
   key; BENCHMARKS.md, issue 17, third pass).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    QuerySet,
    Value,
)

from inbox.models import (
    SEARCH_CONFIG,
    Channel,
    Customer,
    Message,
    Note,
    Reply,
    ReplyStatus,
    Thread,
)
from inbox.rules import keyset
from inbox.search.terms import Terms

if TYPE_CHECKING:
    from agents.models import Agent

PAGE_SIZE = 25
CUSTOMERS_SHOWN = 10
CUSTOMERS_SCOPED = 200  # a handle or tag narrows items to at most this many customers
WALK = 2000  # rule 4a: the newest rows a word search tests before asking the text index

MESSAGE, REPLY, NOTE = 0, 1, 2
KIND_NAMES = {MESSAGE: "message", REPLY: "reply", NOTE: "note"}


@dataclass(frozen=True)
class Filters:
    status: str = ""
    source_id: int | None = None
    channel: str = ""
    agent_id: int | None = None
    since: date | None = None  # inclusive, in the brand's time zone
    until: date | None = None  # inclusive
    customer_id: int | None = None
    has_image: bool = False  # customers' messages with an attachment (replies, notes have none)
    lang: str = ""  # X's `lang`: a message's own; a reply's or note's, its thread's


@dataclass(frozen=True)
class Cursor:
    at: datetime
    kind: int
    id: int

    def encode(self) -> str:
        return keyset.encode(self.at, self.kind, self.id)

    @classmethod
    def decode(cls, value: str) -> Cursor | None:
        position = keyset.decode(value, datetime, int, int)
        if position is None or position[1] not in KIND_NAMES:
            return None
        return cls(*position)  # type: ignore[arg-type]


@dataclass
class Hit:
    kind: int
    id: int
    at: datetime
    text: str
    thread: Thread
    author: str  # "@handle" of the customer, or the employee's name
    media: list[object] = field(default_factory=list)  # Message.media; shown by the page

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]


@dataclass(frozen=True)
class Page:
    hits: list[Hit]
    customers: list[Customer]
    next_cursor: Cursor | None


@dataclass(frozen=True)
class Reader:
    """Whose search: the brand it reads, its time zone (for since/until), DMs or not."""

    brand_id: int
    timezone: str
    dms: bool

    @classmethod
    def of(cls, agent: Agent) -> Reader:
        return cls(agent.brand_id, agent.brand.timezone, sees_dms(agent))


def sees_dms(agent: Agent) -> bool:
    """Who may find DMs: the thread page shows a DM thread to every active employee of
    its brand (queries.access_thread has no channel rule), so search does too. The one
    place to change should DMs become a permission of their own."""
    return agent.is_active


def search(
    who: Agent | Reader, terms: Terms, filters: Filters, after: Cursor | None = None
) -> Page:
    agent = who if isinstance(who, Reader) else Reader.of(who)
    with transaction.atomic():
        _no_parallel_workers()
        return _search(agent, terms, filters, after)


def _search(agent: Reader, terms: Terms, filters: Filters, after: Cursor | None) -> Page:
    customers = _customers(agent, terms) if terms.handles or terms.tags else None
    shown = customers if customers is not None else _name_matches(agent, terms)
    scoped = [c.id for c in customers] if customers is not None else None
    if filters.customer_id is not None:
        scoped = (
            [filters.customer_id]
            if scoped is None
            else [c for c in scoped if c == filters.customer_id]
        )
    if scoped == []:
        return Page([], shown[:CUSTOMERS_SHOWN] if after is None else [], None)
    hits: list[Hit] = []
    walked = _walked(terms, filters, scoped)
    for kind in (MESSAGE, REPLY, NOTE):
        if kind != MESSAGE and scoped is not None and not terms.words:
            continue  # "@kim" alone lists Kim's own words, not every answer to her
        if kind != MESSAGE and filters.has_image:
            continue
        rows = _rows(kind, agent, terms, filters, scoped)
        if after is not None:
            rows = rows.filter(_after(kind, after))
        first = _first(kind, rows, agent, terms, filters, after, walk=kind in walked)
        hits.extend(_hit(kind, row) for row in first)
    hits.sort(key=lambda h: (h.at, -h.kind, h.id), reverse=True)
    next_cursor = None
    if len(hits) > PAGE_SIZE:
        last = hits[PAGE_SIZE - 1]
        hits, next_cursor = hits[:PAGE_SIZE], Cursor(last.at, last.kind, last.id)
    return Page(hits, shown[:CUSTOMERS_SHOWN] if after is None else [], next_cursor)


_TIME = {MESSAGE: "sent_at", REPLY: "created_at", NOTE: "created_at"}


def _rows(
    kind: int, agent: Reader, terms: Terms, filters: Filters, customers: list[int] | None
) -> QuerySet:
    prefix = "" if kind == MESSAGE else "thread__"
    if kind == MESSAGE:
        rows = Message.objects.filter(brand_id=agent.brand_id, direction=Message.Direction.IN)
        rows = rows.select_related("thread__customer").defer("raw")  # X's payload: unshown
    elif kind == REPLY:
        rows = Reply.objects.filter(thread__brand_id=agent.brand_id).exclude(
            status=ReplyStatus.DISCARDED
        )
        rows = rows.select_related("thread__customer", "agent")
    else:
        rows = Note.objects.filter(thread__brand_id=agent.brand_id)
        rows = rows.select_related("thread__customer", "agent")
    if not agent.dms:
        rows = rows.exclude(**{f"{prefix}channel": Channel.DM})
    # X says this content must not be shown (inbox.data.compliance: protected, suspended,
    # withheld): not in search either.
    rows = rows.filter(thread__x_hidden="")
    if kind == MESSAGE:
        rows = rows.filter(x_hidden="")
    rows = rows.defer("search")  # the tsvector: tested in the database, never shown
    if customers is not None:
        rows = rows.filter(thread__customer_id__in=customers)
    return rows.filter(_filters(kind, agent, filters, prefix))


def _no_parallel_workers() -> None:
    """Rule 7, for the caller's transaction alone (SET LOCAL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('max_parallel_workers_per_gather', '0', true),"
            " set_config('enable_hashjoin', 'off', true)"
        )


def _walked(terms: Terms, filters: Filters, scoped: list[int] | None) -> frozenset[int]:
    """The kinds whose words rule 4a walks: messages and replies, when the search has
    words and no customer scope, less those whose words are rare (rule 6)."""
    if not terms.words or scoped is not None or filters.customer_id is not None:
        return frozenset()
    return frozenset({MESSAGE, REPLY}) - _rare_first(terms.words)


_TABLES = {MESSAGE: Message, REPLY: Reply}
_PHRASE = re.compile(r'"([^"]*)"?')


def _rare_first(words: str) -> frozenset[int]:
    """Rule 6: the kinds (messages, replies) where PostgreSQL expects the newest WALK rows
    to hold fewer matches of `words` than a page. One EXPLAIN (planned, never run) of
    `search @@ query` and of the whole table for each kind, its rows estimated from the
    statistics ANALYZE keeps of the column (pg_stats.most_common_elems). PostgreSQL
    estimates a phrase as its words found anywhere (the product of their frequencies),
    far below the truth for words that go together ("label created": 1% estimated, 10%
    found); so a phrase is estimated as any of its words, an upper bound: a phrase of
    common words is walked, as before this rule."""
    loose = _PHRASE.sub(lambda m: " or ".join(m[1].split()) or " ", words)
    query = SearchQuery(loose, config=SEARCH_CONFIG, search_type="websearch")
    branches = []
    for model in _TABLES.values():
        branches.append(model.objects.filter(search=query).values_list("id"))
        branches.append(model.objects.values_list("id"))
    plan = json.loads(branches[0].union(*branches[1:], all=True).explain(format="json"))
    estimates = [branch["Plan Rows"] for branch in plan[0]["Plan"]["Plans"]]
    rare = set()
    for n, kind in enumerate(_TABLES):
        matches, rows = estimates[2 * n], estimates[2 * n + 1]
        if rows > 0 and matches / rows * WALK < PAGE_SIZE + 1:
            rare.add(kind)
    return frozenset(rare)


def _first(
    kind: int,
    rows: QuerySet,
    agent: Reader,
    terms: Terms,
    filters: Filters,
    after: Cursor | None,
    *,
    walk: bool,
) -> list[Message | Reply | Note]:
    """The first PAGE_SIZE + 1 of `rows`, newest first (rule 4); `walk`: try rule 4a."""
    column = _TIME[kind]
    newest = rows.order_by(f"-{column}", "-id")
    if not terms.words:
        return list(newest[: PAGE_SIZE + 1])
    query = SearchQuery(terms.words, config=SEARCH_CONFIG, search_type="websearch")
    if walk:
        floor = _floor(kind, agent, filters, after)
        # ts_match_vq is `search @@ query` in a form no index serves: the walk tests the
        # rows of its short range, never reads every match of the word from the GIN index.
        tested = Func(F("search"), query, function="ts_match_vq", output_field=BooleanField())
        walked = newest.filter(tested)
        if floor is not None:
            walked = walked.filter(**{f"{column}__gte": floor})
        found = list(walked[: PAGE_SIZE + 1])
        if floor is None or len(found) > PAGE_SIZE:
            return found  # the walk covered the whole scope, or found a full page
    at = ExpressionWrapper(F(column) + Value(timedelta(0)), output_field=DateTimeField())
    found = rows.filter(search=query).annotate(at=at).order_by("-at", "-id")
    return list(found[: PAGE_SIZE + 1])


def _floor(kind: int, agent: Reader, filters: Filters, after: Cursor | None) -> datetime | None:
    """Rule 4a's bound: the time of the kind's WALK-th newest row of the brand after the
    cursor and within the dates (read from the newest-first index alone), or None when
    there are fewer. Sent to the walk as a value, so PostgreSQL plans a short index range
    and stops at the page's last row. For replies the WALK rows are every brand's (joining
    each to its thread for the brand cost more than the walk): where other brands write
    most replies, the walk finds a page less often and the text index answers instead."""
    if kind == MESSAGE:
        rows = Message.objects.filter(brand_id=agent.brand_id, direction=Message.Direction.IN)
    else:  # a reply has no brand of its own: every brand's, an index-only read (see below)
        rows = Reply.objects.all()
    if after is not None:
        rows = rows.filter(_after(kind, after))
    rows = rows.filter(_filters(kind, agent, Filters(since=filters.since, until=filters.until), ""))
    column = _TIME[kind]
    return (
        rows.order_by(f"-{column}", "-id").values_list(column, flat=True)[WALK - 1 : WALK].first()
    )


def _filters(kind: int, agent: Reader, filters: Filters, prefix: str) -> Q:
    q = Q()
    if filters.status:
        q &= Q(thread__status=filters.status)
    if filters.has_image and kind == MESSAGE:
        q &= ~Q(media=[])
    if filters.source_id is not None:
        q &= Q(thread__source_id=filters.source_id)
    if filters.channel:
        q &= Q(**{f"{prefix}channel": filters.channel})
    if filters.lang:
        q &= Q(lang=filters.lang) if kind == MESSAGE else Q(thread__lang=filters.lang)
    if filters.agent_id is not None:
        if kind == MESSAGE:  # the customer's words in threads the employee answered or holds
            q &= Q(thread__last_answered_by_id=filters.agent_id) | Q(
                thread__claimed_by_id=filters.agent_id
            )
        else:  # what the employee wrote
            q &= Q(agent_id=filters.agent_id)
    column = _TIME[kind]
    zone = _zone(agent)
    if filters.since is not None:
        q &= Q(**{f"{column}__gte": datetime.combine(filters.since, time(), zone)})
    if filters.until is not None:
        end = datetime.combine(filters.until + timedelta(days=1), time(), zone)
        q &= Q(**{f"{column}__lt": end})
    return q


def _after(kind: int, after: Cursor) -> Q:
    """Rows after the cursor in (time desc, kind asc, id desc) order, for one kind."""
    column = _TIME[kind]
    if kind > after.kind:
        return Q(**{f"{column}__lte": after.at})
    if kind < after.kind:
        return Q(**{f"{column}__lt": after.at})
    # The first term repeats what the OR says, as a bound an index range can start from.
    return Q(**{f"{column}__lte": after.at}) & (
        Q(**{f"{column}__lt": after.at}) | Q(**{column: after.at, "id__lt": after.id})
    )


def _hit(kind: int, row: Message | Reply | Note) -> Hit:
    thread = row.thread
    if kind == MESSAGE:
        handle = f"@{thread.customer.handle}"
        return Hit(kind, row.id, row.sent_at, row.text, thread, handle, row.media)
    author = row.agent.name if row.agent is not None else "Auto-reply"
    return Hit(kind, row.id, row.created_at, row.text, thread, author)


def _customers(agent: Reader, terms: Terms) -> list[Customer]:
    """Customers any of whose handle or name contains any @handle typed, and tagged with
    every #tag typed; at most CUSTOMERS_SCOPED, best known first."""
    rows = Customer.objects.filter(brand_id=agent.brand_id, x_hidden="")
    if terms.handles:
        match = Q()
        for handle in terms.handles:
            match |= Q(handle__icontains=handle)
        rows = rows.filter(match)
    if terms.tags:
        rows = rows.filter(tags__contains=list(terms.tags))
    return list(rows.order_by("-followers_count", "id")[:CUSTOMERS_SCOPED])


def _name_matches(agent: Reader, terms: Terms) -> list[Customer]:
    """For a plain word, the customers whose handle or name holds it (shown, not scoped)."""
    word = terms.words.strip('"')
    if not word or len(word) < 3 or " " in word:
        return []
    rows = Customer.objects.filter(
        Q(handle__icontains=word) | Q(name__icontains=word), brand_id=agent.brand_id, x_hidden=""
    )
    return list(rows.order_by("-followers_count", "id")[:CUSTOMERS_SHOWN])


def _zone(agent: Reader) -> ZoneInfo:
    try:
        return ZoneInfo(agent.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
