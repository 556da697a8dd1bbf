"""Why a reply did not go, told in its reader's language (issue 21): the outbox stores a
code with its params (X's own words verbatim), and every page renders the sentence when it
is read: Spanish for a Spanish employee, English for an English one, from the same row."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from inbox import actions
from inbox.ingest import poll
from inbox.models import Brand, Channel, Customer, Event, Notification, Reply, Source, Thread
from inbox.outbox import replies
from inbox.templatetags.supervision import event_words
from tests.helpers import login, make_agent
from tests.sandbox import BRAND_ID

DM_REFUSED_ES = "no acepta mensajes directos de @acme_care"
DM_REFUSED_EN = "does not accept direct messages from @acme_care"


def _spanish(agent):
    agent.language = "es"
    agent.save(update_fields=["language"])
    return agent


def _english(agent):
    agent.language = "en"
    agent.save(update_fields=["language"])
    return agent


def _page(agent, path: str) -> str:
    response = login(Client(), agent.user).get(path)
    assert response.status_code == 200, path
    return response.content.decode()


@pytest.fixture
def acme(sandbox) -> Brand:
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


def test_a_refused_dm_reads_in_spanish_to_a_spanish_agent_and_in_english_to_an_english_one(
    twelp_urls, acme
):
    alice = _spanish(make_agent(acme, "alice"))
    bob = _english(make_agent(acme, "bob"))
    maya = twelp_urls.customers[0]  # follows no one, accepts no DMs: X answers 403
    customer = Customer.objects.create(brand=acme, x_user_id=maya.id, handle="maya_rivera")
    thread = Thread.objects.create(
        brand=acme, customer=customer, channel=Channel.DM, conversation_id=maya.id
    )
    actions.do_claim(thread.id, agent=alice)
    reply = actions.do_send_reply(thread.id, agent=alice, text="Your refund: ref 5531")
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert reply.status == "failed"
    assert reply.last_reason == {
        "code": "dm_refused",
        "handle": "maya_rivera",
        "brand": "acme_care",
    }
    assert DM_REFUSED_EN in reply.last_error  # English for operators and the API
    spanish = _page(alice, f"/t/{thread.id}/")
    assert DM_REFUSED_ES in spanish and DM_REFUSED_EN not in spanish
    english = _page(bob, f"/t/{thread.id}/")
    assert DM_REFUSED_EN in english and DM_REFUSED_ES not in english
    told = Notification.objects.get(agent=alice).text
    assert told.startswith("X rechazó tu MD a @maya_rivera (X rechazó el MD: @maya_rivera no")


@pytest.fixture
def asked(twelp_urls, acme):
    """A customer's question, polled into a thread that Alice (Spanish) has claimed."""
    question = twelp_urls.tweet_at_brand(twelp_urls.customers[0], "my parcel is lost")
    poll.poll(Source.objects.create(brand=acme, kind=Source.Kind.MENTIONS).id)
    thread = Thread.objects.get()
    alice = _spanish(make_agent(acme, "alice"))
    actions.do_claim(thread.id, agent=alice)
    return question, thread, alice


def test_a_failed_reply_keeps_xs_own_words_inside_the_readers_sentence(asked):
    question, thread, alice = asked
    bob = _english(make_agent(thread.brand, "bob"))
    sup = _spanish(make_agent(thread.brand, "sam", role="supervisor"))
    reply = actions.do_send_reply(
        thread.id, agent=alice, text=f"@{thread.customer.handle} Tracking it now"
    )
    from twelp import xgateway

    xgateway.create_tweet(reply.body, in_reply_to_tweet_id=question.id)  # X: a duplicate
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert reply.status == "failed"
    code, detail = reply.last_reason["code"], reply.last_reason["detail"]
    assert code in ("x_forbidden", "x_refused") and "duplicate" in detail.lower()
    spanish = _page(alice, f"/t/{thread.id}/")
    assert "X rechazó la respuesta" in spanish
    assert detail.split()[-1] in spanish  # X's words, verbatim
    assert "X refused the reply" not in spanish
    assert "X refused the reply" in _page(bob, f"/t/{thread.id}/")
    # The dashboard's failed replies and the audit trail, for a Spanish supervisor.
    assert "X rechazó la respuesta" in _page(sup, "/sup/")
    event = Event.objects.get(verb="reply_failed", thread=thread)
    assert event.detail["why"] == reply.last_reason
    with translation.override("es"):
        assert "X rechazó la respuesta" in event_words(event, {}, "acme_care")
    with translation.override("en"):
        assert "X refused the reply" in event_words(event, {}, "acme_care")


def failed_before_codes(thread, agent, last_error: str, *, status: str = "failed") -> Reply:
    """A reply as Twelp stored it before codes: only the English sentence (inbox 0037)."""
    return Reply.objects.create(
        thread=thread, agent=agent, body="hi ^AG", text="hi", status=status, last_error=last_error
    )


def test_a_reply_failed_before_codes_reads_in_the_readers_language(agent, thread):
    old = (
        "X refused the DM: @leo does not accept direct messages from @acme (they neither "
        "follow it nor accept DMs from anyone). Nothing was sent; your text is kept."
    )
    failed_before_codes(thread, agent, old)
    failed_before_codes(thread, agent, "Odd.")
    page = _page(_spanish(agent), f"/t/{thread.id}/")
    assert "@leo no acepta mensajes directos de @acme" in page
    assert "Odd." in page  # a sentence it does not know is shown as it was


def test_the_migration_gives_old_rows_their_code(agent, thread):
    from importlib import import_module

    migration = import_module("inbox.migrations.0037_reasons_as_data")
    dm = failed_before_codes(
        thread, agent, "X refused the DM: @leo does not accept direct messages from @acme (…)"
    )
    spent = failed_before_codes(thread, agent, "X did not accept it after 5 attempts.")
    unknown = failed_before_codes(thread, agent, "Odd.")
    untouched = failed_before_codes(thread, agent, "", status="queued")
    migration.backfill(apps, None)
    for row in (dm, spent, unknown, untouched):
        row.refresh_from_db()
    assert dm.last_reason == {"code": "dm_refused", "handle": "leo", "brand": "acme"}
    assert spent.last_reason == {"code": "attempts_spent", "attempts": 5}
    assert (unknown.last_reason, unknown.last_error) == (None, "Odd.")
    assert untouched.last_reason is None


def test_a_notification_reads_in_the_language_of_whoever_reads_it(agent, second_agent, thread):
    from inbox import notifications
    from inbox.live import notices

    notifications.mentioned(second_agent, [agent], thread)  # no pick: written in English
    row = Notification.objects.get(agent=agent)
    assert row.text.startswith(f"{second_agent.name} mentioned you in a note")
    client = login(Client(), agent.user)
    page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9").content.decode()
    assert f"{second_agent.name} te mencionó en una nota" in page
    assert "mentioned you in a note" not in page

    def newest() -> str:
        return json.loads(notices.badge(agent.id))["newest"]["text"]

    with translation.override("es"):
        assert "te mencionó" in newest()  # the page's poll, in its language
    assert "mentioned you" in newest()
    _spanish(agent)
    assert "te mencionó" in newest()  # the push (no request): the employee's pick
