"""Who may receive a DM, as X decides: open DMs, following the sender, or having written
to them. Otherwise X answers 403 to POST /2/dm_conversations/with/:id/messages."""

from __future__ import annotations

import pytest
import tweepy
from django.test import Client

from tests.sandbox import Sandbox
from tests.xsandbox.test_persona import _as, _post
from twelp import xgateway
from twelp.xsandbox import actions


def test_it_refuses_a_dm_to_someone_who_neither_follows_nor_accepts_dms(sandbox: Sandbox):
    maya = sandbox.customers[0]  # seeded: does not follow the brand, DMs not open
    with pytest.raises(tweepy.Forbidden) as refused:
        sandbox.tweepy_client().create_direct_message(participant_id=maya.id, text="hello")
    assert refused.value.response.status_code == 403
    assert refused.value.api_messages == ["You cannot send messages to this user."]
    assert not maya.dms_received.exists()


def test_it_lets_the_brand_dm_followers_open_dms_and_those_who_wrote_first(sandbox: Sandbox):
    maya, tomasz, aiko, devon = sandbox.customers  # devon follows; aiko has open DMs
    actions.send_dm(tomasz, sandbox.brand, "hi, question")
    for customer in (tomasz, aiko, devon):
        sent = xgateway.send_dm(customer.id, "Hello from the brand ^JD")
        assert customer.dms_received.get().id == sent.id
    with pytest.raises(xgateway.DMRefused):
        xgateway.send_dm(maya.id, "Hello from the brand ^JD")


def test_it_lists_one_conversation(sandbox: Sandbox):
    maya, tomasz = sandbox.customers[:2]
    asked = actions.send_dm(maya, sandbox.brand, "order 5?")
    actions.send_dm(tomasz, sandbox.brand, "other conversation")
    answered = xgateway.send_dm(maya.id, "On its way ^JD")
    response = sandbox.tweepy_client().get_direct_message_events(
        participant_id=maya.id, dm_event_fields=["sender_id", "dm_conversation_id"]
    )
    assert [event.id for event in response.data] == [answered.id, asked.id]


def test_the_persona_page_sets_following_and_open_dms(sandbox: Sandbox):
    browser = Client(enforce_csrf_checks=True)
    maya = sandbox.customers[0]
    _as(browser, maya)
    assert _post(browser, "/dm/settings", {"follows_brand": "on"}).status_code == 302
    assert maya.following.filter(pk=sandbox.brand.pk).exists()
    assert xgateway.send_dm(maya.id, "now you can hear from us").id
    _post(browser, "/dm/settings", {"dms_open": "on"})
    maya.refresh_from_db()
    assert maya.dms_open and not maya.following.exists()
    assert "Accept DMs from anyone" in browser.get("/").content.decode()


def test_receives_your_dm_says_what_x_would_do(sandbox: Sandbox):
    # X's user field `receives_your_dm` (user context): the survey asks it before a DM.
    maya, tomasz, aiko, devon = sandbox.customers  # devon follows; aiko has open DMs
    actions.send_dm(tomasz, sandbox.brand, "hi, question")
    said = {c.username: xgateway.receives_dms(c.id) for c in (maya, tomasz, aiko, devon)}
    assert said == {
        maya.username: False,
        tomasz.username: True,
        aiko.username: True,
        devon.username: True,
    }
    with pytest.raises(xgateway.DMRefused):
        xgateway.send_dm(maya.id, "a survey nobody asked for")


def test_an_app_only_caller_is_not_told(sandbox: Sandbox):
    aiko = sandbox.customers[2]
    as_app = sandbox.tweepy_client().get_user(id=aiko.id, user_fields=["receives_your_dm"])
    assert "receives_your_dm" not in as_app.data.data
    as_brand = sandbox.tweepy_client().get_user(
        id=aiko.id, user_fields=["receives_your_dm"], user_auth=True
    )
    assert as_brand.data.data["receives_your_dm"] is True
