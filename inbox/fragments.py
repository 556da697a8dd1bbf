"""Rendered parts of the live pages, shared in Redis by every employee who asks for the
same version of them.

The queue's first page and the dashboard's figures are the same for every employee of a
brand (and role) at a given queue version (inbox.live: bumped after every transition and
ingest commits, with the minute appended so waiting times and SLA badges age). So they are
rendered once per version and kept in the cache, one entry per page and filter, stamped
with the version it shows: a request that finds the stamp equal to the current version
(read in the same round trip) costs the session, the login check, that one cache read and
a small render of the page around the parts.

Never stale: the version is read *before* the rows, so an entry stamped with a version is
never older than that version (a change committed meanwhile makes it newer). A write that
bypasses inbox.actions and bumps nothing is seen at the next minute at the latest, as the
204 refresh already does. Two renders of different versions racing to store only cost a
re-render: a reader checks the stamp.

Nothing per person may be inside a shared part: a template's `{% csrf_token %}` there is
rendered as a placeholder and replaced with the requester's token when served.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from inbox import live

# An entry is replaced as soon as the version moves; this only lets idle filters go.
SECONDS = 120
_CSRF = "csrf0shared0fragment0placeholder"

Context = Callable[[str], dict[str, object]]


def shared(
    request: HttpRequest,
    brand_id: int,
    name: tuple[object, ...],
    parts: tuple[str, ...],
    context: Context,
) -> tuple[str, dict[str, SafeString]]:
    """(version, {part: html}) of the named partials ("template#partial") for this brand,
    from the cache when stamped with the current version, else rendered and stored.
    `context(version)` is called only to render."""
    key = "fragment:" + ":".join(str(p) for p in (brand_id, *name))
    version, entry = live.label_with(brand_id, key)
    if isinstance(entry, tuple) and entry[0] == version:
        found = entry[1]
    else:
        values = context(version) | {"csrf_token": _CSRF}
        found = {part: render_to_string(part, values, request) for part in parts}
        cache.set(key, (version, found), SECONDS)
    return version, {part: _personal(request, html) for part, html in found.items()}


def render(
    request: HttpRequest, version: str, parts: tuple[str, ...], context: Context
) -> dict[str, SafeString]:
    """The same parts, rendered for this request only (nothing cached)."""
    values = context(version)
    return {part: mark_safe(render_to_string(part, values, request)) for part in parts}  # noqa: S308


def _personal(request: HttpRequest, html: str) -> SafeString:
    if _CSRF in html:
        html = html.replace(_CSRF, get_token(request))
    return mark_safe(html)  # noqa: S308 - our own templates' output, escaped when rendered
