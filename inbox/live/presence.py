"""Who is online: one Redis key per agent, expiring PRESENCE_SECONDS after their last
request. The middleware touches it on every request an employee makes, including the
queue's "unchanged" refreshes, which never load the Agent row: for those the session
(in Redis too) remembers whose it is. No PostgreSQL either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

SESSION_KEY = "presence"  # [brand id, agent id], set once the agent has been served a page


def _key(brand_id: int, agent_id: int) -> str:
    return f"presence:{brand_id}:{agent_id}"


# When this process last wrote each agent's key (monotonic seconds). An open queue asks
# every 2 s; rewriting the key at most every REWRITE_SECONDS (a fraction of its expiry)
# keeps it alive just the same and spares Redis a write on most requests.
_written: dict[tuple[int, int], float] = {}
REWRITE_SECONDS = 10.0


def seen(brand_id: int, agent_id: int) -> None:
    now = time.monotonic()
    rewrite = min(REWRITE_SECONDS, settings.PRESENCE_SECONDS / 3)
    if now - _written.get((brand_id, agent_id), -rewrite) < rewrite:
        return
    cache.set(_key(brand_id, agent_id), timezone.now().timestamp(), settings.PRESENCE_SECONDS)
    _written[(brand_id, agent_id)] = now


def last_seen(brand_id: int, agent_ids: Iterable[int]) -> dict[int, datetime]:
    """{agent id: when last seen} for the agents of `agent_ids` online now."""
    keys = {_key(brand_id, agent_id): agent_id for agent_id in agent_ids}
    found = cache.get_many(list(keys))
    return {keys[key]: datetime.fromtimestamp(value, tz=UTC) for key, value in found.items()}


def middleware(get_response: Callable[[HttpRequest], HttpResponse]):
    def presence(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        agent = getattr(request, "agent", None)
        session = getattr(request, "session", None)
        if agent is not None and agent.is_active:
            who = [agent.brand_id, agent.id]
            if session is not None and session.get(SESSION_KEY) != who:
                session[SESSION_KEY] = who
            seen(*who)
        elif session is not None and response.status_code == 204:
            # A live refresh answered from Redis: the session says whose it is.
            who = session.get(SESSION_KEY)
            if who:
                seen(*who)
        return response

    return presence
