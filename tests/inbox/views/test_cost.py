"""The cost class while typing, and the dashboard's spend today and this month."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from inbox import actions
from inbox.models import Reply
from tests.helpers import login


def test_the_reply_box_says_what_x_charges_while_typing(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    page = client.get(f"/t/{thread.id}/").content.decode()
    assert "X charges $0.01 for this answer (summoned reply)" in page
    typed = client.post(
        f"/t/{thread.id}/reply/check/",
        {"text": "@kim see acme.com/track"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "X charges $0.20 for this answer (post with a URL)" in typed
    plain = client.post(f"/t/{thread.id}/reply/check/", {"text": "@kim on its way"})
    assert "X charges $0.01 for this answer (summoned reply)" in plain.content.decode()


def test_the_dashboard_adds_up_todays_and_this_months_spend(
    client, agent, supervisor, thread, brand
):
    actions.do_claim(thread.id, agent=agent)
    reply = actions.do_send_reply(thread.id, agent=agent, text="@kim see acme.com/track")
    now = timezone.now()
    Reply.objects.filter(id=reply.id).update(
        status="posted", posted_x_id=1, posted_at=now, cost=Decimal("0.20")
    )
    older = Reply.objects.create(
        thread=thread, agent=agent, text="earlier", body="earlier ^AL", status="posted",
        posted_x_id=2, posted_at=now - timedelta(days=1), cost=Decimal("0.01"),
    )  # fmt: skip
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    login(client, supervisor.user)
    page = client.get("/sup/").content.decode()
    if older.posted_at >= month_start:  # yesterday is this month unless today is the 1st
        assert 'data-figure="spend-month">$0.210</strong>' in page
    assert 'data-figure="spend-today">$0.200</strong>' in page


def test_the_months_days_before_today_are_summed_once_a_day(agent, thread, brand):
    """inbox.figures.spend: the month before today is summed once (kept in Redis for the
    day) and today's posted rows read every time; the figures stay those of a full scan
    as replies are posted today, and a new day sums the month again."""
    from datetime import UTC, datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox import figures
    from tests.inbox.scenario import at

    noon = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)

    def posted(when, cost, n):
        Reply.objects.create(
            thread=thread, agent=agent, text="r", body="r", status="posted",
            posted_x_id=n, posted_at=when, cost=Decimal(cost),
        )  # fmt: skip

    posted(noon - timedelta(days=30), "5.00", 1)  # last month: not counted
    posted(noon - timedelta(days=10), "0.20", 2)
    posted(noon - timedelta(days=1), "0.01", 3)
    posted(noon - timedelta(hours=1), "0.015", 4)
    with at(noon):
        first = figures.spend(brand, noon)
    assert (first.today, first.month) == (Decimal("0.015"), Decimal("0.225"))
    posted(noon + timedelta(minutes=1), "0.20", 5)
    posted(noon + timedelta(minutes=2), "0.01", 6)
    later = noon + timedelta(minutes=3)
    with at(later), CaptureQueriesContext(connection) as executed:
        second = figures.spend(brand, later)
    assert (second.today, second.month) == (Decimal("0.225"), Decimal("0.435"))
    # Today's rows only: the month's earlier days come from Redis.
    (read,) = executed.captured_queries
    assert "2026-11-01" not in read["sql"] and "2026-11-18 00:00:00" in read["sql"]
    tomorrow = noon + timedelta(days=1)
    with at(tomorrow):
        next_day = figures.spend(brand, tomorrow)
    assert (next_day.today, next_day.month) == (Decimal("0"), Decimal("0.435"))
    first_of_december = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with at(first_of_december):
        december = figures.spend(brand, first_of_december)
    assert (december.today, december.month) == (Decimal("0"), Decimal("0"))
