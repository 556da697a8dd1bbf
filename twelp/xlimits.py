"""How far X's rate-limit reset headers may be trusted: one rule for every caller (the
door to X for a 429's reset, the outbox's budgets for the windows it keeps).

A reset (Unix seconds, rounded up by X) is trusted when it lies ahead of now by at most
`MAX_AHEAD`: X's 24-hour posting caps reset up to a day ahead, and the header is
rounded up to the second, so a day and a minute is still X's own answer. Anything else
(missing, not a number, in the past, negative, further ahead) is absurd: the caller
waits one 15-minute window (`FALLBACK`), X's standard one, and learns the truth from
the next answer's headers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FALLBACK = timedelta(minutes=15)
MAX_AHEAD = timedelta(hours=24, minutes=1)


def trusted_reset(reset: int | None, now: datetime) -> datetime:
    """The time to wait for: X's `reset` if it is believable, else one window from now."""
    if reset is None or reset < 0:
        return now + FALLBACK
    try:
        at = datetime.fromtimestamp(reset, tz=now.tzinfo)
    except (OverflowError, OSError, ValueError):
        return now + FALLBACK
    if at <= now or at > now + MAX_AHEAD:
        return now + FALLBACK
    return at
