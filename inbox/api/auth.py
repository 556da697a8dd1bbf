"""The API's bearer-token check (inbox.integrations.tokens) and its per-token throttle."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from inbox.api.problems import Problem
from inbox.integrations import tokens
from inbox.models import ApiToken
from inbox.views import throttle


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        try:
            row = tokens.authenticate(token.strip())
        except tokens.Refused as why:
            raise Problem(401, str(why)) from None
        wait = throttle.over_limit("api", f"token{row.id}")
        if wait is not None:
            raise Problem(
                429,
                f"More than {throttle.limit('api')} requests in a minute with this token. "
                f"Wait {wait} seconds.",
                retry_after=wait,
            )
        return row


def token_of(request: HttpRequest) -> ApiToken:
    return request.auth  # type: ignore[attr-defined, return-value]


def writer(request: HttpRequest) -> ApiToken:
    """The request's token, which must have the write scope (else 403)."""
    row = token_of(request)
    if row.scope != ApiToken.Scope.WRITE:
        raise Problem(403, "This API token may only read; notes and tags need a write token.")
    return row
