"""The push hub's slow views (inbox.live.hub, docstring 2), in process: the supervisors'
dashboard is rendered at most once per its `every` under a burst of changes, and the
render that ends the wait shows the newest change; other views (the queue) are rendered
at every refresh as before, and never wait for the dashboard's render."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

from inbox.live import hub as hub_module
from inbox.live.hub import ALL, Hub, Stream, View
from inbox.views import supervision
from tests.inbox.live.test_hub_banner import BRAND, _run


class Counted:
    def __init__(self, name: str, every: float = 0.0) -> None:
        self.renders = 0
        self.view = View((name,), self.render, every=every)

    def render(self, agent: object) -> str:
        self.renders += 1
        return f'<div id="live" data-part>render {self.renders}</div>'


class Slow(Counted):
    """A render that says it `started`, then waits for `release` (at most 10 s)."""

    def __init__(self, name: str, every: float = 0.0) -> None:
        super().__init__(name, every)
        self.started, self.release = threading.Event(), threading.Event()

    def render(self, agent: object) -> str:
        self.started.set()
        assert self.release.wait(timeout=10)
        return super().render(agent)


def _open(hub: Hub, view: View) -> Stream:
    agent = SimpleNamespace(id=1, brand_id=BRAND, name="Alice")
    stream = Stream(agent, view, token="t", session_key="s")  # type: ignore[arg-type]
    hub.groups.setdefault((BRAND, view.name), set()).add(stream)
    hub.views[(BRAND, view.name)] = view
    return stream


def _take(stream: Stream) -> str | None:
    """The change id of the render the stream would write next, if any."""
    render, stream.pending = stream.pending, None
    stream.wake.clear()
    return render.change_id if render is not None else None


def test_a_burst_of_changes_renders_the_dashboard_once_more_with_the_newest():
    async def scenario() -> None:
        hub = Hub()
        board, queue = Counted("dashboard", every=0.5), Counted("queue")
        boards, queues = _open(hub, board.view), _open(hub, queue.view)

        hub.positions[BRAND] = "1-0"
        await hub.refresh(BRAND, ALL)
        assert _take(queues) == "1-0"
        await asyncio.wait_for(boards.wake.wait(), timeout=10)  # its own timer, at once
        assert _take(boards) == "1-0"
        assert (board.renders, queue.renders) == (1, 1)

        # Three more changes at once: the queue follows each, the dashboard waits.
        for n in (2, 3, 4):
            hub.positions[BRAND] = f"{n}-0"
            await hub.refresh(BRAND, {n})
            assert _take(queues) == f"{n}-0"
            assert _take(boards) is None
        assert (board.renders, queue.renders) == (1, 4)
        assert len(hub.deferred) == 1  # one timer for the dashboard, not one per change

        # Its time comes: one render, at the newest change.
        await asyncio.wait_for(boards.wake.wait(), timeout=10)
        assert _take(boards) == "4-0"
        assert board.renders == 2 and not hub.deferred

    _run(scenario)


def test_a_dashboard_not_rendered_lately_is_rendered_at_once():
    async def scenario() -> None:
        hub = Hub()
        board = Counted("dashboard", every=3600)
        boards = _open(hub, board.view)
        hub.positions[BRAND] = "1-0"
        await hub.refresh(BRAND, ALL)  # never rendered: no wait
        await asyncio.wait_for(boards.wake.wait(), timeout=10)
        assert _take(boards) == "1-0"
        hub.rendered_at[(BRAND, board.view.name)] -= 3600  # an hour later
        hub.positions[BRAND] = "2-0"
        await hub.refresh(BRAND, {2})
        await asyncio.wait_for(boards.wake.wait(), timeout=10)
        assert _take(boards) == "2-0" and board.renders == 2

    _run(scenario)


def test_the_queue_does_not_wait_for_the_dashboards_render(monkeypatch):
    """The dashboard's render (its own timer) is still running while the queue's refresh
    has ended and been offered; a change during that render renders it again after."""
    monkeypatch.setattr(hub_module, "_pool", hub_module.Pool(2))

    async def scenario() -> None:
        hub = Hub()
        board, queue = Slow("dashboard", every=0.01), Counted("queue")
        started, release = board.started, board.release
        boards, queues = _open(hub, board.view), _open(hub, queue.view)
        hub.positions[BRAND] = "1-0"
        await hub.refresh(BRAND, ALL)
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, started.wait, 10)
        hub.positions[BRAND] = "2-0"
        await hub.refresh(BRAND, {2})  # the dashboard still renders "1-0"
        assert _take(queues) == "2-0" and queue.renders == 2
        assert board.renders == 0 and _take(boards) is None
        release.set()
        shown = []
        while "2-0" not in shown:  # rendered again after, for the change during it
            await asyncio.wait_for(boards.wake.wait(), timeout=10)
            shown.append(_take(boards))
        assert shown in (["1-0", "2-0"], ["2-0"]) and board.renders == 2

    _run(scenario)


def test_the_dashboards_wait_is_well_inside_the_second_a_change_may_take():
    agent = SimpleNamespace(role="supervisor")
    view = supervision.live_view(agent, None)  # type: ignore[arg-type]
    assert 0 < view.every <= 0.75


def test_a_view_whose_streams_all_closed_before_its_offer_is_skipped_not_fatal():
    """A refresh picks its views, then offers each in a task of its own: a view's streams
    may all close before its task runs (the group's set emptied by unsubscribe). That
    offer does nothing; a StopIteration there once ended the brand's whole flush."""

    async def scenario() -> None:
        hub = Hub()
        thread = Counted("thread")
        gone = _open(hub, thread.view)
        group = (BRAND, thread.view.name)
        streams = hub.groups[group]
        hub.unsubscribe(gone)  # the tab closed: the set the refresh holds is now empty
        assert not streams
        await hub._offer(group, streams, "1-0")
        assert thread.renders == 0 and _take(gone) is None

    _run(scenario)


def test_a_slow_thread_page_holds_neither_the_queue_nor_its_next_refresh(monkeypatch):
    """A thread page's render still running: the brand's next refreshes render and offer
    the queue; the thread page asked for meanwhile renders once more after, at the newest
    change (one render of a view at a time)."""
    monkeypatch.setattr(hub_module, "_pool", hub_module.Pool(2))

    async def scenario() -> None:
        hub = Hub()
        queue, page = Counted("queue"), Slow("thread")
        started, release = page.started, page.release
        queues, pages = _open(hub, queue.view), _open(hub, page.view)
        hub.positions[BRAND] = "1-0"
        first = asyncio.ensure_future(hub.refresh(BRAND, ALL))
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, started.wait, 10)
        for n in (2, 3):
            hub.positions[BRAND] = f"{n}-0"
            await asyncio.wait_for(hub.refresh(BRAND, ALL), timeout=10)
            assert _take(queues) == f"{n}-0"  # offered while the thread page renders
        assert page.renders == 0 and queue.renders == 3
        release.set()
        await asyncio.wait_for(first, timeout=10)
        assert page.renders == 2  # "1-0", then once more for both changes since
        assert _take(pages) == "3-0"

    _run(scenario)


def test_the_pool_takes_the_most_urgent_job_first():
    pool = hub_module.Pool(1)
    gate, done = threading.Event(), []
    pool.submit(0, gate.wait)  # holds the one thread while the others queue
    futures = [
        pool.submit(priority, lambda p=priority: done.append(p)) for priority in (0, -1, -700, 5)
    ]
    gate.set()
    for future in futures:
        future.result(timeout=10)
    assert done == [-700, -1, 0, 5]


def test_a_failing_job_reaches_its_caller_and_the_pool_goes_on():
    pool = hub_module.Pool(1)

    def fail() -> None:
        raise ValueError("no such thread")

    failed = pool.submit(0, fail)
    assert isinstance(failed.exception(timeout=10), ValueError)
    assert pool.submit(0, lambda: 42).result(timeout=10) == 42
