"""Password reset by e-mail (Django's views; the console backend in the demo)."""

from __future__ import annotations

import re

from django.core import mail

from tests.helpers import PASSWORD


def test_it_mails_a_link_that_sets_a_new_password(client, agent):
    response = client.post("/password-reset/", {"email": "ALICE@acme.example"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1 and "alice" in mail.outbox[0].body
    path = re.search(r"http://testserver(/reset/\S+/)", mail.outbox[0].body).group(1)
    page = client.get(path, follow=True)
    assert page.context["validlink"]
    new = "another long secret 77"
    response = client.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert response.status_code == 302 and response["Location"] == "/reset/done/"
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 200
    assert client.post("/login/", {"username": "alice", "password": new}).status_code == 302


def test_it_says_the_same_for_an_unknown_address_and_sends_nothing(client, deactivated):
    deactivated.user.is_active = False
    deactivated.user.save()
    for email in ("nobody@acme.example", deactivated.user.email):
        response = client.post("/password-reset/", {"email": email})
        assert response.status_code == 302
    assert mail.outbox == []


def test_the_login_page_links_to_reset_and_registration(client, brand):
    body = client.get("/login/").content.decode()
    assert 'href="/password-reset/"' in body and 'href="/register/"' in body
