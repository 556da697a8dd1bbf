"""A page of tweets into the queue, in one transaction (inbox.ingest.poll drives the pages).

Its walk, once, each step of inbox.ingest.store or inbox.ingest.screen, in this order:

1. Skip the brand's own tweets and plain retweets, and the employees' tagged answers (the
   relay answers those); then the tweets stored before (store.unseen).
2. Store the customers (store.upsert_customers).
3. Screen: muted and blocked tweets are stored like the others but never queued
   (screen.kept_out).
4. Signals: each tweet scored once (store.signals: sentiment, reach, urgent words).
5. Threads: the muted ones' conversations filed (screen.file), then each conversation's
   thread found or opened (store.threads_for).
6. Messages: all of the page's, ON CONFLICT DO NOTHING (store.insert_messages).
7. One Event batch: what joined a thread unqueued (screen.note), the follow-ups
   (store.follow_ups: actions.do_customers_wrote); out of hours, the auto-reply
   (inbox.ingest.autoreply: once per customer and window).
"""

from __future__ import annotations

from django.db import transaction

from inbox.ingest import autoreply, screen, store
from inbox.models import Brand, Channel, Source
from inbox.rules.routing import known_lang
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
    store.advance_cursor(source, advance_to, started=result.started)


def ingest_tweets(source: Source, tweets, users, result: store.PollResult) -> None:
    """Customers' tweets into their threads (the caller's transaction); also the relay's."""
    brand = source.brand
    wanted = _wanted(brand, tweets)
    result.skipped += len(tweets) - len(wanted)
    items = store.unseen(brand, [_item(t) for t in wanted])
    if not items:
        return
    customers = store.upsert_customers(brand, items, users)
    why = screen.kept_out(brand, items)
    signals = store.signals(brand, items, users)
    noise = [i for i in items if i.id in why]
    queued = [i for i in items if i.id not in why]
    threads, filed = screen.file(source, noise, why, customers)
    threads |= store.threads_for(source, Channel.TWEET, queued, customers, signals, result)
    messages = store.insert_messages(brand, Channel.TWEET, items, threads, signals, result)
    screen.note(brand, noise, why, threads, filed)
    store.follow_ups(brand, queued, threads, messages, signals, result)
    if source.kind != Source.Kind.RELAY:  # an employee is answering those (inbox.ingest.relay)
        by_id = {t.id: t for t in wanted}
        fresh = [by_id[i.id] for i in queued]
        autoreply.answer(source, fresh, threads, customers)  # out of hours: once per window


def _wanted(brand: Brand, tweets) -> list[xgateway.XTweet]:
    """Skip the brand's own tweets and plain retweets (keep quotes and replies), and the
    tweets active employees tagged for the relay."""
    wanted = [t for t in tweets if t.author_id != brand.x_user_id and not t.is_retweet]
    relayed = screen.employees_tagged(brand, wanted)  # the relay answers those
    return [t for t in wanted if t.id not in relayed]


def _item(tweet: xgateway.XTweet) -> store.Item:
    return store.Item(
        id=tweet.id,
        author=tweet.author_id,
        conversation=tweet.conversation_id,
        text=tweet.expanded_text,
        created_at=tweet.created_at,
        in_reply_to=tweet.in_reply_to_tweet_id,
        raw=tweet.raw,
        media=tuple(m.stored() for m in tweet.media),
        lang=known_lang(tweet.lang),
    )
