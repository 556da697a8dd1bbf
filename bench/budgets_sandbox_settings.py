"""The X sandbox as bench.budgets runs it: X's real caps, the posting window's length
from BENCH_POST_WINDOW (seconds; X's 900 by default). A shorter window crosses a reset
in minutes instead of a quarter of an hour (`python -m bench.budgets --window 120`)."""

from __future__ import annotations

import os

from twelp.xsandbox.settings import *  # noqa: F403
from twelp.xsandbox.settings import XSANDBOX_RATE_LIMITS

_WINDOW = int(os.environ.get("BENCH_POST_WINDOW", "900"))

XSANDBOX_RATE_LIMITS = {
    **XSANDBOX_RATE_LIMITS,
    "create_tweet": {"user": (100, _WINDOW), "app_24h": (10_000, 86_400)},
}
