"""X's summoned-reply rule (since 23 Feb 2026): a self-serve app may reply in public only
to a post whose author mentioned the brand, quoted one of its posts, or replied to it (X
starts such a reply with the brand's @handle); Enterprise access is exempt. A listening
query's match that never tagged the brand can be answered only by DM.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping


def summons(
    raw: Mapping[str, object],
    *,
    text: str,
    brand_id: int,
    handle: str,
    brand_tweets: Collection[int],
) -> bool:
    """Whether the tweet (`raw` as X sent it, `text` as stored) lets the brand reply to it
    in public. Its text is read too: X's text carries every @mention it makes."""
    if re.search(rf"(?<![\w@])@{re.escape(handle)}(?!\w)", text, re.IGNORECASE):
        return True
    if str(raw.get("in_reply_to_user_id", "")) == str(brand_id):
        return True
    entities = raw.get("entities")
    mentions = entities.get("mentions", []) if isinstance(entities, dict) else []
    for mention in mentions if isinstance(mentions, list) else []:
        if not isinstance(mention, dict):
            continue
        if str(mention.get("id", "")) == str(brand_id):
            return True
        if str(mention.get("username", "")).lower() == handle.lower():
            return True
    return bool(set(quoted_ids(raw)) & set(brand_tweets))


def quoted_ids(raw: Mapping[str, object]) -> list[int]:
    refs = raw.get("referenced_tweets")
    found = []
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("type") == "quoted" and str(ref.get("id")).isdigit():
            found.append(int(str(ref["id"])))
    return found


def refusal(handle: str, customer: str) -> str:
    """Why the public reply is unavailable, in words for the agent."""
    return (
        f"A public reply is unavailable: @{customer}'s post never mentioned or quoted "
        f"@{handle}, and since 23 Feb 2026 X lets a self-serve app reply only to posts that "
        "do. Answer by DM instead (X delivers it if they follow the brand or accept DMs)."
    )
