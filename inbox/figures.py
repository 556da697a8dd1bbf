"""The supervisors' dashboard and /metrics: a fixed set of bounded reads.

Every read here is one of: the pre-aggregated rows (inbox.rollups), a few rows of small
tables (sources, employees), or an index range over live rows with a LIMIT (the longest
waits, the claims, the outbox's pending and failed replies). None reads Event history
and none counts closed threads, so the cost is the same at 10k and 10M threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from agents.models import Agent, AgentState
from inbox import budgets, rollups
from inbox.live import presence
from inbox.models import Brand, Reply, ReplyStatus, Source, Thread, ThreadStatus
from inbox.rules import sla
from twelp.prepared import Bound, Prepared, PreparedRows, together

if TYPE_CHECKING:
    from inbox.rollups import Hour, Window

LIVE = (ThreadStatus.OPEN, ThreadStatus.CLAIMED, ThreadStatus.ANSWERED)
SLA_COUNT_CAP = 1000  # beyond this the dashboard says "1000+": a count must stay cheap
LONGEST = 5
FAILED_SHOWN = 20
HOLDINGS_CAP = 2000


@dataclass(frozen=True)
class SourceDepth:
    source: Source | None
    counts: dict[str, int]

    @property
    def label(self) -> str:
        return str(self.source) if self.source else gettext("No source (DMs, imports)")


@dataclass(frozen=True)
class SlaNow:
    breached: int
    near: int  # nearing, not yet past
    capped: bool


class Member(NamedTuple):
    """What the Team table shows of an employee. Plain values, not a model: a Team row is
    kept by what it shows (inbox.templatetags.kept), and the key of 50 rows of plain
    tuples costs a fraction of 50 model instances' (issue 14: a changed dashboard)."""

    id: int
    name: str
    credit_code: str
    initials: str


class Held(NamedTuple):
    """A thread an employee holds, as the Team table links it."""

    id: int
    handle: str  # its customer's


@dataclass
class AgentRow:
    agent: Member
    online_since: datetime | None = None
    holds: list[Held] = field(default_factory=list)
    today: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Spend:
    """What X charged the brand's account for what it posted (inbox.rules.cost), in US
    dollars: today and this month, UTC."""

    today: Decimal
    month: Decimal


_SPEND = """
    SELECT COALESCE(SUM(cost) FILTER (WHERE posted_at >= %s), 0),
           COALESCE(SUM(cost) FILTER (WHERE posted_at < %s), 0)
    FROM (
        SELECT r.cost, r.posted_at FROM inbox_reply r JOIN inbox_thread t ON t.id = r.thread_id
        WHERE t.brand_id = %s AND r.status = 'posted' AND r.posted_at >= %s
        UNION ALL
        SELECT cost, posted_at FROM inbox_brandtweet
        WHERE brand_id = %s AND status = 'posted' AND posted_at >= %s
    ) AS posted
"""
SPEND_SEALED_TTL = 2 * 86400  # seconds; a month's days before today are reused for a day


def spend_read(brand: Brand, now: datetime) -> Bound:
    """What X charged today and this month, UTC. The month's days before today are final
    once today is SEAL_GRACE old (a reply's posted_at is stamped when it is marked posted,
    in a short transaction; a posted row's cost and status never change again and posted
    rows are never deleted): their sum is kept in Redis for the day, so a request reads
    only today's posted rows, not the month's."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    key = f"spend-sealed:{brand.id}:{month:%Y%m%d}:{day:%Y%m%d}"
    sealed = cache.get(key) if day > month and now - day >= rollups.SEAL_GRACE else None
    start = month if sealed is None else day
    params = [day, day, brand.id, start, brand.id, start]

    def finish(rows: list[tuple]) -> Spend:
        today, before = (Decimal(value) for value in rows[0])
        if sealed is None:
            if day > month and now - day >= rollups.SEAL_GRACE:
                cache.set(key, before, SPEND_SEALED_TTL)
            return Spend(today=today, month=before + today)
        return Spend(today=today, month=sealed + today)

    return Bound(_SPEND, params, DEFAULT_DB_ALIAS, finish)


def spend(brand: Brand, now: datetime) -> Spend:
    return together(spend_read(brand, now))[0]


@dataclass(frozen=True)
class Outbox:
    queued: int
    sending: int
    failed: list[Reply]
    failed_capped: bool
    budgets: list[budgets.BudgetView]
    spend: Spend


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    depth: list[SourceDepth]
    totals: dict[str, int]
    longest: list[Thread]
    sla: SlaNow
    windows: list[Window]
    hours: list[Hour]
    agents: list[AgentRow]
    sources: list[Source]
    outbox: Outbox

    @property
    def oldest(self) -> Thread | None:
        return self.longest[0] if self.longest else None

    @property
    def online(self) -> int:
        return sum(1 for row in self.agents if row.online_since)


def build(
    brand: Brand, now: datetime | None = None, budget_views: list[budgets.BudgetView] | None = None
) -> Dashboard:
    """`budget_views`: the brand account's budgets as the caller has them already (the
    dashboard's, inbox.queries.outbox_state: shared with the queue for a version), else read."""
    return build_with(brand, now, budget_views)[0]


def build_with(
    brand: Brand,
    now: datetime | None = None,
    budget_views: list[budgets.BudgetView] | None = None,
    also: tuple[Bound, ...] = (),
) -> tuple[Dashboard, list[object]]:
    """The dashboard, and the results of the caller's `also` reads, all read in one round
    trip (twelp.prepared.together): every statement's SQL is built once per process, each
    is run as before, one after the other, on one execute."""
    now = now or timezone.now()
    reads: dict[str, Bound] = {
        "sources": _SOURCES.bound_all(brand.id),
        "counts": rollups.queue_counts_read(brand),
        "longest": _LONGEST.bound_all(brand.id),
        "windows": rollups.windows_read(brand, now),
        "hours": rollups.hourly_read(brand, now),
        "agents": _AGENTS.bound(brand.id).then(_members),
        "held": _HELD.bound(brand.id).then(_held),
        "today": rollups.per_agent_today_read(brand, now),
        "pending": _PENDING.bound(brand.id).then(
            lambda rows: {status: int(n) for status, n in rows}
        ),
        "failed": _FAILED.bound_all(brand.id),
        "spend": spend_read(brand, now),
    }
    late = sla_read(brand, now)
    if late is not None:
        reads["sla"] = late
    found = together(*reads.values(), *also)
    got = dict(zip(reads, found, strict=False))
    sources = got["sources"]
    depth, totals = _depth(sources, got["counts"])
    pending, failed = got["pending"], got["failed"]
    dashboard = Dashboard(
        now=now,
        depth=depth,
        totals=totals,
        longest=got["longest"],
        sla=got.get("sla", SlaNow(0, 0, capped=False)),
        windows=got["windows"],
        hours=got["hours"],
        agents=_agent_rows(brand, got["agents"], got["held"], got["today"]),
        sources=sources,
        outbox=Outbox(
            queued=pending.get(ReplyStatus.QUEUED, 0),
            sending=pending.get(ReplyStatus.SENDING, 0),
            failed=failed[:FAILED_SHOWN],
            failed_capped=len(failed) > FAILED_SHOWN,
            budgets=budgets.budgets(brand, now) if budget_views is None else budget_views,
            spend=got["spend"],
        ),
    )
    return dashboard, found[len(reads) :]


def queue_depth(brand: Brand, sources: list[Source]) -> tuple[list[SourceDepth], dict[str, int]]:
    return _depth(sources, rollups.queue_counts(brand))


def _depth(
    sources: list[Source], counts: dict[tuple[int | None, str], int]
) -> tuple[list[SourceDepth], dict[str, int]]:
    by_id: dict[int | None, Source | None] = {s.id: s for s in sources}
    rows: dict[int | None, dict[str, int]] = {s.id: {} for s in sources}
    totals = dict.fromkeys(ThreadStatus.values, 0)
    for (source_id, status), n in counts.items():
        row = rows.setdefault(source_id if source_id in by_id else None, {})
        row[status] = row.get(status, 0) + n
        totals[status] = totals.get(status, 0) + n
    depth = [SourceDepth(by_id.get(key), row) for key, row in rows.items()]
    return depth, totals


@dataclass(frozen=True)
class Bar:
    """One bar; coordinates already formatted for the SVG (no per-number template work)."""

    x: str
    y: str
    height: str
    value: int
    label: str


@dataclass(frozen=True)
class Chart:
    """Two series of bars (in, out) per hour, laid out for a server-rendered SVG."""

    width: int
    height: int
    bar_width: str
    top: int
    arrived: list[Bar]
    posted: list[Bar]
    ticks: list[tuple[str, str]]


def hourly_chart(hours: list[Hour], tz, width: int = 720, height: int = 160) -> Chart:
    plot = height - 20  # room for the hour labels
    top = max([h.arrived for h in hours] + [h.posted for h in hours] + [1])
    slot = width / max(len(hours), 1)

    def bars(values: list[int], offset: float) -> list[Bar]:
        out = []
        for i, (hour, value) in enumerate(zip(hours, values, strict=True)):
            tall = plot * value / top
            label = f"{hour.start.astimezone(tz):%H:00}"
            out.append(
                Bar(f"{i * slot + offset:.1f}", f"{plot - tall:.1f}", f"{tall:.1f}", value, label)
            )
        return out

    ticks = [
        (f"{i * slot + slot / 2:.1f}", f"{h.start.astimezone(tz):%H}")
        for i, h in enumerate(hours)
        if i % 3 == 0
    ]
    return Chart(
        width,
        height,
        f"{slot * 0.4:.1f}",
        top,
        bars([h.arrived for h in hours], slot * 0.1),
        bars([h.posted for h in hours], slot * 0.5),
        ticks,
    )


def _longest(brand_id: int, limit: int = LONGEST):
    return (
        Thread.objects.filter(
            brand_id=brand_id, status__in=(ThreadStatus.OPEN, ThreadStatus.CLAIMED)
        )
        .select_related("customer", "claimed_by")
        .order_by("waiting_since", "id")[:limit]
    )


# The dashboard's reads, their SQL built once per process (twelp.prepared).
_LONGEST = Prepared(_longest)
_SOURCES = Prepared(
    lambda brand_id: Source.objects.filter(brand_id=brand_id).order_by("kind", "query", "id")
)
# Only what the dashboard's Team table shows, as plain rows (Member, Held).
_AGENTS = PreparedRows(
    lambda brand_id: (
        Agent.objects.filter(brand_id=brand_id, state=AgentState.ACTIVE)
        .order_by("name", "id")
        .values_list(*Member._fields)
    )
)
_HELD = PreparedRows(
    lambda brand_id: (
        Thread.objects.filter(brand_id=brand_id, status=ThreadStatus.CLAIMED)
        .order_by("claimed_by_id", "waiting_since", "id")
        .values_list("claimed_by_id", "id", "customer__handle")[:HOLDINGS_CAP]
    )
)


def _members(rows: list[tuple]) -> list[Member]:
    return [Member(*row) for row in rows]


def _held(rows: list[tuple]) -> list[tuple[int, Held]]:
    """(holder's id, the thread held), in the holder's order of waiting."""
    return [(holder, Held(thread_id, handle)) for holder, thread_id, handle in rows]


_PENDING = PreparedRows(
    lambda brand_id: (
        Reply.objects.filter(
            thread__brand_id=brand_id, status__in=(ReplyStatus.QUEUED, ReplyStatus.SENDING)
        )
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
)
_FAILED = Prepared(
    lambda brand_id: (
        Reply.objects.filter(thread__brand_id=brand_id, status=ReplyStatus.FAILED)
        .select_related("agent", "thread__customer")
        .order_by("-created_at", "-id")[: FAILED_SHOWN + 1]
    )
)


def longest_waiting(brand: Brand, limit: int = LONGEST) -> list[Thread]:
    """The customers waiting longest for an answer (open or claimed), oldest first."""
    if limit == LONGEST:
        return _LONGEST.all(brand.id)
    return list(_longest(brand.id, limit))


_SLA = """
    SELECT count(*) FILTER (WHERE waiting_since < %s), count(*) FROM (
        SELECT waiting_since FROM inbox_thread
        WHERE brand_id = %s AND status IN ('open', 'claimed') AND waiting_since < %s
        ORDER BY waiting_since LIMIT %s
    ) AS late
"""


def sla_read(brand: Brand, now: datetime) -> Bound | None:
    """sla_now's read; None when the brand has no target to count against."""
    cutoffs = sla.BrandSla(brand, now).cutoffs
    if cutoffs.near is None:
        return None
    params = [cutoffs.breach or cutoffs.near, brand.id, cutoffs.near, SLA_COUNT_CAP]

    def finish(rows: list[tuple]) -> SlaNow:
        breached, late = rows[0]
        if cutoffs.breach is None:
            breached = 0
        return SlaNow(breached, late - breached, capped=late >= SLA_COUNT_CAP)

    return Bound(_SLA, params, DEFAULT_DB_ALIAS, finish)


def sla_now(brand: Brand, now: datetime) -> SlaNow:
    """Threads past, and nearing, the first-response target (business hours), capped."""
    read = sla_read(brand, now)
    return SlaNow(0, 0, capped=False) if read is None else together(read)[0]


def agent_rows(brand: Brand, now: datetime) -> list[AgentRow]:
    """Who is online, what each holds, what each did today. Online first, then by name;
    offline employees only if they hold a thread or worked today."""
    agents, held, today = together(
        _AGENTS.bound(brand.id).then(_members),
        _HELD.bound(brand.id).then(_held),
        rollups.per_agent_today_read(brand, now),
    )
    return _agent_rows(brand, agents, held, today)


def _agent_rows(
    brand: Brand,
    agents: list[Member],
    held: list[tuple[int, Held]],
    today: dict[int, dict[str, int]],
) -> list[AgentRow]:
    rows = {agent.id: AgentRow(agent) for agent in agents}
    for agent_id, when in presence.last_seen(brand.id, rows).items():
        rows[agent_id].online_since = when
    for holder, thread in held:
        if holder in rows:
            rows[holder].holds.append(thread)
    for agent_id, done in today.items():
        if agent_id in rows:
            rows[agent_id].today = done
    shown = [r for r in rows.values() if r.online_since or r.holds or r.today]
    return sorted(shown, key=lambda r: (r.online_since is None, r.agent.name.lower(), r.agent.id))


def outbox(
    brand: Brand, now: datetime, budget_views: list[budgets.BudgetView] | None = None
) -> Outbox:
    pending, failed, spent = together(
        _PENDING.bound(brand.id), _FAILED.bound_all(brand.id), spend_read(brand, now)
    )
    counts = {status: int(n) for status, n in pending}
    return Outbox(
        queued=counts.get(ReplyStatus.QUEUED, 0),
        sending=counts.get(ReplyStatus.SENDING, 0),
        failed=failed[:FAILED_SHOWN],
        failed_capped=len(failed) > FAILED_SHOWN,
        budgets=budgets.budgets(brand, now) if budget_views is None else budget_views,
        spend=spent,
    )
