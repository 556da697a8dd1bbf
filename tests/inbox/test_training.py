"""Training mode: trainees practise on simulated customers as a sandbox-only training
account; nothing they send reaches the live brand; a supervisor marks them ready."""

from __future__ import annotations

import json
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from agents import actions as agent_actions
from agents.models import Agent, Role
from inbox import actions
from inbox.errors import ActionError
from inbox.ingest import poll
from inbox.models import Brand, Event, Reply, Source, Thread
from inbox.outbox import replies
from inbox.training import training_brand_for
from tests.helpers import broker_redis, login, make_agent
from tests.sandbox import BRAND_ID
from twelp import xgateway
from twelp.xsandbox import actions as sandbox_actions
from twelp.xsandbox.models import Tweet
from twelp.xsandbox.seed import training_account


@pytest.fixture
def brand(twelp_urls, settings) -> Brand:
    sandbox = twelp_urls
    settings.X_TRAINING_API_BASE_URL = sandbox.url
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


@pytest.fixture
def trainee(brand, supervisor) -> Agent:
    agent = make_agent(brand, "tina")
    return agent_actions.do_start_training(agent.id, actor=supervisor)


def practise_once(sandbox, trainee: Agent) -> tuple[Tweet, Thread]:
    """A customer tweets at the training account (and one at the live brand, which the
    training source must not pick up); the training source is polled."""
    sandbox.tweet_at_brand(sandbox.customers[0], "is my order lost?")
    text = f"@{training_account().username} where is my refund?"
    question = sandbox_actions.post_tweet(sandbox.customers[1], text)
    poll.poll(Source.objects.get(brand=trainee.brand).id)
    return question, Thread.objects.get(brand=trainee.brand)


def test_it_moves_the_agent_into_the_training_brand_and_releases_their_claims(
    brand, supervisor, customer
):
    agent = make_agent(brand, "tina")
    held = Thread.objects.create(brand=brand, customer=customer, conversation_id=7)
    actions.do_claim(held.id, agent=agent)
    moved = agent_actions.do_start_training(agent.id, actor=supervisor)
    training = Brand.objects.get(training_for=brand)
    assert moved.brand == training and training.is_training
    assert training.handle == "twelpdemo_train"
    assert Source.objects.filter(brand=training, kind="mentions").count() == 1
    held.refresh_from_db()
    assert (held.status, held.claimed_by) == ("open", None)
    started = Event.objects.get(verb="agent_training_started")
    assert (started.brand, started.actor, started.detail["released"]) == (brand, supervisor, 1)


def test_a_trainees_reply_posts_as_the_training_account_never_the_live_one(sandbox, trainee):
    question, thread = practise_once(sandbox, trainee)
    actions.do_claim(thread.id, agent=trainee)
    reply = actions.do_send_reply(
        thread.id, agent=trainee, text=f"@{thread.customer.handle} Sorry! Checking now."
    )
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    posted = Tweet.objects.get(id=reply.posted_x_id)
    assert posted.author == training_account()
    assert posted.in_reply_to_tweet_id == question.id
    assert posted.text.endswith(" ^TI")
    assert not Tweet.objects.filter(author=sandbox.brand).exists()  # the live account: nothing


def test_trainees_and_live_agents_never_see_each_others_queues(sandbox, trainee, agent, customer):
    live = Thread.objects.create(brand=agent.brand, customer=customer, conversation_id=9)
    _, practice = practise_once(sandbox, trainee)
    trainee_page = login(Client(), trainee.user).get("/").content.decode()
    live_page = login(Client(), agent.user).get("/").content.decode()
    assert f'data-thread-id="{practice.id}"' in trainee_page
    assert f'data-thread-id="{live.id}"' not in trainee_page
    assert f'data-thread-id="{live.id}"' in live_page
    assert f'data-thread-id="{practice.id}"' not in live_page
    assert "Training mode." in trainee_page and "Training mode." not in live_page
    assert login(Client(), trainee.user).get(f"/t/{live.id}/").status_code == 404
    with pytest.raises(Thread.DoesNotExist):
        actions.do_claim(live.id, agent=trainee)


def test_the_practice_button_brings_simulated_customers_to_the_training_account(
    sandbox, trainee, settings
):
    """End to end over HTTP: the view asks the live sandbox (POST /_sandbox/training), the
    tweets land there at the training account, and the training source's poll is queued."""
    broker = broker_redis()
    queue = settings.CELERY_TASK_DEFAULT_QUEUE  # this run's own
    queued = broker.llen(queue)
    response = login(Client(), trainee.user).post("/team/practice/", follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "5 practice tweets are on their way to @twelpdemo_train" in response.content.decode()
    account = training_account()
    assert Tweet.objects.filter(mention_rows__account=account).count() == 5
    assert not Tweet.objects.filter(mention_rows__account=sandbox.brand).exists()
    source = Source.objects.get(brand=trainee.brand)
    assert broker.llen(queue) == queued + 1  # the training source's poll, at once
    headers = json.loads(broker.lindex(queue, 0))["headers"]
    assert (headers["task"], headers["argsrepr"]) == ("inbox.tasks.poll_source", f"({source.id},)")
    poll.poll(source.id)
    assert Thread.objects.filter(brand=trainee.brand).exists()
    assert not Thread.objects.filter(brand=trainee.brand.training_for).exists()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("unreachable", "cannot be reached"),
        ("not the sandbox", "refused the call (HTTP 404)"),
        ("no token", "XSANDBOX_ADMIN_TOKEN is not set"),
    ],
)
def test_the_practice_button_says_why_when_the_sandbox_cannot_help(
    sandbox, trainee, settings, where, said
):
    if where == "unreachable":
        settings.X_TRAINING_API_BASE_URL = f"http://127.0.0.1:{closed_port()}"
    elif where == "not the sandbox":  # a server that has no /_sandbox/training
        settings.X_TRAINING_API_BASE_URL = f"{sandbox.url}/elsewhere"
    else:
        settings.XSANDBOX_ADMIN_TOKEN = ""
    broker = broker_redis()
    queue = settings.CELERY_TASK_DEFAULT_QUEUE  # this run's own
    queued = broker.llen(queue)
    response = login(Client(), trainee.user).post("/team/practice/", follow=True)
    assert response.status_code == 200  # the queue, with the reason: never a crash page
    page = response.content.decode()
    assert "No practice customers this time" in page and said in page
    assert broker.llen(queue) == queued  # nothing to poll
    assert not Tweet.objects.filter(mention_rows__account__username="twelpdemo_train").exists()


def test_a_live_agent_cannot_bring_practice_customers(sandbox, agent):
    assert login(Client(), agent.user).post("/team/practice/").status_code == 403
    assert not Tweet.objects.filter(mention_rows__account=training_account()).exists()


def test_marking_ready_returns_the_trainee_live_with_their_credit(sandbox, brand, supervisor):
    tina = make_agent(brand, "tina")
    agent_actions.do_start_training(tina.id, actor=supervisor)
    newcomer = make_agent(brand, "tim", code=agent_actions.next_credit_code(brand.id, "TI"))
    assert newcomer.credit_code == "TI2"  # a trainee's code is never handed out meanwhile
    ready = agent_actions.do_mark_ready(tina.id, actor=supervisor)
    assert (ready.brand, ready.credit_code) == (brand, "TI")
    event = Event.objects.get(verb="agent_ready")
    assert (event.actor, event.detail["agent"]) == (supervisor, tina.id)
    with pytest.raises(ActionError, match="No such trainee"):
        agent_actions.do_mark_ready(tina.id, actor=supervisor)  # a second click: told


def test_the_training_page_lists_trainees_and_marks_them_ready(sandbox, trainee, supervisor):
    client = login(Client(), supervisor.user)
    page = client.get("/team/training/").content.decode()
    assert f'data-agent-id="{trainee.id}"' in page
    response = client.post(f"/team/training/{trainee.id}/ready/")
    assert response.status_code == 302
    trainee.refresh_from_db()
    assert trainee.brand == supervisor.brand
    assert f'data-agent-id="{trainee.id}"' not in client.get("/team/training/").content.decode()


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_only_agents_are_sent_to_training(brand, admin_agent, role):
    lead = make_agent(brand, "lee", role=role)
    with pytest.raises(ActionError, match="Only agents train"):
        agent_actions.do_start_training(lead.id, actor=admin_agent)
    lead.refresh_from_db()
    assert lead.brand == brand


def test_an_agent_cannot_send_a_colleague_to_training(brand, agent, second_agent):
    with pytest.raises(ActionError, match="Only supervisors"):
        agent_actions.do_start_training(second_agent.id, actor=agent)
    second_agent.refresh_from_db()
    assert second_agent.brand == brand


def test_the_gateway_refuses_a_training_setup_that_could_reach_the_live_account(brand, settings):
    training = training_brand_for(brand)
    settings.X_TRAINING_ACCESS_TOKEN = settings.X_ACCESS_TOKEN
    with xgateway.acting_for(training), pytest.raises(ImproperlyConfigured, match="differ"):
        xgateway.create_tweet("hello")
    settings.X_TRAINING_ACCESS_TOKEN = "1600000000000000002-other"
    settings.X_TRAINING_API_BASE_URL = "https://api.x.com"
    with xgateway.acting_for(training), pytest.raises(ImproperlyConfigured, match="sandbox"):
        xgateway.create_tweet("hello")
    assert Reply.objects.count() == 0
