"""The queue version: a counter in Redis bumped by every transition and every ingest,
and the brand's change log beside it.

1. A live refresh that carries the version it has is answered "unchanged" from Redis
   alone, so 700 open queues polling every 2 s cost almost nothing while nothing happens.
2. Every bump also appends an entry to the brand's change log, a Redis stream trimmed to
   about CHANGES_KEPT entries, in the same round trip (one script): the entry's id is the
   change id the push process (inbox.live.hub) sends with what it pushes, and a page that
   reconnects resumes from it. The entry holds the counter (`v`) and the threads the
   change touched (`t`, comma-separated; "*" when the caller did not say), and, as
   `a<id>` items in the same field, the employees it brought a notification
   (inbox.notifications): the push process tells only those (inbox.live.hub, 9), and a
   `b` item when a brand-wide figure changed that every thread page shows (X's budgets
   and the waiting outbox): the push process then sends the open thread pages of other
   threads that banner alone, rendered once for the brand (inbox.live.hub, 10).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import redis
from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger(__name__)

# Entries kept in a brand's change log (approximately: XADD MAXLEN ~). At 50 changes a
# second that is over a minute of history, longer than a push process takes to restart.
CHANGES_KEPT = 5000


def _key(brand_id: int) -> str:
    return f"queue-version:{brand_id}"


def current(brand_id: int) -> int:
    value = cache.get(_key(brand_id))
    if value is None:
        _start(brand_id)
        value = cache.get(_key(brand_id), 0)
    return int(value)


def label(counter: int) -> str:
    """What pages carry: the counter, and the minute so waiting times age while idle."""
    return f"{counter}.{timezone.now():%H%M}"


def label_with(brand_id: int, *keys: str) -> tuple[object, ...]:
    """The brand's version label and the cache values at `keys`, in one round trip."""
    found = cache.get_many([_key(brand_id), *keys])
    counter = found.get(_key(brand_id))
    if counter is None:
        counter = current(brand_id)
    return (label(int(counter)), *(found.get(key) for key in keys))


def changes_key(brand_id: int) -> str:
    """The Redis key of the brand's change log (a stream), with the cache's prefix."""
    return cache.make_and_validate_key(f"changes:{brand_id}")


def newest(brand_id: int) -> str:
    """The id of the brand's newest change ("0-0" while its log is empty, "" when Redis
    cannot be read): a page read after it shows that change or newer, so its stream may
    resume from it (inbox.live.hub, 11)."""
    key = changes_key(brand_id)
    try:
        found = cache._cache.get_client(key).xrevrange(key, count=1)
    except (redis.ConnectionError, redis.TimeoutError):
        return ""
    return found[0][0].decode() if found else "0-0"


# SET NX starts the counter from the clock if it is missing (as _start; no expiry, as
# cache.add(None)), INCR moves it, XADD logs the change: atomic, one round trip.
_BUMP = """
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local counter = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'v', counter, 't', ARGV[3])
return counter
"""
_scripts: dict[int, object] = {}


def bump(
    brand_id: int,
    threads: Iterable[int] | None = None,
    agents: Iterable[int] = (),
    *,
    banner: bool = False,
) -> int | None:
    """One round trip: the counter moves and the change is logged (module docstring, 2).
    `threads`: the ids of the threads the change touched, None when any may have been;
    `agents`: the employees it brought a notification; `banner`: the brand's budgets or
    waiting outbox changed (every thread page's banner).

    None when Redis is unreachable: the change is committed already and must not fail
    because of the counter (a Redis that comes back empty restarts it from the clock)."""
    key = cache.make_and_validate_key(_key(brand_id))
    touched = "*" if threads is None else ",".join(str(t) for t in threads)
    if agents or banner:
        extra = [*(f"a{a}" for a in agents), *(["b"] if banner and threads is not None else [])]
        touched = ",".join([touched, *extra]).lstrip(",")
    try:
        client = cache._cache.get_client(key, write=True)
        script = _scripts.get(id(client))
        if script is None:
            script = _scripts[id(client)] = client.register_script(_BUMP)
        now_ms = time.time_ns() // 1_000_000
        keys = [key, changes_key(brand_id)]
        return int(script(keys=keys, args=[now_ms, CHANGES_KEPT, touched]))
    except (redis.ConnectionError, redis.TimeoutError) as error:
        log.warning("queue version of brand %s not bumped: Redis is down (%s)", brand_id, error)
        return None


def counter_of(label: str) -> tuple[int, str]:
    """A version label's counter and minute (`label`'s)."""
    counter, _, minute = label.partition(".")
    return int(counter), minute


# Changes beyond this many since a page's render: it is read again whole, not patched.
NAMED_MOST = 64


def named_since(brand_id: int, since: int, until: int) -> set[int] | None:
    """The threads the brand's changes after counter `since` named, up to `until` at
    least (later ones too, if logged by now); None when one of them named none ("*":
    any thread may have changed), when the log does not hold every one of them (trimmed,
    a counter restarted from the clock, Redis unreachable), or when they are more than
    NAMED_MOST: then only reading everything again is right (inbox.queries.FirstHeads)."""
    if until < since or until - since > NAMED_MOST:
        return None
    if until == since:
        return set()
    key = changes_key(brand_id)
    try:
        # Newest first: a change logged since `until` was read takes one of these places
        # (then the oldest asked for is missing: None, read again).
        found = cache._cache.get_client(key).xrevrange(key, count=until - since + 1)
    except (redis.ConnectionError, redis.TimeoutError):
        return None
    seen, named = set(), set()
    for _id, fields in found:
        counter = int(fields[b"v"])
        if counter <= since:
            break
        seen.add(counter)
        for item in fields[b"t"].decode().split(","):
            if item == "*":
                return None
            if item.isdigit():
                named.add(int(item))
            # "" (no thread), "a<id>" (an employee told), "b" (the banner): no row
    if not seen.issuperset(range(since + 1, until + 1)):
        return None
    return named


def _start(brand_id: int) -> None:
    # First use, or Redis lost the key: start from the clock (in ms), a number no browser
    # can already hold, so a lost counter never answers "unchanged" by mistake.
    cache.add(_key(brand_id), time.time_ns() // 1_000_000, timeout=None)
