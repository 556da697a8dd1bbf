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
