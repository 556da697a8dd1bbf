"""The public stream: the brand's posted answers, newest first, each with its employee's
public credit, as Twelpforce showed the whole team's answers in one place.

Only posted public tweets (never DMs, notes, failed or pending replies); of the employee
only the credit code and their own X handle, which the tweet already shows the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from agents.access import anyone
from inbox.models import Brand, Channel, Reply, ReplyStatus

PAGE_SIZE = 30
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Answer:
    id: int
    text: str
    credit: str
    handle: str
    posted_at: datetime
    x_id: int


def _cursor(value: str) -> tuple[datetime, int] | None:
    try:
        micros, pk = value.split("_")
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, OverflowError):
        return None


def answers(brand: Brand, after: tuple[datetime, int] | None) -> tuple[list[Answer], str | None]:
    rows = Reply.objects.filter(
        thread__brand=brand, status=ReplyStatus.POSTED, channel=Channel.TWEET
    ).order_by("-posted_at", "-id")
    if after is not None:
        when, pk = after
        rows = rows.filter(Q(posted_at__lt=when) | Q(posted_at=when, id__lt=pk))
    # Only public columns leave the database: no agent name, no thread, no customer data.
    fields = ("id", "body", "credit", "posted_at", "posted_x_id", "agent__x_handle")
    page = [
        Answer(
            id=row["id"],
            text=row["body"].removesuffix(row["credit"]) if row["credit"] else row["body"],
            credit=row["credit"].strip(),
            handle=row["agent__x_handle"] or "",
            posted_at=row["posted_at"],
            x_id=row["posted_x_id"],
        )
        for row in rows.values(*fields)[: PAGE_SIZE + 1]
    ]
    if len(page) <= PAGE_SIZE:
        return page, None
    last = page[PAGE_SIZE - 1]
    micros = (last.posted_at - _EPOCH) // timedelta(microseconds=1)
    return page[:PAGE_SIZE], f"{micros}_{last.id}"


@require_GET
@anyone
@cache_control(public=True, max_age=30)
@vary_on_headers("HX-Request")
def stream(request: HttpRequest) -> HttpResponse:
    brand = Brand.objects.order_by("id").first()  # one brand account per deployment
    if brand is None:
        raise Http404("No brand yet.")
    after = _cursor(request.GET.get("after", ""))
    page, next_cursor = answers(brand, after)
    context = {"brand": brand, "answers": page, "next_cursor": next_cursor, "paging": after}
    if request.htmx and after is not None:
        return render(request, "inbox/stream.html#answers", context)
    return render(request, "inbox/stream.html", context)
