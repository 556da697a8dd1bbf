"""Ending a user's sessions. Sessions live in Redis (the cache backend), which cannot be
searched by user, so each login notes its session key under the user; `end_sessions`
deletes them. A leaver is logged out everywhere at once, not when their cookie expires.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.http import HttpRequest

MAX_SESSIONS = 50  # per user; the oldest are forgotten (they expire on their own anyway)


def _key(user_id: int) -> str:
    return f"agents:sessions:{user_id}"


def remember_session(sender: object, request: HttpRequest, user: object, **_: object) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key is None:
        return
    # Read-modify-write: two logins of one user in the same millisecond may drop a key;
    # that session still dies on its next request (the user is inactive, see access.py).
    keys = [k for k in cache.get(_key(user.pk), []) if k != session_key]  # type: ignore[attr-defined]
    keys.append(session_key)
    cache.set(_key(user.pk), keys[-MAX_SESSIONS:], settings.SESSION_COOKIE_AGE)  # type: ignore[attr-defined]


def end_sessions(user_id: int, *, keep: str | None = None) -> int:
    """Delete every session `user_id` logged in with (but `keep`); the number deleted."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = cache.get(_key(user_id), [])
    ended = [k for k in keys if k != keep]
    for session_key in ended:
        store(session_key=session_key).delete()
    if keep in keys:
        cache.set(_key(user_id), [keep], settings.SESSION_COOKIE_AGE)
    else:
        cache.delete(_key(user_id))
    return len(ended)


def forget_live_brand(user_id: int) -> None:
    """Issue 16: every session of theirs forgets the brand its live queue was served for
    (inbox.live.fragments.remember_brand), so another device's refresh after a brand
    switch is never answered "unchanged" (204) for the brand they left."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session_key in cache.get(_key(user_id), []):
        session = store(session_key=session_key)
        if session.pop("brand_id", None) is not None:
            session.save()


def connect() -> None:
    user_logged_in.connect(remember_session, dispatch_uid="agents.remember_session")
