"""The benchmarks under bench/, run at a tiny size so their code cannot rot.

No timing is asserted (the numbers live in BENCHMARKS.md): these check that each benchmark
runs end to end as a real process (its own database, the sandbox under gunicorn, a Celery
worker) and that what it seeded and measured adds up.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from bench.requests import PAGES
from tests import processes

pytestmark = pytest.mark.slow


def bench_database(suffix: str) -> str:
    """A database beside the test database, named for the benchmark (which drops it)."""
    db = connection.settings_dict
    host = str(db["HOST"] or "127.0.0.1")
    host = quote(host, safe="") if host.startswith("/") else host
    return f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}_bench_{suffix}"


def run_bench(module: str, tmp_path: Path, redis_url: str, *args: str) -> dict:
    """A benchmark on its own database and on `redis_url`, a private Redis: it flushes it."""
    out = tmp_path / f"{module}.json"
    command = [sys.executable, "-m", f"bench.{module}", "--json", str(out), *args]
    command += ["--database-url", bench_database(module)]
    command += ["--redis-url", redis_url]
    done = processes.run(command, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return json.loads(out.read_text())["results"]


def test_it_ingests_every_wanted_tweet_once(tmp_path, private_redis_url):
    [result] = run_bench(
        "ingest", tmp_path, private_redis_url, "--sizes", "300", "--follow-ups", "40"
    )
    backlog, follow_ups = result["backlog"], result["follow_ups"]
    assert result["mentions"] == 300  # every simulated tweet mentions the brand
    assert 250 < result["wanted"] < 300  # retweets are in the mix, and skipped
    assert result["messages"] == result["wanted"] == backlog["ingested"]
    assert result["threads"] == result["conversations"] == backlog["new_threads"]
    assert backlog["pages"] == 3
    assert backlog["per_page"]["ingest_ms"]["n"] == 3
    assert backlog["per_page"]["queries"]["median"] > 0
    assert follow_ups["tweets"] == follow_ups["ingested"] == 40
    assert follow_ups["new_threads"] == 0
    assert all(backlog["checks"].values()) and all(follow_ups["checks"].values())


def test_it_measures_what_media_and_lang_cost_at_ingest(tmp_path, private_redis_url):
    plain, media = run_bench(
        "ingest", tmp_path, private_redis_url, "--media-lang", "--sizes", "300", "--follow-ups", "0"
    )
    assert (plain["mode"], media["mode"]) == ("plain", "media+lang")
    assert plain["messages_with_media"] == 0 < media["photos"] == media["messages_with_media"]
    assert plain["messages"] == media["messages"] == media["wanted"]
    assert all(plain["backlog"]["checks"].values()) and all(media["backlog"]["checks"].values())


def test_it_measures_the_context_around_threads(tmp_path, private_redis_url):
    [result] = run_bench("context", tmp_path, private_redis_url, "--threads", "6")
    assert (result["threads"], result["quoting"]) == (9, 3)
    assert result["x_lookups"] == {"wanted": 0, "cold": 9, "warm": 0, "shown": 0}
    assert result["announcements_shown"] >= 6  # each reply's brand tweet, from the cache
    assert result["lookup_limit_per_15_min"] > 0


def test_it_measures_the_inbox_at_size(tmp_path, private_redis_url):
    [result] = run_bench(
        "queue",
        tmp_path,
        private_redis_url,
        "--sizes",
        "300",
        "--requests",
        "5",
        "--claims",
        "20",
        "--concurrency",
        "2",
        "--sends",
        "2",
    )
    # Seeded through the models: a third as many customers, 3 messages a thread, the
    # brand's answer a posted Reply; counted in the database.
    assert result["rows"] == {
        "inbox_customer": 100,
        "inbox_thread": 300,
        "inbox_message": 900,
        "inbox_reply": 300,
    }
    views = result["views"]
    assert views["queue first page"]["ms"]["n"] == 5
    assert views["queue first page"]["queries"] > 0
    assert views["thread page"]["queries"] > 0
    assert views["live refresh, unchanged (204)"]["queries"] == 0
    for mode in ("action", "raw"):
        run = result["claims"][f"{mode}@2"]
        assert run["claims"] == 20 and run["distinct"]
    assert result["sends"]["sends"] == result["sends"]["at_sandbox"] == 2
    assert result["sends"]["observed_ms"]["n"] == 2


def test_it_interleaves_claim_next_and_raw_skip_locked_across_teams(tmp_path, private_redis_url):
    [result] = run_bench(
        "queue",
        tmp_path,
        private_redis_url,
        *("--sizes", "300", "--parts", "claims", "--claims", "200", "--concurrency", "2"),
        *("--rounds", "3", "--teams", "3", "--agents", "12", "--sends", "0"),
    )
    assert result["routing"] == {"teams": 3, "agents": 12, "threads_in_no_team": 0}
    claims = result["claims"]
    assert len(claims["ratio@2"]["each"]) == 3  # one ratio per round, each its own
    assert min(claims["ratio@2"]["each"]) <= claims["ratio@2"]["median"]
    # A team holds ~30 open threads of the 300 (30% open, 3 teams): each claimer takes at
    # most 80% of their team's, not the 100 asked, and claim next never runs dry.
    batch = claims["action@2"]["claims"]
    assert 0 < batch < 200
    for mode in ("action", "raw"):
        run = claims[f"{mode}@2"]
        assert len(run["per_s_each"]) == 3 and run["claims"] == batch and run["distinct"]
        assert run["latency_ms"]["n"] == 3 * batch
    assert len(claims["one connection, ratio"]["each"]) == 3
    assert 0 < claims["one connection, action"]["claims"] < 100
    for mode in ("action", "raw"):  # the claimer's PostgreSQL backend, read from this machine
        assert claims[f"one connection, {mode}"]["server_cpu_ms"] >= 0


def test_claimers_under_a_cap_claim_at_most_it_each_in_turn(tmp_path, private_redis_url):
    [result] = run_bench(
        "queue",
        tmp_path,
        private_redis_url,
        *("--sizes", "300", "--parts", "claims", "--claims", "40", "--concurrency", "2"),
        *("--rounds", "1", "--teams", "3", "--agents", "40", "--sends", "0"),
        *("--claimers", "new", "--cap", "3"),
    )
    assert result["cap"] == 3 and result["claimers"] == "new"
    claims = result["claims"]
    batch, plan = claims["action@2"]["claims"], claims["plan@2"]
    # Each of the 30 new claimers takes at most 3; a team gives at most 80% of its ~30
    # open threads: 40 asked, as many as the teams allow, by at least batch / 3 agents.
    assert plan["most_by_one"] == 3 and 0 < batch <= 40
    assert plan["agents"] >= batch / 3
    assert claims["action@2"]["distinct"] and claims["raw@2"]["distinct"]
    assert claims["raw@2"]["claims"] == batch


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--cap", "-1"), "--cap is a number of threads from 0 to 32767"),
        (("--cap", "3"), "--cap needs --claimers new"),
    ],
)
def test_a_cap_it_cannot_use_is_refused_before_anything_runs(args, said):
    done = processes.run(
        [sys.executable, "-m", "bench.queue", "--parts", "claims", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and said in done.stderr


def test_it_measures_auto_assignment_against_raw_skip_locked(tmp_path, private_redis_url):
    [result] = run_bench(
        "assign",
        tmp_path,
        private_redis_url,
        *("--sizes", "300", "--steady", "2", "--rounds", "2", "--batch", "20"),
    )
    against = result["against_raw"]
    assert len(against["ratios"]) == 2 and against["once"]  # 20 each batch, each thread once
    assert against["assign_ms"]["n"] == 40 and against["raw_ms"]["n"] == 40
    assert result["fill"]["assigned"] == 300  # the batches were undone: every thread open


def test_it_measures_twelps_side_of_the_comparison(tmp_path, private_redis_url):
    # django-helpdesk's side needs its venv from PyPI and minutes of setup: not here.
    [row] = run_bench(
        "compare",
        tmp_path,
        private_redis_url,
        *("--sizes", "300", "--requests", "5", "--no-peer", "--push"),
    )
    ours = row["twelp"]
    assert ours["size"] == 300
    assert ours["seed"]["messages"] == 900  # three per thread, as a peer ticket has
    assert sum(ours["seed"][s] for s in ("open", "claimed", "answered", "closed")) == 300
    pages = ("list", "thread", "dashboard", "list_changed", "dashboard_changed")
    for page in (*pages, "list_pushed", "dashboard_pushed"):
        assert ours[page]["n"] == 5  # two rounds: 2 + 3
        assert len(ours[page]["round_medians"]) == 2
        assert ours[page]["median_ms"] <= ours[page]["p95_ms"] <= ours[page]["max_ms"]
        assert ours[page]["queries"] >= 1  # the login check reads PostgreSQL every time
    # A new queue version makes the pages read their rows and figures again.
    assert ours["list_changed"]["queries"] > ours["list"]["queries"]
    assert ours["dashboard_changed"]["queries"] > ours["dashboard"]["queries"]
    # With their tab open on its stream, the push process rendered the change first: the
    # page load after it reads no rows, and the push process's CPU per change is counted.
    assert ours["list_pushed"]["queries"] < ours["list_changed"]["queries"]
    assert ours["dashboard_pushed"]["queries"] < ours["dashboard_changed"]["queries"]
    for page in ("list_pushed", "dashboard_pushed"):
        assert len(ours[page]["push_cpu_ms_per_change"]) == 2
    assert "peer" not in row


def test_channel_triggers_bench_measures_and_leaves_nothing(db):
    from inbox.models import Brand
    from tests.helpers import child_env

    command = [sys.executable, "-m", "bench.channel_triggers", "--rows", "200", "--rounds", "1"]
    done = processes.run(command, env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout)
    assert report["rows"] == 200
    assert report["messages: in trigger ms"] > 0 and report["replies: in trigger ms"] > 0
    assert not Brand.objects.filter(handle="bench_channel").exists()  # rolled back


def test_it_runs_a_tiny_twelpforce_day(tmp_path, private_redis_url):
    """3 agents over real HTTP (gunicorn, uvicorn, worker, beat, sandbox; nginx in front),
    20 mentions, ~20 s, and one real Chromium page on the queue (--browsers)."""
    [result] = run_bench(
        "day",
        tmp_path,
        private_redis_url,
        "--agents",
        "3",
        "--minutes",
        "0.3",
        "--mentions-per-hour",
        "240",
        "--compression",
        "15",
        "--poll-seconds",
        "2",
        "--browsers",
        "1",
        "--nginx",
    )
    checks, counts = result["checks"], result["counts"]
    assert checks["mentions accepted by the sandbox"] == 18 == checks["inbound messages"]
    assert checks["every mention ingested once"]
    assert checks["one posted reply per send"] and checks["0 double claims"]
    assert counts["agents logged in"] == 3
    assert counts["claims"] == checks["claimed events"] > 0
    assert counts["replies sent"] == checks["Reply rows posted"] > 0
    # Push mode (the default): each open queue, thread page and dashboard has its stream,
    # and each change reached the open streams (no timing asserted).
    assert result["mode"] == "push" and result["supervisors"] == 1
    assert "live refresh" not in result["latency_ms"]
    assert counts["stream queue: live messages"] > 0 and counts["stream thread: live messages"] > 0
    # As twelp.js: the #viewers poll is sent at page load, then paused while the stream is open.
    assert counts["viewers: polls paused by the stream"] > 0
    assert result["change_to_screen_ms"]["n"] > 0 and result["invariants_ok"]
    assert not result["change_to_screen_detail"]["missed (feed open 5 s on without it)"]
    assert result["cpu_share"]["push (uvicorn)"] > 0
    assert result["latency_ms"]["claim next"]["n"] >= counts["claims"]
    assert result["timings"]["mention -> first reply posted s"]["n"] > 0
    assert result["cpu_share"]["web (gunicorn)"] > 0
    assert not result["errors"]
    # The Chromium page logged in (a fourth employee), sat on the queue with its stream, and
    # had the new mentions' states (their rows: a short queue shows them all).
    browsers = result["browsers"]
    assert browsers["pages"] == 1 and not browsers["errors"]
    assert browsers["mentions"] > 0
    assert browsers["mention_to_browser_ms"]["n"] > 0
    assert browsers["mention_row_to_browser_ms"]["n"] > 0
    assert result["cpu_share"]["browsers (Chromium)"] > 0


def test_a_tiny_day_of_available_agents_works_what_comes_to_them(tmp_path, private_redis_url):
    """--available: no Claim next; each agent is Available and opens the threads that the
    assignment runs give them (their notifications), answers and closes them."""
    [result] = run_bench(
        "day",
        tmp_path,
        private_redis_url,
        *("--agents", "3", "--minutes", "0.3", "--mentions-per-hour", "240"),
        *("--compression", "15", "--poll-seconds", "2", "--available"),
    )
    checks, counts = result["checks"], result["counts"]
    assert result["available"] and "claim next" not in result["latency_ms"]
    assert checks["every mention ingested once"] and checks["0 double claims"]
    assert counts["threads that came (assigned)"] == counts["claims"] > 0
    assert checks["claimed events"] >= counts["claims"]  # each assignment is one
    assert counts["replies sent"] == checks["Reply rows posted"] > 0
    assert not result["errors"]


def test_it_measures_what_row_patches_save(tmp_path, private_redis_url):
    """bench.push_patch at 25 agents, 4 changes (one of each kind): bytes and CPU add up."""
    [result] = run_bench(
        "push_patch", tmp_path, private_redis_url, "--agents", "25", "--changes", "4"
    )
    assert result["agents"] == 25 and result["changes"] == 4
    for view in ("queue", "dashboard"):
        found = result[view]
        assert found["patched"] == 4  # the dashboard and queue parts are always split
        assert found["patch_bytes_median"] < found["whole_bytes_median"]
        assert found["render_cpu_ms_median"] > 0
    assert result["dashboard"]["streams"] == 1 and result["queue"]["streams"] == 25


def test_it_measures_a_brand_wide_change_on_open_thread_pages(tmp_path, private_redis_url):
    """bench.push_banner at 10 pages, 2 changes: the banner path renders only the page that
    shows an estimate, the other path every page."""
    [result] = run_bench(
        "push_banner", tmp_path, private_redis_url, "--pages", "10", "--changes", "2"
    )
    assert result["pages"] == 10 and result["changes"] == 2
    assert result["every page"]["renders_per_change"] == 10
    assert result["banner"]["renders_per_change"] == 1  # the page with the waiting answers
    assert result["banner"]["bytes_per_change"] > 0


def test_it_measures_the_collision_warnings_without_sql(tmp_path, private_redis_url):
    results = run_bench(
        "viewers", tmp_path, private_redis_url, "--viewers", "20", "--requests", "20"
    )
    assert results["viewers"] == 20
    for name in ("queue_viewers_poll", "thread_viewers_poll", "typing_ping"):
        assert results[name]["queries"] == 0 and results[name]["ms"]["n"] == 20
    assert results["queue_viewers_poll"]["bytes"] > 0  # the seeded viewers were found
    assert results["queue_unchanged_refresh"]["queries"] == 0


@pytest.mark.skipif(not Path("/usr/sbin/nginx").exists(), reason="needs Debian's nginx")
def test_it_scales_out_behind_nginx(tmp_path, private_redis_url):
    [result] = run_bench("scaleout", tmp_path, private_redis_url)
    checks = result["checks"]
    assert all(checks.values()), checks  # the streams' check included (no timing asserted)
    for stream in result["streams"].values():
        # What each stream delivered is the change, not its initial state.
        assert stream["initial_listed_it"] and stream["id"] != stream["initial_id"]
    assert {r["served_by"] for r in result["routing"]} == {"web1", "web2", "push1", "push2"}


def test_it_measures_compliance_and_retention_at_size(tmp_path, private_redis_url):
    """Claim next alone and during each duty, alternating: alone, during, alone."""
    [result] = run_bench(
        "data_duties",
        tmp_path,
        private_redis_url,
        *("--messages", "4000", "--rounds", "1", "--window", "1", "--gap-ms", "20"),
        *("--warm-up", "0", "--rest-percent", "0", "--sync-commit", "on", "--no-seed-copy"),
    )
    assert result["rows"]["messages"] == 4000 and result["rows"]["threads"] == 2000
    compliance = result["compliance"]
    [job] = compliance["runs"]
    assert job["statuses"] == ["applied", "applied"]
    assert job["tweet_ids_sent"] == 4000 and job["user_ids_sent"] == 400
    assert job["removed"] == result["deleted_on_x"][0] == 40
    windows = [w["window"] for w in compliance["windows"]]
    assert windows == ["alone 1", "during compliance 1", "alone 2"]
    assert compliance["claim_next_alone_ms"]["n"] == sum(
        w["n"] for w in compliance["windows"] if w["window"].startswith("alone")
    )
    retention = result["retention"]
    [sweep] = retention["runs"]
    assert sweep["phase"] == "threads" and sweep["threads_emptied"] > 0
    assert sweep["batch_ms"]["n"] == sweep["batches"] > 0
    assert retention["totals"]["rows"] == sweep["rows"]
    # The options reach the sweep's process.
    assert (sweep["rest_percent"], sweep["sync_commit"]) == (0, True)
    assert retention["claim_next_during_ms"]["n"] > 0


def test_webhook_bench_delivers_every_event_once(tmp_path, private_redis_url):
    result = run_bench(
        "webhooks", tmp_path, private_redis_url, "--events", "30", "--throughput-events", "30"
    )
    assert result["throughput"]["all delivered"] and result["throughput"]["deliveries"] == 30
    flaky = result["failing_receiver"]
    assert flaky["all delivered"] and flaky["deliveries"] == 30
    assert flaky["processed by the receiver"] == 30
    assert flaky["processed twice or more"] == flaky["missing"] == flaky["bad signatures"] == 0


def test_api_bench_measures_every_endpoint(tmp_path, private_redis_url):
    [run] = run_bench("api", tmp_path, private_redis_url, "--sizes", "300", "--requests", "2")[
        "runs"
    ]
    assert run["size"] == 300
    for name in (
        "threads open, page 1",
        "thread read",
        "customers, page 1",
        "events, from the middle (100)",
    ):
        assert run[name]["queries"] >= 2  # the token, then the rows
        assert run[name]["p50_ms"] <= run[name]["p95_ms"]


def test_api_bench_measures_search(tmp_path, private_redis_url):
    [run] = run_bench(
        "api", tmp_path, private_redis_url, "--seed", "search", "--sizes", "300", "--requests", "2"
    )["runs"]
    assert run["seed"]["threads"] == 300
    for name in ("search word, common (charger)", "search handle", "threads open, page 1"):
        assert run[name]["queries"] >= 2  # the token, then the rows
        assert run[name]["p50_ms"] <= run[name]["p95_ms"]


def test_it_searches_at_size(tmp_path, private_redis_url):
    [result] = run_bench("search", tmp_path, private_redis_url, "--sizes", "2000", "--runs", "2")
    queries = result["queries"]
    assert queries["handle"]["hits"] >= 1 and queries["phrase"]["hits"] == 25
    assert "message_search_gin" in queries["word (1 in 2,000)"]["plan"]
    assert all(q["ms"]["n"] == 2 for q in queries.values())


def test_it_measures_the_web_cpu_of_each_work_request(tmp_path, private_redis_url):
    result = run_bench("requests", tmp_path, private_redis_url, "--rounds", "3", "--threads", "20")
    assert set(result["cpu_ms"]) == set(PAGES)
    assert all(p["p50"] > 0 for p in result["cpu_ms"].values())
    # The employee and the thread are read with the queries counted, never skipped (the
    # thread page: employee, thread, then its other reads in one execute).
    assert result["queries"]["renew"] >= 2 and result["queries"]["thread page"] >= 3
    assert result["round_cpu_ms"] > 0
