"""A page of tweets into the queue, in one transaction (inbox.ingest.poll drives the pages).

In order: skip the brand's own tweets and plain retweets, and the employees' tagged
answers (the relay answers those); screen out muted and blocked tweets (stored, never
queued: inbox.ingest.screen); score each tweet once (sentiment, reach, urgent words);
store the customers; find or open each conversation's thread; insert the messages with
ON CONFLICT DO NOTHING; the page's follow-ups in one batch (actions.do_customers_wrote);
out of hours, the auto-reply (inbox.ingest.autoreply).
"""

from __future__ import annotations

from django.db import transaction

from inbox import actions, queries
from inbox.ingest import autoreply, screen, store
from inbox.live import version
from inbox.models import Brand, Channel, Message, Source, Thread, ThreadStatus
from inbox.rules import priority, sentiment
from twelp import xgateway


def fetch(source: Source, token: str | None) -> xgateway.XPage:
    """The page after `token` of the tweets newer than since_id (mentions or a search)."""
    if source.kind == Source.Kind.MENTIONS:
        return xgateway.mentions(
            source.brand.x_user_id, since_id=source.since_id, pagination_token=token
        )
    return xgateway.search_recent(source.query, since_id=source.since_id, next_token=token)


@transaction.atomic
def ingest_page(
    source: Source, page: xgateway.XPage, result: store.PollResult, *, advance_to: int | None
) -> None:
    """One page, one transaction; `advance_to` set on the last page moves since_id."""
    store.quarantine(source, page.malformed, result)
    ingest_tweets(source, page.tweets, page.users, result)
    store.advance_cursor(source, advance_to)


def ingest_tweets(source: Source, tweets, users, result: store.PollResult) -> None:
    """Customers' tweets into their threads (the caller's transaction); also the relay's."""
    brand = source.brand
    wanted = [t for t in tweets if _wanted(t, brand)]
    relayed = screen.employees_tagged(brand, wanted)  # the relay answers those
    wanted = [t for t in wanted if t.id not in relayed]
    result.skipped += len(tweets) - len(wanted)
    wanted = screen.keep_out(source, wanted, users, result)  # stored, never queued
    if wanted:
        signals = _signals(brand, wanted, users)
        customers = store.upsert_customers(brand, wanted, users)
        threads = _threads_for(brand, source, wanted, customers, signals, result)
        fresh = _insert_messages(brand, wanted, threads, signals, result)
        if source.kind != Source.Kind.RELAY:  # an employee is answering those (inbox.ingest.relay)
            autoreply.answer(source, fresh, threads, customers)  # out of hours: once per window


def _signals(brand: Brand, tweets, users) -> dict[int, priority.Signals]:
    """{tweet id: its sentiment, its author's reach, whether it says an urgent word}."""
    urgent = priority.keyword_matcher(brand.urgent_keywords or [])
    out = {}
    for tweet in tweets:
        text = tweet.expanded_text
        user = users.get(tweet.author_id)
        out[tweet.id] = priority.Signals(
            followers=user.followers_count if user else 0,
            verified=bool(user and user.verified),
            sentiment=sentiment.score(text),
            urgent=bool(urgent and urgent.search(text)),
        )
    return out


def _wanted(tweet: xgateway.XTweet, brand: Brand) -> bool:
    """Skip the brand's own tweets and plain retweets; keep quotes and replies."""
    return tweet.author_id != brand.x_user_id and not tweet.is_retweet


def _threads_for(
    brand, source, tweets, customers, signals: dict[int, priority.Signals], result: store.PollResult
) -> dict[int, Thread]:
    """{conversation id: thread}: the live thread, else the newest closed one, else new."""
    found = queries.conversation_threads(brand, {t.conversation_id for t in tweets})
    by_conversation: dict[int, list[xgateway.XTweet]] = {}
    for tweet in sorted(tweets, key=lambda t: t.id):
        by_conversation.setdefault(tweet.conversation_id, []).append(tweet)
    new = []
    for conversation, batch in by_conversation.items():
        if conversation in found:
            continue
        urgency = priority.combine(signals[t.id] for t in batch)
        new.append(
            Thread(
                brand=brand,
                source=source,
                customer_id=customers[batch[0].author_id],
                conversation_id=conversation,
                waiting_since=batch[0].created_at,
                preview=batch[-1].expanded_text[:280],
                sentiment=urgency.sentiment,
                priority=priority.score(urgency),
            )
        )
    if new:
        # A concurrent poll of another source may create the same conversation: its row
        # wins (the partial unique index), and we read it back below.
        Thread.objects.bulk_create(new, ignore_conflicts=True)
        for thread in Thread.objects.filter(
            brand=brand,
            channel=Channel.TWEET,
            conversation_id__in=[t.conversation_id for t in new],
        ).exclude(status=ThreadStatus.CLOSED):
            if thread.conversation_id not in found:
                found[thread.conversation_id] = thread
                result.new_thread_ids.append(thread.id)
        transaction.on_commit(lambda: version.bump(brand.id))
    return found


def _insert_messages(
    brand, tweets, threads: dict[int, Thread], signals: dict[int, priority.Signals], result
) -> list[xgateway.XTweet]:
    """Stores the page's new tweets; returns them (those not stored before)."""
    ids = [t.id for t in tweets]
    known = set(Message.objects.filter(brand=brand, x_id__in=ids).values_list("x_id", flat=True))
    fresh = [t for t in tweets if t.id not in known]
    messages = Message.objects.bulk_create(
        [
            Message(
                brand=brand,
                thread=threads[t.conversation_id],
                x_id=t.id,
                channel=Channel.TWEET,
                direction=Message.Direction.IN,
                author_x_id=t.author_id,
                text=t.expanded_text,
                in_reply_to_x_id=t.in_reply_to_tweet_id,
                conversation_id=t.conversation_id,
                sentiment=signals[t.id].sentiment,
                raw=dict(t.raw),
                sent_at=t.created_at,
            )
            for t in fresh
        ],
        ignore_conflicts=True,  # another source's poll may hold the same tweet
    )
    result.ingested += len(fresh)
    new_threads = set(result.new_thread_ids)
    latest: dict[int, xgateway.XTweet] = {}
    batches: dict[int, list[priority.Signals]] = {}
    for tweet in fresh:
        batches.setdefault(tweet.conversation_id, []).append(signals[tweet.id])
        if tweet.id > getattr(latest.get(tweet.conversation_id), "id", 0):
            latest[tweet.conversation_id] = tweet
    by_x_id = {m.x_id: m for m in messages}
    wrote = {
        threads[conversation].id: (by_x_id[tweet.id], priority.combine(batches[conversation]))
        for conversation, tweet in latest.items()
        if threads[conversation].id not in new_threads
    }
    if wrote:  # one batch for the page's follow-ups (BENCHMARKS.md, problem 2)
        actions.do_customers_wrote(brand, wrote)
    return fresh
