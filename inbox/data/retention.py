"""The daily retention sweep: what is past a brand's retention goes, in bounded batches.

1. Closed threads closed longer ago than `retain_closed_threads` are emptied: their
   messages (inbox.data.removal) and notes deleted, their preview blanked, purged_at set.
   The Thread row stays, and so do its replies and Events (the audit is append-only and
   the figures are counted from it). A thread reopened since is emptied again later.
2. Raw payloads (Message.raw) older than `retain_raw_payloads` are emptied ({}).
3. Quarantine rows older than `retain_quarantine` are deleted (rows with no source: the
   deployment's default).
Each batch is its own short transaction of at most RETENTION_BATCH rows, taking row locks
with SKIP LOCKED (a thread an agent holds is left for the next run, never waited on);
claim, send and close never wait for more than one batch. What the sweep costs the
agents is WAL, not locks (bench.data_duties samples claim next's waits: its commit waits
for the WAL flush, which carries the sweep's batch written before it): so batches are
small (RETENTION_BATCH, 50), each commits without waiting for its own WAL flush
(`duty_transaction`: synchronous_commit off unless DATA_DUTIES_SYNC_COMMIT), and after
each the sweep rests DATA_DUTIES_REST_PERCENT of the batch's time (3000%, at most 2 s):
about a thirtieth of the database's time and WAL bandwidth. One RetentionRun per brand
and run counts what went (the dashboard shows the latest); it is saved with an ordinary
(synchronous) commit, which flushes every batch's WAL before it: a run recorded as
finished lost nothing, and a crash loses at most the batches since the last flush
(PostgreSQL bounds that at 3 x wal_writer_delay, 600 ms by default), still past
retention, so the next run redoes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from inbox import events
from inbox.data.removal import remove_messages
from inbox.models import Brand, Note, Quarantine, RetentionRun, Thread, ThreadStatus, Verb


def keep_for(brand: Brand) -> dict[str, timedelta]:
    """How long each kind is kept for this brand (its own setting, else the default)."""
    days = settings.RETENTION_DEFAULT_DAYS
    return {
        kind: getattr(brand, f"retain_{kind}") or timedelta(days=days[kind])
        for kind in ("closed_threads", "raw_payloads", "quarantine")
    }


def sweep(brand: Brand, now: datetime | None = None, batch: int | None = None) -> RetentionRun:
    now = now or timezone.now()
    batch = batch or settings.RETENTION_BATCH
    keep = keep_for(brand)
    run = RetentionRun.objects.create(brand=brand, started_at=now)
    timed = _Timer(run)
    while n := timed(lambda: _empty_threads(brand, now - keep["closed_threads"], now, batch, run)):
        run.threads += n
    while n := timed(lambda: _empty_raw(brand, now - keep["raw_payloads"], batch)):
        run.raw_payloads += n
    while n := timed(
        lambda: _drop_quarantine(Q(source__brand=brand), now - keep["quarantine"], batch)
    ):
        run.quarantined += n
    run.finished_at = timezone.now()
    run.save()
    if run.threads or run.raw_payloads or run.quarantined:
        with transaction.atomic():
            events.record(
                Verb.RETENTION_SWEPT,
                brand_id=brand.id,
                threads=run.threads,
                messages=run.messages,
                raw_payloads=run.raw_payloads,
                quarantined=run.quarantined,
            )
    return run


def sweep_unowned_quarantine(now: datetime | None = None, batch: int | None = None) -> int:
    """Quarantine rows whose source is gone: the deployment's default retention."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETENTION_DEFAULT_DAYS["quarantine"])
    total = 0
    while True:
        with duty_transaction():
            n = _drop_quarantine(Q(source__isnull=True), cutoff, batch or settings.RETENTION_BATCH)
        if not n:
            return total
        total += n


class _Timer:
    """Runs one batch (its own transaction) and keeps its duration: the longest on the
    run, each of them on `run.batch_ms` (not stored; bench.data_duties reads it)."""

    def __init__(self, run: RetentionRun) -> None:
        self.run = run
        run.batch_ms = []  # type: ignore[attr-defined]

    def __call__(self, work: Callable[[], int]) -> int:
        started = time.perf_counter()
        with duty_transaction():
            n = work()
        if n:
            ms = (time.perf_counter() - started) * 1000
            self.run.batches += 1
            self.run.longest_batch_ms = max(self.run.longest_batch_ms, ms)
            self.run.batch_ms.append(ms)  # type: ignore[attr-defined]
            rest(ms)
        return n


@contextmanager
def duty_transaction() -> Iterator[None]:
    """One batch of the sweep or of X's compliance apply: a transaction whose commit does
    not wait for its WAL to reach the disk (SET LOCAL synchronous_commit = off), unless
    DATA_DUTIES_SYNC_COMMIT. A claim's commit then flushes at most what the WAL writer
    has not yet flushed, instead of queueing behind the batch's own flush; if the server
    crashes, the last batches may be undone (never half done), and the duty redoes them
    on its next run (module docstring; inbox.data.compliance, 2)."""
    with transaction.atomic():
        if not settings.DATA_DUTIES_SYNC_COMMIT:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def rest(batch_ms: float) -> None:
    """After a batch (the sweep's, X's compliance apply's): rest DATA_DUTIES_REST_PERCENT
    of its time, at most 2 s (module docstring)."""
    time.sleep(min(batch_ms * settings.DATA_DUTIES_REST_PERCENT / 100_000, 2.0))


def _empty_threads(
    brand: Brand, cutoff: datetime, now: datetime, batch: int, run: RetentionRun
) -> int:
    due = (
        Thread.objects.select_for_update(no_key=True, skip_locked=True)
        .filter(brand=brand, status=ThreadStatus.CLOSED, closed_at__lt=cutoff)
        .filter(Q(purged_at__isnull=True) | Q(purged_at__lt=F("closed_at")))
        .order_by("closed_at")
    )
    ids = list(due.values_list("id", flat=True)[:batch])
    if not ids:
        return 0
    run.messages += remove_messages(Q(thread_id__in=ids))
    Note.objects.filter(thread_id__in=ids).delete()
    Thread.objects.filter(id__in=ids).update(preview="", purged_at=now)
    return len(ids)


def _empty_raw(brand: Brand, cutoff: datetime, batch: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_message SET raw = '{}' WHERE id IN ("
            " SELECT id FROM inbox_message WHERE brand_id = %s AND raw <> '{}'"
            " AND ingested_at < %s ORDER BY ingested_at LIMIT %s FOR UPDATE SKIP LOCKED)",
            [brand.id, cutoff, batch],
        )
        return cursor.rowcount


def _drop_quarantine(which: Q, cutoff: datetime, batch: int) -> int:
    ids = list(
        Quarantine.objects.filter(which, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:batch]
    )
    if ids:
        Quarantine.objects.filter(id__in=ids).delete()
    return len(ids)
