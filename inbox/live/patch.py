"""Row-level push: what changed between two renders of a live part, as a small message.

The push process (inbox.live.hub) renders a view's live part once per change for all of
its streams. Instead of sending that whole part again to a page that has the previous
render, it sends a patch: the parts and rows that differ. A part's template marks what
may change on its own:

- `<tag id="X" data-part ...>`: a unit replaced whole (the dashboard's tiles, its chart).
- `<tag id="X" data-rows="A" ...>`: a container of keyed children, each a direct child
  element carrying its key in `data-A="K"` (the queue's rows keyed by data-thread-id, the
  dashboard's team by data-agent-id), or else in `data-row="K"` (an "empty" row); a
  patch gives the rows that changed or are new, and the new order of keys when rows
  came, went or moved. `data-rows` alone: the keys are in `data-row`.

Everything else (the "shell": headings, table heads, the part's own first tag) is the
same from one render to the next, or the patch is not possible (`diff` gives None) and
the whole part is sent, as it is on every (re)connection and after a reload.

The marks are found in our own templates' output with a small scanner, not an HTML
parser: markers are attributes we write, and tweet text is escaped (it cannot hold `<`
or `"`), so no content can forge or break one. A render whose marks do not follow these
rules (a keyless row, text between rows) is not split: it is always sent whole.

Ageing labels: `<time datetime="..." data-since>5 minutes</time>` (the queue's waiting
times) is the page's to keep current (twelp.js recounts it from `datetime`, as Django's
timesince does); a row or part whose only difference is such a label is not sent, so the
minute turning does not re-send every row.

A patch (JSON, one line):
    {"parts": {id: html}, "rows": {id: {"order": [key, ...] or null, "html": {key: html}}}}
`order` null: the same keys in the same order. twelp.js applies it (`applyPatch`); `apply`
here does the same on a `Split`, for the tests and the benchmark.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_MARK = re.compile(
    r'<([a-z][a-z0-9]*) id="([^"]+)" data-(part|rows)(?:="([a-z][a-z-]*)")?(?=[\s>])[^>]*>'
)
_LABEL = re.compile(r"(<time [^>]*\bdata-since\b[^>]*>)[^<]*(</time>)")
_START = re.compile(r"<([a-z][a-z0-9]*)\b([^>]*)>")
_ATTR = re.compile(r'\sdata-([a-z-]+)="([^"]*)"')


@dataclass
class Split:
    """A render cut at its marks: the shell (with every mark's content taken out), the
    parts' whole HTML by id, and each rows container's children in order, by key."""

    shell: str
    parts: dict[str, str]
    rows: dict[str, dict[str, str]]  # container id -> {key: html}, in order
    size: int = 0  # the length of the whole render

    def html(self) -> str:
        """The render again, from its pieces (what a page shows after its patches)."""
        out = []
        for piece in re.split(r"(\x00[pr]:[^\x00]*\x00)", self.shell):
            if piece.startswith("\x00p:"):
                out.append(self.parts[piece[3:-1]])
            elif piece.startswith("\x00r:"):
                out.append("".join(self.rows[piece[3:-1]].values()))
            else:
                out.append(piece)
        return "".join(out)


def _end(html: str, tag: str, start: int) -> int:
    """The index just past the element of `tag` whose start tag begins at `start`
    (counting nested elements of the same tag); -1 when it does not close."""
    opening = re.compile(rf"<{tag}[\s>/]|</{tag}\s*>")
    depth, pos = 0, start
    while True:
        found = opening.search(html, pos)
        if found is None:
            return -1
        depth += -1 if found.group().startswith("</") else 1
        pos = found.end()
        if depth == 0:
            return pos


def _key(attrs: str, named: str) -> str | None:
    found = dict(_ATTR.findall(attrs))
    return found.get(named, found.get("row"))


def _children(inner: str, named: str) -> dict[str, str] | None:
    """The keyed children of a rows container's inner HTML, in order; None if anything
    but whitespace stands between them, or a child has no key, or a key repeats."""
    out: dict[str, str] = {}
    pos = 0
    while True:
        while pos < len(inner) and inner[pos].isspace():
            pos += 1
        if pos == len(inner):
            return out
        found = _START.match(inner, pos)
        if found is None:
            return None
        end = _end(inner, found.group(1), pos)
        key = _key(found.group(2), named)
        if end < 0 or key is None or key in out:
            return None
        out[key] = inner[pos:end]
        pos = end


def split(html: str) -> Split | None:
    """`html` cut at its marks (module docstring); None without marks or when they do
    not follow the rules."""
    shell: list[str] = []
    parts: dict[str, str] = {}
    rows: dict[str, dict[str, str]] = {}
    pos = 0
    for_marks = _MARK.search(html, pos)
    if for_marks is None:
        return None
    while for_marks is not None:
        tag, ident, kind, named = for_marks.groups()
        end = _end(html, tag, for_marks.start())
        if end < 0 or ident in parts or ident in rows or "\x00" in ident:
            return None
        shell.append(html[pos : for_marks.start()])
        if kind == "part":
            parts[ident] = html[for_marks.start() : end]
            shell.append(f"\x00p:{ident}\x00")
        else:
            close = html.rindex("</", for_marks.end(), end)
            children = _children(html[for_marks.end() : close], named or "row")
            if children is None:
                return None
            rows[ident] = children
            shell.append(html[for_marks.start() : for_marks.end()])
            shell.append(f"\x00r:{ident}\x00")
            shell.append(html[close:end])
        pos = end
        for_marks = _MARK.search(html, pos)
    shell.append(html[pos:])
    return Split("".join(shell), parts, rows, len(html))


def _shell_body(shell: str) -> str:
    # The part's own first tag carries its polling fallback's version (hx-get ...&v=):
    # it changes with every render, and a patched page keeps its old one (its first poll,
    # should the stream fail, then gets the whole part instead of a 204: still right).
    return shell[shell.find(">") + 1 :]


def part_patch(ident: str, html: str) -> str:
    """The patch that replaces part `ident` alone by `html` (what `diff` gives when only
    that part changed)."""
    found = {"parts": {ident: html}, "rows": {}}
    return json.dumps(found, separators=(",", ":"), ensure_ascii=False)


def same(old: str | None, new: str) -> bool:
    """Equal, or equal but for ageing labels (module docstring)."""
    if old == new:
        return True
    if old is None or "data-since" not in new:
        return False
    return _LABEL.sub(r"\1\2", old) == _LABEL.sub(r"\1\2", new)


def diff(old: Split | None, new: Split | None) -> str | None:
    """The patch from `old` to `new` (JSON), or None when only the whole part will do:
    either is not split, their shells differ, or the patch is not smaller than the part."""
    if old is None or new is None or _shell_body(old.shell) != _shell_body(new.shell):
        return None
    if old.parts.keys() != new.parts.keys() or old.rows.keys() != new.rows.keys():
        return None
    out: dict[str, dict[str, object]] = {"parts": {}, "rows": {}}
    for ident, html in new.parts.items():
        if not same(old.parts[ident], html):
            out["parts"][ident] = html
    for ident, children in new.rows.items():
        before = old.rows[ident]
        changed = {key: html for key, html in children.items() if not same(before.get(key), html)}
        order = list(children) if list(children) != list(before) else None
        if changed or order is not None:
            out["rows"][ident] = {"order": order, "html": changed}
    found = json.dumps(out, separators=(",", ":"), ensure_ascii=False)
    return found if len(found) < new.size else None


# A thread page's answer estimate ("goes out about 14:05, 23 ahead"): it moves with the
# brand's outbox, not only with its thread (inbox.live.hub, 10).
ESTIMATE = 'class="estimate"'


def with_part(base: Split, ident: str, html: str) -> Split:
    """`base` with its part `ident` replaced by `html` (the rest shared, not copied)."""
    size = base.size - len(base.parts[ident]) + len(html)
    return Split(base.shell, base.parts | {ident: html}, base.rows, size)


def apply(base: Split, patch: str) -> Split:
    """What twelp.js does with a patch, on a Split: the next render's pieces."""
    found = json.loads(patch)
    parts = base.parts | found["parts"]
    rows = {ident: dict(children) for ident, children in base.rows.items()}
    for ident, change in found["rows"].items():
        current = rows[ident]
        order = change["order"] if change["order"] is not None else list(current)
        rows[ident] = {key: change["html"].get(key) or current[key] for key in order}
    return Split(base.shell, parts, rows, base.size)
