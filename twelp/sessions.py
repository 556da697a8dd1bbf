"""Sessions in the cache (Redis), as django.contrib.sessions.backends.cache, except when
Redis cannot be reached.

Django's cache store reads any failure as "no session": the request is anonymous and
SessionMiddleware deletes the browser's session cookie. During a Redis outage every open
page's poll would then log its employee out for good, though their session is still in
Redis when it comes back. Here an unreachable Redis is an error (a 500: htmx keeps what
the page shows and polls again; EventSource tries again later), and the cookie stays.
"""

from __future__ import annotations

from typing import Any

import redis
from django.contrib.sessions.backends import cache


class SessionStore(cache.SessionStore):
    def load(self) -> dict[str, Any]:
        """Django's own, but for the `except (ConnectionError, TimeoutError)`."""
        try:
            session_data = self._cache.get(self.cache_key)
        except (redis.ConnectionError, redis.TimeoutError):
            raise
        except Exception:  # as Django: an invalid key is no session (its ticket #17810)
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}
