"""X pages built in memory, for ingest tests that need no sandbox (the sandbox's HTTP path
is tested in tests/inbox/ingest/test_poll.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from inbox.ingest import store
from inbox.ingest import tweets as tweet_pages
from inbox.models import Source
from twelp.xgateway import XPage, XTweet, XUser


def user(x_id: int, *, followers: int = 10, verified: bool = False) -> XUser:
    return XUser(
        id=x_id,
        username=f"user{x_id}",
        name=f"User {x_id}",
        followers_count=followers,
        verified=verified,
    )


def tweet(x_id: int, text: str, *, author: int, conversation: int | None = None) -> XTweet:
    return XTweet(
        id=x_id,
        text=text,
        author_id=author,
        conversation_id=conversation or x_id,
        created_at=timezone.now() - timedelta(minutes=5) + timedelta(milliseconds=x_id % 1000),
    )


def ingest(source: Source, tweets: list[XTweet], users: list[XUser]) -> store.PollResult:
    result = store.PollResult(source.id)
    page = XPage(tweets=tuple(tweets), users={u.id: u for u in users})
    tweet_pages.ingest_page(source, page, result, advance_to=None)
    return result
