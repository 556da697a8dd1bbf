"""A small OpenID Connect provider: the company's identity provider, for the demo and tests.

It stands in for Okta, Entra ID or Keycloak the way the rest of the sandbox stands in for
X: Twelp reaches it only over HTTP, through mozilla-django-oidc (agents.sso).

- `GET /oidc/.well-known/openid-configuration`: the discovery document. The issuer is
  this server's own origin + `/oidc`.
- `GET|POST /oidc/authorize`: response_type=code, client_id, redirect_uri (one the client
  registered), scope with `openid`, state, nonce. The page is the company's sign-in: pick
  the employee (the directory below), tick "passed MFA" or not, Sign in or Cancel.
- `POST /oidc/token`: grant_type=authorization_code (code, redirect_uri) or refresh_token;
  the client authenticates with HTTP Basic or client_id + client_secret in the form. The
  answer carries an RS256-signed `id_token` (iss, sub, aud, exp, iat, nonce, auth_time,
  amr, name, email, employee_id), an access token and a refresh token.
- `GET /oidc/userinfo` with the access token; `GET /oidc/jwks`: the public key.
- `GET /oidc/end_session` (RP-initiated logout 1.0): id_token_hint (one this provider
  signed, expired or not), post_logout_redirect_uri (one the hint's client registered:
  by default its callback's origin + /login/), state. It ends the provider's session
  (4) and sends the person back; a hint it did not sign, or a redirect the client did not
  register, gets an error page and no redirect.

1. The RSA key is generated at first use and kept in the cache (Redis), shared by the
   sandbox's processes; it is never written to disk or committed.
2. Codes and tokens are signed (the sandbox's SECRET_KEY), carry who, which client and
   until when; a code works once and a refresh token works once (rotated).
3. A disabled employee (XSANDBOX_OIDC_USERS' "disabled", or `set_disabled`, which the
   operator endpoint /_sandbox/oidc/disable calls) gets no code, no tokens from a refresh,
   and a 401 from userinfo: what a real provider does for a leaver.
4. The provider's own session: a sign-in here remembers who, in the sandbox's session
   cookie (SESSION_SUB), and the sign-in page offers that person first; end_session
   forgets it. Twelp's sign-out ends it (agents.sso (6)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core import signing
from django.core.cache import cache

CODE_SECONDS = 60
ACCESS_SECONDS = 3600
ID_TOKEN_SECONDS = 3600
REFRESH_SECONDS = 30 * 86400
_KEY_CACHE = "xsandbox:oidc:rsa-key"
_SALT = {
    "code": "xsandbox.oidc.code",
    "access": "xsandbox.oidc.access",
    "refresh": "xsandbox.oidc.refresh",
}

# The company's directory in the demo: Twelp's demo employees (by their employee ids) and
# one new hire who is not in Twelp yet. (sub, name, e-mail's local part, employee id)
_DEMO = [
    ("acme-1001", "Jane Doe", "jane", "E-1001"),
    ("acme-1002", "John Dunn", "john", "E-1002"),
    ("acme-1003", "María García", "maria", "E-1003"),
    ("acme-2001", "Sam Supervisor", "sam", "E-2001"),
    ("acme-3001", "Alex Admin", "alex", "E-3001"),
    ("acme-1005", "Nina Newhire", "nina", "E-1005"),
]
DEMO_USERS = [
    {"sub": sub, "name": name, "email": f"{mail}@twelpdemo.example", "employee_id": employee_id}
    for sub, name, mail, employee_id in _DEMO
]


SESSION_SUB = "xsandbox-oidc-sub"  # (4)


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()


class OIDCError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class BadRequest(Exception):
    """Shown on the page itself: no trustworthy redirect_uri to send an error to."""


def issuer(request) -> str:
    return request.build_absolute_uri("/oidc")


def users() -> dict[str, dict]:
    raw = settings.XSANDBOX_OIDC_USERS
    rows = json.loads(raw) if isinstance(raw, str) and raw else raw or DEMO_USERS
    return {row["sub"]: row for row in rows}


def _disabled_key(sub: str) -> str:
    return f"xsandbox:oidc:disabled:{sub}"


def set_disabled(sub: str, disabled: bool) -> None:
    if disabled:
        cache.set(_disabled_key(sub), 1, None)
    else:
        cache.delete(_disabled_key(sub))


def active_user(sub: str) -> dict | None:
    user = users().get(sub)
    if user is None or user.get("disabled") or cache.get(_disabled_key(sub)):
        return None
    return user


def clients() -> dict[str, Client]:
    """settings.XSANDBOX_OIDC_CLIENTS (JSON list of {client_id, client_secret,
    redirect_uris}); by default Twelp's own (OIDC_RP_CLIENT_ID), calling back to SITE_URL."""
    raw = settings.XSANDBOX_OIDC_CLIENTS
    rows = json.loads(raw) if isinstance(raw, str) and raw else raw
    if not rows:
        rows = [
            {
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "client_secret": settings.OIDC_RP_CLIENT_SECRET,
                "redirect_uris": [settings.SITE_URL.rstrip("/") + "/oidc/callback/"],
            }
        ]
    return {
        row["client_id"]: Client(
            row["client_id"],
            row.get("client_secret", ""),
            tuple(row["redirect_uris"]),
            tuple(row.get("post_logout_redirect_uris") or _login_pages(row["redirect_uris"])),
        )
        for row in rows
        if row.get("client_id")
    }


def _login_pages(redirect_uris: list[str]) -> list[str]:
    """The default post-logout redirects: each callback's origin + /login/ (Twelp's)."""
    origins = {urlsplit(uri) for uri in redirect_uris}
    return sorted({f"{o.scheme}://{o.netloc}/login/" for o in origins if o.netloc})


# --- keys (1) ----------------------------------------------------------------------------


def _private_key() -> rsa.RSAPrivateKey:
    pem = cache.get(_KEY_CACHE)
    if pem is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        fresh = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        cache.add(_KEY_CACHE, fresh, None)  # the first process to store one wins
        pem = cache.get(_KEY_CACHE, fresh)
    return serialization.load_pem_private_key(pem.encode(), password=None)


def _kid(public_pem: bytes) -> str:
    return hashlib.sha256(public_pem).hexdigest()[:16]


def jwks() -> dict[str, list[dict]]:
    public = _private_key().public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    jwk |= {"kid": _kid(pem), "alg": "RS256", "use": "sig"}
    return {"keys": [jwk]}


def _sign(claims: dict) -> str:
    key = _private_key()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": _kid(pem)})


def discovery(request) -> dict[str, object]:
    base = issuer(request)
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/jwks",
        "end_session_endpoint": f"{base}/end_session",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "claims_supported": ["sub", "name", "email", "employee_id", "amr", "auth_time"],
    }


# --- authorize ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    client: Client
    redirect_uri: str
    state: str
    nonce: str


def parse_authorization(params) -> tuple[Authorization | None, str]:
    client = clients().get(params.get("client_id", ""))
    if client is None:
        raise BadRequest("This application's client_id is not known to the company sign-in.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise BadRequest("The callback URL is not one this application registered.")
    auth = Authorization(client, redirect_uri, params.get("state", ""), params.get("nonce", ""))
    if params.get("response_type") != "code":
        return None, "unsupported_response_type"
    if "openid" not in params.get("scope", "").split():
        return None, "invalid_scope"
    return auth, ""


def redirect_with(redirect_uri: str, **params: str) -> str:
    joiner = "&" if "?" in redirect_uri else "?"
    return redirect_uri + joiner + urlencode(params)


def issue_code(auth: Authorization, sub: str, *, mfa: bool) -> str:
    payload = {
        "c": auth.client.client_id,
        "r": auth.redirect_uri,
        "u": sub,
        "n": auth.nonce,
        "mfa": mfa,
        "t": int(time.time()),
        "j": secrets.token_hex(8),
    }
    return signing.dumps(payload, salt=_SALT["code"], compress=True)


# --- end_session (RP-initiated logout) --------------------------------------------------


def end_session(request, params) -> str:
    """The checked post_logout_redirect_uri (with state), or "" when none was asked; the
    provider's session is ended either way (4). BadRequest: the hint or the URI is not
    acceptable (shown on the page, no redirect)."""
    hint = params.get("id_token_hint", "")
    claims = _hinted(request, hint) if hint else None
    target = params.get("post_logout_redirect_uri", "")
    client = clients().get(str(claims.get("aud", ""))) if claims is not None else None
    if client is not None and params.get("client_id", client.client_id) != client.client_id:
        raise BadRequest("The id_token_hint was issued to another application.")
    if target and client is None:
        raise BadRequest("A post-logout redirect needs an id_token_hint from this provider.")
    if target and target not in client.post_logout_redirect_uris:
        raise BadRequest("That post-logout redirect is not one this application registered.")
    request.session.pop(SESSION_SUB, None)
    state = params.get("state", "")
    if not target:
        return ""
    return redirect_with(target, state=state) if state else target


def _hinted(request, hint: str) -> dict:
    """An id_token this provider signed (an expired one is still a hint, as the spec says)."""
    try:
        return jwt.decode(
            hint,
            _private_key().public_key(),
            algorithms=["RS256"],
            issuer=issuer(request),
            options={"verify_exp": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        raise BadRequest("The id_token_hint was not issued by this provider.") from None


# --- token and userinfo ------------------------------------------------------------------


def authenticate_client(header: str, form) -> Client:
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OIDCError("invalid_client", "Malformed client credentials.", 401) from None
    client = clients().get(client_id)
    if client is None or not hmac.compare_digest(client.client_secret.encode(), secret.encode()):
        raise OIDCError("invalid_client", "Client authentication failed.", 401)
    return client


def exchange(request, client: Client, form) -> dict[str, object]:
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        payload = _load(form.get("code", ""), "code", CODE_SECONDS)
        if payload["c"] != client.client_id or payload["r"] != form.get("redirect_uri", ""):
            raise OIDCError("invalid_grant", "The code was not issued to this client or URL.")
        if not _spend(form["code"], CODE_SECONDS):
            raise OIDCError("invalid_grant", "The code was used already.")
    elif grant == "refresh_token":
        payload = _load(form.get("refresh_token", ""), "refresh", REFRESH_SECONDS)
        if payload["c"] != client.client_id or not _spend(form["refresh_token"], REFRESH_SECONDS):
            raise OIDCError("invalid_grant", "The refresh token is not valid.")
    else:
        raise OIDCError("unsupported_grant_type", "Use authorization_code or refresh_token.")
    user = active_user(payload["u"])
    if user is None:  # (3)
        raise OIDCError("invalid_grant", "The account is disabled.")
    return _tokens(request, client, user, payload)


def _load(token: str, kind: str, max_age: int) -> dict:
    try:
        return signing.loads(token, salt=_SALT[kind], max_age=max_age)
    except signing.BadSignature:
        raise OIDCError("invalid_grant", f"The {kind} is not valid.") from None


def _spend(token: str, seconds: int) -> bool:
    return cache.add(
        "xsandbox:oidc:spent:" + hashlib.sha256(token.encode()).hexdigest(), 1, seconds
    )


def _tokens(request, client: Client, user: dict, payload: dict) -> dict[str, object]:
    now = int(time.time())
    base = {"c": client.client_id, "u": user["sub"], "mfa": payload["mfa"], "t": payload["t"]}
    id_claims = {
        "iss": issuer(request),
        "sub": user["sub"],
        "aud": client.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_SECONDS,
        "auth_time": payload["t"],
        "amr": ["pwd", "mfa", "otp"] if payload["mfa"] else ["pwd"],
        **_profile(user),
    }
    if payload.get("n"):
        id_claims["nonce"] = payload["n"]
    access = {**base, "e": now + ACCESS_SECONDS, "j": secrets.token_hex(8)}
    return {
        "token_type": "Bearer",
        "expires_in": ACCESS_SECONDS,
        "access_token": signing.dumps(access, salt=_SALT["access"]),
        "refresh_token": signing.dumps({**base, "j": secrets.token_hex(8)}, salt=_SALT["refresh"]),
        "id_token": _sign(id_claims),
    }


def _profile(user: dict) -> dict[str, str]:
    claims = {"name": user["name"], "email": user["email"]}
    if user.get("employee_id"):
        claims["employee_id"] = user["employee_id"]
    return claims


def userinfo(access_token: str) -> dict[str, str] | None:
    """The claims for a live access token of an active employee, else None (a 401)."""
    try:
        payload = signing.loads(access_token, salt=_SALT["access"])
    except signing.BadSignature:
        return None
    user = active_user(payload["u"]) if payload["e"] >= time.time() else None
    return None if user is None else {"sub": user["sub"], **_profile(user)}
