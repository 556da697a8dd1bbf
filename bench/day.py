"""A simulated Twelpforce day (issue 9): N agents on the real web server, M mentions/hour.

    python -m bench.day                                  # 50, 200 and 700 agents, 4 min each
    python -m bench.day --agents 20 --minutes 1          # a quick look

Everything runs as production runs it, each a real process on 127.0.0.1 (ports picked
free): Twelp's web (`gunicorn twelp.wsgi:application`, the Dockerfile's 3 workers x 4
threads, DEBUG off, sessions in Redis), the push process (`uvicorn twelp.asgi:application`,
as docker-compose runs it), with --nginx the shipped proxy config in front of both, a
Celery worker and Celery beat (`python -m celery
-A twelp worker|beat`: beat dispatches the poller every 5 s, the worker polls the X sandbox
and posts the replies), and the X sandbox (gunicorn; bench/sandbox_settings.py lifts X's
cap of 100 posts per 15 minutes per user, which would otherwise be what this measures).
Each N gets a fresh database (default twelp_bench_day, dropped and created) and a flushed
Redis db (default 7).

This process is the crowd, in one asyncio loop with httpx (one AsyncClient, so one cookie
jar, per agent; one shared connection pool):

- **Customers.** A mention generator posts tweets at the brand through the sandbox's X API
  (`POST /2/tweets`, OAuth 1.0a as each customer, signed with oauthlib) at
  M/hour x compression; one in ten is a follow-up in the customer's own earlier thread.
- **Agents** speak the HTTP a browser speaks: GET /login/ (CSRF cookie and token), POST
  the login form, GET / (the queue). From then on each agent has two tabs (a supervisor,
  one in --supervisors-per, a third: the dashboard). Each open page keeps its live part
  up to date as twelp.js does: with --mode push (the default) over its stream
  (`GET /push/events/?<the page's data-push>`: the queue's, the thread page's while on
  it, the dashboard's), the polls a stream pauses not sent; with --mode poll by polling
  (the queue every 2 s, `GET /?status=open&v=<version>` with HX-Request, 204 when
  unchanged; the dashboard every 5 s). The queue and thread pages' #viewers poll is
  sent at page load, then every 2 s only while the page's stream is not open (twelp.js
  pauses [data-push-poll] while live: the stream's `viewers` events replace it); in poll
  mode every 2 s (--no-viewers-poll: never). The work tab loops: Claim next from the
  queue page (hx-post: HX-Redirect -> GET /t/<id>/; when another agent won the race or
  nothing waits, a toast and the page stays); reads (think); types (one
  /reply/check/ POST, as the page sends while typing); POST /t/<id>/reply/ (htmx: form
  fields, client_token, X-CSRFToken) -> HX-Redirect -> GET /t/<id>/; POST /t/<id>/close/
  -> 302 -> GET /; a short pause; again. While a thread is open its page POSTs renew/
  every 60 s, as the real page does. An agent clicks Claim next when its queue shows a
  row it may take (not held, not offered to a colleague first: both are listed), or
  after 60 s showing none, 0.3 to 1.5 s (wall) after it shows. Agents log in spread
  over the first minute (a quarter of a shorter run).
- **Time compression.** Think times and the mention rate are compressed by --compression
  (default 4: a wall minute is 4 minutes of the day); the 2 s refresh, the server and
  the poller are not. Handling a thread takes 2 to 4 minutes of day time (claim to close),
  plus 10 to 40 s between threads.

After --minutes the generator stops and each agent finishes the thread in hand; then the
outbox is left to drain and the poller to fetch the last mentions (up to 3 min), and the
checks run against the database and the sandbox's own tables:

- every mention the sandbox accepted is exactly one inbound Message (and nothing else is);
- every reply the server accepted (one per client_token) is one Reply row, posted, and is
  exactly one brand tweet in the sandbox (and the brand tweeted nothing else);
- no thread was ever claimed by an agent while another held it (replaying its Events).

Measured: change -> on screen (for each change in the brand's change log and each feed
open for it, the delay until the feed showed a state at or past it: a stream's `live`
message id, or a poll's version counter), latency per page (p50/p95/p99, ms, as the driver
sees it: network and queueing in gunicorn included; and as gunicorn's access log gives its
thread's time), open connections, claims/s, mention -> first posted reply (and -> ingested), CPU
(share of a core over the run) and peak RSS of each process group (web, worker, beat,
sandbox, the database's PostgreSQL backends, redis-server, this driver), the driver's
event-loop lag (if high, the driver itself is a bottleneck), and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import os
import random
import re
import shutil
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench import common, stats
from inbox.live import patch as row_patch
from tests import processes

PASSWORD = "bench-password"  # bench.queue.create_agents sets it
RENEW_SECONDS = 60.0  # hx-trigger="every 60s" on the thread page's renew/
REFRESH_SECONDS = 2.0  # hx-trigger="every 2s" in templates/inbox/queue.html
VIEWERS_SECONDS = 2.0  # the #viewers polls of the queue and thread pages: "every 2s"
DASHBOARD_SECONDS = 5.0  # settings.DASHBOARD_REFRESH_SECONDS, the dashboard's poll
STREAM_RETRY_SECONDS = 2.0  # "retry: 2000", what the stream tells EventSource
# A change the stream has not delivered when it closes within this many seconds of it is
# not counted (the tab left: nothing to be late for); later, it counts as missed.
CENSOR_SECONDS = 5.0
BROWSER_CONNECTIONS = 6  # a browser's connections per host (HTTP/1.1)
CUSTOMERS = 2_000
FOLLOW_UP_SHARE = 0.10
# Day-time seconds (divided by --compression): reading the thread, typing the answer,
# before closing, between threads.
READ = (30, 90)
TYPE = (60, 150)
BEFORE_CLOSE = (5, 15)
BETWEEN = (10, 40)
# An agent whose queue shows nothing to take clicks Claim next again after this long anyway
# (wall seconds; the queue is live, so a new row would have shown: a person checking).
LOOK_AGAIN_SECONDS = 60
# From a row showing up to the click on Claim next (wall seconds: a person's reaction).
REACTION_SECONDS = (0.3, 1.5)
# The toast of a Claim next that found nothing: the agent is in line (inbox.views.queue).
IN_LINE = "You are in line"

DRAIN_SECONDS = 180
# A shift starts over a minute, not all at once: logins spread over it (a quarter of a
# shorter run).
LOGIN_SPREAD_SECONDS = 60

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_HEADER = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')
LIVE_URL = re.compile(r'<div id="live" hx-get="([^"]+)"')
DASH_URL = re.compile(r'<div id="dash" hx-get="([^"]+)"')
DATA_PUSH = re.compile(r'data-push="([^"]+)"')
DATA_PUSH_SINCE = re.compile(r'data-push-since="([^"]+)"')
VERSION = re.compile(r"[?&]v=(\d+)")
CLIENT_TOKEN = re.compile(r'name="client_token" value="([^"]+)"')
# A queue row Claim next may give this agent: nobody holds it (data-holder) and it is not
# offered to a colleague first (data-offered-to: a customer they answered wrote again).
# What a person clicks Claim next for; an agent who sees only other rows waits.
ROW_START = re.compile(r'<tr data-thread-id="\d+"(?: data-(holder|offered-to)="(\d+)")?')
THREAD_URL = re.compile(r"/t/\d+/")
ME = re.compile(r'<section class="queue" data-me="(\d+)"')
REPLY_TEXT = re.compile(r'<textarea name="text"[^>]*>(.*?)</textarea>', re.S)


# --- what the crowd counts ------------------------------------------------------------------------


@dataclass
class Tally:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    counts: Counter = field(default_factory=Counter)
    mention_ids: list[int] = field(default_factory=list)
    client_tokens: list[str] = field(default_factory=list)
    loop_lag: list[float] = field(default_factory=list)
    feeds: list[Feed] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    open_streams: int = 0
    peak_streams: int = 0
    browsers: dict[str, Any] | None = None  # what the Chromium pages recorded (--browsers)

    def requests(self) -> int:
        """Requests to Twelp's web (the customers' tweets to the sandbox not counted)."""
        return sum(len(v) for k, v in self.latency.items() if not k.startswith("sandbox"))


@dataclass
class Change:
    """One entry of the brand's change log (inbox.live.version): its stream id, as an int
    that orders like it (`position`), the counter the web's polls carry (`v`), when Redis
    logged it (the id's milliseconds: Redis runs on this machine, one clock), and the
    threads it touched (None: any)."""

    position: int
    v: int
    at: float
    threads: frozenset[int] | None


@dataclass
class Feed:
    """One live part on one agent's screen: a push stream, or (--mode poll) the part's
    polls. `got`: (when it arrived, the position it shows: a stream id as an int in push
    mode, the queue version's counter in poll mode), in arrival order."""

    kind: str  # "queue", "thread", "dashboard"
    thread: int | None = None
    start: int | None = None  # the position of the first state shown
    got: list[tuple[float, int]] = field(default_factory=list)
    closed: float | None = None
    live: bool = False  # a stream is open (twelp.js's `live`: its page's polls are paused)

    def show(self, position: int) -> None:
        if self.start is None:
            self.start = position
        self.got.append((time.time(), position))


def stream_position(change_id: bytes | str) -> int:
    """A Redis stream id "<ms>-<seq>" as an int ordered as the ids are."""
    text = change_id.decode() if isinstance(change_id, bytes) else change_id
    ms, _, seq = text.partition("-")
    return int(ms) * 1_000_000 + int(seq or 0)


class Broken(Exception):
    """An answer a browser would not have got: counted, and the agent starts over."""


class Browser:
    """One agent's browser: its own cookie jar, the CSRF token its pages carry."""

    def __init__(self, client: Any, tally: Tally) -> None:
        self.client = client
        self.tally = tally
        self.csrf = ""
        self.toast: dict[str, str] = {}  # the last Claim next toast

    async def request(self, name: str, method: str, url: str, **kwargs: Any) -> Any:
        import httpx

        for attempt in (1, 2):
            # perf_counter alone: a Stopwatch also reads the process's CPU time, a syscall
            # that was 13% of this loop's time at 200 agents.
            started = time.perf_counter()
            try:
                response = await self.client.request(method, url, **kwargs)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError) as error:
                # A kept-alive connection the server closed as we sent: a browser retries.
                if attempt == 2:
                    self.tally.errors[f"{name}: {type(error).__name__}"] += 1
                    raise Broken(name) from error
                self.tally.counts["retried after a closed connection"] += 1
                continue
            except httpx.TimeoutException as error:
                self.tally.errors[f"{name}: timeout"] += 1
                raise Broken(name) from error
            self.tally.latency[name].append((time.perf_counter() - started) * 1000)
            if response.status_code >= 400:
                self.tally.errors[f"{name}: HTTP {response.status_code}"] += 1
                raise Broken(name)
            return response
        raise AssertionError("unreachable")

    def take_csrf(self, page: str) -> None:
        found = CSRF_HEADER.search(page) or CSRF_INPUT.search(page)
        if found:
            self.csrf = found.group(1)

    async def page(self, name: str, url: str) -> str:
        response = await self.request(name, "GET", url)
        if response.status_code != 200:
            raise Broken(f"{name}: {response.status_code}")
        self.take_csrf(response.text)
        return response.text

    async def submit(self, name: str, url: str, data: dict[str, str] | None = None) -> str:
        """A plain form POST (the Claim next, Close buttons): 302 and where it goes."""
        body = {"csrfmiddlewaretoken": self.csrf, **(data or {})}
        response = await self.request(name, "POST", url, data=body, headers={"Referer": url})
        if response.status_code != 302:
            raise Broken(f"{name}: {response.status_code}, not 302")
        return response.headers["location"]

    async def claim_next(self) -> str | None:
        """The queue page's Claim next (hx-post, hx-swap none): the thread it opens
        (HX-Redirect), or None when the answer is a toast and the page stays."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf, "Referer": "/"}
        body = {"csrfmiddlewaretoken": self.csrf}
        response = await self.request(
            "claim next", "POST", "/claim-next/", data=body, headers=headers
        )
        if "HX-Redirect" in response.headers:
            return response.headers["HX-Redirect"]
        trigger = response.headers.get("HX-Trigger", "")
        if "twelp:toast" not in trigger:
            raise Broken(f"claim next: {response.status_code}, neither a thread nor a toast")
        self.toast = json.loads(trigger)["twelp:toast"]
        return None

    async def htmx_post(self, name: str, url: str, data: dict[str, str], target: str) -> Any:
        headers = {"HX-Request": "true", "HX-Target": target, "X-CSRFToken": self.csrf}
        body = {"csrfmiddlewaretoken": self.csrf, **data}
        return await self.request(name, "POST", url, data=body, headers=headers)


# --- agents -----------------------------------------------------------------------------------


@dataclass
class Crowd:
    """What every agent shares: the run's mode and where the push process listens."""

    mode: str  # "push": a stream per open tab; "poll": today's htmx polls
    push_host: str
    push_port: int
    viewers_poll: bool
    compression: float
    stop: asyncio.Event
    tally: Tally
    available: bool = False  # --available: work comes to the agents (no Claim next)


# Each supervisor's one-use recovery code (set_up enrols them; log_in types it).
SECOND_FACTOR: dict[str, str | None] = {}


@dataclass
class Agent:
    number: int
    username: str
    browser: Browser
    rng: random.Random
    supervisor: bool = False
    live_url: str = ""
    sees_rows: asyncio.Event = field(default_factory=asyncio.Event)
    me: str | None = None  # their Agent id (the queue's data-me)
    # --available: the threads that came to them (their notifications), in order.
    came: asyncio.Queue = field(default_factory=asyncio.Queue)
    notice_seen: int = 0
    queue: QueueRows | None = None  # the queue part its page shows (push mode)
    looking: bool = False  # looking at the queue for a row to take (`QueueRows`)


class QueueRows:
    """The queue part as an agent's page shows it (push mode): its `live` and `patch`
    messages are kept as they come and applied (inbox.live.patch, as twelp.js does) only
    while the agent looks at the queue for a row to take. A real page applies each at
    once, on its own machine; here that was the driver's CPU for 700 pages on every
    change, most of them never looked at (an agent reading a thread or in line), and it
    delayed the driver's reads of every other stream."""

    KEPT = 200  # messages kept unapplied at most (they are applied then: bounded memory)

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.shown: row_patch.Split | None = None
        self.waiting: list[tuple[bytes, bytes]] = []

    def add(self, kind: bytes, block: bytes) -> None:
        if kind == b"live":
            self.waiting.clear()  # a whole part: what came before it no longer matters
        self.waiting.append((kind, block))
        if self.agent.looking:
            self.update()
        elif len(self.waiting) > self.KEPT:
            self.apply()

    def apply(self) -> None:
        for kind, block in self.waiting:
            data = block[block.index(b"\ndata: ") + 7 :].decode().replace("\ndata: ", "\n")
            if kind == b"live":
                self.shown = row_patch.split(data)
            elif self.shown is not None:
                self.shown = row_patch.apply(self.shown, data)
        self.waiting.clear()

    def update(self) -> None:
        """Applies what came, and tells the agent whether it shows a row they may take."""
        self.apply()
        rows = self.shown.rows.get("rows", {}) if self.shown is not None else {}
        if any(claimable(row, self.agent.me) for row in rows.values()):
            self.agent.sees_rows.set()
        else:
            self.agent.sees_rows.clear()


async def think(agent: Agent, span: tuple[int, int], compression: float) -> None:
    await asyncio.sleep(agent.rng.uniform(*span) / compression)


async def log_in(agent: Agent) -> str:
    browser = agent.browser
    await browser.page("login form", "/login/")
    form = {"username": agent.username, "password": PASSWORD}
    where = await browser.submit("login", "/login/", form)
    code = SECOND_FACTOR.get(agent.username)
    if code and where == "/":  # a supervisor: the queue sends them to /2fa/ first
        await browser.page("second factor form", "/2fa/")
        where = await browser.submit("second factor", "/2fa/", {"token": code})
    if where != "/":
        raise Broken(f"login went to {where}")
    return await open_queue(agent)


async def open_queue(agent: Agent) -> str:
    page = await agent.browser.page("queue page", "/")
    found = LIVE_URL.search(page)
    if found:
        agent.live_url = html.unescape(found.group(1))
    if agent.me is None and (me := ME.search(page)):
        agent.me = me.group(1)
    if claimable(page, agent.me):
        agent.sees_rows.set()
    return page


def came_to(agent: Agent, data: bytes) -> None:
    """A `notices` message (--available, or in line): a newer notification that links a
    thread is work that came to the agent (inbox.notifications.came_to); they open it in turn."""
    try:
        newest = json.loads(data).get("newest") or {}
    except ValueError:
        return
    found = THREAD_URL.fullmatch(str(newest.get("url", "")))
    if found and int(newest.get("id", 0)) > agent.notice_seen:
        agent.notice_seen = int(newest["id"])
        agent.came.put_nowait(found.group(0))


def claimable(html: str, me: str | None) -> bool:
    """A row in `html` that Claim next may give the agent whose id is `me`."""
    for row in ROW_START.finditer(html):
        mark, who = row.groups()
        if mark is None or (mark == "offered-to" and who == me):
            return True
    return False


def _version(url: str) -> int | None:
    found = VERSION.search(url)
    return int(found.group(1)) if found else None


# --- what each open tab keeps up to date: a push stream, or the polls it replaces ---------


async def live_part(crowd: Crowd, agent: Agent, page: str, feed: Feed) -> None:
    """The page's live part (the queue's #live, the dashboard's #dash, the thread's status
    line) for as long as the page is open (the task is cancelled when it is left): its
    stream (push mode, as twelp.js: reconnects after `retry`, a fresh stream on `reload`)
    or its poll (poll mode; the thread's status line has none)."""
    kind = feed.kind
    try:
        if crowd.mode == "push":
            found = DATA_PUSH.search(page)
            if not found:
                crowd.tally.counts[f"{kind} page without data-push"] += 1
                return
            query = html.unescape(found.group(1))
            # The thread page says which change it shows: as twelp.js, its stream resumes
            # from there (no first message when nothing touched the thread since).
            since = DATA_PUSH_SINCE.search(page)
            resume = since.group(1) if since else None
            if resume:
                feed.show(stream_position(resume))
            while True:
                await stream(crowd, agent, query, feed, resume)
                resume = None
                await asyncio.sleep(STREAM_RETRY_SECONDS)
        elif kind == "queue":
            feed.show(_version(agent.live_url) or 0)
            await queue_poll(crowd, agent, feed)
        elif kind == "dashboard":
            found = DASH_URL.search(page)
            if found:
                url = html.unescape(found.group(1))
                feed.show(_version(url) or 0)
                await dashboard_poll(crowd, agent, url, feed)
    finally:
        feed.closed = time.time()


async def stream(
    crowd: Crowd, agent: Agent, query: str, feed: Feed, resume: str | None = None
) -> None:
    """One GET /push/events/?<query>&patch=1 on a raw connection (the session cookie, as
    the browser's EventSource sends it, asking for row patches as twelp.js does) until it
    ends; each `live` and `patch` message is recorded (a queue's patches applied, as the
    page does, to know whether it shows rows). `resume`: the change id the page shows
    (sent as last_event_id; the first message's time is then not a latency)."""
    tally = crowd.tally
    cookie = agent.browser.client.cookies.get("sessionid", "")
    try:
        reader, writer = await asyncio.open_connection(
            crowd.push_host, crowd.push_port, limit=2**22
        )
    except OSError as error:
        tally.errors[f"stream {feed.kind}: {type(error).__name__}"] += 1
        return
    tally.open_streams += 1
    tally.peak_streams = max(tally.peak_streams, tally.open_streams)
    try:
        extra = f"&last_event_id={resume}" if resume else ""
        extra += "&notices=1"  # as twelp.js: the top bar's notifications ride on it
        request = (
            f"GET /push/events/?{query}&patch=1{extra} HTTP/1.1\r\nHost: {crowd.push_host}\r\n"
            f"Cookie: sessionid={cookie}\r\nAccept: text/event-stream\r\n\r\n"
        )
        writer.write(request.encode())
        watch = stats.Stopwatch()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            tally.errors[f"stream {feed.kind}: HTTP {status}"] += 1
            return
        feed.live = True
        chunked = b"transfer-encoding: chunked" in head.lower()
        # A message (a dashboard's is ~200 KB) comes in many reads: each read is searched
        # for the blank line that ends a message from where the last search stopped.
        buffer, scanned, first = bytearray(), 0, not resume
        if resume:
            tally.counts[f"stream {feed.kind}: resumed from the page's change id"] += 1
        if feed.kind == "queue":
            agent.queue = QueueRows(agent)  # the page's newest stream
        queue_rows = agent.queue
        while True:
            if chunked:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    return
                data = (await reader.readexactly(size + 2))[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    return
            buffer += data
            while (end := buffer.find(b"\n\n", max(scanned - 1, 0))) >= 0:
                block = bytes(buffer[:end])
                del buffer[: end + 2]
                scanned = 0
                kind = b"live" if block.startswith(b"event: live\nid: ") else None
                if block.startswith(b"event: patch\nid: "):
                    kind = b"patch"
                if kind is not None:
                    at = len(b"event: \nid: ") + len(kind)
                    change_id = block[at : block.index(b"\n", at)]
                    feed.show(stream_position(change_id))
                    name = kind.decode()
                    tally.counts[f"stream {feed.kind}: {name} messages"] += 1
                    tally.counts[f"stream {feed.kind}: bytes"] += len(block)
                    tally.counts[f"stream {feed.kind}: {name} bytes"] += len(block)
                    if first:
                        tally.latency[f"stream {feed.kind}: first message"].append(watch.ms)
                        first = False
                    if feed.kind == "queue" and queue_rows is not None:
                        queue_rows.add(kind, block)
                elif block.startswith(b"event: reload"):
                    tally.counts[f"stream {feed.kind}: reload"] += 1
                elif block.startswith(b"event: notices"):
                    tally.counts[f"stream {feed.kind}: notices messages"] += 1
                    if feed.kind == "queue":
                        came_to(agent, block[block.index(b"\ndata: ") + 7 :])
                elif block.startswith(b"event: viewers"):
                    tally.counts[f"stream {feed.kind}: viewers messages"] += 1
                    tally.counts[f"stream {feed.kind}: viewers bytes"] += len(block)
            scanned = len(buffer)
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        tally.counts[f"stream {feed.kind} ended: {type(error).__name__}"] += 1
    finally:
        feed.live = False
        tally.open_streams -= 1
        writer.close()


async def queue_poll(crowd: Crowd, agent: Agent, feed: Feed) -> None:
    """The queue's live refresh, every 2 s (poll mode)."""
    tally = crowd.tally
    await asyncio.sleep(agent.rng.uniform(0, REFRESH_SECONDS))
    headers = {"HX-Request": "true", "HX-Target": "live", "HX-Trigger": "live"}
    while True:
        try:
            response = await agent.browser.request(
                "live refresh", "GET", agent.live_url, headers=headers
            )
        except Broken:
            await asyncio.sleep(REFRESH_SECONDS)
            continue
        if response.status_code == 204:
            tally.counts["refresh 204"] += 1
        else:
            tally.counts["refresh 200 (partial)"] += 1
            found = LIVE_URL.search(response.text)
            if found:
                agent.live_url = html.unescape(found.group(1))
                feed.show(_version(agent.live_url) or 0)
            if claimable(response.text, agent.me):
                agent.sees_rows.set()
            else:
                agent.sees_rows.clear()
        await asyncio.sleep(REFRESH_SECONDS)


async def dashboard_poll(crowd: Crowd, agent: Agent, url: str, feed: Feed) -> None:
    """The dashboard's refresh, every DASHBOARD_SECONDS (poll mode)."""
    headers = {"HX-Request": "true", "HX-Target": "dash", "HX-Trigger": "dash"}
    while True:
        await asyncio.sleep(DASHBOARD_SECONDS)
        try:
            response = await agent.browser.request("dashboard refresh", "GET", url, headers=headers)
        except Broken:
            continue
        found = DASH_URL.search(response.text) if response.status_code == 200 else None
        if found:
            url = html.unescape(found.group(1))
            feed.show(_version(url) or 0)


async def viewers_poll(
    crowd: Crowd, agent: Agent, url: str, name: str, feed: Feed, ids: str = ""
) -> None:
    """The page's #viewers poll ("load, every 2s", data-push-poll): sent at load, then,
    as twelp.js does, every 2 s only while the page's stream is not open (its `viewers`
    events bring the same then); in poll mode always. --no-viewers-poll: never."""
    headers = {"HX-Request": "true", "HX-Target": "viewers", "HX-Trigger": "viewers"}
    params = {"t": ids} if ids else None
    first = True
    while True:
        if first or not feed.live:
            with contextlib.suppress(Broken):
                await agent.browser.request(name, "GET", url, headers=headers, params=params)
        else:
            crowd.tally.counts[f"{name}: polls paused by the stream"] += 1
        first = False
        await asyncio.sleep(VIEWERS_SECONDS)


def open_tab(crowd: Crowd, agent: Agent, page: str, kind: str, thread: int | None = None):
    """The tasks a page runs while open: its live part and its viewers poll."""
    feed = Feed(kind, thread)
    crowd.tally.feeds.append(feed)
    tasks = [asyncio.create_task(live_part(crowd, agent, page, feed))]
    if crowd.viewers_poll and kind == "queue":
        ids = ",".join(re.findall(r'data-thread-id="(\d+)"', page))
        poll = viewers_poll(crowd, agent, "/viewers/", "viewers", feed, ids)
        tasks.append(asyncio.create_task(poll))
    if crowd.viewers_poll and kind == "thread":
        url = f"/t/{thread}/viewers/"
        tasks.append(asyncio.create_task(viewers_poll(crowd, agent, url, "viewers (thread)", feed)))
    return tasks


async def close_tab(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def work_tab(crowd: Crowd, agent: Agent) -> None:
    """Claim next, read, type, send, close; again, until told to stop (the thread in hand
    is finished first)."""
    browser, handled, tally = agent.browser, 0, crowd.tally
    if crowd.available:
        await browser.submit("available", "/available/", {"available": "on"})
    while not crowd.stop.is_set():
        try:
            if crowd.available:
                where = await waiting_for_work(crowd, agent)
                if where is None:
                    break
                tally.counts["threads that came (assigned)"] += 1
                tally.counts["claims"] += 1
                handled += 1
                await handle(crowd, agent, where, handled)
                await open_queue(agent)
                await think(agent, BETWEEN, crowd.compression)
                continue
            where = await browser.claim_next()
            if where is None and IN_LINE in browser.toast.get("text", ""):
                # Nothing for them: they are in line, and the next thread comes to them
                # (inbox.routing.assign 4.; their notification's link). They wait for it,
                # and click again only if nothing came for a while.
                tally.counts["claim next: in line"] += 1
                where = await came_within(crowd, agent, LOOK_AGAIN_SECONDS)
                if where is None:
                    if crowd.stop.is_set():  # the day ends: they leave the line
                        with contextlib.suppress(Broken):
                            await browser.submit("away", "/available/", {"available": "off"})
                    continue
                tally.counts["threads that came (in line)"] += 1
            elif where is None:  # a toast (at their cap, or Available already): no reload
                tally.counts["claim next: queue clear"] += 1
                if agent.queue is not None:
                    agent.queue.apply()  # what the page shows now, before looking at it
                agent.sees_rows.clear()  # the rows shown were taken: the next state tells
                agent.looking = True
                try:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(agent.sees_rows.wait(), LOOK_AGAIN_SECONDS)
                finally:
                    agent.looking = False
                # A person sees the row, then clicks: not in the same millisecond as
                # 700 others (the wall clock's, not compressed: it is not day time).
                await asyncio.sleep(agent.rng.uniform(*REACTION_SECONDS))
                continue
            tally.counts["claims"] += 1
            handled += 1
            renewing = asyncio.create_task(renew(browser, where))
            try:
                await handle(crowd, agent, where, handled)
            finally:
                renewing.cancel()
            await open_queue(agent)
            await think(agent, BETWEEN, crowd.compression)
        except Broken as broken:
            tally.counts["flows broken"] += 1
            tally.counts[f"broken at: {str(broken)[:60]}"] += 1
            await asyncio.sleep(1)


async def waiting_for_work(crowd: Crowd, agent: Agent) -> str | None:
    """--available: the next thread that came to the agent (their notification's link),
    or None when the day ends first (they then go away: what came and was not opened
    goes back to the queue)."""
    where = await came_within(crowd, agent, None)
    if where is None:
        with contextlib.suppress(Broken):
            await agent.browser.submit("away", "/available/", {"available": "off"})
    return where


async def came_within(crowd: Crowd, agent: Agent, seconds: float | None) -> str | None:
    """The thread that came to the agent (their notification's link) within `seconds`
    (None: however long it takes), else None; None also when the day ends first."""
    get = asyncio.ensure_future(agent.came.get())
    stop = asyncio.ensure_future(crowd.stop.wait())
    await asyncio.wait({get, stop}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if get.done():
        return get.result()
    get.cancel()
    return None


async def renew(browser: Browser, where: str) -> None:
    """The thread page's hx-post to renew/ every 60 s while it is open."""
    while True:
        await asyncio.sleep(RENEW_SECONDS)
        with contextlib.suppress(Broken):
            await browser.htmx_post("renew", f"{where}renew/", {}, "this")


async def handle(crowd: Crowd, agent: Agent, where: str, n: int) -> None:
    """One claimed thread: read it, type, send, close. Each load of the thread page opens
    its tab's stream (and viewers poll); leaving the page closes them."""
    browser, tally, compression = agent.browser, crowd.tally, crowd.compression
    thread = int(where.strip("/").split("/")[-1])
    page = await browser.page("thread page", where)
    token, initial = CLIENT_TOKEN.search(page), REPLY_TEXT.search(page)
    if not token or not initial:
        raise Broken("thread page without a reply form")
    tab = open_tab(crowd, agent, page, "thread", thread)
    try:
        await think(agent, READ, compression)
        text = html.unescape(initial.group(1)).strip()
        text += f" Sorry for the wait! Checking it for you now (case {agent.number}x{n})."
        await browser.htmx_post("reply check", f"{where}reply/check/", {"text": text}, "pii-live")
        await think(agent, TYPE, compression)
        form = {"text": text, "client_token": token.group(1)}
        sent = await browser.htmx_post("reply", f"{where}reply/", form, "reply-form")
        if "HX-Redirect" not in sent.headers:
            error = re.search(r'<p class="error"[^>]*>(.*?)</p>', sent.text, re.S)
            raise Broken(f"reply refused: {error.group(1) if error else sent.status_code}")
        tally.client_tokens.append(token.group(1))
        tally.counts["replies sent"] += 1
    finally:
        await close_tab(tab)
    page = await browser.page("thread page", sent.headers["HX-Redirect"])
    tab = open_tab(crowd, agent, page, "thread", thread)
    try:
        await think(agent, BEFORE_CLOSE, compression)
        await browser.submit("close", f"{where}close/")
    finally:
        await close_tab(tab)
    tally.counts["closed"] += 1


async def dashboard_tab(crowd: Crowd, agent: Agent) -> None:
    """A supervisor's second tab: the dashboard, open all day."""
    page = await agent.browser.page("dashboard page", "/sup/")
    tab = open_tab(crowd, agent, page, "dashboard")
    try:
        await crowd.stop.wait()
    finally:
        await close_tab(tab)


async def agent_life(crowd: Crowd, agent: Agent, delay: float) -> None:
    await asyncio.sleep(delay)
    tally = crowd.tally
    for _ in range(5):
        try:
            page = await log_in(agent)
            break
        except Broken:
            await asyncio.sleep(1)
    else:
        tally.counts["agents who could not log in"] += 1
        return
    tally.counts["agents logged in"] += 1
    tabs = open_tab(crowd, agent, page, "queue")
    if agent.supervisor:
        tabs.append(asyncio.create_task(dashboard_tab(crowd, agent)))
    try:
        await work_tab(crowd, agent)
    finally:
        await close_tab(tabs)


async def tail_changes(redis_url: str, key: str, tally: Tally) -> None:
    """Every change the brand logs during the run (the driver reads the change log as the
    push process does), to time each one to every screen that was open for it."""
    import redis.asyncio as aredis

    client = aredis.Redis.from_url(redis_url)
    last = "$"
    try:
        while True:
            found = await client.xread({key: last}, block=1000, count=1000)
            for _, entries in found:
                for change_id, fields in entries:
                    last = change_id
                    touched = fields.get(b"t", b"*").decode()
                    threads = (
                        None
                        if touched == "*"
                        else frozenset(int(t) for t in touched.split(",") if t.isdigit())
                    )
                    position = stream_position(change_id)
                    at = position // 1_000_000 / 1000
                    tally.changes.append(Change(position, int(fields[b"v"]), at, threads))
    finally:
        await client.aclose()


def change_to_screen(tally: Tally, mode: str, end: float) -> dict[str, Any]:
    """For every change and every feed open for it (queue and dashboard feeds: every
    change; a thread's: the changes of its thread), the delay until the feed showed a
    state at or past it: p50/p95/max ms over the pairs, per kind and in all."""
    import bisect

    changes = sorted(tally.changes, key=lambda c: c.position)
    times = [c.at for c in changes]
    by_thread: dict[int, list[Change]] = defaultdict(list)
    for change in changes:
        for thread in change.threads or ():
            by_thread[thread].append(change)
    anywhere = [c for c in changes if c.threads is None]
    delays: dict[str, list[float]] = defaultdict(list)
    missed: Counter = Counter()
    censored: Counter = Counter()
    for feed in tally.feeds:
        if feed.start is None:
            continue
        opened = feed.got[0][0]
        closed = feed.closed or end
        if feed.thread is None:
            lo, hi = bisect.bisect_left(times, opened - 10), bisect.bisect_right(times, closed)
            relevant = changes[lo:hi]
        else:
            relevant = sorted(by_thread.get(feed.thread, []) + anywhere, key=lambda c: c.at)
            relevant = [c for c in relevant if opened - 10 <= c.at <= closed]
        shown = [position for _, position in feed.got]
        for change in relevant:
            key = change.position if mode == "push" else change.v
            if key <= feed.start:
                continue  # already in the first state the page showed
            i = bisect.bisect_left(shown, key)
            if i < len(shown):
                delays[feed.kind].append(max(0.0, feed.got[i][0] - change.at) * 1000)
            elif closed - change.at < CENSOR_SECONDS:
                censored[feed.kind] += 1
            else:
                missed[feed.kind] += 1
    everything = [d for values in delays.values() for d in values]
    result = {"all": stats.percentiles(everything)}
    result |= {kind: stats.percentiles(values) for kind, values in sorted(delays.items())}
    result["missed (feed open 5 s on without it)"] = dict(missed)
    result["not counted (feed closed within 5 s)"] = dict(censored)
    result["changes logged"] = len(changes)
    return result


# --- real browsers on the queue (--browsers) ------------------------------------------------------

BROWSER_PIDS: list[int] = []  # the browsers' process (bench.browsers), for the Meter


def browser_users(agents: int, browsers: int) -> list[str]:
    """The employees the Chromium pages log in as: created after the crowd's (set_up), so
    none of them works the queue; they only look at it."""
    return [f"agent{n}" for n in range(agents + 1, agents + browsers + 1)]


def browser_tree() -> list[int]:
    found = []
    for pid in BROWSER_PIDS:
        with contextlib.suppress(psutil.NoSuchProcess):
            process = psutil.Process(pid)
            found += [pid, *(c.pid for c in process.children(recursive=True))]
    return found


@dataclass
class Pages:
    """`python -m bench.browsers` as a child process: Chromium pages logged in and sitting
    on the queue, recording in the page what they show and when (nothing crosses to this
    process until the end, so they cost the driver's loop nothing)."""

    process: asyncio.subprocess.Process
    out: Path

    @classmethod
    async def start(cls, args: argparse.Namespace, agents: int, web_url: str) -> Pages:
        import tempfile

        out = Path(tempfile.mkstemp(prefix="bench-browsers-", suffix=".json")[1])
        users = ",".join(browser_users(agents, args.browsers))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.browsers",
            *("--url", web_url, "--users", users, "--password", PASSWORD, "--out", str(out)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        BROWSER_PIDS[:] = [process.pid]
        with contextlib.suppress(TimeoutError):  # a page that cannot log in is reported
            ready = await asyncio.wait_for(process.stdout.readline(), 180)
            common.log(f"  Chromium pages (pid {process.pid}): {ready.decode().strip()}")
        return cls(process, out)

    async def finish(self) -> dict[str, Any]:
        """Tells the pages to stop, and what they recorded ({"pages": [...], "errors"})."""
        try:
            self.process.stdin.write(b"stop\n")
            await self.process.stdin.drain()
            self.process.stdin.close()
            ready = await asyncio.wait_for(self.process.stdout.read(), 120)
            await asyncio.wait_for(self.process.wait(), 30)
        except (TimeoutError, OSError) as error:
            self.process.kill()
            return {"pages": [], "errors": [f"the browsers did not finish: {error!r}"]}
        finally:
            BROWSER_PIDS.clear()
        try:
            found = json.loads(self.out.read_text() or "{}")
        finally:
            self.out.unlink(missing_ok=True)
        found.setdefault("errors", [])
        found.setdefault("pages", [])
        found["ready"] = ready.decode(errors="replace").strip()
        return found


def mention_to_browser(tally: Tally, first_thread: int, end: float) -> dict[str, Any]:
    """For every new mention during the run (a thread created by it: its change is the
    first in the change log to name a thread id past those that existed before) and every
    Chromium page live by then, the delay until the page had applied a message at or past that
    change (its queue then shows the thread, if it is on its first page):
    p50/p95/max over browser-mention pairs. And, for the new threads whose row did show
    on a page (only those among the first page's rows), the delay until the row was there."""
    import bisect

    created: dict[int, Change] = {}
    for change in sorted(tally.changes, key=lambda c: c.position):
        for thread in change.threads or ():
            if thread > first_thread and thread not in created:
                created[thread] = change
    found = tally.browsers or {"pages": [], "errors": []}
    state, rows, missed = [], [], 0
    for page in found["pages"]:
        applied = [(at / 1000, stream_position(i)) for at, i in page["applied"] if i]
        if not applied:
            continue
        start = applied[0]
        positions = [p for _, p in applied]
        for change in created.values():  # one pair per new thread and page
            if change.position <= start[1]:
                continue  # in the first state the page showed
            i = bisect.bisect_left(positions, change.position)
            if i < len(applied):
                state.append(max(0.0, applied[i][0] - change.at) * 1000)
            elif end - change.at >= CENSOR_SECONDS:
                missed += 1
        for thread, at in page["seen"].items():
            change = created.get(int(thread))
            if change is not None and change.position > start[1]:
                rows.append(max(0.0, at / 1000 - change.at) * 1000)
    return {
        "pages": len(found["pages"]),
        "mentions": len(created),  # new threads
        "changes with new threads": len({c.position for c in created.values()}),
        "mention_to_browser_ms": stats.percentiles(state),
        "mention_row_to_browser_ms": stats.percentiles(rows),
        "missed (page open 5 s on without it)": missed,
        "errors": found["errors"],
    }


# --- customers ------------------------------------------------------------------------------------


@dataclass
class Customer:
    id: int
    username: str
    token: str
    secret: str
    last_tweet: str | None = None


async def mention_generator(
    client: Any,
    sandbox_url: str,
    customers: list[Customer],
    consumer: tuple[str, str],
    per_second: float,
    total: int,
    tally: Tally,
) -> None:
    """`total` customer tweets at the brand, `per_second`, each POST /2/tweets as its
    customer (OAuth 1.0a); they are sent on time even when the sandbox answers slowly."""
    from oauthlib.oauth1 import Client as OAuth

    rng = random.Random(9)
    url = f"{sandbox_url}/2/tweets"
    pending: set[asyncio.Task] = set()
    gate = asyncio.Semaphore(16)

    async def post(n: int, customer: Customer) -> None:
        body: dict[str, Any] = {
            "text": f"@{common.BRAND_HANDLE} my order #{7_000_000 + n} has not arrived, "
            "tracking has not moved for days. Help?"
        }
        if customer.last_tweet and rng.random() < FOLLOW_UP_SHARE:
            body = {
                "text": f"@{common.BRAND_HANDLE} still nothing on my side ({n})",
                "reply": {"in_reply_to_tweet_id": customer.last_tweet},
            }
        signer = OAuth(
            consumer[0],
            client_secret=consumer[1],
            resource_owner_key=customer.token,
            resource_owner_secret=customer.secret,
        )
        _, headers, _ = signer.sign(url, "POST", None, {"Content-Type": "application/json"})
        async with gate:
            watch = stats.Stopwatch()
            try:
                response = await client.post(url, content=json.dumps(body), headers=headers)
            except Exception as error:  # noqa: BLE001 - counted, the day goes on
                tally.errors[f"sandbox tweet: {type(error).__name__}"] += 1
                return
        tally.latency["sandbox: customer tweets"].append(watch.ms)
        if response.status_code != 201:
            tally.errors[f"sandbox tweet: HTTP {response.status_code}"] += 1
            return
        tweet_id = response.json()["data"]["id"]
        customer.last_tweet = tweet_id
        tally.mention_ids.append(int(tweet_id))

    began = time.monotonic()
    for n in range(total):
        await asyncio.sleep(max(0.0, began + n / per_second - time.monotonic()))
        task = asyncio.create_task(post(n, customers[n % len(customers)]))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)


# --- processes and their cost -------------------------------------------------------------------


class Meter:
    """CPU seconds and peak RSS of each process group, sampled with psutil."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups  # name -> callable returning the group's pids
        self.start_cpu: dict[str, dict[int, float]] = {}
        self.last_cpu: dict[str, dict[int, float]] = {}
        self.peak_rss: dict[str, int] = dict.fromkeys(groups, 0)
        self.peak_private: dict[str, int] = dict.fromkeys(groups, 0)
        self.peak_processes: dict[str, int] = dict.fromkeys(groups, 0)
        self.peak_redis_clients = 0

    def _read(self) -> dict[str, dict[int, tuple[float, int, int]]]:
        """{group: {pid: (CPU s, RSS, RSS less shared pages)}}: PostgreSQL's backends
        share shared_buffers, which their RSS counts again in each."""
        found: dict[str, dict[int, tuple[float, int, int]]] = {}
        for name, pids in self.groups.items():
            found[name] = {}
            for pid in pids():
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    process = psutil.Process(pid)
                    cpu = sum(process.cpu_times()[:2])
                    memory = process.memory_info()
                    found[name][pid] = (cpu, memory.rss, memory.rss - memory.shared)
        return found

    def sample(self) -> None:
        for name, procs in self._read().items():
            cpu = {p: c for p, (c, _, _) in procs.items()}
            self.last_cpu.setdefault(name, {}).update(cpu)
            self.start_cpu.setdefault(name, cpu)
            self.peak_rss[name] = max(self.peak_rss[name], sum(m[1] for m in procs.values()))
            self.peak_private[name] = max(
                self.peak_private[name], sum(m[2] for m in procs.values())
            )
            self.peak_processes[name] = max(self.peak_processes[name], len(procs))
        with contextlib.suppress(Exception):
            from django.core.cache import cache

            clients = cache._cache.get_client(write=True).info("clients")["connected_clients"]
            self.peak_redis_clients = max(self.peak_redis_clients, clients)

    def cpu(self) -> dict[str, float]:
        return {
            name: sum(c - self.start_cpu[name].get(p, 0.0) for p, c in last.items())
            for name, last in self.last_cpu.items()
        }


@contextlib.contextmanager
def proxy_in_front(args: argparse.Namespace, web: Any, push: Any):
    """With --nginx: the shipped deploy/nginx/twelp.conf in front of web and push (as
    docker-compose runs them; bench.scaleout's nginx), the crowd's only address. nginx
    reads each request whole before passing it on, so a slow client never holds one of
    gunicorn's threads. Without: None, the crowd talks to web and push directly."""
    if not args.nginx:
        yield None
        return
    from bench import scaleout

    upstream = [
        scaleout.Process(name, int(server.url.rsplit(":", 1)[1]), server.popen, server.log_path)
        for name, server in (("web", web), ("push", push))
    ]
    port = args.proxy_port
    with scaleout.nginx(port, upstream[:1], upstream[1:], connections=16384) as balancer:
        balancer.url = f"http://127.0.0.1:{port}"
        balancer.pid = balancer.process.pid
        yield balancer


def tree(server: processes.Process) -> Any:
    def pids() -> list[int]:
        try:
            root = psutil.Process(server.pid)
            return [root.pid, *(c.pid for c in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    return pids


def database_backends(db_url: str) -> Any:
    import psycopg

    admin, db_name = db_url.rsplit("/", 1)

    def pids() -> list[int]:
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [db_name]
            ).fetchall()
        return [row[0] for row in rows]

    return pids


def redis_servers() -> list[int]:
    return [
        p.pid for p in psutil.process_iter(["name"]) if (p.info["name"] or "") == "redis-server"
    ]


# --- setup and checks -----------------------------------------------------------------------------


def set_up(
    agents: int, poll_seconds: float, supervisors: int, browsers: int = 0
) -> tuple[list[Customer], tuple[str, str], int]:
    from datetime import timedelta

    from agents import roles
    from agents.models import Agent, Role
    from bench.queue import create_agents
    from inbox.models import Brand, Source
    from twelp.xsandbox import actions
    from twelp.xsandbox.models import Account
    from twelp.xsandbox.seed import seed

    world = seed()
    names = [(f"daycust{n}", f"Day Customer {n}") for n in range(CUSTOMERS)]
    actions.create_customers(names)
    rows = Account.objects.filter(username__startswith="daycust").order_by("id")
    customers = [Customer(a.id, a.username, a.access_token, a.access_token_secret) for a in rows]
    brand = Brand.objects.create(
        name="Twelp Demo", handle=common.BRAND_HANDLE, x_user_id=common.BRAND_X_USER_ID
    )
    Source.objects.create(
        brand=brand, kind=Source.Kind.MENTIONS, poll_interval=timedelta(seconds=poll_seconds)
    )
    with stats.Stopwatch() as watch:
        # The Chromium pages' employees (--browsers) come after the crowd's.
        created = create_agents(brand, agents + browsers)
    for agent in created[:supervisors]:  # agent1.. are the supervisors
        Agent.objects.filter(id=agent.id).update(role=Role.SUPERVISOR)
        roles.set_role_group(agent.user, Role.SUPERVISOR)
        # Supervisors pass two-factor at login (agents.twofactor): each has a recovery code.
        SECOND_FACTOR[agent.user.username] = common.second_factor_code(agent.user)
    common.log(
        f"  {agents} agents ({supervisors} supervisors), {len(customers):,} customers"
        f" ({watch.seconds:.0f} s)"
    )
    return customers, (world.app.consumer_key, world.app.consumer_secret), brand.id


def counts_now() -> dict[str, int]:
    from inbox.models import Message, Reply

    return {
        "ingested": Message.objects.filter(direction="in").count(),
        "posted": Reply.objects.filter(status="posted").count(),
        "replies": Reply.objects.count(),
    }


def wait_for_drain(expected_mentions: int, expected_replies: int) -> dict[str, int]:
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        now = counts_now()
        done = now["ingested"] >= expected_mentions and now["posted"] >= expected_replies
        if done or time.monotonic() > deadline:
            return now
        time.sleep(1)


SERVER_SIDE = (
    "web (gunicorn)",
    "push (uvicorn)",
    "nginx (proxy)",
    "celery worker",
    "celery beat",
    "PostgreSQL backends",
    "redis-server",
)
CLAIM_ENDS = {
    "released", "lease_expired", "replied", "closed", "moved_to_dm", "assignment_returned"
}  # fmt: skip


ACCESS_LINE = re.compile(r'"(GET|POST) (\S+) HTTP/[\d.]+" (\d+) \S+ (\d+)ms$')
PAGES = (  # the driver's names of requests, from the access log's method and path
    ("POST", re.compile(r"^/claim-next/$"), "claim next"),
    ("GET", re.compile(r"^/t/\d+/$"), "thread page"),
    ("POST", re.compile(r"^/t/\d+/reply/check/$"), "reply check"),
    ("POST", re.compile(r"^/t/\d+/reply/$"), "reply"),
    ("POST", re.compile(r"^/t/\d+/close/$"), "close"),
    ("POST", re.compile(r"^/t/\d+/renew/$"), "renew"),
    ("GET", re.compile(r"^/t/\d+/viewers/"), "viewers (thread)"),
    ("GET", re.compile(r"^/viewers/"), "viewers"),
    ("GET", re.compile(r"^/\?"), "live refresh"),
    ("GET", re.compile(r"^/$"), "queue page"),
    ("GET", re.compile(r"^/sup/\?"), "dashboard refresh"),
)


def server_times(access_log: str) -> dict[str, dict[str, float]]:
    """Per request kind, the ms gunicorn's thread spent on it (its access log): the time
    from its thread reading the request to the response, without the wait for a thread."""
    found: dict[str, list[float]] = defaultdict(list)
    for line in access_log.splitlines():
        match = ACCESS_LINE.search(line)
        if not match:
            continue
        method, path, _, ms = match.groups()
        for wanted, pattern, name in PAGES:
            if method == wanted and pattern.search(path):
                found[name].append(float(ms))
                break
    return {name: stats.percentiles(values) for name, values in sorted(found.items())}


def double_claims() -> dict[str, int]:
    """Replay each thread's Events in order: a claim while another agent holds it is a
    double claim."""
    from inbox.models import Event

    holder: dict[int, int | None] = {}
    found, claims = 0, 0
    rows = (
        Event.objects.filter(thread__isnull=False)
        .order_by("thread_id", "id")
        .values_list("thread_id", "verb", "actor_id", "detail")
    )
    for thread_id, verb, actor_id, detail in rows.iterator(chunk_size=5000):
        held = holder.get(thread_id)
        if verb in ("claimed", "assigned"):
            claims += 1
            if held is not None and held != actor_id:
                found += 1
            holder[thread_id] = actor_id
        elif verb == "reassigned":
            holder[thread_id] = detail.get("to")
        elif verb in CLAIM_ENDS:
            holder[thread_id] = None
    return {"claimed events": claims, "double claims": found}


def checks(tally: Tally) -> dict[str, Any]:
    from django.db.models import Count

    from inbox.models import Message, Reply
    from twelp.xsandbox.models import Tweet

    accepted = set(tally.mention_ids)
    in_sandbox = set(
        Tweet.objects.filter(author__username__startswith="daycust").values_list("id", flat=True)
    )
    inbound = list(Message.objects.filter(direction="in").values_list("x_id", flat=True))
    replies = Reply.objects.all()
    posted_ids = set(replies.filter(status="posted").values_list("posted_x_id", flat=True))
    brand_tweets = set(
        Tweet.objects.filter(author_id=common.BRAND_X_USER_ID).values_list("id", flat=True)
    )
    tokens = {str(t) for t in replies.values_list("client_token", flat=True)}
    sent = set(tally.client_tokens)
    per_thread = Counter(
        dict(replies.values_list("thread_id").annotate(n=Count("id")).values_list("thread_id", "n"))
    )
    result = {
        "mentions accepted by the sandbox": len(accepted),
        "customer tweets in the sandbox": len(in_sandbox),
        "inbound messages": len(inbound),
        "every mention ingested once": accepted == in_sandbox == set(inbound)
        and len(inbound) == len(set(inbound)),
        "replies sent (accepted by the server)": len(sent),
        "Reply rows": replies.count(),
        "Reply rows posted": len(posted_ids - {None}),
        "brand tweets in the sandbox": len(brand_tweets),
        "one posted reply per send": sent == tokens
        and len(sent) == len(tally.client_tokens)
        and None not in posted_ids
        and posted_ids == brand_tweets,
        "every send posted": len(sent) == len(posted_ids - {None}),
        "threads with more than one reply": sum(1 for n in per_thread.values() if n > 1),
        **double_claims(),
    }
    result["claims counted by the driver"] = tally.counts["claims"]
    result["0 double claims"] = result["double claims"] == 0
    return result


def outbox_states() -> dict[str, int]:
    from django.db.models import Count

    from inbox.models import Reply

    return dict(Reply.objects.values_list("status").annotate(n=Count("id")).order_by())


def timings() -> dict[str, Any]:
    """Mention -> ingested, and a thread's first customer tweet -> its first posted reply,
    in seconds (X's created_at as the sandbox stamped it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM ingested_at - sent_at) FROM inbox_message"
            " WHERE direction = 'in'"
        )
        ingest = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT extract(epoch FROM r.first_posted - m.first_in)
            FROM (SELECT thread_id, min(posted_at) AS first_posted FROM inbox_reply
                  WHERE status = 'posted' GROUP BY thread_id) AS r
            JOIN (SELECT thread_id, min(sent_at) AS first_in FROM inbox_message
                  WHERE direction = 'in' GROUP BY thread_id) AS m USING (thread_id)
            """
        )
        first_reply = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM inbox_thread WHERE status IN ('open', 'claimed')")
        waiting = cursor.fetchone()[0]
    return {
        "mention -> ingested s": stats.percentiles([float(x) for x in ingest]),
        "mention -> first reply posted s": stats.percentiles([float(x) for x in first_reply]),
        "threads still waiting at the end": waiting,
    }


# --- one run --------------------------------------------------------------------------------------


async def crowd(
    args: argparse.Namespace,
    agents: int,
    web_url: str,
    sandbox_url: str,
    customers: list[Customer],
    consumer: tuple[str, str],
    meter: Meter,
    push_url: str,
    brand_id: int,
) -> tuple[Tally, float, float]:
    import httpx

    from inbox.live import version

    tally, stop = Tally(), asyncio.Event()
    fail_fast_sniffio()
    host, port = push_url.split("//")[1].split(":")
    shared = Crowd(args.mode, host, int(port), args.viewers_poll, args.compression, stop, tally)
    shared.available = args.available
    # Each agent's browser has its own pool of at most 6 connections to the host, as
    # browsers do. (One pool shared by the whole crowd made httpcore scan every pooled
    # connection, a poll() each, on every request: at 200 agents the driver, not the
    # server, was where requests waited; BENCHMARKS.md, "the stall".)
    limits = httpx.Limits(max_connections=BROWSER_CONNECTIONS)
    timeout = httpx.Timeout(300.0)  # as long as a browser waits
    clients = [
        httpx.AsyncClient(base_url=web_url, limits=limits, timeout=timeout) for _ in range(agents)
    ]
    crowd_members = [
        Agent(
            n,
            f"agent{n}",
            Browser(clients[n - 1], tally),
            random.Random(n),
            supervisor=n <= supervisors_of(agents, args.supervisors_per),
        )
        for n in range(1, agents + 1)
    ]
    per_second = args.mentions_per_hour * args.compression / 3600
    total = max(1, round(per_second * args.minutes * 60))
    common.log(
        f"  {agents} agents, {total:,} mentions at {per_second:.1f}/s "
        f"({args.mentions_per_hour:,}/hour x {args.compression:g}) for {args.minutes:g} min"
    )
    sandbox = httpx.AsyncClient(timeout=timeout)
    spread = min(LOGIN_SPREAD_SECONDS, args.minutes * 60 / 4)
    tail = asyncio.create_task(tail_changes(args.redis_url, version.changes_key(brand_id), tally))
    # The Chromium pages first: live on the queue before the crowd and the mentions start.
    pages = await Pages.start(args, agents, web_url) if args.browsers else None
    began = time.monotonic()
    lives = [
        asyncio.create_task(agent_life(shared, a, spread * (a.number - 1) / agents))
        for a in crowd_members
    ]
    generator = asyncio.create_task(
        mention_generator(sandbox, sandbox_url, customers, consumer, per_second, total, tally)
    )
    watcher = asyncio.create_task(progress(tally, began, agents, total, meter))
    lag = asyncio.create_task(loop_lag(tally))
    await asyncio.sleep(args.minutes * 60)
    stop.set()
    await generator
    await asyncio.gather(*lives)
    wall = time.monotonic() - began
    ended = time.time()
    if pages is not None:  # open for the whole run, as the crowd's tabs
        tally.browsers = await pages.finish()
    for task in (watcher, lag, tail):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for client in [*clients, sandbox]:
        await client.aclose()
    return tally, wall, ended


def fail_fast_sniffio() -> None:
    """httpcore runs `import sniffio` on every request; without the package installed each
    failed import searches sys.path again (~14% of the driver's CPU at 200 agents, py-spy).
    A None in sys.modules makes that import fail at once, with the same outcome."""
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def supervisors_of(agents: int, per: int) -> int:
    """One supervisor (who also has the dashboard open) per `per` agents, at least one."""
    return max(1, agents // per) if per else 0


async def loop_lag(tally: Tally) -> None:
    """How late this loop wakes up: if it is late, the driver itself is the bottleneck."""
    while True:
        watch = stats.Stopwatch()
        await asyncio.sleep(0.1)
        tally.loop_lag.append(watch.ms - 100)


async def progress(tally: Tally, began: float, agents: int, total: int, meter: Meter) -> None:
    loop, last_requests, last_claims, last_at = asyncio.get_running_loop(), 0, 0, began
    while True:
        await asyncio.sleep(5)
        now = await loop.run_in_executor(None, _sample, meter)
        at = time.monotonic()
        requests, claims = tally.requests(), tally.counts["claims"]
        claim = tally.latency.get("claim next", [])[-200:]
        p95 = f"{stats.percentile(claim, 95):.0f}" if claim else "-"
        lag = tally.loop_lag[-50:]
        common.log(
            f"  {at - began:4.0f}s {tally.counts['agents logged in']}/{agents} in, "
            f"mentions {len(tally.mention_ids):,}/{total:,}, ingested {now['ingested']:,}, "
            f"claims {claims:,} ({(claims - last_claims) / (at - last_at):.1f}/s), "
            f"sent {tally.counts['replies sent']:,}, posted {now['posted']:,}, "
            f"web {(requests - last_requests) / (at - last_at):.0f} req/s, claim p95 {p95} ms, "
            f"streams {tally.open_streams}, changes {len(tally.changes):,}, "
            f"loop lag p95 {stats.percentile(lag, 95) if lag else 0:.0f} ms, "
            f"errors {sum(tally.errors.values())}, load {common.load_average()}"
        )
        last_requests, last_claims, last_at = requests, claims, at


_sample_lock = threading.Lock()


def _sample(meter: Meter) -> dict[str, int]:
    with _sample_lock:
        meter.sample()
        from django.db import connection

        try:
            return counts_now()
        finally:
            connection.close()  # this executor thread's own connection


def _last_thread_id() -> int:
    """The newest thread before the crowd starts: those after it are the run's mentions."""
    from django.db.models import Max

    from inbox.models import Thread

    return Thread.objects.aggregate(top=Max("id"))["top"] or 0


def run(agents: int, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    from django.db import connections

    common.log(f"== {agents} agents")
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    supervisors = supervisors_of(agents, args.supervisors_per)
    customers, consumer, brand_id = set_up(agents, args.poll_seconds, supervisors, args.browsers)
    first_thread = _last_thread_id()
    connections.close_all()
    with (
        common.sandbox_server(args.sandbox_port, env, "bench.sandbox_settings") as sandbox,
        common.web_server(
            args.web_port, env, workers=args.web_workers, threads=args.web_threads
        ) as web,
        common.celery_worker(env, concurrency=args.worker_concurrency) as worker,
        common.celery_beat(env) as beat,
        # INFO: the hub's minute lines of what the changes waited for (inbox.live.hub, 12).
        common.push_server(
            args.push_port,
            env | {"LOG_LEVEL": "INFO"},
            db_threads=args.push_db_threads,
            workers=args.push_workers,
        ) as push,
        proxy_in_front(args, web, push) as proxy,
    ):
        me = psutil.Process().pid
        front, push_front = (proxy.url, proxy.url) if proxy else (web.url, push.url)
        meter = Meter(
            {
                "web (gunicorn)": tree(web),
                "push (uvicorn)": tree(push),
                "nginx (proxy)": tree(proxy) if proxy else list,
                "celery worker": tree(worker),
                "celery beat": tree(beat),
                "sandbox (gunicorn)": tree(sandbox),
                "PostgreSQL backends": database_backends(args.database_url),
                "redis-server": redis_servers,
                "driver (this process)": lambda: [me],
                **({"browsers (Chromium)": browser_tree} if args.browsers else {}),
            }
        )
        load_before = common.load_average()
        machine_before = common.machine_cpu()
        meter.sample()
        tally, wall, ended = asyncio.run(
            crowd(
                args, agents, front, sandbox.url, customers, consumer, meter, push_front, brand_id
            )
        )
        meter.sample()
        machine_busy = common.machine_cpu() - machine_before
        load_after = common.load_average()
        common.log(f"  crowd done after {wall:.0f} s; draining the outbox and the poller")
        drained = wait_for_drain(len(tally.mention_ids), len(tally.client_tokens))
        common.log(f"  drained: {drained}")
        result_checks = checks(tally)
        result_timings = timings()
        web_log = web.log_path.read_text(errors="replace")
        web_errors = web_log.count("Traceback")
        in_gunicorn = server_times(web_log)
        if args.log_dir:  # the processes' logs go with them: keep a copy to read
            folder = Path(args.log_dir)
            folder.mkdir(parents=True, exist_ok=True)
            for name, server in (
                ("web", web),
                ("push", push),
                ("worker", worker),
                ("beat", beat),
                ("sandbox", sandbox),
            ):
                shutil.copy(server.log_path, folder / f"{agents}-{name}.log")
    cpu = meter.cpu()
    web_requests = tally.requests()
    screen = change_to_screen(tally, args.mode, ended)
    browsers = mention_to_browser(tally, first_thread, ended) if args.browsers else None
    claim = stats.percentiles(tally.latency.get("claim next", []))
    invariants = [
        "every mention ingested once",
        "one posted reply per send",
        "every send posted",
        "0 double claims",
    ]
    result = {
        "agents": agents,
        "mode": args.mode,
        "available": args.available,
        "viewers_poll": args.viewers_poll,
        "web": f"{args.web_workers}x{args.web_threads}",
        "push_workers": args.push_workers,
        "poll_seconds": args.poll_seconds,
        "nginx": args.nginx,
        "supervisors": supervisors,
        "wall_s": wall,
        "compression": args.compression,
        "change_to_screen_ms": {k: screen["all"].get(k) for k in ("n", "p50", "p95", "p99", "max")},
        "change_to_screen_detail": screen,
        "claim_next_ms": {k: claim.get(k) for k in ("n", "p50", "p95", "p99")},
        "browsers": browsers,
        "server_cpu_cores": sum(cpu.get(g, 0) for g in SERVER_SIDE) / wall,
        "server_cpu_cores_with_sandbox": sum(
            cpu.get(g, 0) for g in (*SERVER_SIDE, "sandbox (gunicorn)")
        )
        / wall,
        "invariants_ok": all(result_checks[name] for name in invariants),
        "connections": {
            "SSE streams (peak open)": tally.peak_streams,
            "PostgreSQL backends (peak)": meter.peak_processes.get("PostgreSQL backends", 0),
            "Redis clients (peak)": meter.peak_redis_clients,
        },
        "mentions_per_hour": args.mentions_per_hour,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "machine_cpu_share": machine_busy / wall,
        "latency_ms": {name: stats.percentiles(v) for name, v in sorted(tally.latency.items())},
        "counts": dict(tally.counts),
        "errors": dict(tally.errors),
        "claims_per_s": tally.counts["claims"] / wall,
        "requests_per_s": web_requests / wall,  # Twelp's web only, not the sandbox's
        "web_cpu_ms_per_request": 1000 * cpu.get("web (gunicorn)", 0) / max(web_requests, 1),
        "server_cpu_ms_per_request": 1000
        * sum(cpu.get(g, 0) for g in SERVER_SIDE)
        / max(web_requests, 1),
        "loop_lag_ms": stats.percentiles(tally.loop_lag),
        "cpu_share": {name: seconds / wall for name, seconds in cpu.items()},
        "peak_rss_mib": {name: rss / 2**20 for name, rss in meter.peak_rss.items()},
        "peak_private_mib": {name: b / 2**20 for name, b in meter.peak_private.items()},
        "checks": result_checks,
        "timings": result_timings,
        "web_tracebacks": web_errors,
        "in_gunicorn_ms": in_gunicorn,
        "outbox": outbox_states(),
    }
    connections.close_all()
    if not args.keep_database:
        common.drop_database(args.database_url)
    return result


# --- report ---------------------------------------------------------------------------------------


def report(results: list[dict]) -> None:
    print("\n## Change -> on screen (ms: p50 / p95 / max, agent-change pairs)")
    print("| feed | " + " | ".join(_title(r) for r in results) + " |")
    print("|" + "---|" * (len(results) + 1))
    kinds = sorted({k for r in results for k in r["change_to_screen_detail"] if "(" not in k})
    for kind in [k for k in kinds if k != "changes logged"]:
        cells = []
        for r in results:
            s = r["change_to_screen_detail"].get(kind, {"n": 0})
            cells.append(
                f"{s['p50']:.0f} / {s['p95']:.0f} / {s['max']:.0f} ({s['n']:,})" if s["n"] else "-"
            )
        print(f"| {kind} | " + " | ".join(cells) + " |")
    for label in ("missed (feed open 5 s on without it)", "not counted (feed closed within 5 s)"):
        cells = [str(r["change_to_screen_detail"].get(label) or 0) for r in results]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(
        "| changes logged | "
        + " | ".join(f"{r['change_to_screen_detail']['changes logged']:,}" for r in results)
        + " |"
    )
    if any(r.get("browsers") for r in results):
        report_browsers(results)
    print("\n## Open connections (peak)")
    print("| | " + " | ".join(_title(r) for r in results) + " |")
    print("|" + "---|" * (len(results) + 1))
    for label in results[0]["connections"]:
        print(f"| {label} | " + " | ".join(str(r["connections"][label]) for r in results) + " |")
    pages = sorted({name for r in results for name in r["latency_ms"]})
    print("\n## Latency per page (ms, as the driver sees it: p50 / p95 / p99, requests)")
    head = "| page | " + " | ".join(_title(r) for r in results) + " |"
    print(head + "\n|" + "---|" * (len(results) + 1))
    for page in pages:
        cells = []
        for r in results:
            s = r["latency_ms"].get(page, {"n": 0})
            cells.append(
                f"{s['p50']:.0f} / {s['p95']:.0f} / {s['p99']:.0f} ({s['n']:,})" if s["n"] else "-"
            )
        print(f"| {page} | " + " | ".join(cells) + " |")
    print(
        "\n## Where a request's time goes: as the driver saw it vs inside gunicorn's thread"
        " (its access log), ms p50 / p95; the difference is the wait for a thread"
    )
    print("| request | " + " | ".join(_title(r) for r in results) + " |")
    print("|" + "---|" * (len(results) + 1))
    for page in sorted({name for r in results for name in r.get("in_gunicorn_ms", {})}):
        cells = []
        for r in results:
            seen, inside = r["latency_ms"].get(page, {}), r["in_gunicorn_ms"].get(page, {})
            if not seen.get("n") or not inside.get("n"):
                cells.append("-")
                continue
            outside = f"{seen['p50']:.0f} / {seen['p95']:.0f}"
            cells.append(f"{outside} vs {inside['p50']:.0f} / {inside['p95']:.0f}")
        print(f"| {page} | " + " | ".join(cells) + " |")
    print("\n## Throughput and the day")
    rows = [
        ("web requests/s", lambda r: f"{r['requests_per_s']:.1f}"),
        ("claims/s", lambda r: f"{r['claims_per_s']:.2f}"),
        (
            "claims / replies sent / closed",
            lambda r: "{} / {} / {}".format(
                r["counts"].get("claims", 0),
                r["counts"].get("replies sent", 0),
                r["counts"].get("closed", 0),
            ),
        ),
        (
            "live refreshes 204 / 200",
            lambda r: "{} / {}".format(
                r["counts"].get("refresh 204", 0), r["counts"].get("refresh 200 (partial)", 0)
            ),
        ),
        ("mention -> ingested s p50 / p95", lambda r: _two(r["timings"]["mention -> ingested s"])),
        (
            "mention -> first reply s p50 / p95",
            lambda r: _two(r["timings"]["mention -> first reply posted s"]),
        ),
        (
            "threads answered / still waiting",
            lambda r: "{} / {}".format(
                r["timings"]["mention -> first reply posted s"].get("n", 0),
                r["timings"]["threads still waiting at the end"],
            ),
        ),
        ("web CPU ms per request", lambda r: f"{r['web_cpu_ms_per_request']:.1f}"),
        (
            "server CPU, cores (Twelp's processes; with the sandbox)",
            lambda r: f"{r['server_cpu_cores']:.2f} ({r['server_cpu_cores_with_sandbox']:.2f})",
        ),
        (
            "server-side CPU ms per request (web, worker, beat, PG, redis)",
            lambda r: f"{r['server_cpu_ms_per_request']:.1f}",
        ),
        ("driver loop lag ms p50 / p95", lambda r: _two(r["loop_lag_ms"], 0)),
        ("outbox at the end", lambda r: str(r["outbox"])),
        ("errors", lambda r: str(sum(r["errors"].values()))),
        ("machine CPU (all processes, 2 = both cores)", lambda r: f"{r['machine_cpu_share']:.2f}"),
        (
            "load average before -> after",
            lambda r: f"{r['load_average_before']} -> {r['load_average_after']}",
        ),
    ]
    print("| | " + " | ".join(_title(r) for r in results) + " |")
    print("|" + "---|" * (len(results) + 1))
    for label, cell in rows:
        print(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")
    print(
        "\n## CPU (share of one core over the run) and peak memory (RSS, and RSS less shared"
        " pages, MiB) per process group"
    )
    groups = list(results[0]["cpu_share"])
    print("(All processes together are the machine CPU row above; the driver is one of them.)")
    print("| process | " + " | ".join(_title(r) for r in results) + " |")
    print("|" + "---|" * (len(results) + 1))
    for group in groups:
        cells = [
            f"{r['cpu_share'].get(group, 0):.2f} / {r['peak_rss_mib'].get(group, 0):,.0f}"
            f" ({r['peak_private_mib'].get(group, 0):,.0f}) MiB"
            for r in results
        ]
        print(f"| {group} | " + " | ".join(cells) + " |")
    print("\n## Invariants")
    for r in results:
        print(f"- {r['agents']} agents: " + ", ".join(f"{k}: {v}" for k, v in r["checks"].items()))
        if r["errors"]:
            print(f"  errors: {r['errors']}")


def report_browsers(results: list[dict]) -> None:
    print(
        "\n## Real browsers (Chromium) on the queue: new mention -> on the page"
        " (ms: p50 / p95 / max, browser-mention pairs)"
    )
    print("| | " + " | ".join(_title(r) for r in results) + " |")
    print("|" + "---|" * (len(results) + 1))

    def cell(s: dict[str, float]) -> str:
        return f"{s['p50']:.0f} / {s['p95']:.0f} / {s['max']:.0f} ({s['n']:,})" if s["n"] else "-"

    rows = [
        ("pages (errors)", lambda b: f"{b['pages']} ({len(b['errors'])})"),
        ("new mentions (threads created) during the run", lambda b: f"{b['mentions']:,}"),
        ("page applied the state with it", lambda b: cell(b["mention_to_browser_ms"])),
        (
            "its row on the page (when on the first page)",
            lambda b: cell(b["mention_row_to_browser_ms"]),
        ),
        (
            "missed (page open 5 s on without it)",
            lambda b: str(b["missed (page open 5 s on without it)"]),
        ),
    ]
    for label, show in rows:
        cells = [show(r["browsers"]) if r.get("browsers") else "-" for r in results]
        print(f"| {label} | " + " | ".join(cells) + " |")
    for r in results:
        for error in (r.get("browsers") or {}).get("errors", []):
            print(f"- {r['agents']} agents, a browser: {error}")


def _title(r: dict[str, Any]) -> str:
    proxy = ", nginx" if r.get("nginx") else ""
    work = ", Available" if r.get("available") else ""
    head = f"{r['agents']} agents, {r['mode']}{work}, x{r['compression']:g}"
    push = f", push x{r['push_workers']}" if r.get("push_workers", 1) > 1 else ""
    poll = f", poll {r['poll_seconds']:g} s" if r.get("poll_seconds", 15) != 15 else ""
    return f"{head}, web {r['web']}{push}{poll}{proxy}"


def _two(s: dict[str, float], digits: int = 1) -> str:
    return f"{s['p50']:.{digits}f} / {s['p95']:.{digits}f}" if s.get("n") else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--agents", default="50,200,700", help="Comma-separated crowd sizes, one run each."
    )
    parser.add_argument("--minutes", type=float, default=4.0, help="Wall minutes per run.")
    parser.add_argument("--mentions-per-hour", type=int, default=10_000)
    parser.add_argument(
        "--compression", type=float, default=4.0, help="Day minutes per wall minute."
    )
    parser.add_argument(
        "--poll-seconds", type=float, default=15, help="The mentions Source's poll interval."
    )
    parser.add_argument("--web-workers", type=int, default=3, help="As the Dockerfile.")
    parser.add_argument("--web-threads", type=int, default=4, help="As the Dockerfile.")
    parser.add_argument(
        "--mode",
        choices=("push", "poll"),
        default="push",
        help="push: a stream per open tab, the polls it pauses not sent (as twelp.js);"
        " poll: the live parts polled as before the push process.",
    )
    parser.add_argument(
        "--no-viewers-poll",
        dest="viewers_poll",
        action="store_false",
        help="Do not send the pages' #viewers polls (by default sent at each page load, then"
        " every 2 s while the page's stream is not open, as twelp.js; always in poll mode).",
    )
    parser.add_argument(
        "--supervisors-per",
        type=int,
        default=25,
        help="One supervisor per this many agents (at least one; 0: none); each also has"
        " the dashboard open.",
    )
    parser.add_argument("--push-db-threads", type=int, default=4, help="PUSH_DB_THREADS.")
    parser.add_argument(
        "--push-workers",
        type=int,
        default=1,
        help="uvicorn --workers for the push process (each its own hub, as replicas).",
    )
    parser.add_argument(
        "--nginx",
        action="store_true",
        help="Put nginx (deploy/nginx/twelp.conf, as docker-compose's proxy) in front of web"
        " and push; the crowd connects to it only.",
    )
    parser.add_argument(
        "--browsers",
        type=int,
        default=0,
        help="Also open this many real Chromium pages (bench.browsers, a process of their own;"
        " /usr/bin/chromium), each logged in as an extra employee and sitting on the queue,"
        " and report the delay from each new mention to each page showing it (with --nginx).",
    )
    parser.add_argument(
        "--available",
        action="store_true",
        help="Every agent sets themselves Available and works the threads that come to them"
        " (auto-assignment, issue 15: their notification's link), never Claim next.",
    )
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_day"))
    parser.add_argument("--redis-url", default=common.redis_url(7), help="A db it may flush.")
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--log-dir", help="Keep a copy of each process's log here.")
    args = parser.parse_args()
    if args.browsers and not args.nginx:
        # Without nginx the pages would open their stream at another port (an absolute
        # PUSH_URL and CORS): in this run's production settings they never went live.
        parser.error("--browsers needs --nginx (the pages and their streams at one origin)")
    sizes = [int(n) for n in args.agents.split(",") if n.strip()]
    args.web_port, args.sandbox_port = common.free_port(), common.free_port()
    args.push_port, args.proxy_port = common.free_port(), common.free_port()
    env = common.configure(args.database_url, args.redis_url, sandbox_port=args.sandbox_port)
    env["PYTHONUNBUFFERED"] = "1"
    # The posting throttle (issue 22) off (0): a simulated agent answers faster than a
    # person, and the day measures the work, not the guard against hijacked sessions.
    env["THROTTLE_POSTS_PER_MINUTE"] = os.environ["THROTTLE_POSTS_PER_MINUTE"] = "0"
    common.setup_django()
    machine = common.machine()
    common.log(f"machine: {machine}")
    if machine["postgres_autovacuum"] != "on":
        common.log(
            "WARNING: PostgreSQL's autovacuum is off on this server: the day's tables, filled "
            "from empty, are never analyzed, and PostgreSQL plans for empty ones (production "
            "runs it on: `ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();`)"
        )
    results = [run(n, args, env) for n in sizes]
    report(results)
    common.write_json(args.json, {"machine": machine, "args": vars(args), "results": results})
    failed = [
        f"{r['agents']} agents: {name}"
        for r in results
        for name in (
            "every mention ingested once",
            "one posted reply per send",
            "every send posted",
            "0 double claims",
        )
        if not r["checks"][name]
    ]
    if failed:
        raise SystemExit("a check failed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
