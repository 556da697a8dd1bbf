"""What X does to a tweet's text when it is posted: t.co links, entities, weighted length.

X replaces every link with a 23-character t.co link and reports the original in
`entities.urls[].expanded_url`; clients that compare what they sent with what X stored
must expand those links back. Entity offsets count code points, as X v2 does.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
TCO_PREFIX = "https://t.co/"
TCO_LENGTH = 23

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,:;!?)]}'\""
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})(?!\w)")
_HASHTAG = re.compile(r"(?<![\w#&])#(\w*[^\W\d]\w*)")
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15})+\s*")

# twitter-text v3: these code points weigh 1, every other one weighs 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_ZWJ = 0x200D
_EMOJI_MODIFIERS = {0xFE0F, 0xFE0E, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)}


def wrap_links(text: str) -> tuple[str, list[dict[str, object]]]:
    """Replace each link by its t.co link; return the new text and its `urls` entities."""
    pieces: list[str] = []
    urls: list[dict[str, object]] = []
    cursor = 0
    for match in _URL.finditer(text):
        original = match.group().rstrip(_TRAILING)
        pieces.append(text[cursor : match.start()])
        start = sum(map(len, pieces))
        short = _tco(original)
        pieces.append(short)
        cursor = match.start() + len(original)
        urls.append(
            {
                "start": start,
                "end": start + len(short),
                "url": short,
                "expanded_url": original,
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
    """twitter-text v3's weighted length: links 23, CJK and emoji 2, most Latin 1."""
    text = unicodedata.normalize("NFC", text)
    length = 0
    cursor = 0
    for match in _URL.finditer(text):
        length += _weigh(text[cursor : match.start()]) + TCO_LENGTH
        cursor = match.start() + len(match.group().rstrip(_TRAILING))
    return length + _weigh(text[cursor:])


def _weigh(text: str) -> int:
    total = 0
    in_emoji = False  # inside one emoji sequence, which weighs 2 however long it is
    joined = False  # the last code point was a zero-width joiner inside that sequence
    open_flag = False  # one regional indicator seen; the next one completes the flag
    for char in text:
        point = ord(char)
        if in_emoji and point in _EMOJI_MODIFIERS:
            continue
        if in_emoji and point == _ZWJ:
            joined = True
            continue
        if (joined and _is_emoji(point)) or (open_flag and _is_regional(point)):
            joined = open_flag = False
            continue
        joined = False
        open_flag = _is_regional(point)
        in_emoji = _is_emoji(point)
        total += 1 if _is_light(point) else 2
    return total


def _is_light(point: int) -> bool:
    return any(low <= point <= high for low, high in _LIGHT_RANGES)


def _is_emoji(point: int) -> bool:
    return 0x1F000 <= point <= 0x1FAFF or 0x2600 <= point <= 0x27BF


def _is_regional(point: int) -> bool:
    return 0x1F1E6 <= point <= 0x1F1FF


def _tco(url: str) -> str:
    # One t.co link per URL, so posting the same text twice is seen as a duplicate.
    digest = hashlib.sha256(url.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return TCO_PREFIX + "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def _display(url: str) -> str:
    bare = re.sub(r"^https?://(www\.)?", "", url, flags=re.IGNORECASE)
    return bare if len(bare) <= 26 else bare[:25] + "…"
