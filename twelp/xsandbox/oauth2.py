"""X's OAuth 2.0 Authorization Code flow with PKCE, as X publishes it.

- `GET /i/oauth2/authorize`: response_type=code, client_id, redirect_uri (exactly one the
  client registered), scope (space-separated), state, code_challenge with
  code_challenge_method=S256 (or plain). The page asks which account approves (the
  sandbox's "logged-in user" is picked from its personas) and offers Authorize app or
  Cancel: back to redirect_uri with `code` and `state`, or with `error=access_denied`.
  A bad client or redirect_uri gets an error page, never a redirect (RFC 6749 4.1.2.1).
- `POST /2/oauth2/token` (form-encoded): grant_type=authorization_code with code,
  redirect_uri, code_verifier and client_id (a confidential client authenticates with
  HTTP Basic instead), or grant_type=refresh_token with refresh_token. The answer is X's:
  {"token_type": "bearer", "expires_in": 7200, "access_token", "scope",
  "refresh_token" (only with offline.access)}; an error is {"error", "error_description"}.
- A user access token is a Bearer token for the v2 API (twelp.xsandbox.auth), e.g.
  `GET /2/users/me` (which needs users.read).

Nothing is stored: codes and tokens are signed (the sandbox's SECRET_KEY) and carry who,
which client, which scopes and until when. A code lives 30 seconds and works once, a
refresh token works once (X rotates them); spent ones are remembered in the cache until
they would have expired anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.cache import cache

CODE_SECONDS = 30
ACCESS_SECONDS = 7200
REFRESH_SECONDS = 180 * 86400
SCOPES = frozenset(
    {
        "tweet.read", "tweet.write", "tweet.moderate.write", "users.read", "follows.read",
        "follows.write", "offline.access", "space.read", "mute.read", "mute.write",
        "like.read", "like.write", "list.read", "list.write", "block.read", "block.write",
        "bookmark.read", "bookmark.write", "dm.read", "dm.write", "media.write",
    }
)  # fmt: skip
_SALT = {
    "code": "xsandbox.oauth2.code",
    "access": "xsandbox.oauth2.access",
    "refresh": "xsandbox.oauth2.refresh",
}
ACCESS_PREFIX = "x2u-"  # a user access token, told apart from an app's Bearer token


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str  # "" for a public client
    name: str
    redirect_uris: tuple[str, ...]


class OAuthError(Exception):
    """An answer of the token endpoint: 400 (or 401 for a client that failed to authenticate)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def clients() -> dict[str, Client]:
    """settings.XSANDBOX_OAUTH2_CLIENTS: a JSON list of {client_id, client_secret, name,
    redirect_uris}; by default Twelp's own client (X_OAUTH2_CLIENT_ID), calling back to
    SITE_URL's /x/callback/."""
    raw = settings.XSANDBOX_OAUTH2_CLIENTS
    rows = json.loads(raw) if isinstance(raw, str) and raw else raw
    if not rows:
        rows = [
            {
                "client_id": settings.X_OAUTH2_CLIENT_ID,
                "client_secret": settings.X_OAUTH2_CLIENT_SECRET,
                "name": "Twelp",
                "redirect_uris": [
                    settings.SITE_URL.rstrip("/") + "/x/callback/",
                    # Admin -> X account (inbox.views.x_account): a brand account connected
                    settings.SITE_URL.rstrip("/") + "/admin/x-account/callback/",
                ],
            }
        ]
    return {
        row["client_id"]: Client(
            row["client_id"],
            row.get("client_secret", ""),
            row.get("name", row["client_id"]),
            tuple(row.get("redirect_uris", ())),
        )
        for row in rows
        if row.get("client_id")
    }


# --- the authorize page ------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    client: Client
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    challenge: str
    method: str


class BadAuthorization(Exception):
    """Shown on the page itself: the client or its redirect_uri cannot be trusted."""


def parse_authorization(params) -> tuple[Authorization | None, str]:
    """(the request, "") or (None, the error to send back to redirect_uri). Raises
    BadAuthorization when there is no trustworthy redirect_uri to send it to."""
    client = clients().get(params.get("client_id", ""))
    if client is None:
        raise BadAuthorization("Something went wrong: this app's client_id is not known.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise BadAuthorization("Something went wrong: the callback URL is not one the app set.")
    scopes = tuple(params.get("scope", "").split())
    method = params.get("code_challenge_method", "plain")
    auth = Authorization(
        client, redirect_uri, scopes, params.get("state", ""),
        params.get("code_challenge", ""), method,
    )  # fmt: skip
    if params.get("response_type") != "code":
        return None, "unsupported_response_type"
    if not scopes or not set(scopes) <= SCOPES:
        return None, "invalid_scope"
    if not auth.challenge or method not in ("S256", "plain") or not auth.state:
        return None, "invalid_request"
    return auth, ""


def redirect_with(redirect_uri: str, **params: str) -> str:
    joiner = "&" if "?" in redirect_uri else "?"
    return redirect_uri + joiner + urlencode(params)


def issue_code(auth: Authorization, user_id: int) -> str:
    payload = {
        "c": auth.client.client_id,
        "r": auth.redirect_uri,
        "s": list(auth.scopes),
        "u": user_id,
        "ch": auth.challenge,
        "m": auth.method,
        "n": secrets.token_hex(8),
    }
    return signing.dumps(payload, salt=_SALT["code"], compress=True)


# --- the token endpoint ------------------------------------------------------------------


def authenticate_client(header: str, form) -> Client:
    """HTTP Basic for a confidential client; client_id in the form for a public one."""
    known = clients()
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Malformed client credentials.", 401) from None
        client = known.get(client_id)
        if client is None or not hmac.compare_digest(client.client_secret, secret):
            raise OAuthError("unauthorized_client", "Missing valid authorization header", 401)
        return client
    client = known.get(form.get("client_id", ""))
    if client is None:
        raise OAuthError("invalid_request", "Missing required parameter [client_id].")
    if client.client_secret:  # a confidential client must authenticate
        raise OAuthError("unauthorized_client", "Missing valid authorization header", 401)
    return client


def exchange(client: Client, form) -> dict[str, object]:
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        return _code_grant(client, form)
    if grant == "refresh_token":
        return _refresh_grant(client, form)
    raise OAuthError("invalid_request", "Value passed for the grant type was invalid.")


def _code_grant(client: Client, form) -> dict[str, object]:
    bad = OAuthError("invalid_request", "Value passed for the authorization code was invalid.")
    code = form.get("code", "")
    try:
        payload = signing.loads(code, salt=_SALT["code"], max_age=CODE_SECONDS)
    except signing.BadSignature:
        raise bad from None
    if payload["c"] != client.client_id or payload["r"] != form.get("redirect_uri", ""):
        raise bad
    if not _pkce_matches(payload["ch"], payload["m"], form.get("code_verifier", "")):
        raise OAuthError("invalid_request", "Value passed for the code verifier did not match.")
    if not _spend(code, CODE_SECONDS):
        raise bad  # a code works once
    return _tokens(client, payload["u"], payload["s"])


def _refresh_grant(client: Client, form) -> dict[str, object]:
    bad = OAuthError("invalid_request", "Value passed for the token was invalid.")
    token = form.get("refresh_token", "")
    try:
        payload = signing.loads(token, salt=_SALT["refresh"], max_age=REFRESH_SECONDS)
    except signing.BadSignature:
        raise bad from None
    if payload["c"] != client.client_id or _revoked(token) or not _spend(token, REFRESH_SECONDS):
        raise bad
    return _tokens(client, payload["u"], payload["s"])


def _pkce_matches(challenge: str, method: str, verifier: str) -> bool:
    if not 43 <= len(verifier) <= 128:
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return hmac.compare_digest(verifier, challenge)


def _spend(token: str, seconds: int) -> bool:
    key = "xsandbox:oauth2:spent:" + hashlib.sha256(token.encode()).hexdigest()
    return cache.add(key, 1, seconds)


def _tokens(client: Client, user_id: int, scopes: list[str]) -> dict[str, object]:
    base = {"c": client.client_id, "u": user_id, "s": scopes, "n": secrets.token_hex(8)}
    access = signing.dumps({**base, "e": int(time.time()) + ACCESS_SECONDS}, salt=_SALT["access"])
    answer: dict[str, object] = {
        "token_type": "bearer",
        "expires_in": ACCESS_SECONDS,
        "access_token": ACCESS_PREFIX + access,
        "scope": " ".join(scopes),
    }
    if "offline.access" in scopes:
        answer["refresh_token"] = signing.dumps(base, salt=_SALT["refresh"])
    return answer


def read_access_token(token: str) -> tuple[int, frozenset[str]] | None:
    """(user id, scopes) of a live user access token, else None."""
    if not token.startswith(ACCESS_PREFIX):
        return None
    try:
        payload = signing.loads(token[len(ACCESS_PREFIX) :], salt=_SALT["access"])
    except signing.BadSignature:
        return None
    if payload["e"] < time.time() or payload["c"] not in clients() or _revoked(token):
        return None
    return payload["u"], frozenset(payload["s"])


# --- revocation (POST /2/oauth2/revoke) --------------------------------------------------


def revoke(client: Client, token: str) -> None:
    """The token, access or refresh, answers no more (remembered until it would expire).
    A token of another client, or not one of ours, is X's invalid_request."""
    raw = token.removeprefix(ACCESS_PREFIX)
    salt = _SALT["access"] if token.startswith(ACCESS_PREFIX) else _SALT["refresh"]
    try:
        payload = signing.loads(raw, salt=salt)
    except signing.BadSignature:
        raise OAuthError("invalid_request", "Value passed for the token was invalid.") from None
    if payload["c"] != client.client_id:
        raise OAuthError("invalid_request", "Value passed for the token was invalid.")
    cache.set(_revoked_key(token), 1, REFRESH_SECONDS)


def _revoked_key(token: str) -> str:
    return "xsandbox:oauth2:revoked:" + hashlib.sha256(token.encode()).hexdigest()


def _revoked(token: str) -> bool:
    return cache.get(_revoked_key(token)) is not None
