"""/metrics: off without METRICS_TOKEN, bearer-token protected, Prometheus text format."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from inbox.models import PostingBudget, Source
from tests.inbox.scenario import NOW, at

TOKEN = "a-long-random-metrics-token-for-tests"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def samples(body: bytes) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_it_is_off_without_a_token(client, brand):
    assert client.get("/metrics").status_code == 404


def test_it_refuses_a_missing_or_wrong_token(client, brand, token):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


def test_it_reports_the_queue_outbox_and_pollers(client, brand, scenario, token):
    mentions = Source.objects.create(
        brand=brand,
        kind=Source.Kind.MENTIONS,
        last_polled_at=NOW - timedelta(seconds=40),
        rate_limited_until=NOW + timedelta(minutes=5),
        last_error="Rate limited by X",
    )
    PostingBudget.objects.create(
        brand=brand, kind="dms", limit=15, remaining=0, reset_at=NOW + timedelta(minutes=9),
        day_limit=1440, day_remaining=1000,
    )  # fmt: skip
    with at(NOW):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    got = samples(response.content)
    b = ("brand", "acmecares")
    assert got[("twelp_queue_threads", (b, ("source", ""), ("status", "open")))] == 2
    assert got[("twelp_queue_threads", (b, ("source", ""), ("status", "claimed")))] == 1
    assert got[("twelp_queue_oldest_waiting_seconds", (b,))] == 30 * 60
    assert got[("twelp_sla_response_breached_threads", (b,))] == 1
    assert got[("twelp_sla_response_nearing_threads", (b,))] == 1
    assert got[("twelp_outbox_replies", (b, ("status", "failed")))] == 0
    paused = got[("twelp_outbox_paused_until_timestamp_seconds", (b, ("kind", "dms")))]
    assert paused == (NOW + timedelta(minutes=9)).timestamp()
    # A DM budget spent leaves posts alone: each kind is its own budget.
    assert got[("twelp_outbox_paused_until_timestamp_seconds", (b, ("kind", "tweets")))] == 0
    assert got[("twelp_outbox_budget_remaining", (b, ("kind", "tweets")))] == 100
    s = (b, ("kind", "mentions"), ("source", str(mentions.id)))
    assert got[("twelp_source_poll_lag_seconds", s)] == 40
    assert got[("twelp_source_rate_limited", s)] == 1
    assert got[("twelp_source_error", s)] == 1
