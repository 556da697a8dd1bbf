"""Two-factor (agents.twofactor, django-otp): required for supervisors and admins by
default, optional for agents; TOTP codes once only; recovery codes; axes counts wrong
codes. Logins here go through the real login page, not the suite's login fixture."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from agents.models import Agent
from inbox.models import Event
from tests.helpers import PASSWORD


def password_login(client: Client, agent: Agent, next_url: str = "/") -> str:
    response = client.post("/login/", {"username": agent.user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client.get(next_url)["Location"] if client.get(next_url).status_code == 302 else ""


def code_of(device: TOTPDevice, drift: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + drift * device.step
    return f"{totp.token():06d}"


def enrol(client: Client, agent: Agent) -> tuple[TOTPDevice, list[str]]:
    page = client.get("/2fa/setup/").content.decode()
    secret = page.split("data-totp-secret>")[1].split("<")[0]
    device = TOTPDevice.objects.get(user=agent.user, confirmed=False)
    assert base64.b32decode(secret) == device.bin_key  # the key shown is the device's
    response = client.post("/2fa/setup/", {"token": code_of(device)})
    assert "Your recovery codes" in response.content.decode()
    codes = [c.split("<")[0] for c in response.content.decode().split("<li><code>")[1:]]
    device.refresh_from_db()
    return device, codes


def test_a_supervisor_must_enrol_before_anything(supervisor):
    client = Client()
    assert password_login(client, supervisor, "/sup/") == "/2fa/setup/?next=%2Fsup%2F"
    device, codes = enrol(client, supervisor)
    assert device.confirmed and len(codes) == 10
    assert client.get("/sup/").status_code == 200
    assert Agent.objects.get(id=supervisor.id).two_factor
    assert Event.objects.filter(verb="two_factor_enrolled", actor=supervisor).exists()


def test_a_wrong_enrolment_code_enrols_nothing(supervisor):
    client = Client()
    password_login(client, supervisor)
    page = client.post("/2fa/setup/", {"token": "000000"}).content.decode()
    assert "That code is not right" in page
    assert not TOTPDevice.objects.filter(user=supervisor.user, confirmed=True).exists()
    assert client.get("/sup/").status_code == 302


@pytest.fixture
def enrolled(supervisor) -> tuple[Agent, TOTPDevice, list[str]]:
    client = Client()
    password_login(client, supervisor)
    device, codes = enrol(client, supervisor)
    return supervisor, device, codes


def test_each_login_asks_for_the_code_and_a_replayed_code_is_refused(enrolled):
    supervisor, device, _ = enrolled
    first, second = Client(), Client()
    assert password_login(first, supervisor, "/sup/") == "/2fa/?next=%2Fsup%2F"
    code = code_of(device, drift=1)  # the next step: the enrolment used this one
    assert first.post("/2fa/", {"token": code, "next": "/sup/"})["Location"] == "/sup/"
    assert first.get("/sup/").status_code == 200
    password_login(second, supervisor)
    page = second.post("/2fa/", {"token": code}).content.decode()
    assert "That code is not right, or it was used already." in page
    assert second.get("/sup/").status_code == 302


def test_a_recovery_code_works_once(enrolled):
    supervisor, _, codes = enrolled
    first, second = Client(), Client()
    password_login(first, supervisor)
    assert first.post("/2fa/", {"token": codes[0]}).status_code == 302
    password_login(second, supervisor)
    assert second.post("/2fa/", {"token": codes[0]}).status_code == 200  # refused
    # django-otp throttles a device for a second after a wrong code; a person types slower.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        assert second.post("/2fa/", {"token": codes[1]}).status_code == 302


def test_axes_locks_out_wrong_codes_then_even_a_right_one(enrolled, settings):
    supervisor, _, codes = enrolled
    client = Client()
    password_login(client, supervisor)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/2fa/", {"token": "123456"})
    assert response.status_code == 429
    assert client.post("/2fa/", {"token": codes[0]}).status_code == 429
    assert client.get("/sup/").status_code == 302  # still not verified


def test_an_offsite_next_is_not_followed(enrolled):
    supervisor, _, codes = enrolled
    client = Client()
    password_login(client, supervisor)
    response = client.post("/2fa/", {"token": codes[0], "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_an_agent_may_skip_it_or_turn_it_on(agent):
    client = Client()
    assert password_login(client, agent) == ""  # the queue, straight away
    enrol(client, agent)
    later = Client()
    assert password_login(later, agent) == "/2fa/?next=%2F"


def test_the_required_roles_are_a_setting(supervisor, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin"]
    client = Client()
    assert password_login(client, supervisor, "/sup/") == ""


def test_an_htmx_request_is_sent_to_the_whole_page(supervisor):
    client = Client()
    password_login(client, supervisor)
    response = client.get("/sup/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/2fa/setup/?next=%2Fsup%2F"


def test_an_admin_resets_a_lost_phone(enrolled, admin_agent, client):
    supervisor, _, codes = enrolled
    theirs = Client()
    password_login(theirs, supervisor)
    theirs.post("/2fa/", {"token": codes[0]})
    client.force_login(admin_agent.user)  # the fixture: admin_agent passes their own
    assert client.post(f"/team/{supervisor.id}/2fa-reset/").status_code == 302
    assert not Agent.objects.get(id=supervisor.id).two_factor
    assert not TOTPDevice.objects.filter(user=supervisor.user).exists()
    assert theirs.get("/sup/").status_code == 302  # logged out everywhere
    assert Event.objects.filter(verb="two_factor_reset", actor=admin_agent).exists()


def test_new_recovery_codes_replace_the_old(enrolled):
    supervisor, _, codes = enrolled
    client = Client()
    password_login(client, supervisor)
    client.post("/2fa/", {"token": codes[0]})
    page = client.post("/team/me/recovery-codes/").content.decode()
    fresh = [c.split("<")[0] for c in page.split("<li><code>")[1:]]
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    other = Client()
    password_login(other, supervisor)
    assert other.post("/2fa/", {"token": codes[1]}).status_code == 200  # old: refused


@pytest.mark.parametrize("path", ["/2fa/", "/2fa/setup/", "/team/me/recovery-codes/"])
def test_the_csrf_token_is_required(csrf_client, agent, path):
    csrf_client.force_login(agent.user)
    response = csrf_client.post(path, {"token": "123456"})
    assert response.status_code == 403 and b"CSRF" in response.content


def test_the_reset_needs_the_csrf_token(csrf_client, admin_agent, enrolled):
    supervisor = enrolled[0]
    csrf_client.force_login(admin_agent.user)
    assert csrf_client.post(f"/team/{supervisor.id}/2fa-reset/").status_code == 403
    assert Agent.objects.get(id=supervisor.id).two_factor
