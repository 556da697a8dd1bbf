"""The admins' customer data page: export (a JSON download) and erasure, CSRF checked."""

from __future__ import annotations

import json

from inbox.models import Customer, Event, Message, Verb
from tests.helpers import login

URL = "/brand/customer-data/"


def test_it_downloads_the_export_as_json(client, admin_agent, thread, customer):
    login(client, admin_agent.user)
    answer = client.post(URL, {"who": "@kim", "action": "export"})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert answer["Content-Disposition"] == 'attachment; filename="twelp-customer-kim.json"'
    data = json.loads(answer.content)
    assert data["customer"]["x_user_id"] == 42 and len(data["messages"]) == 1
    assert Event.objects.filter(verb=Verb.CUSTOMER_EXPORTED).count() == 1


def test_an_unknown_handle_is_said_on_the_form(client, admin_agent, customer):
    login(client, admin_agent.user)
    answer = client.post(URL, {"who": "ghost", "action": "erase", "confirm": "on"})
    assert answer.status_code == 200
    assert b"No customer @ghost" in answer.content
    assert b'value="ghost"' in answer.content  # what was typed is kept


def test_erasure_needs_the_box_ticked(client, admin_agent, thread, customer):
    login(client, admin_agent.user)
    answer = client.post(URL, {"who": "kim", "action": "erase"})
    assert b"Tick the box" in answer.content
    customer.refresh_from_db()
    assert customer.erased_at is None


def test_it_erases_and_says_what_went(client, admin_agent, thread, customer):
    login(client, admin_agent.user)
    answer = client.post(URL, {"who": "kim", "action": "erase", "confirm": "on"}, follow=True)
    assert b"Erased: 1 messages and 0 notes removed" in answer.content
    customer.refresh_from_db()
    assert customer.erased_at is not None
    assert not Message.objects.exists()


def test_the_post_needs_the_csrf_token(csrf_client, admin_agent, thread, customer):
    login(csrf_client, admin_agent.user)
    answer = csrf_client.post(URL, {"who": "kim", "action": "erase", "confirm": "on"})
    assert answer.status_code == 403
    assert Customer.objects.get(id=customer.id).erased_at is None
    page = csrf_client.get(URL)
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None
    token = token or csrf_client.cookies["csrftoken"].value
    answer = csrf_client.post(
        URL, {"who": "kim", "action": "erase", "confirm": "on", "csrfmiddlewaretoken": token}
    )
    assert answer.status_code == 302
    assert Customer.objects.get(id=customer.id).erased_at is not None


def test_only_admins_see_it(client, supervisor, customer):
    login(client, supervisor.user)
    assert client.post(URL, {"who": "kim", "action": "export"}).status_code == 403
    assert not Event.objects.filter(verb=Verb.CUSTOMER_EXPORTED).exists()
