"""The rollup machinery: histogram precision, delta folding, the thread-count triggers,
and that figures change only with their Event's transaction."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Count, Sum

from inbox import actions, rollups
from inbox.models import Event, Message, QueueCount, Rollup, Source, Thread
from inbox.rules import sla
from tests.helpers import make_thread, run_at_once
from tests.inbox.scenario import NOW, answer, at, close, new_thread


def test_its_buckets_cover_every_duration_in_order():
    assert rollups.bucket_of(0) == 0 and rollups.bucket_of(9.99) == 0
    for i, bound in enumerate(rollups.BOUNDS):
        assert rollups.bucket_of(bound) == i + 1  # a bound opens the next bucket
        assert rollups.bucket_of(bound - 0.001) == i
    assert rollups.bucket_of(10**9) == rollups.NBUCKETS - 1
    # The stated precision: no bucket is more than 20% wider than its lower bound.
    assert all(b <= 1.2 * a for a, b in zip(rollups.BOUNDS, rollups.BOUNDS[1:], strict=False))
    assert rollups.BOUNDS[-1] > 8 * 86400


def test_its_quantiles_are_within_twenty_percent():
    rng = random.Random(7)
    for _ in range(200):
        samples = sorted(rng.lognormvariate(6, 1.5) + 10 for _ in range(rng.randint(1, 60)))
        hist = [0] * rollups.NBUCKETS
        for s in samples:
            hist[rollups.bucket_of(s)] += 1
        for q in (0.5, 0.9):
            truth = samples[max(int(-(-q * len(samples) // 1)) - 1, 0)]  # nearest rank
            estimate = rollups.quantile(hist, q)
            assert abs(estimate - truth) <= 0.2 * truth, (q, samples)


def test_it_spreads_and_folds_deltas_into_one_row_per_key_keeping_every_sum(brand, customer, agent):
    for i in range(3):
        thread = new_thread(brand, customer, i, NOW)
        answer(thread, agent, claimed=NOW, sent=NOW, posted=NOW)
        close(thread, agent, NOW)
    fields = ["arrived", "claimed", "posted", "closed", "first_response_n", "resolution_n"]

    def sums(**filters) -> dict[str, int]:
        found = Rollup.objects.filter(**filters).aggregate(*[Sum(f) for f in fields])
        return {f: found[f"{f}__sum"] or 0 for f in fields}

    def added(a: dict, b: dict) -> dict:
        return {f: a[f] + b[f] for f in fields}

    # One delta row an Event (grain "e"); the arrival trigger's rows are minute and quarter.
    events, by_agent = sums(grain="e"), sums(grain="e", agent__isnull=False)
    assert events["claimed"] == events["closed"] == 3 and by_agent == events
    assert (
        Rollup.objects.filter(grain="e").count()
        == Event.objects.filter(verb__in=rollups.COUNTERS).count()
    )
    minute, quarter = sums(grain="m"), sums(grain="q")
    assert minute["arrived"] == quarter["arrived"] == 3 and not sums(grain="d")["claimed"]
    read = (
        rollups.windows(brand, NOW),
        rollups.hourly(brand, NOW),
        rollups.per_agent_today(brand, NOW),
    )
    rollups.compact(NOW)
    # Each Event counted once in the brand's minute and quarter and the actor's day.
    assert sums(grain="m") == added(minute, events) and sums(grain="q") == added(quarter, events)
    assert sums(grain="d") == by_agent and sums(grain="d", agent=agent) == by_agent
    assert not Rollup.objects.filter(grain="e").exists()
    keys = Rollup.objects.values("agent", "grain", "bucket").annotate(n=Count("id"))
    assert all(k["n"] == 1 for k in keys) and not Rollup.objects.filter(delta=True).exists()
    hist = Rollup.objects.get(grain="q", agent=None).first_response_hist
    assert sum(hist) == 3 and len(hist) == rollups.NBUCKETS
    # What every reader says is the same before and after.
    assert read == (
        rollups.windows(brand, NOW),
        rollups.hourly(brand, NOW),
        rollups.per_agent_today(brand, NOW),
    )


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kathmandu", "Pacific/Chatham"])
def test_it_spreads_an_event_into_the_actors_day_in_the_brands_time_zone(
    brand, customer, agent, zone
):
    """Minutes either side of the brand's local midnight land in two days, as
    per_agent_today reads them, before compaction and after."""
    brand.timezone = zone
    brand.save()
    midnight = rollups.local_midnight(NOW, sla.hours_for(brand))
    for i, moment in enumerate((midnight - timedelta(minutes=1), midnight)):
        thread = new_thread(brand, customer, i, moment)
        answer(thread, agent, claimed=moment, sent=moment, posted=moment)
    before = rollups.per_agent_today(brand, midnight + timedelta(hours=1))
    rollups.compact(midnight + timedelta(hours=1))
    days = dict(Rollup.objects.filter(grain="d", agent=agent).values_list("bucket", "claimed"))
    yesterday = rollups.local_midnight(midnight - timedelta(minutes=1), sla.hours_for(brand))
    assert days == {yesterday: 1, midnight: 1} and yesterday < midnight
    assert rollups.per_agent_today(brand, midnight + timedelta(hours=1)) == before
    assert before[agent.id]["claimed"] == 1


@pytest.mark.django_db(transaction=True)
def test_it_leaves_an_event_committed_after_its_read_of_minutes_for_the_next_run(
    brand, customer, agent, monkeypatch
):
    """compact() reads the (brand, minute) pairs, then spreads: a row of another minute
    committed in between, by another connection, waits whole for the next run."""
    thread = new_thread(brand, customer, 1, NOW)
    answer(thread, agent, claimed=NOW, sent=NOW, posted=NOW)
    later = NOW + timedelta(minutes=3)
    read_days = rollups._days

    def days_then_a_close(cursor):
        found = read_days(cursor)
        (error,), _ = run_at_once([lambda: close(thread, agent, later)])
        assert error is None
        return found

    monkeypatch.setattr(rollups, "_days", days_then_a_close)
    rollups.compact(NOW)
    left = Rollup.objects.filter(grain="e")
    assert list(left.values_list("bucket", "closed")) == [(later, 1)]
    monkeypatch.setattr(rollups, "_days", read_days)
    rollups.compact(later)
    assert not Rollup.objects.filter(grain="e").exists()
    assert Rollup.objects.filter(grain="d", agent=agent).aggregate(n=Sum("closed"))["n"] == 1


def test_it_drops_minute_rows_past_their_use(brand, customer, agent, settings):
    settings.ROLLUP_MINUTES_KEEP_HOURS = 48
    new_thread(brand, customer, 1, NOW)
    rollups.compact(NOW + __import__("datetime").timedelta(hours=49))
    assert not Rollup.objects.filter(grain="m").exists()
    assert Rollup.objects.filter(grain="q").exists()


def test_its_trigger_counts_threads_whoever_writes_them(brand, customer, agent):
    source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    make_thread(brand, customer, 1, source=source)
    # The poller's way: bulk_create ON CONFLICT DO NOTHING; the duplicate adds nothing.
    Thread.objects.bulk_create(
        [
            Thread(brand=brand, customer=customer, conversation_id=c, source=source)
            for c in (1, 2, 3)
        ],
        ignore_conflicts=True,
    )
    third = Thread.objects.get(conversation_id=3)
    actions.do_claim(third.id, agent=agent)
    Thread.objects.filter(conversation_id=2).update(status="closed")
    Thread.objects.filter(conversation_id=1).delete()
    source.delete()  # SET_NULL moves its threads to "no source"

    def counted() -> dict:
        return {k: v for k, v in rollups.queue_counts(brand).items() if v}

    actual = {
        (row["source_id"], row["status"]): row["n"]
        for row in Thread.objects.values("source_id", "status").annotate(n=Count("id"))
    }
    assert counted() == actual == {(None, "claimed"): 1, (None, "closed"): 1}
    rollups.compact()
    assert counted() == actual
    assert QueueCount.objects.count() == 2


def test_queue_counts_leave_out_threads_x_says_to_hide(brand, customer):
    """As the queue does (inbox.data.compliance): hidden, a thread leaves its count;
    shown again, it comes back; claimed or deleted while hidden, no count moves."""
    kept, hidden = make_thread(brand, customer, 1), make_thread(brand, customer, 2)

    def counted() -> dict:
        rollups.compact()
        return {k: v for k, v in rollups.queue_counts(brand).items() if v}

    assert counted() == {(kept.source_id, "open"): 2}
    Thread.objects.filter(id=hidden.id).update(x_hidden="protected")
    assert counted() == {(kept.source_id, "open"): 1}
    Thread.objects.filter(id=hidden.id).update(status="answered")
    Thread.objects.filter(id=hidden.id).update(x_hidden="suspended")  # still hidden
    assert counted() == {(kept.source_id, "open"): 1}
    Thread.objects.filter(id=hidden.id).update(x_hidden="")
    assert counted() == {(kept.source_id, "open"): 1, (kept.source_id, "answered"): 1}
    Thread.objects.filter(id=hidden.id).update(x_hidden="withheld")
    Thread.objects.filter(id=hidden.id).delete()
    assert counted() == {(kept.source_id, "open"): 1}
    make_thread(brand, customer, 3, x_hidden="protected")  # arrives hidden: not counted
    assert counted() == {(kept.source_id, "open"): 1}


def test_it_writes_nothing_when_the_transition_rolls_back(brand, customer, agent):
    thread = make_thread(brand, customer, 1)
    before = Rollup.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.do_claim(thread.id, agent=agent)
        raise RuntimeError("rolled back")
    assert Rollup.objects.count() == before


def test_it_times_a_reopened_conversation_from_the_customers_return(brand, customer, agent):
    """Closed, then the customer writes again: the second resolution starts then."""
    from datetime import timedelta

    start = NOW - timedelta(hours=5)
    thread = new_thread(brand, customer, 1, start)
    answer(thread, agent, claimed=start, sent=start, posted=start + timedelta(minutes=1))
    close(thread, agent, start + timedelta(minutes=10))
    back = start + timedelta(hours=2)
    with at(back + timedelta(seconds=30)):
        message = Message.objects.create(
            brand=brand,
            thread=thread,
            x_id=5,
            direction="in",
            author_x_id=42,
            text="@acmecares still broken",
            conversation_id=1,
            sent_at=back,
        )
        actions.do_customer_wrote(thread, message)
    answer(
        thread,
        agent,
        claimed=back + timedelta(minutes=1),
        sent=back + timedelta(minutes=2),
        posted=back + timedelta(minutes=3),
    )
    close(thread, agent, back + timedelta(minutes=20))
    rollups.compact(back + timedelta(minutes=20))
    resolutions = sorted(
        Rollup.objects.filter(grain="q", agent=None, resolution_n=1).values_list(
            "resolution_seconds", flat=True
        )
    )
    assert resolutions == [600, 1200]  # 10 min, then 20 min from the customer's return
    reopened = Rollup.objects.filter(grain="q", agent=None).aggregate(n=Sum("reopened"))["n"]
    assert reopened == 1
    firsts = Rollup.objects.filter(grain="q", agent=None).aggregate(n=Sum("first_response_n"))
    assert firsts["n"] == 1  # the thread's first response happens once


def test_beat_folds_the_deltas_with_a_registered_task(settings):
    from twelp.celery import app

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["compact-rollups"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] <= 60  # readers sum the deltas left: keep them few


def test_the_windows_sum_the_histograms_of_the_rows_that_have_one(brand, customer, agent):
    """Most delta rows hold no histogram (a claim's, a release's): the windows sum those
    that do (inbox.rollups._sum_windows), the same before the deltas are folded and after."""
    from datetime import timedelta

    for i in range(3):
        thread = new_thread(brand, customer, i, NOW)
        answer(thread, agent, claimed=NOW, sent=NOW + timedelta(seconds=30 * i), posted=NOW)
    for i in range(3, 6):
        thread = new_thread(brand, customer, i, NOW)
        with at(NOW):
            actions.do_claim(thread.id, agent=agent)
            actions.do_release(thread.id, agent=agent)
    later = NOW + timedelta(minutes=2)

    def shown() -> dict[str, tuple]:
        with at(later):
            found = rollups.windows(brand, later)
        return {w.key: (w.claimed, w.first_response, w.resolution) for w in found}

    unfolded = shown()
    assert Rollup.objects.filter(delta=True, first_response_hist=[]).exists()
    rollups.compact(later)
    assert shown() == unfolded
    claimed, first_response, resolution = unfolded["hour"]
    assert claimed == 6 and first_response.count == 3 and first_response.median is not None
    assert resolution.count == 0 and resolution.median is None  # no row has one: '{}'
