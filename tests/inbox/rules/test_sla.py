"""Business hours and SLA targets: the clock runs only while the brand is open."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox import rollups
from inbox.models import Rollup
from inbox.rules import sla
from tests.helpers import login
from tests.inbox.scenario import answer, at, new_thread

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_it_counts_wall_time_when_always_open():
    hours = sla.Hours({}, "UTC")
    start = paris(2026, 3, 6, 16, 0)
    assert hours.seconds_between(start, start + timedelta(hours=70)) == 70 * 3600
    assert hours.cutoff(start, timedelta(minutes=15)) == start - timedelta(minutes=15)


def test_it_stops_the_clock_over_the_weekend():
    hours = sla.Hours(WEEKDAYS, "Europe/Paris")
    friday, monday = paris(2026, 3, 6, 16, 50), paris(2026, 3, 9, 9, 10)  # 10 + 10 min
    assert hours.seconds_between(friday, monday) == 20 * 60
    assert hours.cutoff(monday, timedelta(minutes=15)) == paris(2026, 3, 6, 16, 55)
    assert hours.cutoff(monday, timedelta(minutes=5)) == paris(2026, 3, 9, 9, 5)


def test_it_starts_the_clock_at_opening_time():
    hours = sla.Hours(WEEKDAYS, "Europe/Paris")
    night, morning = paris(2026, 3, 10, 2, 0), paris(2026, 3, 10, 9, 30)
    assert hours.seconds_between(night, morning) == 30 * 60


def test_it_reads_split_days_and_midnight_and_skips_malformed_spans():
    hours = sla.Hours(
        {"sat": [["22:00", "24:00"], ["08:00", "12:00"], ["bad"], ["13:00", "12:00"]]}, "UTC"
    )
    start = datetime(2026, 3, 7, 0, 0, tzinfo=ZoneInfo("UTC"))  # a Saturday
    assert hours.seconds_between(start, start + timedelta(days=1)) == 6 * 3600


def test_it_counts_a_dst_day_by_its_wall_clock():
    hours = sla.Hours({"sun": [["00:00", "24:00"]]}, "Europe/Paris")
    # 29 March 2026: Paris skips from 02:00 to 03:00; that Sunday has 23 hours.
    assert hours.seconds_between(paris(2026, 3, 29, 0, 0), paris(2026, 3, 30, 0, 0)) == 23 * 3600


def test_it_never_breaches_a_brand_that_is_never_open():
    hours = sla.Hours({"mon": []}, "UTC")
    assert hours.cutoff(paris(2026, 3, 9, 12, 0), timedelta(minutes=15)) is None


def test_it_records_first_response_against_business_hours(brand, customer, agent):
    brand.business_hours, brand.timezone = WEEKDAYS, "Europe/Paris"
    brand.save()
    thread = new_thread(brand, customer, 1, paris(2026, 3, 6, 16, 55))
    monday = paris(2026, 3, 9, 9, 5)  # 10 business minutes, 64 wall-clock hours
    answer(thread, agent, claimed=monday, sent=monday, posted=monday)
    rollups.compact(monday)
    row = Rollup.objects.get(grain="q", first_response_n=1)
    assert row.first_response_breached == 0
    assert row.first_response_seconds == (monday - paris(2026, 3, 6, 16, 55)).total_seconds()


@pytest.mark.parametrize(("minutes", "mark"), [(5, None), (12, "due in"), (16, "past target")])
def test_it_marks_waiting_threads_in_the_queue(client, brand, customer, agent, minutes, mark):
    now = paris(2026, 3, 10, 12, 0)
    thread = new_thread(brand, customer, 1, now - timedelta(minutes=minutes))
    login(client, agent.user)
    with at(now):
        html = client.get("/").content.decode()
    row = html[html.index(f'data-thread-id="{thread.id}"') :].split("</tr>")[0]
    if mark is None:
        assert "SLA" not in row and "sla-" not in row
    else:
        assert mark in row and ("sla-breach" if "past" in mark else "sla-near") in row
