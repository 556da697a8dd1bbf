"""Answer review (inbox.quality.review), its pages (inbox.views.review), the agent's profile,
the dashboard's scores, and trainees' practice read by their supervisors."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from inbox.errors import ActionError
from inbox.models import AnswerReview, Brand, Customer, Event, Message, Reply
from inbox.quality import review
from tests.helpers import make_agent, make_thread

_ids = itertools.count(5_000)


def posted(thread, agent, text="Sorry! Try a restart.") -> Reply:
    x_id = next(_ids)
    Message.objects.create(
        brand_id=thread.brand_id,
        thread=thread,
        x_id=x_id,
        direction="out",
        author_x_id=1,
        text=f"{text} ^{agent.credit_code}",
        conversation_id=thread.conversation_id,
        sent_at=timezone.now(),
    )
    return Reply.objects.create(
        thread=thread,
        agent=agent,
        text=text,
        body=f"{text} ^{agent.credit_code}",
        status="posted",
        posted_x_id=x_id,
        posted_at=timezone.now(),
    )


SCORES = {"accuracy": 4, "tone": 5, "policy": 3}


def test_a_supervisor_reviews_an_answer_once(thread, agent, supervisor, admin_agent):
    answer = posted(thread, agent)
    made = review.do_review(answer.id, reviewer=supervisor, feedback="Good", **SCORES)
    assert (made.agent, made.accuracy, made.tone, made.policy) == (agent, 4, 5, 3)
    event = Event.objects.get(verb="answer_reviewed")
    assert event.thread_id == thread.id and event.detail["reply"] == answer.id
    with pytest.raises(ActionError, match="reviewed already"):
        review.do_review(answer.id, reviewer=admin_agent, **SCORES)
    assert AnswerReview.objects.count() == 1


def test_scores_out_of_range_or_own_answers_or_agents_are_refused(thread, agent, supervisor):
    answer = posted(thread, agent)
    with pytest.raises(ActionError):
        review.do_review(answer.id, reviewer=supervisor, accuracy=6, tone=1, policy=1)
    with pytest.raises(ActionError):
        review.do_review(answer.id, reviewer=agent, **SCORES)
    own = posted(thread, supervisor)
    with pytest.raises(ActionError, match="own answers"):
        review.do_review(own.id, reviewer=supervisor, **SCORES)
    assert not AnswerReview.objects.exists()


def test_another_brands_answer_cannot_be_reviewed(thread, agent):
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    boss = make_agent(other, "olga", role="supervisor")
    answer = posted(thread, agent)
    with pytest.raises(Reply.DoesNotExist):
        review.do_review(answer.id, reviewer=boss, **SCORES)


def test_the_sample_is_posted_unreviewed_answers_filtered(
    brand, customer, agent, second_agent, supervisor
):
    threads = [make_thread(brand, customer, n) for n in range(1, 7)]
    mine = [posted(t, agent) for t in threads[:3]]
    theirs = [posted(t, second_agent) for t in threads[3:]]
    Reply.objects.create(thread=threads[0], agent=agent, text="q", body="q", status="queued")
    review.do_review(mine[0].id, reviewer=supervisor, **SCORES)
    everyone = review.sample(supervisor, count=50)
    assert {r.id for r in everyone} == {r.id for r in mine[1:] + theirs}
    only = review.sample(supervisor, agent_id=second_agent.id, count=50)
    assert {r.id for r in only} == {r.id for r in theirs}
    assert len(review.sample(supervisor, count=2)) == 2


def test_the_review_page_scores_an_answer(client, thread, agent, supervisor):
    answer = posted(thread, agent, "<b>bold</b> fix")
    client.force_login(supervisor.user)
    page = client.get(f"/sup/review/{answer.id}/").content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    response = client.post(f"/sup/review/{answer.id}/", {**SCORES, "feedback": "Say sorry first"})
    assert response.status_code == 302
    assert AnswerReview.objects.get().feedback == "Say sorry first"
    again = client.get(f"/sup/review/{answer.id}/").content.decode()
    assert "data-reviewed" in again


def test_a_bad_review_form_says_why_and_saves_nothing(client, thread, agent, supervisor):
    answer = posted(thread, agent)
    client.force_login(supervisor.user)
    response = client.post(f"/sup/review/{answer.id}/", {"accuracy": 9})
    assert response.status_code == 200 and b"errorlist" in response.content
    assert not AnswerReview.objects.exists()


def test_the_sample_page_lists_a_sample(client, thread, agent, supervisor):
    answer = posted(thread, agent)
    client.force_login(supervisor.user)
    page = client.get("/sup/review/", {"sample": 1, "days": 7, "count": 5}).content.decode()
    assert f'data-reply-id="{answer.id}"' in page


def test_the_agent_sees_feedback_on_their_profile(client, thread, agent, supervisor):
    answer = posted(thread, agent)
    review.do_review(answer.id, reviewer=supervisor, feedback="Lovely & <kind>", **SCORES)
    client.force_login(agent.user)
    page = client.get("/team/me/").content.decode()
    assert "Reviews of your answers" in page and "Lovely &amp; &lt;kind&gt;" in page


def test_scores_feed_the_dashboard(client, thread, agent, supervisor):
    answer = posted(thread, agent)
    review.do_review(answer.id, reviewer=supervisor, **SCORES)
    client.force_login(supervisor.user)
    page = client.get("/sup/").content.decode()
    assert 'data-figure="reviews">1<' in page
    row = page.split(f'<tr data-agent-id="{agent.id}">', 1)[1].split("</tr>", 1)[0]
    assert "<td>4.0</td><td>5.0</td><td>3.0</td>" in row


# --- trainees' practice, for supervisors of the live brand ---------------------------------


@pytest.fixture
def trainee_with_practice(brand):
    training = Brand.objects.create(
        name="Acme (training)", handle="acmetrain", x_user_id=9_000_009, training_for=brand
    )
    trainee = make_agent(training, "tina")
    customer = Customer.objects.create(brand=training, x_user_id=77, handle="sim_sam")
    practice = make_thread(training, customer, 900)
    Message.objects.create(
        brand=training,
        thread=practice,
        x_id=900,
        direction="in",
        author_x_id=77,
        text="my <i>phone</i> broke",
        conversation_id=900,
        sent_at=timezone.now(),
    )
    answer = posted(practice, trainee, "So sorry, DM us")
    Reply.objects.create(
        thread=practice,
        agent=trainee,
        text="a draft refused",
        body="a draft refused",
        status="failed",
    )
    return trainee, answer


def test_a_supervisor_reads_a_trainees_practice_with_the_replies(
    client, supervisor, trainee_with_practice
):
    trainee, answer = trainee_with_practice
    client.force_login(supervisor.user)
    response = client.get(f"/team/training/{trainee.id}/practice/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "my &lt;i&gt;phone&lt;/i&gt; broke" in page
    assert "So sorry, DM us" in page and "a draft refused" in page
    assert f'data-review-reply="{answer.id}"' in page


def test_a_supervisor_reviews_a_trainees_practice_answer(client, supervisor, trainee_with_practice):
    trainee, answer = trainee_with_practice
    client.force_login(supervisor.user)
    response = client.post(f"/sup/review/{answer.id}/", SCORES)
    assert response.status_code == 302 and response["Location"].endswith(
        f"/team/training/{trainee.id}/practice/"
    )
    assert AnswerReview.objects.get().agent == trainee


def test_another_brands_supervisor_or_an_agent_gets_no_practice(
    client, agent, trainee_with_practice
):
    trainee, _ = trainee_with_practice
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    boss = make_agent(other, "olga", role="supervisor")
    client.force_login(boss.user)
    assert client.get(f"/team/training/{trainee.id}/practice/").status_code == 404
    client.force_login(agent.user)
    assert client.get(f"/team/training/{trainee.id}/practice/").status_code == 403


def test_the_training_page_links_to_the_practice(client, supervisor, trainee_with_practice):
    trainee, _ = trainee_with_practice
    client.force_login(supervisor.user)
    page = client.get("/team/training/").content.decode()
    assert f"/team/training/{trainee.id}/practice/" in page
