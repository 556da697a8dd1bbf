"""In real Chromium: from an empty database to a working brand without createsuperuser or
the Django admin. `manage.py bootstrap` prints a one-time link; the new admin sets up the
brand (handles checked with the X sandbox over HTTP), adds a listening query while the
budget arithmetic follows what they type, sets the rules, and adds an employee."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from agents.models import Agent, Role
from inbox.models import Event, Source
from tests.agents.conftest import x, x_user  # noqa: F401  (x is a fixture)
from tests.helpers import PASSWORD
from tests.xsandbox.conftest import sandbox, sandbox_settings, sandbox_url, world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def totp_now(secret: str) -> str:
    """What an authenticator app shows for the base32 key (django-otp's own TOTP)."""
    import base64

    from django_otp.oath import TOTP

    return f"{TOTP(base64.b32decode(secret)).token():06d}"


def test_a_new_admin_sets_up_a_working_brand(page, live_server, x):  # noqa: F811
    x_user("ada_admin", "Ada Admin")
    x_user("newbie_cares", "Nia Newbie")
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    path = re.search(r"https?://[^/]+(/setup/\S+/)", out.getvalue()).group(1)

    page.goto(path)
    page.get_by_label("Brand name").fill("Acme Care")
    page.get_by_label("Brand's X handle").fill("@acme_care")
    page.get_by_label("Employee id").fill("E-0001")
    page.get_by_label("Full name").fill("Ada Admin")
    page.get_by_label("Work e-mail").fill("ada@acme.example")
    page.get_by_label("Your own X handle").fill("ada_admin")
    page.get_by_label("Initials").fill("AA")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Set up").click()
    # An admin turns on two-factor first: the key from the page, a code from it (as an app).
    page.get_by_role("heading", name="Turn on two-factor").wait_for()
    page.get_by_text("is set up and you are its admin (^AA)").wait_for()
    secret = page.locator("[data-totp-secret]").inner_text()
    page.get_by_label("Code").fill(totp_now(secret))
    page.get_by_role("button", name="Turn on").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("heading", name="Sources of @acme_care").wait_for()

    # A listening query: X's syntax is checked, and the budget follows the typing.
    page.get_by_role("link", name="Add a source").click()
    page.get_by_label("Kind").select_option("search")
    page.get_by_label("Query").fill('"acme care')
    page.get_by_label("Poll every (seconds)").fill("5")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Unmatched quotation mark (at position 1)").wait_for()
    page.get_by_label("Query").fill('"acme care" -is:retweet')
    page.get_by_text('Listening query: "acme care" -is:retweet: 900 ÷ 5 s = 180').wait_for()
    page.get_by_role("button", name="Save").click()
    page.get_by_text('Saved: Listening query: "acme care" -is:retweet.').wait_for()
    assert Source.objects.get(kind="search").query == '"acme care" -is:retweet'

    # The rules, then an employee.
    page.get_by_role("link", name="Rules").click()
    page.get_by_label("Urgent keywords").fill("outage")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved the brand's rules.").wait_for()
    page.get_by_role("link", name="Add an employee").click()
    page.get_by_label("Employee id").fill("E-0002")
    page.get_by_label("Full name").fill("Nia Newbie")
    page.get_by_label("Work e-mail").fill("nia@acme.example")
    page.get_by_label("Your own X handle").fill("newbie_cares")
    page.get_by_label("Initials").fill("NN")
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Nia Newbie is registered as ^NN").wait_for()

    assert Agent.objects.get(employee_id="E-0002").role == Role.AGENT
    verbs = set(Event.objects.values_list("verb", flat=True))
    assert {"brand_created", "source_added", "brand_settings_changed", "agent_added"} <= verbs
