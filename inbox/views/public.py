"""The public stream: the brand's posted answers and approved brand tweets, newest first,
each with its employee's public credit, as Twelpforce showed the whole team's answers in
one place.

Only posted public tweets (never DMs, notes, failed or pending replies); of the employee
only the credit code and their own X handle, which the tweet already shows the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from agents.access import anyone
from inbox.models import Brand, BrandTweet, Channel, Reply, ReplyStatus
from inbox.rules import keyset

PAGE_SIZE = 30


@dataclass(frozen=True)
class Answer:
    id: int
    text: str
    credit: str
    handle: str
    posted_at: datetime
    x_id: int


def answers(brand: Brand, after: tuple[datetime, int] | None) -> tuple[list[Answer], str | None]:
    """Replies and approved brand tweets (inbox.proposals), merged newest first; the
    cursor is (posted_at, X id): X ids are unique across both tables."""
    # Not an answer to content X says must not be shown (inbox.data.compliance).
    replies = Reply.objects.filter(
        thread__brand=brand, status=ReplyStatus.POSTED, channel=Channel.TWEET, thread__x_hidden=""
    ).values(handle=F("agent__x_handle"), credit_=F("credit"))
    tweets = BrandTweet.objects.filter(brand=brand, status=ReplyStatus.POSTED).values(
        handle=F("proposal__author__x_handle"), credit_=F("proposal__credit")
    )
    rows = sorted(
        [*_newest(replies, after), *_newest(tweets, after)],
        key=lambda row: (row["posted_at"], row["posted_x_id"]),
        reverse=True,
    )
    page = [
        Answer(
            id=row["id"],
            text=row["body"].removesuffix(row["credit_"]) if row["credit_"] else row["body"],
            credit=row["credit_"].strip(),
            handle=row["handle"] or "",
            posted_at=row["posted_at"],
            x_id=row["posted_x_id"],
        )
        for row in rows[: PAGE_SIZE + 1]
    ]
    if len(page) <= PAGE_SIZE:
        return page, None
    last = page[PAGE_SIZE - 1]
    return page[:PAGE_SIZE], keyset.encode(last.posted_at, last.x_id)


def _newest(rows: QuerySet, after: tuple[datetime, int] | None) -> list[dict]:
    # Only public columns leave the database: no agent name, no thread, no customer data.
    if after is not None:
        when, x_id = after
        rows = rows.filter(Q(posted_at__lt=when) | Q(posted_at=when, posted_x_id__lt=x_id))
    rows = rows.values("id", "body", "posted_at", "posted_x_id", "handle", "credit_")
    return list(rows.order_by("-posted_at", "-posted_x_id")[: PAGE_SIZE + 1])


@require_safe
@anyone
@cache_control(public=True, max_age=30)
@vary_on_headers("HX-Request")
def stream(request: HttpRequest) -> HttpResponse:
    brand = Brand.objects.order_by("id").first()  # one brand account per deployment
    if brand is None:
        raise Http404(_("No brand yet."))
    after = keyset.decode(request.GET.get("after", ""), datetime, int)
    page, next_cursor = answers(brand, after)
    context = {"brand": brand, "answers": page, "next_cursor": next_cursor, "paging": after}
    if request.htmx and after is not None:
        return render(request, "inbox/stream.html#answers", context)
    return render(request, "inbox/stream.html", context)
