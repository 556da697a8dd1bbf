"""The queue's rows, each rendered once per change of what it shows (issue 14).

A queue page (or the push process's render of it) after a change differs from the one
before by a row or two: the thread that was claimed, the mention that came. Rendering
every row again was most of the cost of a changed queue page (`python -m bench.requests`).
So each row is kept in the cache under a digest of everything it shows: the thread's,
customer's, holder's and team's fields as read, the page's grouping marks (`more_from`,
`repeat`), the labels that age with the clock (waited, SLA state and countdown, an offer
to its last answerer that ends), and what
the viewer's side changes (role, tab, time zone, language, the row template itself). A
row whose digest is unchanged is reused, by every page, filter and push stream of the
brand, and by full page loads; anything it shows that changes makes a new digest, so a
kept row is never stale. Entries outlive their use by SECONDS and are then dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django import template
from django.core.cache import cache
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from inbox.templatetags.supervision import sla_due, sla_state, waited

register = template.Library()

ROW = "inbox/queue.html#row"
SECONDS = 300
_stamps: dict[int, str] = {}


@register.simple_tag(takes_context=True)
def queue_rows(context: template.Context, threads: Iterable[Any]) -> SafeString:
    """Every row of `threads`, from the cache where kept (one round trip for the page),
    the others rendered in this context and kept."""
    threads = list(threads)
    agent = context["request"].agent
    brand = agent.brand
    row = get_template(ROW).template
    page = (
        _stamp(row),
        agent.is_supervisor,
        context.get("status"),
        timezone.get_current_timezone_name(),
        translation.get_language(),
    )
    keys = [_key(brand, page, thread) for thread in threads]
    kept = cache.get_many(keys)
    fresh: dict[str, str] = {}
    out = []
    for key, thread in zip(keys, threads, strict=True):
        html = kept.get(key)
        if html is None:
            with context.push(thread=thread):
                html = fresh[key] = row.render(context)
        out.append(html)
    if fresh:
        cache.set_many(fresh, SECONDS)
    return mark_safe("".join(out))  # noqa: S308 - our own template's output, escaped when rendered


def _key(brand: Any, page: tuple[object, ...], thread: Any) -> str:
    shown = (
        page,
        _fields(thread),
        _fields(thread.customer),
        _fields(thread.claimed_by) if thread.claimed_by_id else None,
        _fields(thread.team) if thread.team_id else None,
        _fields(thread.offered_to) if thread.offered_now else None,  # ends with the offer
        waited(thread.waiting_since),
        sla_state(thread, brand),
        sla_due(thread, brand),
    )
    digest = hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()
    return f"qrow:{brand.id}:{thread.id}:{digest}"


def _fields(obj: Any) -> tuple[tuple[str, object], ...]:
    """An object's attributes as read (fields, annotations, marks set by the view)."""
    return tuple(sorted((k, v) for k, v in vars(obj).items() if not k.startswith("_")))


def _stamp(row: Any) -> str:
    """The row template's source, digested once per process: a deploy that changes it
    never reuses a row kept by the one before."""
    stamp = _stamps.get(id(row))
    if stamp is None:
        stamp = _stamps[id(row)] = hashlib.blake2b(row.source.encode(), digest_size=8).hexdigest()
    return stamp
