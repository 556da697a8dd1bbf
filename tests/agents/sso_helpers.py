"""Single sign-on in tests: the sandbox's OpenID Connect provider, live over HTTP, and
Twelp's client pointed at it (agents.sso)."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

CLIENT_ID = "twelp-test-oidc"
CLIENT_SECRET = "test-oidc-secret"
DIRECTORY = [
    {"sub": "idp-alice", "name": "Alice", "email": "alice@acme.example", "employee_id": "E-alice"},
    {"sub": "idp-sue", "name": "Sue", "email": "sue@acme.example", "employee_id": "E-sue"},
    {"sub": "idp-nia", "name": "Nia Newbie", "email": "nia@acme.example", "employee_id": "E-9001"},
    {"sub": "idp-noid", "name": "Omar Noid", "email": "omar@acme.example"},
]


def point_at(settings, sandbox_url: str, *callback_hosts: str) -> None:
    """Twelp's client settings for the sandbox's provider; it calls back to each host."""
    issuer = f"{sandbox_url}/oidc"
    settings.OIDC_OP_ISSUER = issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{issuer}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{issuer}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{issuer}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{issuer}/jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{issuer}/end_session"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.SSO_ENABLED = True
    if "agents.sso.SSOBackend" not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [
            *settings.AUTHENTICATION_BACKENDS,
            "agents.sso.SSOBackend",
        ]
    settings.XSANDBOX_OIDC_USERS = json.dumps(DIRECTORY)
    hosts = ("http://testserver", *callback_hosts)
    settings.XSANDBOX_OIDC_CLIENTS = json.dumps(
        [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [f"{host}/oidc/callback/" for host in hosts],
            }
        ]
    )


def sign_in(
    client,
    sub: str,
    *,
    mfa: bool = False,
    tamper: dict[str, str] | None = None,
    idp: requests.Session | None = None,
):
    """A person signing in: Twelp's button, the provider's page (over HTTP), Sign in, and
    back to Twelp's callback; `tamper` replaces parameters of that callback; `idp` is the
    browser's cookies at the provider (its session). Its response."""
    begin = client.get("/oidc/authenticate/")
    assert begin.status_code == 302, begin
    idp = idp if idp is not None else requests.Session()
    page = idp.get(begin["Location"], timeout=10)
    assert page.status_code == 200, page.text
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    fields = {html.unescape(n): html.unescape(v) for n, v in hidden}
    fields |= {"employee": sub, "decision": "sign_in"}
    if mfa:
        fields["mfa"] = "on"
    answer = idp.post(begin["Location"], data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()} | (tamper or {})
    return client.get(back.path + "?" + urlencode(query))


def disable(sandbox, sub: str, disabled: bool = True) -> None:
    answer = sandbox.control("POST", "oidc/disable", json={"sub": sub, "disabled": disabled})
    assert answer.status_code == 200, answer.text
