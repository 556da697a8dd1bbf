"""The cache's Redis client is the process's, not the thread's (twelp/cache.py)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.cache import cache, caches

from tests.settings import _with_db
from twelp.cache import RedisCache


def _one_thread_after_another(n: int, work) -> list[object]:
    found: list[object] = []
    for _ in range(n):
        thread = threading.Thread(target=lambda: found.append(work()))
        thread.start()
        thread.join()
    return found


def _connections(pool) -> int:
    return len(pool._available_connections) + len(pool._in_use_connections)


def test_every_thread_uses_the_same_client_and_pool():
    """Each thread has a cache object of its own (Django's), and before, each its own pool
    and connection: a thread's first call connected to Redis anew."""
    here = cache._cache.get_client(write=True)
    pool = here.connection_pool
    before = _connections(pool)

    def use() -> object:
        own = caches["default"]  # this thread's cache object
        own.set("twelp-cache-test", 1, 5)
        assert own.get("twelp-cache-test") == 1
        return own._cache.get_client(write=True)

    clients = _one_thread_after_another(8, use)
    assert {id(client) for client in clients} == {id(here)}
    # Each thread hands its connection back before the next starts: at most one new one
    # in the process's pool (which earlier tests' threads may have filled), not eight.
    assert _connections(pool) <= before + 1


def test_another_server_or_db_gets_its_own_client():
    location = settings.CACHES["default"]["LOCATION"]
    ours = RedisCache(location, {})._cache.get_client()
    db = (ours.connection_pool.connection_kwargs.get("db", 0) + 1) % 16  # not the tests' db
    theirs = RedisCache(_with_db(location, db), {})._cache.get_client()
    assert ours is cache._cache.get_client()
    assert theirs is not ours
    assert theirs.connection_pool.connection_kwargs["db"] == db
