"""Several brand accounts (issue 16): each brand polls and posts with its own X credentials,
through tweepy over real HTTP to the sandbox, which records which account posted."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.utils import timezone

from agents import actions as agent_actions
from agents.models import Membership, Role
from inbox import actions
from inbox.configure import credentials
from inbox.errors import ActionError
from inbox.ingest import poll
from inbox.models import Brand, BrandCredentials, Event, Reply, Source, Thread
from inbox.outbox import replies, sending
from tests.helpers import make_agent
from tests.sandbox import BRAND_ID
from twelp import sealing
from twelp.xsandbox import actions as x
from twelp.xsandbox.models import Account, Tweet

B_ID = 1500000000000000099
B_TOKEN, B_SECRET = f"{B_ID}-brand-b-access-token", "brand-b-access-token-secret"


@pytest.fixture
def brand_a(twelp_urls) -> Brand:
    """The env brand: the oldest, posting with the X_ACCESS_* settings (the sandbox's brand)."""
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


@pytest.fixture
def b_account(sandbox) -> Account:
    return Account.objects.create(
        id=B_ID,
        kind=Account.Kind.BRAND,
        username="acme_eu",
        name="Acme EU",
        access_token=B_TOKEN,
        access_token_secret=B_SECRET,
    )


@pytest.fixture
def brand_b(brand_a, b_account) -> Brand:
    return Brand.objects.create(name="Acme EU", handle="acme_eu", x_user_id=B_ID)


@pytest.fixture
def b_admin(brand_b):
    return make_agent(brand_b, "bea", role=Role.ADMIN)


def connect_b(brand_b, b_admin) -> BrandCredentials:
    return credentials.connect_oauth1(
        brand_b, actor=b_admin, access_token=B_TOKEN, access_token_secret=B_SECRET
    )


def asked(sandbox, brand, account: Account, agent_name: str):
    """A customer's mention of `account`, polled into `brand`'s thread, claimed."""
    question = x.post_tweet(sandbox.customers[0], f"@{account.username} my parcel is lost")
    result = poll.poll(Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS).id)
    assert result.error == "", result.error
    thread = Thread.objects.get(brand=brand)
    agent = make_agent(brand, agent_name)
    actions.do_claim(thread.id, agent=agent)
    return question, thread, agent


def send(thread, agent, text="Sorry! Tracking it now") -> Reply:
    return actions.do_send_reply(thread.id, agent=agent, text=f"@{thread.customer.handle} {text}")


def posted_by(question) -> set[int]:
    return set(
        Tweet.objects.filter(in_reply_to_tweet_id=question.id).values_list("author_id", flat=True)
    )


def test_a_reply_on_brand_bs_thread_is_posted_by_bs_account(sandbox, brand_b, b_admin):
    row = connect_b(brand_b, b_admin)
    assert row.x_username == "acme_eu" and B_TOKEN.encode() not in bytes(row.sealed)
    question, thread, bob = asked(sandbox, brand_b, Account.objects.get(id=B_ID), "bob")
    reply = send(thread, bob)
    assert replies.attempt(reply.id) is None
    reply.refresh_from_db()
    assert reply.status == "posted"
    assert posted_by(question) == {B_ID}  # B's account, never A's (BRAND_ID)


def test_a_forged_post_naming_as_thread_posts_nothing_from_anyone(
    sandbox, brand_a, brand_b, b_admin
):
    connect_b(brand_b, b_admin)
    question, a_thread, alice = asked(sandbox, brand_a, sandbox.brand, "alice")
    bob = make_agent(brand_b, "bob")
    client = Client()
    client.force_login(bob.user)
    text = f"@{a_thread.customer.handle} forged from B"
    form = {"text": text, "client_token": str(uuid.uuid4())}
    response = client.post(f"/t/{a_thread.id}/reply/", form)
    assert response.status_code == 404
    assert Reply.objects.count() == 0
    assert posted_by(question) == set()
    # A's own agent answers A's thread through the same URL: from A's account, not B's.
    own = Client()
    own.force_login(alice.user)
    form["client_token"] = str(uuid.uuid4())
    assert own.post(f"/t/{a_thread.id}/reply/", form).status_code in (200, 302)
    reply = Reply.objects.get()
    assert replies.attempt(reply.id) is None
    assert posted_by(question) == {BRAND_ID}


def test_a_brand_with_no_credentials_is_neither_polled_nor_posted_from(sandbox, brand_b):
    source = Source.objects.create(brand=brand_b, kind=Source.Kind.MENTIONS)
    x.post_tweet(sandbox.customers[0], "@acme_eu hello?")
    result = poll.poll(source.id)
    source.refresh_from_db()
    assert "no X account connected" in result.error
    assert "Admin → X account" in source.last_error
    assert source.next_poll_after > timezone.now() + timedelta(minutes=4)
    assert Thread.objects.count() == 0
    # A reply already queued (say, from before the account was disconnected) waits, untried.
    thread = Thread.objects.create(
        brand=brand_b,
        customer=brand_b.customers.create(x_user_id=sandbox.customers[0].id, handle="c"),
        conversation_id=1,
    )
    agent = make_agent(brand_b, "bob")
    actions.do_claim(thread.id, agent=agent)
    reply = send(thread, agent)
    before = Tweet.objects.count()
    assert replies.attempt(reply.id) == sending.Wait(credentials.HOLD.total_seconds())
    reply.refresh_from_db()
    assert reply.status == "queued" and "no X account connected" in reply.last_error
    assert Tweet.objects.count() == before


def test_a_401_stops_that_brands_pollers_and_outbox_only(sandbox, brand_a, brand_b, b_admin):
    connect_b(brand_b, b_admin)
    a_question, a_thread, alice = asked(sandbox, brand_a, sandbox.brand, "alice")
    b_account = Account.objects.get(id=B_ID)
    b_question, b_thread, bob = asked(sandbox, brand_b, b_account, "bob")
    b_reply, a_reply = send(b_thread, bob), send(a_thread, alice)
    Account.objects.filter(id=B_ID).update(access_token=f"{B_ID}-revoked-on-x")  # X revokes it
    assert replies.attempt(b_reply.id) == sending.Wait(credentials.HOLD.total_seconds())
    b_reply.refresh_from_db()
    assert b_reply.status == "queued" and "refused" in b_reply.last_error
    assert BrandCredentials.objects.get(brand=brand_b).revoked_at is not None
    assert Event.objects.filter(brand=brand_b, verb="brand_x_revoked").count() == 1
    b_source = Source.objects.get(brand=brand_b)
    assert poll.poll(b_source.id).error.startswith("X refused @acme_eu's credentials")
    # Brand A is untouched: it polls and posts.
    assert replies.attempt(a_reply.id) is None
    assert posted_by(a_question) == {BRAND_ID}
    assert poll.poll(Source.objects.get(brand=brand_a).id).error == ""
    assert credentials.problem(brand_a) == ""
    # B's admins see the banner; A's do not.
    b_page, a_page = Client(), Client()
    b_page.force_login(b_admin.user)
    a_page.force_login(make_agent(brand_a, "ann", role=Role.ADMIN).user)
    shown = b_page.get("/admin/x-account/").content.decode()
    assert "x-account-banner" in shown and "X refused @acme_eu" in shown
    assert "x-account-banner" not in a_page.get("/admin/x-account/").content.decode()
    # Connected again: B's held reply goes out, from B.
    Account.objects.filter(id=B_ID).update(access_token=B_TOKEN)
    connect_b(brand_b, b_admin)
    assert credentials.problem(brand_b) == "" and credentials.banner(brand_b) == ""
    assert replies.attempt(b_reply.id) is None
    assert posted_by(b_question) == {B_ID}
    assert "x-account-banner" not in b_page.get("/admin/x-account/").content.decode()


def test_pasted_keys_of_another_account_are_refused(sandbox, brand_b, b_admin):
    with pytest.raises(ActionError, match="not @acme_eu's"):
        credentials.connect_oauth1(
            brand_b,
            actor=b_admin,
            access_token=sandbox.brand.access_token,
            access_token_secret=sandbox.brand.access_token_secret,
        )
    with pytest.raises(ActionError, match="401"):
        credentials.connect_oauth1(
            brand_b, actor=b_admin, access_token=f"{B_ID}-wrong", access_token_secret="x"
        )
    assert not BrandCredentials.objects.exists()


def _oauth2_connect(sandbox, sandbox_settings, b_admin) -> Client:
    """Admin -> X account -> Connect with X -> the sandbox's consent page -> callback."""
    sandbox_settings.XSANDBOX_OAUTH2_CLIENTS = json.dumps(
        [
            {
                "client_id": sandbox_settings.X_OAUTH2_CLIENT_ID,
                "client_secret": sandbox_settings.X_OAUTH2_CLIENT_SECRET,
                "name": "Twelp",
                "redirect_uris": ["http://testserver/admin/x-account/callback/"],
            }
        ]
    )
    client = Client()
    client.force_login(b_admin.user)
    to_x = client.post("/admin/x-account/connect/")
    assert to_x.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlsplit(to_x["Location"]).query).items()}
    assert params["code_challenge_method"] == "S256" and "offline.access" in params["scope"]
    consent = requests.Session()  # X's consent page, as a browser signed in as @acme_eu
    page = consent.get(to_x["Location"], timeout=10)
    assert page.status_code == 200, page.text
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    fields = {html.unescape(n): html.unescape(v) for n, v in hidden}
    fields |= {"account": str(B_ID), "decision": "authorize"}
    answer = consent.post(to_x["Location"], data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302
    return client


@pytest.fixture
def b_twelp(twelp_urls, brand_b):
    return twelp_urls


def test_an_admin_connects_the_brand_with_oauth2_and_the_token_is_refreshed(
    b_twelp, sandbox_settings, brand_b, b_admin
):
    _oauth2_connect(b_twelp, sandbox_settings, b_admin)
    row = BrandCredentials.objects.get(brand=brand_b)
    assert (row.kind, row.x_user_id, row.revoked_at) == ("oauth2", B_ID, None)
    first = sealing.open_sealed(row.sealed)
    assert first["refresh_token"] and row.expires_at > timezone.now() + timedelta(hours=1)
    question, thread, bob = asked(b_twelp, brand_b, Account.objects.get(id=B_ID), "bob")
    # The access token is about to expire: the next call refreshes it first.
    BrandCredentials.objects.update(expires_at=timezone.now() + timedelta(seconds=30))
    reply = send(thread, bob)
    assert replies.attempt(reply.id) is None
    assert posted_by(question) == {B_ID}
    row.refresh_from_db()
    second = sealing.open_sealed(row.sealed)
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]  # X rotates refresh tokens
    assert row.expires_at > timezone.now() + timedelta(hours=1)


def test_a_refused_refresh_stops_the_brand_with_a_clear_reason(
    b_twelp, sandbox_settings, brand_b, b_admin
):
    _oauth2_connect(b_twelp, sandbox_settings, b_admin)
    row = BrandCredentials.objects.get(brand=brand_b)
    values = sealing.open_sealed(row.sealed)
    values["refresh_token"] = "spent-or-revoked"
    BrandCredentials.objects.update(
        sealed=sealing.seal(values), expires_at=timezone.now() - timedelta(minutes=1)
    )
    source = Source.objects.create(brand=brand_b, kind=Source.Kind.MENTIONS)
    result = poll.poll(source.id)
    assert "X refused @acme_eu's credentials" in result.error
    assert "refresh" in BrandCredentials.objects.get(brand=brand_b).problem


def test_a_callback_this_session_did_not_start_is_refused(b_twelp, brand_b, b_admin):
    client = Client()
    client.force_login(b_admin.user)
    response = client.get("/admin/x-account/callback/?state=forged&code=stolen", follow=True)
    assert "was not started here" in response.content.decode()
    assert not BrandCredentials.objects.exists()


def test_the_sealed_credentials_open_after_a_key_rotation(settings, brand_b, b_admin, sandbox):
    connect_b(brand_b, b_admin)
    old = list(settings.TWELP_CREDENTIALS_KEYS)
    from cryptography.fernet import Fernet

    settings.TWELP_CREDENTIALS_KEYS = [Fernet.generate_key().decode(), *old]
    assert credentials.rotate_keys() == 1
    settings.TWELP_CREDENTIALS_KEYS = settings.TWELP_CREDENTIALS_KEYS[:1]  # the old key dropped
    opened = sealing.open_sealed(BrandCredentials.objects.get().sealed)
    assert opened["access_token"] == B_TOKEN
    settings.TWELP_CREDENTIALS_KEYS = old  # a key that never sealed it
    assert "cannot be read" in str(credentials.account_for(brand_b))


def test_an_agent_of_two_brands_switches_between_them(brand_a, brand_b):
    admin = make_agent(brand_a, "ann", role=Role.ADMIN)
    Membership.objects.create(agent=admin, brand=brand_b)
    jane = make_agent(brand_a, "jane")
    with pytest.raises(ActionError, match="do not work for"):
        agent_actions.do_switch_brand(jane, brand_b.id)
    agent_actions.do_grant_brand(jane.id, brand_b.id, actor=admin)
    assert {b.id for b in agent_actions.brands_of(jane)} == {brand_a.id, brand_b.id}
    jane = agent_actions.do_switch_brand(jane, brand_b.id)
    jane.refresh_from_db()
    assert jane.brand_id == brand_b.id
    assert Event.objects.filter(brand=brand_b, verb="agent_switched_brand").count() == 1
    jane = agent_actions.do_switch_brand(jane, brand_a.id)
    assert jane.brand_id == brand_a.id


def test_the_profile_page_switches_brand_and_refuses_a_brand_not_theirs(brand_a, brand_b):
    jane = make_agent(brand_a, "jane")
    Membership.objects.create(agent=jane, brand=brand_b)
    client = Client()
    client.force_login(jane.user)
    assert "@acme_eu" in client.get("/team/me/").content.decode()  # the switcher lists it
    other = Brand.objects.create(name="Other", handle="other_co", x_user_id=77)
    refused = client.post("/team/me/brand/", {"brand": other.id}, follow=True)
    assert "do not work for that brand" in refused.content.decode()
    jane.refresh_from_db()
    assert jane.brand_id == brand_a.id
    assert client.post("/team/me/brand/", {"brand": brand_b.id}).status_code == 302
    jane.refresh_from_db()
    assert jane.brand_id == brand_b.id


def test_the_env_credentials_belong_to_the_brand_of_their_account(db, settings):
    """X's OAuth 1.0a access token names its account ("<user id>-..."): that brand, even
    when an older brand exists; without such a brand, the oldest."""
    older = Brand.objects.create(name="Older", handle="older", x_user_id=77)
    settings.X_ENV_BRAND = ""
    settings.X_ACCESS_TOKEN = "4242-abc"
    assert credentials.is_env_brand(older)  # no brand of account 4242: the oldest
    owner = Brand.objects.create(name="Owner", handle="owner", x_user_id=4242)
    assert credentials.is_env_brand(owner) and not credentials.is_env_brand(older)
    settings.X_ENV_BRAND = "older"  # the setting wins
    assert credentials.is_env_brand(older) and not credentials.is_env_brand(owner)


def test_an_employee_of_both_brands_answers_bs_thread_only_from_b_and_only_inside_b(
    sandbox, brand_a, brand_b, b_admin
):
    """Issue 16: a member of A and B, working in A, forges a POST on B's thread: refused,
    nothing posted from anyone; switched to B, the same answer goes out from B's account."""
    connect_b(brand_b, b_admin)
    b_question, b_thread, _bob = asked(sandbox, brand_b, Account.objects.get(id=B_ID), "bob")
    actions.do_release(b_thread.id, agent=_bob)
    jane = make_agent(brand_a, "jane")
    Membership.objects.create(agent=jane, brand=brand_a)
    Membership.objects.create(agent=jane, brand=brand_b)
    client = Client()
    client.force_login(jane.user)
    form = {"text": f"@{b_thread.customer.handle} forged", "client_token": str(uuid.uuid4())}
    assert client.post(f"/t/{b_thread.id}/claim/").status_code == 404
    assert client.post(f"/t/{b_thread.id}/reply/", form).status_code == 404
    assert Reply.objects.count() == 0 and posted_by(b_question) == set()

    assert client.post("/team/me/brand/", {"brand": brand_b.id}).status_code == 302
    assert client.post(f"/t/{b_thread.id}/claim/").status_code in (200, 302)
    form["client_token"] = str(uuid.uuid4())
    assert client.post(f"/t/{b_thread.id}/reply/", form).status_code in (200, 302)
    reply = Reply.objects.get()
    assert replies.attempt(reply.id) is None
    assert posted_by(b_question) == {B_ID}  # B's account, never A's (BRAND_ID)
