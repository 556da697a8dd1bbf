"""POST /_sandbox/training: training mode's practice customers, asked for over HTTP and keyed
like every /_sandbox/ endpoint (404 while XSANDBOX_ADMIN_TOKEN is unset, 403 for a wrong or
missing X-Sandbox-Token)."""

from __future__ import annotations

import pytest
import requests
from pytest_django.fixtures import Settings

from tests.sandbox import Sandbox
from twelp.xsandbox.models import Tweet
from twelp.xsandbox.seed import training_account


def practice_url(sandbox: Sandbox) -> str:
    return f"{sandbox.url}/_sandbox/training"


def test_it_brings_simulated_customers_to_the_training_account(sandbox: Sandbox):
    response = sandbox.control("POST", "training", json={"count": 4, "seed": 7})
    assert response.status_code == 201, response.text
    body = response.json()
    account = training_account()
    assert body["account"] == {"id": str(account.pk), "username": "twelpdemo_train"}
    assert len(body["tweets"]) == 4 and sum(body["kinds"].values()) == 4
    written = Tweet.objects.filter(id__in=[int(i) for i in body["tweets"]])
    assert written.count() == 4
    assert not written.filter(mention_rows__account=sandbox.brand).exists()  # never the live one


def test_the_same_seed_brings_the_same_customers(sandbox: Sandbox):
    def texts(seed: int) -> list[str]:
        ids = sandbox.control("POST", "training", json={"count": 3, "seed": seed}).json()["tweets"]
        return [Tweet.objects.get(id=int(i)).text for i in ids]

    assert texts(11) == texts(11)


@pytest.mark.parametrize(
    "payload", [{"count": 0, "seed": 1}, {"count": 101, "seed": 1}, {"count": 3}, ["x"]]
)
def test_it_refuses_a_malformed_request(sandbox: Sandbox, payload: object):
    response = sandbox.control("POST", "training", json=payload)
    assert response.status_code == 400
    assert "error" in response.json()
    assert not Tweet.objects.exists()


def test_it_refuses_a_missing_or_wrong_key(sandbox: Sandbox, settings: Settings):
    payload = {"count": 3, "seed": 1}
    wrong = {"X-Sandbox-Token": "wrong"}
    assert requests.post(practice_url(sandbox), json=payload, headers=wrong).status_code == 403
    assert requests.post(practice_url(sandbox), json=payload).status_code == 403
    settings.XSANDBOX_ADMIN_TOKEN = ""
    assert sandbox.control("POST", "training", json=payload).status_code == 404  # off
    assert not Tweet.objects.exists()


def test_it_only_takes_posts(sandbox: Sandbox):
    assert sandbox.control("GET", "training").status_code == 405
