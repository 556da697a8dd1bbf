"""X's rate limits: fixed windows counted in PostgreSQL (xsandbox_ratewindow).

A window opens with the first request after the last one closed and lasts its full length,
as X's do; one upsert counts a request and reads the window, so concurrent sandbox
processes share the count. Limits come from settings.XSANDBOX_RATE_LIMITS:

    {endpoint: {scope: (requests, window seconds)}}

Scopes: "app" (per app, app-only Bearer calls), "user" (per user, OAuth 1.0a calls),
"app_24h" (per app, every call) and "user_24h" (per user, every call). The 15-minute scope
that applies is reported in x-rate-limit-*; the 24-hour ones in x-app-limit-24hour-* and
x-user-limit-24hour-*, as X reports its daily posting caps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from twelp.xsandbox.auth import Caller
from twelp.xsandbox.models import RateWindow

_COUNT = """
    INSERT INTO xsandbox_ratewindow (bucket, count, reset_at) VALUES (%(bucket)s, 1, %(reset)s)
    ON CONFLICT (bucket) DO UPDATE SET
        count = CASE WHEN xsandbox_ratewindow.reset_at <= %(now)s
                     THEN 1 ELSE xsandbox_ratewindow.count + 1 END,
        reset_at = CASE WHEN xsandbox_ratewindow.reset_at <= %(now)s
                        THEN EXCLUDED.reset_at ELSE xsandbox_ratewindow.reset_at END
    RETURNING count, reset_at
"""

_HEADER_PREFIX = {
    "app": "x-rate-limit",
    "user": "x-rate-limit",
    "app_24h": "x-app-limit-24hour",
    "user_24h": "x-user-limit-24hour",
}


@dataclass(frozen=True)
class Window:
    scope: str
    limit: int
    used: int
    reset_at: datetime

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        prefix = _HEADER_PREFIX[self.scope]
        return {
            f"{prefix}-limit": str(self.limit),
            f"{prefix}-remaining": str(self.remaining),
            # Unix seconds, rounded up: a client that waits until then finds the window open.
            f"{prefix}-reset": str(math.ceil(self.reset_at.timestamp())),
        }


def count(endpoint: str, caller: Caller) -> list[Window]:
    """Count this call in every window that applies to it; return those windows."""
    limits = settings.XSANDBOX_RATE_LIMITS.get(endpoint, {})
    return [
        _count_in(endpoint, scope, caller, requests, seconds)
        for scope, (requests, seconds) in limits.items()
        if _applies(scope, caller)
    ]


def blocking(windows: list[Window]) -> Window | None:
    """The spent window that refuses this call, if any (none while limits are switched off)."""
    if not settings.XSANDBOX_RATE_LIMITS_ENABLED:
        return None
    spent = [window for window in windows if window.exceeded]
    return max(spent, key=lambda window: window.reset_at, default=None)


REFUSED_PREFIX = "refused:"
_KEPT = timedelta(days=36_500)  # a tally, not a window: it never resets by itself


def note_refused(endpoint: str, caller: Caller) -> None:
    """Tally a 429 answered for a spent window (read by GET /_sandbox/rate_limits)."""
    owner = f"user:{caller.user.id}" if caller.user is not None else f"app:{caller.app.pk}"
    now = timezone.now()
    params = {"bucket": f"{REFUSED_PREFIX}{endpoint}:{owner}", "now": now, "reset": now + _KEPT}
    with connection.cursor() as cursor:
        cursor.execute(_COUNT, params)


def refused_counts() -> dict[str, int]:
    rows = RateWindow.objects.filter(bucket__startswith=REFUSED_PREFIX)
    return {row.bucket.removeprefix(REFUSED_PREFIX): row.count for row in rows}


def headers(windows: list[Window], blocked: Window | None = None) -> dict[str, str]:
    result: dict[str, str] = {}
    for window in windows:
        result.update(window.headers())
    if blocked is not None:
        # What x-rate-limit-reset promises must hold: a client that sleeps until then
        # (tweepy's wait_on_rate_limit does) gets through.
        result.update(
            {
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(math.ceil(blocked.reset_at.timestamp())),
            }
        )
        result.setdefault("x-rate-limit-limit", str(blocked.limit))
    return result


def _applies(scope: str, caller: Caller) -> bool:
    if scope == "app":
        return caller.user is None
    if scope in ("user", "user_24h"):
        return caller.user is not None
    return True


def _count_in(endpoint: str, scope: str, caller: Caller, limit: int, seconds: int) -> Window:
    owner = f"user:{caller.user.id}" if scope.startswith("user") else f"app:{caller.app.pk}"
    bucket = f"{endpoint}:{scope}:{owner}"
    now = timezone.now()
    params = {"bucket": bucket, "now": now, "reset": now + timedelta(seconds=seconds)}
    with connection.cursor() as cursor:
        cursor.execute(_COUNT, params)
        used, reset_at = cursor.fetchone()
    return Window(scope=scope, limit=limit, used=used, reset_at=reset_at)
