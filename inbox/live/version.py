"""The queue version: a counter in Redis bumped by every transition and every ingest.

A live refresh that carries the version it has is answered "unchanged" from Redis alone,
so 700 open queues polling every 2 s cost almost nothing while nothing happens.
"""

from __future__ import annotations

import logging
import time

import redis
from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger(__name__)


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


def bump(brand_id: int) -> int | None:
    """One round trip: start the counter from the clock if it is missing (as _start),
    then INCR. cache.incr takes two (EXISTS, INCRBY), on every transition.

    None when Redis is unreachable: the change is committed already and must not fail
    because of the counter (a Redis that comes back empty restarts it from the clock)."""
    key = cache.make_and_validate_key(_key(brand_id))
    try:
        pipe = cache._cache.get_client(key, write=True).pipeline(transaction=True)
        pipe.set(key, time.time_ns() // 1_000_000, nx=True)  # no expiry, as cache.add(None)
        pipe.incr(key)
        return int(pipe.execute()[1])
    except (redis.ConnectionError, redis.TimeoutError) as error:
        log.warning("queue version of brand %s not bumped: Redis is down (%s)", brand_id, error)
        return None


def _start(brand_id: int) -> None:
    # First use, or Redis lost the key: start from the clock (in ms), a number no browser
    # can already hold, so a lost counter never answers "unchanged" by mistake.
    cache.add(_key(brand_id), time.time_ns() // 1_000_000, timeout=None)
