"""Login throttling (django-axes): N failures lock a username at an address for a while."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client

from tests.helpers import PASSWORD


def fail(client: Client, username: str):
    return client.post("/login/", {"username": username, "password": "wrong password"})


def test_it_locks_after_n_failures_with_a_clear_message(client, agent):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = fail(client, "alice")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    response = fail(client, "alice")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed logins" in body and f"after {limit} failed attempts" in body
    assert 'href="/password-reset/"' in body
    # Locked: even the right password is refused until the lock ends.
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429


def test_the_lock_ends_after_the_cool_off(client, agent):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fail(client, "alice")
    later = settings.AXES_COOLOFF_TIME + timedelta(seconds=5)
    with time_machine.travel(later, tick=False):
        response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"


def test_one_persons_typos_do_not_lock_a_colleague_at_the_same_office(client, agent, second_agent):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fail(client, "alice")
    response = Client().post("/login/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302


def test_a_successful_login_resets_the_count(client, agent):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        fail(client, "alice")
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    client.post("/logout/")
    assert fail(client, "alice").status_code == 200


def test_it_warns_how_many_attempts_are_left_before_the_lock(client, agent):
    limit = settings.AXES_FAILURE_LIMIT
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    for failures in range(1, limit):
        body = fail(client, "alice").content.decode()
        left = limit - failures
        assert f"{left} attempt{'s' if left > 1 else ''} left before logging in as alice" in body
        assert f"locks for {minutes} minutes" in body
