"""The first run: from an empty database to a brand with its first admin, without
`createsuperuser` or the Django admin.

`manage.py bootstrap` prints a one-time setup link; the page behind it creates the brand
(its handle checked with X), its mentions and DM sources, and the first admin, and logs
them in. Why a link from the command rather than a setup page open while no admin exists:
a fresh deployment is reachable by anyone before its operator gets to it (scanners find
new hosts within minutes), and an open page would hand the brand to whoever came first.
Running the command needs a shell on the server, which is the operator's proof already.

1. The link's token is random (256 bits); only its SHA-256 is kept (in the cache, i.e.
   Redis), for LINK_SECONDS.
2. It works once: the setup deletes it in the transaction's on-commit, and the page
   refuses any token while the brand named has an active admin (agents.actions.
   do_set_up_brand checks that under the roster lock).
"""

from __future__ import annotations

import hashlib
import secrets

from django.core.cache import cache

LINK_SECONDS = 3600


def _key(token: str) -> str:
    return "agents:setup:" + hashlib.sha256(token.encode()).hexdigest()


def new_link_token() -> str:
    token = secrets.token_urlsafe(32)
    cache.set(_key(token), 1, LINK_SECONDS)
    return token


def is_valid(token: str) -> bool:
    return bool(token) and len(token) < 100 and cache.get(_key(token)) is not None


def spend(token: str) -> None:
    cache.delete(_key(token))
