"""The dashboard's figures, pre-aggregated: never a scan of Event history.

Writing: `record(event, thread)` runs inside `actions._event`, in the Event's transaction,
and inserts one delta row (grain "e": the Event's UTC minute and its actor): a plain
INSERT, so no two transitions ever wait on the same counter row. Triggers on
inbox_thread keep `QueueCount` (threads by source and status) and count arrivals
(minute and quarter-hour delta rows, per page of threads).
`compact()` (beat, every few seconds) spreads each "e" row into the rows readers group
by (brand per minute, brand per quarter hour, actor per local day) and folds deltas into
one row per key, in one transaction; readers sum folded rows and every kind of delta, so
what they read is exact as soon as an Event commits. One row an Event, not three: every
claim, answer and close writes two rows and eight index entries fewer (issue 15).

Durations (first response, resolution) are wall-clock seconds in histogram buckets that
grow by at most 20% (`BOUNDS`); whether each met the brand's target is decided in
business time (inbox.rules.sla) when it is recorded. A median or p90 is interpolated within the
bucket that holds the true one, so it is within 20% of it (within 10 s below 10 s).
Counts, sums and means are exact.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from celery import shared_task
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from inbox.models import Brand, QueueCount, Reply, Rollup
from inbox.rules import sla
from twelp.prepared import Bound, PreparedRows, together

if TYPE_CHECKING:
    from inbox.models import Event, Thread

GROWTH = 1.2
FIRST_BOUND = 10  # seconds
WEEK = timedelta(days=7)


def _bounds() -> tuple[int, ...]:
    """Upper bounds (whole seconds) of the histogram buckets, from 10 s to past 8 days,
    each at most 20% above the one before (rounded down, so never more)."""
    bounds = [FIRST_BOUND]
    while bounds[-1] <= 8 * 86400:
        bounds.append(max(bounds[-1] + 1, int(bounds[-1] * GROWTH)))
    return tuple(bounds)


BOUNDS = _bounds()
NBUCKETS = len(BOUNDS) + 1  # the last one holds everything longer


def bucket_of(seconds: float) -> int:
    return bisect.bisect_right(BOUNDS, seconds)  # bucket k holds [BOUNDS[k-1], BOUNDS[k])


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
    "reopened_by_staff": "reopened",  # back in the queue, as when the customer writes again
    "follow_up_claimed": "claimed",
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


def key(at: datetime, actor_id: int | None) -> tuple[str, datetime, int | None]:
    """(grain, bucket, agent id) of the delta row an Event at `at` by `actor_id` adds to."""
    return ("e", floor_to(at, 1), actor_id or None)


def record(event: Event, thread: Thread, brand: Brand | None = None) -> None:
    """Add `event` to the rollups, in the caller's transaction (see actions._event).

    `brand` is the thread's, when the caller has it loaded (saves a query)."""
    counter = COUNTERS.get(event.verb)
    if counter is None:
        return
    brand = brand or thread.brand
    values: dict[str, object] = {counter: 1}
    if event.verb == "reply_posted":
        values |= _first_response(event, thread, brand, sla.hours_for(brand))
    elif event.verb == "closed":
        values |= _resolution(event, thread, brand, sla.hours_for(brand))
    _insert(brand.id, key(event.at, event.actor_id), values)


def record_many(events: list[Event], brand: Brand) -> None:
    """record() for many Events of one brand whose counters need no thread (a page of
    reopens): one INSERT."""
    rows: dict[tuple[str, datetime, int | None], int] = {}
    counter = ""
    for event in events:
        counter = COUNTERS[event.verb]
        if event.verb in ("reply_posted", "closed") or counter != COUNTERS[events[0].verb]:
            raise ValueError("record_many counts one plain counter; use record()")
        k = key(event.at, event.actor_id)
        rows[k] = rows.get(k, 0) + 1
    if rows:  # one delta row per key, holding the count: the same sums as one per Event
        _insert_counts(brand.id, counter, rows)


def _insert_counts(
    brand_id: int, counter: str, rows: dict[tuple[str, datetime, int | None], int]
) -> None:
    values = ", ".join(["(%s, %s, %s, %s, %s, '{}', '{}')"] * len(rows))
    params = [
        p for (grain, bucket, agent), n in rows.items() for p in (brand_id, grain, bucket, agent, n)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            # Safe to format: a Rollup counter column (the caller's); values are %s.
            f"INSERT INTO inbox_rollup (brand_id, grain, bucket, agent_id, {counter}, "  # noqa: S608
            f"first_response_hist, resolution_hist) VALUES {values}",
            params,
        )


def _insert(
    brand_id: int, key: tuple[str, datetime, int | None], values: dict[str, object]
) -> None:
    """One plain INSERT (bulk_create's UNNEST of array literals costs more CPU than the
    statement itself: BENCHMARKS.md, problem 5)."""
    values = {"first_response_hist": [], "resolution_hist": []} | values
    columns = ", ".join(["brand_id", "grain", "bucket", "agent_id", *values])
    row = ", ".join(["%s"] * (4 + len(values)))
    with connection.cursor() as cursor:
        cursor.execute(
            # Safe to format: Rollup's field names, set by this module; values are %s.
            f"INSERT INTO inbox_rollup ({columns}) VALUES ({row})",  # noqa: S608
            [brand_id, *key, *values.values()],
        )


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


def _history(thread_id: int, event_id: int):
    from inbox.models import Event as EventModel

    return (
        EventModel.objects.filter(thread_id=thread_id, verb__in=("closed", "reopened"))
        .exclude(pk=event_id)
        .order_by("-at", "-id")
        .values_list("verb", "at")[:100]
    )


# On every close (twelp.prepared: the ORM builds its SQL once per process).
_HISTORY = PreparedRows(_history, arity=2)


def episode_start(thread: Thread, event: Event) -> datetime:
    """When the conversation being closed began: the thread's first wait, or, for a thread
    closed before, the first time the customer wrote again after that close.

    `waiting_since` moves only when a customer reopens a thread, so the earlier of it and
    the reopen (or the thread's creation) is the customer's first words of the episode.
    """
    history = _HISTORY.rows(thread.id, event.pk)
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


def _sums(prefix: str) -> tuple[str, str]:
    """The summed columns, and their sums over the rows named `prefix`."""
    counters, hists = _summed_columns()
    sums = [f"sum({prefix}.{c})" for c in counters]
    sums += [f"coalesce(inbox_hist_sum({prefix}.{h}), '{{}}')" for h in hists]
    return ", ".join(counters + hists), ", ".join(sums)


def _compact_sql() -> tuple[str, str, str]:
    columns, sums = _sums("e")
    # Each "e" delta row as the rows readers group by (the brand's minute and quarter
    # hour, the actor's day). The day is `day.midnight`, worked out in Python (_days) for
    # each (brand, minute) pair read first: a row of a pair not read (committed since)
    # waits for the next run, so no row is ever spread without its day.
    spread_sql = f"""
        WITH day(brand_id, bucket, midnight) AS (
            SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[])
        ), gone AS (
            DELETE FROM inbox_rollup r USING day d
            WHERE r.delta AND r.grain = 'e' AND r.brand_id = d.brand_id AND r.bucket = d.bucket
            RETURNING r.*, d.midnight
        )
        INSERT INTO inbox_rollup (brand_id, agent_id, grain, bucket, delta, {columns})
        SELECT e.brand_id, k.agent_id, k.grain, k.bucket, true, {sums}
        FROM gone e CROSS JOIN LATERAL (VALUES
            ('m', e.bucket, NULL::bigint),
            ('q', date_bin('15 minutes', e.bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00'), NULL),
            ('d', e.midnight, e.agent_id)
        ) AS k(grain, bucket, agent_id)
        WHERE k.grain <> 'd' OR e.agent_id IS NOT NULL
        GROUP BY e.brand_id, k.agent_id, k.grain, k.bucket
    """  # noqa: S608 - the columns come from the Rollup model's own fields (_summed_columns)
    columns, sums = _sums("gone")
    rollups = f"""
        WITH dirty AS (
            SELECT DISTINCT brand_id, agent_id, grain, bucket FROM inbox_rollup
            WHERE delta AND grain <> 'e'  -- one committed since the spread waits its turn
        ), gone AS (
            DELETE FROM inbox_rollup r USING dirty d
            WHERE r.brand_id = d.brand_id AND r.grain = d.grain AND r.bucket = d.bucket
              AND r.agent_id IS NOT DISTINCT FROM d.agent_id
            RETURNING r.*
        )
        INSERT INTO inbox_rollup (brand_id, agent_id, grain, bucket, delta, {columns})
        SELECT brand_id, agent_id, grain, bucket, false, {sums}
        FROM gone GROUP BY brand_id, agent_id, grain, bucket
    """  # noqa: S608 - the columns come from the Rollup model's own fields (_summed_columns)
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
    return spread_sql, rollups, counts


def _days(cursor) -> list[list]:
    """The "e" delta rows' (brand, minute) pairs and each one's local midnight in the
    brand's time zone (local_midnight, as readers compute today's), as three arrays."""
    cursor.execute("SELECT DISTINCT brand_id, bucket FROM inbox_rollup WHERE delta AND grain = 'e'")
    pairs = cursor.fetchall()
    brands = Brand.objects.only("id", "timezone", "business_hours").in_bulk({b for b, _ in pairs})
    found = [
        (b, at, local_midnight(at, sla.hours_for(brands[b]))) for b, at in pairs if b in brands
    ]
    return [list(column) for column in zip(*found, strict=True)] if found else [[], [], []]


def compact(now: datetime | None = None) -> None:
    """Spread "e" delta rows into their keys, fold delta rows into one row per key, drop
    minute rows past their use: one transaction, so a reader sums each Event once."""
    now = now or timezone.now()
    spread_sql, rollups_sql, counts_sql = _compact_sql()
    keep = timedelta(hours=settings.ROLLUP_MINUTES_KEEP_HOURS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK])
        if not cursor.fetchone()[0]:
            return  # another compaction is running; the next beat catches up
        cursor.execute(spread_sql, _days(cursor))
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
        # Labels in English; the dashboard translates them as it renders ({% translate %}).
        ("hour", gettext_noop("Last hour"), "m", floor_to(now, 1) - timedelta(minutes=59)),
        ("today", gettext_noop("Today"), "q", local_midnight(now, hours)),
        ("week", gettext_noop("7 days"), "q", floor_to(now - WEEK, 15) + timedelta(minutes=15)),
    ]


_WINDOW_COUNTERS = ("arrived", "reopened", "claimed", "posted", "closed", "failed")
_MEASURES = ("first_response", "resolution")
# Quarter-hour buckets this far in the past are final: Events are stamped when written,
# so only a transaction still open this long after stamping could add to one (none does:
# every transition and every polled page is one short transaction).
SEAL_GRACE = timedelta(minutes=5)
SEALED_TTL = 2 * 3600  # seconds a sealed sum stays in Redis (it is reused for 15 min)
# An "e" delta row (an Event not yet spread by compact) counts in every window holding
# its minute, whatever its actor; a folded or spread row only in its own grain's, and only
# the brand's (agent NULL).
_WINDOWS_SQL = """
    SELECT w.key, {sums}
    FROM inbox_rollup r
    JOIN (VALUES {windows}) AS w(key, grain, start, stop)
      ON (r.grain = w.grain OR r.grain = 'e')
      AND r.bucket >= w.start AND (w.stop IS NULL OR r.bucket < w.stop)
    WHERE r.brand_id = %s AND (r.agent_id IS NULL OR r.grain = 'e')
      AND ((r.grain = 'm' AND r.bucket >= %s) OR (r.grain = 'q' AND r.bucket >= %s)
           OR (r.grain = 'e' AND r.bucket >= %s))
    GROUP BY w.key
"""


def _names() -> tuple[list[str], list[str]]:
    names = [*_WINDOW_COUNTERS]
    for measure in _MEASURES:
        names += [f"{measure}_n", f"{measure}_seconds", f"{measure}_breached"]
    return names, [f"{measure}_hist" for measure in _MEASURES]


def _sum_windows(brand: Brand, spans: list[tuple[str, str, datetime, datetime | None]]) -> Bound:
    """{key: {column: sum}} for each (key, grain, start, stop) span: one statement."""
    names, hists = _names()
    # A histogram is summed over the rows that have one: most rows (a claim's, a
    # release's) hold '{}', and each call of inbox_hist_sum's step (a SQL function) costs
    # more than the rest of the row (5 ms of ~540 delta rows, issue 14). Hists are never
    # NULL: the same sums, '{}' where no row has one, as the step gives over '{}' rows.
    sums = ", ".join(
        [f"coalesce(sum(r.{n}), 0)" for n in names]
        + [
            f"coalesce(inbox_hist_sum(r.{h}) FILTER (WHERE cardinality(r.{h}) > 0), '{{}}')"
            for h in hists
        ]
    )
    values = ", ".join(["(%s, %s, %s::timestamptz, %s::timestamptz)"] * len(spans))
    params: list[object] = [value for span in spans for value in span]
    earliest = {grain: min(s[2] for s in spans if s[1] == grain) for _, grain, *_ in spans}
    far = datetime.max.replace(tzinfo=UTC)
    params += [brand.id, earliest.get("m", far), earliest.get("q", far), min(earliest.values())]
    empty = dict.fromkeys(names, 0) | dict.fromkeys(hists)

    def finish(rows: list[tuple]) -> dict:
        found = {row[0]: dict(zip(names + hists, row[1:], strict=True)) for row in rows}
        return {key: found.get(key, empty) for key, *_ in spans}

    sql = _WINDOWS_SQL.format(sums=sums, windows=values)
    return Bound(sql, params, DEFAULT_DB_ALIAS, finish)


def _add(a: dict, b: dict) -> dict:
    out = {}
    for name, value in a.items():
        other = b[name]
        if isinstance(value, list) or isinstance(other, list):
            value, other = value or [], other or []
            longer, shorter = (value, other) if len(value) >= len(other) else (other, value)
            out[name] = [x + (shorter[i] if i < len(shorter) else 0) for i, x in enumerate(longer)]
        else:
            out[name] = (value or 0) + (other or 0)
    return out


def windows(brand: Brand, now: datetime) -> list[Window]:
    """The last hour (minute rows), today and the last 7 days (quarter-hour rows)."""
    return together(windows_read(brand, now))[0]


def windows_read(brand: Brand, now: datetime) -> Bound:
    """`windows` as a read (twelp.prepared.together).

    Today's and the week's quarter hours that are sealed (SEAL_GRACE) are summed once and
    kept in Redis, under a key naming the span, until the window moves on; each request
    reads only the minute rows of the last hour and the open quarter hours: the same few
    rows whatever the history, in one statement (which also sums the sealed spans on the
    first request of a quarter).
    """
    starts = window_starts(brand, now)
    sealed_end = floor_to(now - SEAL_GRACE, 15)
    hour_key, _label, _grain, hour_start = starts[0]
    spans: list[tuple[str, str, datetime, datetime | None]] = [(hour_key, "m", hour_start, None)]
    cache_keys: dict[str, str] = {}
    for key, _label, _grain, start in starts[1:]:
        spans.append((f"{key}_live", "q", max(start, sealed_end), None))
        if start < sealed_end:
            cache_keys[key] = f"rollup-sealed:{brand.id}:{start:%Y%m%d%H%M}:{sealed_end:%Y%m%d%H%M}"
    sealed = {k: v for k, v in zip(cache_keys, _cached(cache_keys), strict=True) if v}
    missing = [
        (f"{key}_sealed", "q", start, sealed_end)
        for key, _label, _grain, start in starts[1:]
        if key in cache_keys and key not in sealed
    ]

    def finish(found: dict) -> list[Window]:
        for key, *_ in missing:
            window = key.removesuffix("_sealed")
            sealed[window] = found[key]
            cache.set(cache_keys[window], found[key], SEALED_TTL)
        out = []
        for key, label, _grain, start in starts:
            totals = found[key] if key == hour_key else found[f"{key}_live"]
            if key in sealed:
                totals = _add(totals, sealed[key])
            out.append(
                Window(
                    key,
                    label,
                    start,
                    *(totals[name] for name in _WINDOW_COUNTERS),
                    _durations(totals, "first_response"),
                    _durations(totals, "resolution"),
                )
            )
        return out

    return _sum_windows(brand, spans + missing).then(finish)


def _cached(keys: dict[str, str]) -> list[dict | None]:
    if not keys:
        return []
    found = cache.get_many(list(keys.values()))
    return [found.get(key) for key in keys.values()]


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


# The dashboard's reads of the rollups, their SQL built once per process (twelp.prepared).
# Each also sums the "e" delta rows in its span (Events not yet spread by compact).
_HOURLY = PreparedRows(
    lambda brand_id, first: (
        Rollup.objects.filter(
            Q(grain="q", agent__isnull=True) | Q(grain="e"), brand_id=brand_id, bucket__gte=first
        )
        .values_list("bucket", "arrived", "reopened", "posted")
        .order_by()
    ),
    times=1,
)
_PER_AGENT_TODAY = PreparedRows(
    lambda brand_id, today: (
        Rollup.objects.filter(
            Q(grain="d", bucket=today) | Q(grain="e", bucket__gte=today),
            brand_id=brand_id,
            agent__isnull=False,
        )
        .values("agent_id")
        .annotate(posted=Sum("posted"), claimed=Sum("claimed"), closed=Sum("closed"))
        .order_by()
    ),
    times=1,
    convert=True,
)


def hourly(brand: Brand, now: datetime, hours: int = 24) -> list[Hour]:
    """Threads in (new + reopened) and replies posted, per hour, oldest first."""
    return together(hourly_read(brand, now, hours))[0]


def hourly_read(brand: Brand, now: datetime, hours: int = 24) -> Bound:
    """`hourly` as a read (twelp.prepared.together)."""
    first = floor_to(now, 60) - timedelta(hours=hours - 1)

    def finish(rows: list[tuple]) -> list[Hour]:
        arrived = [0] * hours
        posted = [0] * hours
        for bucket, new, reopened, out in rows:
            index = int((bucket - first).total_seconds() // 3600)
            if 0 <= index < hours:
                arrived[index] += new + reopened
                posted[index] += out
        return [Hour(first + timedelta(hours=i), arrived[i], posted[i]) for i in range(hours)]

    return _HOURLY.bound(brand.id, first).then(finish)


def per_agent_today(brand: Brand, now: datetime) -> dict[int, dict[str, int]]:
    """{agent id: {"posted": credits today, "claimed": …, "closed": …}} in the brand's day."""
    return together(per_agent_today_read(brand, now))[0]


def per_agent_today_read(brand: Brand, now: datetime) -> Bound:
    """`per_agent_today` as a read (twelp.prepared.together)."""
    today = local_midnight(now, sla.hours_for(brand))
    return _PER_AGENT_TODAY.bound_dicts(brand.id, today).then(
        lambda rows: {row.pop("agent_id"): row for row in rows}
    )


# Read for every render of a queue and the dashboard: SQL built once (twelp.prepared).
_QUEUE_COUNTS = PreparedRows(
    lambda brand_id: (
        QueueCount.objects.filter(brand_id=brand_id)
        .values_list("source_id", "status")
        .annotate(n=Sum("n"))
        .order_by()
    )
)


def queue_counts(brand: Brand) -> dict[tuple[int | None, str], int]:
    """{(source id, status): threads}, from the trigger-kept counts."""
    return together(queue_counts_read(brand))[0]


def queue_counts_read(brand: Brand) -> Bound:
    """`queue_counts` as a read (twelp.prepared.together)."""
    # int(): PostgreSQL sums a bigint as numeric (no field converters run here).
    return _QUEUE_COUNTS.bound(brand.id).then(
        lambda rows: {(source_id, status): int(n) for source_id, status, n in rows if n}
    )
