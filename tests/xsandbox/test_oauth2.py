"""The sandbox's OAuth 2.0 with PKCE, to X's published formats: the consent page, the
token endpoint (authorization_code, refresh_token), and users/me with a user token."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.xsandbox.conftest import sandbox, sandbox_settings, sandbox_url, world  # noqa: F401

CLIENT, SECRET = "sandbox-demo-oauth2-client", "sandbox-demo-oauth2-secret"
CALLBACK = "http://testserver/x/callback/"
VERIFIER = "v" * 43 + "-pkce-verifier-of-a-decent-length"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode()
CHALLENGE = CHALLENGE.rstrip("=")


def authorize(url: str, account, *, decision="authorize", **changes) -> dict[str, list[str]]:
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": CALLBACK,
        "scope": "tweet.read users.read offline.access",
        "state": "s-123",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **changes,
    }
    session = requests.Session()
    page = session.get(f"{url}/i/oauth2/authorize?{urlencode(params)}", timeout=10)
    assert page.status_code == 200, page.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {**params, "csrfmiddlewaretoken": token, "account": account.pk, "decision": decision}
    answer = session.post(f"{url}/i/oauth2/authorize", data=form, allow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(CALLBACK)
    return parse_qs(urlsplit(answer.headers["Location"]).query)


def exchange(url: str, code: str, verifier: str = VERIFIER, auth=(CLIENT, SECRET)):
    form = {
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": CLIENT,
    }
    return requests.post(f"{url}/2/oauth2/token", data=form, auth=auth, timeout=10)


@pytest.fixture
def customer(sandbox):  # noqa: F811
    return sandbox.customers[0]


def test_the_code_becomes_tokens_and_users_me_answers_as_the_user(sandbox, customer):  # noqa: F811
    back = authorize(sandbox.url, customer)
    assert back["state"] == ["s-123"]
    answer = exchange(sandbox.url, back["code"][0])
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200
    assert body["scope"] == "tweet.read users.read offline.access" and body["refresh_token"]
    me = requests.get(
        f"{sandbox.url}/2/users/me",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert me.json()["data"]["username"] == customer.username
    # The refresh grant rotates: the new pair works, the old refresh token does not.
    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    again = requests.post(f"{sandbox.url}/2/oauth2/token", data=refresh, auth=(CLIENT, SECRET))
    assert again.status_code == 200 and again.json()["access_token"] != body["access_token"]
    reused = requests.post(f"{sandbox.url}/2/oauth2/token", data=refresh, auth=(CLIENT, SECRET))
    assert reused.status_code == 400


def test_a_code_works_once_and_only_with_its_verifier(sandbox, customer):  # noqa: F811
    code = authorize(sandbox.url, customer)["code"][0]
    wrong = exchange(sandbox.url, code, verifier="w" * 60)
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the code verifier did not match.",
    }
    assert exchange(sandbox.url, code).status_code == 200
    replay = exchange(sandbox.url, code)
    assert replay.status_code == 400
    assert replay.json()["error_description"].startswith("Value passed for the authorization code")


def test_a_wrong_client_secret_is_401(sandbox, customer):  # noqa: F811
    code = authorize(sandbox.url, customer)["code"][0]
    assert exchange(sandbox.url, code, auth=(CLIENT, "nope")).status_code == 401


def test_cancel_sends_access_denied(sandbox, customer):  # noqa: F811
    back = authorize(sandbox.url, customer, decision="cancel")
    assert back == {"error": ["access_denied"], "state": ["s-123"]}


def test_users_me_needs_users_read(sandbox, customer):  # noqa: F811
    code = authorize(sandbox.url, customer, scope="tweet.read")["code"][0]
    token = exchange(sandbox.url, code).json()
    assert "refresh_token" not in token  # no offline.access
    me = requests.get(
        f"{sandbox.url}/2/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.status_code == 403 and "users.read" in me.json()["detail"]


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"client_id": "stranger"}, "client_id is not known"),
        ({"redirect_uri": "https://evil.example/cb"}, "callback URL is not one the app set"),
    ],
)
def test_an_unknown_client_or_callback_gets_an_error_page_not_a_redirect(sandbox, change, text):  # noqa: F811
    params = {"response_type": "code", "client_id": CLIENT, "redirect_uri": CALLBACK} | change
    page = requests.get(
        f"{sandbox.url}/i/oauth2/authorize?{urlencode(params)}", allow_redirects=False
    )
    assert page.status_code == 400 and text in page.text


def test_a_missing_challenge_is_sent_back_as_invalid_request(sandbox):  # noqa: F811
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": CALLBACK,
        "scope": "users.read",
        "state": "s",
    }
    page = requests.get(
        f"{sandbox.url}/i/oauth2/authorize?{urlencode(params)}", allow_redirects=False
    )
    assert page.status_code == 302
    assert parse_qs(urlsplit(page.headers["Location"]).query)["error"] == ["invalid_request"]


def test_a_revoked_token_answers_401_and_its_refresh_token_no_more(sandbox, customer):  # noqa: F811
    """X's POST /2/oauth2/revoke (issue 16: a brand account disconnected or revoked)."""
    body = exchange(sandbox.url, authorize(sandbox.url, customer)["code"][0]).json()
    me = f"{sandbox.url}/2/users/me"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(me, headers=bearer, timeout=10).status_code == 200
    for token in (body["access_token"], body["refresh_token"]):
        revoked = requests.post(
            f"{sandbox.url}/2/oauth2/revoke", data={"token": token}, auth=(CLIENT, SECRET)
        )
        assert revoked.json() == {"revoked": True}
    assert requests.get(me, headers=bearer, timeout=10).status_code == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    again = requests.post(f"{sandbox.url}/2/oauth2/token", data=refresh, auth=(CLIENT, SECRET))
    assert again.status_code == 400
    forged = requests.post(
        f"{sandbox.url}/2/oauth2/revoke", data={"token": "not-ours"}, auth=(CLIENT, SECRET)
    )
    assert forged.status_code == 400
