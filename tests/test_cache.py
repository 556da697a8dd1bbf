"""The cache's Redis client is the process's, not the thread's (twelp/cache.py)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.cache import cache, caches

from twelp.cache import RedisCache


def _in_threads(n: int, work) -> list[object]:
    found: list[object] = []
    threads = [threading.Thread(target=lambda: found.append(work())) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def test_every_thread_uses_the_same_client_and_pool():
    """Each thread has a cache object of its own (Django's), and before, each its own pool
    and connection: a thread's first call connected to Redis anew."""
    here = cache._cache.get_client(write=True)

    def use() -> object:
        own = caches["default"]  # this thread's cache object
        own.set("twelp-cache-test", 1, 5)
        assert own.get("twelp-cache-test") == 1
        return own._cache.get_client(write=True)

    clients = _in_threads(8, use)
    assert {id(client) for client in clients} == {id(here)}
    pool = here.connection_pool
    # Eight threads, one after another or at once: a few connections, not one a thread.
    assert len(pool._available_connections) + len(pool._in_use_connections) < 8


def test_another_server_or_db_gets_its_own_client():
    location = settings.CACHES["default"]["LOCATION"]
    other = location.rsplit("/", 1)[0] + "/15"
    ours = RedisCache(location, {})._cache.get_client()
    theirs = RedisCache(other, {})._cache.get_client()
    assert ours is cache._cache.get_client()
    assert theirs is not ours
    assert theirs.connection_pool.connection_kwargs["db"] == 15
