"""An employee's X handle is checked with their brand's own X credentials (issue 16):
brand B's admin adding (or importing) an employee asks X as @acme_eu, brand A's as the
deployment's account, and a brand with no X account of its own is refused plainly rather
than checked with another brand's."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from agents.models import Agent, Role
from inbox.configure import credentials
from inbox.models import Brand
from tests.agents.conftest import x_user
from tests.helpers import make_agent
from twelp import xgateway
from twelp.xsandbox.models import Account

B_ID = 1500000000000000099
B_TOKEN, B_SECRET = f"{B_ID}-brand-b-access-token", "brand-b-access-token-secret"
FORM = {
    "employee_id": "E-7001",
    "name": "Sam Lee",
    "email": "sam.lee@acme.example",
    "x_handle": "samlee_helps",
    "initials": "sl",
    "role": Role.AGENT,
}


@pytest.fixture
def asked_as(monkeypatch) -> list[str]:
    """For each handle check the gateway makes: the access token it is made with ("env":
    the deployment's settings), or why it was not made."""
    seen: list[str] = []
    real = xgateway.get_user_by_username

    def spy(username: str):
        try:
            config = xgateway._Config.current()
        except xgateway.NotConnected:
            seen.append("not connected")
            raise
        seen.append(config.access_token if config.user_context else "env")
        return real(username)

    monkeypatch.setattr(xgateway, "get_user_by_username", spy)
    return seen


@pytest.fixture
def brand_b(x, admin_agent) -> Brand:
    """A second brand, its own account on X connected with pasted OAuth 1.0a keys."""
    Account.objects.create(
        id=B_ID,
        kind=Account.Kind.BRAND,
        username="acme_eu",
        name="Acme EU",
        access_token=B_TOKEN,
        access_token_secret=B_SECRET,
    )
    brand = Brand.objects.create(name="Acme EU", handle="acme_eu", x_user_id=B_ID)
    return brand


@pytest.fixture
def b_admin(brand_b) -> Agent:
    admin = make_agent(brand_b, "bea", role=Role.ADMIN)
    credentials.connect_oauth1(
        brand_b, actor=admin, access_token=B_TOKEN, access_token_secret=B_SECRET
    )
    return admin


def logged_in(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def test_each_brand_checks_a_handle_with_its_own_account(admin_agent, b_admin, brand_b, asked_as):
    sam = x_user("samlee_helps")
    response = logged_in(b_admin).post("/team/add/", FORM)
    assert response.status_code == 302
    assert Agent.objects.get(brand=brand_b, employee_id="E-7001").x_user_id == sam.id
    assert asked_as == [B_TOKEN]  # @acme_eu's own keys, never brand A's

    # The same person in brand A too (their logins differ: employee id and e-mail).
    again = FORM | {"employee_id": "E-7002", "email": "sam.lee@acme-us.example"}
    response = logged_in(admin_agent).post("/team/add/", again)
    assert response.status_code == 302
    assert Agent.objects.get(brand=admin_agent.brand, employee_id="E-7002").x_user_id == sam.id
    assert asked_as == [B_TOKEN, "env"]  # brand A's (the env brand): the deployment's


def test_an_import_checks_handles_with_the_brands_own_account(b_admin, asked_as):
    x_user("jane_x")
    csv_text = "employee_id,name,email,x_handle,initials,role\n"
    csv_text += "E-8001,Jane,j@acme.example,jane_x,JD,\n"
    upload = SimpleUploadedFile("team.csv", csv_text.encode(), content_type="text/csv")
    response = logged_in(b_admin).post("/team/import/", {"file": upload})
    assert response.context["preview"].ok
    assert asked_as == [B_TOKEN]


def test_a_brand_with_no_account_of_its_own_is_refused_not_checked_with_anothers(
    admin_agent, brand_b, asked_as
):
    x_user("samlee_helps")
    bea = make_agent(brand_b, "bea", role=Role.ADMIN)  # @acme_eu is not connected
    response = logged_in(bea).post("/team/add/", FORM)
    assert response.status_code == 200
    error = response.context["form"].errors["x_handle"][0]
    assert "@acme_eu has no X account connected" in error
    assert asked_as == ["not connected"]  # nothing went to X, with anyone's keys
    assert not Agent.objects.filter(brand=brand_b, employee_id="E-7001").exists()
