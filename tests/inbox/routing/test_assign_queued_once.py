"""Issue 14: one assignment run queued at a time per brand (inbox.schedule.assign). The
commits that free room while a run is queued and not started publish nothing (that run
takes all the brand's waiting work); once it starts, the next commit queues another."""

from __future__ import annotations

import pytest
from celery.signals import after_task_publish

from inbox import actions, schedule, tasks
from tests.helpers import make_thread


@pytest.fixture
def published():
    """The brand ids of the assignment runs published to the broker (really sent)."""
    sent: list[int] = []

    def count(sender=None, body=None, **_: object) -> None:
        if sender == schedule.ASSIGN_WAITING:
            sent.append(body[0][0])

    after_task_publish.connect(count, weak=False)
    yield sent
    after_task_publish.disconnect(count)


def test_commits_while_a_run_is_queued_publish_nothing_more(
    brand, customer, agent, published, django_capture_on_commit_callbacks
):
    threads = [make_thread(brand, customer, n) for n in (1, 2, 3)]
    for thread in threads:
        actions.do_claim(thread.id, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_release(threads[0].id, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_close(threads[1].id, agent=agent)
    assert published == [brand.id]  # the second commit found the first run still queued

    tasks.assign_waiting(brand.id)  # the run starts (a worker took it)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_release(threads[2].id, agent=agent)
    assert published == [brand.id, brand.id]


def test_another_brands_run_is_queued_on_its_own(
    brand, customer, agent, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        schedule.assign(brand.id)
        schedule.assign(brand.id + 1000)
    assert published == [brand.id, brand.id + 1000]
