"""The X sandbox as bench.day runs it: X's published limits, except the brand's posting.

X lets one user post 100 tweets per 15 minutes (twelp/settings.py, XSANDBOX_RATE_LIMITS).
Twelp obeys that (the outbox pauses the brand until the window resets), so a day of
10,000 mentions an hour through one handle would measure X's cap, 400 replies an hour,
not Twelp. Here the posting caps are those of a partner tier: far above the day's volume.
"""

from __future__ import annotations

from twelp.xsandbox.settings import *  # noqa: F403
from twelp.xsandbox.settings import XSANDBOX_RATE_LIMITS

XSANDBOX_RATE_LIMITS = {
    **XSANDBOX_RATE_LIMITS,
    "create_tweet": {"user": (1_000_000, 900), "app_24h": (10_000_000, 86_400)},
}
