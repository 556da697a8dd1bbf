"""X's batch compliance applied, end to end against the sandbox over real HTTP: a tweet
deleted on X disappears from Twelp; a protected account leaves the queue and the public
stream; malformed lines, unknown ids and a failed job lose nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from inbox import actions
from inbox.data import compliance
from inbox.ingest import poll
from inbox.models import (
    Brand,
    ComplianceJob,
    Customer,
    Event,
    Message,
    Reply,
    Source,
    Thread,
    Verb,
)
from inbox.queries import queue_page
from inbox.tasks import poll_x_compliance, start_x_compliance
from inbox.views import public
from tests.helpers import make_agent
from tests.sandbox import BRAND_ID
from twelp.xsandbox import compliance as on_x
from twelp.xsandbox.models import Redaction


@pytest.fixture
def source(sandbox) -> Source:
    brand = Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)
    return Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)


def _run_jobs() -> list[ComplianceJob]:
    """What beat does: start the day's jobs, then poll until X has finished them."""
    start_x_compliance()
    for _ in range(5):
        poll_x_compliance()
        if not ComplianceJob.objects.filter(status="uploaded").exists():
            break
    return list(ComplianceJob.objects.order_by("id"))


def test_a_tweet_deleted_on_x_disappears_from_twelp(sandbox, source):
    maya = sandbox.customers[0]
    gone = sandbox.tweet_at_brand(maya, "my card number is 4111 oops")
    kept = sandbox.tweet_at_brand(maya, "and another question")
    poll.poll(source.id)
    assert Message.objects.count() == 2
    on_x.delete_tweet(maya, gone.id)
    jobs = _run_jobs()
    assert [(j.kind, j.status) for j in jobs] == [("tweets", "applied"), ("users", "applied")]
    tweets = jobs[0]
    assert (tweets.ids_sent, tweets.lines, tweets.removed, tweets.malformed) == (2, 1, 1, 0)
    assert list(Message.objects.values_list("x_id", flat=True)) == [kept.id]
    event = Event.objects.get(verb=Verb.X_COMPLIANCE_APPLIED)
    assert event.detail == {"kind": "tweets", "removed": 1, "hidden": 0}


def test_a_protected_account_leaves_the_queue_claim_next_and_the_public_stream(
    sandbox, source, client
):
    maya, tomasz = sandbox.customers[:2]
    sandbox.tweet_at_brand(maya, "help please")
    sandbox.tweet_at_brand(tomasz, "me too")
    poll.poll(source.id)
    brand = source.brand
    on_x.set_protected(maya, True)
    _run_jobs()
    customer = Customer.objects.get(x_user_id=maya.id)
    assert customer.x_hidden == "protected"
    hidden = Thread.objects.get(customer=customer)
    assert hidden.x_hidden == "protected" and hidden.status == "open"
    page, _ = queue_page(brand)
    assert [t.customer.x_user_id for t in page] == [tomasz.id]
    agent = make_agent(brand, "alice")
    for n, thread in enumerate(Thread.objects.order_by("id"), start=1):
        Reply.objects.create(
            thread=thread, agent=agent, body=f"answer {n}", status="posted", posted_x_id=n,
            posted_at=timezone.now(),
        )  # fmt: skip
    shown, _ = public.answers(brand, None)
    assert [a.text for a in shown] == ["answer 2"]  # not the answer to the hidden thread
    assert actions.do_claim_next(agent=agent).customer.x_user_id == tomasz.id
    assert actions.do_claim_next(agent=agent) is None  # the hidden thread is not offered
    # Public again on X: the next users job shows the customer again.
    on_x.set_protected(maya, False)
    ComplianceJob.objects.all().delete()
    _run_jobs()
    customer.refresh_from_db()
    hidden.refresh_from_db()
    assert customer.x_hidden == "" and hidden.x_hidden == ""


def test_malformed_lines_and_unknown_ids_are_counted_and_the_rest_applied(sandbox, source):
    maya = sandbox.customers[0]
    first = sandbox.tweet_at_brand(maya, "one")
    second = sandbox.tweet_at_brand(maya, "two")
    poll.poll(source.id)
    row = ComplianceJob.objects.create(kind="tweets")
    lines = [
        f'{{"id":"{first.id}","action":"delete","reason":"deleted"}}',
        '{"id":"12',  # cut short
        "not json at all",
        '{"action":"delete","reason":"deleted"}',  # no id
        '{"id":"777","action":"delete","reason":"deleted"}',  # not held here
        f'{{"id":"{second.id}","action":"delete","reason":"withheld"}}',
    ]
    compliance.apply(row, lines)
    assert (row.lines, row.malformed, row.unknown, row.removed, row.hidden) == (6, 3, 1, 1, 1)
    assert Message.objects.get().x_hidden == "withheld"
    compliance.apply(row, lines)  # twice (a retried download): the same end state
    assert Message.objects.count() == 1


def test_a_failed_job_is_started_again_and_a_broken_download_retried(sandbox, source):
    maya = sandbox.customers[0]
    gone = sandbox.tweet_at_brand(maya, "delete me")
    poll.poll(source.id)
    on_x.delete_tweet(maya, gone.id)
    sandbox.fault("unavailable", "compliance_processing", count=1)
    sandbox.fault("unavailable", "compliance_download", count=1)
    first = compliance.start("tweets")
    compliance.poll()  # in progress
    compliance.poll()  # X: failed -> a second job, uploaded at once
    first.refresh_from_db()
    assert first.status == "failed" and "failed" in first.last_error
    second = ComplianceJob.objects.exclude(id=first.id).get()
    assert (second.attempt, second.status) == (2, "uploaded")
    compliance.poll()  # in progress
    compliance.poll()  # complete, but the download answers 503: tried again next time
    second.refresh_from_db()
    assert second.status == "uploaded" and "503" in second.last_error
    assert Message.objects.filter(x_id=gone.id).exists()
    compliance.poll()
    second.refresh_from_db()
    assert second.status == "applied" and not Message.objects.filter(x_id=gone.id).exists()


def test_a_user_deleted_on_x_is_erased(sandbox, source):
    maya = sandbox.customers[0]
    sandbox.tweet_at_brand(maya, "hello")
    poll.poll(source.id)
    row = ComplianceJob.objects.create(kind="users")
    compliance.apply(row, [f'{{"id":"{maya.id}","action":"delete","reason":"deleted"}}'])
    customer = Customer.objects.get()
    assert customer.erased_at is not None and customer.x_user_id < 0
    assert not Message.objects.exists() and Thread.objects.count() == 1


def test_applying_rests_after_each_batch(monkeypatch, db):
    """Like the retention sweep, X's results are applied in small batches with a rest after
    each (inbox.data.retention.rest): the agents keep the database's WAL."""
    from inbox.data import retention

    rests = []
    monkeypatch.setattr(retention, "rest", rests.append)
    monkeypatch.setattr(compliance, "BATCH", 2)
    row = ComplianceJob.objects.create(kind="tweets")
    lines = [f'{{"id":"{n}","action":"delete","reason":"deleted"}}' for n in range(1, 6)]
    compliance.apply(row, lines)
    assert (row.lines, row.unknown) == (5, 5) and len(rests) == 3  # 2 + 2 + 1 ids


def test_a_tweet_deleted_on_x_is_gone_from_twelp_within_24_hours(sandbox, source, settings):
    """X's policy: within 24 h of the deletion. The clock moved is Python's wall clock in
    this process (time-machine, not ticking): Twelp's timezone.now() and the sandbox's,
    whose server runs in a thread here, so X's redacted_at and Twelp's job times are on
    one clock. Nothing sleeps: the clock jumps from the deletion to 23 h 59 min after it."""
    beat = settings.CELERY_BEAT_SCHEDULE
    start_every = beat["start-x-compliance"]["schedule"]
    poll_every = beat["poll-x-compliance"]["schedule"]
    # Beat's cadence leaves room inside the 24 h: a deletion right after a run is in the
    # next one, started `start_every` later and applied by its second poll.
    assert start_every + 2 * poll_every < 24 * 3600
    deleted_at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    maya = sandbox.customers[0]
    with time_machine.travel(deleted_at - timedelta(hours=1), tick=False) as clock:
        gone = sandbox.tweet_at_brand(maya, "my address is 12 Elm St, oops")
        poll.poll(source.id)
        _run_jobs()  # the run before the deletion: nothing to remove yet
        assert Message.objects.filter(x_id=gone.id).exists()
        clock.move_to(deleted_at)
        on_x.delete_tweet(maya, gone.id)
        assert Redaction.objects.get(tweet_id=gone.id).redacted_at == deleted_at  # X's clock
        assert Message.objects.filter(x_id=gone.id).exists()  # X has not said so yet
        clock.move_to(deleted_at + timedelta(hours=23, minutes=59))
        jobs = _run_jobs()[2:]  # this run's tweets and users jobs
    assert [(j.kind, j.status) for j in jobs] == [("tweets", "applied"), ("users", "applied")]
    assert not Message.objects.filter(x_id=gone.id).exists()
    assert jobs[0].removed == 1
    assert jobs[0].finished_at - deleted_at == timedelta(hours=23, minutes=59)


def test_an_apply_broken_off_midway_is_applied_whole_at_the_next_poll(sandbox, source, monkeypatch):
    """A batch that fails (the database gone for a moment) leaves the job "uploaded": the
    batches before it stay done, and the next poll applies the whole file again, so
    nothing after the failure is lost."""
    maya = sandbox.customers[0]
    tweets = [sandbox.tweet_at_brand(maya, f"tweet {n}") for n in range(3)]
    poll.poll(source.id)
    for tweet in tweets:
        on_x.delete_tweet(maya, tweet.id)
    monkeypatch.setattr(compliance, "BATCH", 1)
    apply_batch, calls = compliance._apply_tweets, []

    def second_batch_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return apply_batch(*args, **kwargs)

    monkeypatch.setattr(compliance, "_apply_tweets", second_batch_fails)
    job = compliance.start("tweets")
    compliance.poll()  # in progress
    with pytest.raises(OperationalError):
        compliance.poll()  # complete: the first batch applied, the second fails
    job.refresh_from_db()
    assert job.status == "uploaded"
    assert Message.objects.count() == 2  # the first batch stayed done
    compliance.poll()  # the whole file again
    job.refresh_from_db()
    assert job.status == "applied" and (job.removed, job.unknown) == (2, 1)
    assert not Message.objects.exists()
    assert ComplianceJob.objects.count() == 1  # applied, not started again


def test_a_job_that_keeps_failing_is_started_at_most_max_attempts_times(sandbox, source, settings):
    settings.X_COMPLIANCE_MAX_ATTEMPTS = 2
    maya = sandbox.customers[0]
    kept = sandbox.tweet_at_brand(maya, "still here")
    poll.poll(source.id)
    on_x.delete_tweet(maya, kept.id)
    sandbox.fault("unavailable", "compliance_processing", count=2)
    compliance.start("tweets")
    for _ in range(8):
        compliance.poll()
    jobs = list(ComplianceJob.objects.order_by("id"))
    assert [(j.attempt, j.status) for j in jobs] == [(1, "failed"), (2, "failed")]
    assert "failed" in jobs[-1].last_error
    assert Message.objects.filter(x_id=kept.id).exists()  # nothing applied from a failed job
    # The next day's run starts afresh, and applies what X now completes.
    compliance.start("tweets")
    compliance.poll()
    compliance.poll()
    assert ComplianceJob.objects.latest("id").status == "applied"
    assert not Message.objects.filter(x_id=kept.id).exists()
