"""A thread's priority: one integer, stored on the thread, the queue's first sort key.

Computed when customers write (at ingest, in bulk) and when a thread reopens, from what
the customer said since the brand last answered:

| signal                         | points | why |
| ------------------------------ | -----: | --- |
| followers >= 1,000             |    +10 | reach: an unanswered complaint is seen by more people |
| followers >= 10,000            |    +20 | (each tenfold step adds 10 ...) |
| followers >= 100,000           |    +30 | |
| followers >= 1,000,000         |    +40 | (... capped here) |
| verified account               |    +15 | a public figure, press, another business |
| sentiment "negative"           |    +15 | VADER compound <= -0.05 (inbox.rules.sentiment) |
| sentiment "frustrated"         |    +30 | compound <= -0.5 ("if someone's frustrated ...") |
| intent "complaint"             |    +10 | inbox.rules.triage: a problem to fix, in any tone |
| an urgent keyword of the brand |    +50 | Brand.urgent_keywords: "outage", "cancel"; once |

The sentiment is the mood of inbox.rules.triage (care rules with VADER as one signal):
a complaint is never read as positive. Ranges 0 to 145.

Reach counts the most-followed author among the new tweets and the
sentiment the most negative of them; while a thread is still waiting, a new tweet can raise
its priority but never lower it (a calm "hello?" after an angry tweet is still waiting on
the angry one). A reopened thread starts afresh.

Waiting time and SLA are deliberately *not* in the stored number: it would have to be
rewritten for every waiting thread every minute. They are the queue's second key
(`waiting_since`, oldest first, within equal priority: the `thread_queue_order` index) and
the SLA badges on the row, so the order is still one index scan.

Urgent keywords match whole words, case-insensitively ("cancel" matches "Cancel!" and
"#cancel", not "cancelled"); a keyword ending in `*` matches as a prefix ("cancel*" also
matches "cancelled", "cancellation"); a keyword of several words matches that phrase.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from inbox.rules import sentiment, triage

VERIFIED = 15
NEGATIVE = 15
FRUSTRATED = 30
URGENT_KEYWORD = 50
COMPLAINT = 10
REACH_STEP = 10  # per tenfold followers from 1,000
REACH_CAP = 40


@dataclass(frozen=True)
class Signals:
    """What the customer's new tweets say about urgency."""

    followers: int = 0
    verified: bool = False
    sentiment: float | None = None
    urgent: bool = False
    intent: str = ""


def reach(followers: int) -> int:
    if followers < 1000:
        return 0
    return min(REACH_CAP, REACH_STEP * (int(math.log10(followers)) - 2))


def score(signals: Signals) -> int:
    points = reach(signals.followers)
    points += VERIFIED if signals.verified else 0
    band = sentiment.band(signals.sentiment)
    points += FRUSTRATED if band == "frustrated" else NEGATIVE if band == "negative" else 0
    points += URGENT_KEYWORD if signals.urgent else 0
    points += COMPLAINT if signals.intent == triage.COMPLAINT else 0
    return points


def keyword_matcher(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for the brand's urgent keywords, or None when it has none."""
    parts = []
    for keyword in keywords:
        word = " ".join(str(keyword).split()).lower()
        prefix = word.endswith("*")
        word = word.rstrip("*").strip()
        if not word:
            continue
        body = r"\s+".join(re.escape(w) for w in word.split())
        parts.append(rf"(?<!\w){body}" + (r"" if prefix else r"(?!\w)"))
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def combine(signals: Iterable[Signals]) -> Signals:
    """Several tweets as one: the widest reach, the worst mood, any urgent word."""
    items = list(signals)
    return Signals(
        followers=max((s.followers for s in items), default=0),
        verified=any(s.verified for s in items),
        sentiment=sentiment.lowest(s.sentiment for s in items),
        urgent=any(s.urgent for s in items),
        intent=triage.most_pressing([s.intent for s in items]),
    )


# The queue shows a level, not the score ("Priority 30" meant nothing to anyone): the
# thresholds follow the table above. An urgent keyword alone is Urgent; a frustrated
# customer, or a verified one with some reach, is High; one signal is Medium.
LEVELS = (
    (URGENT_KEYWORD, "urgent", gettext_lazy("Urgent")),
    (25, "high", gettext_lazy("High")),
    (10, "medium", gettext_lazy("Medium")),
)


def level(score: int) -> tuple[str, str]:
    """(css key, label) of a priority score."""
    for threshold, key, label in LEVELS:
        if score >= threshold:
            return key, label
    return "normal", gettext_lazy("Normal")
