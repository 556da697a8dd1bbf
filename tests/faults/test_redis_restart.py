"""Redis restarted (no persistence: its queued Celery messages are gone) while replies wait
in the outbox: the worker reconnects, the sweep re-enqueues, every reply posts once."""

from __future__ import annotations

import pytest
from django.conf import settings

from inbox import actions
from inbox.ingest import poll
from inbox.models import Brand, Reply, Source, Thread
from tests import processes
from tests.faults.servers import private_redis
from tests.helpers import child_env, make_agent
from tests.processes import wait_until
from tests.sandbox import BRAND_ID, CREDENTIALS
from twelp.xsandbox.models import Tweet

pytestmark = [pytest.mark.faults, pytest.mark.slow]

SEND = """
from agents.models import Agent
from inbox import actions
from inbox.models import Thread
alice = Agent.objects.get(user__username="alice")
for thread in Thread.objects.filter(id__in={ids}).select_related("customer"):
    text = f"@{{thread.customer.handle}} On it! ({{thread.id}})"  # X refuses duplicates
    actions.do_send_reply(thread.id, agent=alice, text=text)
"""
# What beat does every 5 s (sweep-outbox), until nothing is left to post.
SWEEP = """
import time
from inbox import tasks
from inbox.models import Reply
deadline = time.monotonic() + 90
while Reply.objects.filter(status__in=["queued", "sending"]).exists():
    assert time.monotonic() < deadline, list(Reply.objects.values("id", "status", "last_error"))
    tasks.sweep_outbox()
    time.sleep(1)
"""


def twelp(code: str, env: dict[str, str]) -> str:
    done = processes.manage_shell(code, env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout + done.stderr


@pytest.fixture
def claimed(sandbox) -> list[int]:
    """Six customers asked; Alice holds their threads (her brand lets an agent hold six)."""
    brand = Brand.objects.create(name="Acme", handle="acme_care", x_user_id=BRAND_ID, max_held=6)
    for n in range(6):
        customer = sandbox.customers[n % len(sandbox.customers)]
        sandbox.tweet_at_brand(customer, f"where is my order {n}?")
    poll.poll(Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS).id)
    alice = make_agent(brand, "alice")
    threads = list(Thread.objects.order_by("id").values_list("id", flat=True))
    for thread_id in threads:
        actions.do_claim(thread_id, agent=alice)
    return threads


def test_it_posts_every_queued_reply_once_across_a_redis_restart(sandbox, claimed, tmp_path):
    with private_redis(tmp_path) as redis:
        env = child_env(REDIS_URL=redis.url(), X_API_BASE_URL=sandbox.url, OUTBOX_STUCK_SECONDS="5")
        env.update(CREDENTIALS)
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        with processes.celery_worker(env, queue=queue, concurrency=1) as worker:
            # X is slow with the first reply: the worker is busy, the rest wait in Redis.
            sandbox.fault("slow", "create_tweet", count=1, delay=3)
            twelp(SEND.format(ids=claimed[:4]), env)
            wait_until(
                lambda: Reply.objects.filter(status="sending").exists(),
                timeout=30,
                what="the worker to take a reply",
            )
            redis.stop()  # the three waiting messages are lost with it
            twelp(SEND.format(ids=claimed[4:]), env)  # Send still works; the row is the truth
            assert Reply.objects.filter(status="queued").count() >= 5
            redis.start()
            twelp(SWEEP, env)
            assert worker.alive()  # never restarted
            log = worker.output()
    replies = list(Reply.objects.select_related("in_reply_to"))
    assert len(replies) == 6
    assert {reply.status for reply in replies} == {"posted"}
    for reply in replies:
        at_x = Tweet.objects.filter(author_id=BRAND_ID, in_reply_to_tweet_id=reply.in_reply_to.x_id)
        assert list(at_x.values_list("id", flat=True)) == [reply.posted_x_id]
    assert "Connection to broker lost" in log  # the same worker, reconnected
