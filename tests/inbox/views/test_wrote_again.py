"""'@kim wrote again: read it before sending' (issue 15): a reply written against an older
message of the thread is held, the new messages shown above the kept text; sending
again confirms it."""

from __future__ import annotations

import re
import uuid

import pytest
from django.utils import timezone

from inbox import actions
from inbox.models import Message, Reply


@pytest.fixture
def message_text() -> str:
    return "@acmecares where is my order?"


def _wrote(thread, customer, text: str, *, x_id: int = 101, direction: str = "in") -> Message:
    return Message.objects.create(
        brand=thread.brand,
        thread=thread,
        x_id=x_id,
        direction=direction,
        author_x_id=customer.x_user_id if direction == "in" else thread.brand.x_user_id,
        text=text,
        conversation_id=thread.conversation_id,
        sent_at=timezone.now(),
    )


def _against(body: str) -> str:
    found = re.search(r'name="written_against" value="(\d+)"', body)
    assert found, "the reply form carries the message it is written against"
    return found.group(1)


def _post(client, thread, against: str, **extra: str):
    data = {"text": "@kim it ships today", "client_token": str(uuid.uuid4())}
    data["written_against"] = against
    return client.post(f"/t/{thread.id}/reply/", data | extra, HTTP_HX_REQUEST="true")


def test_a_reply_is_held_when_the_customer_wrote_again_then_confirmed(
    client, agent, customer, thread
):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    against = _against(client.get(f"/t/{thread.id}/").content.decode())
    newer = _wrote(thread, customer, "@acmecares never mind, <b>cancel</b> it")
    response = _post(client, thread, against)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "@kim wrote again: read it before sending." in body
    assert "never mind, &lt;b&gt;cancel&lt;/b&gt; it" in body  # shown, escaped
    assert "<b>cancel</b>" not in body
    assert "@kim it ships today" in body  # the text is kept
    assert "Send as it is" in body
    assert _against(body) == str(newer.id)
    assert not Reply.objects.exists()
    response = _post(client, thread, _against(body))  # confirmed as it is
    assert response.status_code in (200, 302)
    assert Reply.objects.get(thread=thread).text == "@kim it ships today"


def test_a_reply_written_against_the_newest_message_goes_at_once(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    against = _against(client.get(f"/t/{thread.id}/").content.decode())
    _post(client, thread, against)
    assert Reply.objects.filter(thread=thread).count() == 1


def test_a_message_posted_by_the_brand_meanwhile_holds_it_too(client, agent, customer, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    against = _against(client.get(f"/t/{thread.id}/").content.decode())
    _wrote(thread, customer, "@kim a colleague's answer", x_id=102, direction="out")
    body = _post(client, thread, against).content.decode()
    assert "@acmecares posted meanwhile: read it before sending." in body
    assert "a colleague&#x27;s answer" in body or "a colleague's answer" in body
    assert not Reply.objects.exists()


def test_the_action_names_another_customer_who_wrote_in_the_thread(brand, agent, customer, thread):
    from inbox.models import Customer

    other = Customer.objects.create(brand=brand, x_user_id=77, handle="lee", name="Lee")
    actions.do_claim(thread.id, agent=agent)
    latest = Message.objects.filter(thread=thread).latest("id").id
    _wrote(thread, other, "me too", x_id=103)
    with pytest.raises(actions.NewerMessage, match="@lee wrote again"):
        actions.do_send_reply(thread.id, agent=agent, text="@kim hi", written_against=latest)
    assert not Reply.objects.exists()


def test_a_form_without_the_field_sends_as_before(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    client.post(f"/t/{thread.id}/reply/", {"text": "@kim ok", "client_token": str(uuid.uuid4())})
    assert Reply.objects.filter(thread=thread).count() == 1


def test_a_malformed_marker_is_refused_with_the_text_kept(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    body = _post(client, thread, "not-a-number").content.decode()
    assert "@kim it ships today" in body
    assert not Reply.objects.exists()


def test_move_to_dm_is_held_the_same_way(client, agent, customer, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    against = _against(client.get(f"/t/{thread.id}/").content.decode())
    _wrote(thread, customer, "@acmecares hello again")
    data = {"text": "your order number?", "client_token": str(uuid.uuid4())}
    response = client.post(
        f"/t/{thread.id}/move-to-dm/", data | {"written_against": against}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "@kim wrote again: read it before sending." in body
    assert "@acmecares hello again" in body
    assert not Reply.objects.exists()
