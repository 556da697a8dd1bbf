"""SLA targets in business time: the brand's opening hours, in the brand's time zone.

`Brand.business_hours` is {"mon": [["09:00", "17:00"]], ...} in `Brand.timezone`; an empty
dict means always open, a day missing from a non-empty dict means closed that day, and
"24:00" ends a day. Every answer here is exact to the second; DST days have the hours
their wall clock shows.

A thread's clock runs from `waiting_since` while a customer waits for us (open or
claimed). Because business time only grows with elapsed time, "past its target" is
`waiting_since < cutoff`, where the cutoff is computed once per brand and request, so
marking a page of threads, or counting them with an index, costs no per-thread work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from inbox.models import Brand, Thread

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 400  # a target longer than a year of opening hours is never reached


class Hours:
    """A brand's opening hours as intervals of aware datetimes."""

    def __init__(self, business_hours: dict | None, tz_name: str) -> None:
        try:
            self.tz = ZoneInfo(tz_name or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.tz = ZoneInfo("UTC")
        self.always_open = not business_hours
        self.week: dict[int, list[tuple[time, time | None]]] = {}
        for index, day in enumerate(DAYS):
            spans = []
            for span in (business_hours or {}).get(day) or []:
                try:
                    start, end = _clock(span[0]), _clock(span[1])
                except (TypeError, ValueError, IndexError):
                    continue  # a malformed span is ignored, not a broken dashboard
                if start is not None and (end is None or end > start):
                    spans.append((start, end))
            self.week[index] = sorted(spans)

    def _spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        out = []
        for start, end in self.week[day.weekday()]:
            begin = datetime.combine(day, start, tzinfo=self.tz)
            finish = (
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
                if end is None
                else datetime.combine(day, end, tzinfo=self.tz)
            )
            # In UTC: arithmetic between two datetimes of one zone ignores DST changes.
            out.append((begin.astimezone(UTC), finish.astimezone(UTC)))
        return out

    def _days(self, moment: datetime, step: int) -> Iterator[list[tuple[datetime, datetime]]]:
        day = moment.astimezone(self.tz).date()
        for offset in range(SEARCH_DAYS):
            spans = self._spans_on(day + timedelta(days=offset * step))
            yield spans if step > 0 else spans[::-1]

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds in [start, end)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        total = 0.0
        for spans in self._days(start, 1):
            for begin, finish in spans:
                if begin >= end:
                    return total
                overlap = min(finish, end) - max(begin, start)
                total += max(overlap.total_seconds(), 0.0)
        return total

    def cutoff(self, now: datetime, target: timedelta) -> datetime | None:
        """The latest start whose clock has run `target` of open time by `now`.

        A thread waiting since before the cutoff is past its target. None: no start in
        the past year is (the brand is never open).
        """
        now = now.astimezone(UTC)
        if self.always_open:
            return now - target
        left = target.total_seconds()
        for spans in self._days(now, -1):
            for begin, finish in spans:
                if begin >= now:
                    continue
                usable = (min(finish, now) - begin).total_seconds()
                if usable >= left:
                    return min(finish, now) - timedelta(seconds=left)
                left -= usable
        return None

    def open_span(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The opening span (UTC) that holds `now`, or None when closed. Always-open
        brands have none: they have no spans (callers treat them as open)."""
        now = now.astimezone(UTC)
        for spans in self._days(now - timedelta(days=1), 1):
            for begin, finish in spans:
                if begin > now:
                    return None
                if now < finish:
                    return begin, finish
        return None

    def next_open(self, now: datetime) -> datetime | None:
        """When the brand next opens after `now` (None: never in the next year)."""
        now = now.astimezone(UTC)
        for spans in self._days(now, 1):
            for begin, _finish in spans:
                if begin > now:
                    return begin
        return None

    def last_close(self, now: datetime) -> datetime | None:
        """When the closed period holding `now` began (None: never open in the past year)."""
        now = now.astimezone(UTC)
        for spans in self._days(now, -1):
            for _begin, finish in spans:
                if finish <= now:
                    return finish
        return None


def _clock(value: str) -> time | None:
    """'09:30' -> 09:30; '24:00' -> None (the end of the day)."""
    hours, minutes = (int(part) for part in str(value).split(":"))
    if (hours, minutes) == (24, 0):
        return None
    return time(hours, minutes)


def hours_for(brand: Brand) -> Hours:
    cached = brand.__dict__.get("_sla_hours")
    if cached is None:
        cached = brand.__dict__["_sla_hours"] = Hours(brand.business_hours, brand.timezone)
    return cached


@dataclass(frozen=True)
class Cutoffs:
    """Threads waiting since before `breach` are past the response target; before `near`,
    past SLA_WARN_PERCENT of it."""

    now: datetime
    breach: datetime | None
    near: datetime | None

    def state(self, waiting_since: datetime) -> str:
        if self.breach is not None and waiting_since < self.breach:
            return "breach"
        if self.near is not None and waiting_since < self.near:
            return "near"
        return ""


class BrandSla:
    def __init__(self, brand: Brand, now: datetime | None = None) -> None:
        self.brand = brand
        self.hours = hours_for(brand)
        self.now = now or timezone.now()

    @cached_property
    def cutoffs(self) -> Cutoffs:
        target = self.brand.sla_first_response
        warn = target * settings.SLA_WARN_PERCENT / 100
        return Cutoffs(
            self.now, self.hours.cutoff(self.now, target), self.hours.cutoff(self.now, warn)
        )

    def state(self, thread: Thread) -> str:
        """'breach', 'near' or '' for a thread a customer waits on; '' for any other."""
        if thread.status not in ("open", "claimed"):
            return ""
        return self.cutoffs.state(thread.waiting_since)


def for_brand(brand: Brand) -> BrandSla:
    """One per brand object and minute: a page of rows shares its cutoffs."""
    now = timezone.now()
    cached = brand.__dict__.get("_sla")
    if cached is None or (now - cached.now) > timedelta(seconds=30):
        cached = brand.__dict__["_sla"] = BrandSla(brand, now)
    return cached


def breached(hours: Hours, start: datetime, end: datetime, target: timedelta) -> bool:
    return hours.seconds_between(start, end) > target.total_seconds()
