"""The outbox paces to X's budgets instead of meeting 429s: the only writer of PostingBudget.

1. `take`: before a call to post, the row's budget (brand account, kind) is locked and one
   call taken from both windows, but only when fewer answers are ahead of this one in the
   outbox's order than the windows have left; otherwise the row waits until a window
   resets, when the order is decided afresh (waking each at its own estimate starved
   the budget: the order changes while they sleep). At the reset the sweep wakes only
   the first `left` of the waiting rows in that order (inbox.outbox.replies.due_replies),
   not the whole waiting outbox.
   Workers serialise on the budget row for that instant, so however many run, no more
   calls leave than X said were left. The answers ahead are counted only when a call is
   left (a count over the waiting outbox; a spent window needs none).
2. `record`: X's headers on the answer correct the count, clamped; within the same window
   the lower of ours and X's wins (calls still in flight are not in X's count yet).
3. `exhausted`: a 429 anyway (the account used elsewhere) empties the window X names,
   until its (clamped) reset. Only that kind's budget: a DM 429 never holds posts back,
   nor the reverse.
A window whose reset has passed by `GRACE` is open again with its whole limit: the grace
covers X's reset header rounded up and a call that left just before the reset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import transaction

from inbox.budgets import windows
from inbox.models import PostingBudget
from inbox.rules import budget as rules
from inbox.rules.budget import DAY, DEFAULT_LIMITS, SHORT, SPANS, Window
from twelp import xgateway

GRACE = timedelta(seconds=2)
# No window open, yet answers ahead will spend this one's turn: look again shortly.
RECHECK = timedelta(seconds=5)


def _locked(brand_id: int, kind: str) -> PostingBudget:
    limits = DEFAULT_LIMITS[kind]
    PostingBudget.objects.get_or_create(
        brand_id=brand_id,
        kind=kind,
        defaults={
            "limit": limits[SHORT],
            "remaining": limits[SHORT],
            "day_limit": limits[DAY],
            "day_remaining": limits[DAY],
        },
    )
    return PostingBudget.objects.select_for_update().get(brand_id=brand_id, kind=kind)


def _rolled(window: Window, now: datetime) -> Window:
    """A window past its reset (and the grace) is no longer open."""
    if window.reset_at is not None and window.reset_at + GRACE <= now:
        return replace(window, remaining=window.limit, reset_at=None)
    return window


def _usable(window: Window, now: datetime) -> Window:
    """While the grace runs a reset window is not yet open again: nothing left in it."""
    if window.reset_at is not None and window.reset_at <= now < window.reset_at + GRACE:
        return replace(window, remaining=0, reset_at=window.reset_at + GRACE)
    return window


def _save(row: PostingBudget, short: Window, day: Window) -> None:
    row.limit, row.remaining, row.reset_at = short.limit, short.remaining, short.reset_at
    row.day_limit, row.day_remaining = day.limit, day.remaining
    row.day_reset_at = day.reset_at
    row.save()


@transaction.atomic
def take(
    brand_id: int, kind: str, now: datetime, *, ahead: int | Callable[[], int]
) -> datetime | None:
    """One call from the budget (None), or when to try again: not before the answers
    `ahead` of this one (a count, or how to count them) have had their turn."""
    row = _locked(brand_id, kind)
    short, day = (_usable(_rolled(w, now), now) for w in windows(row, kind))
    room = min(short.left(now), day.left(now))
    # Nothing left: whatever its place, it waits for a reset (no count).
    before = 0 if room <= 0 else ahead() if callable(ahead) else ahead
    if before >= room:
        # Not its turn: it looks again when the budget next changes (a window's reset), not
        # at its own estimate. The order is re-decided then (a calm answer that waited past
        # the SLA target moves up), and whoever is first in it takes the calls.
        limiting = [w for w in (short, day) if w.left(now) <= before]
        if any(not w.is_open(now) for w in limiting):
            return now + RECHECK  # a fresh window: the answers ahead spend it first
        return min(w.reset_at + GRACE for w in limiting)  # type: ignore[operator]
    _save(row, short.taken(now), day.taken(now))
    return None


def left(brand_id: int, kind: str, now: datetime) -> int:
    """The calls the budget has now (a read, no lock): as many waiting answers as this
    may be woken (inbox.outbox.replies.due_replies); `take` still decides each one."""
    row = PostingBudget.objects.filter(brand_id=brand_id, kind=kind).first()
    short, day = (_usable(_rolled(w, now), now) for w in windows(row, kind))
    return max(min(short.left(now), day.left(now)), 0)


def _clamped(raw: tuple[xgateway.XWindow, ...], kind: str, now: datetime) -> dict[str, Window]:
    found: dict[str, Window] = {}
    for item in raw:
        window = rules.clamp(
            item.span,
            limit=item.limit,
            remaining=item.remaining,
            reset=item.reset,
            default_limit=DEFAULT_LIMITS[kind][item.span],
            now=now,
        )
        if window is not None:
            found[item.span] = window
    return found


def _merged(ours: Window, theirs: Window | None) -> Window:
    if theirs is None:
        return ours  # a missing header: keep what we knew
    same = ours.reset_at is not None and abs(ours.reset_at - theirs.reset_at) < SPANS[ours.span] / 2  # type: ignore[operator]
    if not same:
        return theirs
    # Ours counts the calls taken here against the limit we assumed (X's documented one
    # until X first answers); when X's limit differs (a partner tier), those calls count
    # against X's: without the shift a larger limit would never be used in this window.
    shifted = max(ours.remaining + theirs.limit - ours.limit, 0)
    return replace(theirs, remaining=min(shifted, theirs.remaining))


@transaction.atomic
def record(brand_id: int, kind: str, raw: tuple[xgateway.XWindow, ...], now: datetime) -> None:
    """X's headers on an answer (point 2)."""
    told = _clamped(raw, kind, now)
    if not told:
        return
    row = _locked(brand_id, kind)
    short, day = windows(row, kind)
    _save(row, _merged(short, told.get(SHORT)), _merged(day, told.get(DAY)))


@transaction.atomic
def exhausted(
    brand_id: int, kind: str, raw: tuple[xgateway.XWindow, ...], reset_at: datetime, now: datetime
) -> datetime:
    """X answered 429 (point 3); returns when the budget opens again."""
    told = _clamped(raw, kind, now)
    row = _locked(brand_id, kind)
    current = dict(zip((SHORT, DAY), windows(row, kind), strict=True))
    spent = [span for span, window in told.items() if window.remaining == 0]
    if not spent:  # a 429 whose headers say otherwise: the short window, until X's reset
        fallback = rules.clamp(
            SHORT, limit=None, remaining=0, reset=int(reset_at.timestamp()),
            default_limit=DEFAULT_LIMITS[kind][SHORT], now=now,
        )  # fmt: skip
        told, spent = {SHORT: fallback}, [SHORT]  # type: ignore[dict-item]
    for span in spent:
        current[span] = replace(told[span], remaining=0)
    _save(row, current[SHORT], current[DAY])
    return max(current[span].reset_at for span in spent)  # type: ignore[type-var]
