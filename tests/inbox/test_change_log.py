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


def test_the_threads_named_since_a_counter(brand):
    """What a page patched since counter `since` must read again (inbox.queries.FirstHeads):
    the named threads; None when a change named none, or the log lacks one of them."""
    start = version.bump(brand.id, [1])
    version.bump(brand.id, [2, 3], agents=[9])  # an employee told: "a9", no thread
    version.bump(brand.id, [], banner=True)  # the banner alone: "b"
    end = version.bump(brand.id, [4])
    assert version.named_since(brand.id, start, end) == {2, 3, 4}
    assert version.named_since(brand.id, end, end) == set()
    assert version.named_since(brand.id, start - 1, end) == {1, 2, 3, 4}
    assert version.named_since(brand.id, start - 2, end) is None  # before the log began
    anything = version.bump(brand.id)  # "*": any thread may have changed
    assert version.named_since(brand.id, start, anything) is None
    assert version.named_since(brand.id, end, end + version.NAMED_MOST + 1) is None
    later = version.bump(brand.id, [5])
    assert version.named_since(brand.id, anything, later) == {5}
