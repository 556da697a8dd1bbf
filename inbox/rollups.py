"""The dashboard's figures, pre-aggregated: never a scan of Event history.

Writing: `record(event, thread)` runs inside `actions._event`, in the Event's transaction,
and inserts delta rows (brand per minute, brand per quarter hour, actor per local day):
plain INSERTs, so no two transitions ever wait on the same counter row. Triggers on
inbox_thread keep `QueueCount` (threads by source and status) and count arrivals.
`compact()` (beat, every few seconds) folds deltas into one row per key; readers sum both,
so what they read is exact as soon as an Event commits.

Durations (first response, resolution) are wall-clock seconds in histogram buckets that
grow by 20% (`BOUNDS`); whether each met the brand's target is decided in business time
(inbox.sla) when it is recorded. Medians and p90s are interpolated within the bucket
that holds them: within 20% of the true value (within 10 s below 10 s). Counts and
sums are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from celery import shared_task
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models, transaction
from django.db.models import Aggregate, Q, Sum
from django.utils import timezone

from inbox import sla
from inbox.models import Brand, QueueCount, Reply, Rollup

if TYPE_CHECKING:
    from inbox.models import Event, Thread

GROWTH = 1.2
FIRST_BOUND = 10  # seconds
WEEK = timedelta(days=7)


def _bounds() -> tuple[int, ...]:
    """Upper bounds (seconds) of the histogram buckets, from 10 s to past 8 days."""
    bounds, k = [], 0
    while not bounds or bounds[-1] <= 8 * 86400:
        bounds.append(round(FIRST_BOUND * GROWTH**k))
        k += 1
    return tuple(bounds)


BOUNDS = _bounds()
NBUCKETS = len(BOUNDS) + 1  # the last one holds everything longer


def bucket_of(seconds: float) -> int:
    if seconds < FIRST_BOUND:
        return 0
    k = int(math.log(seconds / FIRST_BOUND, GROWTH)) + 1
    k = max(0, min(k, len(BOUNDS)))
    # log() rounds; settle on the first bucket whose upper bound is above `seconds`.
    while k > 0 and seconds < BOUNDS[k - 1]:
        k -= 1
    while k < len(BOUNDS) and seconds >= BOUNDS[k]:
        k += 1
    return k


def one_hot(seconds: float) -> list[int]:
    hist = [0] * NBUCKETS
    hist[bucket_of(seconds)] = 1
    return hist


def quantile(hist: list[int] | None, q: float) -> float | None:
    """The q-quantile of a histogram, interpolated within its bucket; None when empty."""
    total = sum(hist or ())
    if not total:
        return None
    rank, seen = q * total, 0
    for index, count in enumerate(hist):
        if count and seen + count >= rank:
            low = BOUNDS[index - 1] if index else 0
            if index >= len(BOUNDS):
                return float(low)  # past the last bound: "more than 8 days"
            return low + (BOUNDS[index] - low) * max(rank - seen, 0) / count
        seen += count
    return float(BOUNDS[-1])


# --- writing ------------------------------------------------------------------------------

COUNTERS = {
    "claimed": "claimed",
    "replied": "replied",
    "reply_posted": "posted",
    "reply_failed": "failed",
    "closed": "closed",
    "reopened": "reopened",
    "released": "released",
    "lease_expired": "expired",
    "reassigned": "reassigned",
    "reply_retried": "retried",
    "reply_discarded": "discarded",
}


def floor_to(moment: datetime, minutes: int) -> datetime:
    """The start (UTC) of the `minutes`-long bucket holding `moment` (minutes divides 60)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % minutes, second=0, microsecond=0)


def local_midnight(moment: datetime, hours: sla.Hours) -> datetime:
    """The start (UTC) of the brand's local day holding `moment`."""
    day = moment.astimezone(hours.tz).date()
    return datetime.combine(day, time(0), tzinfo=hours.tz).astimezone(UTC)


def record(event: Event, thread: Thread) -> None:
    """Add `event` to the rollups, in the caller's transaction (see actions._event)."""
    counter = COUNTERS.get(event.verb)
    if counter is None:
        return
    brand = thread.brand
    hours = sla.hours_for(brand)
    values: dict[str, object] = {counter: 1}
    if event.verb == "reply_posted":
        values |= _first_response(event, thread, brand, hours)
    elif event.verb == "closed":
        values |= _resolution(event, thread, brand, hours)
    rows = [
        Rollup(brand_id=brand.id, grain="m", bucket=floor_to(event.at, 1), **values),
        Rollup(brand_id=brand.id, grain="q", bucket=floor_to(event.at, 15), **values),
    ]
    if event.actor_id:
        day = local_midnight(event.at, hours)
        rows.append(
            Rollup(brand_id=brand.id, agent_id=event.actor_id, grain="d", bucket=day, **values)
        )
    Rollup.objects.bulk_create(rows)


def _first_response(event: Event, thread: Thread, brand: Brand, hours: sla.Hours) -> dict:
    """The thread's first answer on X: from the customer's first words to the posted reply.

    mark_posted sets first_response_at only for the first reply it posts, to that reply's
    posted_at, so equality says "this posting was the first".
    """
    first = thread.first_response_at
    reply = Reply.objects.filter(pk=event.detail.get("reply"))
    posted_at = reply.values_list("posted_at", flat=True).first()
    if first is None or posted_at != first:
        return {}
    seconds = max((first - thread.waiting_since).total_seconds(), 0.0)
    late = sla.breached(hours, thread.waiting_since, first, brand.sla_first_response)
    return {
        "first_response_n": 1,
        "first_response_seconds": round(seconds),
        "first_response_breached": int(late),
        "first_response_hist": one_hot(seconds),
    }


def _resolution(event: Event, thread: Thread, brand: Brand, hours: sla.Hours) -> dict:
    closed_at = thread.closed_at or event.at
    start = episode_start(thread, event)
    seconds = max((closed_at - start).total_seconds(), 0.0)
    late = sla.breached(hours, start, closed_at, brand.sla_resolution)
    return {
        "resolution_n": 1,
        "resolution_seconds": round(seconds),
        "resolution_breached": int(late),
        "resolution_hist": one_hot(seconds),
    }


def episode_start(thread: Thread, event: Event) -> datetime:
    """When the conversation being closed began: the thread's first wait, or, for a thread
    closed before, the first time the customer wrote again after that close.

    `waiting_since` moves only when a customer reopens a thread, so the earlier of it and
    the reopen (or the thread's creation) is the customer's first words of the episode.
    """
    from inbox.models import Event as EventModel

    history = (
        EventModel.objects.filter(thread=thread, verb__in=("closed", "reopened"))
        .exclude(pk=event.pk)
        .order_by("-at", "-id")
        .values_list("verb", "at")[:100]
    )
    reopens: list[datetime] = []
    for verb, at in history:
        if verb == "closed":
            return min(reopens[-1], thread.waiting_since) if reopens else thread.waiting_since
        reopens.append(at)
    return min(thread.created_at, thread.waiting_since)


# --- folding the deltas (beat) -----------------------------------------------------------

_LOCK = 0x7477_656C_7072  # "twelpr": one compaction at a time


def _summed_columns() -> tuple[list[str], list[str]]:
    counters, hists = [], []
    for field in Rollup._meta.concrete_fields:
        if isinstance(field, ArrayField):
            hists.append(field.column)
        elif isinstance(field, models.IntegerField | models.BigIntegerField) and not (
            field.primary_key or field.is_relation
        ):
            counters.append(field.column)
    return counters, hists


def _compact_sql() -> tuple[str, str]:
    counters, hists = _summed_columns()
    columns = ", ".join(counters + hists)
    sums = ", ".join(
        [f"sum({c})" for c in counters] + [f"coalesce(inbox_hist_sum({h}), '{{}}')" for h in hists]
    )
    rollups = f"""
        WITH dirty AS (
            SELECT DISTINCT brand_id, agent_id, grain, bucket FROM inbox_rollup WHERE delta
        ), gone AS (
            DELETE FROM inbox_rollup r USING dirty d
            WHERE r.brand_id = d.brand_id AND r.grain = d.grain AND r.bucket = d.bucket
              AND r.agent_id IS NOT DISTINCT FROM d.agent_id
            RETURNING r.*
        )
        INSERT INTO inbox_rollup (brand_id, agent_id, grain, bucket, delta, {columns})
        SELECT brand_id, agent_id, grain, bucket, false, {sums}
        FROM gone GROUP BY brand_id, agent_id, grain, bucket
    """
    counts = """
        WITH dirty AS (
            SELECT DISTINCT brand_id, source_id, status FROM inbox_queuecount WHERE delta
        ), gone AS (
            DELETE FROM inbox_queuecount q USING dirty d
            WHERE q.brand_id = d.brand_id AND q.status = d.status
              AND q.source_id IS NOT DISTINCT FROM d.source_id
            RETURNING q.brand_id, q.source_id, q.status, q.n
        )
        INSERT INTO inbox_queuecount (brand_id, source_id, status, n, delta)
        SELECT brand_id, source_id, status, sum(n), false
        FROM gone GROUP BY brand_id, source_id, status HAVING sum(n) <> 0
    """
    return rollups, counts


def compact(now: datetime | None = None) -> None:
    """Fold delta rows into one row per key; drop minute rows past their use."""
    now = now or timezone.now()
    rollups_sql, counts_sql = _compact_sql()
    keep = timedelta(hours=settings.ROLLUP_MINUTES_KEEP_HOURS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
        if not cursor.fetchone()[0]:
            return  # another compaction is running; the next beat catches up
        cursor.execute(rollups_sql)
        cursor.execute(counts_sql)
        cursor.execute(
            "DELETE FROM inbox_rollup WHERE grain = 'm' AND NOT delta AND bucket < %s",
            [now - keep],
        )


@shared_task(acks_late=True, time_limit=60, soft_time_limit=55)
def compact_rollups() -> None:
    compact()


# --- reading ------------------------------------------------------------------------------


class HistSum(Aggregate):
    function = "inbox_hist_sum"
    output_field = ArrayField(models.IntegerField())


@dataclass(frozen=True)
class Durations:
    count: int
    mean: float | None
    median: float | None
    p90: float | None
    breached: int

    @property
    def within_target(self) -> float | None:
        return None if not self.count else 100.0 * (self.count - self.breached) / self.count


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    start: datetime
    arrived: int
    reopened: int
    claimed: int
    posted: int
    closed: int
    failed: int
    first_response: Durations
    resolution: Durations


def window_starts(brand: Brand, now: datetime) -> list[tuple[str, str, str, datetime]]:
    hours = sla.hours_for(brand)
    return [
        ("hour", "Last hour", "m", floor_to(now, 1) - timedelta(minutes=59)),
        ("today", "Today", "q", local_midnight(now, hours)),
        ("week", "7 days", "q", floor_to(now - WEEK, 15) + timedelta(minutes=15)),
    ]


_WINDOW_COUNTERS = ("arrived", "reopened", "claimed", "posted", "closed", "failed")


def windows(brand: Brand, now: datetime) -> list[Window]:
    """The last hour (minute rows), today and the last 7 days (quarter-hour rows): one query."""
    starts = window_starts(brand, now)
    aggregates: dict[str, Aggregate] = {}
    for key, _label, grain, start in starts:
        only = Q(grain=grain, bucket__gte=start)
        for name in _WINDOW_COUNTERS:
            aggregates[f"{key}_{name}"] = Sum(name, filter=only, default=0)
        for measure in ("first_response", "resolution"):
            for part in ("n", "seconds", "breached"):
                column = f"{measure}_{part}"
                aggregates[f"{key}_{column}"] = Sum(column, filter=only, default=0)
            aggregates[f"{key}_{measure}_hist"] = HistSum(f"{measure}_hist", filter=only)
    earliest = min(start for *_, start in starts[1:])
    totals = (
        Rollup.objects.filter(brand=brand, agent__isnull=True)
        .filter(Q(grain="m", bucket__gte=starts[0][3]) | Q(grain="q", bucket__gte=earliest))
        .aggregate(**aggregates)
    )
    return [
        Window(
            key,
            label,
            start,
            *(totals[f"{key}_{name}"] for name in _WINDOW_COUNTERS),
            _durations(totals, f"{key}_first_response"),
            _durations(totals, f"{key}_resolution"),
        )
        for key, label, _grain, start in starts
    ]


def _durations(totals: dict, prefix: str) -> Durations:
    count, hist = totals[f"{prefix}_n"], totals[f"{prefix}_hist"]
    return Durations(
        count=count,
        mean=totals[f"{prefix}_seconds"] / count if count else None,
        median=quantile(hist, 0.5),
        p90=quantile(hist, 0.9),
        breached=totals[f"{prefix}_breached"],
    )


@dataclass(frozen=True)
class Hour:
    start: datetime
    arrived: int
    posted: int


def hourly(brand: Brand, now: datetime, hours: int = 24) -> list[Hour]:
    """Threads in (new + reopened) and replies posted, per hour, oldest first."""
    first = floor_to(now, 60) - timedelta(hours=hours - 1)
    rows = (
        Rollup.objects.filter(brand=brand, agent__isnull=True, grain="q", bucket__gte=first)
        .values_list("bucket", "arrived", "reopened", "posted")
        .order_by()
    )
    arrived = [0] * hours
    posted = [0] * hours
    for bucket, new, reopened, out in rows:
        index = int((bucket - first).total_seconds() // 3600)
        if 0 <= index < hours:
            arrived[index] += new + reopened
            posted[index] += out
    return [Hour(first + timedelta(hours=i), arrived[i], posted[i]) for i in range(hours)]


def per_agent_today(brand: Brand, now: datetime) -> dict[int, dict[str, int]]:
    """{agent id: {"posted": credits today, "claimed": …, "closed": …}} in the brand's day."""
    today = local_midnight(now, sla.hours_for(brand))
    rows = (
        Rollup.objects.filter(brand=brand, grain="d", bucket=today, agent__isnull=False)
        .values("agent_id")
        .annotate(posted=Sum("posted"), claimed=Sum("claimed"), closed=Sum("closed"))
        .order_by()
    )
    return {row.pop("agent_id"): row for row in rows}


def queue_counts(brand: Brand) -> dict[tuple[int | None, str], int]:
    """{(source id, status): threads}, from the trigger-kept counts."""
    rows = (
        QueueCount.objects.filter(brand=brand)
        .values("source_id", "status")
        .annotate(n=Sum("n"))
        .order_by()
    )
    return {(row["source_id"], row["status"]): row["n"] for row in rows if row["n"]}
