"""A real Celery worker with its beat, against real Redis and the sandbox over HTTP:
mentions are polled in on schedule and an agent's reply is posted, with nobody calling
a task by hand."""

from __future__ import annotations

import time

import pytest

from inbox import actions
from inbox.models import Brand, Message, Reply, Source, Thread
from tests import processes
from tests.helpers import child_env, make_agent
from tests.sandbox import BRAND_ID, CREDENTIALS
from twelp.xsandbox.models import Tweet

pytestmark = pytest.mark.slow


def wait_until(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture
def worker(sandbox, tmp_path, settings):
    """celery worker -B: beat embedded, same broker (Redis), queue and database as this test."""
    env = child_env(
        DJANGO_SETTINGS_MODULE="tests.settings", X_API_BASE_URL=sandbox.url, **CREDENTIALS
    )
    with processes.celery_worker(
        env,
        queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        beat_schedule=tmp_path / "beat-schedule",
        log_path=tmp_path / "worker.log",
    ) as process:
        yield process


def test_it_ingests_mentions_and_posts_replies_on_its_own(sandbox, worker):
    brand = Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID)
    Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    customers = sandbox.customers
    for i in range(12):
        sandbox.tweet_at_brand(customers[i % len(customers)], f"worker question {i}")

    wait_until(lambda: Message.objects.count() == 12)  # beat → poll_due_sources → poll
    thread = Thread.objects.order_by("id").first()
    alice = make_agent(brand, "alice")
    actions.do_claim(thread.id, agent=alice)
    reply = actions.do_send_reply(
        thread.id, agent=alice, text=f"@{thread.customer.handle} we are on it"
    )

    wait_until(lambda: Reply.objects.get(id=reply.id).status == "posted")
    reply.refresh_from_db()
    posted = Tweet.objects.get(id=reply.posted_x_id)
    assert posted.text.endswith("we are on it ^AL")
    assert posted.author_id == BRAND_ID
    assert Message.objects.filter(direction="in").count() == 12
