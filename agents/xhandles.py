"""Checking an employee's X handle with X itself. The one place agents/ talks to the
gateway, so a change in the gateway's names is a change here only."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import NamedTuple

from django.core.cache import cache

from inbox.configure import credentials
from inbox.models import Brand
from twelp import xgateway

log = logging.getLogger(__name__)

# preview, then confirm: an import asks X once per handle, not twice.
_CACHE_SECONDS = 600


class XAccount(NamedTuple):
    id: int
    username: str  # as X spells it


class XUnavailable(Exception):
    """X could not answer (rate limit, outage): the handle is neither good nor bad yet."""


def look_up(handle: str, brand: Brand | None = None) -> XAccount | None:
    """The X account named `handle`, or None when X has no such (active) user.

    Asked with `brand`'s own X credentials (issue 16: a brand's employees are checked by
    its account, never with another brand's); without a brand (the first run, before
    there is one) with the deployment's. A brand that cannot call X says why (XUnavailable).
    Slow I/O: call it outside any transaction.
    """
    key = f"agents:xhandle:{brand.id if brand else 0}:{handle.lower()}"
    cached = cache.get(key)
    if cached is not None:
        return XAccount(*cached)
    try:
        with credentials.acting_for(brand) if brand is not None else nullcontext():
            user = xgateway.get_user_by_username(handle)
    except xgateway.RateLimited as error:
        raise XUnavailable(
            f"X is not answering handle checks until {error.reset_at:%H:%M} UTC; try again then."
        ) from error
    except xgateway.NotConnected as error:  # no credentials of its own: never another's
        raise XUnavailable(str(error)) from error
    except xgateway.XError as error:
        log.warning("X handle check for %r failed: %s", handle, error)
        raise XUnavailable(
            "X could not check the handle just now; try again in a minute."
        ) from error
    if user is None:
        return None
    account = XAccount(user.id, user.username)
    # Only found accounts are remembered: a handle registered a minute later must work.
    cache.set(key, tuple(account), _CACHE_SECONDS)
    return account
