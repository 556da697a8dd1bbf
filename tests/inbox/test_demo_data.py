"""The demo's people can do what the README's tour asks of them, and `manage.py demo` seeds
the X sandbox through the sandbox's own commands, never by importing it."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.db import connection

from agents.models import Agent
from inbox.demo import PERSONAS, load_demo_data
from inbox.management.commands.demo import seed_sandbox
from tests.sandbox import CREDENTIALS
from twelp import xgateway


def test_the_demo_admin_can_open_the_django_admin_and_agents_cannot(db, client):
    load_demo_data()
    load_demo_data()  # a restart loads it again
    client.force_login(User.objects.get(username="alex"))
    assert client.get("/django-admin/inbox/source/").status_code == 200
    assert client.get("/django-admin/inbox/quarantine/").status_code == 200
    client.force_login(User.objects.get(username="jane"))
    assert client.get("/django-admin/inbox/source/").status_code == 302  # to the admin login


@pytest.fixture
def sandbox_process_env(sandbox, sandbox_settings, monkeypatch):
    """The environment `manage.py demo` hands the sandbox's commands: this test database and
    the credentials the live sandbox (in a thread) answers to."""
    db = connection.settings_dict
    host = quote(str(db["HOST"] or "127.0.0.1"), safe="")
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XSANDBOX_BRAND_USERNAME", sandbox_settings.XSANDBOX_BRAND_USERNAME)
    monkeypatch.setenv("DEBUG", "true")
    return sandbox


def test_the_demo_seeds_the_sandbox_and_links_each_employee_to_their_x_account(
    sandbox_process_env,
):
    ids = seed_sandbox()  # `migrate` and `xsandbox_seed --json`, as subprocesses
    assert set(ids) == {persona.x_handle for persona in PERSONAS}
    load_demo_data(ids)
    # Over the wire: the live sandbox's X API knows each agent's X account by its id.
    for agent in Agent.objects.exclude(x_handle=""):
        user = xgateway.get_user(agent.x_user_id)
        assert user is not None and user.username == agent.x_handle, agent


def test_the_demo_says_why_the_sandbox_could_not_be_seeded(sandbox_process_env, monkeypatch):
    # Outside DEBUG nothing stands in for X's credentials (an empty one means its default,
    # which in DEBUG is the sandbox's demo token).
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("SECRET_KEY", "k" * 50)
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    monkeypatch.setenv("X_BEARER_TOKEN", "")
    with pytest.raises(CommandError, match="xsandbox_seed.*X_BEARER_TOKEN is not set"):
        seed_sandbox()
