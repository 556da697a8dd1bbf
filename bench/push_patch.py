"""What row-level push saves: the bytes a change costs on every open stream, whole part
(`event: live`) against patch (`event: patch`, inbox.live.patch), and the CPU of a render
against that of the split and diff added to it, at 50, 200 and 700 agents.

    python -m bench.push_patch [--agents 50 200 700] [--changes 40] [--json out.json]

In this process, no server: its own database (twelp_bench_push_patch) and Redis db (14).
For each size: a brand with that many agents (one in 25 a supervisor), each holding one
thread (so the dashboard's team table has a row per agent), and 300 open threads. Then
`--changes` changes in a fixed cycle, as a Twelpforce day makes them: a new mention, claim
next, a close by its holder, a release by its holder. After each, the push process's work
for two views is done here exactly as the hub does it (inbox.live.hub._render_split):
the agents' open queue and the supervisors' dashboard are rendered (a new version: the
shared render is not reused), cut and diffed against the previous render. Measured per
change and view: the bytes of the SSE message each way (the CSRF placeholder left in: a
token is the same length), the process CPU of the render and of the split + diff. The
bytes depend on the data only (the same seed gives the same bytes, but for a waiting time
whose label turns to the next minute during the run); the CPU is this machine's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import timedelta

from bench import common

DB_NAME = "twelp_bench_push_patch"
REDIS_DB = 14
OPEN_THREADS = 300


def _seed(agents: int):
    from django.contrib.auth.models import User
    from django.utils import timezone

    from agents.models import Agent, AgentState, Role
    from inbox.models import Brand, Customer, Thread, ThreadStatus

    brand = Brand.objects.create(name=f"Bench {agents}", handle=f"bench{agents}", x_user_id=agents)
    customers = Customer.objects.bulk_create(
        Customer(brand=brand, x_user_id=10_000 * agents + n, handle=f"c{n}", name=f"Customer {n}")
        for n in range(200)
    )
    users = User.objects.bulk_create(
        User(username=f"b{agents}-{n}", password="!", first_name=f"Agent{n}")  # noqa: S106 - unusable
        for n in range(agents)
    )
    now = timezone.now()
    team = Agent.objects.bulk_create(
        Agent(
            user=user,
            brand=brand,
            employee_id=f"E{n}",
            name=f"Agent {n}",
            x_handle=f"a{agents}_{n}",
            initials=f"A{n % 100}",
            credit_code=f"C{n}",
            role=Role.SUPERVISOR if n % 25 == 0 else Role.AGENT,
            state=AgentState.ACTIVE,
            approved_at=now,
        )
        for n, user in enumerate(users)
    )
    conversation = iter(range(10**9 * agents, 10**9 * (agents + 1)))
    Thread.objects.bulk_create(
        Thread(
            brand=brand,
            customer=customers[n % 200],
            conversation_id=next(conversation),
            status=ThreadStatus.CLAIMED,
            claimed_by=agent,
            preview=f"held by {agent.name}: where is my order {n}?",
            waiting_since=now - timedelta(minutes=n % 90),
        )
        for n, agent in enumerate(team)
    )
    Thread.objects.bulk_create(
        Thread(
            brand=brand,
            customer=customers[n % 200],
            conversation_id=next(conversation),
            preview=f"my router blinks red, day {n}",
            priority=n % 3,
            waiting_since=now - timedelta(minutes=n % 120, seconds=30),
        )
        for n in range(OPEN_THREADS)
    )
    return brand, customers, team, conversation


def _change(step: int, brand, customers, team, conversation) -> str:
    from inbox import actions
    from inbox.live import version
    from inbox.models import Thread, ThreadStatus

    agent = team[step % len(team)]
    kind = ("mention", "claim next", "close", "release")[step % 4]
    if kind == "mention":
        thread = Thread.objects.create(
            brand=brand,
            customer=customers[step % len(customers)],
            conversation_id=next(conversation),
            preview=f"new mention {step}",
            priority=2,
        )
        version.bump(brand.id, [thread.id])  # what the poller does after its commit
    elif kind == "claim next":
        actions.do_claim_next(agent=agent)
    else:
        held = Thread.objects.filter(claimed_by=agent, status=ThreadStatus.CLAIMED).first()
        if held is None:
            actions.do_claim_next(agent=agent)
        elif kind == "close":
            actions.do_close(held.id, agent=agent)
        else:
            actions.do_release(held.id, agent=agent)
    return kind


def _pieces(changes: list[dict[str, int]]) -> dict[str, int]:
    """What a kind of change sent, on average per change: bytes by part or container."""
    total: dict[str, int] = {}
    for pieces in changes:
        for key, size in pieces.items():
            total[key] = total.get(key, 0) + size
    return {key: size // max(len(changes), 1) for key, size in sorted(total.items())}


def _cpu_ms(fn, *args):
    started = time.process_time()
    found = fn(*args)
    return found, 1000 * (time.process_time() - started)


def measure(agents: int, changes: int) -> dict:
    from django.http import QueryDict

    from inbox.live import patch
    from inbox.live.hub import message
    from inbox.views import queue, supervision

    brand, customers, team, conversation = _seed(agents)
    viewer = next(a for a in team if a.role == "agent")
    supervisor = team[0]
    views = {
        "queue": (queue.live_view(viewer, QueryDict("status=open")), viewer, agents),
        "dashboard": (supervision.live_view(supervisor, QueryDict("")), supervisor, agents // 25),
    }
    previous = {name: patch.split(view.render(who)) for name, (view, who, _) in views.items()}
    rows: dict[str, list[dict]] = {name: [] for name in views}
    for step in range(changes):
        kind = _change(step, brand, customers, team, conversation)
        change_id = f"{int(time.time() * 1000)}-{step}"
        for name, (view, who, _) in views.items():
            html, render_ms = _cpu_ms(view.render, who)
            split, split_ms = _cpu_ms(patch.split, html)
            found, diff_ms = _cpu_ms(patch.diff, previous[name], split)
            whole = len(message("live", html, change_id).encode())
            sent = len(message("patch", found, change_id).encode()) if found else whole
            previous[name] = split
            pieces = {}
            if found:
                changed = json.loads(found)
                pieces = {f"part {k}": len(v) for k, v in changed["parts"].items()}
                pieces |= {f"rows {k}": len(json.dumps(v)) for k, v in changed["rows"].items()}
            rows[name].append(
                {
                    "kind": kind,
                    "whole_bytes": whole,
                    "patch_bytes": sent,
                    "patched": found is not None,
                    "render_ms": render_ms,
                    "split_diff_ms": split_ms + diff_ms,
                    "pieces": pieces,
                }
            )
    out = {"agents": agents, "changes": changes}
    for name, (_, _, streams) in views.items():
        found = rows[name]
        whole = [r["whole_bytes"] for r in found]
        sent = [r["patch_bytes"] for r in found]
        out[name] = {
            "streams": streams,
            "whole_bytes_median": int(statistics.median(whole)),
            "patch_bytes_median": int(statistics.median(sent)),
            "patch_bytes_max": max(sent),
            "patched": sum(r["patched"] for r in found),
            "ratio_median": round(statistics.median(whole) / statistics.median(sent), 1),
            "bytes_per_change_all_streams_whole": int(statistics.mean(whole) * streams),
            "bytes_per_change_all_streams_patch": int(statistics.mean(sent) * streams),
            "render_cpu_ms_median": round(statistics.median(r["render_ms"] for r in found), 2),
            "split_diff_cpu_ms_median": round(
                statistics.median(r["split_diff_ms"] for r in found), 2
            ),
            "by_kind_pieces_mean_bytes": {
                kind: _pieces([r["pieces"] for r in found if r["kind"] == kind])
                for kind in ("mention", "claim next", "close", "release")
            },
            "by_kind_patch_bytes_median": {
                kind: int(statistics.median(r["patch_bytes"] for r in found if r["kind"] == kind))
                for kind in ("mention", "claim next", "close", "release")
            },
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[50, 200, 700])
    parser.add_argument("--changes", type=int, default=40)
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
        for agents in args.agents:
            found = measure(agents, args.changes)
            results.append(found)
            for name in ("queue", "dashboard"):
                r = found[name]
                common.log(
                    f"{agents:>4} agents {name:<9} whole {r['whole_bytes_median']:>8,} B  "
                    f"patch {r['patch_bytes_median']:>6,} B (max {r['patch_bytes_max']:,}; "
                    f"{r['patched']}/{args.changes} patched) x{r['ratio_median']}  "
                    f"all {r['streams']} streams {r['bytes_per_change_all_streams_whole']:,} -> "
                    f"{r['bytes_per_change_all_streams_patch']:,} B/change  render "
                    f"{r['render_cpu_ms_median']} ms, split+diff {r['split_diff_cpu_ms_median']} ms"
                )
                common.log(f"     patch bytes by change: {r['by_kind_patch_bytes_median']}")
                common.log(f"     what each kind sent, mean B: {r['by_kind_pieces_mean_bytes']}")
    finally:
        from django.db import connections

        connections.close_all()
        common.drop_database(args.database_url)
    common.write_json(args.json, {"machine": common.machine(), "results": results})


if __name__ == "__main__":
    main()
