"""The push endpoint (inbox.views.push) in a real uvicorn process, against real
PostgreSQL and Redis: changes reach open streams, a stream resumes from a change id or is
told to reload, brands never see each other's changes, and who may not listen is refused
or cut off."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import httpx
import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone

from agents.models import AgentState
from inbox import actions
from inbox.live import patch, version
from inbox.models import Brand, Customer, Reply
from inbox.outbox import budget, replies
from tests.helpers import make_agent, make_thread
from tests.push import Events, open_stream, session_cookie, start_push, stop

pytestmark = pytest.mark.slow


@pytest.fixture
def thread(brand, customer):
    return make_thread(brand, customer, 555, preview="Where is my order?")


def test_it_pushes_another_employees_claim_to_open_queues(push, agent, second_agent, thread):
    with (
        httpx.Client() as http,
        open_stream(http, push, agent.user, "view=queue") as open_tab,
        open_stream(http, push, agent.user, "view=queue&status=claimed") as claimed_tab,
    ):
        assert open_tab.status_code == 200
        assert open_tab.headers["content-type"].startswith("text/event-stream")
        opened, claimed = Events(open_tab), Events(claimed_tab)
        first = opened.next()
        assert first["event"] == "live" and "Where is my order?" in first["data"]
        assert 'id="live"' in first["data"] and "<html" not in first["data"]
        assert "Where is my order?" not in claimed.next()["data"]

        bob = Client()
        bob.force_login(second_agent.user)
        assert bob.post(f"/t/{thread.id}/claim/").status_code == 302

        change = claimed.next()
        assert change["event"] == "live" and change["id"] != first["id"]
        assert f'data-holder="{second_agent.id}"' in change["data"]
        assert "Bob" in change["data"] and "Where is my order?" in change["data"]
        gone = opened.next()
        assert gone["id"] == change["id"] and "Where is my order?" not in gone["data"]


def test_a_page_that_asks_for_patches_gets_the_changed_rows_only(
    push, agent, second_agent, brand, customer, thread
):
    others = [  # a customer each: a row says "+N more from @x" of its customer's others
        make_thread(brand, Customer.objects.create(brand=brand, x_user_id=600 + n), 600 + n)
        for n in range(8)
    ]
    kinds = ("live", "patch", "reload")
    with (
        httpx.Client() as http,
        open_stream(http, push, agent.user, "view=queue&patch=1") as open_tab,
        open_stream(http, push, agent.user, "view=queue&status=claimed&patch=1") as claimed_tab,
        open_stream(http, push, agent.user, "view=queue") as whole_tab,
    ):
        opened, claimed, whole = Events(open_tab), Events(claimed_tab), Events(whole_tab)
        first = opened.next(kinds)
        assert first["event"] == "live" and "Where is my order?" in first["data"]  # all of it
        shown = patch.split(first["data"])
        assert shown is not None and str(thread.id) in shown.rows["rows"]
        claimed.next(kinds)
        whole.next(kinds)

        actions.do_claim(thread.id, agent=second_agent)

        change = opened.next(kinds)
        assert change["event"] == "patch" and change["id"] != first["id"]
        rows = json.loads(change["data"])["rows"]["rows"]
        assert rows == {"order": [str(t.id) for t in others], "html": {}}  # it left; no HTML
        shown = patch.apply(shown, change["data"])
        assert re.findall(r'data-thread-id="(\d+)"', shown.html()) == [str(t.id) for t in others]

        gained = claimed.next(kinds)
        assert gained["event"] == "patch" and gained["id"] == change["id"]
        row = json.loads(gained["data"])["rows"]["rows"]["html"][str(thread.id)]
        assert f'data-holder="{second_agent.id}"' in row and "Where is my order?" in row
        # The page that did not ask gets the whole part, as before.
        assert whole.next(kinds)["event"] == "live"


def test_it_pushes_the_thread_status_line_to_its_page(push, agent, second_agent, thread):
    query = f"view=thread&thread={thread.id}"
    with httpx.Client() as http, open_stream(http, push, agent.user, query) as response:
        events = Events(response)
        assert "Open" in events.next()["data"]
        bob = Client()
        bob.force_login(second_agent.user)
        bob.post(f"/t/{thread.id}/claim/")
        change = events.next()
        assert 'id="thread-status"' in change["data"] and "Claimed by Bob" in change["data"]


def test_it_resumes_from_a_change_id_with_the_current_state(push, agent, thread):
    version.bump(agent.brand_id, [thread.id])
    with httpx.Client() as http:
        with open_stream(http, push, agent.user, "view=queue") as response:
            seen = Events(response).next()["id"]
        version.bump(agent.brand_id, [thread.id])  # a change while the page was away
        thread.preview = "Changed while away"
        thread.save(update_fields=["preview"])
        version.bump(agent.brand_id, [thread.id])
        headers = {"Last-Event-ID": seen}
        with open_stream(http, push, agent.user, "view=queue", **headers) as response:
            resumed = Events(response).next()
        newest = cache._cache.get_client(write=True).xrevrange(
            version.changes_key(agent.brand_id), count=1
        )[0][0]
        assert resumed["event"] == "live" and resumed["id"] == newest.decode()
        assert "Changed while away" in resumed["data"]
        with open_stream(http, push, agent.user, f"view=queue&last_event_id={seen}") as response:
            assert Events(response).next()["id"] == newest.decode()


@pytest.mark.parametrize(
    "last_id",
    ["garbage", "1-2-3", "-1", "99999999999999-0", "1-0", "0-0", "12a-4", "9" * 60 + "-0"],
)
def test_it_answers_a_forged_garbage_future_or_old_id_with_reload(push, agent, thread, last_id):
    version.bump(agent.brand_id, [thread.id])
    with (
        httpx.Client() as http,
        open_stream(http, push, agent.user, "view=queue", **{"Last-Event-ID": last_id}) as resp,
    ):
        assert resp.status_code == 200
        events = Events(resp)
        assert events.next()["event"] == "reload"
        with pytest.raises(EOFError):
            events.next()


def test_it_answers_an_id_trimmed_from_the_log_with_reload(push, agent, thread):
    version.bump(agent.brand_id, [thread.id])
    redis = cache._cache.get_client(write=True)
    key = version.changes_key(agent.brand_id)
    old = redis.xrevrange(key, count=1)[0][0].decode()
    version.bump(agent.brand_id, [thread.id])
    redis.xtrim(key, maxlen=1, approximate=False)
    headers = {"Last-Event-ID": old}
    with httpx.Client() as http, open_stream(http, push, agent.user, "view=queue", **headers) as r:
        assert Events(r).next()["event"] == "reload"


def test_another_brands_stream_receives_nothing(push, agent, thread):
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    stranger = make_agent(other, "olga")
    with (
        httpx.Client() as http,
        open_stream(http, push, stranger.user, "view=queue", read=3) as response,
    ):
        events = Events(response)
        first = events.next()
        assert "Where is my order?" not in first["data"]
        for _ in range(3):
            version.bump(agent.brand_id, [thread.id])
        with pytest.raises(httpx.ReadTimeout):
            while True:  # its own view's refresh when the minute turns may come, nothing else
                assert "Where is my order?" not in events.next()["data"]


def test_it_refuses_a_logged_out_session_and_other_brands_threads(push, agent, thread):
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    stranger = make_agent(other, "olga")
    with httpx.Client() as http:
        response = http.get(f"{push.url}/push/events/?view=queue", timeout=5)
        assert response.status_code == 403
        assert not response.headers["content-type"].startswith("text/event-stream")
        query = f"view=thread&thread={thread.id}"
        with open_stream(http, push, stranger.user, query) as response:
            assert response.status_code == 404
        with open_stream(http, push, agent.user, "view=dashboard") as response:
            assert response.status_code == 403  # supervisors only


def test_a_deactivated_employees_stream_closes(push, agent):
    # The hub re-checks every 5 s (inbox.live.hub.RECHECK_SECONDS); the read may wait 20 s
    # so a slow re-check on a busy machine shows as a late close, not a read timeout.
    query = "view=queue"
    with httpx.Client() as http, open_stream(http, push, agent.user, query, read=20) as response:
        events = Events(response)
        events.next()
        agent.state = AgentState.DEACTIVATED
        agent.save(update_fields=["state"])
        started = time.monotonic()
        with pytest.raises(EOFError):  # a change already on its way may come first
            while events.next()["event"] == "live":
                pass
        assert time.monotonic() - started < 12


def test_a_logged_out_sessions_stream_closes(push, agent):
    # As for deactivation: the hub re-checks every 5 s, and a change (or the minute's own
    # refresh) already on its way may come before the close.
    query = "view=queue"
    with httpx.Client() as http, open_stream(http, push, agent.user, query, read=20) as response:
        events = Events(response)
        events.next()
        session = response.request.headers["cookie"].split("sessionid=")[1].split(";")[0]
        SessionStore(session_key=session).flush()  # what logging out does
        started = time.monotonic()
        with pytest.raises(EOFError):
            while events.next()["event"] == "live":
                pass
        assert time.monotonic() - started < 12


def test_it_allows_the_configured_origin_only(transactional_db, tmp_path, agent, brand):
    started = start_push(tmp_path, PUSH_ALLOWED_ORIGINS="http://127.0.0.1:8000")
    try:
        for origin, allowed in (("http://127.0.0.1:8000", True), ("http://evil.example", False)):
            with (
                httpx.Client() as http,
                http.stream(
                    "GET",
                    f"{started.url}/push/events/?view=queue",
                    cookies=session_cookie(agent.user),
                    headers={"Origin": origin},
                ) as response,
            ):
                assert response.status_code == 200
                got = response.headers.get("access-control-allow-origin")
                credentials = response.headers.get("access-control-allow-credentials")
                assert (got == origin) is allowed
                assert (credentials == "true") is allowed
    finally:
        stop(started.process)


def viewers_event(events: Events, until, timeout: float = 8) -> dict[str, list]:
    """The first `viewers` event (parsed) for which `until(found)` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = json.loads(events.next(("viewers",))["data"])
        if until(found):
            return found
    raise AssertionError("no such viewers event in time")


def test_an_open_thread_stream_is_its_employee_viewing_and_queues_see_it(
    push, agent, second_agent, thread
):
    key = str(thread.id)
    with (
        httpx.Client() as http,
        open_stream(http, push, second_agent.user, "view=queue") as queue,
    ):
        bobs_queue = Events(queue)
        with open_stream(http, push, agent.user, f"view=thread&thread={thread.id}") as page:
            alices_page = Events(page)
            alices_page.next()
            # No poll of Alice's page: her stream alone makes her a viewer.
            found = viewers_event(bobs_queue, lambda f: key in f)
            assert found[key] == [[agent.id, "Alice is viewing", 0]]
            # The thread page's event holds everyone, herself included: the page leaves
            # itself out (twelp.js), so one event serves every viewer of the thread.
            mine = viewers_event(alices_page, lambda f: key in f)
            assert mine[key] == [[agent.id, "Alice is viewing", 0]]

            bob = Client()
            bob.force_login(second_agent.user)
            bob.get(f"/t/{thread.id}/")
            token = bob.cookies["csrftoken"].value
            assert bob.post(f"/t/{thread.id}/typing/", HTTP_X_CSRFTOKEN=token).status_code == 204
            found = viewers_event(alices_page, lambda f: len(f.get(key, [])) == 2)
            assert found[key][0] == [second_agent.id, "Bob is typing…", 1]
        # Alice's stream ended: she is gone at once, not when her entry expires.
        started = time.monotonic()
        viewers_event(bobs_queue, lambda f: agent.id not in [v[0] for v in f.get(key, [])])
        assert time.monotonic() - started < 5


def test_the_thread_stream_pushes_every_changing_part_once_for_everyone(
    push, agent, second_agent, supervisor, thread
):
    query = f"view=thread&thread={thread.id}"
    with (
        httpx.Client() as http,
        open_stream(http, push, agent.user, query) as alices,
        open_stream(http, push, supervisor.user, query) as sams,
    ):
        alice, sam = Events(alices), Events(sams)
        first = alice.next()["data"]
        for part in ("thread-status", "outbox-banner", "conversation", "thread-claim"):
            assert f'id="{part}"' in first
        assert f'action="/t/{thread.id}/claim/"' in first
        assert _strip_tokens(sam.next()["data"]) == _strip_tokens(first)  # one render

        actions.do_claim(thread.id, agent=second_agent)
        claimed = alice.next()["data"]
        assert f'action="/t/{thread.id}/claim/"' not in claimed
        assert f'data-holder="{second_agent.id}"' in claimed
        assert re.search(r'action="/t/\d+/release/" data-if="holder" hidden', claimed)
        assert re.search(r'action="/t/\d+/close/" data-if="holder supervisors" hidden', claimed)
        assert _strip_tokens(sam.next()["data"]) == _strip_tokens(claimed)

        actions.do_add_note(thread.id, agent=second_agent, text="Checking the warehouse")
        assert "Checking the warehouse" in alice.next()["data"]
        reply = actions.do_send_reply(thread.id, agent=second_agent, text="@kim on its way")
        # The send also moves the outbox banner: that change may come first, on its own.
        assert "@kim on its way" in live_with(alice, "@kim on its way")
        with transaction.atomic():
            replies.mark_failed(Reply.objects.select_for_update().get(id=reply.id), "duplicate")
        failed = live_with(alice, "X refused your reply: duplicate")
        assert f'data-if="author" data-author="{second_agent.id}" hidden' in failed
        assert "X refused your reply: duplicate" in failed

        until = timezone.now() + timedelta(minutes=15)
        budget.exhausted(agent.brand_id, "tweets", (), until, timezone.now())
        version.bump(agent.brand_id)
        assert "Sending paused by X" in alice.next()["data"]


def live_with(events: Events, text: str, timeout: float = 8) -> str:
    """The first `live` event whose part shows `text` (changes may arrive in several)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = events.next()["data"]
        if text in found:
            return found
    raise AssertionError(f"no live event with {text!r} in time")


def _strip_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_a_thread_page_resuming_from_its_own_change_id_gets_only_what_changed_since(
    push, agent, second_agent, brand, customer, thread
):
    other = make_thread(brand, customer, 556, preview="Another question")
    version.bump(agent.brand_id, [thread.id])
    page = Client()
    page.force_login(agent.user)
    shown = page.get(f"/t/{thread.id}/").content.decode()
    since = re.search(r'data-push-since="([^"]+)"', shown).group(1)
    assert since == version.newest(agent.brand_id)  # the change the page shows
    version.bump(agent.brand_id, [other.id])  # another thread's change: not this page's
    query = f"view=thread&thread={thread.id}&last_event_id={since}"
    with httpx.Client() as http, open_stream(http, push, agent.user, query) as response:
        events = Events(response)
        # Subscribed (its employee is viewing) and no state sent before it.
        assert events.next(("live", "viewers"))["event"] == "viewers"
        bob = Client()
        bob.force_login(second_agent.user)
        bob.post(f"/t/{thread.id}/claim/")
        change = events.next()  # the claim, whole: the first message on this stream
        assert change["event"] == "live" and "Claimed by Bob" in change["data"]
        assert 'id="conversation"' in change["data"]
    # From the same id, after its thread changed: the current state first.
    with httpx.Client() as http, open_stream(http, push, agent.user, query) as response:
        first = Events(response).next()
        assert first["event"] == "live" and "Claimed by Bob" in first["data"]


def test_open_streams_do_not_hold_a_thread_each(transactional_db, tmp_path, agent, thread):
    """Django keeps a thread for each request while it lasts; a stream lasts as long as its
    page (twelp.asgi.PushHandler): thirty streams opened at once, as tabs do, and the push
    process's threads stay a handful (its pool, the loop's), not one a stream."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    push = start_push(tmp_path)
    cookie = session_cookie(agent.user)["sessionid"]
    host, port = push.url.split("//")[1].split(":")

    async def one() -> asyncio.StreamWriter:
        reader, writer = await asyncio.open_connection(host, int(port), limit=2**20)
        writer.write(
            f"GET /push/events/?view=queue HTTP/1.1\r\nHost: {host}\r\n"
            f"Cookie: sessionid={cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        seen = b""
        while b"Where is my order?" not in seen:
            chunk = await asyncio.wait_for(reader.read(65536), 10)
            assert chunk, seen[:300]
            seen += chunk
        return writer

    async def held_while_open() -> int:
        writers = await asyncio.gather(*(one() for _ in range(30)))
        status = Path(f"/proc/{push.process.pid}/status").read_text()
        for writer in writers:
            writer.close()
        return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))

    try:
        # In a thread of its own: an earlier test (Playwright's) may leave a loop running here.
        with ThreadPoolExecutor(1) as own:
            held = own.submit(asyncio.run, held_while_open()).result()
    finally:
        stop(push.process)
    assert held < 20, f"{held} threads for 30 open streams"
