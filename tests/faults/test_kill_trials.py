"""`python -m bench.faults` at 5 trials: the same code as the 100-trial run in BENCHMARKS.md
(a poller and a post_reply worker SIGKILLed at random moments while X fails at 20%), so
it keeps working. Nothing is timed; what is lost or doubled must be zero."""

from __future__ import annotations

import json
import sys

import pytest

from tests import processes
from tests.test_bench_smoke import bench_database

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def test_five_kills_of_each_lose_nothing_and_double_nothing(db, tmp_path, private_redis_url):
    out = tmp_path / "faults.json"
    command = [sys.executable, "-m", "bench.faults", "--trials", "5", "--json", str(out)]
    command += ["--database-url", bench_database("faults")]
    command += ["--redis-url", private_redis_url]  # it flushes its Redis db
    done = processes.run(command, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    result = json.loads(out.read_text())
    poller, replies = result["summary"]["poller"], result["summary"]["replies"]
    assert poller["trials"] == replies["trials"] == 5
    assert poller["tweets_expected"] > 5 * 30  # every trial's simulated customers wrote
    assert (poller["missing"], poller["duplicated"]) == (0, 0)
    assert replies["replies_expected"] >= 10
    assert (replies["lost"], replies["double_posted"]) == (0, 0)
    assert [row["trial"] for row in result["replies"]] == [1, 2, 3, 4, 5]
    assert all(row["killed_after_s"] >= 0 for row in result["poller"])
