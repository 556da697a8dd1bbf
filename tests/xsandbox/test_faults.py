"""Faults switched on at run time (POST /_sandbox/faults) or per process (XSANDBOX_FAULTS),
and what each one becomes in the gateway."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from pytest_django.fixtures import Settings

from tests.xsandbox.conftest import Sandbox
from twelp import xgateway
from twelp.xsandbox import faults


def test_it_answers_429_with_the_faults_reset_time(sandbox: Sandbox):
    sandbox.fault("rate_limit", "mentions", reset_after=120, count=1)
    with pytest.raises(xgateway.RateLimited) as limited:
        xgateway.mentions(sandbox.brand.id)
    expected = timezone.now() + timedelta(seconds=120)
    assert abs((limited.value.reset_at - expected).total_seconds()) <= 2
    assert xgateway.mentions(sandbox.brand.id).tweets == ()  # the count is used up


def test_it_fails_exactly_the_next_n_calls_to_one_endpoint(sandbox: Sandbox):
    sandbox.fault("unavailable", "mentions", count=2)
    for _ in range(2):
        with pytest.raises(xgateway.Transient, match="503"):
            xgateway.mentions(sandbox.brand.id)
    xgateway.search_recent("anything")  # other endpoints are untouched
    assert xgateway.mentions(sandbox.brand.id).tweets == ()
    assert sandbox.control("GET", "faults").json()["data"][0]["count"] == 0


def test_it_answers_too_late_for_a_client_that_gives_up(sandbox: Sandbox, settings: Settings):
    settings.X_API_TIMEOUT = 0.3
    sandbox.fault("slow", "users_me", delay=1.0, count=1)
    started = time.monotonic()
    with pytest.raises(xgateway.Transient, match="could not be reached"):
        xgateway.get_me()
    assert time.monotonic() - started < 0.9
    time.sleep(0.8)  # let the slow answer finish before the test's data is flushed


def test_it_sends_malformed_json_that_the_gateway_calls_transient(sandbox: Sandbox):
    sandbox.tweet_at_brand(sandbox.customers[0], "hello")
    sandbox.fault("malformed_json", "mentions", count=1)
    raw = requests.get(
        f"{sandbox.url}/2/users/{sandbox.brand.id}/mentions",
        headers={"Authorization": "Bearer test-bearer-token"},
    )
    with pytest.raises(ValueError):
        raw.json()
    sandbox.fault("malformed_json", "mentions", count=1)
    with pytest.raises(xgateway.Transient, match="malformed JSON"):
        xgateway.mentions(sandbox.brand.id)


def test_it_sends_a_tweet_missing_fields_without_losing_the_good_ones(sandbox: Sandbox):
    tweets = [sandbox.tweet_at_brand(sandbox.customers[n], f"tweet {n}") for n in range(3)]
    sandbox.fault("missing_fields", "mentions", count=1)
    page = xgateway.mentions(sandbox.brand.id)
    assert [t.id for t in page.tweets] == [tweets[1].id, tweets[0].id]
    [broken] = page.malformed
    assert broken.raw["id"] == str(tweets[2].id) and "text" not in broken.raw
    assert "text" in broken.error


def test_it_never_fires_a_fault_with_probability_zero(sandbox: Sandbox):
    sandbox.fault("unavailable", "*", probability=0.0)
    for _ in range(5):
        xgateway.mentions(sandbox.brand.id)


def test_it_applies_process_faults_from_settings(sandbox: Sandbox, settings: Settings):
    settings.XSANDBOX_FAULTS = '[{"kind": "unavailable", "endpoint": "search"}]'
    with pytest.raises(xgateway.Transient, match="503"):
        xgateway.search_recent("hello")
    xgateway.mentions(sandbox.brand.id)


@pytest.mark.parametrize(
    "raw", ['{"kind": "unavailable"}', '[{"kind": "meteor"}]', '[{"kind": "slow", "delay": -1}]']
)
def test_it_refuses_malformed_process_faults_loudly(settings: Settings, raw: str):
    settings.XSANDBOX_FAULTS = raw
    with pytest.raises(ImproperlyConfigured, match="XSANDBOX_FAULTS"):
        faults.process_faults()


def test_it_keys_the_control_api(sandbox: Sandbox, settings: Settings):
    url = f"{sandbox.url}/_sandbox/faults"
    assert requests.get(url, headers={"X-Sandbox-Token": "wrong"}).status_code == 403
    assert requests.get(url).status_code == 403
    settings.XSANDBOX_ADMIN_TOKEN = ""
    assert sandbox.control("GET", "faults").status_code == 404  # off when unset


def test_it_validates_and_clears_faults(sandbox: Sandbox):
    bad = sandbox.control("POST", "faults", json={"kind": "unavailable", "endpoint": "nope"})
    assert bad.status_code == 400 and "endpoint" in bad.json()["error"]
    sandbox.fault("unavailable", "mentions")
    assert len(sandbox.control("GET", "faults").json()["data"]) == 1
    assert sandbox.control("DELETE", "faults").status_code == 204
    assert sandbox.control("GET", "faults").json()["data"] == []
    xgateway.mentions(sandbox.brand.id)


def test_it_lists_posted_replies_for_tests_and_benchmarks(sandbox: Sandbox):
    question = sandbox.tweet_at_brand(sandbox.customers[0], "hello?")
    posted = xgateway.create_tweet("Hi there! ^JD", in_reply_to_tweet_id=question.id)
    listed = sandbox.control("GET", f"tweets?in_reply_to={question.id}").json()["data"]
    assert [(t["id"], t["author_username"]) for t in listed] == [(str(posted.id), "acme_care")]
    assert listed[0]["text"] == "@maya_rivera Hi there! ^JD"
    assert sandbox.control("GET", "tweets?in_reply_to=abc").status_code == 400
