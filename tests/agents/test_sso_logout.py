"""RP-initiated logout (agents.sso (6), the sandbox's end_session), and what a session the
provider disowned gets: a page goes to the login page, a background request gets 401, and
the login page says why once (a cookie only it reads)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from agents import sso
from tests.agents.sso_helpers import disable, point_at, sign_in
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SIGNED_OUT = "Your company account no longer signs you in here"


@pytest.fixture
def idp(x, settings):
    point_at(settings, x.url)
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{x.url}/oidc/end_session"
    return x


def _provider_page(idp_session: requests.Session) -> str:
    """The provider's sign-in page, as a new Twelp visitor reaches it in this browser."""
    begin = Client().get("/oidc/authenticate/")
    return idp_session.get(begin["Location"], timeout=10).text


def test_the_discovery_document_names_the_end_session_endpoint(idp):
    found = requests.get(f"{idp.url}/oidc/.well-known/openid-configuration", timeout=10).json()
    assert found["end_session_endpoint"] == f"{idp.url}/oidc/end_session"


def test_signing_out_of_twelp_ends_the_providers_session_too(client, brand, agent, idp):
    browser_at_idp = requests.Session()
    sign_in(client, "idp-alice", idp=browser_at_idp)
    assert "Signed in at the company as Alice" in _provider_page(browser_at_idp)
    response = client.post("/logout/")
    assert client.session.get("_auth_user_id") is None
    target = urlsplit(response["Location"])
    assert response.status_code == 302 and target.path == "/oidc/end_session"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert query["id_token_hint"][0].count(".") == 2  # the id_token, a JWT
    back = browser_at_idp.get(response["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"] == "http://testserver/login/"
    assert "Signed in at the company" not in _provider_page(browser_at_idp)


def test_without_the_setting_only_twelps_session_ends(client, brand, agent, idp, settings):
    settings.OIDC_OP_LOGOUT_ENDPOINT = ""
    sign_in(client, "idp-alice")
    response = client.post("/logout/")
    assert response["Location"] == "/login/" and client.session.get("_auth_user_id") is None


def test_a_password_session_signs_out_of_twelp_alone(client, brand, agent, idp):
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert client.session.get("_auth_user_id") == str(agent.user_id)
    assert client.post("/logout/")["Location"] == "/login/"


def test_end_session_refuses_a_hint_it_did_not_sign(idp):
    answer = requests.get(
        f"{idp.url}/oidc/end_session",
        params={"id_token_hint": "a.b.c", "post_logout_redirect_uri": "http://testserver/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 400 and "not issued by this provider" in answer.text


def test_end_session_refuses_a_redirect_the_client_did_not_register(client, brand, agent, idp):
    sign_in(client, "idp-alice")
    hint = sso.cache.get(sso._tokens_key(_Request(client)))["id"]
    answer = requests.get(
        f"{idp.url}/oidc/end_session",
        params={"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 400 and "not one this application registered" in answer.text


class _Request:
    def __init__(self, client) -> None:
        self.session = client.session


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_HX_REQUEST": "true"},
        {"HTTP_SEC_FETCH_MODE": "cors"},
        {"HTTP_ACCEPT": "text/event-stream"},
    ],
)
def test_a_background_request_of_a_disowned_session_gets_401(
    client, brand, agent, idp, settings, headers
):
    settings.OIDC_RECHECK_SECONDS = 0
    sign_in(client, "idp-alice")
    disable(idp, "idp-alice")
    response = client.get("/", **headers)
    assert response.status_code == 401
    assert b"<html" not in response.content
    assert response["HX-Redirect"] == "/login/"  # htmx: the whole page goes there
    cookie = response.cookies[sso.SIGNED_OUT_COOKIE]
    assert cookie["path"] == "/login/" and cookie["httponly"]


def test_the_login_page_says_why_once(client, brand, agent, idp, settings):
    settings.OIDC_RECHECK_SECONDS = 0
    sign_in(client, "idp-alice")
    disable(idp, "idp-alice")
    assert client.get("/", HTTP_HX_REQUEST="true").status_code == 401
    assert client.get("/queue/counts/", HTTP_HX_REQUEST="true").status_code in (302, 401, 404)
    first = client.get("/login/")
    assert SIGNED_OUT in first.content.decode()
    assert first.cookies[sso.SIGNED_OUT_COOKIE]["max-age"] == 0  # deleted
    assert SIGNED_OUT not in client.get("/login/").content.decode()


def test_a_page_of_a_disowned_session_goes_to_the_login_page_with_the_reason(
    client, brand, agent, idp, settings
):
    settings.OIDC_RECHECK_SECONDS = 0
    sign_in(client, "idp-alice")
    disable(idp, "idp-alice")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert SIGNED_OUT in client.get("/login/").content.decode()


def test_a_forged_signed_out_cookie_shows_nothing(client, brand):
    client.cookies[sso.SIGNED_OUT_COOKIE] = "<script>alert(1)</script>"
    page = client.get("/login/").content.decode()
    assert SIGNED_OUT not in page and "alert(1)" not in page


def test_only_pages_of_a_providers_session_may_send_a_form_to_it(client, brand, agent, idp):
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert _form_action(client.get("/")) == ["'self'"]
    client.post("/logout/")
    sign_in(client, "idp-alice")
    assert _form_action(client.get("/")) == ["'self'", idp.url]


def _form_action(response) -> list[str]:
    policy = response["Content-Security-Policy"]
    return next(d for d in policy.split(";") if d.strip().startswith("form-action")).split()[1:]
