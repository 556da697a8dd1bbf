"""X's headers clamped, the outbox's order classes, and the estimate's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inbox.rules import budget
from inbox.rules.budget import DAY, SHORT, Window

NOW = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def clamp(**header: int | None) -> Window | None:
    values = {"limit": 100, "remaining": 50, "reset": int(NOW.timestamp()) + 600} | header
    return budget.clamp(SHORT, default_limit=100, now=NOW, **values)


def test_it_trusts_a_sane_header():
    window = clamp()
    assert window == Window(SHORT, 100, 50, NOW + timedelta(seconds=600))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"remaining": -5}, (100, 0, NOW + timedelta(seconds=600))),
        ({"remaining": 5000}, (100, 100, NOW + timedelta(seconds=600))),
        ({"limit": -1}, (100, 50, NOW + timedelta(seconds=600))),
        ({"limit": 10**12}, (100, 50, NOW + timedelta(seconds=600))),
        ({"reset": None}, (100, 50, NOW + timedelta(minutes=15))),
        ({"reset": -1}, (100, 50, NOW + timedelta(minutes=15))),
        ({"reset": 10**15}, (100, 50, NOW + timedelta(minutes=15))),
        ({"reset": int(NOW.timestamp()) + 7 * 86400}, (100, 50, NOW + timedelta(minutes=15))),
        ({"reset": int(NOW.timestamp()) - 3600}, (100, 50, NOW + timedelta(minutes=15))),
        ({"reset": int(NOW.timestamp())}, (100, 50, NOW + timedelta(minutes=15))),
        ({"reset": int(NOW.timestamp()) + 86_461}, (100, 50, NOW + timedelta(minutes=15))),
        # X's daily cap, rounded up to the second: as far as a day and a minute is X's word.
        ({"reset": int(NOW.timestamp()) + 86_460}, (100, 50, NOW + timedelta(seconds=86_460))),
        ({"reset": int(NOW.timestamp()) + 86_401}, (100, 50, NOW + timedelta(seconds=86_401))),
    ],
)
def test_it_clamps_an_absurd_header(header, expected):
    window = clamp(**header)
    assert (window.limit, window.remaining, window.reset_at) == expected


def test_a_window_without_a_remaining_header_is_not_used():
    assert clamp(remaining=None) is None


def test_the_order_puts_sla_breaches_then_urgent_threads_first():
    sla = timedelta(minutes=15)
    late = budget.order_class(waiting_since=NOW - sla, sla=sla, priority=0, now=NOW)
    urgent = budget.order_class(waiting_since=NOW, sla=sla, priority=65, now=NOW)
    calm = budget.order_class(waiting_since=NOW, sla=sla, priority=49, now=NOW)
    assert (late, urgent, calm) == (budget.BREACHED, budget.URGENT, budget.OTHER)
    assert late < urgent < calm


def test_the_estimate_counts_whole_windows_past_what_is_left():
    short = Window(SHORT, 100, 10, NOW + timedelta(minutes=5))
    day = Window(DAY, 10_000, 9_000, NOW + timedelta(hours=20))
    assert budget.estimate(9, [short, day], NOW) == NOW  # room now
    assert budget.estimate(10, [short, day], NOW) == NOW + timedelta(minutes=5)
    assert budget.estimate(109, [short, day], NOW) == NOW + timedelta(minutes=5)
    assert budget.estimate(110, [short, day], NOW) == NOW + timedelta(minutes=20)
    # The day's cap, when tighter, decides.
    tight_day = Window(DAY, 10_000, 3, NOW + timedelta(hours=2))
    assert budget.estimate(5, [short, tight_day], NOW) == NOW + timedelta(hours=2)


def test_a_closed_window_has_its_whole_limit():
    closed = Window(SHORT, 15, 0, NOW - timedelta(seconds=1))
    assert closed.left(NOW) == 15
    taken = closed.taken(NOW)
    assert (taken.remaining, taken.reset_at) == (14, NOW + timedelta(minutes=15))
