"""Reads of X's posting budgets and of the waiting outbox (the reads layer): what each
brand account has left per kind, how many answers wait, where one answer stands in the
outbox's order and when it will go out. The numbers' rules are inbox.rules.budget; the
only writer of a PostingBudget is inbox.outbox.budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Case, CharField, Count, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from inbox.models import Brand, BrandTweet, Channel, PostingBudget, Reply, ReplyStatus
from inbox.rules import budget as rules
from inbox.rules.budget import DAY, DEFAULT_LIMITS, DMS, SHORT, TWEETS, Window
from twelp.prepared import Bound, Prepared, PreparedRows, together

PENDING = (ReplyStatus.QUEUED, ReplyStatus.SENDING)


def kind_of(channel: str) -> str:
    return DMS if channel == Channel.DM else TWEETS


def windows(row: PostingBudget | None, kind: str) -> list[Window]:
    """The budget's two windows; X's documented limits while nothing is known yet."""
    if row is None:
        limits = DEFAULT_LIMITS[kind]
        return [
            Window(SHORT, limits[SHORT], limits[SHORT], None),
            Window(DAY, limits[DAY], limits[DAY], None),
        ]
    return [
        Window(SHORT, row.limit, row.remaining, row.reset_at),
        Window(DAY, row.day_limit, row.day_remaining, row.day_reset_at),
    ]


@dataclass(frozen=True)
class BudgetView:
    """One budget as the queue, thread page and dashboard show it."""

    kind: str
    left: int
    limit: int
    resets_at: datetime | None
    day_left: int
    day_limit: int
    day_resets_at: datetime | None
    waiting: int
    paused_until: datetime | None  # spent: nothing goes before this

    @property
    def label(self) -> str:
        """The kind's name in the reader's language, looked up when shown: a BudgetView is
        kept in the cache for every reader (inbox.queries.outbox_state), and a lazy
        translation inside it cost more to unpickle than the rest of it."""
        return PostingBudget.Kind(self.kind).label


# The reads below run on every thread page, reply and queue version; their SQL is built by
# the ORM once per process (twelp.prepared): compiling it cost more than running it.
_ROWS = Prepared(lambda brand_id: PostingBudget.objects.filter(brand_id=brand_id).order_by("id"))


def budgets(brand: Brand, now: datetime) -> list[BudgetView]:
    """Posts and DMs of the brand's account, in that order (two queries)."""
    rows, waiting = together(*budgets_reads(brand))
    return views_of(rows, waiting, now)


def budgets_reads(brand: Brand) -> tuple[Bound, Bound]:
    """`budgets` as two reads (twelp.prepared.together: the dashboard reads them with its
    figures); `views_of` makes the views of theirs."""
    return _ROWS.bound_all(brand.id), _WAITING.bound(brand.id).then(_waiting_by_kind)


def views_of(rows: list[PostingBudget], waiting: dict[str, int], now: datetime) -> list[BudgetView]:
    rows = {row.kind: row for row in rows}
    views = []
    for kind in rules.KINDS:
        short, day = windows(rows.get(kind), kind)
        spent = [w.reset_at for w in (short, day) if w.left(now) <= 0 and w.reset_at]
        views.append(
            BudgetView(
                kind=kind,
                left=short.left(now),
                limit=short.limit,
                resets_at=short.reset_at if short.is_open(now) else None,
                day_left=day.left(now),
                day_limit=day.limit,
                day_resets_at=day.reset_at if day.is_open(now) else None,
                waiting=waiting.get(kind, 0),
                paused_until=max(spent, default=None),
            )
        )
    return views


def _waiting(brand_id: int) -> QuerySet[Reply]:
    answers = (
        Reply.objects.filter(thread__brand_id=brand_id, status__in=PENDING)
        .values_list("channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    tweets = (
        BrandTweet.objects.filter(brand_id=brand_id, status__in=PENDING)
        .annotate(channel=Value(Channel.TWEET.value, output_field=CharField()))
        .values_list("channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    return answers.union(tweets, all=True)


_WAITING = PreparedRows(_waiting)


def waiting_counts(brand: Brand) -> dict[str, int]:
    """Answers (and approved brand tweets) not yet on X, per kind (one query)."""
    return _waiting_by_kind(_WAITING.rows(brand.id))


def _waiting_by_kind(rows: list[tuple[str, int]]) -> dict[str, int]:
    counts = {TWEETS: 0, DMS: 0}
    for channel, n in rows:
        counts[kind_of(channel)] += n
    return counts


# --- the order (inbox.rules.budget, point 3) and the estimate ---------------------------


def _classed(replies: QuerySet[Reply], brand: Brand, now: datetime) -> QuerySet[Reply]:
    return _classed_before(replies, now - brand.sla_first_response)


def _classed_before(replies: QuerySet[Reply], breached_before: datetime) -> QuerySet[Reply]:
    return replies.annotate(
        order_class=Case(
            When(thread__waiting_since__lte=breached_before, then=Value(rules.BREACHED)),
            When(thread__priority__gte=rules.URGENT_PRIORITY, then=Value(rules.URGENT)),
            default=Value(rules.OTHER),
            output_field=IntegerField(),
        )
    )


def waiting_in_order(brand: Brand, kind: str, now: datetime) -> QuerySet[Reply]:
    """The brand's queued answers of `kind`, in the order they go out."""
    channel = Channel.DM if kind == DMS else Channel.TWEET
    queued = Reply.objects.filter(thread__brand=brand, channel=channel, status=ReplyStatus.QUEUED)
    return _classed(queued, brand, now).order_by("order_class", "created_at", "id")


def order_class(reply: Reply, now: datetime) -> int:
    thread = reply.thread
    return rules.order_class(
        waiting_since=thread.waiting_since,
        sla=thread.brand.sla_first_response,
        priority=thread.priority,
        now=now,
    )


def _ahead(channel: str) -> PreparedRows:
    """waiting_in_order's answers of `channel` before one of them: (brand id, its id, its
    order class, the brand's "breached before" instant, its created_at)."""

    def build(brand_id, reply_id, mine, breached_before, created_at) -> QuerySet[Reply]:
        queued = Reply.objects.filter(
            thread__brand_id=brand_id, channel=channel, status=ReplyStatus.QUEUED
        )
        before = Q(order_class__lt=mine) | Q(order_class=mine, created_at__lt=created_at)
        before |= Q(order_class=mine, created_at=created_at, id__lt=reply_id)
        others = _classed_before(queued, breached_before).exclude(id=reply_id)
        return others.filter(before).values_list("id")

    return PreparedRows(build, arity=3, times=2)


_AHEAD = {channel: _ahead(channel) for channel in (Channel.TWEET, Channel.DM)}


def ahead(reply: Reply, now: datetime) -> int:
    """Queued answers of the same brand and kind that go out before `reply`."""
    brand = reply.thread.brand
    channel = Channel.DM if kind_of(reply.channel) == DMS else Channel.TWEET
    breached_before = now - brand.sla_first_response
    mine = order_class(reply, now)
    return _AHEAD[channel].count(brand.id, reply.id, mine, breached_before, reply.created_at)


@dataclass(frozen=True)
class Estimate:
    at: datetime
    ahead: int
    now: bool  # the budget has room for it at once

    @property
    def label(self) -> str:
        """ "about 14:05 UTC, 23 ahead", as Send and the thread page say it."""
        if self.now:
            return _("now, %(ahead)s ahead") % {"ahead": self.ahead}
        return _("about %(time)s UTC, %(ahead)s ahead") % {
            "time": f"{self.at.astimezone(UTC):%H:%M}",
            "ahead": self.ahead,
        }


def estimate(reply: Reply, now: datetime) -> Estimate:
    """When `reply` will go out, and how many go before it (inbox.rules.budget, point 4)."""
    kind = kind_of(reply.channel)
    row = next((r for r in _ROWS.all(reply.thread.brand_id) if r.kind == kind), None)
    before = ahead(reply, now)
    at = max(rules.estimate(before, windows(row, kind), now), reply.next_attempt_at or now)
    return Estimate(at=at, ahead=before, now=at <= now)
