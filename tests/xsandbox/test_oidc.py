"""The sandbox's OpenID Connect provider (twelp.xsandbox.oidc), over HTTP: the sign-in
page and its CSRF check, the token endpoint's id_token (RS256, verified with the JWKS),
userinfo, refresh rotation, and a disabled employee."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from tests.agents.sso_helpers import CLIENT_ID, CLIENT_SECRET, DIRECTORY, disable
from tests.xsandbox.conftest import sandbox, sandbox_settings, sandbox_url, world  # noqa: F401

CALLBACK = "http://testserver/oidc/callback/"


@pytest.fixture
def idp(sandbox, sandbox_settings):  # noqa: F811
    sandbox_settings.XSANDBOX_OIDC_USERS = json.dumps(DIRECTORY)
    sandbox_settings.XSANDBOX_OIDC_CLIENTS = json.dumps(
        [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [CALLBACK]}]
    )
    return sandbox


def _params(**changes: str) -> dict[str, str]:
    base = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": CALLBACK}
    return {**base, "scope": "openid email", "state": "s-1", "nonce": "n-1", **changes}


def _code(url: str, sub: str, *, mfa: bool = False) -> str:
    session = requests.Session()
    page = session.get(f"{url}/oidc/authorize?{urlencode(_params())}", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {**_params(), "csrfmiddlewaretoken": token, "employee": sub, "decision": "sign_in"}
    if mfa:
        form["mfa"] = "on"
    answer = session.post(f"{url}/oidc/authorize", data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def _exchange(url: str, code: str) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    return requests.post(
        f"{url}/oidc/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10
    )


def test_it_issues_an_rs256_id_token_the_jwks_verifies(idp):
    answer = _exchange(idp.url, _code(idp.url, "idp-alice", mfa=True))
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    keys = requests.get(f"{idp.url}/oidc/jwks", timeout=5).json()["keys"]
    key = jwt.PyJWK(keys[0])
    claims = jwt.decode(tokens["id_token"], key, algorithms=["RS256"], audience=CLIENT_ID)
    assert claims["iss"] == f"{idp.url}/oidc"
    assert (claims["sub"], claims["nonce"], claims["employee_id"]) == (
        "idp-alice",
        "n-1",
        "E-alice",
    )
    assert "mfa" in claims["amr"]
    info = requests.get(
        f"{idp.url}/oidc/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert info.json()["email"] == "alice@acme.example"


def test_a_code_works_once(idp):
    code = _code(idp.url, "idp-alice")
    assert _exchange(idp.url, code).status_code == 200
    second = _exchange(idp.url, code)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused(idp):
    form = {"grant_type": "authorization_code", "code": _code(idp.url, "idp-alice")}
    answer = requests.post(f"{idp.url}/oidc/token", data={**form, "redirect_uri": CALLBACK},
                           auth=(CLIENT_ID, "wrong"), timeout=10)  # fmt: skip
    assert answer.status_code == 401


def test_a_disabled_employee_gets_no_code_no_refresh_and_no_userinfo(idp):
    tokens = _exchange(idp.url, _code(idp.url, "idp-alice")).json()
    disable(idp, "idp-alice")
    info = requests.get(
        f"{idp.url}/oidc/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert info.status_code == 401
    refreshed = requests.post(
        f"{idp.url}/oidc/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=5,
    )
    assert refreshed.status_code == 400
    with pytest.raises(AssertionError):
        _code(idp.url, "idp-alice")  # the page says so instead of redirecting


def test_the_sign_in_page_refuses_a_post_without_the_csrf_token(idp):
    form = {**_params(), "employee": "idp-alice", "decision": "sign_in"}
    answer = requests.post(f"{idp.url}/oidc/authorize", data=form, allow_redirects=False)
    assert answer.status_code == 403


def test_an_unknown_redirect_uri_gets_an_error_page_not_a_redirect(idp):
    params = _params(redirect_uri="https://evil.example/cb")
    page = requests.get(f"{idp.url}/oidc/authorize?{urlencode(params)}", allow_redirects=False)
    assert page.status_code == 400 and "not one this application registered" in page.text


def test_disabling_needs_the_operator_token(idp):
    answer = requests.post(f"{idp.url}/_sandbox/oidc/disable", json={"sub": "idp-alice"})
    assert answer.status_code == 403
