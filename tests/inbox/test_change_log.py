"""The change log beside the queue version (inbox.live.version): every bump appends one
entry, in the same script, with the counter and the threads it touched."""

from __future__ import annotations

from django.core.cache import cache

from inbox.live import version


def _log(brand_id: int) -> list[tuple[str, dict[bytes, bytes]]]:
    redis = cache._cache.get_client(write=True)
    return [(i.decode(), f) for i, f in redis.xrange(version.changes_key(brand_id))]


def test_it_logs_every_bump_with_its_counter_and_threads(brand):
    first = version.bump(brand.id, [7, 8])
    second = version.bump(brand.id)
    log = _log(brand.id)
    assert [f[b"v"] for _, f in log] == [str(first).encode(), str(second).encode()]
    assert [f[b"t"] for _, f in log] == [b"7,8", b"*"]
    assert log[0][0] < log[1][0] or len(log[0][0]) < len(log[1][0])
    assert version.current(brand.id) == second


def test_it_keeps_the_log_bounded(brand, monkeypatch):
    monkeypatch.setattr(version, "CHANGES_KEPT", 10)
    for _ in range(400):
        version.bump(brand.id, [])
    assert len(_log(brand.id)) < 400  # MAXLEN ~ trims whole nodes, so roughly 10-100


def test_a_claim_logs_its_thread(brand, customer, agent, django_capture_on_commit_callbacks):
    from inbox import actions
    from tests.helpers import make_thread

    thread = make_thread(brand, customer, 1)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_claim(thread.id, agent=agent)
    assert _log(brand.id)[-1][1][b"t"] == str(thread.id).encode()


def test_going_available_touches_no_thread_page(brand, agent, django_capture_on_commit_callbacks):
    """An Event of no thread whose verb changes nothing a thread page shows logs no thread
    (inbox.events.THREADLESS): the push process renders no thread page for it."""
    from inbox.routing.assign import do_set_available

    with django_capture_on_commit_callbacks(execute=True):
        do_set_available(agent, available=True)
    assert _log(brand.id)[-1][1][b"t"] == b""


def test_brand_settings_may_touch_every_thread_page(
    brand, supervisor, django_capture_on_commit_callbacks
):
    from inbox import events
    from inbox.models import Verb

    with django_capture_on_commit_callbacks(execute=True):
        events.record(Verb.BRAND_SETTINGS_CHANGED, brand_id=brand.id, actor=supervisor, sla=1)
    assert _log(brand.id)[-1][1][b"t"] == b"*"


def test_an_answer_waiting_its_turn_logs_its_thread_and_the_banner(
    brand, customer, agent, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from inbox import actions
    from inbox.models import Reply
    from inbox.outbox import sending
    from tests.helpers import make_thread

    thread = make_thread(brand, customer, 1)
    actions.do_claim(thread.id, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        reply = actions.do_send_reply(thread.id, agent=agent, text="@kim on its way")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        sending.wait_turn(Reply.objects.get(id=reply.id), now + timedelta(minutes=3), now)
    assert _log(brand.id)[-1][1][b"t"] == f"{thread.id},b".encode()
    version.bump(brand.id, [], banner=True)
    assert _log(brand.id)[-1][1][b"t"] == b"b"


# --- claim next's publish (version.publish): sent after the commit, its reply read later ---


def test_claim_next_publishes_its_thread_and_this_thread_reads_after_it(
    transactional_db, agent, customer
):
    """The claim's bump is sent, its reply not waited for; this thread's next read of the
    version reads that reply first, so it sees its own claim."""
    from inbox import actions
    from tests.helpers import make_thread

    thread = make_thread(agent.brand, customer, 1)
    before = version.current(agent.brand_id)
    assert actions.do_claim_next(agent=agent) == thread
    assert len(version._publisher.pending) == 1  # sent, its reply still unread
    assert version.current(agent.brand_id) == before + 1
    assert version._publisher.pending == []
    assert _log(agent.brand_id)[-1][1][b"t"] == str(thread.id).encode()


def test_the_claim_next_page_leaves_after_redis_ran_its_bump(
    transactional_db, client, agent, customer
):
    """The middleware reads the published bump's reply before the response leaves: a page
    the browser asks for after it sees the claim."""
    from tests.helpers import make_thread

    thread = make_thread(agent.brand, customer, 1)
    client.force_login(agent.user)
    before = version.current(agent.brand_id)
    response = client.post("/claim-next/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"/t/{thread.id}/"
    assert version._publisher.pending == []  # its reply read: Redis ran it
    assert int(cache.get(f"queue-version:{agent.brand_id}")) == before + 1
    assert _log(agent.brand_id)[-1][1][b"t"] == str(thread.id).encode()


def test_a_script_redis_lost_is_sent_in_full(brand, monkeypatch):
    """After a Redis restart its script cache is empty: EVALSHA answers NOSCRIPT, and the
    bump goes again as EVAL, the script in full. (A SHA Redis has never seen stands for
    the lost script: SCRIPT FLUSH would empty every other session's cache too.)"""
    import hashlib
    import uuid

    unseen = hashlib.sha1(uuid.uuid4().bytes, usedforsecurity=False).hexdigest()
    monkeypatch.setattr(version, "_BUMP_SHA", unseen)
    before = version.current(brand.id)
    version.publish(brand.id, [41])
    version.settle()
    assert version.current(brand.id) == before + 1
    assert _log(brand.id)[-1][1] == {b"v": str(before + 1).encode(), b"t": b"41"}


def test_publish_with_redis_down_logs_it_and_the_next_one_reconnects(brand, caplog):
    import os
    import socket

    import redis

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    version.settle()
    version._publisher.connection = redis.Connection(host="127.0.0.1", port=port)
    version._publisher.pid, version._publisher.client = os.getpid(), cache._cache
    version.publish(brand.id, [7])  # does not raise: the claim is committed already
    assert "not bumped: Redis is down" in caplog.text
    assert version._publisher.pending == [] and version._publisher.connection is None
    version.publish(brand.id, [8])
    version.settle()
    assert _log(brand.id)[-1][1][b"t"] == b"8"
