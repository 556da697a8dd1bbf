"""Notifications over the push stream (inbox.live.hub, 9) in a real uvicorn process: an
employee's open page hears of their own notifications, and only of theirs."""

from __future__ import annotations

import json

import httpx
import pytest
from django.test import Client

from inbox import actions
from tests.push import Events, open_stream

pytestmark = pytest.mark.slow

NOTICES = ("notices",)


def test_a_mention_reaches_the_mentioned_employees_open_page_only(
    push, agent, second_agent, thread
):
    with (
        httpx.Client() as http,
        open_stream(http, push, second_agent.user, "view=queue&notices=1") as bobs,
        open_stream(http, push, agent.user, "view=notices&notices=1") as alices,
    ):
        bob, alice = Events(bobs), Events(alices)
        assert json.loads(bob.next(NOTICES)["data"]) == {"unread": 0}
        assert json.loads(alice.next(NOTICES)["data"]) == {"unread": 0}

        actions.do_add_note(thread.id, agent=agent, text=f"@{second_agent.credit_code} look")
        told = json.loads(bob.next(NOTICES)["data"])
        assert told["unread"] == 1 and told["newest"]["url"] == f"/t/{thread.id}/"
        assert "Alice" in told["newest"]["text"]

        # Alice's stream heard nothing of Bob's: her next notices event is her own.
        actions.do_add_note(thread.id, agent=second_agent, text=f"@{agent.credit_code} done")
        mine = json.loads(alice.next(NOTICES)["data"])
        assert mine["unread"] == 1 and "Bob" in mine["newest"]["text"]

        # Bob reads his in another tab: his open page's count goes back to 0.
        client = Client()
        client.force_login(second_agent.user)
        assert client.post("/notifications/read/").status_code == 302
        assert json.loads(bob.next(NOTICES)["data"]) == {"unread": 0}


def test_a_silent_stream_carries_the_notifications_and_no_live_part(
    push, agent, second_agent, thread
):
    kinds = ("live", "patch", "notices")
    with (
        httpx.Client() as http,
        open_stream(http, push, agent.user, "view=notices&notices=1") as tab,
    ):
        events = Events(tab)
        assert events.next(kinds) == {"event": "notices", "data": '{"unread":0}'}
        actions.do_claim(thread.id, agent=second_agent)  # changes the queue, not this page
        actions.do_add_note(thread.id, agent=second_agent, text=f"@{agent.credit_code} see")
        found = events.next(kinds)
        assert found["event"] == "notices" and json.loads(found["data"])["unread"] == 1
