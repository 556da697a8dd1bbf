"""The demo's people can do what the README's tour asks of them."""

from __future__ import annotations

from django.contrib.auth.models import User

from inbox.demo import load_demo_data


def test_the_demo_admin_can_open_the_django_admin_and_agents_cannot(db, client):
    load_demo_data()
    load_demo_data()  # a restart loads it again
    client.force_login(User.objects.get(username="alex"))
    assert client.get("/django-admin/inbox/source/").status_code == 200
    assert client.get("/django-admin/inbox/quarantine/").status_code == 200
    client.force_login(User.objects.get(username="jane"))
    assert client.get("/django-admin/inbox/source/").status_code == 302  # to the admin login
