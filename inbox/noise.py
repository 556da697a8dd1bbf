"""Noise: muted words, muted customers and blocked accounts.

Nothing is ever lost: a muted or blocked tweet is stored like any other (its Message row,
its customer), but it never puts a thread in the open queue.

- A new conversation that starts muted is filed as a closed thread with an Event
  `muted` or `blocked` saying why (actions.do_file_noise).
- A muted tweet in a conversation we already have joins that thread without reopening
  it or moving its preview, and the thread's timeline gets the same Event.
- A muted word matches case-insensitively on word boundaries: "spam" matches "SPAM!" and
  "#spam" but not "spammy" or "antispam". A phrase ("free followers") matches as a whole.
- Blocking an account also dismisses its open, unclaimed threads (one Event each).
- Lifting a mute (unmute, unblock) keeps its row, with who lifted it and when; tweets
  filed while it was live stay where they are (a supervisor may reopen by answering).

Who: any employee may mute a customer from a thread; supervisors and admins manage muted
words, blocks, and lift any of them (inbox.noise_views).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from inbox import actions, queries, sentiment
from inbox.errors import ActionError
from inbox.models import Brand, Channel, Customer, Message, Mute, Source, Thread, ThreadStatus

if TYPE_CHECKING:
    from agents.models import Agent
    from inbox.polling import PollResult
    from twelp.xgateway import XTweet, XUser

WORD_MAX = 100
_WORD = re.compile(r"^[\w][\w' .&-]*$")


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


# --- ingest (called once, from inbox.polling.ingest_tweets) -----------------------------


def keep_out(
    source: Source, tweets: list[XTweet], users: dict[int, XUser], result: PollResult
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


def _file(source: Source, tweets, users, why: dict[int, dict], result: PollResult) -> None:
    from inbox.polling import _upsert_customers  # polling imports this module

    brand = source.brand
    customers = _upsert_customers(brand, tweets, users)
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


# --- managing mutes ---------------------------------------------------------------------


def clean_word(raw: str) -> str:
    """A muted word or phrase, lowercased and single-spaced; ActionError if unusable."""
    word = " ".join(raw.split()).lower()
    if not word:
        raise ActionError("Type a word or phrase to mute.")
    if len(word) > WORD_MAX:
        raise ActionError(f"A muted word is at most {WORD_MAX} characters.")
    if not _WORD.match(word):
        raise ActionError("A muted word starts with a letter or digit and has no symbols.")
    return word


@transaction.atomic(durable=True)
def mute_word(raw: str, *, agent: Agent) -> Mute:
    _must_supervise(agent)
    word = clean_word(raw)
    try:
        with transaction.atomic():
            return Mute.objects.create(
                brand_id=agent.brand_id, kind=Mute.Kind.WORD, word=word, created_by=agent
            )
    except IntegrityError:
        raise ActionError(f"“{word}” is already muted.") from None


@transaction.atomic(durable=True)
def mute_customer(customer: Customer, *, agent: Agent, block: bool = False) -> Mute:
    """Mute (any employee) or block (supervisors) a customer of the agent's brand. Blocking
    also dismisses the customer's open threads nobody holds."""
    if block:
        _must_supervise(agent)
    kind = Mute.Kind.BLOCK if block else Mute.Kind.CUSTOMER
    try:
        with transaction.atomic():
            mute = Mute.objects.create(
                brand_id=agent.brand_id, kind=kind, customer=customer, created_by=agent
            )
    except IntegrityError:
        verb = "blocked" if block else "muted"
        raise ActionError(f"@{customer.handle} is already {verb}.") from None
    if block:
        open_ids = Thread.objects.filter(customer=customer, status=ThreadStatus.OPEN).values_list(
            "id", flat=True
        )
        actions.dismiss_locked(list(open_ids), agent=agent, verb="blocked")
    return mute


@transaction.atomic(durable=True)
def lift(mute_id: int, *, agent: Agent) -> Mute:
    """Unmute or unblock: the row stays, marked lifted (supervisors and admins)."""
    _must_supervise(agent)
    mute = (
        Mute.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(id=mute_id, brand_id=agent.brand_id)
    )
    if mute.lifted_at is None:
        mute.lifted_at = timezone.now()
        mute.lifted_by = agent
        mute.save(update_fields=["lifted_at", "lifted_by"])
    return mute


def _must_supervise(agent: Agent) -> None:
    if not agent.is_supervisor:
        raise ActionError("Only supervisors and admins manage muted words and blocks.")


def live_mutes(customer: Customer) -> list[Mute]:
    return list(
        Mute.objects.filter(customer=customer, lifted_at__isnull=True)
        .select_related("created_by")
        .order_by("kind")
    )
