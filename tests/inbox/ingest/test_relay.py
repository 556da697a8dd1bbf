"""The hashtag relay over real HTTP: employees' tagged answers, posted once from the brand."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from django.utils import translation

from agents.models import AgentState, Role
from inbox.ingest import poll, relay, store
from inbox.models import Brand, Event, Message, RelayTweet, Reply, Source, Thread
from inbox.outbox import replies
from inbox.rules import reasons
from inbox.rules import text as rules_text
from tests.helpers import login, make_agent
from tests.sandbox import BRAND_ID
from twelp import xgateway
from twelp.xsandbox import actions as x
from twelp.xsandbox.models import Tweet

TAG = "AcmeHelp"


@pytest.fixture
def brand(sandbox) -> Brand:
    return Brand.objects.create(
        name="Acme", handle="acme_care", x_user_id=BRAND_ID, relay_hashtag=f"#{TAG}"
    )


@pytest.fixture
def source(brand) -> Source:
    return Source.objects.create(brand=brand, kind=Source.Kind.RELAY)


def employee(sandbox, brand, username: str, **kwargs):
    """An employee in Twelp and their own account on X, linked by X user id."""
    account = x.create_account(f"{username}_x", username.title())
    agent = make_agent(brand, username, **kwargs)
    agent.x_user_id, agent.x_handle = account.id, account.username
    agent.save(update_fields=["x_user_id", "x_handle"])
    return agent, account


def tweet_as(sandbox, account, text: str, in_reply_to: int | None = None) -> int:
    """Posted as the employee posts from X's own app: a person, so X's summoned-reply rule
    for self-serve API apps does not apply to them (it applies to the brand's relay)."""
    return x.post_tweet(account, text, in_reply_to_tweet_id=in_reply_to).id


def brand_tweets_replying_to(tweet_id: int) -> list[Tweet]:
    return list(Tweet.objects.filter(author_id=BRAND_ID, in_reply_to_tweet_id=tweet_id))


def test_it_relays_an_employees_tagged_answer_from_the_brand_with_credit_once(
    sandbox, brand, source
):
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "my router blinks red")
    alice, alice_x = employee(sandbox, brand, "alice")
    text = f"@{kim.username} Hold reset for 10 s #{TAG.lower()} then wait"
    answer = tweet_as(sandbox, alice_x, text, question.id)
    poll.poll(source.id)

    row = RelayTweet.objects.get(x_id=answer)
    assert (row.outcome, row.agent_id) == ("relayed", alice.id)
    reply = row.reply
    # X put "@acme_care" in front of Alice's reply; the brand's answer drops it.
    assert reply.body == f"@{kim.username} Hold reset for 10 s then wait ^AL"
    assert (reply.agent_id, reply.in_reply_to.x_id) == (alice.id, question.id)
    assert reply.status == "queued"
    thread = reply.thread
    assert (thread.customer.x_user_id, thread.status) == (kim.id, "answered")
    assert Event.objects.get(verb="replied", thread=thread).detail["relayed"] == answer

    assert replies.attempt(reply.id) is None
    [posted] = brand_tweets_replying_to(question.id)
    assert posted.text == reply.body
    assert Message.objects.get(x_id=posted.id).direction == "out"

    # Alice's tweet mentions the brand too: the mentions poll leaves it to the relay.
    poll.poll(Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS).id)
    thread.refresh_from_db()
    assert thread.status == "answered"
    assert not Message.objects.filter(x_id=answer).exists()

    Source.objects.filter(id=source.id).update(since_id=None, next_poll_after=None)
    poll.poll(source.id)  # the same tagged tweet again: nothing new
    assert Reply.objects.count() == 1
    assert RelayTweet.objects.count() == 1
    assert len(brand_tweets_replying_to(question.id)) == 1


def test_it_opens_the_customers_thread_when_they_never_wrote_to_the_brand(sandbox, brand, source):
    lee = sandbox.customers[1]
    moan = x.post_tweet(lee, "my order from acme never came")  # no @mention of the brand
    _, bob_x = employee(sandbox, brand, "bob")
    tweet_as(sandbox, bob_x, f"@{lee.username} Sorry Lee, DM us the order no. #{TAG}", moan.id)
    poll.poll(source.id)

    thread = Thread.objects.get()
    assert thread.customer.x_user_id == lee.id
    assert list(thread.messages.values_list("x_id", "direction")) == [(moan.id, "in")]
    assert thread.replies.get().body.endswith(" ^BO")
    assert thread.source_id == source.id


def test_it_ignores_and_logs_a_relay_from_a_pending_registration(
    sandbox, brand, source, supervisor, twelp_pages
):
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "is the store open sunday?")
    pete, pete_x = employee(sandbox, brand, "pete", state=AgentState.PENDING)
    tagged = tweet_as(sandbox, pete_x, f"@{kim.username} Yes, 10-4 #{TAG}", question.id)
    poll.poll(source.id)

    row = RelayTweet.objects.get(x_id=tagged)
    assert (row.outcome, row.agent_id) == ("ignored", pete.id)
    assert "waiting for approval" in row.reason
    assert not Reply.objects.exists()
    assert not brand_tweets_replying_to(question.id)
    event = Event.objects.get(verb="relay_ignored")
    assert (event.actor_id, event.detail["tweet"]) == (pete.id, tagged)
    page = login(Client(), supervisor.user).get("/sup/audit/")
    assert "relay_ignored" in page.content.decode()
    assert "waiting for approval" in page.content.decode()


@pytest.mark.parametrize(
    ("state", "reason"),
    [(AgentState.REJECTED, "was rejected"), (AgentState.DEACTIVATED, "deactivated")],
)
def test_it_ignores_rejected_and_deactivated_employees(sandbox, brand, source, state, reason):
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "where is my parcel")
    _, account = employee(sandbox, brand, "dora", state=state)
    tweet_as(sandbox, account, f"@{kim.username} Checking! #{TAG}", question.id)
    poll.poll(source.id)
    row = RelayTweet.objects.get()
    assert row.outcome == "ignored"
    assert reason in row.reason
    assert not Reply.objects.exists()


def test_it_matches_employees_by_x_user_id_not_by_handle(sandbox, brand, source):
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "refund please")
    alice, _ = employee(sandbox, brand, "alice")
    impostor = x.create_account("impostor", "Not Alice")
    alice.x_handle = impostor.username  # the handle matches; the X user id does not
    alice.save(update_fields=["x_handle"])
    tweet_as(sandbox, impostor, f"@{kim.username} Refund done! #{TAG}", question.id)
    poll.poll(source.id)
    row = RelayTweet.objects.get()
    assert (row.outcome, row.agent_id) == ("ignored", None)
    assert row.reason == "@impostor is not a registered employee."
    assert Event.objects.get(verb="relay_ignored").detail["author"] == "@impostor"
    assert not Reply.objects.exists()


def test_it_ignores_tagged_tweets_that_do_not_answer_a_customer(sandbox, brand, source):
    alice, alice_x = employee(sandbox, brand, "alice")
    _, bob_x = employee(sandbox, brand, "bob")
    standalone = tweet_as(sandbox, alice_x, f"Proud of the team today #{TAG}")
    colleague = tweet_as(sandbox, bob_x, "Lunch at 12?")
    to_colleague = tweet_as(sandbox, alice_x, f"@bob_x sure #{TAG}", colleague)
    brand_tweet = x.post_tweet(sandbox.brand, "New opening hours from Monday")
    to_brand = tweet_as(sandbox, alice_x, f"@acme_care great news #{TAG}", brand_tweet.id)
    poll.poll(source.id)
    reasons = dict(RelayTweet.objects.values_list("x_id", "reason"))
    assert "not a reply" in reasons[standalone]
    assert "not a customer" in reasons[to_colleague]
    assert "not a customer" in reasons[to_brand]
    assert not Reply.objects.exists()
    assert Event.objects.filter(verb="relay_ignored", actor=alice).count() == 3


def test_it_keeps_a_too_long_answer_for_supervisors_and_never_truncates_it(sandbox, brand, source):
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "why so slow")
    Brand.objects.filter(id=brand.id).update(credit_format=Brand.CreditFormat.HANDLE)
    _, account = employee(sandbox, brand, "alexandria")  # credit " —@alexandria_x": 15
    prefix = f"@{kim.username} "
    # Exactly X's 280 with the 10-character " #AcmeHelp"; 285 with the credit instead.
    words = "a" * (280 - len(prefix) - len(f" #{TAG}"))
    tweet_as(sandbox, account, f"{prefix}{words} #{TAG}", question.id)
    poll.poll(source.id)
    row = RelayTweet.objects.get()
    assert row.outcome == "too_long"
    assert "(285/280)" in row.reason
    assert not Reply.objects.exists()
    assert Event.objects.get(verb="relay_too_long").detail["reason"] == row.reason
    assert not brand_tweets_replying_to(question.id)


def test_two_concurrent_relays_of_one_page_post_once(sandbox, brand, source):
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "help with my tv")
    _, alice_x = employee(sandbox, brand, "alice")
    tweet_as(sandbox, alice_x, f"@{kim.username} Try input 2 #{TAG}", question.id)
    page = xgateway.search_recent(relay.query_for(brand))
    assert len(page.tweets) == 1
    source = Source.objects.select_related("brand").get(id=source.id)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            relay.ingest_page(source, page, store.PollResult(source.id), advance_to=None)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert Reply.objects.count() == 1
    assert RelayTweet.objects.get().outcome == "relayed"


def test_a_bad_relay_hashtag_parks_the_source_with_a_clear_error(sandbox, brand, source):
    Brand.objects.filter(id=brand.id).update(relay_hashtag="123")  # only digits: no hashtag
    result = poll.poll(source.id)
    source.refresh_from_db()
    assert result.error
    assert "relay hashtag" in source.last_error
    assert source.next_poll_after is not None
    # Our own words, not X's: X was never asked (issue 21: it read "X refused the request").
    assert source.last_reason == {"code": "relay_bad_hashtag", "hashtag": "123"}
    assert not source.last_error.startswith("X ")
    said = {
        "en": "The relay hashtag “123” cannot be searched on X",
        "es": "El hashtag de reenvío «123» no se puede buscar en X",
    }
    for language, sentence in said.items():  # the admin's page: tests/browser/test_screens.py
        with translation.override(language):
            assert reasons.words(source.last_reason).startswith(sentence)


def test_the_sandbox_search_matches_hashtags_as_x_does(sandbox):
    kim, lee, devon = sandbox.customers[:3]
    hit = x.post_tweet(kim, f"thanks #{TAG.lower()}!")
    x.post_tweet(lee, f"#{TAG}ers unite")  # another hashtag
    x.post_tweet(devon, f"{TAG} without the hash")
    response = sandbox.tweepy_client().search_recent_tweets(f"#{TAG}")
    assert [tweet.id for tweet in response.data] == [hit.id]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@kim Try it #AcmeHelp now", "@kim Try it now"),
        ("@kim #acmehelp Try it", "@kim Try it"),
        ("@kim Try it #AcmeHelpers #AcmeHelp", "@kim Try it #AcmeHelpers"),
        ("@kim line one\nline two #ACMEHELP", "@kim line one\nline two"),
    ],
)
def test_it_strips_only_the_relay_hashtag(text, expected):
    assert rules_text.strip_hashtag(text, TAG) == expected


def test_it_relays_any_active_employee_whatever_their_role(sandbox, brand, source):
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "billing question")
    sue, sue_x = employee(sandbox, brand, "sue", role=Role.SUPERVISOR)
    tweet_as(sandbox, sue_x, f"@{kim.username} On it #{TAG}", question.id)
    poll.poll(source.id)
    assert Reply.objects.get().agent_id == sue.id


def test_no_auto_reply_goes_to_a_customer_an_employee_is_answering(sandbox, brand, source):
    Brand.objects.filter(id=brand.id).update(
        auto_reply_enabled=True, auto_reply_text="Nobody is here right now; back soon."
    )  # always open, nobody online: a mention would get the auto-reply
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "anyone there?")
    _, alice_x = employee(sandbox, brand, "alice")
    tweet_as(sandbox, alice_x, f"@{kim.username} I am! What's up? #{TAG}", question.id)
    poll.poll(source.id)
    assert [r.text for r in Reply.objects.all()] == [f"@{kim.username} I am! What's up?"]
    poll.poll(Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS).id)
    assert Reply.objects.count() == 1  # the mentions poll finds the tweet known: no auto-reply


def test_it_does_not_repeat_personal_data_from_the_brand(sandbox, brand, source):
    kim = sandbox.customers[0]
    question = sandbox.tweet_at_brand(kim, "call me back")
    _, alice_x = employee(sandbox, brand, "alice")
    tweet_as(sandbox, alice_x, f"@{kim.username} Calling +1 415 555 0132 now #{TAG}", question.id)
    poll.poll(source.id)
    row = RelayTweet.objects.get()
    assert row.outcome == "ignored"
    assert "personal data (" in row.reason and "phone" in row.reason
    assert not Reply.objects.exists()
