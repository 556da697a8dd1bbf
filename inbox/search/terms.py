"""What an employee typed in the search box, taken apart: words for PostgreSQL's full-text
search, @handles for the customers' trigram search, #tags. Pure: no database.

1. The words go to `websearch_to_tsquery`, which accepts anything ("quoted phrases", OR,
   -not, stray quotes and operators) and never raises a syntax error: the box has no
   query language of its own to get wrong.
2. Refused, with a message the page shows: more than MAX_LENGTH characters, or nothing
   searchable (emoji or punctuation alone: PostgreSQL would silently match nothing).
3. NUL characters are dropped (PostgreSQL text cannot hold them: they would be a 500).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LENGTH = 200
_HANDLE = re.compile(r"(?<!\w)@(\w{1,15})", re.ASCII)
_TAG = re.compile(r"(?<!\w)(?:#|tag:)([a-z0-9][a-z0-9_-]{0,31})", re.IGNORECASE)
_WORD = re.compile(r"\w")


class Refused(ValueError):
    """The search cannot be run as typed; str() says why, for the page."""


@dataclass(frozen=True)
class Terms:
    words: str = ""  # for websearch_to_tsquery; "" when the search names only handles/tags
    handles: tuple[str, ...] = field(default=())
    tags: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.words or self.handles or self.tags)


def parse(raw: str) -> Terms:
    """The terms of `raw`; Refused when it cannot be searched (module docstring)."""
    text = raw.replace("\x00", "").strip()
    if len(text) > MAX_LENGTH:
        raise Refused(
            f"A search is at most {MAX_LENGTH} characters (this one has {len(text):,}): "
            "try its most telling words."
        )
    handles = tuple(dict.fromkeys(h.lower() for h in _HANDLE.findall(text)))
    tags = tuple(dict.fromkeys(t.lower() for t in _TAG.findall(text)))
    words = _TAG.sub(" ", _HANDLE.sub(" ", text))
    words = " ".join(words.split()) if _WORD.search(words) else ""
    terms = Terms(words, handles, tags)
    if text and terms.empty:
        raise Refused(
            "Emoji and punctuation alone can't be searched: add a word, an @handle or a #tag."
        )
    return terms
