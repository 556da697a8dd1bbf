"""The daily retention sweep (inbox.data.retention): what is past each brand's retention
goes, in bounded batches; threads and the audit stay; the dashboard shows the count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import actions
from inbox.data import retention
from inbox.models import Event, Message, Note, Quarantine, RetentionRun, Thread, Verb
from inbox.tasks import sweep_retention
from tests.helpers import login, make_thread_with_message

LATER = timedelta(days=400)  # past every default (365 days for closed threads)


@pytest.fixture
def closed(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    actions.do_add_note(thread.id, agent=agent, text="Kim's order is #123")
    actions.do_close(thread.id, agent=agent)
    Thread.objects.filter(id=thread.id).update(preview="where is my order?")
    return thread


def test_a_closed_thread_past_retention_is_emptied_and_kept(closed, brand):
    events_before = Event.objects.filter(thread=closed).count()
    run = retention.sweep(brand, now=timezone.now() + LATER)
    assert (run.threads, run.messages, run.raw_payloads) == (1, 1, 0)
    closed.refresh_from_db()
    assert closed.preview == "" and closed.purged_at is not None and closed.status == "closed"
    assert not Message.objects.filter(thread=closed).exists()
    assert not Note.objects.filter(thread=closed).exists()
    assert Event.objects.filter(thread=closed).count() == events_before
    swept = Event.objects.get(verb=Verb.RETENTION_SWEPT)
    assert swept.detail["threads"] == 1 and swept.thread is None
    assert retention.sweep(brand, now=timezone.now() + LATER).threads == 0  # done once


def test_young_closed_threads_and_open_ones_stay(closed, brand, customer):
    old_open = make_thread_with_message(brand, customer, "still waiting", conversation_id=200)
    run = retention.sweep(brand, now=timezone.now() + timedelta(days=300))
    assert run.threads == 0
    assert Message.objects.filter(thread__in=[closed, old_open]).count() == 2


def test_a_brand_may_keep_for_less(closed, brand):
    brand.retain_closed_threads = timedelta(days=7)
    brand.save()
    assert retention.sweep(brand, now=timezone.now() + timedelta(days=8)).threads == 1


def test_a_thread_reopened_after_it_was_emptied_is_emptied_again(closed, brand, agent):
    retention.sweep(brand, now=timezone.now() + LATER)
    Thread.objects.filter(id=closed.id).update(closed_at=timezone.now() + LATER + timedelta(1))
    Message.objects.create(
        brand=brand,
        thread=closed,
        x_id=555,
        direction="in",
        author_x_id=42,
        text="me again",
        conversation_id=100,
        sent_at=timezone.now(),
    )
    run = retention.sweep(brand, now=timezone.now() + LATER * 2)
    assert run.threads == 1 and not Message.objects.filter(thread=closed).exists()


def test_raw_payloads_past_retention_are_emptied(thread, brand):
    Message.objects.filter(thread=thread).update(raw={"id": "100", "text": "hi"})
    assert retention.sweep(brand, now=timezone.now() + timedelta(days=10)).raw_payloads == 0
    run = retention.sweep(brand, now=timezone.now() + timedelta(days=31))
    assert run.raw_payloads == 1
    message = Message.objects.get(thread=thread)
    assert message.raw == {} and message.text  # the text stays while the thread does


def test_quarantine_past_retention_is_deleted_in_bounded_batches(brand, source):
    for n in range(5):
        Quarantine.objects.create(source=source, raw={"n": n}, error="bad")
    Quarantine.objects.create(source=None, raw={"n": 9}, error="no source")
    run = retention.sweep(brand, now=timezone.now() + timedelta(days=31), batch=2)
    assert run.quarantined == 5 and run.batches == 3 and run.longest_batch_ms > 0
    assert list(Quarantine.objects.values_list("error", flat=True)) == ["no source"]
    assert retention.sweep_unowned_quarantine(now=timezone.now() + timedelta(days=31)) == 1


def test_the_task_sweeps_every_brand(closed, brand):
    assert sweep_retention() == {"threads": 0, "raw_payloads": 0, "quarantined": 0}
    assert RetentionRun.objects.filter(brand=brand).count() == 1


def test_the_dashboard_shows_the_last_run(client, closed, brand, supervisor):
    login(client, supervisor.user)
    assert b"No retention sweep has run yet." in client.get("/sup/").content
    retention.sweep(brand, now=timezone.now() + LATER)
    from inbox.live import version

    version.bump(brand.id)
    page = client.get("/sup/").content.decode()
    assert '<span data-figure="retention-threads">1</span> closed threads emptied' in page


@pytest.mark.parametrize(("percent", "batch_ms", "rested_s"), [(200, 300, 0.6), (200, 5000, 2.0)])
def test_after_each_batch_the_sweep_rests_its_share_at_most_two_seconds(
    monkeypatch, settings, percent, batch_ms, rested_s
):
    """The agents keep the database's WAL (BENCHMARKS.md, issue 19): a batch of 300 ms is
    followed by 600 ms of rest at 200%, and no rest is longer than 2 s."""
    slept = []
    monkeypatch.setattr(retention.time, "sleep", slept.append)
    settings.DATA_DUTIES_REST_PERCENT = percent
    retention.rest(batch_ms)
    assert slept == [pytest.approx(rested_s)]


def test_the_sweep_rests_after_every_batch_it_ran(monkeypatch, settings, brand, source):
    rests = []
    monkeypatch.setattr(retention, "rest", rests.append)
    old = timezone.now() - timedelta(days=40)
    Quarantine.objects.bulk_create(
        Quarantine(source=source, raw={"n": i}, error="bad") for i in range(5)
    )
    Quarantine.objects.update(created_at=old)
    run = retention.sweep(brand, batch=2)
    assert run.batches == 3 and len(rests) == 3 and all(ms > 0 for ms in rests)


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)  # a real transaction: SET LOCAL ends with it
@pytest.mark.parametrize(("sync", "inside"), [(False, "off"), (True, "on")])
def test_a_duty_batch_commits_without_waiting_for_its_wal_unless_told(settings, sync, inside):
    settings.DATA_DUTIES_SYNC_COMMIT = sync
    with retention.duty_transaction():
        assert _synchronous_commit() == inside
    assert _synchronous_commit() == "on"  # the connection's other transactions: unchanged


@pytest.mark.django_db(transaction=True)
def test_every_batch_of_the_sweep_runs_in_a_duty_transaction(brand, source):
    Quarantine.objects.bulk_create(
        Quarantine(source=source, raw={"n": i}, error="bad") for i in range(5)
    )
    Quarantine.objects.update(created_at=timezone.now() - timedelta(days=40))
    Quarantine.objects.create(source=None, raw={"n": 9}, error="no source")
    Quarantine.objects.filter(source=None).update(created_at=timezone.now() - timedelta(days=40))
    with CaptureQueriesContext(connection) as queries:
        run = retention.sweep(brand, batch=2)
        assert retention.sweep_unowned_quarantine(batch=2) == 1
    off = [q for q in queries if q["sql"] == "SET LOCAL synchronous_commit = off"]
    # 3 batches of the brand's and 1 of the sourceless, plus each loop's last, empty look
    # (threads, raw payloads, quarantine; the sourceless quarantine).
    assert run.batches == 3 and len(off) == 3 + 1 + 3 + 1
    assert not Quarantine.objects.exists()
