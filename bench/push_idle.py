"""The idle cost of open push streams: CPU and memory of one push process
(`uvicorn twelp.asgi:application`, production settings) holding N open queue streams
while nothing changes.

    python -m bench.push_idle --streams 700 5000 [--seconds 30] [--json out.json]

Its own database (twelp_bench_push) and Redis db (11), or --database-url / --redis-url.
The streams are raw sockets held by a separate client process (`--client`), spread over
50 agents of one brand, so the push process's 5-second re-check covers many subscribers.
For each N: open them all (each gets its first message: the current state), wait 5 s,
then read the push process's CPU (user + system) and RSS over `--seconds` of idleness
(pings every 15 s and the re-checks fall in it).

The cost of opening a stream: the push process's CPU while the N streams open (session,
employee check, subscribe, first message), per stream.

    python -m bench.push_idle --streams 700 --changes-per-second 4 [--seconds 30]

The fan-out (issue 14, h14w): with `--changes-per-second R`, a third phase of `--seconds`
in which this process changes one of the first page's rows R times a second (its preview,
then a version bump naming its thread, as an action's commit does): every open queue gets
the change (`event: patch`, the streams ask for patches as twelp.js does). Reported: the
push process's CPU per change, and the bytes its streams received over the phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

import psutil

from bench import common

AGENTS = 50


def client(url: str, cookies: list[str], streams: int) -> None:
    """Opens `streams` streams, prints "open <n>" once each has its first event, then
    holds them until stdin closes."""

    async def one(n: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port = url.split("//")[1].split(":")
        reader, writer = await asyncio.open_connection(host, int(port), limit=2**20)
        request = (
            f"GET /push/events/?view=queue&patch=1 HTTP/1.1\r\nHost: {host}\r\n"
            f"Cookie: sessionid={cookies[n % len(cookies)]}\r\nAccept: text/event-stream\r\n\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        buffer = b""
        while b"event: live" not in buffer:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError(buffer[:300])
            buffer += chunk
        return reader, writer

    async def main() -> None:
        held = []
        for start in range(0, streams, 100):  # in waves, as tabs open
            held += await asyncio.gather(*(one(n) for n in range(start, min(start + 100, streams))))
        print(f"open {len(held)}", flush=True)

        received = [0]

        async def drain(reader: asyncio.StreamReader) -> None:
            while chunk := await reader.read(65536):
                received[0] += len(chunk)

        tasks = [asyncio.create_task(drain(r)) for r, _ in held]
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, sys.stdin.readline) == "count\n":
            print(f"received {received[0]}", flush=True)  # bytes since the streams opened
        for task in tasks:
            task.cancel()

    asyncio.run(main())


def _sessions() -> list[str]:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from agents.models import Agent, Role
    from inbox.models import Brand, Customer, Thread

    brand = Brand.objects.create(name="Bench", handle="benchcares", x_user_id=9_100_001)
    customer = Customer.objects.create(brand=brand, x_user_id=1, handle="kim", name="Kim")
    for n in range(30):
        Thread.objects.create(brand=brand, customer=customer, conversation_id=n, preview=f"q {n}")
    cookies = []
    for n in range(AGENTS):
        user = User.objects.create_user(f"agent{n}", f"a{n}@bench.example", "x" * 12)
        Agent.objects.create(
            user=user,
            brand=brand,
            employee_id=f"E{n}",
            name=f"Agent {n}",
            x_handle=f"agent{n}_x",
            initials=f"A{n}",
            credit_code=f"A{n}",
            role=Role.AGENT,
            state="active",
            approved_at=timezone.now(),
        )
        web = Client()
        web.force_login(user)
        cookies.append(web.cookies["sessionid"].value)
    return cookies


def measure(
    url: str, pid: int, cookies: list[str], streams: int, seconds: float, rate: float = 0
) -> dict:
    process = psutil.Process(pid)
    opening = process.cpu_times()
    holder = subprocess.Popen(
        [sys.executable, "-m", "bench.push_idle", "--client", url, str(streams)],
        cwd=common.ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    holder.stdin.write(json.dumps(cookies) + "\n")
    holder.stdin.flush()
    started = time.monotonic()
    line = holder.stdout.readline()
    opened_in = time.monotonic() - started
    assert line.startswith("open"), line
    opened = process.cpu_times()
    open_cpu = (opened.user - opening.user) + (opened.system - opening.system)
    time.sleep(5)
    before = process.cpu_times()
    time.sleep(seconds)
    after = process.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    rss, threads = process.memory_info().rss, process.num_threads()  # the N streams open
    fanout = _fanout(process, holder, rate, seconds) if rate else {}
    holder.stdin.close()
    holder.wait(timeout=60)
    time.sleep(3)  # let the push process see them go
    return {
        "streams": streams,
        "opened_in_s": round(opened_in, 1),
        "cpu_cores": round(cpu / seconds, 4),
        "cpu_ms_per_s": round(1000 * cpu / seconds, 1),
        "rss_mb": round(rss / 2**20, 1),
        "threads": threads,
        "threads_after_close": process.num_threads(),
        "open_cpu_ms_per_stream": round(1000 * open_cpu / streams, 2),
        **fanout,
    }


def _received(holder: subprocess.Popen) -> int:
    holder.stdin.write("count\n")
    holder.stdin.flush()
    line = holder.stdout.readline()
    assert line.startswith("received"), line
    return int(line.split()[1])


def _fanout(process: psutil.Process, holder: subprocess.Popen, rate: float, seconds: float) -> dict:
    """`rate` changes a second for `seconds`, each of one first-page row (module docstring):
    the push process's CPU per change and the bytes the streams received meanwhile."""
    from inbox.live import version
    from inbox.models import Thread

    threads = list(Thread.objects.order_by("id").values_list("id", "brand_id")[:30])
    bytes_before = _received(holder)
    before = process.cpu_times()
    started = time.monotonic()
    made = 0
    while time.monotonic() < started + seconds:
        thread_id, brand_id = threads[made % len(threads)]
        Thread.objects.filter(id=thread_id).update(preview=f"q {thread_id} change {made}")
        version.bump(brand_id, [thread_id])
        made += 1
        time.sleep(max(0.0, started + made / rate - time.monotonic()))
    time.sleep(2)  # the last change's render and writes
    after = process.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    received = _received(holder) - bytes_before
    return {
        "changes": made,
        "fanout_cpu_cores": round(cpu / (seconds + 2), 4),
        "fanout_cpu_ms_per_change": round(1000 * cpu / made, 1),
        "fanout_kb_received_per_change": round(received / made / 1024, 1),
    }


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        cookies = json.loads(sys.stdin.readline())
        client(sys.argv[2], cookies, int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, nargs="+", default=[700, 5000])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--changes-per-second", type=float, default=0, help="Add the fan-out phase (docstring)."
    )
    parser.add_argument("--json")
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_push"))
    parser.add_argument("--redis-url", default=common.redis_url(11), help="A db it may flush.")
    args = parser.parse_args()

    db_url, redis = args.database_url, args.redis_url
    env = common.configure(db_url, redis)
    common.setup_django()
    common.fresh_database(db_url)
    common.flush_redis(redis)
    cookies = _sessions()
    port = common.free_port()
    push = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "twelp.asgi:application", "--host", "127.0.0.1"]
        + ["--port", str(port), "--no-access-log", "--backlog", "8192"],
        cwd=common.ROOT,
        env={**env, "PUSH_DB_THREADS": "4"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/push/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
            assert time.monotonic() < deadline, "the push process did not start"
        idle_before = psutil.Process(push.pid).memory_info().rss
        rows = [
            measure(url, push.pid, cookies, n, args.seconds, args.changes_per_second)
            for n in args.streams
        ]
    finally:
        push.terminate()
        push.wait(timeout=30)
    result = {
        "machine": common.machine(),
        "rss_mb_no_streams": round(idle_before / 2**20, 1),
        "rows": rows,
        "seconds": args.seconds,
    }
    print(json.dumps(result, indent=2))
    common.write_json(args.json, result)


if __name__ == "__main__":
    main()
