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
from inbox.ingest import store
from inbox.models import Brand, Channel, Message, Mute, Source, Thread
from inbox.rules import sentiment
from inbox.rules.text import relay_hashtag

if TYPE_CHECKING:
    from twelp.xgateway import XTweet, XUser


@dataclass(frozen=True)
class Screen:
    """What a brand keeps out of its queue right now (one query per page)."""

    words: WordMatcher | None = None
    muted: frozenset[int] = field(default_factory=frozenset)  # X user ids
    blocked: frozenset[int] = field(default_factory=frozenset)

    def why(self, tweet: XTweet) -> dict[str, object] | None:
        """None for a tweet the queue should see; else the Event's verb and detail."""
        if tweet.author_id in self.blocked:
            return {"verb": "blocked", "message": tweet.id}
        if tweet.author_id in self.muted:
            return {"verb": "muted", "message": tweet.id, "reason": "customer"}
        if self.words and (word := self.words.search(tweet.expanded_text)):
            return {"verb": "muted", "message": tweet.id, "reason": "word", "word": word}
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


def keep_out(
    source: Source, tweets: list[XTweet], users: dict[int, XUser], result: store.PollResult
) -> list[XTweet]:
    """Store the muted and blocked tweets of a page without queueing them; return the
    others for the normal ingest. The poller's transaction."""
    if not tweets:
        return tweets
    screen = screen_for(source.brand)
    if not (screen.words or screen.muted or screen.blocked):
        return tweets
    why = {t.id: w for t in tweets if (w := screen.why(t))}
    if why:
        _file(source, [t for t in tweets if t.id in why], users, why, result)
    return [t for t in tweets if t.id not in why]


def _file(source: Source, tweets, users, why: dict[int, dict], result: store.PollResult) -> None:
    brand = source.brand
    customers = store.upsert_customers(brand, tweets, users)
    threads = queries.conversation_threads(brand, {t.conversation_id for t in tweets})
    first: dict[int, XTweet] = {}
    for tweet in sorted(tweets, key=lambda t: t.id):
        first.setdefault(tweet.conversation_id, tweet)
    new = [
        Thread(
            brand=brand,
            source=source,
            customer_id=customers[tweet.author_id],
            conversation_id=conversation,
            waiting_since=tweet.created_at,
            preview=tweet.expanded_text[:280],
        )
        for conversation, tweet in first.items()
        if conversation not in threads
    ]
    filed = actions.do_file_noise(
        brand, new, {t.conversation_id: why[t.id] for t in first.values()}
    )
    threads |= {t.conversation_id: t for t in filed}
    known = set(
        Message.objects.filter(brand=brand, x_id__in=[t.id for t in tweets]).values_list(
            "x_id", flat=True
        )
    )
    fresh = [t for t in tweets if t.id not in known]
    Message.objects.bulk_create(
        [_message(brand, threads[t.conversation_id], t) for t in fresh], ignore_conflicts=True
    )
    result.ingested += len(fresh)
    # The threads that existed already say, in their timeline, what joined them unqueued.
    filed_ids = {t.id for t in filed}
    actions.do_note_noise(
        brand,
        [
            (threads[t.conversation_id], why[t.id])
            for t in fresh
            if threads[t.conversation_id].id not in filed_ids
        ],
    )


def _message(brand: Brand, thread: Thread, tweet: XTweet) -> Message:
    return Message(
        brand=brand,
        thread=thread,
        x_id=tweet.id,
        channel=Channel.TWEET,
        direction=Message.Direction.IN,
        author_x_id=tweet.author_id,
        text=tweet.expanded_text,
        in_reply_to_x_id=tweet.in_reply_to_tweet_id,
        conversation_id=tweet.conversation_id,
        sentiment=sentiment.score(tweet.expanded_text),
        raw=dict(tweet.raw),
        sent_at=tweet.created_at,
    )


def employees_tagged(brand: Brand, tweets) -> set[int]:
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
