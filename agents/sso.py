"""Single sign-on with the company's identity provider: OpenID Connect's code flow through
mozilla-django-oidc (its request and callback views, subclassed in agents.sso_views, and
this backend).

1. The id_token is checked beyond what the library checks: its RS256 signature against the
   provider's JWKS and its `nonce` (the library), then `iss` equal to OIDC_OP_ISSUER, `aud`
   naming our client, and `exp` present and not past (pyjwt checks it when present). A
   failure is a SuspiciousOperation: the callback refuses it with 400 and logs it.
2. Who signs in: the employee whose `oidc_subject` is the token's `sub`; else, when the
   provider vouches for an employee id (OIDC_EMPLOYEE_ID_CLAIM), the brand's employee with
   that id (their subject is remembered from then on); else a newcomer, whose vouched
   claims wait in the session for the registration page (they prove their X account
   there, as everyone does).
3. A session the provider started is checked with the provider again at its first
   request OIDC_RECHECK_SECONDS after the last check: userinfo with the access token,
   and when that is refused, a refresh (which rotates the tokens). Both refused: the
   provider disowns the account (disabled, or its grant revoked), and every session of
   that user ends. The tokens live in the cache under the session key, not in the session,
   so a concurrent request cannot save a stale refresh token back; one check per session
   runs at a time (a cache lock), the others go on. An unreachable provider keeps the
   session (logged) until the next check: an outage at the provider must not log out the
   whole floor.
4. Supervisors and admins pass Twelp's second factor after single sign-on too, unless
   OIDC_MFA_COUNTS is on and the id_token's `amr` names one of OIDC_MFA_AMR_VALUES: then
   the session is marked as verified (agents.twofactor.PROVIDER_MFA_KEY).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import logout
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from agents import actions, sessions, twofactor
from agents.backends import EmployeeBackend
from agents.models import Agent, AgentState
from agents.queries import registration_brand

log = logging.getLogger(__name__)

SESSION_KEY = "twelp-sso"  # {"sub": ...}: this session was started by the provider
NEWCOMER_KEY = "twelp-sso-newcomer"  # (2): the vouched claims of someone not registered yet
NEWCOMER_SECONDS = 1800
_LOCK_SECONDS = 30


class SSOBackend(OIDCAuthenticationBackend):
    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload = super().verify_token(token, **kwargs)  # signature, alg, nonce
        if "nonce" not in kwargs:
            return payload  # a signed userinfo answer (no nonce asked), not an id_token
        if payload.get("iss") != settings.OIDC_OP_ISSUER:  # (1)
            raise SuspiciousOperation(f"The id_token's issuer is {payload.get('iss')!r}.")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The id_token was not issued to this client.")
        if "exp" not in payload or "sub" not in payload:
            raise SuspiciousOperation("The id_token has no exp or sub.")
        self.id_claims = payload
        return payload

    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.token_info = super().get_token(payload)
        return self.token_info

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload["sub"]:  # OpenID Connect Core 5.3.2
            raise SuspiciousOperation("userinfo's sub is not the id_token's.")
        claims = {**userinfo, "amr": payload.get("amr") or []}
        tokens = {"access": access_token, "refresh": self.token_info.get("refresh_token", "")}
        agent = _employee_for(claims)
        if agent is None:  # (2): the registration page takes it from here
            self.request.session[NEWCOMER_KEY] = {
                **_vouched(claims), "tokens": tokens, "amr": claims["amr"], "at": time.time()
            }  # fmt: skip
            self.request.sso_newcomer = True
            self.request.sso_tokens = (claims, tokens)
            return None
        if agent.state in (AgentState.DEACTIVATED, AgentState.REJECTED):
            log.warning("Single sign-on: %s is %s in Twelp; not signed in", agent, agent.state)
            self.request.sso_refusal = "Your Twelp account is closed; ask an admin."
            return None
        self.request.sso_tokens = (claims, tokens)
        return agent.user

    def get_user(self, user_id: Any) -> Any:  # the Agent and Brand in the same query
        return EmployeeBackend.get_user(self, user_id)  # type: ignore[arg-type]


def _vouched(claims: dict[str, Any]) -> dict[str, str]:
    claim = settings.OIDC_EMPLOYEE_ID_CLAIM
    return {
        "sub": str(claims["sub"]),
        "name": str(claims.get("name") or ""),
        "email": str(claims.get("email") or ""),
        "employee_id": str(claims.get(claim) or "") if claim else "",
    }


def _employee_for(claims: dict[str, Any]) -> Agent | None:
    rows = Agent.objects.select_related("user")
    agent = rows.filter(oidc_subject=claims["sub"]).first()
    employee_id = _vouched(claims)["employee_id"]
    if agent is not None or not employee_id:
        return agent
    brand = registration_brand()
    found = rows.filter(brand=brand, employee_id=employee_id, oidc_subject="").first()
    if found is None or actions.do_link_subject(found.id, str(claims["sub"])) is None:
        return None
    log.info("Single sign-on: linked %s to the provider's subject %s", found, claims["sub"])
    return found


def newcomer(request: HttpRequest) -> dict[str, str] | None:
    kept = request.session.get(NEWCOMER_KEY)
    if not kept or time.time() - kept["at"] > NEWCOMER_SECONDS:
        return None
    return kept


def forget_newcomer(request: HttpRequest) -> None:
    request.session.pop(NEWCOMER_KEY, None)


def begin_session(request: HttpRequest, claims: dict[str, Any], tokens: dict[str, str]) -> None:
    """After login(): mark the session as the provider's (3), and its MFA (4)."""
    request.session[SESSION_KEY] = {"sub": str(claims["sub"])}
    cache.set(_tokens_key(request), {**tokens, "at": time.time()}, settings.SESSION_COOKIE_AGE)
    if settings.OIDC_MFA_COUNTS and set(claims.get("amr") or []) & set(
        settings.OIDC_MFA_AMR_VALUES
    ):
        request.session[twofactor.PROVIDER_MFA_KEY] = True


def _tokens_key(request: HttpRequest) -> str:
    return f"agents:sso:tokens:{request.session.session_key}"


# --- (3): the provider still knows them ----------------------------------------------------


def recheck(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) and still_disowned(request):
            return _signed_out(request)
        return get_response(request)

    return middleware


def still_disowned(request: HttpRequest) -> bool:
    """True when the provider refuses this session's employee now (and it is ended)."""
    key = _tokens_key(request)
    tokens = cache.get(key)
    if tokens is None or not tokens.get("access"):  # none kept (cache cleared): sign in again
        return _end(request, "no tokens kept for this session")
    if time.time() - tokens["at"] < settings.OIDC_RECHECK_SECONDS:
        return False
    if not cache.add(key + ":lock", 1, _LOCK_SECONDS):
        return False  # another request of this session is checking
    try:
        verdict = _ask_provider(tokens)
    finally:
        cache.delete(key + ":lock")
    if verdict is None:
        return _end(request, "the provider refused its tokens")
    cache.set(key, {**verdict, "at": time.time()}, settings.SESSION_COOKIE_AGE)
    return False


def _ask_provider(tokens: dict[str, Any]) -> dict[str, Any] | None:
    """The tokens to keep (refreshed or not), or None when the provider disowns them."""
    try:
        answer = requests.get(
            settings.OIDC_OP_USER_ENDPOINT,
            headers={"Authorization": f"Bearer {tokens['access']}"},
            timeout=settings.OIDC_TIMEOUT,
        )
        if answer.status_code == 200:
            return tokens
        if answer.status_code not in (400, 401, 403) or not tokens.get("refresh"):
            return _unreachable(tokens, f"userinfo answered {answer.status_code}")
        refreshed = requests.post(
            settings.OIDC_OP_TOKEN_ENDPOINT,
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh"],
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "client_secret": settings.OIDC_RP_CLIENT_SECRET,
            },
            timeout=settings.OIDC_TIMEOUT,
        )
    except requests.RequestException as error:
        return _unreachable(tokens, str(error))
    if refreshed.status_code in (400, 401):
        return None
    if refreshed.status_code != 200:
        return _unreachable(tokens, f"the token endpoint answered {refreshed.status_code}")
    body = refreshed.json()
    return {"access": body["access_token"], "refresh": body.get("refresh_token", "")}


def _unreachable(tokens: dict[str, Any], why: str) -> dict[str, Any]:
    log.warning("Single sign-on: could not check a session with the provider (%s)", why)
    return tokens  # kept until the next check


def _end(request: HttpRequest, why: str) -> bool:
    user_id = request.session.get("_auth_user_id")
    log.warning("Single sign-on: ended the sessions of user %s: %s", user_id or "?", why)
    cache.delete(_tokens_key(request))
    logout(request)
    if user_id:
        sessions.end_sessions(int(user_id))
    return True


def _signed_out(request: HttpRequest) -> HttpResponse:
    from django.contrib import messages

    messages.error(request, _("Your company account no longer signs you in here: sign in again."))
    url = resolve_url(settings.LOGIN_URL)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
