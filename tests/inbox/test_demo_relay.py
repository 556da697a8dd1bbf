"""The relay in the demo: the demo brand's hashtag and Source, and Jane's own X account in
the sandbox, end to end through the sandbox's persona page, the relay poll and the outbox."""

from __future__ import annotations

from django.test import Client

from agents.models import Agent
from inbox import demo
from inbox.ingest import poll
from inbox.models import RelayTweet, Source
from inbox.outbox import replies
from tests.sandbox import BRAND_ID
from twelp.xsandbox.models import Account, Tweet
from twelp.xsandbox.seed import EMPLOYEES, employee_ids


def _post(client: Client, path: str, data: dict[str, object]):
    client.get("/")  # the page sets the CSRF cookie, as a browser would have it
    token = client.cookies["xsandbox_csrftoken"].value
    return client.post(path, {**data, "csrfmiddlewaretoken": token})


def test_jane_answers_a_customer_as_herself_and_the_demo_brand_reposts_it(sandbox):
    brand = demo.load_demo_data(employee_ids())  # as `manage.py demo` has them from the seed
    demo.load_demo_data()  # idempotent: no second Source, the ids kept
    assert (brand.x_user_id, brand.relay_hashtag) == (BRAND_ID, "twelpdemohelp")
    source = Source.objects.get(brand=brand, kind=Source.Kind.RELAY)
    assert (source.query, source.active) == ("", True)
    jane = Agent.objects.get(user__username="jane")
    assert jane.x_user_id == EMPLOYEES["janedoe_cares"][1]
    jane_x = Account.objects.get(id=jane.x_user_id)
    assert jane_x.username == jane.x_handle == "janedoe_cares"

    maya = sandbox.customers[0]
    question = sandbox.tweet_at_brand(maya, "my order never arrived")

    # A person on the sandbox page, as @janedoe_cares, answers Maya's tweet.
    browser = Client(enforce_csrf_checks=True)
    assert _post(browser, "/persona", {"action": "pick", "account": jane_x.pk}).status_code == 302
    page = browser.get("/").content.decode()
    assert "my order never arrived" in page and f'value="{question.id}"' in page
    text = f"@{maya.username} So sorry! It ships today. #twelpdemohelp"
    response = _post(browser, "/tweet", {"text": text, "in_reply_to": question.id})
    assert response.status_code == 302
    answer = Tweet.objects.get(author=jane_x, in_reply_to_tweet_id=question.id)

    poll.poll(source.id)
    row = RelayTweet.objects.get(x_id=answer.id)
    assert (row.outcome, row.agent_id) == ("relayed", jane.id)
    assert replies.attempt(row.reply_id) is None
    [posted] = Tweet.objects.filter(author_id=BRAND_ID, in_reply_to_tweet_id=question.id)
    assert posted.text == f"@{maya.username} So sorry! It ships today. ^JD"
    # ... and the sandbox page shows it among the brand's public replies.
    assert "So sorry! It ships today. ^JD" in browser.get("/").content.decode()


def test_the_demo_keeps_an_admins_relay_choice(twelp_urls, client):
    demo.load_demo_data()
    alex = Agent.objects.get(user__username="alex")
    client.force_login(alex.user)
    settings = {"timezone": "UTC", "business_hours": "", "auto_reply_text": ""}
    assert client.post("/brand/", settings | {"relay_hashtag": ""}).status_code == 302
    brand = demo.load_demo_data()  # the demo started again
    assert brand.relay_hashtag == ""
    assert not Source.objects.get(brand=brand, kind=Source.Kind.RELAY).active
