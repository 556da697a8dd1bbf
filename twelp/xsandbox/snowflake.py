"""Snowflake ids as X makes them: milliseconds since X's epoch in the high bits.

    id = (ms since 2010-11-04T01:42:54.657Z) << 22 | sequence

Ids come from one row in PostgreSQL (`xsandbox_idclock`), moved forward in a single
statement, so they only ever increase, across every sandbox process, even when two
posts land in the same millisecond or the clock steps back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

TWITTER_EPOCH_MS = 1288834974657
SEQUENCE_BITS = 22

_ALLOCATE = """
    INSERT INTO xsandbox_idclock (id, last_id) VALUES (1, %(floor)s + %(n)s - 1)
    ON CONFLICT (id) DO UPDATE
        SET last_id = GREATEST(xsandbox_idclock.last_id + %(n)s, %(floor)s + %(n)s - 1)
    RETURNING last_id
"""


def floor_for(moment: datetime) -> int:
    """The smallest id a tweet made at `moment` can have (also a since_id for a time)."""
    ms = int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS
    return max(ms, 0) << SEQUENCE_BITS


def to_datetime(snowflake_id: int) -> datetime:
    ms = (snowflake_id >> SEQUENCE_BITS) + TWITTER_EPOCH_MS
    # Whole milliseconds, without float rounding: created_at is shown to the millisecond.
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=millis * 1000)


def allocate(n: int = 1) -> list[int]:
    """n new ids, ascending, all newer than any id handed out before."""
    with connection.cursor() as cursor:
        cursor.execute(_ALLOCATE, {"floor": floor_for(timezone.now()), "n": n})
        last = cursor.fetchone()[0]
    return list(range(last - n + 1, last + 1))


def next_id() -> int:
    return allocate(1)[0]
