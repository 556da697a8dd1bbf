"""The push process's faults, with real processes: killed (SIGKILL) while changes keep
coming and started again on the same port, every open stream converges to what a fresh
page load shows; Redis gone from under it, its streams end, the web answers again once
Redis is back, and so do the streams. (A forged, garbage or future Last-Event-ID:
tests/inbox/test_push.py.)

The pages are played by `Tab`: what EventSource does, with the server's `retry:`."""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from copy import deepcopy

import httpx
import pytest
from django.db import connection
from django.test import Client

from inbox import actions
from inbox.live import patch
from inbox.models import Customer, Thread
from tests.faults.servers import private_redis
from tests.helpers import make_agent, make_thread
from tests.processes import wait_until
from tests.push import Events, open_stream, session_cookie, start_push, stop
from tests.settings import TEST_REDIS_DB, _with_db

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROW = re.compile(r'<tr data-thread-id="\d+"[^>]*>')


def rows(html: str) -> list[str]:
    """The live part's rows as the page shows them: thread, holder, SLA class, in order."""
    return ROW.findall(html)


class Tab(threading.Thread):
    """An open page's stream as EventSource keeps it: the last `live` it applied and its
    id; when the stream ends or cannot be opened, it waits the `retry:` the server gave and
    opens it again with Last-Event-ID; after `reload`, a fresh one without. With
    `patches`, it asks for them and applies each `patch` to the part it shows, as
    twelp.js does."""

    def __init__(self, url: str, cookies: dict[str, str], patches: bool = False) -> None:
        super().__init__(daemon=True)
        self.url, self.cookies = url + ("&patch=1" if patches else ""), cookies
        self.html, self.last_id, self.retry = "", "", 2.0
        self.split: patch.Split | None = None
        self.patched = 0
        self.opened = 0
        self.done = threading.Event()
        self.response: httpx.Response | None = None

    def run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(5, read=30)) as http:
            while not self.done.is_set():
                headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
                with (
                    contextlib.suppress(httpx.HTTPError),
                    http.stream("GET", self.url, cookies=self.cookies, headers=headers) as r,
                ):
                    self.response = r
                    if r.status_code == 200:
                        self.opened += 1
                        self._read(r)
                self.done.wait(self.retry)

    def _read(self, response: httpx.Response) -> None:
        block: dict[str, str] = {}
        data: list[str] = []
        for line in response.iter_lines():
            if self.done.is_set():
                return
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry" and value.isdigit():
                self.retry = int(value) / 1000
            elif name in ("event", "id"):
                block[name] = value
            elif name == "data":
                data.append(value)
            elif not line and block.get("event") == "live":
                self.html, self.last_id = "\n".join(data), block.get("id", self.last_id)
                self.split = patch.split(self.html)
            elif not line and block.get("event") == "patch":
                assert self.split is not None, "a patch before the whole part"
                self.split = patch.apply(self.split, "\n".join(data))
                self.html, self.last_id = self.split.html(), block["id"]
                self.patched += 1
            elif not line and block.get("event") == "reload":
                self.last_id = ""
                return
            if not line:
                block, data = {}, []

    def close(self) -> None:
        self.done.set()
        if self.response is not None:
            with contextlib.suppress(Exception):
                self.response.close()


class Changes(threading.Thread):
    """Bob claims and releases threads, one every ~50 ms, until stopped."""

    def __init__(self, threads: list[int], bob) -> None:
        super().__init__(daemon=True)
        self.threads, self.bob = threads, bob
        self.done = threading.Event()
        self.made = 0

    def run(self) -> None:
        try:
            while not self.done.is_set():
                thread_id = random.choice(self.threads)
                with contextlib.suppress(actions.ActionError):
                    if Thread.objects.filter(id=thread_id, claimed_by=None).exists():
                        actions.do_claim(thread_id, agent=self.bob)
                    else:
                        actions.do_release(thread_id, agent=self.bob)
                    self.made += 1
                time.sleep(0.05)
        finally:
            connection.close()


@pytest.fixture
def team(brand):
    alice, bob = make_agent(brand, "alice"), make_agent(brand, "bob")
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    threads = [make_thread(brand, customer, 900 + n, preview=f"order {n}").id for n in range(12)]
    return alice, bob, threads


def fresh_rows(client: Client, status: str) -> list[str]:
    response = client.get(f"/?status={status}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return rows(response.content.decode())


@pytest.mark.parametrize("patches", [False, True], ids=["whole", "patches"])
def test_every_stream_converges_within_5_s_of_a_killed_push_process_coming_back(
    tmp_path, team, patches
):
    alice, bob, threads = team
    push = start_push(tmp_path)
    port = int(push.url.rsplit(":", 1)[1])
    pages = {"open": Client(), "claimed": Client()}
    for client in pages.values():
        client.force_login(alice.user)
    tabs = [
        (status, Tab(f"{push.url}/push/events/?view=queue&status={status}", cookies, patches))
        for status in ("open", "open", "claimed")
        for cookies in (session_cookie(alice.user), session_cookie(bob.user))
    ]
    changes = Changes(threads, bob)
    try:
        for _, tab in tabs:
            tab.start()
        wait_until(lambda: all(tab.html for _, tab in tabs), timeout=20, what="every first live")
        changes.start()
        time.sleep(1.5)
        push.process.kill()  # SIGKILL, mid-run: nothing in it gets to close a stream
        time.sleep(1.5)
        push = start_push(tmp_path, port=port)
        back = time.monotonic()
        time.sleep(1.0)  # changes keep coming a moment after it is back
        changes.done.set()
        changes.join(10)

        def converged() -> bool:
            return all(rows(tab.html) == fresh_rows(pages[status], status) for status, tab in tabs)

        wait_until(converged, timeout=15, what="every stream to show what a fresh page shows")
        took = time.monotonic() - back
        assert took <= 5.0, f"converged {took:.1f} s after the push process was back"
        assert changes.made > 20
        assert all(tab.opened >= 2 for _, tab in tabs)  # each reconnected by itself
        assert all(tab.patched > 0 for _, tab in tabs) == patches  # rows, not the part
    finally:
        changes.done.set()
        for _, tab in tabs:
            tab.close()
        stop(push.process)


def test_redis_down_ends_the_streams_and_both_web_and_push_recover(
    tmp_path, settings, agent, second_agent, thread
):
    with private_redis(tmp_path, persist=True) as redis:
        caches = deepcopy(settings.CACHES)
        caches["default"]["LOCATION"] = _with_db(redis.url(), TEST_REDIS_DB)
        settings.CACHES = caches  # this process's sessions and change log: the private one
        push = start_push(tmp_path, REDIS_URL=redis.url())
        web = Client(raise_request_exception=False)
        web.force_login(agent.user)
        try:
            with httpx.Client() as http, open_stream(http, push, agent.user, "view=queue") as r:
                events = Events(r)
                seen = events.next()["id"]
                redis.stop()
                started = time.monotonic()
                with pytest.raises(EOFError):  # it ends (a reload would do too)
                    events.next()
                assert time.monotonic() - started < 5

            with httpx.Client() as http:  # Redis down: no stream (the page keeps polling)
                refused = http.get(
                    f"{push.url}/push/events/?view=queue",
                    cookies={"sessionid": web.cookies["sessionid"].value},
                    timeout=10,
                )
                assert refused.status_code != 200 or "event: reload" in refused.text
                # Nor can the web answer (its sessions are in Redis): an error, which htmx
                # does not swap in; the page keeps what it shows, and its session cookie.
                down = web.get("/?v=1.0000", HTTP_HX_REQUEST="true")
                assert down.status_code == 500 and "sessionid" in web.cookies
                assert web.cookies["sessionid"].value

            redis.start()
            # The web answers the page's polls again, the same session (Redis kept it).
            polled = web.get("/", HTTP_HX_REQUEST="true")
            assert polled.status_code == 200 and 'id="live"' in polled.content.decode()
            # And the stream: resumed from the page's last id, then a change reaches it.
            headers = {"Last-Event-ID": seen}
            with (
                httpx.Client() as http,
                open_stream(http, push, agent.user, "view=queue", **headers) as r,
            ):
                events = Events(r)
                first = events.next()
                assert first["event"] == "live" and f'data-thread-id="{thread.id}"' in first["data"]
                actions.do_claim(thread.id, agent=second_agent)  # it leaves the open queue
                assert f'data-thread-id="{thread.id}"' not in events.next()["data"]
        finally:
            stop(push.process)
