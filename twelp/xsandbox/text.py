"""What X does to a tweet's text when it is posted: t.co links, entities, weighted length.

X replaces every link with a 23-character t.co link and reports the original in
`entities.urls[].expanded_url`; clients that compare what they sent with what X stored
must expand those links back. Entity offsets count code points, as X v2 does.
"""

from __future__ import annotations

import hashlib
import re

from twitter_text import extract_urls_with_indices, parse_tweet

MAX_WEIGHTED_LENGTH = 280
TCO_PREFIX = "https://t.co/"
TCO_LENGTH = 23

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})(?!\w)")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w*[^\W\d]\w*)")
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15})+\s*")


def wrap_links(text: str) -> tuple[str, list[dict[str, object]]]:
    """Replace each link by its t.co link; return the new text and its `urls` entities.

    Links are what twitter-text finds, as X does: bare domains too ("bestbuy.com/help"),
    whose `expanded_url` X gives with "http://" in front.
    """
    pieces: list[str] = []
    urls: list[dict[str, object]] = []
    cursor = 0
    for found in extract_urls_with_indices(text):
        original = found["url"]
        begin, finish = found["indices"]
        pieces.append(text[cursor:begin])
        start = sum(map(len, pieces))
        short = _tco(original)
        pieces.append(short)
        cursor = finish
        expanded = original if _SCHEME.match(original) else "http://" + original
        urls.append(
            {
                "start": start,
                "end": start + len(short),
                "url": short,
                "expanded_url": expanded,
                "display_url": _display(original),
            }
        )
    pieces.append(text[cursor:])
    return "".join(pieces), urls


def entities(text: str, urls: list[dict[str, object]], known: dict[str, int]) -> dict[str, object]:
    """X's entities object; `known` maps lower-cased usernames to ids (mentions carry ids)."""
    mentions = [
        {"start": m.start(), "end": m.end(), "username": m.group(1)}
        | ({"id": str(known[m.group(1).lower()])} if m.group(1).lower() in known else {})
        for m in _MENTION.finditer(text)
    ]
    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(text)
    ]
    found = {"mentions": mentions, "hashtags": hashtags, "urls": urls}
    return {key: value for key, value in found.items() if value}


def mentioned_usernames(text: str) -> list[str]:
    return [m.group(1) for m in _MENTION.finditer(text)]


def leading_mentions(text: str) -> list[str]:
    """The @names a tweet starts with: whom a reply is addressed to."""
    leading = _LEADING_MENTIONS.match(text)
    return mentioned_usernames(leading.group()) if leading else []


def starts_with_mention_of(text: str, username: str) -> bool:
    return username.lower() in (name.lower() for name in leading_mentions(text))


def weighted_length(text: str) -> int:
    """twitter-text v3's weighted length (its own code, as X counts): links 23, CJK and
    emoji 2, most Latin 1."""
    return parse_tweet(text).weightedLength


def _tco(url: str) -> str:
    # One t.co link per URL, so posting the same text twice is seen as a duplicate.
    digest = hashlib.sha256(url.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return TCO_PREFIX + "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def _display(url: str) -> str:
    bare = re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE)
    return bare if len(bare) <= 26 else bare[:25] + "…"
