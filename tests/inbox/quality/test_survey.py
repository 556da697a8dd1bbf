"""Satisfaction after close (inbox.quality.survey): one DM with a signed one-time link to a
public one-question page; results on the dashboard and in the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from inbox import actions
from inbox.integrations import tokens
from inbox.models import Event, Message, Reply, Survey, Thread, ThreadStatus
from inbox.quality import survey
from tests.helpers import make_thread


@pytest.fixture
def dm_thread(brand, customer) -> Thread:
    """The customer's DM conversation with the brand (closed long ago), which they began:
    X takes the brand's DMs to them."""
    thread = make_thread(
        brand,
        customer,
        customer.x_user_id,
        channel="dm",
        status=ThreadStatus.CLOSED,
        closed_at=timezone.now(),
    )
    Message.objects.create(
        brand=brand,
        thread=thread,
        x_id=77_001,
        channel="dm",
        direction="in",
        author_x_id=customer.x_user_id,
        text="is my order on its way?",
        conversation_id=customer.x_user_id,
        sent_at=timezone.now() - timedelta(days=30),
    )
    return thread


def answered(thread: Thread, agent) -> Thread:
    Thread.objects.filter(id=thread.id).update(
        status=ThreadStatus.ANSWERED, last_answered_by=agent, first_response_at=timezone.now()
    )
    return thread


@pytest.fixture
def surveying(brand):
    brand.survey_enabled = True
    brand.save(update_fields=["survey_enabled"])
    return brand


def link_of(reply: Reply) -> str:
    return re.search(r"/s/([^/\s]+)/", reply.body).group(1)


def test_closing_sends_one_dm_with_a_signed_link(
    surveying, thread, dm_thread, agent, django_capture_on_commit_callbacks
):
    answered(thread, agent)
    with django_capture_on_commit_callbacks() as hooks:
        actions.do_close(thread.id, agent=agent)
    made = Survey.objects.get()
    assert made.thread == thread and made.agent == agent and made.answered_at is None
    assert made.reply.thread == dm_thread and made.reply.channel == "dm"
    assert made.reply.agent is None and made.reply.status == "queued"
    assert signing.loads(link_of(made.reply), salt=survey.SALT) == made.id
    assert Event.objects.filter(verb="survey_sent", thread=thread).exists()
    assert any("post_reply" in getattr(h, "__qualname__", "") for h in hooks)


def test_no_survey_without_a_dm_conversation_or_when_off(brand, thread, agent, surveying):
    answered(thread, agent)
    actions.do_close(thread.id, agent=agent)  # no DM thread with this customer
    assert not Survey.objects.exists() and not Reply.objects.filter(channel="dm").exists()


def test_no_survey_when_the_brand_does_not_ask(brand, thread, dm_thread, agent):
    answered(thread, agent)
    actions.do_close(thread.id, agent=agent)
    assert not Survey.objects.exists()


def test_one_survey_per_customer_per_window(surveying, brand, customer, dm_thread, agent):
    first, second = make_thread(brand, customer, 1), make_thread(brand, customer, 2)
    for thread in (first, second):
        answered(thread, agent)
        actions.do_close(thread.id, agent=agent)
    assert Survey.objects.count() == 1


@pytest.fixture
def sent(surveying, thread, dm_thread, agent) -> tuple[Survey, str]:
    answered(thread, agent)
    actions.do_close(thread.id, agent=agent)
    made = Survey.objects.get()
    return made, link_of(made.reply)


def test_the_customer_answers_once_without_login(client, sent):
    made, link = sent
    page = client.get(f"/s/{link}/")
    assert page.status_code == 200 and b"How did @acmecares do?" in page.content
    assert page["Referrer-Policy"] == "no-referrer"
    response = client.post(f"/s/{link}/", {"score": 5, "comment": "Quick <b>and</b> kind"})
    assert response.status_code == 200 and b"Thank you" in response.content
    made.refresh_from_db()
    assert (made.score, made.comment) == (5, "Quick <b>and</b> kind")
    event = Event.objects.get(verb="survey_answered")
    assert event.detail["score"] == 5 and event.detail["agent"] == made.agent_id
    # Reused: nothing changes.
    again = client.post(f"/s/{link}/", {"score": 1})
    assert b"answered already" in again.content
    made.refresh_from_db()
    assert made.score == 5 and Event.objects.filter(verb="survey_answered").count() == 1


def test_the_action_refuses_a_second_answer(sent):
    _, link = sent
    survey.answer(link, score=4)
    with pytest.raises(survey.LinkRefused):
        survey.answer(link, score=1)
    assert Survey.objects.get().score == 4


@pytest.mark.parametrize(
    "mangle",
    [
        lambda link: link[:-2] + ("AA" if not link.endswith("AA") else "BB"),  # signature
        lambda link: signing.dumps(99, salt="another.salt"),  # another salt
        lambda link: "forged",
    ],
)
def test_a_forged_link_records_nothing(client, sent, mangle):
    made, link = sent
    bad = mangle(link)
    assert client.get(f"/s/{bad}/").status_code == 404
    assert client.post(f"/s/{bad}/", {"score": 5}).status_code == 404
    made.refresh_from_db()
    assert made.answered_at is None
    assert not Event.objects.filter(verb="survey_answered").exists()


def test_another_surveys_id_signed_by_us_but_unknown_is_refused(client, sent):
    bad = signing.dumps(10**9, salt=survey.SALT)
    assert client.post(f"/s/{bad}/", {"score": 5}).status_code == 404


def test_an_expired_link_records_nothing(client, sent, settings):
    made, link = sent
    with time_machine.travel(timezone.now() + timedelta(days=settings.SURVEY_LINK_DAYS, hours=1)):
        response = client.post(f"/s/{link}/", {"score": 5})
    assert response.status_code == 404 and b"expired" in response.content
    made.refresh_from_db()
    assert made.answered_at is None


def test_a_bad_score_is_the_form_again(client, sent):
    made, link = sent
    response = client.post(f"/s/{link}/", {"score": 9})
    assert response.status_code == 200 and b"errorlist" in response.content
    made.refresh_from_db()
    assert made.answered_at is None


def test_results_per_agent_team_and_day_on_the_dashboard_and_in_the_api(
    client, sent, supervisor, admin_agent, agent
):
    _, link = sent
    survey.answer(link, score=4)
    client.force_login(supervisor.user)
    page = client.get("/sup/").content.decode()
    assert 'data-figure="surveys-answered">1<' in page
    assert 'data-figure="satisfaction-average">4.00<' in page
    token = tokens.create_token(actor=admin_agent, name="BI", scope="read").token
    client.logout()
    body = client.get("/api/v1/satisfaction", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["sent"] == 1
    assert body["team"] == {"answered": 1, "average": 4.0, "satisfied": 1}
    assert body["agents"] == [
        {
            "agent_id": agent.id,
            "agent_name": agent.name,
            "answered": 1,
            "average": 4.0,
            "satisfied": 1,
        }
    ]
    assert len(body["days"]) == 1 and body["days"][0]["answered"] == 1
    bad = client.get(
        "/api/v1/satisfaction",
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert bad.status_code == 400


def test_the_brand_settings_page_turns_surveys_on(client, brand, admin_agent):
    from inbox.views.brand import _initial

    client.force_login(admin_agent.user)
    data = {k: v for k, v in _initial(brand).items() if v not in (False, None)}
    data["survey_enabled"] = "on"
    assert client.post("/brand/", data).status_code == 302
    brand.refresh_from_db()
    assert brand.survey_enabled


# --- never a DM X would refuse; never a DM an answer needs (issue 20) ----------------------


def test_a_dm_thread_we_opened_is_no_conversation(
    surveying, brand, customer, thread, agent, django_capture_on_commit_callbacks
):
    # A move to DM made this thread; the customer never wrote in it, so X may refuse.
    make_thread(brand, customer, customer.x_user_id, channel="dm", status=ThreadStatus.CLOSED)
    answered(thread, agent)
    with django_capture_on_commit_callbacks() as hooks:
        actions.do_close(thread.id, agent=agent)
    assert not Survey.objects.exists() and not Reply.objects.filter(channel="dm").exists()
    names = [getattr(h, "__qualname__", "") for h in hooks]
    assert any("offer_survey" in name for name in names)  # X is asked after commit
    assert not any("post_reply" in name for name in names)


@pytest.fixture
def closed_without_dms(surveying, thread, agent) -> Thread:
    answered(thread, agent)
    actions.do_close(thread.id, agent=agent)
    assert not Survey.objects.exists()
    return thread


def test_it_sends_when_x_says_the_customer_receives_our_dms(
    closed_without_dms, agent, monkeypatch, django_capture_on_commit_callbacks
):
    from inbox.outbox import surveys
    from twelp import xgateway

    asked = []
    monkeypatch.setattr(xgateway, "receives_dms", lambda user_id: asked.append(user_id) or True)
    with django_capture_on_commit_callbacks() as hooks:
        made = surveys.offer(closed_without_dms.id)
    assert asked == [closed_without_dms.customer.x_user_id]
    assert made is not None and made.agent == agent
    reply = Reply.objects.get(id=made.reply_id)
    assert reply.channel == "dm" and reply.agent is None
    dm = reply.thread  # made for it, closed: nothing new waits in the queue
    assert (dm.channel, dm.status, dm.customer_id) == (
        "dm",
        "closed",
        closed_without_dms.customer_id,
    )
    assert any("post_reply" in getattr(h, "__qualname__", "") for h in hooks)
    # Run twice (a task redelivered): still one survey.
    assert surveys.offer(closed_without_dms.id) is None
    assert Survey.objects.count() == 1


@pytest.mark.parametrize("answer", [False, None], ids=["no", "X refuses the look-up"])
def test_it_sends_nothing_when_x_does_not_say_yes(closed_without_dms, monkeypatch, answer):
    from inbox.outbox import surveys
    from twelp import xgateway

    def receives_dms(user_id: int) -> bool:
        if answer is None:
            raise xgateway.Permanent("403 Forbidden")
        return answer

    monkeypatch.setattr(xgateway, "receives_dms", receives_dms)
    assert surveys.offer(closed_without_dms.id) is None
    assert not Survey.objects.exists() and not Reply.objects.exists()


def test_a_reopened_thread_gets_no_survey(closed_without_dms, agent, monkeypatch):
    from inbox.outbox import surveys
    from twelp import xgateway

    Thread.objects.filter(id=closed_without_dms.id).update(status=ThreadStatus.OPEN)
    monkeypatch.setattr(xgateway, "receives_dms", lambda user_id: True)
    assert surveys.offer(closed_without_dms.id) is None
    assert not Survey.objects.exists()


def test_no_survey_takes_a_dm_an_answer_needs(surveying, settings, brand, thread, dm_thread, agent):
    from inbox.models import PostingBudget

    settings.SURVEY_DM_RESERVE = 10
    later = timezone.now() + timedelta(hours=5)
    PostingBudget.objects.create(
        brand=brand,
        kind="dms",
        limit=15,
        remaining=15,
        reset_at=later,
        day_limit=1440,
        day_remaining=12,
        day_reset_at=later,
    )
    # Two DMs already wait: 12 left - 2 waiting = 10, not more than the reserve.
    for n in range(2):
        Reply.objects.create(thread=dm_thread, agent=agent, channel="dm", text=f"a{n}", body="a")
    answered(thread, agent)
    actions.do_close(thread.id, agent=agent)
    assert not Survey.objects.exists()
    assert Reply.objects.filter(agent=None).count() == 0


def test_a_survey_goes_while_the_budget_has_room(
    surveying, settings, brand, thread, dm_thread, agent
):
    settings.SURVEY_DM_RESERVE = 10
    answered(thread, agent)
    actions.do_close(thread.id, agent=agent)  # nothing known of the budget: X's 1,440 a day
    assert Survey.objects.count() == 1
