"""bench.day --browsers: how the Chromium pages' records are timed against the change log
(no servers: made-up records; the real run is in tests/test_bench_smoke.py)."""

from __future__ import annotations

from bench.day import Change, Tally, mention_to_browser


def change(ms: int, threads: tuple[int, ...] | None) -> Change:
    return Change(ms * 1_000_000, ms, ms / 1000, None if threads is None else frozenset(threads))


def test_each_new_thread_is_timed_from_its_first_change_to_each_page():
    tally = Tally()
    # Thread 5 existed before the run; 6 and 7 are created at 10.0 s and 11.0 s; 6 is
    # claimed at 12.0 s (not a new mention); a change of any thread ("*") creates nothing.
    tally.changes = [
        change(10_000, (6,)),
        change(11_000, (7, 5)),
        change(12_000, (6,)),
        change(12_500, None),
    ]
    tally.browsers = {
        "pages": [
            # Live from before the run: shows 6 after 200 ms; 7 comes with the claim's state.
            {
                "applied": [[9_000, "9000-0"], [10_200, "10000-0"], [12_100, "12000-0"]],
                "seen": {"5": 9_000, "6": 10_200},
            },
            # Went live at 11.0 s showing 7's change already: only what came after counts.
            {"applied": [[11_050, "11000-0"], [12_050, "12000-0"]], "seen": {"7": 11_050}},
            {"applied": [], "seen": {}},  # never live: nothing to time
        ],
        "errors": [],
    }
    found = mention_to_browser(tally, first_thread=5, end=20.0)
    assert found["mentions"] == 2 and found["pages"] == 3
    assert found["changes with new threads"] == 2
    state = found["mention_to_browser_ms"]
    assert state["n"] == 2  # page 1: 6 (200 ms) and 7 (1,100 ms); page 2: neither is new
    assert round(state["p50"]) == 200 and round(state["max"]) == 1100
    rows = found["mention_row_to_browser_ms"]
    assert rows["n"] == 1 and round(rows["max"]) == 200  # 6's row on page 1
    assert found["missed (page open 5 s on without it)"] == 0


def test_a_page_that_never_gets_a_mention_counts_it_missed():
    tally = Tally()
    tally.changes = [change(10_000, (6,)), change(19_000, (7,))]
    tally.browsers = {"pages": [{"applied": [[9_000, "9000-0"]], "seen": {}}], "errors": []}
    found = mention_to_browser(tally, first_thread=0, end=20.0)
    assert found["mention_to_browser_ms"] == {"n": 0}
    # 6: the page was open 10 s on without it; 7: within 5 s of the end, not counted.
    assert found["missed (page open 5 s on without it)"] == 1
