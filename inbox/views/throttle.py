"""Per-employee throttling of the expensive endpoints: the reply box's personal-data check,
the collision warnings' polls and typing pings, the audit CSV export.

Each employee has a counter per endpoint kind (`scope`) and per minute in Redis (one
INCR + EXPIRE, in one round trip); past the scope's limit the request gets 429 with a
sentence saying what happened and a Retry-After (the seconds left in the minute). The
limits are settings (THROTTLE_*_PER_MINUTE, .env.example), generous enough that an
employee's own pages never reach them: they stop a script or a stuck tab hammering one
session, not the work. 0 turns a scope's throttling off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

PERIOD = 60  # seconds: the limits are per minute

# scope -> (setting with its limit, what the employee did too often)
SCOPES = {
    "reply_check": ("THROTTLE_REPLY_CHECK_PER_MINUTE", "checked a draft reply"),
    "viewers": ("THROTTLE_VIEWERS_PER_MINUTE", "asked who else is viewing"),
    "typing": ("THROTTLE_TYPING_PER_MINUTE", "sent a typing signal"),
    "audit_csv": ("THROTTLE_AUDIT_CSV_PER_MINUTE", "exported the audit trail"),
}


def limit(scope: str) -> int:
    return getattr(settings, SCOPES[scope][0])


def check(scope: str, agent_id: int) -> HttpResponse | None:
    """Count this request of the employee in `scope`: None while within the limit, else
    the 429 to answer."""
    allowed = limit(scope)
    if allowed <= 0:
        return None
    now = _now()
    window = int(now // PERIOD)
    key = cache.make_key(f"throttle:{scope}:{agent_id}:{window}")
    client = cache._cache.get_client(key, write=True)
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, PERIOD + 1)
    count, _ = pipe.execute()
    if count <= allowed:
        return None
    wait = max(1, int((window + 1) * PERIOD - now + 0.999))
    return too_many(scope, allowed, wait)


def _now() -> float:
    return time.time()  # tests move the clock here


def too_many(scope: str, allowed: int, wait: int) -> HttpResponse:
    did = SCOPES[scope][1]
    response = HttpResponse(
        f"Too many requests: you {did} more than {allowed} times in a minute. "
        f"Please wait {wait} seconds and try again.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(wait)
    return response


View = Callable[..., HttpResponse]


def throttled(scope: str) -> Callable[[View], View]:
    """For a view under role_required (request.agent is the employee): at most the
    scope's limit of requests a minute per employee."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            refused = check(scope, request.agent.id)  # type: ignore[attr-defined]
            return refused or view(request, *args, **kwargs)

        return wrapper

    return decorator
