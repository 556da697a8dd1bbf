"""API tokens: created and revoked by the brand's admins, checked on every API request.

1. A token is `twl_` + 43 URL-safe characters (32 random bytes). Only its SHA-256 is
   stored; the admin sees the token once, on creation. A database leak gives no token.
2. A token belongs to one brand: every API read and write is filtered by it; DM threads
   only when the token was made with `dms` (list, read, search, events, notes, tags).
3. A token acts with its creator's authority: when the creator is no longer an active
   admin of the brand, the token stops working (as if revoked), so a leaver's tokens die
   with their account.
4. Revoked or expired is final; `authenticate` says which, so the caller's 401 can too.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ActionError
from inbox.models import ApiToken, Verb

if TYPE_CHECKING:
    from agents.models import Agent

PREFIX = "twl_"
# last_used_at is written at most this often per token: not one UPDATE per request.
TOUCH_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Created:
    row: ApiToken
    token: str  # shown once


@transaction.atomic(durable=True)
def create_token(
    *,
    actor: Agent,
    name: str,
    scope: str,
    expires_in_days: int | None = None,
    dms: bool = False,
) -> Created:
    """An admin makes a token for their brand."""
    if not actor.is_admin:
        raise ActionError(_("Only admins can create API tokens."))
    name = name.strip()
    if not name:
        raise ActionError(_("Name the token after the system that will use it."))
    if scope not in ApiToken.Scope.values:
        raise ActionError(_("Choose a scope: read, or write (notes and tags)."))
    token = PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    row = ApiToken.objects.create(
        brand_id=actor.brand_id,
        name=name[:100],
        scope=scope,
        dms=dms,
        digest=digest(token),
        hint=token[: len(PREFIX) + 6],
        created_by=actor,
        expires_at=expires_at,
    )
    events.record(
        Verb.API_TOKEN_CREATED, brand_id=actor.brand_id, actor=actor, token=row.id, name=row.name
    )
    return Created(row, token)


@transaction.atomic(durable=True)
def revoke_token(token_id: int, *, actor: Agent) -> ApiToken:
    """Revoked at once: the next request with it gets 401. Revoking twice changes nothing."""
    if not actor.is_admin:
        raise ActionError(_("Only admins can revoke API tokens."))
    row = ApiToken.objects.select_for_update().get(id=token_id, brand_id=actor.brand_id)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.revoked_by = actor
        row.save(update_fields=["revoked_at", "revoked_by"])
        events.record(
            Verb.API_TOKEN_REVOKED, brand_id=row.brand_id, actor=actor, token=row.id, name=row.name
        )
    return row


class Refused(Exception):
    """Why a presented token is refused, in words for the 401's problem body."""


def authenticate(presented: str, now: datetime | None = None) -> ApiToken:
    """The live token row for `presented` (creator loaded), else Refused saying why."""
    now = now or timezone.now()
    if not presented.startswith(PREFIX):
        raise Refused("This is not a Twelp API token.")
    row = (
        ApiToken.objects.select_related("created_by", "brand")
        .filter(digest=digest(presented))
        .first()
    )
    if row is None:
        raise Refused("Unknown API token.")
    if row.revoked_at is not None:
        raise Refused("This API token was revoked.")
    if row.expires_at is not None and row.expires_at <= now:
        raise Refused("This API token has expired.")
    creator = row.created_by
    if not (creator.is_admin and creator.brand_id == row.brand_id):
        raise Refused("The admin who created this API token no longer has that role.")
    if row.last_used_at is None or row.last_used_at < now - TOUCH_EVERY:
        ApiToken.objects.filter(id=row.id).update(last_used_at=now)
    return row


def tokens_of(brand_id: int) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(brand_id=brand_id)
        .select_related("created_by", "revoked_by")
        .order_by("-created_at")[:200]
    )
