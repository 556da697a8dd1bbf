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
5. Every refusal is an audited Event (Verb.SSO_REFUSED, `reason` one of REFUSALS) of the
   brand that takes registrations (of the employee's brand when one is known), so the
   supervisors see it in the audit trail and on the team page, not only in a log. Anyone
   can send a forged callback, so refusals of no known employee are recorded up to
   REFUSAL_EVENTS_PER_MINUTE a brand (a Redis counter); past that, only logged: a script
   cannot fill the append-only audit table.
6. Signing out of Twelp ends the provider's session too (RP-initiated logout), when
   OIDC_OP_LOGOUT_ENDPOINT is set: the sign-out goes on to it with the id_token as
   `id_token_hint` and the login page as `post_logout_redirect_uri`.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.contrib.auth import logout
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _lazy
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from agents import actions, sessions, twofactor
from agents.backends import EmployeeBackend
from agents.models import Agent, AgentState
from agents.queries import registration_brand
from inbox import events
from inbox.models import Verb

log = logging.getLogger(__name__)

SESSION_KEY = "twelp-sso"  # {"sub": ...}: this session was started by the provider
NEWCOMER_KEY = "twelp-sso-newcomer"  # (2): the vouched claims of someone not registered yet
NEWCOMER_SECONDS = 1800
_LOCK_SECONDS = 30


# (5): why a sign-in or a session was refused, as the Event's `reason`.
REFUSALS = {  # English in the log; the team page translates them (gettext_noop)
    "state": gettext_noop("a state this browser did not start (or it expired)"),
    "nonce": gettext_noop("the id_token's nonce is not the one this sign-in sent"),
    "issuer": gettext_noop("the id_token's issuer is not the configured provider"),
    "audience": gettext_noop("the id_token was not issued to this client"),
    "token": gettext_noop("the provider's answer did not verify (signature, code or claims)"),
    "provider_error": gettext_noop("the provider answered with an error"),
    "provider_unreachable": gettext_noop("the provider could not be reached"),
    "closed_account": gettext_noop("the employee's Twelp account is deactivated or rejected"),
    "disowned": gettext_noop("the provider no longer vouches for this session's employee"),
}


class Refused(SuspiciousOperation):
    """A refused id_token, with its REFUSALS key."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def refusal_reason(error: SuspiciousOperation) -> str:
    """The REFUSALS key of a refused callback (the library's own errors by their text)."""
    if isinstance(error, Refused):
        return error.reason
    return "nonce" if "nonce" in str(error).lower() else "token"


REFUSAL_EVENTS_PER_MINUTE = 30


def record_refusal(
    reason: str, *, agent: Agent | None = None, sub: str = "", why: str = ""
) -> None:
    """(5): one SSO_REFUSED Event; no brand yet (an empty database): only the log."""
    brand_id = agent.brand_id if agent is not None else getattr(registration_brand(), "id", None)
    log.warning("Single sign-on refused (%s): %s", reason, why or REFUSALS[reason])
    if brand_id is None or (agent is None and _over_the_cap(brand_id)):
        return
    with transaction.atomic():
        events.record(
            Verb.SSO_REFUSED,
            brand_id=brand_id,
            actor=agent,
            reason=reason,
            why=(why or REFUSALS[reason])[:300],
            sub=sub[:200],
        )


def _over_the_cap(brand_id: int) -> bool:
    key = f"agents:sso:refusals:{brand_id}:{int(time.time() // 60)}"
    cache.add(key, 0, 120)
    if cache.incr(key) <= REFUSAL_EVENTS_PER_MINUTE:
        return False
    log.warning(
        "Single sign-on: over %s refusals a minute; not recorded", REFUSAL_EVENTS_PER_MINUTE
    )
    return True


class SSOBackend(OIDCAuthenticationBackend):
    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload = super().verify_token(token, **kwargs)  # signature, alg, nonce
        if "nonce" not in kwargs:
            return payload  # a signed userinfo answer (no nonce asked), not an id_token
        if payload.get("iss") != settings.OIDC_OP_ISSUER:  # (1)
            raise Refused("issuer", f"The id_token's issuer is {payload.get('iss')!r}.")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise Refused("audience", "The id_token was not issued to this client.")
        if "exp" not in payload or "sub" not in payload:
            raise Refused("token", "The id_token has no exp or sub.")
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
            raise Refused("token", "userinfo's sub is not the id_token's.")
        claims = {**userinfo, "amr": payload.get("amr") or []}
        tokens = {
            "access": access_token,
            "refresh": self.token_info.get("refresh_token", ""),
            "id": id_token,  # (6): the id_token_hint of the sign-out
        }
        agent = _employee_for(claims)
        if agent is None:  # (2): the registration page takes it from here
            self.request.session[NEWCOMER_KEY] = {
                **_vouched(claims), "tokens": tokens, "amr": claims["amr"], "at": time.time()
            }  # fmt: skip
            self.request.sso_newcomer = True
            self.request.sso_tokens = (claims, tokens)
            return None
        if agent.state in (AgentState.DEACTIVATED, AgentState.REJECTED):
            why = f"{agent} is {agent.state} in Twelp; not signed in"
            record_refusal("closed_account", agent=agent, sub=str(claims["sub"]), why=why)
            self.request.sso_refusal = gettext("Your Twelp account is closed; ask an admin.")
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


def end_session_url(request: HttpRequest) -> str:
    """(6): where sign-out goes on to, to end the provider's session too; "" for a session
    the provider did not start, or without OIDC_OP_LOGOUT_ENDPOINT. Call before logout()."""
    if not settings.OIDC_OP_LOGOUT_ENDPOINT or not request.session.get(SESSION_KEY):
        return ""
    tokens = cache.get(_tokens_key(request)) or {}
    cache.delete(_tokens_key(request))
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGIN_URL)),
    }
    if tokens.get("id"):
        params["id_token_hint"] = tokens["id"]
    joiner = "&" if "?" in settings.OIDC_OP_LOGOUT_ENDPOINT else "?"
    return settings.OIDC_OP_LOGOUT_ENDPOINT + joiner + urlencode(params)


# --- (3): the provider still knows them ----------------------------------------------------


def recheck(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or not session.get(SESSION_KEY):
            return get_response(request)
        if still_disowned(request):
            return _signed_out(request)
        return _may_sign_out_at_provider(get_response(request))

    return middleware


def _may_sign_out_at_provider(response: HttpResponse) -> HttpResponse:
    """(6): this page's sign-out form redirects on to the provider's end_session, and
    browsers apply form-action to a form's redirects: that origin joins it, on the pages
    of sessions the provider started only (django-csp's per-response update)."""
    parts = urlsplit(settings.OIDC_OP_LOGOUT_ENDPOINT)
    if parts.scheme in ("http", "https") and parts.netloc:
        update = dict(getattr(response, "_csp_update", None) or {})
        update["form-action"] = [*update.get("form-action", []), f"{parts.scheme}://{parts.netloc}"]
        response._csp_update = update  # type: ignore[attr-defined]
    return response


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
        return _end(request, "the provider refused its tokens", disowned=True)
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
    return {
        "access": body["access_token"],
        "refresh": body.get("refresh_token", ""),
        "id": body.get("id_token") or tokens.get("id", ""),
    }


def _unreachable(tokens: dict[str, Any], why: str) -> dict[str, Any]:
    log.warning("Single sign-on: could not check a session with the provider (%s)", why)
    return tokens  # kept until the next check


def _end(request: HttpRequest, why: str, *, disowned: bool = False) -> bool:
    user_id = request.session.get("_auth_user_id")
    log.warning("Single sign-on: ended the sessions of user %s: %s", user_id or "?", why)
    if disowned:  # (5): the provider's refusal, for the supervisors
        agent = getattr(getattr(request, "user", None), "agent", None)
        sub = str((request.session.get(SESSION_KEY) or {}).get("sub", ""))
        record_refusal("disowned", agent=agent, sub=sub, why=why)
    cache.delete(_tokens_key(request))
    logout(request)
    if user_id:
        sessions.end_sessions(int(user_id))
    return True


# Why the login page says "you were signed out": a short-lived cookie whose path is the
# login page alone, read (and deleted) there. A flash message would be taken by whichever
# request of the page's came next (a background one, often), and never shown.
SIGNED_OUT_COOKIE = "twelp-signed-out"
SIGNED_OUT_SECONDS = 300
SIGNED_OUT_REASONS = {
    "disowned": _lazy("Your company account no longer signs you in here: sign in again."),
}


def _background(request: HttpRequest) -> bool:
    """An htmx or fetch request (or the push stream), not the browser loading a page."""
    mode = request.headers.get("Sec-Fetch-Mode", "")
    return bool(
        request.headers.get("HX-Request")
        or mode in ("cors", "same-origin", "no-cors")
        or "text/event-stream" in request.headers.get("Accept", "")
    )


def _signed_out(request: HttpRequest) -> HttpResponse:
    """(3): a page goes to the login page; a background request gets 401, not the login
    page swapped into the screen (htmx follows HX-Redirect with the whole page)."""
    url = resolve_url(settings.LOGIN_URL)
    if _background(request):
        response = HttpResponse(
            gettext("Signed out: sign in again."), status=401, content_type="text/plain"
        )
        response["HX-Redirect"] = url
    else:
        response = redirect(url)
    response.set_cookie(
        SIGNED_OUT_COOKIE,
        "disowned",
        max_age=SIGNED_OUT_SECONDS,
        path=url,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def signed_out_reason(request: HttpRequest, response: HttpResponse) -> str:
    """The login page's "you were signed out" (once: the cookie is deleted), or ""."""
    reason = SIGNED_OUT_REASONS.get(request.COOKIES.get(SIGNED_OUT_COOKIE, ""))
    if SIGNED_OUT_COOKIE in request.COOKIES:
        response.delete_cookie(SIGNED_OUT_COOKIE, path=resolve_url(settings.LOGIN_URL))
    return str(reason) if reason else ""
