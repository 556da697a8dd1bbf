"""The outbox paces to X's budgets (per brand account and kind) instead of meeting 429s,
in the documented order, over tweepy to the sandbox with X's real caps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from inbox import actions, budgets
from inbox.models import Brand, PostingBudget, Reply, Thread
from inbox.outbox import budget, replies
from tests.helpers import make_agent
from tests.sandbox import BRAND_ID, Sandbox
from twelp import xgateway
from twelp.xsandbox import actions as x


@pytest.fixture
def brand(sandbox) -> Brand:
    return Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)


def threads(sandbox: Sandbox, brand: Brand, count: int, *, dm: bool = False) -> list[Thread]:
    """`count` customers' questions (tweets at the brand, or DMs), polled into threads."""
    from inbox.ingest import poll
    from inbox.models import Source

    kind = Source.Kind.DMS if dm else Source.Kind.MENTIONS
    prefix = "dmcust" if dm else "cust"
    customers = x.create_customers([(f"{prefix}{n}", f"Customer {n}") for n in range(count)])
    for customer in customers:
        if dm:
            x.send_dm(customer, sandbox.brand, "help me please")
        else:
            sandbox.tweet_at_brand(customer, "help me please")
    source, _ = Source.objects.get_or_create(brand=brand, kind=kind, query="")
    poll.poll(source.id)
    return list(Thread.objects.filter(brand=brand, channel="dm" if dm else "tweet").order_by("id"))


def answer(thread: Thread, agent) -> Reply:
    actions.do_claim(thread.id, agent=agent)
    return actions.do_send_reply(thread.id, agent=agent, text=f"@{thread.customer.handle} on it")


def refused(sandbox: Sandbox) -> dict[str, int]:
    return sandbox.control("GET", "rate_limits").json()["refused"]


def test_it_waits_for_the_window_instead_of_meeting_a_429(sandbox, brand, settings: Settings):
    settings.XSANDBOX_RATE_LIMITS = {
        **settings.XSANDBOX_RATE_LIMITS,
        "create_tweet": {"user": (3, 900), "app_24h": (10_000, 86_400)},
    }
    alice = make_agent(brand, "alice")
    sent = [answer(thread, alice) for thread in threads(sandbox, brand, 5)]
    waits = [replies.attempt(reply.id) for reply in sent]
    assert waits[:3] == [None, None, None]  # the first post learned X's limit: 3
    assert all(wait is not None and 800 < wait.seconds <= 905 for wait in waits[3:])
    # Both look again at the window's reset, whatever their place: the order is decided
    # afresh then (waking each at its own estimate let answers sleep past free calls).
    woken = set(Reply.objects.filter(status="queued").values_list("next_attempt_at", flat=True))
    assert len(woken) == 1
    statuses = [Reply.objects.get(id=reply.id).status for reply in sent]
    assert statuses == ["posted"] * 3 + ["queued"] * 2
    assert refused(sandbox) == {}  # paced: X never had to refuse
    # What X charged is kept on each posted answer: a summoned reply, $0.01.
    costs = set(Reply.objects.filter(status="posted").values_list("cost", flat=True))
    assert costs == {Decimal("0.01")}
    posts = PostingBudget.objects.get(brand=brand, kind="tweets")
    assert (posts.limit, posts.remaining) == (3, 0)
    assert posts.day_limit == 10_000 and posts.day_remaining == 9_997


def test_a_spent_dm_budget_never_holds_public_answers_back(sandbox, brand):
    alice = make_agent(brand, "alice")
    dm_thread = threads(sandbox, brand, 1, dm=True)[0]
    tweet_thread = threads(sandbox, brand, 1)[0]
    sandbox.fault("rate_limit", "dm_send", count=1, reset_after=600)
    dm_reply, tweet_reply = answer(dm_thread, alice), answer(tweet_thread, alice)
    wait = replies.attempt(dm_reply.id)
    assert wait is not None and 500 < wait.seconds <= 600
    assert replies.attempt(tweet_reply.id) is None
    assert Reply.objects.get(id=tweet_reply.id).status == "posted"
    assert Reply.objects.get(id=dm_reply.id).status == "queued"
    views = {view.kind: view for view in budgets.budgets(brand, timezone.now())}
    assert views["dms"].left == 0 and views["dms"].paused_until is not None
    assert views["tweets"].left == 99 and views["tweets"].paused_until is None


def test_a_spent_posting_budget_never_holds_dms_back(sandbox, brand):
    alice = make_agent(brand, "alice")
    dm_thread = threads(sandbox, brand, 1, dm=True)[0]
    tweet_thread = threads(sandbox, brand, 1)[0]
    sandbox.fault("rate_limit", "create_tweet", count=1, reset_after=600)
    tweet_reply, dm_reply = answer(tweet_thread, alice), answer(dm_thread, alice)
    assert replies.attempt(tweet_reply.id) is not None
    assert replies.attempt(dm_reply.id) is None
    assert Reply.objects.get(id=dm_reply.id).status == "posted"


def test_it_sends_breached_then_urgent_then_oldest_first(sandbox, brand):
    alice = make_agent(brand, "alice")
    calm_old, calm_new, urgent, late = threads(sandbox, brand, 4)
    Thread.objects.filter(id=urgent.id).update(priority=80)
    Thread.objects.filter(id=late.id).update(waiting_since=timezone.now() - timedelta(hours=1))
    sent = {t.id: answer(t, alice) for t in (calm_old, calm_new, urgent, late)}
    waiting = budgets.waiting_in_order(brand, "tweets", timezone.now())
    order = [reply.thread_id for reply in waiting]
    assert order == [late.id, urgent.id, calm_old.id, calm_new.id]
    now = timezone.now()
    assert [budgets.ahead(sent[t], now) for t in order] == [0, 1, 2, 3]
    # With one call left, only the first in that order may take it.
    PostingBudget.objects.create(
        brand=brand, kind="tweets", limit=100, remaining=1,
        reset_at=now + timedelta(minutes=10), day_limit=10_000, day_remaining=9_000,
    )  # fmt: skip
    assert replies.attempt(sent[calm_old.id].id) is not None
    assert replies.attempt(sent[late.id].id) is None
    estimate = budgets.estimate(sent[calm_new.id], timezone.now())
    assert estimate.ahead == 2  # the urgent and the older calm answer
    assert estimate.at >= now + timedelta(minutes=9)


def test_a_missing_or_absurd_header_is_clamped_not_trusted(brand):
    now = timezone.now()
    absurd = (
        xgateway.XWindow("15min", limit=100, remaining=-3, reset=10**15),
        xgateway.XWindow("24h", limit=None, remaining=None, reset=None),
    )
    budget.record(brand.id, "tweets", absurd, now)
    row = PostingBudget.objects.get(brand=brand, kind="tweets")
    assert row.remaining == 0
    assert now < row.reset_at <= now + timedelta(minutes=15)
    assert (row.day_limit, row.day_remaining) == (10_000, 10_000)  # missing: kept
    turn = budget.take(brand.id, "tweets", now, ahead=0)
    assert turn is not None and turn <= now + timedelta(minutes=15, seconds=3)


def test_behind_a_fresh_window_it_looks_again_soon_not_at_the_days_reset(brand):
    now = timezone.now()
    PostingBudget.objects.create(
        brand=brand, kind="tweets", limit=100, remaining=0,
        reset_at=now - timedelta(minutes=1),  # the 15-minute window has reset
        day_limit=10_000, day_remaining=9_000, day_reset_at=now + timedelta(hours=20),
    )  # fmt: skip
    turn = budget.take(brand.id, "tweets", now, ahead=150)
    assert turn is not None and turn <= now + timedelta(seconds=10)


def test_a_larger_limit_from_x_is_used_in_the_window_it_was_learned_in(brand):
    """The first answers are taken against X's documented 100 (nothing known yet); X's
    headers then say the account may post 1,000 (a partner tier): the calls left are
    X's count, not the 100 less what was taken (which paused the brand after 100 posts)."""
    now = timezone.now()
    for _ in range(3):
        assert budget.take(brand.id, "tweets", now, ahead=0) is None
    reset = int((now + timedelta(minutes=15)).timestamp())
    told = (xgateway.XWindow("15min", limit=1_000, remaining=997, reset=reset),)
    budget.record(brand.id, "tweets", told, now)
    row = PostingBudget.objects.get(brand=brand, kind="tweets")
    assert (row.limit, row.remaining) == (1_000, 997)
    # A smaller limit than ours: the calls taken here count against it, X's remaining
    # bounds it.
    budget.take(brand.id, "tweets", now, ahead=0)  # 996 of 1,000 left here
    told = (xgateway.XWindow("15min", limit=50, remaining=48, reset=reset),)
    budget.record(brand.id, "tweets", told, now)
    row = PostingBudget.objects.get(brand=brand, kind="tweets")
    assert (row.limit, row.remaining) == (50, 46)


@pytest.mark.parametrize(
    "reset",
    [None, -1, "past", "day_and_two_minutes"],
)
def test_a_429_with_an_absurd_reset_empties_the_window_for_15_minutes(brand, reset):
    now = timezone.now()
    at = {
        "past": now - timedelta(hours=1),
        "day_and_two_minutes": now + timedelta(days=1, minutes=2),
    }
    raw = int(at[reset].timestamp()) if reset in at else reset
    told = (xgateway.XWindow("15min", limit=100, remaining=0, reset=raw),)
    until = budget.exhausted(brand.id, "tweets", told, now + timedelta(minutes=15), now)
    assert until == now + timedelta(minutes=15)
    row = PostingBudget.objects.get(brand=brand, kind="tweets")
    assert (row.remaining, row.reset_at) == (0, now + timedelta(minutes=15))


def test_a_429_for_the_daily_cap_waits_for_its_reset_a_day_ahead(brand):
    """Rounded up to the second and a little later than our clock: still X's word."""
    now = timezone.now()
    day = int((now + timedelta(days=1, seconds=30)).timestamp())
    told = (
        xgateway.XWindow("15min", limit=100, remaining=0, reset=day),
        xgateway.XWindow("24h", limit=10_000, remaining=0, reset=day),
    )
    until = budget.exhausted(brand.id, "tweets", told, now, now)
    assert until.timestamp() == day
    assert budget.take(brand.id, "tweets", now + timedelta(hours=1), ahead=0) is not None
