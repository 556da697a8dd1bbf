"""Rendered parts of the live pages, shared in Redis by every employee who asks for the
same version of them.

The queue's first page and the dashboard's figures are the same for every employee of a
brand (and role) at a given queue version (inbox.live.version: bumped after every transition and
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

Each entry is of one language (issue 21): the key names the language active when it is
rendered or read (the employee's, twelp.i18n), so a Spanish employee never gets an English
render, nor the reverse.

Nothing per person may be inside a shared part: a template's `{% csrf_token %}` there is
rendered as a placeholder and replaced with the requester's token when served.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from agents import brands
from inbox.live import version

if TYPE_CHECKING:
    from agents.access import AgentRequest
    from agents.models import Agent

# An entry is replaced as soon as the version moves; this only lets idle filters go.
SECONDS = 120
_CSRF = "csrf0shared0fragment0placeholder"
_SLOT = "shared0fragment0slot0{}0placeholder"
_SLOTS = re.compile(_SLOT.format("([a-z_]+)"))

Context = Callable[[str], dict[str, object]]


def shared(
    request: HttpRequest,
    brand_id: int,
    name: tuple[object, ...],
    parts: tuple[str, ...],
    context: Context,
) -> dict[str, SafeString]:
    """{part: html} of the named partials ("template#partial") for this brand, from the
    cache when stamped with the current version, else rendered and stored.
    `context(version)` is called only to render."""
    found = shared_unpersonal(request, brand_id, name, parts, context)
    return {part: _personal(request, html) for part, html in found.items()}


def shared_unpersonal(
    request: HttpRequest,
    brand_id: int,
    name: tuple[object, ...],
    parts: tuple[str, ...],
    context: Context,
) -> dict[str, str]:
    """As `shared`, with the CSRF placeholder left in: the push process (inbox.live.hub)
    sends one render to many connections, each filling in its own token (`with_token`)."""
    key = _key(brand_id, name)
    label, entry = version.label_with(brand_id, key)
    return _parts(request, key, label, entry, parts, context)


_CSRF_BYTES = _CSRF.encode()


def with_token(html: bytes, token: str) -> bytes:
    """A shared part, encoded, with the CSRF placeholder replaced by `token` (the push
    process encodes each message once for all its streams: inbox.live.hub)."""
    return html.replace(_CSRF_BYTES, token.encode()) if _CSRF_BYTES in html else html


def page(
    request: AgentRequest,
    brand_id: int,
    name: tuple[object, ...],
    slots: dict[str, str],
    context: Context,
    template: str,
) -> HttpResponse:
    """The whole page `template`, its `slots` ({context variable: part}) filled with the
    shared parts. The page around them (top bar, headings, forms) is the requester's own:
    it is kept too, per employee, stamped with what it shows of them (name, role, brand)
    and the minute, so it is rendered again when they change and at least once a minute.
    Flash messages waiting are put in the kept frame's slot for them (shown once)."""
    key, frame_key = (
        _key(brand_id, name),
        f"frame:{template}:{request.agent.id}:{translation.get_language()}",
    )
    # The top bar's brand switcher (issue 16) lists the employee's brands: that cached list
    # comes in the same round trip and is part of the stamp (forgotten: rendered anew).
    label, entry, framed, cached_brands = version.label_with(
        brand_id, key, frame_key, brands.key(request.agent.id)
    )
    found = _parts(request, key, label, entry, tuple(slots.values()), context)
    stamp = (*_stamp(request.agent), brands.rows(request.agent, cached_brands))
    if isinstance(framed, tuple) and framed[0] == stamp:
        html = framed[1]
    else:
        holes = {var: _SLOT.format(var) for var in (*slots, FLASH)} | {"csrf_token": _CSRF}
        # The top bar's unread count is not in the kept frame (it would go stale, and cost
        # a query on this hot path): the page fills it in from the push or a poll (ui.js).
        holes["notices_deferred"] = True
        html = render_to_string(template, holes, request)
        cache.set(frame_key, (stamp, html), SECONDS)
    # Flash messages (a page after a form: "Closed.") are the requester's, shown once: the
    # frame has a slot for them (base.html#flash), filled here, empty when there are none.
    filled = {var: found[part] for var, part in slots.items()}
    filled[FLASH] = _flash(request)
    # One pass over the frame: what is put in is never searched for slots again.
    html = _SLOTS.sub(lambda m: filled[m.group(1)], html)
    return HttpResponse(_personal(request, html))


FLASH = "flash"  # base.html's slot for the flash messages


def _flash(request: HttpRequest) -> str:
    """The requester's flash messages as base.html shows them, or "" (none waiting).
    Rendering them marks them read, as a whole page's render does."""
    if not len(get_messages(request)):
        return ""
    return render_to_string("base.html#flash", None, request)


def live_page(
    request: AgentRequest,
    name: tuple[object, ...],
    slots: dict[str, str],
    context: Context,
    template: str,
) -> HttpResponse:
    """A live page of the agent's brand (the queue, the dashboard): the whole page with
    its `slots` shared (`page`), or for htmx's refresh the "live" slot alone (`shared`,
    with every slot, as one cache entry holds them all). The brand is remembered in the
    session, so the next refresh carrying this version is answered 204 from Redis
    (`unchanged_from_redis`)."""
    brand_id = request.agent.brand_id
    remember_brand(request)
    if request.htmx:
        parts = shared(request, brand_id, name, tuple(slots.values()), context)
        return HttpResponse(parts[slots["live"]])
    return page(request, brand_id, name, slots, context, template)


def remember_brand(request: AgentRequest) -> None:
    """What `unchanged_from_redis` reads, before any login check, instead of the agent."""
    if request.session.get("brand_id") != request.agent.brand_id:
        request.session["brand_id"] = request.agent.brand_id


def request_for(agent: Agent) -> HttpRequest:
    """A request standing for `agent`'s, to render shared parts outside one (the push
    process, inbox.live.hub): the parts' templates read request.agent and request.user."""
    request = HttpRequest()
    request.agent = agent  # type: ignore[attr-defined]
    request.user = agent.user
    return request


def render_parts(
    request: HttpRequest, version: str, parts: tuple[str, ...], context: Context
) -> dict[str, SafeString]:
    """The same parts, rendered for this request only (nothing cached)."""
    values = context(version)
    return {part: mark_safe(render_to_string(part, values, request)) for part in parts}  # noqa: S308


def _key(brand_id: int, name: tuple[object, ...]) -> str:
    # One entry per language (issue 21): a Spanish page never gets an English render.
    return "fragment:" + ":".join(str(p) for p in (brand_id, translation.get_language(), *name))


def _parts(
    request: HttpRequest,
    key: str,
    version: str,
    entry: object,
    parts: tuple[str, ...],
    context: Context,
) -> dict[str, str]:
    if isinstance(entry, tuple) and entry[0] == version:
        return entry[1]
    values = context(version) | {"csrf_token": _CSRF}
    # Shared by the whole brand: its times in the brand's zone, never the requester's own.
    with timezone.override(_brand_zone(request)):
        found = {part: render_to_string(part, values, request) for part in parts}
    cache.set(key, (version, found), SECONDS)
    return found


def _brand_zone(request: HttpRequest) -> object:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    agent = getattr(request, "agent", None)
    try:
        return ZoneInfo(agent.brand.timezone or "UTC") if agent is not None else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _stamp(agent: Agent) -> tuple[object, ...]:
    """What the page around the parts shows of its employee (with their time zone and
    language, issue 21, and whether work comes to them, issue 15), and the minute."""
    user, brand = agent.user, agent.brand
    return (
        f"{timezone.now():%Y%m%d%H%M}",
        agent.time_zone,
        translation.get_language(),
        agent.role,
        agent.state,
        agent.name,
        agent.credit_code,
        agent.initials,
        user.username,
        user.get_full_name(),
        brand.id,  # the switcher's selected brand (issue 16)
        brand.name,
        brand.handle,
        agent.available_since is not None,  # the queue's Available / Go away (issue 15)
        agent.available_once,  # in line for one (inbox.routing.assign 4.)
    )


def render_personal(
    request: HttpRequest, template: str, context: dict[str, object]
) -> HttpResponse:
    """`render(request, template, context)` with the CSRF token put in after the render:
    the page's kept parts (inbox.templatetags.kept) that hold a form are then the same for
    every request, not one per token (the thread page)."""
    html = render_to_string(template, context | {"csrf_token": _CSRF}, request)
    return HttpResponse(_personal(request, html))


def _personal(request: HttpRequest, html: str) -> SafeString:
    if _CSRF in html:
        html = html.replace(_CSRF, get_token(request))
    return mark_safe(html)  # noqa: S308 - our own templates' output, escaped when rendered


def live_version(brand_id: int) -> str:
    # The minute is part of the version so "waiting 5 min" labels refresh while idle.
    return version.label(version.current(brand_id))


def unchanged_from_redis(view):
    """A live refresh carrying the current version gets 204 from Redis alone.

    Only the session (in Redis) and the queue version (in Redis) are read: no PostgreSQL.
    A session holds a brand id only once the queue was served to a logged-in agent, and the
    answer reveals nothing, so this may run before the login check.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        have = request.GET.get("v")
        brand_id = request.session.get("brand_id") if have else None
        if brand_id and have == live_version(brand_id):
            return HttpResponse(status=204)
        return view(request, *args, **kwargs)

    return wrapper
