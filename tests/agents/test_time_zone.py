"""An employee's time zone (issue 21): picked on their profile, the brand's by default,
applied to every date and time of their pages through Django's timezone activation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inbox import notifications
from inbox.models import Notification

NOON_UTC = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def noted(agent, thread):
    """A notification written at 12:00 UTC: the list shows its time."""
    agent.brand.timezone = "Europe/Madrid"
    agent.brand.save(update_fields=["timezone"])
    notifications.notify([agent], "mentioned", thread=thread, text="Look.")
    Notification.objects.update(created_at=NOON_UTC)
    return agent


def shown_time(client) -> str:
    page = client.get("/notifications/").content.decode()
    return page.split('<time class="meta"', 1)[1].split(">", 1)[1].split("<", 1)[0]


def test_times_show_in_the_brands_zone_by_default(client, noted):
    client.force_login(noted.user)
    assert shown_time(client) == "Dec 2, 13:00"  # Madrid, UTC+1 in December


def test_an_employee_picks_their_own_zone(client, noted):
    client.force_login(noted.user)
    response = client.post("/team/me/time-zone/", {"time_zone": "America/New_York"}, follow=True)
    assert "now show in America/New York" in response.content.decode()
    noted.refresh_from_db()
    assert noted.time_zone == "America/New_York"
    assert shown_time(client) == "Dec 2, 07:00"
    client.post("/team/me/time-zone/", {"time_zone": ""})  # back to the brand's
    assert shown_time(client) == "Dec 2, 13:00"


def test_the_profile_offers_the_zones_with_the_brands_first(client, noted):
    client.force_login(noted.user)
    page = client.get("/team/me/").content.decode()
    assert '<option value="" selected>The brand&#x27;s (Europe/Madrid)</option>' in page
    assert '<option value="Asia/Tokyo">Asia/Tokyo</option>' in page


def test_an_unknown_zone_is_refused_plainly_and_changes_nothing(client, noted):
    client.force_login(noted.user)
    response = client.post("/team/me/time-zone/", {"time_zone": "Mars/Olympus"}, follow=True)
    assert "Mars/Olympus is not a time zone we know" in response.content.decode()
    noted.refresh_from_db()
    assert noted.time_zone == ""


def test_one_employees_zone_is_not_anothers(client, noted, second_agent):
    client.force_login(noted.user)
    client.post("/team/me/time-zone/", {"time_zone": "Asia/Tokyo"})
    second_agent.refresh_from_db()
    assert second_agent.time_zone == ""


def test_setting_the_zone_needs_the_csrf_token(csrf_client, agent):
    csrf_client.force_login(agent.user)
    assert csrf_client.post("/team/me/time-zone/", {"time_zone": "Asia/Tokyo"}).status_code == 403
    agent.refresh_from_db()
    assert agent.time_zone == ""
