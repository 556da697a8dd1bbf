"""X's rate limits: fixed windows, the x-rate-limit-* headers, and 429 when spent."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine
import tweepy
from django.utils import timezone
from pytest_django.fixtures import Settings

from tests.xsandbox.conftest import Sandbox
from twelp import xgateway
from twelp.xsandbox.models import RateWindow

BEARER = {"Authorization": "Bearer test-bearer-token"}


def _limit(settings: Settings, endpoint: str, **scopes: tuple[int, int]) -> None:
    settings.XSANDBOX_RATE_LIMITS = {**settings.XSANDBOX_RATE_LIMITS, endpoint: scopes}


def test_it_counts_down_xs_published_limit_in_the_headers(sandbox: Sandbox):
    url = f"{sandbox.url}/2/users/{sandbox.brand.id}/mentions"
    before = timezone.now()
    first = requests.get(url, headers=BEARER)
    second = requests.get(url, headers=BEARER)
    assert first.headers["x-rate-limit-limit"] == "450"  # per app, 15 minutes
    assert (first.headers["x-rate-limit-remaining"], second.headers["x-rate-limit-remaining"]) == (
        "449", "448"
    )  # fmt: skip
    reset = int(first.headers["x-rate-limit-reset"])
    assert before.timestamp() + 899 <= reset <= before.timestamp() + 902
    assert second.headers["x-rate-limit-reset"] == str(reset)  # one fixed window


def test_it_keeps_separate_windows_for_the_app_and_each_user(sandbox: Sandbox):
    requests.get(f"{sandbox.url}/2/users/{sandbox.brand.id}/mentions", headers=BEARER)
    as_user = sandbox.tweepy_client().get_users_mentions(sandbox.brand.id, user_auth=True)
    assert as_user.meta == {"result_count": 0}
    windows = dict(RateWindow.objects.values_list("bucket", "count"))
    app_id = sandbox.world.app.pk
    assert windows == {
        f"mentions:app:app:{app_id}": 1,
        f"mentions:user:user:{sandbox.brand.id}": 1,
    }


def test_it_answers_429_with_the_reset_time_once_the_window_is_spent(
    sandbox: Sandbox, settings: Settings
):
    _limit(settings, "mentions", app=(2, 900))
    url = f"{sandbox.url}/2/users/{sandbox.brand.id}/mentions"
    assert [requests.get(url, headers=BEARER).status_code for _ in range(2)] == [200, 200]
    refused = requests.get(url, headers=BEARER)
    assert refused.status_code == 429
    assert refused.json() == {
        "title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
        "status": 429,
    }  # fmt: skip
    assert refused.headers["x-rate-limit-remaining"] == "0"
    reset = int(refused.headers["x-rate-limit-reset"])
    with pytest.raises(tweepy.TooManyRequests) as caught:
        sandbox.tweepy_client().get_users_mentions(sandbox.brand.id)
    assert caught.value.reset_time == reset
    with pytest.raises(xgateway.RateLimited) as limited:
        xgateway.mentions(sandbox.brand.id)
    assert limited.value.reset_at == datetime.fromtimestamp(reset, tz=UTC)


def test_it_opens_a_new_window_after_the_reset(sandbox: Sandbox, settings: Settings):
    _limit(settings, "mentions", app=(1, 900))
    xgateway.mentions(sandbox.brand.id)
    with pytest.raises(xgateway.RateLimited) as limited:
        xgateway.mentions(sandbox.brand.id)
    with time_machine.travel(limited.value.reset_at + timedelta(seconds=1)):
        page = xgateway.mentions(sandbox.brand.id)
    assert page.rate_limit_remaining == 0  # the one request of the new window


def test_it_caps_the_apps_posts_per_day_and_says_until_when(sandbox: Sandbox, settings: Settings):
    _limit(settings, "create_tweet", user=(100, 900), app_24h=(2, 86_400))
    first = xgateway.create_tweet("first")
    second = xgateway.create_tweet("second")
    # The tightest window is reported: the daily cap, not the 98 left of the 15 minutes.
    assert first.rate_limit_remaining == 1 and second.rate_limit_remaining == 0
    day_reset = second.rate_limit_reset
    assert day_reset is not None and day_reset > timezone.now() + timedelta(hours=23)
    assert first.rate_limit_reset == day_reset
    with pytest.raises(xgateway.RateLimited) as limited:
        xgateway.create_tweet("third")
    assert limited.value.reset_at == day_reset  # the daily cap, not the 15-minute window


def test_it_limits_each_customer_on_their_own(sandbox: Sandbox, settings: Settings):
    _limit(settings, "create_tweet", user=(1, 900))
    maya, tomasz = sandbox.customers[:2]
    sandbox.tweepy_client(maya).create_tweet(text="@acme_care one")
    sandbox.tweepy_client(tomasz).create_tweet(text="@acme_care two")
    with pytest.raises(tweepy.TooManyRequests):
        sandbox.tweepy_client(maya).create_tweet(text="@acme_care three")


def test_it_never_refuses_when_limits_are_switched_off(sandbox: Sandbox, settings: Settings):
    _limit(settings, "mentions", app=(1, 900))
    settings.XSANDBOX_RATE_LIMITS_ENABLED = False
    for _ in range(3):
        page = xgateway.mentions(sandbox.brand.id)
    assert page.rate_limit_remaining == 0  # still counted and reported


# --- a 429's reset header clamped, not trusted (twelp.xlimits) --------------------------


def _too_many(headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    response._content = b'{"title": "Too Many Requests", "status": 429}'
    response.headers.update(headers)
    return response


def _refused(headers: dict[str, str]) -> xgateway.RateLimited:
    def post() -> None:
        raise tweepy.TooManyRequests(_too_many(headers))

    with pytest.raises(xgateway.RateLimited) as limited:
        xgateway._call(post, app_only=True)
    return limited.value


@pytest.mark.parametrize(
    "reset",
    [
        None,  # missing
        "soon",  # not a number
        "-60",  # negative
        "past",  # an hour ago
        "now",  # no wait at all
        "day_and_two_minutes",  # further than X's daily cap
        str(10**15),  # year 31 million
    ],
)
def test_an_absurd_reset_on_a_429_waits_one_15_minute_window(reset: str | None):
    now = int(time.time())
    values = {"past": now - 3600, "now": now, "day_and_two_minutes": now + 86_520}
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0"}
    if reset is not None:
        headers["x-rate-limit-reset"] = str(values.get(reset, reset))
    before = timezone.now()
    reset_at = _refused(headers).reset_at
    assert before + timedelta(minutes=15) <= reset_at <= timezone.now() + timedelta(minutes=15)


def test_a_daily_caps_reset_a_day_and_under_a_minute_ahead_is_trusted():
    """X's 24-hour cap resets about a day ahead, its header rounded up to the second."""
    day = int(time.time()) + 86_400 + 45
    refused = _refused({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(day)})
    assert refused.reset_at == datetime.fromtimestamp(day, tz=UTC)


def test_a_far_future_reset_from_the_sandbox_is_clamped(sandbox: Sandbox):
    sandbox.fault("rate_limit", "mentions", reset_after=7 * 86_400, count=1)
    with pytest.raises(xgateway.RateLimited) as limited:
        xgateway.mentions(sandbox.brand.id)
    later = timezone.now() + timedelta(minutes=15)
    assert later - timedelta(seconds=5) <= limited.value.reset_at <= later
