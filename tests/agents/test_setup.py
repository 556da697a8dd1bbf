"""The first run: `manage.py bootstrap` prints a one-time link; behind it a new admin sets
up a brand (handles checked with X, the sandbox over HTTP) without createsuperuser."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from agents.models import Agent, AgentState, Role
from inbox.models import Brand, Event, Source
from tests.agents.conftest import x, x_user  # noqa: F401
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {
    "brand_name": "Acme Care",
    "brand_handle": "@acme_care",
    "employee_id": "E-0001",
    "name": "Ada Admin",
    "email": "ada@acme.example",
    "x_handle": "ada_admin",
    "initials": "aa",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def setup_path() -> str:
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    return re.search(r"https?://[^/]+(/setup/[^/\s]+/)", out.getvalue()).group(1)


def test_the_link_sets_up_a_brand_and_its_admin_once(client, x):  # noqa: F811
    x_user("ada_admin", "Ada Admin")
    path = setup_path()
    assert client.get(path).status_code == 200
    response = client.post(path, FORM)
    assert response.status_code == 302 and response["Location"] == "/admin/sources/"
    brand = Brand.objects.get(handle="acme_care")
    assert brand.x_user_id == x.brand.id  # from X, not typed
    admin = Agent.objects.get(brand=brand)
    assert (admin.role, admin.state, admin.credit_code) == (Role.ADMIN, AgentState.ACTIVE, "AA")
    assert not admin.user.is_staff and not admin.user.is_superuser
    assert set(Source.objects.filter(brand=brand).values_list("kind", flat=True)) == {
        "mentions",
        "dms",
    }
    assert Event.objects.filter(verb="brand_created", actor=admin).exists()
    # Logged in as the admin, who enrols two-factor first (agents.twofactor).
    assert client.get("/admin/sources/")["Location"] == "/2fa/setup/?next=%2Fadmin%2Fsources%2F"
    assert client.get(path).status_code == 404  # once


def test_an_unknown_handle_is_refused_and_nothing_is_made(client, x):  # noqa: F811
    path = setup_path()
    page = client.post(path, FORM | {"x_handle": "nobody_here_x"}).content.decode()
    assert "X has no user @nobody_here_x" in page
    assert not Brand.objects.exists() and not Agent.objects.exists()
    assert client.get(path).status_code == 200  # still usable


def test_a_brand_with_an_admin_cannot_be_taken(client, x):  # noqa: F811
    from tests.helpers import make_agent

    x_user("ada_admin", "Ada Admin")
    brand = Brand.objects.create(name="Acme", handle="acme_care", x_user_id=x.brand.id)
    make_agent(brand, "boss", role=Role.ADMIN)
    page = client.post(setup_path(), FORM).content.decode()
    assert "@acme_care has an admin already" in page
    assert Agent.objects.filter(brand=brand).count() == 1


def test_a_made_up_token_is_a_404(client, db):
    assert client.get("/setup/made-up/").status_code == 404
    assert client.post("/setup/made-up/", FORM).status_code == 404


def test_the_csrf_token_is_required(csrf_client, x):  # noqa: F811
    x_user("ada_admin", "Ada Admin")
    assert csrf_client.post(setup_path(), FORM).status_code == 403
    assert not Brand.objects.exists()
