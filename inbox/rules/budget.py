"""X's posting budgets as numbers: what X's rate-limit headers may be trusted to say, the
order waiting answers go out in, and when the n-th waiting answer will go.

1. Budgets, per brand account and kind (X counts posts and DMs apart; one never spends
   the other):

   | kind   | 15 minutes     | 24 hours        |
   | ------ | -------------- | --------------- |
   | tweets | 100 per user   | 10,000 per app  |
   | dms    | 15 per user    | 1,440 per user  |

   These are the defaults until X's headers say otherwise (x-rate-limit-* for the
   15-minute window; x-app-limit-24hour-* / x-user-limit-24hour-* for the day).
2. A header is clamped, never trusted blindly (`clamp`): a limit outside 1..1,000,000 is
   the default; remaining is kept within 0..limit (negative: 0); a reset that is
   missing, in the past, negative or more than 24 hours and a minute ahead is absurd:
   the window then ends one 15-minute window from now (twelp.xlimits, the rule the door
   to X applies to a 429's reset too). Up to a day and a minute ahead is X's own answer,
   even on the 15-minute headers: a 429 for a spent daily cap names the cap's reset
   there, rounded up to the second. A window with no remaining header is not used at
   all (the budget keeps what it knew).
3. The order (`order_class`): waiting answers go out
   a. first those on threads past the brand's first-response SLA target (the customer
      has waited `sla_first_response` since `waiting_since`),
   b. then urgent threads (priority >= 50: an urgent keyword, or frustration with reach;
      inbox.rules.priority),
   c. then the rest;
   and within a class, the one whose Send came first. Approved brand tweets (rare, a
   supervisor's) take the next free call without queueing behind answers.
4. The estimate (`estimate`): with `ahead` answers before it, an answer goes once every
   window has room for it: now if `ahead` is below what is left, else at the window's
   reset plus one whole window per `limit` further answers; the later of the two windows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy

from twelp import xlimits

TWEETS = "tweets"
DMS = "dms"
KINDS = (TWEETS, DMS)
SHORT, DAY = "15min", "24h"
SPANS = {SHORT: timedelta(minutes=15), DAY: timedelta(hours=24)}
DEFAULT_LIMITS = {TWEETS: {SHORT: 100, DAY: 10_000}, DMS: {SHORT: 15, DAY: 1_440}}
MAX_LIMIT = 1_000_000
URGENT_PRIORITY = 50
BREACHED, URGENT, OTHER = 0, 1, 2
CLASS_LABELS = {
    BREACHED: gettext_lazy("SLA breached"),
    URGENT: gettext_lazy("urgent"),
    OTHER: gettext_lazy("other"),
}


@dataclass(frozen=True)
class Window:
    """One window of a budget: `remaining` of `limit` calls until `reset_at`; no reset_at:
    no window is open (the next call opens one, with the whole limit)."""

    span: str
    limit: int
    remaining: int
    reset_at: datetime | None

    def is_open(self, now: datetime) -> bool:
        return self.reset_at is not None and self.reset_at > now

    def left(self, now: datetime) -> int:
        return self.remaining if self.is_open(now) else self.limit

    def taken(self, now: datetime) -> Window:
        """One call spent (a window opened first if none is)."""
        if self.is_open(now):
            return replace(self, remaining=max(self.remaining - 1, 0))
        return replace(self, remaining=self.limit - 1, reset_at=now + SPANS[self.span])


def clamp(
    span: str,
    *,
    limit: int | None,
    remaining: int | None,
    reset: int | None,
    default_limit: int,
    now: datetime,
) -> Window | None:
    """What a header triple may be trusted to say (point 2 of the docstring)."""
    if remaining is None:
        return None
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        limit = default_limit
    reset_at = xlimits.trusted_reset(reset, now)
    return Window(span, limit, min(max(remaining, 0), limit), reset_at)


def order_class(*, waiting_since: datetime, sla: timedelta, priority: int, now: datetime) -> int:
    """The answer's class in the outbox's order (point 3): lower goes first."""
    if waiting_since <= now - sla:
        return BREACHED
    if priority >= URGENT_PRIORITY:
        return URGENT
    return OTHER


def estimate(ahead: int, windows: list[Window], now: datetime) -> datetime:
    """When an answer with `ahead` answers before it goes out (point 4)."""
    when = now
    for window in windows:
        left = window.left(now)
        if ahead < left:
            continue
        first_reset = window.reset_at if window.is_open(now) else now + SPANS[window.span]
        whole_windows = (ahead - left) // max(window.limit, 1)
        when = max(when, first_reset + whole_windows * SPANS[window.span])  # type: ignore[operator]
    return when
