"""Timing and statistics for every benchmark: one stopwatch, one set of percentiles.

Two percentile definitions are in use, on purpose, and both live here:

- `percentile` (nearest rank: p95 of 50 values is the 48th smallest) for Twelp's own
  tables (`summary`, `percentiles`);
- `interpolated` (linear between the two nearest ranks) where a number is set beside
  django-helpdesk's, because the peer's measure.py computes its p95 that way
  (`peer_summary`, bench.compare).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any


class Stopwatch:
    """Wall time (perf_counter) and this process's CPU time (process_time) since it started.

        watch = Stopwatch()          # or: with Stopwatch() as watch:
        ...
        watch.ms, watch.cpu_ms, watch.seconds

    Read while running, it gives the time so far; after `stop()` (or the `with` block) the
    time it was stopped at.
    """

    __slots__ = ("_cpu", "_cpu_stopped", "_started", "_stopped")

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> Stopwatch:
        self._stopped: float | None = None
        self._cpu_stopped: float | None = None
        self._cpu = time.process_time()
        self._started = time.perf_counter()
        return self

    def stop(self) -> Stopwatch:
        self._stopped = time.perf_counter()
        self._cpu_stopped = time.process_time()
        return self

    def __enter__(self) -> Stopwatch:
        return self.restart()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def seconds(self) -> float:
        end = self._stopped if self._stopped is not None else time.perf_counter()
        return end - self._started

    @property
    def ms(self) -> float:
        return self.seconds * 1000

    @property
    def cpu_seconds(self) -> float:
        end = self._cpu_stopped if self._cpu_stopped is not None else time.process_time()
        return end - self._cpu

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds * 1000


def time_ms(call: Callable[[], Any]) -> tuple[Any, float]:
    """(what `call()` returned, its wall ms)."""
    with Stopwatch() as watch:
        result = call()
    return result, watch.ms


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 50 values is the 48th smallest)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(pct / 100 * len(ordered)) - 1, 0)]


def interpolated(values: Iterable[float], fraction: float) -> float:
    """Linear interpolation between the nearest ranks, as django-helpdesk's measure.py
    computes its p95 (`fraction` 0.95)."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * fraction
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Iterable[float], digits: int | None = None) -> float:
    found = statistics.median(values)
    return found if digits is None else round(found, digits)


def medians(samples: dict[str, list[float]], digits: int = 1) -> dict[str, float]:
    """{name: median of its samples}, rounded (several rounds of one measurement)."""
    return {name: median(values, digits) for name, values in samples.items()}


def summary(values: list[float]) -> dict[str, float]:
    """n, median, nearest-rank p95, mean, min, max."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p95": percentile(values, 95),
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
    }


def percentiles(values: list[float], pcts: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    """n, the nearest-rank p<each>, max (bench.day's latency tables)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        **{f"p{p}": percentile(values, p) for p in pcts},
        "max": max(values),
    }


def peer_summary(ms: list[float]) -> dict[str, float]:
    """Milliseconds summed up as django-helpdesk's measure.py does (interpolated p95,
    rounded to 0.01 ms), so the two sides of bench.compare are read alike."""
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(interpolated(ms, 0.95), 2),
        "min_ms": round(min(ms), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.mean(ms), 2),
    }
