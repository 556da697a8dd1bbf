"""Django's Redis cache, with one redis-py client (and connection pool) per server in the
process, shared by every thread.

1. Django's RedisCacheClient builds a new `redis.Redis` for every cache call, and building
   one fills its table of ~170 response callbacks: about 0.15 ms, on every session read,
   queue-version read and presence write of every request.
2. Django keeps a cache object per thread (django.core.cache.caches), and each of its
   clients its own connection pools: a thread's first cache call opened a pool and a new
   TCP connection to Redis. The push process (uvicorn) runs each request's sync part on a
   thread of its own (asgiref's ThreadSensitiveContext), so every stream a page opened
   paid for a pool, a name lookup and a connect, and left a connection behind until the
   collector closed it (BENCHMARKS.md, issue 14, stop 37: ~1,300 Redis clients for ~1,200
   streams).
A redis-py client is safe to share between threads (each command takes a connection from
the pool), and its pool makes its connections anew in a forked child (it checks the pid):
one per server and options, for the whole process, does the same work for nothing.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends import redis as django_redis

_shared: dict[tuple[object, ...], Any] = {}
_lock = threading.Lock()


class _Client(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # the shared clients this object has looked up

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = _shared_client(
                self._servers[index], self._pool_class, self._client, self._pool_options
            )
        return client


def _shared_client(server: str, pool_class: Any, client_class: Any, options: dict) -> Any:
    """The process's client for this server and these options, made on first use."""
    kwargs = tuple(sorted((name, repr(value)) for name, value in options.items()))
    ident = (server, pool_class, client_class, kwargs)
    with _lock:  # two threads' first calls make one pool, not two
        client = _shared.get(ident)
        if client is None:
            pool = pool_class.from_url(server, **options)
            client = _shared[ident] = client_class(connection_pool=pool)
    return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _Client
