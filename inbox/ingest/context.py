"""The conversation around a thread: the tweets its customer replied to or quoted that
are not in the thread (a brand tweet, another customer's, one from before Twelp polled),
fetched from X once and cached.

1. `wanted`: per customer tweet of the thread, its replied-to tweet (when not one of the
   thread's own messages) and its quoted tweet; at most MAX_TWEETS, oldest first.
2. `context_for`: one lookup (GET /2/tweets?ids=, with authors) for those not cached, in
   the brand's account (a training brand's in the sandbox). Each tweet is cached for
   CACHE_SECONDS, per brand; one X has not (deleted, protected, withheld) is cached as
   unavailable, so the page says so and X is not asked again meanwhile.
3. X failing (a 429, a 5xx, a timeout) is never an error page: those tweets show as
   unavailable for now, remembered for RETRY_SECONDS (so a busy page does not hammer X).
Runs outside any transaction: it only reads X and writes the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from inbox.configure import credentials
from inbox.models import Message, Thread
from twelp import xgateway

MAX_TWEETS = 10
CACHE_SECONDS = 3600
RETRY_SECONDS = 60
_UNAVAILABLE = {"unavailable": True}


@dataclass(frozen=True)
class Around:
    kind: str  # "replied_to" or "quoted"
    of: int  # the customer's tweet (x id) that replies to or quotes it
    tweet_id: int
    tweet: dict[str, object] | None  # None: unavailable (deleted, protected, or X failed)


def wanted(thread: Thread) -> list[tuple[str, int, int]]:
    """(kind, the customer's tweet id, the referenced tweet id), oldest first."""
    rows = list(
        Message.objects.filter(thread=thread)
        .order_by("sent_at", "x_id")[:500]
        .values("x_id", "direction", "in_reply_to_x_id", "raw")
    )
    own = {r["x_id"] for r in rows}
    found: list[tuple[str, int, int]] = []
    seen: set[tuple[str, int]] = set()
    for row in rows:
        if row["direction"] != Message.Direction.IN:
            continue
        parent = row["in_reply_to_x_id"]
        refs = [("replied_to", parent)] if parent and parent not in own else []
        refs += [("quoted", q) for q in _quoted(row["raw"])]
        for kind, ref in refs:
            if (kind, ref) not in seen:
                seen.add((kind, ref))
                found.append((kind, row["x_id"], ref))
    return found[-MAX_TWEETS:]


def _quoted(raw: object) -> list[int]:
    refs = raw.get("referenced_tweets") if isinstance(raw, dict) else None
    out = []
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("type") == "quoted":
            try:
                out.append(int(ref["id"]))
            except (KeyError, TypeError, ValueError):
                continue
    return out


def context_for(thread: Thread) -> list[Around]:
    refs = wanted(thread)
    ids = list(dict.fromkeys(ref for _, _, ref in refs))
    keys = {i: _key(thread.brand_id, i) for i in ids}
    known = cache.get_many(list(keys.values()))
    missing = [i for i in ids if keys[i] not in known]
    if missing:
        fetched, seconds = _fetch(thread, missing)
        cache.set_many({keys[i]: fetched[i] for i in missing}, seconds)
        known |= {keys[i]: fetched[i] for i in missing}
    out = []
    for kind, of, ref in refs:
        tweet = known.get(keys[ref], _UNAVAILABLE)
        out.append(Around(kind, of, ref, None if tweet.get("unavailable") else tweet))
    return out


def _fetch(thread: Thread, ids: list[int]) -> tuple[dict[int, dict], int]:
    """{id: tweet or unavailable}, and for how long to keep them."""
    try:
        with credentials.acting_for(thread.brand):
            page = xgateway.get_tweets(ids)
    except xgateway.XError:
        return dict.fromkeys(ids, _UNAVAILABLE), RETRY_SECONDS
    found = {t.id: _shown(t, page.users.get(t.author_id)) for t in page.tweets}
    return {i: found.get(i, _UNAVAILABLE) for i in ids}, CACHE_SECONDS


def _shown(tweet: xgateway.XTweet, author: xgateway.XUser | None) -> dict[str, object]:
    return {
        "id": tweet.id,
        "text": tweet.expanded_text,
        "author_id": tweet.author_id,
        "handle": author.username if author else "",
        "name": author.name if author else "",
        "created_at": tweet.created_at.isoformat(),
        "media": [m.stored() for m in tweet.media],
    }


def _key(brand_id: int, tweet_id: int) -> str:
    return f"x-context:{brand_id}:{tweet_id}"
