"""Business hours and auto-reply: once per customer per window, through the outbox, only to
tweets addressed to the brand; the customer still waits for a human.

Polls run over real HTTP against the X sandbox; "never twice" is checked after repeated,
killed and concurrent polls (threads with their own database connections)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inbox import actions
from inbox.ingest import autoreply, poll
from inbox.live import presence
from inbox.models import AutoReply, Brand, Event, Message, Reply, Source, Thread
from inbox.outbox import replies
from inbox.rules import sla
from tests import processes
from tests.helpers import child_env, make_agent
from tests.sandbox import BRAND_ID, CREDENTIALS
from twelp.xsandbox import actions as x
from twelp.xsandbox.models import Tweet

TEXT = "Thanks for writing! We're away; a person will answer you {next_open}."
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def closed_now() -> dict[str, list[list[str]]]:
    """Hours that are closed right now: open only on the weekday after tomorrow (UTC)."""
    day = sla.DAYS[(timezone.now() + timedelta(days=2)).weekday()]
    return {day: [["09:00", "17:00"]]}


@pytest.fixture
def acme(sandbox) -> Brand:
    return Brand.objects.create(
        name="Acme",
        handle="acme_care",
        x_user_id=BRAND_ID,
        business_hours=closed_now(),
        auto_reply_enabled=True,
        auto_reply_text=TEXT,
    )


@pytest.fixture
def mentions(acme: Brand) -> Source:
    return Source.objects.create(brand=acme, kind=Source.Kind.MENTIONS)


def crowd(sandbox, count: int, per_customer: int = 1) -> list[Tweet]:
    """`count` new customers, each tweeting at the brand `per_customer` times."""
    people = x.create_customers([(f"fan{i:04d}", f"Fan {i}") for i in range(count)])
    known = {sandbox.brand.username.lower(): sandbox.brand.id}
    drafts = [
        x.draft_tweet(
            person,
            f"@{sandbox.brand.username} help number {n} from {person.username}",
            tweet_id=x.snowflake.next_id(),
            known=known,
        )
        for n in range(per_customer)
        for person in people
    ]
    x.save_drafts(drafts)
    return [d.tweet for d in drafts]


def auto_replies() -> list[Reply]:
    return list(Reply.objects.filter(agent=None).select_related("thread__customer"))


def assert_one_each(tweets: list[Tweet]) -> None:
    replies = auto_replies()
    authors = {t.author_id for t in tweets}
    assert len(replies) == len(authors)
    assert {r.thread.customer.x_user_id for r in replies} == authors
    assert AutoReply.objects.filter(reply__isnull=False).count() == len(authors)


# --- the storm --------------------------------------------------------------------------


def test_it_answers_a_storm_of_500_out_of_hours_mentions_once_each(sandbox, mentions):
    tweets = crowd(sandbox, 500)
    result = poll.poll(mentions.id)
    assert result.ingested == 500
    assert_one_each(tweets)
    reply = auto_replies()[0]
    opens = sla.hours_for(mentions.brand).next_open(timezone.now())
    assert reply.body == (
        f"@{reply.thread.customer.handle} Thanks for writing! We're away; a person will "
        f"answer you on {opens:%a} {opens.day} {opens:%b} at 09:00 UTC."
    )
    assert reply.status == "queued" and reply.credit == "" and reply.in_reply_to is not None
    # Nobody's answer: every customer still waits in the queue for a human.
    assert Thread.objects.filter(status="open", first_response_at=None).count() == 500
    assert Event.objects.filter(verb="auto_replied").count() == 500
    poll.poll(mentions.id)
    assert len(auto_replies()) == 500


def test_it_answers_one_customer_once_per_window_however_often_they_write(sandbox, mentions):
    maya, tomasz = sandbox.customers[:2]
    for n in range(30):  # thirty separate conversations, across three polls
        sandbox.tweet_at_brand(maya, f"hello? attempt {n}")
        if n % 10 == 9:
            poll.poll(mentions.id)
    sandbox.tweet_at_brand(tomasz, "me too")
    poll.poll(mentions.id)
    replies = auto_replies()
    assert sorted(r.thread.customer.handle for r in replies) == ["maya_rivera", "tomasz_k"]
    assert Thread.objects.filter(customer__handle="maya_rivera").count() == 30


def test_a_poll_killed_mid_way_and_repeated_answers_each_customer_once(sandbox, mentions):
    """A real process, SIGKILLed after its first pages committed; then polled again."""
    tweets = crowd(sandbox, 450)
    sandbox.fault("slow", "mentions", delay=0.7)  # every page: time to kill mid-way
    env = child_env(X_API_BASE_URL=sandbox.url, **CREDENTIALS)
    code = f"from inbox.ingest import poll; poll.poll({mentions.id})"
    processes.kill_mid_way(
        code, env, until=lambda: Reply.objects.count() >= 100, what="the first pages"
    )
    assert 100 <= Reply.objects.count() < 450
    sandbox.control("DELETE", "faults")
    poll.poll(mentions.id)
    poll.poll(mentions.id)
    assert Message.objects.count() == 450
    assert_one_each(tweets)


def test_two_concurrent_polls_of_the_same_tweets_answer_each_customer_once(sandbox, mentions):
    tweets = crowd(sandbox, 150)
    search = Source.objects.create(
        brand=mentions.brand, kind=Source.Kind.SEARCH, query=f"@{sandbox.brand.username}"
    )
    barrier, errors, results = threading.Barrier(2), [], []

    def run(source_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(poll.poll(source_id))
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(s,)) for s in (mentions.id, search.id)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert [r.error for r in results] == ["", ""]
    # Both read all 150 tweets (each advanced its cursor to the newest).
    newest = max(t.id for t in tweets)
    assert list(Source.objects.order_by("id").values_list("since_id", flat=True)) == [newest] * 2
    assert Message.objects.count() == 150
    assert_one_each(tweets)


# --- whom it answers --------------------------------------------------------------------


def test_it_never_answers_a_listening_match_without_the_brand_nor_a_retweet(sandbox, acme):
    maya, tomasz, aiko = sandbox.customers[:3]
    listening = Source.objects.create(brand=acme, kind=Source.Kind.SEARCH, query="router")
    x.post_tweet(maya, "my router from acme is great")  # matches, never mentions the brand
    mention = sandbox.tweet_at_brand(tomasz, "my router is broken")
    x.retweet(aiko, mention)
    result = poll.poll(listening.id)
    assert result.ingested == 2 and result.skipped >= 1
    assert [r.thread.customer.handle for r in auto_replies()] == ["tomasz_k"]


def test_it_never_dms_anyone_automatically(sandbox, acme):
    dms = Source.objects.create(brand=acme, kind=Source.Kind.DMS)
    x.send_dm(sandbox.customers[0], sandbox.brand, "are you open?")
    assert poll.poll(dms.id).ingested == 1
    assert auto_replies() == [] and AutoReply.objects.count() == 0


def test_the_brand_page_says_it_is_opt_in_and_what_x_requires(client, admin_agent):
    client.force_login(admin_agent.user)
    page = client.get("/brand/").content.decode().replace("&#x27;", "'")
    assert "Auto-reply (opt-in)" in page
    assert "X's automation rules require a person's explicit consent" in page
    assert "it never sends anyone a DM" in page
    assert Brand.objects.get(id=admin_agent.brand_id).auto_reply_enabled is False


def test_it_says_nothing_when_auto_reply_is_off(sandbox, mentions):
    Brand.objects.filter(id=mentions.brand_id).update(auto_reply_enabled=False)
    crowd(sandbox, 3)
    assert poll.poll(mentions.id).ingested == 3
    assert auto_replies() == [] and AutoReply.objects.count() == 0


def test_it_says_nothing_in_hours_while_an_employee_is_online(sandbox, mentions):
    Brand.objects.filter(id=mentions.brand_id).update(business_hours={})  # always open
    jane = make_agent(mentions.brand, "jane")
    presence.seen(mentions.brand_id, jane.id)
    crowd(sandbox, 3)
    poll.poll(mentions.id)
    assert auto_replies() == []


def test_it_answers_in_hours_when_nobody_is_online_saying_shortly(sandbox, mentions):
    Brand.objects.filter(id=mentions.brand_id).update(business_hours={})
    make_agent(mentions.brand, "jane")  # employed, but not online (no presence key)
    (tweet,) = crowd(sandbox, 1)
    poll.poll(mentions.id)
    (reply,) = auto_replies()
    assert reply.body.endswith("a person will answer you shortly.")
    assert reply.in_reply_to.x_id == tweet.id


# --- through the outbox, exactly once, and the human still answers -------------------------


def test_it_posts_through_the_outbox_once_and_the_customer_still_waits(
    sandbox, twelp_urls, mentions, client
):
    (tweet,) = crowd(sandbox, 1)
    poll.poll(mentions.id)
    (reply,) = auto_replies()
    assert replies.attempt(reply.id) is None
    assert replies.attempt(reply.id) is None  # already posted: nothing more
    reply.refresh_from_db()
    assert reply.status == "posted"
    posted = Tweet.objects.filter(author_id=BRAND_ID, in_reply_to_tweet_id=tweet.id)
    assert [t.id for t in posted] == [reply.posted_x_id]
    thread = Thread.objects.get()
    assert (thread.status, thread.first_response_at) == ("open", None)
    assert Event.objects.filter(verb="auto_reply_posted", actor=None).count() == 1
    jane = make_agent(mentions.brand, "jane")
    client.force_login(jane.user)
    page = client.get(f"/t/{thread.id}/").content.decode()
    assert "auto-reply" in page and "a person will answer you" in page
    assert not Event.objects.filter(verb="reply_posted").exists()
    # The human answer is still the first response.
    actions.do_claim(thread.id, agent=jane)
    human = actions.do_send_reply(thread.id, agent=jane, text="@fan0000 On it!")
    replies.attempt(human.id)
    thread.refresh_from_db()
    assert thread.status == "answered" and thread.first_response_at is not None


# --- the window and "when a human will answer" -----------------------------------------------


@pytest.fixture
def paris(db) -> Brand:
    return Brand.objects.create(
        name="Acme",
        handle="acmecares",
        x_user_id=9_000_001,
        timezone="Europe/Paris",
        business_hours=WEEKDAYS,
        auto_reply_enabled=True,
        auto_reply_text=TEXT,
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("moment", "start", "when"),
    [
        # Friday evening and all weekend: one window, from Friday's closing.
        ("2026-11-27T18:00+01:00", "2026-11-27T17:00+01:00", "on Mon 30 Nov at 09:00 CET"),
        ("2026-11-28T10:00+01:00", "2026-11-27T17:00+01:00", "on Mon 30 Nov at 09:00 CET"),
        ("2026-11-29T23:00+01:00", "2026-11-27T17:00+01:00", "tomorrow at 09:00 CET"),
        ("2026-11-30T07:30+01:00", "2026-11-27T17:00+01:00", "today at 09:00 CET"),
        ("2026-12-01T20:00+01:00", "2026-12-01T17:00+01:00", "tomorrow at 09:00 CET"),
    ],
)
def test_the_window_out_of_hours_runs_from_closing_and_says_when_we_open(
    paris, moment, start, when
):
    window = autoreply.window(paris, at(moment))
    assert window == autoreply.Window(at(start), when)


def test_in_hours_it_answers_only_when_nobody_is_online_and_says_shortly(paris):
    monday_noon = at("2026-11-30T12:00+01:00")
    jane, joe = make_agent(paris, "jane"), make_agent(paris, "joe")
    assert autoreply.window(paris, monday_noon) == autoreply.Window(
        at("2026-11-30T09:00+01:00"), autoreply.SOON
    )
    presence.seen(paris.id, joe.id)
    assert autoreply.window(paris, monday_noon) is None
    assert jane.id not in presence.last_seen(paris.id, [jane.id])


def test_it_never_auto_replies_with_an_empty_text(paris):
    paris.auto_reply_text = "  "
    assert autoreply.window(paris, at("2026-11-27T18:00+01:00")) is None


# --- the admins' settings page ---------------------------------------------------------------


def test_an_admin_sets_hours_and_auto_reply_and_it_is_audited(client, admin_agent):
    client.force_login(admin_agent.user)
    page = client.get("/brand/")
    assert page.status_code == 200 and "{next_open}" in page.content.decode()
    response = client.post(
        "/brand/",
        {
            "timezone": "Europe/Paris",
            "business_hours": '{"mon": [["09:00", "12:00"], ["13:00", "17:30"]], "sat": []}',
            "auto_reply_enabled": "on",
            "auto_reply_text": "Back {next_open}, promise.",
        },
    )
    assert response.status_code == 302
    brand = Brand.objects.get(id=admin_agent.brand_id)
    assert brand.business_hours == {"mon": [["09:00", "12:00"], ["13:00", "17:30"]], "sat": []}
    assert (brand.timezone, brand.auto_reply_enabled) == ("Europe/Paris", True)
    assert brand.auto_reply_text == "Back {next_open}, promise."
    event = Event.objects.get(verb="brand_settings_changed")
    assert event.actor == admin_agent and event.detail["timezone"] == ["UTC", "Europe/Paris"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("business_hours", '{"mon": [["09:00", "17:00"]', "Not valid JSON"),
        ("business_hours", '{"monday": [["09:00", "17:00"]]}', "is not a day"),
        ("business_hours", '{"mon": [["9am", "17:00"]]}', "is not a time"),
        ("business_hours", '{"mon": [["17:00", "09:00"]]}', "must end after it starts"),
        ("business_hours", '{"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}', "overlap"),
        ("timezone", "Mars/Olympus", "Unknown time zone"),
        ("auto_reply_text", "We are closed.", "Include {next_open}"),
        ("auto_reply_text", "é" * 5 + "🙂" * 120 + " {next_open}", "Too long for X by"),
    ],
)
def test_bad_settings_get_a_clear_message_and_change_nothing(
    client, admin_agent, field, value, message
):
    client.force_login(admin_agent.user)
    data = {
        "timezone": "UTC",
        "business_hours": "",
        "auto_reply_enabled": "on",
        "auto_reply_text": TEXT,
    } | {field: value}
    response = client.post("/brand/", data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    assert response.context["form"].data[field] == value  # what they typed is kept
    brand = Brand.objects.get(id=admin_agent.brand_id)
    assert (brand.auto_reply_enabled, brand.timezone, brand.business_hours) == (False, "UTC", {})
    assert not Event.objects.filter(verb="brand_settings_changed").exists()
