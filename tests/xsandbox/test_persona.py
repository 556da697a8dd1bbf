"""The persona page: be a customer, tweet at the brand, reply, DM, read the brand's replies."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.xsandbox.conftest import Sandbox
from twelp import xgateway
from twelp.xsandbox import actions as xsandbox_actions
from twelp.xsandbox.models import Account, DirectMessage, Redaction, Tweet
from twelp.xsandbox.seed import World


@pytest.fixture
def browser(world: World) -> Client:
    """A browser that sends CSRF tokens only when the page gave it one."""
    return Client(enforce_csrf_checks=True)


def _post(client: Client, path: str, data: dict[str, object]):
    client.get("/")  # the page sets the CSRF cookie, as a browser would have it
    token = client.cookies["xsandbox_csrftoken"].value
    return client.post(path, {**data, "csrfmiddlewaretoken": token})


def _as(client: Client, account: Account) -> Client:
    response = _post(client, "/persona", {"action": "pick", "account": account.pk})
    assert response.status_code == 302
    return client


def test_it_offers_the_personas_before_one_is_chosen(browser: Client, world: World):
    page = browser.get("/").content.decode()
    assert "Pick a persona" in page
    assert all(f"@{customer.username}" in page for customer in world.customers)
    assert "@acme_care</option>" not in page  # the brand is not a persona


def test_it_creates_a_persona_and_keeps_it_in_the_session(browser: Client):
    response = _post(
        browser, "/persona", {"action": "create", "username": "new_kid", "name": "Kid"}
    )
    assert response.status_code == 302
    kid = Account.objects.get(username="new_kid")
    assert kid.kind == Account.Kind.CUSTOMER and kid.access_token.startswith(f"{kid.id}-")
    assert "You are <strong>@new_kid</strong>" in browser.get("/").content.decode()


def test_it_refuses_a_taken_username(browser: Client):
    response = _post(
        browser, "/persona", {"action": "create", "username": "MAYA_RIVERA", "name": "Copy"}
    )
    assert response.status_code == 200
    assert "That username is taken" in response.content.decode()


def test_it_refuses_a_post_without_the_csrf_token(browser: Client, world: World):
    _as(browser, world.customers[0])
    response = browser.post("/tweet", {"text": "no token"})
    assert response.status_code == 403
    assert not Tweet.objects.exists()


def test_it_tweets_at_the_brand_and_the_tweet_shows_in_its_mentions(
    browser: Client, sandbox: Sandbox
):
    maya = sandbox.customers[0]
    _as(browser, maya)
    response = _post(browser, "/tweet", {"text": "my blender arrived broken"})
    assert response.status_code == 302
    assert "Tweeted." in browser.get("/").content.decode()
    # Cookies ignore ports: none may share a name with Twelp's on the same host.
    assert set(browser.cookies) == {"xsandbox_session", "xsandbox_csrftoken"}
    [tweet] = xgateway.mentions(sandbox.brand.id).tweets
    assert (tweet.author_id, tweet.text) == (maya.id, "@acme_care my blender arrived broken")


def test_it_replies_in_a_thread(browser: Client, sandbox: Sandbox):
    maya = sandbox.customers[0]
    question = sandbox.tweet_at_brand(maya, "do you ship to Canada?")
    answer = xgateway.create_tweet("We do! ^JD", in_reply_to_tweet_id=question.id)
    _as(browser, maya)
    _post(browser, "/tweet", {"text": "great, thanks", "in_reply_to": answer.id})
    reply = Tweet.objects.latest("id")
    assert reply.text == "@acme_care great, thanks"
    assert (reply.conversation_id, reply.in_reply_to_tweet_id) == (question.id, answer.id)
    assert reply.id in [t.id for t in xgateway.mentions(sandbox.brand.id).tweets]


def test_it_sends_a_direct_message_to_the_brand(browser: Client, sandbox: Sandbox):
    _as(browser, sandbox.customers[1])
    _post(browser, "/dm", {"text": "here is my order number: 555"})
    [event] = xgateway.dm_events().messages
    assert (event.sender_id, event.text) == (
        sandbox.customers[1].id,
        "here is my order number: 555",
    )
    assert "here is my order number: 555" in browser.get("/").content.decode()


def test_it_shows_the_brands_replies_with_their_credit(browser: Client, sandbox: Sandbox):
    question = sandbox.tweet_at_brand(sandbox.customers[0], "store hours?")
    xgateway.create_tweet("9 to 9, every day ^JD2", in_reply_to_tweet_id=question.id)
    page = browser.get("/").content.decode()
    assert "@maya_rivera 9 to 9, every day ^JD2" in page


def test_it_escapes_tweet_text(browser: Client, world: World):
    maya = world.customers[0]
    _as(browser, maya)
    _post(browser, "/tweet", {"text": "<script>alert('x')</script>"})
    page = browser.get("/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_it_refuses_a_tweet_over_280_weighted_characters(browser: Client, world: World):
    _as(browser, world.customers[0])
    response = _post(browser, "/tweet", {"text": "界" * 141})  # CJK weighs 2: 282
    assert response.status_code == 200
    assert "282 characters" in response.content.decode()
    assert not DirectMessage.objects.exists() and not Tweet.objects.exists()


def test_a_persona_deletes_their_own_tweet_but_no_one_elses(browser: Client, world: World):
    maya, tomasz = world.customers[:2]
    mine = xsandbox_actions.post_tweet(maya, "@acme_care oops, wrong photo")
    theirs = xsandbox_actions.post_tweet(tomasz, "@acme_care mine")
    _as(browser, maya)
    assert "Delete this tweet" in browser.get("/").content.decode()
    assert _post(browser, f"/tweet/{theirs.id}/delete", {}).status_code == 302
    assert _post(browser, f"/tweet/{mine.id}/delete", {}).status_code == 302
    assert list(Tweet.objects.values_list("id", flat=True)) == [theirs.id]
    assert Redaction.objects.get().tweet_id == mine.id


def test_a_persona_protects_their_posts_and_makes_them_public_again(browser: Client, world: World):
    maya = world.customers[0]
    _as(browser, maya)
    _post(browser, "/protect", {"protected": "on"})
    maya.refresh_from_db()
    assert maya.compliance == "protected" and maya.compliance_at is not None
    assert "Make my posts public" in browser.get("/").content.decode()
    _post(browser, "/protect", {"protected": ""})
    maya.refresh_from_db()
    assert maya.compliance == ""


def test_deleting_needs_the_csrf_token(browser: Client, world: World):
    maya = world.customers[0]
    mine = xsandbox_actions.post_tweet(maya, "@acme_care keep me")
    _as(browser, maya)
    assert browser.post(f"/tweet/{mine.id}/delete").status_code == 403
    assert browser.post("/protect", {"protected": "on"}).status_code == 403
    assert Tweet.objects.filter(id=mine.id).exists()
