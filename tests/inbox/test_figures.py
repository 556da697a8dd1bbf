"""Every dashboard figure against the hand-built day in helpers.build_scenario, with the
answers worked out by hand (times in UTC; the brand is always open, targets 15 min / 4 h).

Durations come from histograms: a median or p90 must be within 20% of the true value
(the nearest-rank quantile of the samples listed in each test)."""

from __future__ import annotations

import pytest

from inbox import figures, rollups
from inbox.models import Rollup
from tests.inbox.scenario import NOW, at


def close_to(estimate: float | None, truth: float) -> bool:
    return estimate is not None and abs(estimate - truth) <= 0.2 * truth


@pytest.fixture(params=["deltas", "compacted"])
def board(request, brand, scenario):
    if request.param == "compacted":
        rollups.compact(NOW)
        assert not Rollup.objects.filter(delta=True).exists()
    with at(NOW):
        return figures.build(brand)


def windows(board):
    return {w.key: w for w in board.windows}


def test_it_counts_the_queue_by_status(board):
    assert board.totals["open"] == 2  # t6, t7
    assert board.totals["claimed"] == 1  # t8
    assert board.totals["answered"] == 1  # t2
    assert board.totals["closed"] == 4  # t1, t3, t4, t5


def test_it_names_the_longest_waiting_customers(board, scenario):
    assert [t.id for t in board.longest] == [scenario.t7.id, scenario.t6.id, scenario.t8.id]
    assert board.oldest == scenario.t7


def test_it_counts_sla_breaches_and_near_misses_now(board):
    assert (board.sla.breached, board.sla.near, board.sla.capped) == (1, 1, False)


def test_it_counts_the_last_hour_from_minute_rows(board):
    hour = windows(board)["hour"]
    # Minute buckets 11:01 to 12:00: t1 arrived at 11:00, just outside.
    assert (hour.arrived, hour.claimed, hour.posted, hour.closed) == (4, 3, 2, 1)
    assert hour.first_response.count == 2  # 300 s, 660 s
    assert close_to(hour.first_response.median, 300)
    assert close_to(hour.first_response.p90, 660)
    assert hour.first_response.mean == 480
    assert hour.resolution.count == 1 and close_to(hour.resolution.median, 1800)


def test_it_counts_today(board):
    today = windows(board)["today"]
    assert (today.arrived, today.claimed, today.posted, today.closed) == (6, 4, 3, 2)
    assert today.first_response.count == 3  # 300, 660, 1200 s
    assert close_to(today.first_response.median, 660)
    assert close_to(today.first_response.p90, 1200)
    assert today.first_response.breached == 1  # t3: 20 min > 15 min
    assert today.first_response.within_target == pytest.approx(200 / 3)
    assert today.resolution.count == 2  # 1800, 3600 s
    assert close_to(today.resolution.median, 1800)
    assert close_to(today.resolution.p90, 3600)
    assert today.resolution.breached == 0


def test_it_counts_seven_days_without_older_history(board):
    week = windows(board)["week"]
    assert (week.arrived, week.claimed, week.posted, week.closed) == (7, 5, 4, 3)
    assert week.first_response.count == 4  # 300, 660, 1200, 7200 s
    assert close_to(week.first_response.median, 660)
    assert close_to(week.first_response.p90, 7200)
    assert week.first_response.breached == 2
    assert week.resolution.count == 3  # 1800, 3600, 86400 s
    assert close_to(week.resolution.median, 3600)
    assert close_to(week.resolution.p90, 86400)
    assert week.resolution.breached == 1


def test_it_draws_threads_in_and_replies_out_per_hour(board):
    hours = {h.start.hour: h for h in board.hours}
    # The last bar is the hour now under way (12:00, empty so far).
    assert len(board.hours) == 24 and board.hours[-1].start == NOW
    assert (hours[11].arrived, hours[11].posted) == (5, 2)  # t1, t2, t6, t7, t8 in
    assert (hours[9].arrived, hours[9].posted) == (1, 1)
    assert (hours[10].arrived, hours[10].posted) == (0, 0)
    assert sum(h.posted for h in board.hours) == 3


def test_it_credits_each_agent_today_and_shows_their_claims(board, agent, second_agent, scenario):
    rows = {row.agent.id: row for row in board.agents}
    assert rows[agent.id].today == {"posted": 2, "claimed": 3, "closed": 2}
    assert rows[second_agent.id].today == {"posted": 1, "claimed": 1, "closed": 0}
    assert [t.id for t in rows[agent.id].holds] == [scenario.t8.id]
    assert rows[second_agent.id].holds == []


def test_it_reports_the_outbox(board):
    assert (board.outbox.queued, board.outbox.sending, board.outbox.failed) == (0, 0, [])
    assert board.outbox.spend.today == 0 and board.outbox.spend.month == 0


def test_it_sums_sealed_quarters_once_and_live_ones_every_time(
    brand, scenario, second_agent, django_assert_num_queries
):
    """Quarters older than SEAL_GRACE are summed once (then read from Redis); the open
    quarter is read every time, so a new Event counts at once."""
    from inbox import actions

    with at(NOW):
        first = {w.key: w for w in rollups.windows(brand, NOW)}
        # Rows of sealed quarters are not read again: deleting them changes nothing...
        Rollup.objects.filter(grain="q", bucket__lt=NOW.replace(hour=11, minute=45)).delete()
        with django_assert_num_queries(1):
            again = {w.key: w for w in rollups.windows(brand, NOW)}
        assert again == first
        # ...while an Event in the open quarter shows at once.
        actions.do_claim(scenario.t6.id, agent=second_agent)
        later = {w.key: w for w in rollups.windows(brand, NOW)}
    assert (later["hour"].claimed, later["today"].claimed, later["week"].claimed) == (4, 5, 6)
