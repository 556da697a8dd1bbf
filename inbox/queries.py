"""The queue's reads. Keyset pagination over thread_queue_order; never OFFSET or COUNT(*)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

from inbox.models import Brand, Thread, ThreadStatus

PAGE_SIZE = 50
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
    brand: Brand, status: str = ThreadStatus.OPEN, after: Cursor | None = None
) -> tuple[list[Thread], Cursor | None]:
    """One page of the queue in urgency order, and the cursor of the next page (or None)."""
    rows: QuerySet[Thread] = (
        Thread.objects.filter(brand=brand, status=status)
        .select_related("customer", "claimed_by")
        .order_by("-priority", "waiting_since", "id")
    )
    if after is not None:
        rows = rows.filter(
            Q(priority__lt=after.priority)
            | Q(priority=after.priority, waiting_since__gt=after.waiting_since)
            | Q(priority=after.priority, waiting_since=after.waiting_since, id__gt=after.id)
        )
    page = list(rows[: PAGE_SIZE + 1])
    if len(page) <= PAGE_SIZE:
        return page, None
    last = page[PAGE_SIZE - 1]
    return page[:PAGE_SIZE], Cursor(last.priority, last.waiting_since, last.id)
