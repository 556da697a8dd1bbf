"""Proposed brand tweets: any employee proposes, a supervisor decides, the brand posts once
(tweepy over real HTTP to the sandbox)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from inbox import proposals
from inbox.errors import ActionError
from inbox.models import Brand, BrandTweet, Event, Proposal
from inbox.outbox import brand_tweets as outbox_tweets
from tests.helpers import make_agent
from tests.sandbox import BRAND_ID
from twelp import xgateway
from twelp.xsandbox.models import Tweet


@pytest.fixture
def brand(sandbox, twelp_pages) -> Brand:
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


def csrf_login(agent) -> tuple[Client, str]:
    """A client that enforces CSRF, logged in, with the token its pages hand out."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    client.get("/proposals/")
    return client, client.cookies["csrftoken"].value


def propose(agent, text: str):
    client, token = csrf_login(agent)
    return client.post("/proposals/", {"text": text, "csrfmiddlewaretoken": token})


def brand_tweets() -> list[Tweet]:
    return list(Tweet.objects.filter(author_id=BRAND_ID, in_reply_to_tweet_id__isnull=True))


def test_any_active_employee_proposes_and_sees_it_waiting(agent):
    response = propose(agent, "  Tip: hold the power button 10 s to reset your router.  ")
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert (proposal.author_id, proposal.status) == (agent.id, "proposed")
    assert proposal.body == "Tip: hold the power button 10 s to reset your router. ^AL"
    assert Event.objects.get(verb="proposed").detail == {"proposal": proposal.id}
    page = Client()
    page.force_login(agent.user)
    html = page.get("/proposals/").content.decode()
    assert "Tip: hold the power button" in html
    assert "Waiting for a supervisor" in html


def test_it_counts_length_as_x_does_with_the_credit_and_keeps_the_text(agent):
    text = "🔧" * 139  # emoji weigh 2: 278, then " ^AL" makes 282
    response = propose(agent, text)
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 characters too long for X (282/280, your credit included)" in html
    assert text in html  # nothing typed is lost
    assert not Proposal.objects.exists()
    assert propose(agent, "🔧" * 138).status_code == 302  # 276 + 4 fits


def test_it_refuses_a_post_without_the_csrf_token(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    assert client.post("/proposals/", {"text": "hello"}).status_code == 403
    assert not Proposal.objects.exists()


def test_a_supervisor_approves_over_htmx_and_the_brand_posts_it_once_with_credit(agent, supervisor):
    propose(agent, "Outage: card payments are down in the EU; fix expected by 14:00 UTC.")
    proposal = Proposal.objects.get()
    client, token = csrf_login(supervisor)
    pending = client.get("/sup/proposals/").content.decode()
    assert "Outage: card payments are down" in pending
    response = client.post(
        f"/sup/proposals/{proposal.id}/approve/", HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment and "Approved" in fragment and supervisor.name in fragment
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by_id) == ("approved", supervisor.id)
    tweet = BrandTweet.objects.get(proposal=proposal)
    assert tweet.status == "queued"

    assert outbox_tweets.attempt(tweet.id) is None
    assert outbox_tweets.attempt(tweet.id) is None  # a repeated task: nothing more
    [posted] = brand_tweets()
    assert posted.text == proposal.body
    assert posted.text.endswith(" ^AL")
    tweet.refresh_from_db()
    proposal.refresh_from_db()
    assert (tweet.status, tweet.posted_x_id, proposal.status) == ("posted", posted.id, "posted")
    assert Event.objects.filter(verb="proposal_posted").count() == 1

    author_page = Client()
    author_page.force_login(agent.user)
    assert ">\n          Posted" in author_page.get("/proposals/").content.decode()
    stream = Client().get("/stream/").content.decode()
    assert "Outage: card payments are down in the EU" in stream
    assert 'href="https://x.com/alice_x" rel="noopener nofollow ugc">^AL</a>' in stream
    assert f"/status/{posted.id}" in stream


def test_a_rejection_needs_a_reason_which_the_author_sees(agent, supervisor):
    propose(agent, "Buy our stuff!!!")
    proposal = Proposal.objects.get()
    client, token = csrf_login(supervisor)
    url = f"/sup/proposals/{proposal.id}/reject/"
    response = client.post(url, {"reason": " "}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert "Say why" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    client.post(url, {"reason": "Too salesy <b>for</b> care", "csrfmiddlewaretoken": token})
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == ("rejected", "Too salesy <b>for</b> care")
    assert not BrandTweet.objects.exists()
    page = Client()
    page.force_login(agent.user)
    html = page.get("/proposals/").content.decode()
    assert "Too salesy &lt;b&gt;for&lt;/b&gt; care" in html  # escaped: typed by a person
    assert "Rejected" in html
    # Decided is decided: approving a rejected proposal says so and posts nothing.
    client.post(f"/sup/proposals/{proposal.id}/approve/", {"csrfmiddlewaretoken": token})
    assert not BrandTweet.objects.exists()


def test_two_supervisors_approving_at_once_post_once(agent, supervisor, admin_agent):
    proposal = proposals.do_propose(agent=agent, text="Tip: our app now has dark mode.")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(actor) -> None:
        try:
            barrier.wait()
            proposals.do_approve(proposal.id, actor=actor)
            outcomes.append("approved")
        except ActionError as error:
            outcomes.append(str(error))
        finally:
            connections.close_all()

    run_all([lambda: approve(supervisor), lambda: approve(admin_agent)])
    assert sorted(outcomes)[1] == "approved"
    assert "already decided this one: Approved." in sorted(outcomes)[0]
    tweet = BrandTweet.objects.get()

    def post() -> None:
        try:
            barrier.wait()
            outbox_tweets.attempt(tweet.id)
        finally:
            connections.close_all()

    run_all([post, post])  # two workers with the same task: one posts
    assert len(brand_tweets()) == 1
    tweet.refresh_from_db()
    assert tweet.status == "posted"


def test_a_worker_that_died_after_x_took_the_tweet_does_not_post_it_again(agent, supervisor):
    proposal = proposals.do_propose(agent=agent, text="Stores close at 18:00 on Dec 24.")
    proposals.do_approve(proposal.id, actor=supervisor)
    tweet = BrandTweet.objects.get()
    # The first attempt reached X, then its worker died before saving the id.
    with xgateway.acting_for(tweet.brand):
        xgateway.create_tweet(tweet.body)
    BrandTweet.objects.filter(id=tweet.id).update(
        status="sending", attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert outbox_tweets.attempt(tweet.id) is None
    [posted] = brand_tweets()
    tweet.refresh_from_db()
    assert (tweet.status, tweet.posted_x_id) == ("posted", posted.id)


def test_x_refusing_the_tweet_is_shown_to_the_author(sandbox, agent, supervisor):
    proposal = proposals.do_propose(agent=agent, text="Same words twice")
    proposals.do_approve(proposal.id, actor=supervisor)
    with xgateway.acting_for(proposal.brand):
        xgateway.create_tweet(proposal.body)  # X refuses the same text again (duplicate)
    tweet = BrandTweet.objects.get()
    assert outbox_tweets.attempt(tweet.id) is None
    tweet.refresh_from_db()
    assert tweet.status == "failed" and "X refused the tweet" in tweet.last_error
    page = Client()
    page.force_login(agent.user)
    assert "Not posted: X refused the tweet" in page.get("/proposals/").content.decode()
    assert Event.objects.filter(verb="proposal_failed").count() == 1


def test_only_the_brands_supervisors_decide(agent, supervisor):
    proposal = proposals.do_propose(agent=agent, text="A tip")
    with pytest.raises(ActionError):
        proposals.do_approve(proposal.id, actor=agent)
    other = Brand.objects.create(name="Other", handle="other", x_user_id=77)
    stranger = make_agent(other, "olga", role="supervisor")
    client, token = csrf_login(stranger)
    response = client.post(f"/sup/proposals/{proposal.id}/approve/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == "proposed"


def run_all(targets) -> None:
    workers = [threading.Thread(target=target) for target in targets]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


# --- a failed brand tweet: supervisors retry or discard it -----------------------------------


def failed_tweet(agent, supervisor, text: str) -> BrandTweet:
    """X refuses the approved tweet for good: it repeats what the brand just posted."""
    proposal = proposals.do_propose(agent=agent, text=text)
    proposals.do_approve(proposal.id, actor=supervisor)
    with xgateway.acting_for(proposal.brand):
        xgateway.create_tweet(proposal.body)
    tweet = BrandTweet.objects.get(proposal=proposal)
    assert outbox_tweets.attempt(tweet.id) is None
    tweet.refresh_from_db()
    assert tweet.status == "failed"
    return tweet


def test_a_supervisor_retries_a_failed_brand_tweet_and_it_posts_once(agent, supervisor):
    tweet = failed_tweet(agent, supervisor, "Our app is back up.")
    client, token = csrf_login(supervisor)
    page = client.get("/sup/proposals/").content.decode()
    assert f'data-brand-tweet-id="{tweet.id}"' in page and "X refused the tweet" in page
    assert f"/sup/proposals/t/{tweet.id}/retry/" in page

    # Not for the author: an agent may not retry it.
    author, author_token = csrf_login(agent)
    retry = f"/sup/proposals/t/{tweet.id}/retry/"
    assert author.post(retry, HTTP_X_CSRFTOKEN=author_token).status_code == 403

    Tweet.objects.filter(author_id=BRAND_ID).delete()  # what X refused as a duplicate is gone
    response = client.post(retry, HTTP_X_CSRFTOKEN=token, follow=True)
    assert "Queued to post again." in response.content.decode()
    tweet.refresh_from_db()
    assert (tweet.status, tweet.attempts, tweet.last_error) == ("queued", 0, "")
    event = Event.objects.get(verb="proposal_retried")
    assert event.actor == supervisor and "X refused the tweet" in event.detail["reason"]

    assert outbox_tweets.attempt(tweet.id) is None
    [posted] = brand_tweets()
    tweet.refresh_from_db()
    assert (tweet.status, tweet.posted_x_id, posted.text) == ("posted", posted.id, tweet.body)
    assert Proposal.objects.get(id=tweet.proposal_id).status == "posted"
    response = client.post(retry, HTTP_X_CSRFTOKEN=token, follow=True)
    assert "This brand tweet is posted, not failed." in response.content.decode()
    assert len(brand_tweets()) == 1


def test_a_supervisor_discards_a_failed_brand_tweet_and_the_author_sees_it(agent, supervisor):
    tweet = failed_tweet(agent, supervisor, "Stores open late tonight.")
    other = Brand.objects.create(name="Other", handle="other", x_user_id=77)
    stranger, stranger_token = csrf_login(make_agent(other, "olga", role="supervisor"))
    discard = f"/sup/proposals/t/{tweet.id}/discard/"
    assert stranger.post(discard, HTTP_X_CSRFTOKEN=stranger_token).status_code == 404
    tweet.refresh_from_db()
    assert tweet.status == "failed"

    client, token = csrf_login(supervisor)
    response = client.post(discard, HTTP_X_CSRFTOKEN=token, follow=True)
    assert "Discarded." in response.content.decode()
    assert f'data-brand-tweet-id="{tweet.id}"' not in response.content.decode()
    tweet.refresh_from_db()
    assert tweet.status == "discarded"
    assert Event.objects.get(verb="proposal_discarded").actor == supervisor
    with pytest.raises(ActionError, match="discarded, not failed"):
        outbox_tweets.do_retry_tweet(tweet.id, actor=supervisor)
    page = Client()
    page.force_login(agent.user)
    assert "discarded by a supervisor" in page.get("/proposals/").content.decode()
