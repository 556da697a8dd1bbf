"""What a brand-wide change costs the push process with N thread pages open: every thread
page rendered again (what a change of X's budgets or the waiting outbox did before: a
"*" in the change log) against the banner rendered once and put into each page's
previous render (inbox.live.hub, docstring 10).

    python -m bench.push_banner [--pages 200 700] [--changes 20] [--json out.json]

In this process, no server: its own database (twelp_bench_push_banner) and Redis db (13).
For each size: a brand with that many agents, each with one thread open (five messages
and a note), one stream each in an in-process Hub, as the push process holds them. Then
`--changes` brand-wide changes: an answer joins the waiting outbox (the banner's
"N waiting" moves) and the version is bumped. Each change is pushed both ways, in turn:
`refresh(brand, ALL)` (every thread page rendered) and `refresh(brand, {}, banner=True)`.
Measured per change: this process's CPU (the pool is the Django sync thread here, so
all rendering is counted), the renders made, and the bytes written to all streams. The
banner's pacing (hub.BANNER_SECONDS: at most one banner change every 2 s a brand) is off
here: this measures what one change costs, not how often one is pushed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time
from datetime import timedelta

from bench import common

DB_NAME = "twelp_bench_push_banner"
REDIS_DB = 13


def _seed(pages: int):
    from django.contrib.auth.models import User
    from django.utils import timezone

    from agents.models import Agent, AgentState, Role
    from inbox.models import Brand, Customer, Message, Note, Thread, ThreadStatus

    brand = Brand.objects.create(name=f"Bench {pages}", handle=f"banner{pages}", x_user_id=pages)
    users = User.objects.bulk_create(
        User(username=f"p{pages}-{n}", password="!", first_name=f"Agent{n}")  # noqa: S106 - unusable
        for n in range(pages)
    )
    now = timezone.now()
    team = Agent.objects.bulk_create(
        Agent(
            user=user,
            brand=brand,
            employee_id=f"E{n}",
            name=f"Agent {n}",
            x_handle=f"p{pages}_{n}",
            initials=f"A{n % 100}",
            credit_code=f"C{n}",
            role=Role.AGENT,
            state=AgentState.ACTIVE,
            approved_at=now,
        )
        for n, user in enumerate(users)
    )
    customers = Customer.objects.bulk_create(
        Customer(brand=brand, x_user_id=10_000 * pages + n, handle=f"c{n}", name=f"Customer {n}")
        for n in range(pages)
    )
    threads = Thread.objects.bulk_create(
        Thread(
            brand=brand,
            customer=customers[n],
            conversation_id=10**9 * pages + n,
            status=ThreadStatus.CLAIMED,
            claimed_by=agent,
            preview=f"where is my order {n}?",
            waiting_since=now - timedelta(minutes=n % 90),
        )
        for n, agent in enumerate(team)
    )
    Message.objects.bulk_create(
        Message(
            brand=brand,
            thread=thread,
            x_id=10**12 * pages + 10 * n + k,
            direction="in",
            conversation_id=thread.conversation_id,
            author_x_id=customers[n].x_user_id,
            text=f"@banner{pages} order #{4400 + n} never arrived, message {k}: tracking "
            "says label created for nine days. Can someone help?",
            sent_at=now - timedelta(minutes=10 - k),
        )
        for n, thread in enumerate(threads)
        for k in range(5)
    )
    Note.objects.bulk_create(
        Note(thread=thread, agent=team[n], text="Checked the warehouse: shipped Monday.")
        for n, thread in enumerate(threads)
    )
    return brand, team, threads


def _queue_answer(brand, agent, thread, step: int) -> None:
    from inbox.live import version
    from inbox.models import Reply

    Reply.objects.create(
        thread=thread, agent=agent, text=f"On its way {step}", body=f"On its way {step} ^A"
    )
    version.bump(brand.id, [], banner=True)


def measure(pages: int, changes: int) -> dict:
    from asgiref.sync import sync_to_async
    from django.http import QueryDict

    from inbox.live import hub as live_hub
    from inbox.live.hub import ALL, Hub, Stream
    from inbox.views import thread as thread_views

    live_hub.BANNER_SECONDS = 0.0  # every change measured (module docstring)

    brand, team, threads = _seed(pages)
    spare = threads[0]

    rendered = [0]

    def counted(render):
        def counting(agent):
            rendered[0] += 1
            return render(agent)

        return counting

    views = []
    for agent, thread in zip(team, threads, strict=True):
        view = thread_views.live_view(agent, QueryDict(f"thread={thread.id}"))
        views.append((agent, dataclasses.replace(view, render=counted(view.render))))

    async def run() -> dict:
        hub = Hub()
        streams = []
        for agent, view in views:
            stream = Stream(agent, view, token="t" * 64, session_key="s", patches=True)
            hub.groups.setdefault(stream.group, set()).add(stream)
            hub.views[stream.group] = view
            streams.append(stream)
        hub.positions[brand.id] = "1-0"
        await hub.refresh(brand.id, ALL)  # the first render of every page
        for stream in streams:
            _drain(stream)
        found: dict[str, list[dict]] = {"every page": [], "banner": []}
        for step in range(changes):
            for way in ("every page", "banner"):
                await sync_to_async(_queue_answer)(brand, team[0], spare, step)
                seq = 2 * step + (way == "banner")
                hub.positions[brand.id] = f"{int(time.time() * 1000)}-{seq}"
                before_cpu, before_renders = time.process_time(), rendered[0]
                if way == "every page":
                    await hub.refresh(brand.id, ALL)
                else:
                    await hub.refresh(brand.id, set(), banner=True)
                cpu = 1000 * (time.process_time() - before_cpu)
                sent = sum(len(_drain(s)) for s in streams)
                found[way].append(
                    {"cpu_ms": cpu, "renders": rendered[0] - before_renders, "bytes": sent}
                )
        return found

    found = asyncio.run(run())
    out = {"pages": pages, "changes": changes}
    for way, rows in found.items():
        out[way] = {
            "cpu_ms_median": round(statistics.median(r["cpu_ms"] for r in rows), 1),
            "cpu_ms_p95": round(sorted(r["cpu_ms"] for r in rows)[int(0.95 * (len(rows) - 1))], 1),
            "renders_per_change": round(statistics.mean(r["renders"] for r in rows), 1),
            "bytes_per_change": int(statistics.mean(r["bytes"] for r in rows)),
        }
    return out


def _drain(stream) -> bytes:
    if stream.pending is None:
        return b""
    render, stream.pending = stream.pending, None
    return stream.next_message(render) or b""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[200, 700])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--database-url", default=common.database_url(DB_NAME))
    parser.add_argument("--redis-url", default=common.redis_url(REDIS_DB))
    parser.add_argument("--json")
    args = parser.parse_args()

    common.configure(args.database_url, args.redis_url)
    common.setup_django()
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    results = []
    try:
        for pages in args.pages:
            found = measure(pages, args.changes)
            results.append(found)
            every, banner = found["every page"], found["banner"]
            common.log(
                f"{pages:>4} open thread pages, a brand-wide change: every page rendered "
                f"{every['cpu_ms_median']} ms CPU p50 (p95 {every['cpu_ms_p95']}), "
                f"{every['renders_per_change']} renders, {every['bytes_per_change']:,} B; "
                f"banner alone {banner['cpu_ms_median']} ms p50 (p95 {banner['cpu_ms_p95']}), "
                f"{banner['renders_per_change']} renders, {banner['bytes_per_change']:,} B "
                f"(load {common.load_average()})"
            )
    finally:
        from django.db import connections

        connections.close_all()
        common.drop_database(args.database_url)
    common.write_json(args.json, {"machine": common.machine(), "results": results})


if __name__ == "__main__":
    main()
