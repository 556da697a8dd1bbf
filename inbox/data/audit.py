"""Checking the audit's hash chain (sealed by inbox.events.seal).

Each sealed row is checked against the stored seal of the row before it, so one changed
row is reported alone, and a deleted row shows as a gap in its brand's seal_seq. Rows
not sealed yet are counted, not checked. A chain's newest rows could be deleted without
a gap; the heads printed by `verify_audit` are what to keep elsewhere to catch that.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection

from inbox.models import Brand
from inbox.rules import chain


@dataclass
class Report:
    brand: str
    sealed: int = 0
    unsealed: int = 0
    erased: int = 0
    head: str = chain.GENESIS
    breaks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(brand: Brand) -> Report:
    report = Report(brand=str(brand))
    expected_seq, previous = 1, chain.GENESIS
    for row in _sealed_rows(brand.id):
        event_id, thread_id, actor_id, verb, at, detail, seq, sealed, detail_digest = row
        fields = {"event_id": event_id, "brand_id": brand.id, "thread_id": thread_id}
        fields |= {"actor_id": actor_id, "verb": verb, "at": at}
        if seq != expected_seq:
            # This row's link hangs on the missing one: it cannot be checked.
            report.breaks.append(
                f"seal_seq {expected_seq}..{seq - 1} missing before event {event_id}:"
                " rows were deleted"
            )
        elif chain.link(previous, seq=seq, detail_digest=detail_digest, **fields) != sealed:
            report.breaks.append(f"event {event_id} (seal_seq {seq}): changed since sealed")
        elif chain.digest(detail) != detail_digest:
            if chain.erased(detail):
                report.erased += 1
            else:
                report.breaks.append(
                    f"event {event_id} (seal_seq {seq}): detail changed since sealed"
                )
        report.sealed += 1
        expected_seq, previous = seq + 1, sealed
    report.head = previous
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM inbox_event WHERE brand_id = %s AND seal_seq IS NULL",
            [brand.id],
        )
        report.unsealed = cursor.fetchone()[0]
    return report


def _sealed_rows(brand_id: int, batch: int = 5000) -> Iterator[tuple]:
    """The brand's sealed rows in chain order, a keyset page at a time (any size)."""
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, thread_id, actor_id, verb, at, detail, seal_seq, seal,"
                " detail_digest FROM inbox_event"
                " WHERE brand_id = %s AND seal_seq > %s ORDER BY seal_seq LIMIT %s",
                [brand_id, after, batch],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        yield from rows
        after = rows[-1][6]
