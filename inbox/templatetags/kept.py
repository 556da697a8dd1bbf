"""`{% kept a b ... %}…{% endkept %}`: a part of a live page rendered once per value of
what it shows, and reused until that changes (issue 14: a changed page costs little to
render).

After a change the queue and the dashboard are rendered again, and most of what they show
did not move: the chart of the last 24 hours, the response-time windows, the table head,
the budgets. A part wrapped in `kept` is rendered once for each value of its arguments and
reused (a string) while they stay the same.

1. The key is a digest of the arguments' values in full: every field of a model instance
   (what it holds, annotations and related objects read with it included), every field
   of a dataclass, every item of a list or dict; with the active language, time zone,
   autoescaping, and the CSRF token where it may show one. A part whose arguments
   changed is rendered again, so it is never stale as long as:
2. the arguments name everything the part shows that can change. That is the template
   author's side of the contract: a value read inside that is not among them (the clock,
   a context variable, a field deferred by `.only()` and loaded inside) would be shown as
   first rendered. Tests render a kept part before
   and after each kind of change (tests/inbox/test_kept.py, the dashboard's and queue's).
3. A value whose fingerprint cannot be taken (a type not listed here) renders the part
   every time without keeping it: never stale, never an error.
4. Kept per process and per tag, at most LIMIT renders and CHARS characters each, the
   least recently used dropped first;
   nothing is shared between processes (a deploy starts empty, a new template is a new
   tag).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import uuid
import weakref
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django import template
from django.db.models import Model
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import IncludeNode
from django.utils import timezone, translation
from django.utils.functional import Promise

register = template.Library()

LIMIT = 2000  # renders kept per tag (a Team row per agent: 700 of them at Twelpforce scale)
CHARS = 2_000_000  # and at most this much text per tag
_PLAIN = (str, int, float, bool, type(None), Decimal, datetime, date, time, timedelta, uuid.UUID)
_DEPTH = 8


_nodes: weakref.WeakSet[KeptNode] = weakref.WeakSet()


def forget() -> None:
    """Drop every kept render of this process (tests compare a page with one rendered cold)."""
    for node in list(_nodes):
        with node.lock:
            node.renders.clear()
            node.chars = 0


class Unkept(Exception):
    """A value `shape` cannot read in full: the part is rendered, not kept."""


# The plain types themselves (not their subclasses): a value of one is its own shape,
# known without calling `shape` (most of a row's fields; the digest of each part of a
# page after a change is most of the kept parts' cost).
_EXACT = frozenset(_PLAIN)


def shape(value: Any, depth: int = 0) -> Any:
    """A plain structure (tuples of plain values) holding everything `value` can show:
    equal shapes, equal values (invariant 1)."""
    if isinstance(value, _PLAIN):
        return value
    if depth > _DEPTH:
        raise Unkept("nested too deep")
    depth += 1
    if isinstance(value, list | tuple):
        return tuple(item if type(item) in _EXACT else shape(item, depth) for item in value)
    if isinstance(value, dict):
        return (
            "{}",
            tuple(
                (
                    k if type(k) in _EXACT else shape(k, depth),
                    v if type(v) in _EXACT else shape(v, depth),
                )
                for k, v in value.items()
            ),
        )
    if isinstance(value, Model):
        own = tuple(
            (name, item if type(item) in _EXACT else shape(item, depth))
            for name, item in vars(value).items()  # in the order the ORM set them
            if name[0] != "_"  # _state (below), _prefetched_objects_cache
        )
        if getattr(value, "_prefetched_objects_cache", None):
            raise Unkept("prefetched relations")
        related = tuple(
            (name, shape(item, depth)) for name, item in sorted(value._state.fields_cache.items())
        )
        return (type(value).__qualname__, own, related)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = tuple(
            item if type(item) in _EXACT else shape(item, depth)
            for item in (getattr(value, f.name) for f in dataclasses.fields(value))
        )
        return (type(value).__qualname__, items)
    if isinstance(value, Promise):  # a lazy translation: as the active language says it
        return ("lazy", str(value))
    if isinstance(value, tzinfo):
        return ("tz", str(value))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(repr(shape(item, depth)) for item in value)))
    raise Unkept(type(value).__qualname__)


def digest(value: Any) -> str:
    return hashlib.blake2b(repr(shape(value)).encode(), digest_size=16).hexdigest()


class KeptNode(template.Node):
    def __init__(self, nodelist: template.NodeList, args: list[Any]) -> None:
        self.nodelist, self.args = nodelist, args
        self.renders: dict[str, str] = {}  # least recently used first
        self.chars = 0
        self.lock = threading.Lock()
        # A part that may show a CSRF token (its own, or an included template's) is kept
        # per token; a shared render's is a placeholder (inbox.live.fragments).
        self.csrf = bool(nodelist.get_nodes_by_type(CsrfTokenNode)) or bool(
            nodelist.get_nodes_by_type(IncludeNode)
        )
        _nodes.add(self)

    def render(self, context: template.Context) -> str:
        try:
            key = digest(
                (
                    translation.get_language(),
                    timezone.get_current_timezone_name(),
                    context.autoescape,
                    str(context.get("csrf_token", "")) if self.csrf else "",
                    [arg.resolve(context) for arg in self.args],
                )
            )
        except Unkept:
            return self.nodelist.render(context)
        with self.lock:
            html = self.renders.pop(key, None)
            if html is not None:
                self.renders[key] = html  # now the most recently used
                return html
        html = self.nodelist.render(context)
        with self.lock:
            if key not in self.renders:
                self.renders[key] = html
                self.chars += len(html)
            while self.renders and (len(self.renders) > LIMIT or self.chars > CHARS):
                self.chars -= len(self.renders.pop(next(iter(self.renders))))
        return html


@register.tag
def kept(parser: template.base.Parser, token: template.base.Token) -> KeptNode:
    """{% kept value ... %}…{% endkept %}: the values it shows that can change (module
    docstring, invariant 2)."""
    bits = token.split_contents()[1:]
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(nodelist, [parser.compile_filter(bit) for bit in bits])
