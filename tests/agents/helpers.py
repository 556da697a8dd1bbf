"""Builders for the employee tests."""

from __future__ import annotations

from typing import Any

from agents.models import Agent, AgentState
from inbox.models import Brand
from tests.helpers import PASSWORD


def registration(**changes: str) -> dict[str, str]:
    """A complete, valid self-registration form; its X handle must exist in the sandbox."""
    return {
        "employee_id": "E-5001",
        "name": "Jane Doe",
        "email": "jane.doe@acme.example",
        "x_handle": "janedoe_cares",
        "initials": "JD",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **changes,
    }


def pending_agent(brand: Brand, employee_id: str, initials: str = "JD", **fields: Any) -> Agent:
    from django.contrib.auth.models import User

    user = User.objects.create_user(employee_id, f"{employee_id.lower()}@acme.example", PASSWORD)
    return Agent.objects.create(
        user=user,
        brand=brand,
        employee_id=employee_id,
        name=fields.pop("name", f"Person {employee_id}"),
        x_handle=fields.pop("x_handle", f"h_{employee_id.lower().replace('-', '')}"),
        initials=initials,
        state=AgentState.PENDING,
        **fields,
    )


def prove_in_session(client, x_user_id: int = 7_000_001, username: str = "janedoe_cares") -> None:
    """The session as Sign in with X leaves it (agents.xlink.remember), for the tests of the
    registration form itself; the flow is tested end to end in test_sign_in_with_x.py."""
    import time

    from agents import xlink

    session = client.session
    session[xlink.PROVEN_KEY] = {"id": x_user_id, "username": username, "at": time.time()}
    session.save()


def prove_x(client, account, *, decision: str = "authorize", state: str | None = None):
    """Sign in with X as a person does it: Twelp's button, X's consent page (the sandbox,
    over HTTP, as `account`), Authorize app, and back to Twelp's callback. The callback's
    response; `state` replaces the one X sends back (a forged callback)."""
    import html
    import re
    from urllib.parse import parse_qs, urlencode, urlsplit

    import requests

    begin = client.post("/team/me/x/") if client.session.get("_auth_user_id") else None
    begin = begin or client.post("/register/x/")
    assert begin.status_code == 302, begin
    consent = requests.Session()
    page = consent.get(begin["Location"], timeout=10)
    assert page.status_code == 200, page.text
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    fields = {html.unescape(n): html.unescape(v) for n, v in hidden}
    fields |= {"account": str(account.pk), "decision": decision}
    answer = consent.post(begin["Location"], data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    query = parse_qs(back.query)
    if state is not None:
        query["state"] = [state]
    return client.get(back.path + "?" + urlencode(query, doseq=True))


def allow_callback(settings, base_url: str) -> None:
    """Register `base_url`'s /x/callback/ with the sandbox's Twelp client too."""
    import json

    clients = json.loads(settings.XSANDBOX_OAUTH2_CLIENTS)
    clients[0]["redirect_uris"].append(base_url.rstrip("/") + "/x/callback/")
    settings.XSANDBOX_OAUTH2_CLIENTS = json.dumps(clients)
