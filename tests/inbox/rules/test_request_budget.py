"""The 15-minute budget arithmetic per X endpoint."""

from __future__ import annotations

from inbox.rules import request_budget as budget


def by_endpoint(rows):
    return {b.endpoint: b for b in budget.budgets(rows)}


def test_a_source_costs_900_seconds_over_its_interval():
    assert budget.cost(15) == 60
    assert budget.cost(7) == 129  # rounded up: a part-poll still costs a request
    assert budget.cost(900) == 1


def test_search_and_the_relay_share_recent_searchs_450():
    result = by_endpoint(
        [("mentions", "Mentions", 15), ("search", "q", 15), ("relay", "Relay", 30)]
    )
    assert (result["mentions"].used, result["mentions"].headroom) == (60, 390)
    assert (result["search"].used, result["search"].limit) == (90, 450)
    assert result["dm_events"].used == 0 and result["dm_events"].limit == 300
    assert budget.overspent(list(result.values())) == ""


def test_eight_queries_every_15_seconds_cannot_fit():
    result = budget.budgets([("search", f"q{n}", 15) for n in range(8)])
    search = next(b for b in result if b.endpoint == "search")
    assert (search.used, search.fits, search.over) == (480, False, 30)
    assert "480 requests per 15 minutes, over X's limit of 450" in budget.overspent(result)
