"""How often the push hub renders a dashboard under a stream of changes, and how long a
change waits for the render that shows it (inbox.live.hub, docstring 2: `View.every`).

    python -m bench.push_coalesce [--rates 2 8 20] [--every 0 0.5 0.75] [--seconds 6]

In this process, the hub's own scheduling (its reader's `_mark`, the 0.25 s flush, the
`every` timer) on one dashboard stream, with a stand-in render that costs nothing: what it
counts is renders per second and the delay from a change to the render that includes it
(p50 / p95 / max), not a render's CPU (bench.push_patch measures that). Test settings, no
server, no database query (the render is the stand-in); PUSH_DB_THREADS 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from types import SimpleNamespace


async def _one(rate: float, every: float, seconds: float) -> str:
    from inbox.live.hub import Hub, Stream, View

    hub, renders, delays, logged = Hub(), [0], [], {}

    def render(agent: object) -> str:
        renders[0] += 1
        return f'<div id="live" data-part>{renders[0]}</div>'

    view = View(("dashboard",), render, every=every)
    agent = SimpleNamespace(id=1, brand_id=7, name="A")
    stream = Stream(agent, view, token="-", session_key="s")  # type: ignore[arg-type]  # noqa: S106
    hub.groups[(7, view.name)] = {stream}
    hub.views[(7, view.name)] = view

    async def screen() -> None:
        while True:
            await stream.wake.wait()
            stream.wake.clear()
            if stream.pending is not None:
                shown, stream.pending = int(stream.pending.change_id.split("-")[0]), None
                now = time.monotonic()
                for change in [c for c in logged if c <= shown]:
                    delays.append(now - logged.pop(change))

    reader = asyncio.create_task(screen())
    start, n = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        n += 1
        logged[n] = time.monotonic()
        hub.positions[7] = f"{n}-0"
        hub._mark(7, [(f"{n}-0".encode(), {b"t": str(n).encode()})])
        await asyncio.sleep(1 / rate)
    await asyncio.sleep(1.5)
    reader.cancel()
    delays.sort()

    def at(q: float) -> float:
        return delays[min(len(delays) - 1, int(q * len(delays)))] * 1000

    return (
        f"| {rate:g}/s | {every:g} s | {n} | {renders[0] / seconds:.2f} |"
        f" {at(0.5):.0f} / {at(0.95):.0f} / {delays[-1] * 1000:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[2, 8, 20])
    parser.add_argument("--every", type=float, nargs="+", default=[0, 0.5, 0.75])
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["PUSH_DB_THREADS"] = "0"
    import django

    django.setup()
    print(
        "| changes | every | changes made | dashboard renders/s"
        " | change -> render ms p50 / p95 / max |"
    )
    print("|---|---:|---:|---:|---:|")
    for rate in args.rates:
        for every in args.every:
            print(asyncio.run(_one(rate, every, args.seconds)), flush=True)


if __name__ == "__main__":
    main()
