"""The queue's rows, each rendered once per change of what it shows (issue 14).

A queue page (or the push process's render of it) after a change differs from the one
before by a row or two: the thread that was claimed, the mention that came. So each row
is kept under a key of everything it shows, and reused by every page, filter and push
stream of the brand, and by full page loads; anything it shows that changes makes a new
key, so a kept row is never stale:

- the digest PostgreSQL computes of every column of the thread, its customer, team and
  holder (inbox.queries.RowHead: the rows are read as heads first, and only the rows
  whose key is new are read whole and rendered);
- the page's grouping marks (`more_from`, `repeat`), the SLA state (breach, near: it
  moves with the clock and the brand's hours) and an offer to the thread's last answerer
  while it lasts ("Offered to Kim": inbox.models.offer_until);
- what the viewer's side changes: role (a supervisor's pick box), tab (its word), time
  zone, language, and the row template itself.

The labels that change with the clock every second (how long the customer has waited,
"due in 4 min 5 s") are not in a kept row: it holds a placeholder for each, filled in for
every page from the head's waiting time (a string replace). So a row is kept for minutes
instead of a second, and its labels are always the current ones.

Kept rows are looked up in this process first (a bounded table: rows are found by their
key, never by a thread, so no entry there can be stale), then in the cache (one round
trip for the page); entries outlive their use by SECONDS and are then dropped.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from typing import Any

from django import template
from django.core.cache import cache
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from inbox import queries
from inbox.models import offer_until
from inbox.rules import sla as sla_rules
from inbox.templatetags.supervision import sla_due, waited_at

register = template.Library()

ROW = "inbox/queue.html#row"
SECONDS = 300
LOCAL_ROWS = 4000  # rows this process keeps (about 2 kB each)
# What a kept row holds where its ageing labels go (no template output contains them).
WAITED = "qrow0waited0placeholder"
DUE = "qrow0due0placeholder"

_stamps: dict[int, str] = {}
_local: dict[str, str] = {}
_lock = threading.Lock()


@register.simple_tag(takes_context=True)
def queue_rows(context: template.Context, heads: Iterable[queries.RowHead]) -> SafeString:
    """Every row of `heads` (inbox.queries.RowHead), kept ones as they are, the others
    read whole, rendered in this context and kept; the ageing labels filled in."""
    heads = list(heads)
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
    rules = sla_rules.for_brand(brand)
    keys = [_key(brand.id, page, head, rules.state(head)) for head in heads]
    found = _kept(keys)
    missing = [head for head, key in zip(heads, keys, strict=True) if key not in found]
    by_id: dict[int, str] = {}
    if missing:
        by_id = _render(context, row, brand.id, page, rules, missing)
    out = []
    now, labels = timezone.now(), {}  # rows waiting since the same instant share a label
    for head, key in zip(heads, keys, strict=True):
        html = found.get(key) or by_id.get(head.id)
        if html is None:
            continue  # gone between the heads and the read (deleted): not shown
        label = labels.get(head.waiting_since)
        if label is None:
            label = labels[head.waiting_since] = escape(waited_at(head.waiting_since, now))
        html = html.replace(WAITED, label)
        if DUE in html:  # a row near its target: "due in 2 min 59 s"
            html = html.replace(DUE, escape(sla_due(head, brand)))
        out.append(html)
    return mark_safe("".join(out))  # noqa: S308 - our own template's output, escaped when rendered


def _render(
    context: template.Context,
    row: Any,
    brand_id: int,
    page: tuple[object, ...],
    rules: sla_rules.BrandSla,
    heads: list[queries.RowHead],
) -> dict[int, str]:
    """{thread id: row} for these heads, read whole now and kept under the key of what
    they show as read (a thread changed since its head is shown and kept as it is now)."""
    threads = queries.queue_threads(brand_id, [head.id for head in heads])
    fresh: dict[str, str] = {}
    out: dict[int, str] = {}
    for head in heads:
        thread = threads.get(head.id)
        if thread is None:
            continue
        thread.more_from, thread.repeat = head.more_from, head.repeat
        head.waiting_since = thread.waiting_since  # its labels, as the row shows it
        state = rules.state(thread)
        with context.push(thread=thread, sla=state, waited=WAITED, due=DUE):
            html = row.render(context)
        fresh[_key(brand_id, page, thread, state)] = out[head.id] = html
    if fresh:
        cache.set_many(fresh, SECONDS)
        _keep(fresh)
    return out


def _key(brand_id: int, page: tuple[object, ...], row: Any, state: str) -> str:
    """`row`: a head or a thread read whole (both carry the digest and the marks)."""
    shown = (page, row.digest, row.more_from, row.repeat, state, offer_until(row))
    digest = hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()
    return f"qrow:{brand_id}:{row.id}:{digest}"


def _kept(keys: list[str]) -> dict[str, str]:
    """The rows kept under `keys`: this process's first, then the cache's."""
    found = {}
    for key in keys:
        html = _local.get(key)
        if html is not None:
            found[key] = html
    if len(found) < len(keys):
        cached = cache.get_many([key for key in keys if key not in found])
        if cached:
            _keep(cached)
            found.update(cached)
    return found


def _keep(rows: dict[str, str]) -> None:
    with _lock:
        _local.update(rows)
        while len(_local) > LOCAL_ROWS:
            del _local[next(iter(_local))]  # the oldest first


def _stamp(row: Any) -> str:
    """The row template's source, digested once per process: a deploy that changes it
    never reuses a row kept by the one before."""
    stamp = _stamps.get(id(row))
    if stamp is None:
        stamp = _stamps[id(row)] = hashlib.blake2b(row.source.encode(), digest_size=8).hexdigest()
    return stamp
