"""Fixtures for the employee tests: the X sandbox live over HTTP (tweepy, never mocked),
with employees' own X accounts in it."""

from __future__ import annotations

import pytest
from django.conf import global_settings
from pytest_django.fixtures import Settings as SettingsWrapper

import tests.settings as twelp_test_settings
from tests.xsandbox.conftest import (  # noqa: F401  (fixtures, used by name)
    Sandbox,
    sandbox,
    sandbox_settings,
    sandbox_url,
    world,
)
from twelp.xsandbox import actions as x_actions
from twelp.xsandbox import conf as x_conf
from twelp.xsandbox.models import Account


@pytest.fixture
def x(sandbox: Sandbox, settings: SettingsWrapper) -> Sandbox:  # noqa: F811
    """The sandbox, live; the gateway points at it. This process keeps Twelp's own URLs,
    sessions and cookies (sandbox_settings gives it the sandbox server's)."""
    for name in x_conf.sandbox_settings():
        default = getattr(global_settings, name, None)
        setattr(settings, name, getattr(twelp_test_settings, name, default))
    return sandbox


def x_user(username: str, name: str = "") -> Account:
    """An employee's own account on X (the sandbox); the seed has the demo employees' own."""
    existing = Account.objects.filter(username__iexact=username).first()
    if existing is None:
        return x_actions.create_account(username, name or username.title())
    Account.objects.filter(pk=existing.pk).update(username=username)  # spelled as asked
    existing.refresh_from_db()
    return existing
