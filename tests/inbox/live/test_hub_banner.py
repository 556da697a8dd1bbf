"""The push hub's brand-wide banner (inbox.live.hub, docstring 10), in process: a change
of X's budgets or the waiting outbox sends the open thread pages of other threads their
banner alone, rendered once for the brand; the thread's own parts are not rendered again,
except on a page that shows an answer's estimate; at most every BANNER_SECONDS a brand."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from inbox.live import hub as live_hub
from inbox.live.hub import ALL, Banner, Hub, Stream, View

BRAND = 7
STATUS = '<p id="thread-status" data-part>Open</p>'
# A conversation as long as a real one: a patch is sent only when smaller than the whole.
TALK = '<ol id="talk" data-part>' + "<li>Where is my order #4411?</li>" * 40 + "</ol>"
ESTIMATE = (
    '<ol id="conversation" data-part><li><span class="estimate">goes out now</span></li></ol>'
)


class Page:
    """A thread view whose render and banner count their calls."""

    def __init__(self, thread: int) -> None:
        self.body = STATUS
        self.banner = '<div id="outbox-banner" data-part>100 left</div>'
        self.renders = self.banners = 0
        self.view = View(
            ("thread", thread),
            self.render,
            thread=thread,
            banner=Banner("outbox-banner", self.bar, ("thread-banner",)),
        )

    def render(self, agent: object) -> str:
        self.renders += 1
        return f"{self.body}\n{TALK}\n{self.banner}"

    def bar(self, agent: object) -> str:
        self.banners += 1
        return self.banner


def _open(hub: Hub, page: Page) -> Stream:
    agent = SimpleNamespace(id=1, brand_id=BRAND, name="Alice")
    stream = Stream(agent, page.view, token="t", session_key="s", patches=True)  # type: ignore[arg-type]
    group = (BRAND, page.view.name)
    hub.groups.setdefault(group, set()).add(stream)
    hub.views[group] = page.view
    return stream


def _written(stream: Stream) -> dict | None:
    """What the stream would write next (the patch as JSON, or the whole part)."""
    if stream.pending is None:
        return None
    render, stream.pending = stream.pending, None
    found = stream.next_message(render)
    if found is None:
        return None
    out = found.decode()
    kind = out.split("\n", 1)[0].removeprefix("event: ")
    data = "\n".join(line[6:] for line in out.splitlines() if line.startswith("data: "))
    return {"event": kind, "data": json.loads(data) if kind == "patch" else data}


def _run(scenario) -> None:
    """The scenario on an event loop of its own thread: a browser test's Playwright may
    hold this thread's loop for the session."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(scenario())).result()


async def _showing(hub: Hub, page: Page) -> Stream:
    """A stream of `page` that has written its first state, at change 1-0."""
    stream = _open(hub, page)
    hub.positions[BRAND] = "1-0"
    await hub.refresh(BRAND, ALL)
    _written(stream)
    return stream


async def _banner_moves(hub: Hub, page: Page, left: int, change_id: str) -> None:
    """The brand's banner shows `left` posts left from change `change_id` on."""
    page.banner = f'<div id="outbox-banner" data-part>{left} left</div>'
    hub.positions[BRAND] = change_id
    await hub.refresh(BRAND, set(), banner=True)


def test_a_brand_wide_change_sends_other_thread_pages_their_banner_alone(monkeypatch):
    monkeypatch.setattr(live_hub, "BANNER_SECONDS", 0.0)  # every banner change at once here

    async def scenario() -> None:
        hub = Hub()
        one, two = Page(1), Page(2)
        streams = [_open(hub, one), _open(hub, two)]
        hub.positions[BRAND] = "1-0"
        await hub.refresh(BRAND, ALL)
        assert [_written(s)["event"] for s in streams] == ["live", "live"]
        assert (one.renders, two.renders) == (1, 1)

        for page in (one, two):
            page.banner = '<div id="outbox-banner" data-part>99 left</div>'
        hub.positions[BRAND] = "2-0"
        await hub.refresh(BRAND, set(), banner=True)
        messages = [stream.pending.patch_message() for stream in streams]
        assert messages[0] is messages[1]  # one message for every page of the banner
        for stream in streams:
            found = _written(stream)
            assert found["event"] == "patch"
            assert found["data"]["parts"] == {"outbox-banner": one.banner}
        assert (one.renders, two.renders) == (1, 1)  # the threads' parts not rendered again
        assert one.banners + two.banners == 1  # one banner render for the brand

        # The same banner again: nothing is sent, nothing rendered but the banner.
        hub.positions[BRAND] = "3-0"
        await hub.refresh(BRAND, set(), banner=True)
        assert [_written(s) for s in streams] == [None, None]
        assert (one.renders, two.renders) == (1, 1)

        # A change of no thread and no banner (an agent went Available) touches no page.
        hub.positions[BRAND] = "4-0"
        await hub.refresh(BRAND, set())
        assert [_written(s) for s in streams] == [None, None]

        # Thread 1's own change renders thread 1 alone, whole.
        one.body = STATUS.replace("Open", "Claimed by Bob")
        hub.positions[BRAND] = "5-0"
        await hub.refresh(BRAND, {1})
        assert _written(streams[0])["data"]["parts"] == {"thread-status": one.body}
        assert _written(streams[1]) is None
        assert (one.renders, two.renders) == (2, 1)

    _run(scenario)


def test_a_patched_page_is_whole_again_for_a_stream_that_needs_it(monkeypatch):
    monkeypatch.setattr(live_hub, "BANNER_SECONDS", 0.0)

    async def scenario() -> None:
        hub, page = Hub(), Page(1)
        stream = await _showing(hub, page)
        await _banner_moves(hub, page, 98, "2-0")
        earlier = stream.pending
        await _banner_moves(hub, page, 97, "3-0")
        assert earlier.text is None  # its whole part never made: no stream needed it
        render = stream.pending
        assert render.html == page.render(None)  # what a fresh render shows
        stream.applied = None  # a stream that did not write the previous state
        assert _written(stream) == {"event": "live", "data": page.render(None)}

    _run(scenario)


def test_the_banner_alone_comes_at_most_every_banner_seconds_with_the_newest_figures(monkeypatch):
    monkeypatch.setattr(live_hub, "BANNER_SECONDS", 0.3)

    async def scenario() -> None:
        hub, page = Hub(), Page(1)
        stream = await _showing(hub, page)
        await _banner_moves(hub, page, 99, "2-0")  # the first: at once
        assert _written(stream)["data"]["parts"] == {"outbox-banner": page.banner}
        began = time.monotonic()

        for left, change_id in ((98, "3-0"), (97, "4-0")):  # two more within the interval
            await _banner_moves(hub, page, left, change_id)
        assert _written(stream) is None  # waiting for its time
        while stream.pending is None:
            assert time.monotonic() - began < 10, "the paced banner never came"
            await asyncio.sleep(0.02)
        assert time.monotonic() - began >= 0.3 - 0.01
        assert stream.pending.change_id == "4-0"  # one message, at the newest change
        assert _written(stream)["data"]["parts"] == {"outbox-banner": page.banner}
        assert page.banners == 2  # the one in between was never rendered

    _run(scenario)


def test_a_page_showing_an_estimate_is_rendered_whole_on_a_brand_wide_change():
    async def scenario() -> None:
        hub, page = Hub(), Page(1)
        page.body = f"{STATUS}\n{ESTIMATE}"
        stream = await _showing(hub, page)

        page.body = page.body.replace("goes out now", "goes out about 14:05 UTC, 3 ahead")
        hub.positions[BRAND] = "2-0"
        await hub.refresh(BRAND, set(), banner=True)
        found = _written(stream)
        assert page.renders == 2
        assert found["event"] == "patch" and list(found["data"]["parts"]) == ["conversation"]

    _run(scenario)
