"""How a customer sounds, from VADER (vaderSentiment: a lexicon and rules tuned to social
media text, emoji and "!!!" included; no model download, about 0.1 ms a tweet).

A score is VADER's compound value in [-1, 1]. The bands, shown as a badge and used by the
priority (inbox.rules.priority):

| band       | compound        | badge        |
| ---------- | --------------- | ------------ |
| frustrated | <= -0.5         | "frustrated" |
| negative   | -0.5 .. -0.05   | "negative"   |
| neutral    | -0.05 .. 0.05   | (none)       |
| positive   | >= 0.05         | "positive"   |

±0.05 are VADER's own published thresholds; -0.5 marks a clearly upset tweet ("this is
ridiculous, worst service ever"). @mentions and links are removed first: a handle or a
URL path is not the customer's mood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

FRUSTRATED = -0.5
NEGATIVE = -0.05
POSITIVE = 0.05

_NOISE = re.compile(r"https?://\S+|(?<!\w)@\w{1,15}")


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Loading the lexicon takes ~25 ms: once per process, not once per page.
    return SentimentIntensityAnalyzer()


def score(text: str) -> float:
    """VADER's compound score of `text`, rounded to 3 places."""
    cleaned = _NOISE.sub(" ", text).strip()
    if not cleaned:
        return 0.0
    return round(_analyzer().polarity_scores(cleaned)["compound"], 3)


def scores(texts: Iterable[str]) -> list[float]:
    return [score(text) for text in texts]


def band(value: float | None) -> str:
    """'frustrated', 'negative', 'neutral' or 'positive' ('' when never scored)."""
    if value is None:
        return ""
    if value <= FRUSTRATED:
        return "frustrated"
    if value <= NEGATIVE:
        return "negative"
    if value >= POSITIVE:
        return "positive"
    return "neutral"


def lowest(values: Iterable[float | None]) -> float | None:
    """The most negative of `values` (None ignored): a thread sounds like its worst tweet."""
    present = [v for v in values if v is not None]
    return min(present) if present else None
