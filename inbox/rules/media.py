"""Which attached images a page may show: only those on X's media host.

A stored media entry (Message.media, from xgateway.XMedia.stored) came from X, but a URL
in it is still untrusted input: a page renders an entry only when its URL's origin is
exactly one of `origins` (settings.X_MEDIA_ORIGINS: https://pbs.twimg.com, and in DEBUG
the sandbox's), with no user name or password in it. Anything else is left out, never
linked and never loaded. The browser loads what is shown from X directly (the CSP's
img-src names the same origins); Twelp never proxies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_SHOWN = 4  # X allows four photos a tweet


@dataclass(frozen=True)
class Thumb:
    thumb_url: str  # shown small
    full_url: str  # opened larger
    alt: str
    kind: str  # "photo", "animated_gif", "video"
    width: int | None
    height: int | None


def allowed(url: object, origins: Iterable[str]) -> bool:
    if not isinstance(url, str) or not url or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None or not parts.path.strip("/"):
        return False
    return f"{parts.scheme}://{parts.netloc}".lower() in {o.lower() for o in origins}


def thumbs(media: object, origins: Iterable[str]) -> list[Thumb]:
    """The entries of `media` a page may show, at most MAX_SHOWN."""
    origins = list(origins)
    shown = []
    for entry in media if isinstance(media, list) else []:
        if not isinstance(entry, dict):
            continue
        url, preview = entry.get("url"), entry.get("preview_url")
        full = url if allowed(url, origins) else preview if allowed(preview, origins) else None
        small = preview if allowed(preview, origins) else full
        if full is None or small is None:
            continue
        alt = entry.get("alt_text")
        kind = entry.get("type")
        shown.append(
            Thumb(
                thumb_url=small,
                full_url=full,
                alt=alt if isinstance(alt, str) else "",
                kind=kind if isinstance(kind, str) else "photo",
                width=_size(entry.get("width")),
                height=_size(entry.get("height")),
            )
        )
    return shown[:MAX_SHOWN]


def _size(value: object) -> int | None:
    return value if isinstance(value, int) and 0 < value <= 100_000 else None
