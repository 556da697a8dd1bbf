"""The push process's hub: the brands' change logs (inbox.live.version) read once per
process and fanned out to its open streams (inbox.views.push).

1. One reader task per process: a blocking XREAD over the change logs of the brands that
   have a stream open here, each from the position it had when its first stream came, so
   a change logged between a stream's first message and the reader's next read is seen.
2. Changes are coalesced: a brand's views are refreshed at most every COALESCE_SECONDS,
   on the leading edge (a change after a quiet spell is rendered at once; what comes
   meanwhile waits for the rest of the interval, then goes in one refresh). A view
   renders one render at a time, and no view waits for another's: a refresh that asks
   for a view still rendering marks it, and it renders once more when done, at the
   brand's newest change then (`_pace`; at 700 agents the queues had waited for the
   thread pages' and the dashboard's renders of the refresh before). A thread page's
   view is refreshed only when the change touched its thread. A view
   with `every` (the supervisors' dashboard: figures of the whole brand, moved by nearly
   every change, and its dearest render) is rendered at most once per `every` seconds: a
   change within that time of its last render waits for the next, which shows every
   change since (one timer per view, at the brand's newest change id then). Such a view
   is rendered by its own timer, never inside the brand's refresh: the queues and thread
   pages do not wait for the dashboard's render (at 700 agents it took 0.3 to 0.8 s of
   wall time in the busy seconds, and held every refresh of the brand that long).
3. A view (brand, name) is rendered once per refresh for all of its streams here,
   through the shared fragments (inbox.live.fragments: once per version across processes
   and web requests), in a small thread pool (`run`): database connections stay bounded
   (one per thread) however many streams are open. The pool takes the render of the view
   with the most streams first (a queue before a thread page open by one or two).
   Concurrent asks for the same render share one (`_render`).
4. A stream holds only the newest message it has not written, never an older one than it
   wrote (ids compare): a slow client skips states, it never falls behind or goes back.
   Row-level push (inbox.live.patch): with each render the hub keeps the patch from the
   view's previous render, computed once for all streams; a stream that asked for patches
   (`patch=1`, as twelp.js does) and wrote exactly that previous render gets the patch
   (`event: patch`), any other (a new or resumed connection, one that skipped a state,
   or an older page that never asked) the whole part (`event: live`).
5. Every RECHECK_SECONDS one query finds which subscribers are no longer active employees
   and one Redis read finds whose session is gone (logged out): their streams close.
6. Every PING_SECONDS each stream writes a comment, so proxies keep idle streams open; when
   the minute turns the queues and dashboards are refreshed (waiting times and SLA badges
   age) and the thread pages' banner (a budget's window may have reset) as in 10: their
   own parts hold no ageing label.
7. Who views and types (inbox.live.viewers), every VIEWERS_SECONDS: one Redis read per
   brand gives every viewer of its threads, labelled once; each view gets the slice of its
   threads (a thread page: its thread; a queue: the rows of its last render) as one
   `event: viewers` (JSON, no id: it is not a change of the log) when that slice changed,
   the same for all its streams; each page leaves itself out. An open thread page's
   stream is what keeps its employee "viewing" (refreshed every VIEWING_TOUCH_SECONDS,
   dropped when the stream ends), not a poll of the page.
8. Redis unreachable for the reader: every stream here ends. The pages fall back to
   polling the web and open a stream again later (they resume by their last id).
9. Notifications (issue 21, inbox.notifications): a stream opened with `notices=1` gets
   `event: notices` (JSON: the employee's unread count and newest unread one, no id) when
   it opens and whenever a change names its employee (`a<id>` in the change log,
   inbox.live.version), never another's; two queries per flush for all the employees
   named. A change that only notifies refreshes no view. Per employee, not per view: it
   rides on whatever stream the page has (a page with no live part opens a `silent` one).
10. Brand-wide figures (X's budgets, the waiting outbox: a `b` in the change log,
   inbox.live.version) show on every thread page's banner. The thread pages of threads
   the change did not touch are not rendered again: the banner is rendered once for the
   brand and put into each page's previous render (a patch of that part alone, or
   nothing when it shows the same). A page that shows an answer's estimate ("23
   ahead", which moves with the outbox) is rendered whole. The banner moves with every
   answer sent and posted (the posts left, the answers waiting): it is refreshed at most
   every BANNER_SECONDS per brand, on the leading edge, at the brand's newest change then
   (at 700 agents it had been a quarter of all messages). Its patch is the same for every
   page of the same banner: made and encoded once, not once per page.
11. A thread page carries the id of the newest change when it was read (data-push-since,
   read before its thread): its stream resumes from it, and when no change since touched
   its thread (nor "*" or the banner's `b`) the stream sends no first state: the page
   shows it already. The thread's next change comes whole (`event: live`). One stream
   open then costs an XRANGE of the few changes since the page was read, not a render of
   the thread (its SQL and templates), which was most of what the push process did.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import redis
import redis.asyncio as aredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections

from inbox.live import notices, patch, presence, version, viewers

if TYPE_CHECKING:
    from agents.models import Agent

log = logging.getLogger(__name__)
T = TypeVar("T")

COALESCE_SECONDS = 0.25
PING_SECONDS = 15.0
RECHECK_SECONDS = 5.0
BLOCK_MS = 5000
VIEWERS_SECONDS = 1.0
UNTOUCHED_SCAN = 500  # changes read to tell whether a page's thread was touched (11)
VIEWING_TOUCH_SECONDS = 3.0  # a third of settings.VIEWING_SECONDS' default
LAGS_SECONDS = 60.0  # how often what the changes waited for is logged (docstring, 12)
BANNER_SECONDS = 2.0  # a brand's thread pages get their banner alone at most this often (10)
ALL = None  # a change that may have touched any thread
WHOLE, BANNER = "whole", "banner"  # what a refresh asked of a view while it rendered


class Pool:
    """`threads` threads (and so database connections) taking the most urgent job first
    (docstring, 3): a lower `priority` first, then in order of arrival. Started at the
    first job."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.jobs: queue.PriorityQueue[tuple[int, int, Callable[[], Any], Future[Any]]] = (
            queue.PriorityQueue()
        )
        self.order = itertools.count()
        self.started = False
        self.lock = threading.Lock()

    def submit(self, priority: int, fn: Callable[[], T]) -> Future[T]:
        with self.lock:
            if not self.started:
                self.started = True
                for n in range(self.threads):
                    threading.Thread(target=self._work, name=f"push-db-{n}", daemon=True).start()
        future: Future[T] = Future()
        self.jobs.put((priority, next(self.order), fn, future))
        return future

    def _work(self) -> None:
        while True:
            _, _, fn, future = self.jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting task
                future.set_exception(error)


_pool = Pool(settings.PUSH_DB_THREADS) if settings.PUSH_DB_THREADS else None


def _in_pool(fn: Callable[[], T]) -> T:
    close_old_connections()  # as a request does: drop a connection past its age or broken
    try:
        return fn()
    finally:
        close_old_connections()


async def run(fn: Callable[..., T], *args: Any, priority: int = 0) -> T:
    """`fn(*args)` (ORM, templates, the sync cache) in the bounded pool, a lower
    `priority` first (a view's render: minus its number of streams); with PUSH_DB_THREADS
    0 (the tests' in-process client), in Django's own sync thread."""
    if _pool is None:
        return await sync_to_async(fn, thread_sensitive=True)(*args)
    return await asyncio.wrap_future(_pool.submit(priority, partial(_in_pool, partial(fn, *args))))


def parse_id(value: str) -> tuple[int, int] | None:
    """A stream id "<ms>-<seq>" as a comparable pair; None for anything else."""
    ms, dash, seq = value.partition("-")
    if not (dash and ms.isdigit() and seq.isdigit() and len(value) <= 41):
        return None
    return int(ms), int(seq)


class Lags:
    """Samples of what the changes wait for (docstring, 12), in ms, summarised in the log
    every LAGS_SECONDS and then dropped; at most LIMIT samples of each kind a period."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.since = time.monotonic()

    def add(self, kind: str, ms: float) -> None:
        found = self.samples.setdefault(kind, [])
        if len(found) < self.LIMIT:
            found.append(ms)

    def report(self) -> None:
        if time.monotonic() - self.since < LAGS_SECONDS:
            return
        self.since = time.monotonic()
        parts = []
        for kind, values in self.samples.items():
            values.sort()
            n = len(values)
            p50, p95 = values[n // 2], values[min(n - 1, int(n * 0.95))]
            parts.append(f"{kind} n={n} p50={p50:.0f} p95={p95:.0f} max={values[-1]:.0f}")
        self.samples = {}
        if parts:
            log.info("push: ms in the last minute: %s", "; ".join(parts))


def _ms_of(change_id: str) -> float | None:
    """The time (ms since the epoch) Redis logged a change, from its id."""
    found = parse_id(change_id)
    return float(found[0]) if found and found[0] else None


LAGS = Lags()  # this process's (docstring, 12)


@dataclass(frozen=True)
class View:
    """What a stream shows: `name` is unique within the brand (the fragments' cache name);
    `render(agent)` gives its HTML, the CSRF placeholder left in; `thread` limits it to
    the changes of one thread; a `silent` one (a page with no live part) renders nothing
    and carries only the notifications."""

    name: tuple[object, ...]
    render: Callable[[Agent], str]
    thread: int | None = None
    silent: bool = False  # no part of its own: only the notifications (docstring, 9)
    banner: Banner | None = None  # a brand-wide part of a thread page (docstring, 10)
    every: float = 0.0  # seconds between two of its renders under change (docstring, 2)


@dataclass(frozen=True)
class Banner:
    """A part of a view that is the same for every view of the brand with the same `key`
    (docstring, 10): `render(agent)` gives the element whose id is `part`."""

    part: str
    render: Callable[[Agent], str]
    key: tuple[object, ...]


@dataclass(eq=False)
class Render:
    """One render of a view: its whole part and, when it can be, the patch from the
    view's render `base` (a `seq`); each message built once, for every stream. `text`
    None: the whole part is made from `split` when first asked (a banner's render,
    docstring 10, is sent as a patch to nearly every page)."""

    seq: int
    change_id: str
    minute: str
    text: str | None
    split: patch.Split | None
    base: int | None = None
    patch: str | None = None
    made: float = field(default_factory=time.time)
    _live: bytes | None = None
    _patch: bytes | None = None
    _estimate: bool | None = None

    @property
    def html(self) -> str:
        if self.text is None:
            self.text = self.split.html() if self.split is not None else ""
        return self.text

    @property
    def estimate(self) -> bool:
        """Whether it shows an answer's estimate, which moves with the outbox (10)."""
        if self._estimate is None:
            self._estimate = patch.ESTIMATE in self.html
        return self._estimate

    def live_message(self) -> bytes:
        if self._live is None:
            self._live = message("live", self.html, self.change_id).encode()
        return self._live

    def patch_message(self) -> bytes:
        if self._patch is None:
            self._patch = message("patch", self.patch or "", self.change_id).encode()
        return self._patch


_seq = iter(range(1, 2**62))


@dataclass(frozen=True)
class SharedBanner:
    """The brand's banner at one change (docstring, 10): its HTML, the patch that puts it
    in a page, and that patch's message, the same bytes for every page."""

    html: str
    patch: str
    message: bytes


@dataclass(eq=False)
class Stream:
    agent: Agent
    view: View
    token: str  # the connection's CSRF token, filled into each message
    session_key: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    patches: bool = False  # the page applies `event: patch` (docstring, 4)
    pending: Render | None = None
    pending_viewers: bytes | None = None
    notices: bool = False  # the page shows the top bar's notifications (docstring, 9)
    pending_notices: bytes | None = None
    sent: tuple[int, int] = (0, 0)
    applied: int | None = None  # the seq of the render last written
    ping: bool = False
    closed: bool = False

    @property
    def group(self) -> tuple[int, tuple[object, ...]]:
        return (self.agent.brand_id, self.view.name)

    def offer(self, change_id: str, render: Render) -> None:
        at = parse_id(change_id) or (0, 0)
        if at < self.sent or self.closed:
            return
        self.sent = at
        self.pending = render
        self.wake.set()

    def next_message(self, render: Render) -> bytes | None:
        """What to write for `render`: its patch if this page has exactly its base, else
        the whole part; None for a patching page that has it already."""
        if not self.patches:
            out = render.live_message()
        elif render.seq == self.applied:
            return None
        elif render.patch is not None and render.base == self.applied:
            out = render.patch_message()
        else:
            out = render.live_message()
        self.applied = render.seq
        return out

    def offer_viewers(self, out: bytes) -> None:
        """Who views and types on this view's threads (docstring, 7): the newest only;
        `out` is the `viewers` message, built once for all the view's streams."""
        if not self.closed:
            self.pending_viewers = out
            self.wake.set()

    def offer_notices(self, data: str) -> None:
        """The employee's unread notifications (docstring, 9): the newest only."""
        if not self.closed:
            self.pending_notices = message("notices", data).encode()
            self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()

    async def messages(self):
        """What the connection writes: the newest message, pings, until closed. What one
        wake finds waiting is written at once (one chunk, one write to the socket); the
        messages are bytes, built once for every stream of the view where they can be."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.closed:
                return
            out: list[bytes] = []
            if self.pending is not None:
                render, self.pending = self.pending, None
                found = self.next_message(render)
                if found is not None:
                    out.append(found)
                    now = time.time()
                    LAGS.add("render to write", (now - render.made) * 1000)
                    if (at := _ms_of(render.change_id)) is not None:
                        LAGS.add("change to write", now * 1000 - at)
            if self.pending_viewers is not None:
                out.append(self.pending_viewers)
                self.pending_viewers = None
            if self.pending_notices is not None:
                out.append(self.pending_notices)
                self.pending_notices = None
            if self.ping:
                self.ping = False
                out.append(b": ping\n\n")
            if out:
                yield out[0] if len(out) == 1 else b"".join(out)


def message(event: str, data: str, change_id: str | None = None) -> str:
    lines = [f"event: {event}"]
    if change_id is not None:
        lines.append(f"id: {change_id}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


class Hub:
    def __init__(self) -> None:
        self.groups: dict[tuple[int, tuple[object, ...]], set[Stream]] = {}
        self.views: dict[tuple[int, tuple[object, ...]], View] = {}
        self.positions: dict[int, str] = {}  # brand -> last change id read
        self.dirty: dict[int, set[int] | None] = {}
        self.noticed: dict[int, set[int]] = {}  # brand -> employees notified (docstring, 9)
        self.banners: set[int] = set()  # brands whose thread pages' banner moved (10)
        self.flushing: set[int] = set()
        self.dirty_since: dict[int, float] = {}  # brand -> its oldest unrefreshed change (ms)
        self.rendered: dict[tuple[int, tuple[object, ...]], Render] = {}
        self.renders: dict[tuple[object, ...], asyncio.Future[Render]] = {}
        self.rows: dict[tuple[int, tuple[object, ...]], frozenset[int]] = {}  # a queue's
        self.shown_viewers: dict[tuple[int, tuple[object, ...]], str] = {}
        # Views with `every` (docstring, 2): when each was last rendered (monotonic), those
        # whose next render is waiting for its time, those rendering now, and those of
        # these that a change reached during their render (rendered again after it).
        self.rendered_at: dict[tuple[int, tuple[object, ...]], float] = {}
        self.deferred: set[tuple[int, tuple[object, ...]]] = set()
        self.pacing: set[tuple[int, tuple[object, ...]]] = set()
        # Views rendering now, and whether a refresh asked for them meanwhile (`_pace`).
        self.busy: dict[tuple[int, tuple[object, ...]], str | None] = {}
        self.again: set[tuple[int, tuple[object, ...]]] = set()
        # The banner alone (docstring, 10): when each brand's was last offered (monotonic),
        # and the brands whose next one waits for its time.
        self.banner_at: dict[int, float] = {}
        self.banner_due: set[int] = set()
        self.tasks: list[asyncio.Task[None]] = []
        self.tasks_in_flight: set[asyncio.Future[None]] = set()
        self.watch = asyncio.Event()
        self._redis: aredis.Redis | None = None

    # --- Redis -------------------------------------------------------------------------

    @property
    def redis(self) -> aredis.Redis:
        if self._redis is None:
            url = settings.CACHES["default"]["LOCATION"]
            timeout = BLOCK_MS / 1000 + 10
            self._redis = aredis.Redis.from_url(url, socket_timeout=timeout)
        return self._redis

    async def newest(self, brand_id: int) -> str:
        """The brand's newest change id, "0-0" while its log is empty."""
        found = await self.redis.xrevrange(version.changes_key(brand_id), count=1)
        return found[0][0].decode() if found else "0-0"

    async def resumable(self, brand_id: int, last_id: str) -> bool:
        """Whether `last_id` is a change still in the brand's log (or "0-0" of an empty
        one): a garbage, forged, future or trimmed id is not."""
        at = parse_id(last_id)
        if at is None:
            return False
        key = version.changes_key(brand_id)
        if at == (0, 0):
            return await self.redis.xlen(key) == 0
        return bool(await self.redis.xrange(key, min=last_id, max=last_id, count=1))

    # --- streams -------------------------------------------------------------------------

    async def subscribe(self, stream: Stream, since: str | None = None) -> str:
        """Adds the stream; its view's current state (with the newest change id) is offered
        to it, unless it is a thread page that shows it already: `since`, the change id the
        page resumes from, and no change after it touched its thread (docstring, 11). The
        newest change id."""
        brand_id = stream.agent.brand_id
        self.groups.setdefault(stream.group, set()).add(stream)
        self.views.setdefault(stream.group, stream.view)
        if brand_id not in self.positions:
            self.positions[brand_id] = await self.newest(brand_id)
            self.watch.set()
        self._start()
        change_id = self.positions[brand_id]
        # A silent view has nothing to show; a thread page may show its state already.
        shown = stream.view.silent or (
            bool(since) and stream.view.thread is not None and await self.untouched(stream, since)
        )
        if not shown:
            render = await self.html(stream.group, stream.agent, change_id)
            stream.offer(change_id, render)
        if stream.notices:
            found = await run(_notices, {stream.agent.id})
            stream.offer_notices(found[stream.agent.id])
        if stream.group in self.shown_viewers:
            stream.offer_viewers(message("viewers", self.shown_viewers[stream.group]).encode())
        if stream.view.thread is not None:
            self._background(viewers.touch_many, [_viewing(stream)])
        return change_id

    async def untouched(self, stream: Stream, since: str) -> bool:
        """Whether no change after `since` (a change id still in the log) touched the
        stream's thread or every thread page's banner, nor may have touched any thread; a
        page further behind than UNTOUCHED_SCAN changes is taken as touched."""
        key = version.changes_key(stream.agent.brand_id)
        found = await self.redis.xrange(key, min=f"({since}", count=UNTOUCHED_SCAN)
        if len(found) >= UNTOUCHED_SCAN:
            return False
        mine = str(stream.view.thread).encode()
        for _, fields in found:
            items = fields.get(b"t", b"*").split(b",")
            if mine in items or b"*" in items or b"b" in items:
                return False
        return True

    def unsubscribe(self, stream: Stream) -> None:
        streams = self.groups.get(stream.group)
        if streams is None:
            return
        streams.discard(stream)
        if stream.view.thread is not None and not any(
            other.agent.id == stream.agent.id for other in streams
        ):
            agent = stream.agent
            self._background(viewers.leave, agent.brand_id, stream.view.thread, agent.id)
        if not streams:
            del self.groups[stream.group]
            self.views.pop(stream.group, None)
            self.rendered.pop(stream.group, None)
            self.rows.pop(stream.group, None)
            self.shown_viewers.pop(stream.group, None)
            self.rendered_at.pop(stream.group, None)
            brand_id = stream.agent.brand_id
            if not any(group[0] == brand_id for group in self.groups):
                self.positions.pop(brand_id, None)

    async def html(
        self, group: tuple[int, tuple[object, ...]], agent: Agent, change_id: str
    ) -> Render:
        """The view at `change_id` (or newer), rendered once for every stream here, with
        its patch from the view's previous render (docstring, 4)."""
        minute = time.strftime("%H%M")
        found = self.rendered.get(group)
        if found and found.change_id == change_id and found.minute == minute:
            return found
        view = self.views.get(group)
        if view is None:
            return Render(next(_seq), change_id, minute, "", None)
        return await self._render(group, view, agent, (group, change_id, minute))

    async def _render(
        self, group: tuple[int, tuple[object, ...]], view: View, agent: Agent, key: tuple
    ) -> Render:
        future = self.renders.get(key)
        if future is None:
            future = asyncio.ensure_future(self._render_once(group, view, agent, key))
            self.renders[key] = future
            future.add_done_callback(lambda _: self.renders.pop(key, None))
        return await asyncio.shield(future)

    async def _render_once(
        self, group: tuple[int, tuple[object, ...]], view: View, agent: Agent, key: tuple
    ) -> Render:
        _, change_id, minute = key
        if view.every:
            self.rendered_at[group] = time.monotonic()
        before = self.rendered.get(group)
        base = before.split if before is not None else None
        began = time.time()
        urgency = -len(self.groups.get(group, ()))  # the view of most streams first
        html, split, found, took = await run(_render_split, view, agent, base, priority=urgency)
        LAGS.add("render awaited", (time.time() - began) * 1000)
        LAGS.add(f"render in the pool: {_kind(view)}", took)
        render = Render(next(_seq), change_id, minute, html, split)
        if before is not None and found is not None:
            render.base, render.patch = before.seq, found
        if group in self.groups:
            self.rendered[group] = render
            if view.thread is None:
                self.rows[group] = frozenset(int(t) for t in _ROW.findall(html))
        return render

    def _background(self, fn: Callable[..., object], *args: Any) -> None:
        """`fn(*args)` in the pool, not waited for; a failure is logged (Redis down)."""

        async def go() -> None:
            try:
                await run(fn, *args)
            except Exception as error:
                log.warning("push: %s failed (%s)", getattr(fn, "__name__", fn), error)

        task = asyncio.ensure_future(go())
        self.tasks_in_flight.add(task)
        task.add_done_callback(self.tasks_in_flight.discard)

    # --- the background tasks --------------------------------------------------------------

    def _start(self) -> None:
        if not self.tasks:
            self.tasks = [
                asyncio.create_task(self._read(), name="push-reader"),
                asyncio.create_task(self._tick(), name="push-ticker"),
            ]

    async def _read(self) -> None:
        reader: aredis.Redis | None = None
        while True:
            if not self.positions:
                self.watch.clear()
                await self.watch.wait()
            keys = {version.changes_key(b): b for b in self.positions}
            try:
                reader = reader or self.redis.client()
                found = await reader.xread(
                    {key: self.positions[brand] for key, brand in keys.items()},
                    block=BLOCK_MS,
                )
            except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                log.warning("push: reading the change logs failed (%s); streams end", error)
                reader = None
                self.close_all()  # docstring, 8
                await asyncio.sleep(1)
                continue
            for key, entries in found:
                brand = keys.get(key.decode())
                if brand is None or brand not in self.positions or not entries:
                    continue
                self.positions[brand] = entries[-1][0].decode()
                now = time.time() * 1000
                for entry_id, _ in entries:
                    if (at := _ms_of(entry_id.decode())) is not None:
                        LAGS.add("change to reader", now - at)
                self._mark(brand, entries)

    def _mark(self, brand_id: int, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        touched = self.dirty.get(brand_id, set())
        views = brand_id in self.dirty
        for _, fields in entries:
            items = fields.get(b"t", b"*").decode().split(",")
            agents = {int(i[1:]) for i in items if i[:1] == "a" and i[1:].isdigit()}
            banner = "b" in items  # docstring, 10
            threads = [i for i in items if i[:1] != "a" and i != "b"]
            if agents:  # docstring, 9
                self.noticed.setdefault(brand_id, set()).update(agents)
                if not threads and not banner:
                    continue  # a notification alone changes no view
            views = True
            if banner:
                self.banners.add(brand_id)
            if touched is ALL or "*" in threads:
                touched = ALL
            else:
                touched.update(int(t) for t in threads if t.isdigit())
        if views:
            self.dirty[brand_id] = touched
            if brand_id not in self.dirty_since:
                self.dirty_since[brand_id] = _ms_of(entries[0][0].decode()) or time.time() * 1000
        if brand_id not in self.flushing and (views or brand_id in self.noticed):
            self.flushing.add(brand_id)
            asyncio.create_task(self._flush(brand_id))

    async def _flush(self, brand_id: int) -> None:
        """Refreshes the brand's views touched by its changes, at most every COALESCE;
        tells the employees who were notified (docstring, 9)."""
        loop = asyncio.get_running_loop()
        try:
            while brand_id in self.dirty or brand_id in self.noticed:
                started = loop.time()
                agents = self.noticed.pop(brand_id, None)
                if agents:
                    self._spawn(self.notify(agents))
                if brand_id in self.dirty:
                    touched = self.dirty.pop(brand_id)
                    since = self.dirty_since.pop(brand_id, None)
                    if since is not None:
                        LAGS.add("change to refresh", time.time() * 1000 - since)
                    banner = brand_id in self.banners
                    self.banners.discard(brand_id)
                    # Not waited for: a view's render holds only that view (`_pace`).
                    self._spawn(self.refresh(brand_id, touched, banner=banner))
                # What came meanwhile waits for the rest of the interval (docstring, 2).
                await asyncio.sleep(max(0.0, COALESCE_SECONDS - (loop.time() - started)))
        finally:
            self.flushing.discard(brand_id)

    async def notify(self, agent_ids: set[int]) -> None:
        """Each listening stream of these employees gets their unread count (two queries)."""
        streams = [
            stream
            for group in list(self.groups.values())
            for stream in group
            if stream.notices and stream.agent.id in agent_ids
        ]
        if not streams:
            return
        try:
            found = await run(_notices, {stream.agent.id for stream in streams})
        except Exception as error:
            log.warning("push: reading notifications failed (%s)", error)
            return
        for stream in streams:
            stream.offer_notices(found[stream.agent.id])

    async def refresh(
        self, brand_id: int, touched: set[int] | None, *, banner: bool = False
    ) -> None:
        """The brand's views the changes touched, rendered and offered to their streams;
        with `banner`, the other thread pages get their banner alone (docstring, 10)."""
        change_id = self.positions.get(brand_id)
        if change_id is None:
            return
        whole, banners = [], []
        for group, streams in list(self.groups.items()):
            view = self.views[group]
            if group[0] != brand_id or not streams or view.silent:
                continue
            if touched is ALL or view.thread in (None, *touched):
                if not self._defer(group, view):
                    whole.append((group, streams))
            elif banner and view.banner is not None:
                banners.append((group, streams))
        if banners and not self._banner_now(brand_id):
            banners = []  # its timer offers them the newest banner (docstring, 10)
        began = time.monotonic()
        await asyncio.gather(
            *(self._pace(g, change_id) for g, _ in whole),
            *(self._pace(g, change_id, banner_only=True) for g, _ in banners),
        )
        LAGS.add("refresh", (time.monotonic() - began) * 1000)

    def _banner_now(self, brand_id: int) -> bool:
        """True when the brand's thread pages may get their banner alone now (docstring,
        10); else a timer refreshes them once BANNER_SECONDS have passed since the last."""
        now = time.monotonic()
        wait = self.banner_at.get(brand_id, float("-inf")) + BANNER_SECONDS - now
        if wait <= 0:
            self.banner_at[brand_id] = now
            return True
        if brand_id not in self.banner_due:
            self.banner_due.add(brand_id)

            def due() -> None:
                self.banner_due.discard(brand_id)
                self._spawn(self.refresh(brand_id, set(), banner=True))

            asyncio.get_running_loop().call_later(wait, due)
        return False

    async def _pace(
        self, group: tuple[int, tuple[object, ...]], change_id: str, *, banner_only: bool = False
    ) -> None:
        """The view (or its banner) offered at `change_id`, one render of a view at a time
        (docstring, 2): asked while it renders, it is marked and rendered once more after,
        at the brand's newest change then (the whole view if any ask was for it)."""
        if group in self.busy:
            self.busy[group] = BANNER if banner_only and self.busy[group] != WHOLE else WHOLE
            return
        self.busy[group] = None
        try:
            while True:
                streams = self.groups.get(group)
                if streams is None:
                    return
                await self._offer(group, streams, change_id, banner_only=banner_only)
                asked = self.busy.get(group)
                change_id = self.positions.get(group[0]) or change_id
                if asked is None:
                    return
                banner_only, self.busy[group] = asked == BANNER, None
        finally:
            self.busy.pop(group, None)

    def _spawn(self, work: Any) -> None:
        """`work` (a coroutine) in a task of its own; an error is logged, never fatal."""

        async def go() -> None:
            try:
                await work
            except Exception:  # a bug must not end the brand's flushes
                log.exception("push: a refresh failed")

        task = asyncio.ensure_future(go())
        self.tasks_in_flight.add(task)
        task.add_done_callback(self.tasks_in_flight.discard)

    async def _offer(
        self,
        group: tuple[int, tuple[object, ...]],
        streams: set[Stream],
        change_id: str,
        *,
        banner_only: bool = False,
    ) -> None:
        """The view (or its banner) at `change_id`, offered to its streams. They may all
        have closed since the refresh picked the view (the set is the group's own, emptied
        by `unsubscribe` while an earlier offer was rendering): then there is nothing to do."""
        current = list(streams)
        if not current:
            return
        agent = current[0].agent
        try:
            if banner_only:
                render = await self._banner_render(group, agent, change_id)
            else:
                render = await self.html(group, agent, change_id)
        except Exception:
            log.exception("push: rendering %s failed", group)
            return
        if render is None:
            return  # the banner shows the same: nothing to send
        for stream in current:
            stream.offer(change_id, render)

    def _defer(self, group: tuple[int, tuple[object, ...]], view: View) -> bool:
        """True for a view with `every` (docstring, 2): its own timer renders it, at once
        or `every` seconds after its last render (one timer per view; a change during its
        render renders it again after)."""
        if not view.every:
            return False
        if group in self.deferred:
            return True  # the timer's render reads the newest change when it starts
        if group in self.pacing:
            self.again.add(group)
            return True
        wait = self.rendered_at.get(group, float("-inf")) + view.every - time.monotonic()
        self.deferred.add(group)

        def due() -> None:
            task = asyncio.ensure_future(self._deferred(group))
            self.tasks_in_flight.add(task)
            task.add_done_callback(self.tasks_in_flight.discard)

        asyncio.get_running_loop().call_later(max(0.0, wait), due)
        return True

    async def _deferred(self, group: tuple[int, tuple[object, ...]]) -> None:
        """A paced view's render, at its brand's newest change id now; again after it
        when a change came meanwhile."""
        self.deferred.discard(group)
        self.again.discard(group)
        self.pacing.add(group)
        try:
            streams = self.groups.get(group)
            change_id = self.positions.get(group[0])
            if streams and change_id is not None:
                await self._offer(group, streams, change_id)
        finally:
            self.pacing.discard(group)
            view = self.views.get(group)
            if group in self.again and view is not None:
                self.again.discard(group)
                self._defer(group, view)

    async def _banner_render(
        self, group: tuple[int, tuple[object, ...]], agent: Agent, change_id: str
    ) -> Render | None:
        """The view's previous render with its banner part replaced by the brand's current
        one (rendered once for all thread pages, `_shared_banner`); the whole view again
        when it has no such previous render, or shows an answer's estimate (its "N ahead"
        moves with the outbox); None when the banner did not change (docstring, 10)."""
        view = self.views[group]
        before = self.rendered.get(group)
        part = view.banner.part if view.banner else ""
        if (
            before is None
            or before.split is None
            or part not in before.split.parts
            or before.estimate
        ):
            return await self.html(group, agent, change_id)
        banner = await self._shared_banner(group[0], view, agent, change_id)
        if patch.same(before.split.parts[part], banner.html):
            return None
        # The page's whole part is made from its pieces only if a stream needs it whole.
        split = patch.with_part(before.split, part, banner.html)
        render = Render(next(_seq), change_id, time.strftime("%H%M"), None, split)
        render._estimate = False  # as `before`: the banner holds no estimate
        if len(banner.patch) < split.size:  # as patch.diff: a patch smaller than the whole
            render.base, render.patch, render._patch = before.seq, banner.patch, banner.message
        if group in self.groups:
            self.rendered[group] = render
        return render

    async def _shared_banner(
        self, brand_id: int, view: View, agent: Agent, change_id: str
    ) -> SharedBanner:
        """The banner of the brand's thread pages at `change_id`, and its patch: one render
        and one message for all those whose banner has the same key (so the same language)."""
        key = ("banner", brand_id, change_id, *view.banner.key)
        future = self.renders.get(key)
        if future is None:
            part = view.banner.part

            async def made() -> SharedBanner:
                html = await run(view.banner.render, agent)
                text = patch.part_patch(part, html)
                return SharedBanner(html, text, message("patch", text, change_id).encode())

            future = asyncio.ensure_future(made())
            self.renders[key] = future
            future.add_done_callback(lambda _: self.renders.pop(key, None))
        return await asyncio.shield(future)

    def close_all(self) -> None:
        for streams in list(self.groups.values()):
            for stream in list(streams):
                stream.close()

    async def _tick(self) -> None:
        last_ping = last_check = last_touch = time.monotonic()
        minute = time.strftime("%H%M")
        while True:
            asleep = time.monotonic()
            await asyncio.sleep(VIEWERS_SECONDS)
            now = time.monotonic()
            LAGS.add("loop lag", (now - asleep - VIEWERS_SECONDS) * 1000)
            LAGS.report()
            touch = now - last_touch >= VIEWING_TOUCH_SECONDS
            last_touch = now if touch else last_touch
            try:
                await self.push_viewers(touch=touch)
            except Exception as error:
                log.warning("push: reading who views failed (%s)", error)
            if now - last_ping >= PING_SECONDS:
                last_ping = now
                for streams in list(self.groups.values()):
                    for stream in streams:
                        stream.ping = True
                        stream.wake.set()
            if time.strftime("%H%M") != minute:
                minute = time.strftime("%H%M")
                for brand_id in list(self.positions):  # docstring, 6
                    asyncio.create_task(self.refresh(brand_id, set(), banner=True))
            if now - last_check >= RECHECK_SECONDS:
                last_check = now
                try:
                    await self.recheck()
                except Exception:
                    log.exception("push: re-checking the subscribers failed")

    async def push_viewers(self, *, touch: bool) -> None:
        """Who views and types, to every view here whose slice changed (docstring, 7); with
        `touch`, first keeps the open thread pages' employees viewing."""
        groups = {group: streams for group, streams in list(self.groups.items()) if streams}
        if not groups:
            return
        viewing = [
            _viewing(stream)
            for streams in groups.values()
            for stream in streams
            if stream.view.thread is not None
        ]
        brands = {brand_id for brand_id, _ in groups}
        found = await run(_read_viewers, brands, viewing if touch else [])
        for group, streams in groups.items():
            view = self.views.get(group)
            if view is None:
                continue
            threads = (view.thread,) if view.thread is not None else self.rows.get(group)
            if not threads:
                continue
            data = _viewers_json(found.get(group[0], {}), threads)
            if self.shown_viewers.get(group) == data:
                continue
            self.shown_viewers[group] = data
            out = message("viewers", data).encode()  # once for all of the view's streams
            for stream in list(streams):
                stream.offer_viewers(out)

    async def recheck(self) -> None:
        """Closes the streams of employees no longer active or logged out (docstring, 5);
        an open stream counts as the employee being online (inbox.live.presence)."""
        streams = [s for group in list(self.groups.values()) for s in group]
        if not streams:
            return
        active, sessions = await run(_still_allowed, streams)
        for stream in streams:
            if stream.agent.id not in active or stream.session_key not in sessions:
                stream.close()


_ROW = re.compile(r'data-thread-id="(\d+)"')


def _render_split(
    view: View, agent: Agent, before: patch.Split | None
) -> tuple[str, patch.Split | None, str | None, float]:
    """The view's part, its pieces, the patch from `before` (inbox.live.patch) and the ms
    it took, in the pool: once per render of a view, whatever number of streams it has."""
    began = time.perf_counter()
    html = view.render(agent)
    split = patch.split(html)
    return html, split, patch.diff(before, split), (time.perf_counter() - began) * 1000


def _kind(view: View) -> str:
    """ "queue", "dashboard", "thread": the first word of the view's name after its language."""
    return next((part for part in view.name if part in ("queue", "dashboard", "thread")), "other")


def _viewing(stream: Stream) -> tuple[int, int, int, str]:
    agent = stream.agent
    return (agent.brand_id, stream.view.thread or 0, agent.id, agent.name)


def _read_viewers(
    brands: set[int], viewing: list[tuple[int, int, int, str]]
) -> dict[int, dict[int, list[viewers.Viewer]]]:
    """Refreshes the open thread pages' entries, then reads each brand's viewers."""
    if viewing:
        viewers.touch_many(viewing)
    return {brand_id: viewers.of_brand(brand_id) for brand_id in brands}


def _viewers_json(found: dict[int, list[viewers.Viewer]], threads) -> str:
    """{thread id: [[agent id, label, typing], ...]} for `threads`, keys sorted so that an
    unchanged slice is the same string."""
    out = {
        str(thread): [[v.agent_id, v.label, int(v.typing)] for v in found[thread]]
        for thread in sorted(threads)
        if thread in found
    }
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def _still_allowed(streams: list[Stream]) -> tuple[set[int], set[str]]:
    """The subscribers that are still active employees (one query), and the session keys
    that still exist (one Redis read); marks the active ones online."""
    from django.contrib.sessions.backends.cache import KEY_PREFIX

    from agents.models import Agent, AgentState

    agent_ids = {s.agent.id for s in streams}
    active = set(
        Agent.objects.filter(
            id__in=agent_ids, state=AgentState.ACTIVE, user__is_active=True
        ).values_list("id", flat=True)
    )
    keys = {KEY_PREFIX + s.session_key: s.session_key for s in streams}
    found = cache.get_many(list(keys))
    seen = {(s.agent.brand_id, s.agent.id) for s in streams if s.agent.id in active}
    for brand_id, agent_id in seen:
        presence.seen(brand_id, agent_id)
    return active, {keys[key] for key in found}


def _notices(agent_ids: set[int]) -> dict[int, str]:
    return notices.badges(agent_ids)


_hubs: dict[int, Hub] = {}


def hub() -> Hub:
    """This process's hub (one per event loop: the tests run several)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(id(loop))
    if found is None:
        found = _hubs[id(loop)] = Hub()
    return found
