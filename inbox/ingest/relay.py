"""The hashtag relay, as @Twelpforce began: an employee answers a customer from their own
X account with the brand's relay hashtag, and the brand posts that answer with their credit.

A Source of kind `relay` is polled like any other (inbox.ingest.poll: one poll at a time,
every page newer than since_id) with the query `#<tag> -is:retweet`. Per page:

1. Outside any transaction, look up the tweets that active employees answered (one call
   per page), so the slow call to X never holds a lock.
2. In one transaction (with the cursor): every tagged tweet becomes a RelayTweet, unique
   per X id, so a repeated or concurrent poll relays nothing twice. A tweet by an ACTIVE
   employee (matched by X user id, never by handle: a freed handle can be taken by
   anyone) that answers a customer becomes a Reply from the brand in the customer's
   thread (found or created as ingest does), posted by the outbox. Anything else is kept
   as ignored, with its reason and an Event in the audit trail; an answer that does not
   fit X's 280 with the credit is kept as too long, never truncated.

The brand's reply is `@customer <the employee's words>` + credit: the hashtag and the
@mentions X puts in front of a reply (the brand among them) are dropped. The mentions
poll skips an active employee's tagged tweets (`employees_tagged`): the relay answers
them, they are not a customer writing again.
"""

from __future__ import annotations

import logging
import re

from django.db import IntegrityError, transaction

from agents.models import Agent, AgentState
from inbox import actions, events
from inbox.ingest import store, tweets
from inbox.models import Brand, Message, RelayTweet, Source, Verb
from inbox.rules import pii, reasons
from inbox.rules.text import (
    MAX_WEIGHTED_LENGTH,
    is_hashtag,
    relay_hashtag,
    render_body,
    strip_hashtag,
    weighted_length,
)
from twelp import xgateway

log = logging.getLogger(__name__)

_NOT_ACTIVE = {  # inbox.rules.reasons' codes
    AgentState.PENDING: "relay_pending",
    AgentState.REJECTED: "relay_rejected",
    AgentState.DEACTIVATED: "relay_deactivated",
}
_EMPTY = xgateway.XPage(tweets=(), users={})
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15})+")


def query_for(brand: Brand) -> str:
    tag = relay_hashtag(brand)
    if not is_hashtag(tag):
        # Our words, not X's: the poller parks the source and shows why in its reader's
        # language (never as "X refused the request: ...": X was not asked).
        raise store.Unpollable(reasons.make("relay_bad_hashtag", hashtag=brand.relay_hashtag))
    return f"#{tag} -is:retweet"


def fetch(source: Source, token: str | None) -> xgateway.XPage:
    """The page after `token` of the tagged tweets newer than since_id."""
    return xgateway.search_recent(
        query_for(source.brand), since_id=source.since_id, next_token=token
    )


def ingest_page(
    source: Source, page: xgateway.XPage, result: store.PollResult, *, advance_to: int | None
) -> None:
    """inbox.ingest.poll's page step for a relay source (same contract as tweets.ingest_page)."""
    brand = source.brand
    tagged = [t for t in page.tweets if not t.is_retweet]
    known = set(
        RelayTweet.objects.filter(brand=brand, x_id__in=[t.id for t in tagged]).values_list(
            "x_id", flat=True
        )
    )
    fresh = [t for t in tagged if t.id not in known]
    staff = _staff(brand, {t.author_id for t in fresh})
    answered = {
        t.in_reply_to_tweet_id
        for t in fresh
        if t.in_reply_to_tweet_id and getattr(staff.get(t.author_id), "is_active", False)
    }
    parents = xgateway.get_tweets(sorted(answered)) if answered else _EMPTY
    _record(source, page, fresh, staff, parents, result, advance_to)


def _staff(brand: Brand, x_user_ids: set[int]) -> dict[int, Agent]:
    if not x_user_ids:
        return {}
    rows = Agent.objects.filter(brand=brand, x_user_id__in=x_user_ids)
    return {agent.x_user_id: agent for agent in rows}


@transaction.atomic
def _record(source, page, fresh, staff, parents, result, advance_to) -> None:
    brand = source.brand
    store.quarantine(source, page.malformed, result)
    by_id = {t.id: t for t in parents.tweets}
    parent_staff = _staff(brand, {t.author_id for t in parents.tweets})
    for tweet in sorted(fresh, key=lambda t: t.id):
        user = page.users.get(tweet.author_id)
        handle = user.username if user else str(tweet.author_id)
        parent = by_id.get(tweet.in_reply_to_tweet_id or 0)
        agent = staff.get(tweet.author_id)
        reason, text = _judge(brand, tweet, handle, agent, parent, parent_staff, parents.users)
        outcome = RelayTweet.Outcome.RELAYED if not reason else RelayTweet.Outcome.IGNORED
        if text and reason:
            outcome = RelayTweet.Outcome.TOO_LONG
        row = RelayTweet(
            brand=brand,
            x_id=tweet.id,
            author_x_id=tweet.author_id,
            author_handle=handle[:15],
            agent=agent,
            in_reply_to_x_id=tweet.in_reply_to_tweet_id,
            text=tweet.expanded_text,
            outcome=outcome,
            reason=reasons.english(reason)[:300],  # English: the log's and the API's
        )
        row.why = reason  # the audit trail's (its reader's language)
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            continue  # a concurrent poll recorded (and relayed) it first
        if outcome == RelayTweet.Outcome.RELAYED:
            _relay(source, row, parent, parents.users, agent, text, result)
        else:
            _log(row)
    store.advance_cursor(source, advance_to, started=result.started)


def _judge(
    brand, tweet, handle, agent, parent, parent_staff, users
) -> tuple[reasons.Reason | None, str]:
    """(why not, "") to ignore; (None, text) to relay; (why not, text) when too long. Why
    not is a code (inbox.rules.reasons)."""
    if agent is None:
        return reasons.make("relay_not_employee", handle=handle), ""
    if not agent.is_active:
        return reasons.make(_NOT_ACTIVE[agent.state], handle=handle), ""
    if tweet.in_reply_to_tweet_id is None:
        return reasons.make("relay_not_reply"), ""
    if parent is None or parent.is_retweet:
        return reasons.make("relay_parent_missing"), ""
    if parent.author_id == brand.x_user_id or parent.author_id in parent_staff:
        return reasons.make("relay_not_customer"), ""
    customer = users.get(parent.author_id)
    customer_handle = customer.username if customer else str(parent.author_id)
    words = _LEADING_MENTIONS.sub(
        "", strip_hashtag(tweet.expanded_text, relay_hashtag(brand))
    ).strip()
    if not words:
        return reasons.make("relay_empty"), ""
    text = f"@{customer_handle} {words}"
    if findings := pii.find(text):
        kinds = sorted({finding.kind for finding in findings})
        return reasons.make("relay_personal_data", kinds=kinds), ""
    body, credit = render_body(text, agent)
    length = weighted_length(body)
    if length > MAX_WEIGHTED_LENGTH:
        why = reasons.make("relay_too_long", credit=credit, length=length, max=MAX_WEIGHTED_LENGTH)
        return why, text
    return None, text


def _relay(source, row, parent, users, agent, text, result) -> None:
    tweets.ingest_tweets(source, [parent], users, result)
    message = Message.objects.select_related("thread").get(brand=source.brand, x_id=parent.id)
    reply = actions.do_relay_reply(
        message.thread, message, agent=agent, text=text, relayed_x_id=row.x_id
    )
    row.reply = reply
    row.save(update_fields=["reply"])


def _log(row: RelayTweet) -> None:
    """Not relayed: a row and an Event in the audit trail, where supervisors see it."""
    log.info("Relay tweet %s by @%s not relayed: %s", row.x_id, row.author_handle, row.reason)
    events.record(
        Verb(f"relay_{row.outcome}"),
        brand_id=row.brand_id,
        actor=row.agent,
        tweet=row.x_id,
        author=f"@{row.author_handle}",
        **events.why(getattr(row, "why", None) or row.reason),
    )
