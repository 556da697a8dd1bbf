"""`{% url %}` with each URL shape reversed once per process (issue 14: the thread page
renders ~25 of them, base.html's top bar ~15 more, and Django's `reverse` resolves the
namespace, walks the candidates and checks the result against the pattern's regex every
time: ~13 % of the thread page's view in cProfile).

A builtin of the template engine (settings.TEMPLATES' "builtins"), so it replaces Django's
`url` tag in every template: same syntax, same output, same errors.

1. A URL is keyed by what `reverse` reads besides the arguments (the resolver, the script
   prefix, the current app, the view name) and by its arguments' shape: each argument
   that is a non-negative int stands as a hole, any other str is part of the key as it is.
2. The first time a key is seen, the URL is reversed with a marker in each hole (integers
   no id reaches), split at the markers, and checked: a second reverse with other
   integers must equal the split URL filled with them. A pattern whose converter does
   not write an int as its digits, or refuses some ints, fails the check and that key
   is reversed by Django every time (so is any call with another kind of argument).
3. A call fills the holes with the arguments' digits: what `reverse` would have written.
4. At most LIMIT keys per process (the str arguments are in them); past that the cache
   starts again empty. A new resolver (tests overriding ROOT_URLCONF) is a new key.
"""

from __future__ import annotations

import threading
from typing import Any

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()

LIMIT = 10_000
HOLE = object()  # an int argument's place in a key
MARKERS = (8_734_000_001, 8_734_000_002, 8_734_000_003, 8_734_000_004)
CHECK = (7, 20, 305, 4096)  # the second reverse's integers (invariant 2)
UNCACHEABLE = object()

_shapes: dict[tuple[Any, ...], Any] = {}  # key -> (pieces, hole order) or UNCACHEABLE
_lock = threading.Lock()


def _is_hole(value: object) -> bool:
    return type(value) is int and value >= 0


def cached_reverse(
    view_name: str, args: list[Any], kwargs: dict[str, Any], current_app: str | None
) -> str:
    """What `reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)`
    returns (module docstring)."""
    items = [*args, *kwargs.values()]
    if not isinstance(view_name, str) or len([v for v in items if _is_hole(v)]) > len(MARKERS):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    if any(not _is_hole(v) and type(v) is not str for v in items):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    key = (
        get_resolver(get_urlconf()),
        get_script_prefix(),
        current_app,
        view_name,
        tuple(HOLE if _is_hole(v) else v for v in args),
        tuple((k, HOLE if _is_hole(v) else v) for k, v in kwargs.items()),
    )
    shape = _shapes.get(key)
    if shape is None:
        shape = _prepare(view_name, args, kwargs, current_app)
        with _lock:
            if len(_shapes) >= LIMIT:
                _shapes.clear()
            _shapes[key] = shape
    if shape is UNCACHEABLE:
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    pieces = shape
    holes = [str(v) for v in items if _is_hole(v)]
    out = [pieces[0]]
    for hole, piece in zip(holes, pieces[1:], strict=True):
        out.append(hole)
        out.append(piece)
    return "".join(out)


def _prepare(
    view_name: str, args: list[Any], kwargs: dict[str, Any], current_app: str | None
) -> Any:
    """The URL split at its holes, or UNCACHEABLE (invariant 2). Raises NoReverseMatch
    as `reverse` does when the view does not reverse at all."""

    def filled(values: tuple[int, ...]) -> tuple[list[Any], dict[str, Any]]:
        numbers = iter(values)
        new_args = [next(numbers) if _is_hole(v) else v for v in args]
        new_kwargs = {k: next(numbers) if _is_hole(v) else v for k, v in kwargs.items()}
        return new_args, new_kwargs

    holes = len([v for v in (*args, *kwargs.values()) if _is_hole(v)])
    if not holes:
        return [reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)]
    try:
        marked_args, marked_kwargs = filled(MARKERS[:holes])
        marked = reverse(view_name, args=marked_args, kwargs=marked_kwargs, current_app=current_app)
        check_args, check_kwargs = filled(CHECK[:holes])
        check = reverse(view_name, args=check_args, kwargs=check_kwargs, current_app=current_app)
    except NoReverseMatch:
        return UNCACHEABLE  # a pattern that refuses some ints: Django decides each call
    pieces, rest = [], marked
    for marker in MARKERS[:holes]:
        before, found, after = rest.partition(str(marker))
        if not found or str(marker) in after or str(marker) in before:
            return UNCACHEABLE
        pieces.append(before)
        rest = after
    pieces.append(rest)
    expected = pieces[0] + "".join(
        str(n) + p for n, p in zip(CHECK[:holes], pieces[1:], strict=True)
    )
    return pieces if expected == check else UNCACHEABLE


class CachedURLNode(URLNode):
    """Django's URLNode (django/template/defaulttags.py), with `cached_reverse`."""

    def render(self, context: template.Context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = cached_reverse(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: template.base.Parser, token: template.base.Token) -> CachedURLNode:
    """Django's `{% url %}` (its parsing, its node's behaviour), reversed through the cache."""
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
