"""Checking a listening query as X's recent search would, before it is saved.

X answers an invalid query with HTTP 400 and a reason; the poller would then park the
source every 30 s for ever. The reasons here are X's, in X's words ("There were errors
processing your request: ..."), for the mistakes an admin makes: an unmatched quotation
mark, unbalanced parentheses, an operator X does not know (or a value it does not take,
such as `is:answered`), a query of negations only, and more than 512 characters.

This is a check, not a compiler: X keeps the final word (a query that passes here and
fails there is parked with X's reason, as before).
"""

from __future__ import annotations

import re

MAX_LENGTH = 512  # X's limit for recent search on the Basic and Pro access levels

PREFIX = "There were errors processing your request: "

# X's standalone and conjunction-required operators for recent search (v2), by name.
OPERATORS = frozenset(
    {
        "from", "to", "url", "retweets_of", "context", "entity", "conversation_id",
        "list", "place", "place_country", "point_radius", "bounding_box", "lang",
        "is", "has", "in_reply_to_tweet_id", "retweets_of_tweet_id", "quotes_of_tweet_id",
        "sample", "followers_count", "tweets_count", "following_count", "listed_count",
    }
)  # fmt: skip
IS_VALUES = frozenset({"retweet", "reply", "quote", "verified", "nullcast"})
HAS_VALUES = frozenset(
    {"hashtags", "cashtags", "links", "mentions", "media", "images", "video_link", "geo"}
)

_TOKEN = re.compile(
    r'\s*(?:(?P<open>-?\()|(?P<close>\))|(?P<neg>-?)(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+)))'
)
_OPERATOR = re.compile(r"^(?P<name>[A-Za-z_]+):(?P<value>.*)$")


class QueryError(ValueError):
    """X would refuse the query; str() is X's whole message."""

    def __init__(self, reason: str) -> None:
        super().__init__(PREFIX + reason)


def check(query: str) -> str:
    """The query, stripped, when X would take it; else QueryError with X's reason."""
    query = query.strip()
    if not query:
        raise QueryError("Query must not be empty")
    if len(query) > MAX_LENGTH:
        raise QueryError(f"Query is longer than {MAX_LENGTH} characters (it has {len(query)})")
    depth, positive, position = 0, False, 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:
            rest = query[position:]
            at = position + len(rest) - len(rest.lstrip()) + 1
            raise QueryError(f"Unmatched quotation mark (at position {at})")
        start = match.start() + len(match.group()) - len(match.group().lstrip())
        position = match.end()
        if match.group("open"):
            depth += 1
        elif match.group("close"):
            depth -= 1
            if depth < 0:
                raise QueryError(f"Unbalanced parentheses (at position {start + 1})")
        else:
            negated = bool(match.group("neg"))
            word = match.group("word")
            if word is not None:
                _check_word(word, start)
            positive = positive or (not negated and word != "OR")
    if depth > 0:
        raise QueryError(f"Unbalanced parentheses (at position {len(query)})")
    if not positive:
        raise QueryError("Rules must contain a non-negation term (at position 1)")
    return query


def _check_word(word: str, start: int) -> None:
    match = _OPERATOR.match(word)
    if match is None or "//" in word:  # a plain keyword, a #tag, an @handle, a URL
        return
    name, value = match.group("name"), match.group("value")
    where = f"(at position {start + 1})"
    if name not in OPERATORS:
        raise QueryError(
            f"Reference to invalid operator '{name}'. Operator is not available in current "
            f"product or product packaging. {where}"
        )
    allowed = {"is": IS_VALUES, "has": HAS_VALUES}.get(name)
    if not value or (allowed is not None and value not in allowed):
        raise QueryError(f"Reference to invalid field '{name}:{value}' {where}")
