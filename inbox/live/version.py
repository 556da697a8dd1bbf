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

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import redis
from django.core.cache import cache
from django.utils import timezone

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

# Entries kept in a brand's change log (approximately: XADD MAXLEN ~). At 50 changes a
# second that is over a minute of history, longer than a push process takes to restart.
CHANGES_KEPT = 5000


def _key(brand_id: int) -> str:
    return f"queue-version:{brand_id}"


def current(brand_id: int) -> int:
    settle()  # this thread's own published changes first (publish)
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
    settle()
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
    settle()
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
    settle()  # the change log in this thread's order (publish)
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


def _start(brand_id: int) -> None:
    # First use, or Redis lost the key: start from the clock (in ms), a number no browser
    # can already hold, so a lost counter never answers "unchanged" by mistake.
    cache.add(_key(brand_id), time.time_ns() // 1_000_000, timeout=None)


# --- publish: the bump of claim next, its reply read later --------------------------------
#
# Claim next (inbox.actions) is the hottest write: 700 agents clicking "Claim next". bump()
# through redis-py's client costs ~0.15 ms of Python (the pool, the client's command path)
# and a wait for Redis's reply on every claim. `publish` does bump's work with the same
# script on a redis-py connection of the thread's own (Connection.send_command), and its
# reply is read later (`settle`, Connection.read_response): the claim does not sleep on
# Redis.
#
# What still holds (the guarantees bump gives):
# 1. The push layer sees the change as before: Redis runs the script when it reads it
#    off the socket, whether or not anyone reads the reply; the change-log entry is
#    written then, and the push process's XREAD wakes on it.
# 2. A page read after the response sees the change: the middleware `settled` reads
#    every pending reply before the response leaves the process (Redis answers a
#    connection's commands in order, so the reply means the script ran). A page rendered
#    between the commit and the script is rendered after the commit: under the old
#    version it shows the new state, never an old state under the new version.
# 3. This thread's own later reads and bumps come after it: current(), label_with(),
#    newest() and bump() settle first (they use the cache's pooled connections).
# 4. Redis down: logged, the change is committed, as bump's None. A script Redis lost
#    (a restart: NOSCRIPT) is sent again in full (EVAL) when the reply says so.
# At most one reply is pending a thread: a second publish reads the first's reply first
# (in claim next, a whole PostgreSQL round trip later: it is there).


class _Publisher(threading.local):
    connection: redis.Connection | None = None
    pid = 0
    client: object = None  # the cache's client it was made for (settings may change it)
    pending: list[tuple[int, list[object]]]

    def __init__(self) -> None:
        self.pending = []


_publisher = _Publisher()
_BUMP_SHA = hashlib.sha1(_BUMP.encode(), usedforsecurity=False).hexdigest()


def _keys(brand_id: int) -> list[str]:
    return [cache.make_and_validate_key(_key(brand_id)), changes_key(brand_id)]


def _connection() -> redis.Connection:
    """This thread's own connection to the cache's Redis, made from its pool's settings
    (the same server, db, password, TLS); a new one in a forked child."""
    client = cache._cache
    if _publisher.connection is None or _publisher.pid != os.getpid():
        pool = client.get_client(cache.make_and_validate_key(_key(0)), write=True).connection_pool
        _publisher.connection = pool.connection_class(**pool.connection_kwargs)
        _publisher.pid, _publisher.pending, _publisher.client = os.getpid(), [], client
    elif _publisher.client is not client:  # the cache's settings changed (a test's)
        _publisher.connection.disconnect()
        _publisher.connection = None
        return _connection()
    return _publisher.connection


def publish(brand_id: int, threads: Iterable[int]) -> None:
    """bump(brand_id, threads), its reply read later (the section's comment): what claim
    next publishes after its commit."""
    settle()
    args = [time.time_ns() // 1_000_000, CHANGES_KEPT, ",".join(str(t) for t in threads)]
    if _send(brand_id, "EVALSHA", _BUMP_SHA, 2, *_keys(brand_id), *args):
        _publisher.pending.append((brand_id, args))


def settle() -> None:
    """Read the replies of this thread's published bumps: after it, Redis has run them."""
    if not _publisher.pending or _publisher.pid != os.getpid():
        return
    pending, _publisher.pending = _publisher.pending, []
    for brand_id, args in pending:
        try:
            _publisher.connection.read_response()
        except redis.exceptions.NoScriptError:  # Redis restarted empty: the script in full
            if _send(brand_id, "EVAL", _BUMP, 2, *_keys(brand_id), *args):
                _read(brand_id)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            _lost(brand_id, error)
            return


def _send(brand_id: int, *command: object) -> bool:
    try:
        _connection().send_command(*command, check_health=False)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        _lost(brand_id, error)
        return False
    return True


def _read(brand_id: int) -> None:
    try:
        _connection().read_response()
    except (redis.ConnectionError, redis.TimeoutError) as error:
        _lost(brand_id, error)


def _lost(brand_id: int, error: Exception) -> None:
    log.warning("queue version of brand %s not bumped: Redis is down (%s)", brand_id, error)
    if _publisher.connection is not None:
        _publisher.connection.disconnect()
    _publisher.connection, _publisher.pending = None, []


def middleware(get_response: Callable[[HttpRequest], HttpResponse]):
    """Every published bump's reply read before the response leaves (2. above)."""

    def settled(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        settle()
        return response

    return settled
