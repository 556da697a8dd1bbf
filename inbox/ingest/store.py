"""What every poll shares, tweets and DMs alike: the poll's tally, the customers it
meets, the quarantine of malformed items, and the source's cursor and parking.

Each function runs inside the caller's page transaction (inbox.ingest.tweets,
inbox.ingest.dms), so a poll killed at any point loses nothing and stores nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from inbox.models import Brand, Customer, Quarantine, Source

TRANSIENT_BACKOFF = timedelta(seconds=30)


@dataclass
class PollResult:
    source_id: int
    ran: bool = True
    pages: int = 0
    ingested: int = 0
    skipped: int = 0
    quarantined: int = 0
    error: str = ""
    new_thread_ids: list[int] = field(default_factory=list)


def park(source: Source, until, reason: str) -> None:
    Source.objects.filter(id=source.id).update(
        next_poll_after=until,
        last_error=reason[:1000],
        last_polled_at=timezone.now(),
        rate_limited_until=until if "Rate limited" in reason else None,
    )


def advance_cursor(source: Source, advance_to: int | None) -> None:
    """Record the poll; on the last page (`advance_to` set) move since_id forward."""
    now = timezone.now()
    update = {"last_polled_at": now, "next_poll_after": now + source.poll_interval}
    if advance_to is not None:
        update |= {"last_error": "", "rate_limited_until": None}
        if advance_to > (source.since_id or 0):
            update["since_id"] = advance_to
    Source.objects.filter(id=source.id).update(**update)


def quarantine(source: Source, malformed, result: PollResult) -> None:
    if malformed:
        Quarantine.objects.bulk_create(
            Quarantine(source=source, raw=jsonable(m.raw), error=m.error[:1000]) for m in malformed
        )
        result.quarantined += len(malformed)


def jsonable(raw: object) -> object:
    return raw if isinstance(raw, dict | list | str | int | float | bool | None) else repr(raw)


def upsert_customers(brand: Brand, tweets, users) -> dict[int, int]:
    """{x user id: customer id}, profiles refreshed from this page's `includes.users`."""
    rows = {}
    for tweet in tweets:
        user = users.get(tweet.author_id)
        rows[tweet.author_id] = Customer(
            brand=brand,
            x_user_id=tweet.author_id,
            handle=(user.username if user else str(tweet.author_id))[:15],
            name=(user.name if user else "")[:100],
            followers_count=max(user.followers_count, 0) if user else 0,
            verified=bool(user and user.verified),
            description=user.description if user else "",
            profile_image_url=(user.profile_image_url if user else "")[:200],
        )
    Customer.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["brand", "x_user_id"],
        update_fields=[
            "handle",
            "name",
            "followers_count",
            "verified",
            "description",
            "profile_image_url",
            "updated_at",
        ],
    )
    return dict(
        Customer.objects.filter(brand=brand, x_user_id__in=rows).values_list("x_user_id", "id")
    )
