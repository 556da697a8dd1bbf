# ruff: noqa: F811  (the fixtures of test_brand_accounts, imported, are used by name)
"""Disconnecting a brand's X account (issue 16): the OAuth 2.0 tokens are revoked at X
(POST /2/oauth2/revoke through the gateway, the refresh token first), the credentials are
deleted whatever X answered, and the page says plainly when X could not be told."""

from __future__ import annotations

import pytest
from django.test import Client

from inbox.models import BrandCredentials, Event
from tests.inbox.test_brand_accounts import (  # noqa: F401  (fixtures, used by name)
    _oauth2_connect,
    b_account,
    b_admin,
    b_twelp,
    brand_a,
    brand_b,
    connect_b,
)
from twelp import sealing, xgateway


@pytest.fixture
def revokes(monkeypatch) -> list[str]:
    """The hints of the gateway's revoke calls, in order (the real calls go through)."""
    calls: list[str] = []
    real = xgateway.oauth2_revoke

    def spy(token: str, hint: str) -> None:
        calls.append(hint)
        real(token, hint)

    monkeypatch.setattr(xgateway, "oauth2_revoke", spy)
    return calls


def disconnect(client: Client) -> str:
    response = client.post("/admin/x-account/disconnect/", follow=True)
    assert response.status_code == 200
    return response.content.decode()


def the_event() -> Event:
    return Event.objects.get(verb="brand_x_disconnected")


def test_it_revokes_the_refresh_then_the_access_token_at_x(
    b_twelp, sandbox_settings, brand_b, b_admin, revokes
):
    client = _oauth2_connect(b_twelp, sandbox_settings, b_admin)
    tokens = sealing.open_sealed(BrandCredentials.objects.get(brand=brand_b).sealed)
    page = disconnect(client)
    assert "X revoked Twelp&#x27;s access to @acme_eu" in page
    assert revokes == ["refresh_token", "access_token"]
    assert not BrandCredentials.objects.filter(brand=brand_b).exists()
    event = the_event()
    assert (event.brand_id, event.actor_id, event.detail["revoked_at_x"]) == (
        brand_b.id,
        b_admin.id,
        True,
    )
    # X honours neither token any more.
    with pytest.raises(xgateway.Permanent):
        xgateway.oauth2_refresh(tokens["refresh_token"], ("tweet.read", "offline.access"))
    with (
        pytest.raises(xgateway.Unauthorized),
        xgateway.acting_for(brand_b, xgateway.Credentials("oauth2", tokens["access_token"])),
    ):
        xgateway.get_me()


@pytest.mark.parametrize("fault", ["unavailable", "slow"])
def test_when_x_cannot_be_told_the_page_says_so_and_the_keys_go_anyway(
    b_twelp, sandbox_settings, brand_b, b_admin, revokes, fault
):
    client = _oauth2_connect(b_twelp, sandbox_settings, b_admin)
    sandbox_settings.X_API_TIMEOUT = 1  # the slow fault answers after 3 s: a timeout
    b_twelp.fault(fault, "oauth2_revoke", delay=3)
    page = disconnect(client)
    assert "Disconnected here: the stored credentials are deleted. But X was not told" in page
    assert "those keys still work there" in page
    assert ("503" if fault == "unavailable" else "could not be reached") in page
    assert revokes == ["refresh_token"]  # the first failed: the page says so, no more tried
    assert not BrandCredentials.objects.filter(brand=brand_b).exists()
    assert the_event().detail["revoked_at_x"] is False


def test_pasted_oauth1_keys_are_deleted_and_the_page_says_x_was_not_told(
    sandbox, brand_b, b_admin, revokes
):
    connect_b(brand_b, b_admin)
    client = Client()
    client.force_login(b_admin.user)
    page = disconnect(client)
    assert "pasted OAuth 1.0a keys cannot be revoked through X&#x27;s API" in page
    assert revokes == []
    assert not BrandCredentials.objects.filter(brand=brand_b).exists()
    event = the_event()
    assert event.detail["revoked_at_x"] is False and "OAuth 1.0a" in event.detail["why"]


def test_disconnecting_needs_the_csrf_token(csrf_client, sandbox, brand_b, b_admin, revokes):
    connect_b(brand_b, b_admin)
    csrf_client.force_login(b_admin.user)
    assert csrf_client.post("/admin/x-account/disconnect/").status_code == 403
    assert BrandCredentials.objects.filter(brand=brand_b).exists()
    assert revokes == []


def test_nothing_connected_is_said_plainly(twelp_urls, brand_b, b_admin, revokes):
    client = Client()
    client.force_login(b_admin.user)
    assert "No X account was connected here: nothing changed." in disconnect(client)
    assert not Event.objects.filter(verb="brand_x_disconnected").exists()


def test_the_env_brands_refused_keys_are_forgotten_and_x_is_not_asked(twelp_urls, brand_a, revokes):
    from agents.models import Role
    from inbox.configure import credentials
    from tests.helpers import make_agent

    credentials.mark_revoked(brand_a, "401 Unauthorized")  # X refused the X_ACCESS_* keys
    ann = make_agent(brand_a, "ann", role=Role.ADMIN)
    client = Client()
    client.force_login(ann.user)
    page = disconnect(client)
    assert "the deployment&#x27;s X_ACCESS_* keys, which X had refused" in page
    assert revokes == []
    assert not BrandCredentials.objects.filter(brand=brand_a).exists()
    assert credentials.problem(brand_a) == ""  # the settings' keys are tried again
