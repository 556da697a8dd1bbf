"""Screening a page before it is queued: muted words, muted customers, blocked accounts
(inbox.noise manages them), and the relay's tagged employee answers.

Nothing is ever lost: a muted or blocked tweet is stored like any other (its Message row,
its customer), but it never puts a thread in the open queue.

- A new conversation that starts muted is filed as a closed thread with an Event
  `muted` or `blocked` saying why (actions.do_file_noise).
- A muted tweet in a conversation we already have joins that thread without reopening
  it or moving its preview, and the thread's timeline gets the same Event.
- A muted word matches case-insensitively on word boundaries: "spam" matches "SPAM!" and
  "#spam" but not "spammy" or "antispam". A phrase ("free followers") matches as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.models import Agent, AgentState
from inbox import actions, queries
from inbox.models import Brand, Mute, Source, Thread
from inbox.rules.text import relay_hashtag

if TYPE_CHECKING:
    from inbox.ingest.store import Item
    from twelp.xgateway import XTweet


@dataclass(frozen=True)
class Screen:
    """What a brand keeps out of its queue right now (one query per page)."""

    words: WordMatcher | None = None
    muted: frozenset[int] = field(default_factory=frozenset)  # X user ids
    blocked: frozenset[int] = field(default_factory=frozenset)

    def why(self, item: Item) -> dict[str, object] | None:
        """None for a tweet the queue should see; else the Event's verb and detail."""
        if item.author in self.blocked:
            return {"verb": "blocked", "message": item.id}
        if item.author in self.muted:
            return {"verb": "muted", "message": item.id, "reason": "customer"}
        if self.words and (word := self.words.search(item.text)):
            return {"verb": "muted", "message": item.id, "reason": "word", "word": word}
        return None


class WordMatcher:
    """Muted words, each bounded by non-word characters (so a muted word inside another
    word does not match), in any case. Plain words are a set looked up per token of the
    text; only phrases and words with punctuation ("don't") go through one regex. A regex
    alternation of 500 words costs ~15 times more per tweet (BENCHMARKS.md, noise)."""

    _TOKEN = re.compile(r"\w+")

    def __init__(self, words: list[str]) -> None:
        words = sorted({w.lower() for w in words if w}, key=len, reverse=True)
        self.plain = frozenset(w for w in words if self._TOKEN.fullmatch(w))
        rest = [re.escape(w) for w in words if w not in self.plain]
        self.phrases = (
            re.compile(rf"(?<!\w)(?:{'|'.join(rest)})(?!\w)", re.IGNORECASE) if rest else None
        )

    def search(self, text: str) -> str | None:
        """The muted word or phrase `text` says, lowercased, or None."""
        if self.plain:
            for token in self._TOKEN.findall(text.lower()):
                if token in self.plain:
                    return token
        if self.phrases and (match := self.phrases.search(text)):
            return match[0].lower()
        return None


def word_matcher(words: list[str]) -> WordMatcher | None:
    return WordMatcher(words) if any(words) else None


def screen_for(brand: Brand) -> Screen:
    words, muted, blocked = [], set(), set()
    for kind, word, x_user_id in Mute.objects.filter(
        brand=brand, lifted_at__isnull=True
    ).values_list("kind", "word", "customer__x_user_id"):
        if kind == Mute.Kind.WORD:
            words.append(word)
        else:
            (blocked if kind == Mute.Kind.BLOCK else muted).add(x_user_id)
    return Screen(word_matcher(words), frozenset(muted), frozenset(blocked))


def kept_out(brand: Brand, items: list[Item]) -> dict[int, dict[str, object]]:
    """{item id: why} for the page's muted and blocked items (one query per page)."""
    screen = screen_for(brand)
    if not (screen.words or screen.muted or screen.blocked):
        return {}
    return {i.id: why for i in items if (why := screen.why(i))}


def file(
    source: Source, items: list[Item], why: dict[int, dict], customers: dict[int, int]
) -> tuple[dict[int, Thread], set[int]]:
    """The threads of the muted and blocked `items` (oldest first): the conversation's
    thread we have, else a new one filed closed with an Event saying why
    (actions.do_file_noise). ({conversation: thread}, the ids of those filed now.)"""
    if not items:
        return {}, set()
    brand = source.brand
    threads = queries.conversation_threads(brand, {i.key for i in items})
    first: dict[tuple[int, int], Item] = {}
    for item in items:
        first.setdefault(item.key, item)
    wanted = [(key, item) for key, item in first.items() if key not in threads]
    new = [
        Thread(
            brand=brand,
            source=source,
            customer_id=customers[item.author],
            conversation_id=item.conversation,
            waiting_since=item.created_at,
            preview=item.text[:280],
        )
        for _, item in wanted
    ]
    filed = actions.do_file_noise(brand, new, {i.conversation: why[i.id] for _, i in wanted})
    threads |= {key: thread for (key, _), thread in zip(wanted, filed, strict=True)}
    return threads, {t.id for t in filed}


def note(
    brand: Brand, items: list[Item], why: dict[int, dict], threads: dict[int, Thread], filed
) -> None:
    """The threads that existed already say, in their timeline, what joined them unqueued."""
    actions.do_note_noise(
        brand,
        [(threads[i.key], why[i.id]) for i in items if threads[i.key].id not in filed],
    )


def employees_tagged(brand: Brand, tweets: list[XTweet]) -> set[int]:
    """Ids of the tweets that carry the relay hashtag and are by an active employee."""
    tag = relay_hashtag(brand)
    if not tag:
        return set()
    pattern = re.compile(rf"(?<![\w#])#{re.escape(tag)}(?!\w)", re.IGNORECASE)
    tagged = [t for t in tweets if pattern.search(t.text)]
    if not tagged:
        return set()
    active = set(
        Agent.objects.filter(
            brand=brand, state=AgentState.ACTIVE, x_user_id__in={t.author_id for t in tagged}
        ).values_list("x_user_id", flat=True)
    )
    return {t.id for t in tagged if t.author_id in active}
