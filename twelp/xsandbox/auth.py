"""Who is calling: an app alone (Bearer token) or a user through an app (OAuth 1.0a).

OAuth 1.0a is checked as X checks it: the consumer key names an app, `oauth_token` names
the user, the timestamp is recent, and the HMAC-SHA1 signature over method, URL and
parameters must match the app's and the user's secrets (oauthlib computes it, the same
library tweepy signs with). Nonces are not remembered, so a replay within the
timestamp window is accepted: the one simplification.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils

from twelp.xsandbox.models import Account, App

TIMESTAMP_TOLERANCE = 15 * 60  # seconds either side of now


class AuthFailed(Exception):
    """401: no credentials, unknown ones, or a bad signature."""


@dataclass(frozen=True)
class Caller:
    app: App
    user: Account | None  # None: app-only (Bearer); reads only, no user to act as
    # An OAuth 2.0 user token's scopes (twelp.xsandbox.oauth2); None: OAuth 1.0a, all.
    scopes: frozenset[str] | None = None

    def may(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


def authenticate(request: HttpRequest) -> Caller:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return _bearer(header.removeprefix("Bearer ").strip())
    if header[:6].lower() == "oauth ":
        return _oauth1(request, header)
    raise AuthFailed("no credentials")


def _bearer(token: str) -> Caller:
    from twelp.xsandbox import oauth2

    user_token = oauth2.read_access_token(token)
    if user_token is not None:  # OAuth 2.0 user context: the app is the sandbox's one app
        user_id, scopes = user_token
        user, app = Account.objects.filter(pk=user_id).first(), App.objects.order_by("id").first()
        if user is None or app is None:
            raise AuthFailed("unknown user token")
        return Caller(app=app, user=user, scopes=scopes)
    app = App.objects.filter(bearer_token=token).first() if token else None
    if app is None:
        raise AuthFailed("unknown bearer token")
    return Caller(app=app, user=None)


def _oauth1(request: HttpRequest, header: str) -> Caller:
    try:
        oauth = dict(utils.parse_authorization_header(header))
    except ValueError:
        raise AuthFailed("malformed OAuth header") from None
    app = App.objects.filter(
        consumer_key=utils.unescape(oauth.get("oauth_consumer_key", ""))
    ).first()
    user = Account.objects.filter(access_token=utils.unescape(oauth.get("oauth_token", ""))).first()
    if app is None or user is None:
        raise AuthFailed("unknown consumer key or access token")
    if oauth.get("oauth_signature_method") != "HMAC-SHA1":
        raise AuthFailed("unsupported signature method")
    if not _recent(oauth.get("oauth_timestamp", "")):
        raise AuthFailed("timestamp out of bounds")
    if not _signature_matches(request, header, app, user):
        raise AuthFailed("bad signature")
    return Caller(app=app, user=user)


def _recent(stamp: str) -> bool:
    return stamp.isdigit() and abs(int(stamp) - time.time()) <= TIMESTAMP_TOLERANCE


def _signature_matches(request: HttpRequest, header: str, app: App, user: Account) -> bool:
    # Form bodies are signed too (RFC 5849 3.4.1.3.1); JSON bodies, which X takes, are not.
    is_form = request.content_type == "application/x-www-form-urlencoded"
    body = urlencode(list(request.POST.lists()), doseq=True) if is_form else None
    headers = {"Authorization": header}
    query = request.META.get("QUERY_STRING", "")
    oauth_request = OAuthRequest(request.build_absolute_uri(request.path), request.method)
    oauth_request.params = signature.collect_parameters(uri_query=query, body=body, headers=headers)
    all_params = signature.collect_parameters(
        uri_query=query, body=body, headers=headers, exclude_oauth_signature=False
    )
    oauth_request.signature = dict(all_params).get("oauth_signature", "")
    return signature.verify_hmac_sha1(oauth_request, app.consumer_secret, user.access_token_secret)
